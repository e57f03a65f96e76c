import ArgumentParser
import GordonBus
import GordonKernel
import GordonMigrations
import GordonNATS
import Logging
import ServiceLifecycle

/// gordon-outbox-relay: publishes one producer's outbox rows to the GORDON stream.
///
/// Services run the same relay in-process; this binary runs it on its own, for a service
/// whose relay must be restarted independently and for operators draining a backlog. It
/// logs in with the producer's own database role and NATS user, both from one keyfile, and
/// stops gracefully on SIGTERM or SIGINT (a kill at any moment is also safe: see
/// `OutboxRelay`).
@main
struct GordonOutboxRelay: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gordon-outbox-relay",
        abstract: "Relay a producer's transactional outbox to the GORDON JetStream stream."
    )

    @Option(help: "PostgreSQL URL without a password, e.g. postgres://gordon_executor@127.0.0.1:5432/gordon")
    var databaseURL: String

    @Option(help: "NATS server URL (repeat for a cluster)")
    var natsURL: [String] = ["nats://127.0.0.1:4222"]

    @Option(help: "NATS user (default: none, for a server without authorization)")
    var natsUser: String?

    @Option(help: "Keyfile with postgres_password and, with --nats-user, nats_password (mode 0400)")
    var keyfile: String?

    @Option(name: .customLong("subject-prefix"), help: "Relay only rows whose subject starts with this (repeatable)")
    var subjectPrefixes: [String] = []

    @Option(help: "Rows per batch")
    var batchSize: Int = 500

    @Option(help: "Polling interval in milliseconds when no NOTIFY arrives")
    var pollMilliseconds: Int = 1000

    @Flag(help: "Create or update the GORDON stream before relaying")
    var ensureStream = false

    func validate() throws {
        guard batchSize > 0 && batchSize <= 10_000 else { throw ValidationError("--batch-size must be between 1 and 10000") }
        guard pollMilliseconds >= 10 else { throw ValidationError("--poll-milliseconds must be at least 10") }
        if natsUser != nil && keyfile == nil { throw ValidationError("--nats-user needs --keyfile for its password") }
    }

    func run() async throws {
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = .info
            return handler
        }
        let logger = Logger(label: "gordon.outbox-relay")
        do {
            try await relay(logger: logger)
        } catch let error as GordonError {
            logger.critical("gordon-outbox-relay stopped", metadata: ["error": "\(error)"])
            throw ExitCode.failure
        }
    }

    private func relay(logger: Logger) async throws {
        let keys = try keyfile.map { path throws(GordonError) in try Keyfile.load(path: path) }
        var database = try DatabaseURL(parsing: databaseURL)
        if let keys { database = database.with(username: database.username, password: try keys.secret(Keyfile.postgresPassword)) }
        var options = try NATSClientOptions(urls: natsURL, name: "gordon-outbox-relay")
        if let natsUser, let keys {
            options.auth = .userPassword(user: natsUser, password: try keys.secret(Keyfile.natsPassword))
            options.inboxPrefix = "_INBOX_\(natsUser)"
        }
        let client = try await NATSClient.connect(options, logger: logger)
        let jetStream = JetStream(client: client)
        if ensureStream { try await GordonStream.ensure(jetStream, logger: logger) }

        var configuration = OutboxRelay.Configuration()
        configuration.batchSize = batchSize
        configuration.pollInterval = .milliseconds(pollMilliseconds)
        configuration.subjectPrefixes = subjectPrefixes
        let connectionURL = database
        let relay = OutboxRelay(configuration: configuration, jetStream: jetStream, logger: logger) {
            try await Database.connect(connectionURL, logger: logger)
        }
        logger.info("relaying outbox", metadata: ["database": "\(database)", "prefixes": "\(subjectPrefixes)"])
        let group = ServiceGroup(configuration: .init(
            services: [.init(service: RelayService(relay: relay))],
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger))
        try await group.run()
        await client.close()
        logger.info("outbox relay stopped", metadata: ["published": "\(relay.statistics.published)"])
    }
}

struct RelayService: Service {
    let relay: OutboxRelay

    func run() async throws {
        await cancelWhenGracefulShutdown { await relay.run() }
    }
}
