#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import ArgumentParser
import GordonCommandLine
import GordonConsole
import GordonKernel
import GordonLogging
import GordonPlatform
import Logging
import ServiceLifecycle

/// gordon-console: the operators' port on the LAN (3000). Today it serves the documentation
/// site (the runbook, the architecture, every library's API) of the release that is running;
/// it holds no database role, no NATS user and no key.
@main
struct GordonConsoleCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gordon-console",
        abstract: "Serve the operators' console on the LAN: the documentation site under /docs.")

    @Option(help: "Address to listen on (the device's firewall lets only the LAN reach it)")
    var httpHost = "127.0.0.1"

    @Option(help: "Port to listen on (0 takes a free one and prints it)")
    var httpPort = ConsoleServer.defaultPort

    @Option(help: "The documentation site's archive (scripts/docs builds it; the image has it here)")
    var documentation = "/usr/share/gordon/docs.tar"

    @Option(help: "Log level: trace, debug, info, notice, warning, error or critical")
    var logLevel = "info"

    static func main() async {
        await CommandLineEntry.main(GordonConsoleCommand.self, failureStatus: 1)
    }

    func validate() throws {
        guard (0...65535).contains(httpPort) else { throw ValidationError("--http-port must be between 0 and 65535") }
        guard Logger.Level(rawValue: logLevel) != nil else { throw ValidationError("--log-level: '\(logLevel)' is not a log level") }
    }

    func run() async throws {
        let name = "gordon-console"
        ProcessLogging.bootstrap(service: name, level: Logger.Level(rawValue: logLevel) ?? .info)
        let logger = Logger(label: "gordon.\(name)")
        let site: DocumentationSite
        do {
            site = try DocumentationSite(archive: documentation)
        } catch {
            logger.critical("\(name) cannot start: \(error)", metadata: ["code": "\(error.code)"])
            throw ExitCode(1)
        }
        let metrics = MetricsRegistry()
        metrics.bootstrapMetricsSystem()
        metrics.exportProcess()
        let router = ConsoleServer.makeRouter(documentation: site, metrics: metrics, readiness: Readiness(), logger: logger)
        let (host, port) = (httpHost, httpPort)
        let http = ServiceHTTP.application(router: router, host: host, port: port, serverName: name, logger: logger) { bound in
            GordonService.announce("\(name) listening on http://\(host):\(bound)")
            logger.info("\(name) ready to serve", metadata: ["port": "\(bound)", "documentation": "\(site.archive)"])
        }
        let group = ServiceGroup(configuration: .init(
            services: [.init(service: http)], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        do {
            try await group.run()
        } catch {
            logger.critical("\(name) stopped on an error: \(error)")
            throw ExitCode(1)
        }
        logger.info("\(name) stopped")
    }
}
