/// Who a Gordon program is on the device (DESIGN §3, §5, §6): the one table of names, users,
/// keyfiles, database roles, NATS users and ports. The migrator's role map, the NATS
/// permissions, the watchdog's service list and each service's runner read it from here.
public struct ServiceIdentity: Sendable, Hashable, CustomStringConvertible {
    /// The program's name, which is also its Unix user, its NATS user and its keyfile's name.
    public let name: String
    /// The login role it uses in PostgreSQL; nil for a program that never connects as a service.
    public let databaseRole: String?
    /// The port of its HTTP endpoints (`/healthz`, `/readyz`, `/metrics`); nil for a one-shot program.
    public let httpPort: Int?

    public init(name: String, databaseRole: String?, httpPort: Int?) {
        self.name = name
        self.databaseRole = databaseRole
        self.httpPort = httpPort
    }

    public var unixUser: String { name }
    public var natsUser: String { name }
    public var keyfileName: String { "\(name).key" }
    /// The keyfile on the device: one slot per service, mode 0400, owned by its user.
    public var keyfilePath: String { "\(Self.keysDirectory)/\(keyfileName)" }

    public var description: String { name }

    public static let keysDirectory = "/etc/gordon/keys"

    public static let data = ServiceIdentity(name: "gordon-data", databaseRole: "gordon_data_writer", httpPort: 8081)
    public static let risk = ServiceIdentity(name: "gordon-risk", databaseRole: "gordon_risk", httpPort: 8082)
    public static let manager = ServiceIdentity(name: "gordon-manager", databaseRole: "gordon_manager", httpPort: 8083)
    public static let bot = ServiceIdentity(name: "gordon-bot", databaseRole: "gordon_bot", httpPort: 8084)
    public static let executor = ServiceIdentity(name: "gordon-executor", databaseRole: "gordon_executor", httpPort: 8085)
    /// Runs as root on the device (PostgreSQL maps root to postgres on the socket), so it has
    /// no service role; its NATS user ensures the stream.
    public static let migrate = ServiceIdentity(name: "gordon-migrate", databaseRole: nil, httpPort: nil)

    /// The five long-running services, in the order the watchdog starts them.
    public static let services: [ServiceIdentity] = [data, risk, manager, executor, bot]
    /// Every identity, the migrator first.
    public static let all: [ServiceIdentity] = [migrate] + services

    /// The identity whose name is `name`, if any.
    public static func named(_ name: String) -> ServiceIdentity? { all.first { $0.name == name } }
}
