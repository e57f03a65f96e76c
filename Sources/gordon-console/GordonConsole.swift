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
import NIOSSL
import ServiceLifecycle

/// gordon-console: the operators' port on the LAN (3000). It serves the documentation site
/// (the runbook, the architecture, every library's API) of the release that is running, and,
/// with an OpenID Connect provider configured, the operators' pages behind its login, which
/// talk to gordon-manager only: it holds no database role, no NATS user and no exchange key.
@main
struct GordonConsoleCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gordon-console",
        abstract: "Serve the operators' console on the LAN: its pages behind an OpenID Connect login, and the documentation site under /docs.")

    @Option(help: "Address to listen on (the device's firewall lets only the LAN reach it)")
    var httpHost = "127.0.0.1"

    @Option(help: "Port to listen on (0 takes a free one and prints it)")
    var httpPort = ConsoleServer.defaultPort

    @Option(help: "The documentation site's archive (scripts/docs builds it; the image has it here)")
    var documentation = "/usr/share/gordon/docs.tar"

    @Option(help: "The OpenID Connect provider's issuer URL, exactly as its discovery document names it (without it: the documentation only)")
    var oidcIssuer: String?

    @Option(help: "This console's client id at the provider")
    var oidcClientId = "gordon-console"

    @Option(help: "The groups-claim value that lets a user look")
    var viewerGroup = "viewer"

    @Option(help: "The groups-claim value that lets a user also act")
    var operatorGroup = "operator"

    @Option(help: "Where browsers reach this console (scheme://host:port); the provider sends them back to its /auth/callback")
    var publicURL: String?

    @Option(help: "gordon-manager's console API (its --console-port), on loopback")
    var managerURL: String?

    @Option(help: "The console's keyfile: oidc_client_secret and console_token (whose SHA-256 is the manager's console_token_sha256)")
    var keyfile: String?

    @Option(help: "https: the certificate chain, PEM (with --tls-key)")
    var tlsCertificate: String?

    @Option(help: "https: the private key, PEM, mode 0400, owned by the console's user")
    var tlsKey: String?

    @Option(help: "With https: /healthz, /readyz and /metrics also over plain HTTP on 127.0.0.1:PORT, for probes")
    var probePort: Int?

    @Option(help: "Log level: trace, debug, info, notice, warning, error or critical")
    var logLevel = "info"

    static func main() async {
        await CommandLineEntry.main(GordonConsoleCommand.self, failureStatus: 1)
    }

    func validate() throws {
        guard (0...65535).contains(httpPort) else { throw ValidationError("--http-port must be between 0 and 65535") }
        guard Logger.Level(rawValue: logLevel) != nil else { throw ValidationError("--log-level: '\(logLevel)' is not a log level") }
        if oidcIssuer != nil {
            guard publicURL != nil, managerURL != nil, keyfile != nil else {
                throw ValidationError("--oidc-issuer needs --public-url, --manager-url and --keyfile")
            }
        }
        if let publicURL {
            guard let origin = ConsoleRoutes.origin(of: publicURL) else {
                throw ValidationError("--public-url must be http(s)://host[:port] without a path, not '\(publicURL)'")
            }
            _ = origin
        }
        guard (tlsCertificate == nil) == (tlsKey == nil) else { throw ValidationError("--tls-certificate and --tls-key go together") }
        if let probePort {
            guard tlsCertificate != nil else { throw ValidationError("--probe-port is for a console that speaks https (--tls-certificate)") }
            guard (0...65535).contains(probePort) else { throw ValidationError("--probe-port must be between 0 and 65535") }
        }
        if let managerURL, !(managerURL.hasPrefix("http://127.0.0.1:") || managerURL.hasPrefix("http://[::1]:")) {
            throw ValidationError("--manager-url must be gordon-manager's console port on loopback (http://127.0.0.1:PORT), not '\(managerURL)'")
        }
    }

    func run() async throws {
        let name = "gordon-console"
        let redactor = SecretRedactor()
        ProcessLogging.bootstrap(service: name, level: Logger.Level(rawValue: logLevel) ?? .info, redactor: redactor)
        let logger = Logger(label: "gordon.\(name)")
        let site: DocumentationSite
        var console: ConsoleRoutes?
        var tls: TLSConfiguration?
        do {
            site = try DocumentationSite(archive: documentation)
            if let tlsCertificate, let tlsKey { tls = try ConsoleTLS.configuration(certificate: tlsCertificate, key: tlsKey) }
            if let oidcIssuer, let publicURL, let managerURL, let keyfile {
                let keys = try Keyfile.load(path: keyfile)
                redactor.register(keys.values.map { $0.withPlainText { $0 } })
                let origin = ConsoleRoutes.origin(of: publicURL) ?? publicURL
                let provider = IdentityProvider(configuration: .init(
                    issuer: oidcIssuer, clientID: oidcClientId, clientSecret: try keys.secret(ConsoleRoutes.clientSecretName),
                    redirectURI: origin + ConsoleRoutes.callbackPath, viewerGroup: viewerGroup, operatorGroup: operatorGroup))
                console = ConsoleRoutes(
                    configuration: .init(identityProvider: provider,
                                         manager: ManagerClient(baseURL: managerURL, token: try keys.secret(ConsoleRoutes.managerTokenName)),
                                         publicOrigin: origin),
                    sessions: SessionStore(), logger: logger)
            }
        } catch {
            logger.critical("\(name) cannot start: \(error)", metadata: ["code": "\(error.code)"])
            throw ExitCode(1)
        }
        let metrics = MetricsRegistry()
        metrics.bootstrapMetricsSystem()
        metrics.exportProcess()
        let readiness = Readiness()
        let router = ConsoleServer.makeRouter(documentation: site, console: console, metrics: metrics, readiness: readiness, logger: logger)
        let (host, port, scheme) = (httpHost, httpPort, tls == nil ? "http" : "https")
        let http: any Service
        do {
            http = try ConsoleServer.application(router: router, host: host, port: port, tls: tls, logger: logger) { bound in
                GordonService.announce("\(name) listening on \(scheme)://\(host):\(bound)")
                logger.info("\(name) ready to serve", metadata: [
                    "port": "\(bound)", "scheme": "\(scheme)", "documentation": "\(site.archive)", "login": "\(oidcIssuer ?? "none: documentation only")",
                ])
            }
        } catch {
            logger.critical("\(name) cannot start: \(error)")
            throw ExitCode(1)
        }
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [.init(service: http)]
        if let probePort {
            let probes = ServiceHTTP.application(router: ConsoleServer.makeProbeRouter(metrics: metrics, readiness: readiness),
                                                 host: "127.0.0.1", port: probePort, serverName: name, logger: logger) { bound in
                GordonService.announce("\(name) probes on http://127.0.0.1:\(bound)")
            }
            services.append(.init(service: probes))
        }
        let group = ServiceGroup(configuration: .init(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        do {
            try await group.run()
        } catch {
            logger.critical("\(name) stopped on an error: \(error)")
            throw ExitCode(1)
        }
        logger.info("\(name) stopped")
    }
}
