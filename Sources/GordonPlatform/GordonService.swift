public import GordonKernel
import GordonBus
public import GordonLogging
public import GordonNATS
public import GordonPostgres
public import Hummingbird
public import Logging
public import PostgresNIO
public import ServiceLifecycle
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// What a service's own code gets from the runner: its identity and keyfile, a logger, the
/// database pool and NATS connection logged in as itself, the metrics registry, the
/// readiness checks and the HTTP router, to which it adds what it needs.
public struct ServiceContext {
    public let configuration: ServiceConfiguration
    public let keyfile: Keyfile
    public let logger: Logger
    /// The pool; it runs in the service group, first started and last stopped.
    public let database: PostgresClient
    /// With the keyfile's password, for connections of the service's own (LISTEN, a relay).
    public let databaseURL: DatabaseURL
    public let nats: NATSClient
    public let jetStream: JetStream
    public let metrics: MetricsRegistry
    public let readiness: Readiness
    public let router: Router<ServiceRequestContext>

    public var identity: ServiceIdentity { configuration.identity }
}

/// The one runner every long-running service's `main` calls (DESIGN §9). In order:
/// JSON-lines logging, the keyfile (refused if group or others can read it; every value in
/// it is then redacted from every log line), PostgreSQL as the service's role with the
/// schema check, NATS as its user, then the HTTP server (`/healthz`, `/readyz`, `/metrics`
/// and the service's routes) and the service's own `Service`s in one `ServiceGroup` that
/// stops gracefully on SIGTERM or SIGINT.
///
/// A failure before the group runs is one log line at `critical` with its error code, and
/// exit status 1; a graceful stop is exit status 0.

public enum GordonService {
    /// Reads the configuration (from the environment unless `configuration` is given), runs,
    /// and exits with the status.
    public static func main(
        _ identity: ServiceIdentity,
        configuration make: (() throws -> ServiceConfiguration)? = nil,
        services build: @escaping (ServiceContext) async throws -> [any Service]
    ) async -> Never {
        let redactor = SecretRedactor()
        let configuration: ServiceConfiguration
        do {
            configuration = try make?() ?? ServiceConfiguration.fromEnvironment(identity)
        } catch {
            ProcessLogging.bootstrap(service: identity.name, redactor: redactor)
            logStartFailure(error, service: identity.name, logger: Logger(label: "gordon.\(identity.name)"))
            exit(1)
        }
        ProcessLogging.bootstrap(service: identity.name, level: configuration.logLevel, redactor: redactor)
        let logger = Logger(label: "gordon.\(identity.name)")
        exit(await run(configuration, redactor: redactor, logger: logger, services: build))
    }

    /// Runs the service until a signal stops it; returns the exit status.
    public static func run(
        _ configuration: ServiceConfiguration, redactor: SecretRedactor, logger: Logger,
        services build: @escaping (ServiceContext) async throws -> [any Service]
    ) async -> Int32 {
        let name = configuration.identity.name
        let started: Started
        do {
            started = try await start(configuration, redactor: redactor, logger: logger, services: build)
        } catch {
            logStartFailure(error, service: name, logger: logger)
            return 1
        }
        var groupConfiguration = ServiceGroupConfiguration(
            services: started.services.map { .init(service: $0) },
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger)
        groupConfiguration.maximumGracefulShutdownDuration = configuration.gracefulStopTimeout
        let group = ServiceGroup(configuration: groupConfiguration)
        do {
            try await group.run()
        } catch {
            logger.critical("\(name) stopped on an error: \(error)", metadata: errorMetadata(error))
            await started.nats.close()
            return 1
        }
        await started.nats.close()
        logger.info("\(name) stopped")
        return 0
    }

    private struct Started {
        let nats: NATSClient
        let services: [any Service]
    }

    private static func start(
        _ configuration: ServiceConfiguration, redactor: SecretRedactor, logger: Logger,
        services build: @escaping (ServiceContext) async throws -> [any Service]
    ) async throws -> Started {
        let identity = configuration.identity
        try configuration.validate()
        var options = try NATSClientOptions(urls: configuration.natsURLs, name: identity.name)
        logger.info("\(identity.name) starting", metadata: [
            "keyfile": "\(configuration.keyfilePath)", "database": "\(configuration.databaseURL)",
            "nats": "\(options.servers.map(\.description).joined(separator: ","))", "nats_user": "\(configuration.natsUser ?? "-")",
        ])
        let keyfile = try Keyfile.load(path: configuration.keyfilePath)
        redactor.register(keyfile.values.map { $0.withPlainText { $0 } })

        let databaseURL = configuration.databaseURL.with(
            username: configuration.databaseURL.username, password: try keyfile.secret(Keyfile.postgresPassword))
        let schema = try await Database.withConnection(databaseURL, logger: logger) { connection in
            try await SchemaCheck.verify(on: connection, requiredVersion: configuration.requiredSchemaVersion)
        }

        if let user = configuration.natsUser { try options.logIn(as: user, keyfile: keyfile) }
        let nats = try await NATSClient.connect(options, logger: logger)
        do {
            let pool = Database.makePool(databaseURL, logger: logger)
            let metrics = MetricsRegistry()
            metrics.bootstrapMetricsSystem()
            metrics.exportProcess()
            metrics.export(nats: nats)
            let readiness = Readiness(redactor: redactor)
            readiness.add("database") {
                _ = try await pool.query("SELECT 1", logger: logger).collect()
            }
            readiness.add("nats") {
                guard nats.isConnected else { throw GordonError(.natsConnectionClosed, "not connected to NATS") }
            }
            let router = ServiceHTTP.makeRouter(metrics: metrics, readiness: readiness)
            let context = ServiceContext(
                configuration: configuration, keyfile: keyfile, logger: logger, database: pool, databaseURL: databaseURL,
                nats: nats, jetStream: JetStream(client: nats), metrics: metrics, readiness: readiness, router: router)
            let own = try await build(context)
            let http = ServiceHTTP.application(
                router: router, host: configuration.httpHost, port: configuration.httpPort, serverName: identity.name,
                logger: logger
            ) { port in
                announce("\(identity.name) listening on http://\(configuration.httpHost):\(port)")
                logger.info("\(identity.name) ready to serve", metadata: ["port": "\(port)", "schema": "\(schema)"])
            }
            // The pool first, so it is stopped last: the service's own work may still need it.
            return Started(nats: nats, services: [pool] + own + [http])
        } catch {
            await nats.close()
            throw error
        }
    }

    /// The line a script or test waits for, on standard output, flushed at once.
    public static func announce(_ line: String) {
        StandardStream.write(line + "\n", to: StandardStream.output)
    }

    static func logStartFailure(_ error: any Error, service: String, logger: Logger) {
        logger.critical("\(service) cannot start: \(error)", metadata: errorMetadata(error))
    }

    static func errorMetadata(_ error: any Error) -> Logger.Metadata {
        guard let gordon = error as? GordonError else { return [:] }
        return ["code": "\(gordon.code)"]
    }
}
