public import GordonKernel
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
        var level = Logger.Level.info
        if let text = ProcessEnvironment.current["GORDON_LOG_LEVEL"], let parsed = Logger.Level(rawValue: text) { level = parsed }
        bootstrapLogging(service: identity.name, level: level, redactor: redactor)
        let logger = Logger(label: "gordon.\(identity.name)")
        let configuration: ServiceConfiguration
        do {
            configuration = try make?() ?? ServiceConfiguration.fromEnvironment(identity)
        } catch {
            logStartFailure(error, service: identity.name, logger: logger)
            exit(1)
        }
        exit(await run(configuration, redactor: redactor, logger: logger, services: build))
    }

    /// JSON lines on standard error for every logger of the process. Once per process.
    public static func bootstrapLogging(service: String, level: Logger.Level, redactor: SecretRedactor) {
        LoggingSystem.bootstrap { label in
            JSONLogHandler(label: label, service: service, level: level, redactor: redactor)
        }
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
            logger.critical("\(name) stopped on an error", metadata: errorMetadata(error))
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
        logger.info("\(identity.name) starting", metadata: [
            "keyfile": "\(configuration.keyfilePath)", "database": "\(configuration.databaseURL)",
            "nats": "\(configuration.natsURLs.joined(separator: ","))",
        ])
        let keyfile = try Keyfile.load(path: configuration.keyfilePath)
        redactor.register(keyfile.values.map { $0.withPlainText { $0 } })

        let databaseURL = configuration.databaseURL.with(
            username: configuration.databaseURL.username, password: try keyfile.secret(Keyfile.postgresPassword))
        let schema = try await Database.withConnection(databaseURL, logger: logger) { connection in
            try await SchemaCheck.verify(on: connection, requiredVersion: configuration.requiredSchemaVersion)
        }

        var options = try NATSClientOptions(urls: configuration.natsURLs, name: identity.name)
        if let user = configuration.natsUser, keyfile.names.contains(Keyfile.natsPassword) {
            options.auth = .userPassword(user: user, password: try keyfile.secret(Keyfile.natsPassword))
            options.inboxPrefix = "_INBOX_\(user)"
        }
        let nats = try await NATSClient.connect(options, logger: logger)
        do {
            let pool = Database.makePool(databaseURL, logger: logger)
            let metrics = MetricsRegistry()
            metrics.bootstrapMetricsSystem()
            metrics.export(nats: nats)
            let readiness = Readiness()
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
        var bytes = Array((line + "\n").utf8)
        _ = bytes.withUnsafeMutableBytes { write(1, $0.baseAddress, $0.count) }
    }

    static func logStartFailure(_ error: any Error, service: String, logger: Logger) {
        logger.critical("\(service) cannot start: \(error)", metadata: errorMetadata(error))
    }

    static func errorMetadata(_ error: any Error) -> Logger.Metadata {
        guard let gordon = error as? GordonError else { return [:] }
        return ["code": "\(gordon.code)"]
    }
}
