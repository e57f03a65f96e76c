#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import ArgumentParser
import GordonCommandLine
import GordonKernel
import GordonManager
import GordonPlatform
import Hummingbird
import Logging
import ServiceLifecycle

/// gordon-manager: the control plane. Serves the operators' API (`/api/v1`) on a Unix domain
/// socket that only root and the operators' group can open, and knows each caller by the
/// socket's peer credentials; halts, resumes, flattens and bot pauses are filed for
/// gordon-risk to carry out and audit. Its TCP port serves only `/healthz`, `/readyz` and
/// `/metrics`.
@main
struct GordonManagerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gordon-manager",
        abstract: "Serve the operators' API on a Unix socket: status, bots, orders, fills, positions, halt, resume, flatten.")

    @OptionGroup var service: ServiceOptions

    @Option(help: "The API's Unix domain socket (mode 0660, group --operators-group)")
    var socket = "/run/gordon/manager.sock"

    @Option(help: "The group whose members (and root) may call the API")
    var operatorsGroup = "gordon-ops"

    @Option(help: "Users, for the callers' names and groups")
    var passwdFile = "/etc/passwd"

    @Option(help: "Groups, for the operators' group")
    var groupFile = "/etc/group"

    @Option(help: "A service whose /readyz the status shows, as NAME=URL (repeatable)")
    var probe: [String] = []

    @Option(help: "The watchdog's status document, shown in the status")
    var watchdogStatus: String?

    @Option(help: "Seconds to wait for gordon-risk to carry out a halt, resume, flatten or pause")
    var requestTimeoutSeconds = 10

    static func main() async {
        await CommandLineEntry.main(GordonManagerCommand.self, failureStatus: 1)
    }

    func probes() throws -> [(name: String, url: String)] {
        try probe.map { text in
            let parts = text.split(separator: "=", maxSplits: 1)
            guard parts.count == 2, !parts[0].isEmpty, parts[1].hasPrefix("http://") else {
                throw ValidationError("--probe must be NAME=http://HOST:PORT, not '\(text)'")
            }
            return (String(parts[0]), String(parts[1]))
        }
    }

    func validate() throws {
        _ = try probes()
        guard socket.hasPrefix("/"), socket.utf8.count < 100 else { throw ValidationError("--socket must be an absolute path under 100 bytes") }
        guard (1...300).contains(requestTimeoutSeconds) else { throw ValidationError("--request-timeout-seconds must be 1-300") }
    }

    func run() async throws {
        let identity = ServiceIdentity.manager
        var configuration = ManagerAPI.Configuration()
        configuration.operatorsGroup = operatorsGroup
        configuration.passwdFile = passwdFile
        configuration.groupFile = groupFile
        configuration.services = try probes()
        configuration.watchdogStatusFile = watchdogStatus
        configuration.requestTimeout = .seconds(requestTimeoutSeconds)
        let socket = socket
        await GordonService.main(identity, configuration: { try service.configuration(identity, defaultPort: 8083) }) { context in
            let socketGroup = try OperatorSocket.groupId(of: configuration.operatorsGroup, groupFile: configuration.groupFile)
            let api = ManagerAPI(configuration: configuration, database: context.database, logger: context.logger)
            let router = ServiceHTTP.makeRouter(metrics: context.metrics, readiness: nil)
            api.addRoutes(to: router)
            try OperatorSocket.removeStale(socket)
            let logger = context.logger
            let application = Application(
                router: router,
                configuration: .init(address: .unixDomainSocket(path: socket), serverName: identity.name),
                onServerRunning: { _ in
                    do {
                        try OperatorSocket.restrict(socket, group: socketGroup)
                        GordonService.announce("gordon-manager API on unix:\(socket)")
                    } catch {
                        logger.critical("cannot restrict the API socket; removing it", metadata: ["socket": "\(socket)", "error": "\(error)"])
                        unlink(socket)
                    }
                },
                logger: logger)
            return [application]
        }
    }
}
