import GordonKernel
import GordonProtocol
import Testing

@Suite("ServiceIdentity: one table of names, users, keyfiles, roles, NATS users and ports")
struct ServiceIdentityTests {
    @Test func theFiveServicesHaveTheDesignsPorts() {
        let ports = Dictionary(uniqueKeysWithValues: ServiceIdentity.services.map { ($0.name, $0.httpPort) })
        #expect(ports == ["gordon-data": 8081, "gordon-risk": 8082, "gordon-manager": 8083, "gordon-bot": 8084, "gordon-executor": 8085])
    }

    @Test func everyIdentityIsAnEventSourceOfTheSameName() {
        for identity in ServiceIdentity.all {
            #expect(ServiceName(identity).rawValue == identity.name)
            #expect(ServiceName(identity).identity == identity)
        }
        #expect(ServiceName.ctl.identity == nil)
    }

    @Test func usersKeyfilesAndNATSUsersFollowTheName() {
        #expect(ServiceIdentity.executor.keyfilePath == "/etc/gordon/keys/gordon-executor.key")
        #expect(ServiceIdentity.executor.unixUser == "gordon-executor")
        #expect(ServiceIdentity.executor.natsUser == "gordon-executor")
        #expect(ServiceIdentity.data.databaseRole == "gordon_data_writer")
        #expect(ServiceIdentity.migrate.databaseRole == nil)
        #expect(Set(ServiceIdentity.all.map(\.name)).count == ServiceIdentity.all.count)
    }
}
