import ArgumentParser
import GordonBus
import GordonCommandLine
import GordonKernel
import GordonPlatform
import GordonPostgres
import Logging
import ServiceLifecycle

/// gordon-outbox-relay: publishes one producer's outbox rows to the GORDON stream.
///
/// Services run the same relay in-process; this binary runs it on its own, for a service
/// whose relay must be restarted independently and for operators draining a backlog. It
/// runs on the services' runner: it logs in with the producer's own database role and NATS
/// user, both passwords from one keyfile, refuses a schema that is behind, serves
/// `/healthz`, `/readyz` and `/metrics`, and stops gracefully on SIGTERM or SIGINT (a kill at
/// any moment is also safe: see `OutboxRelay`).
@main
struct GordonOutboxRelay: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gordon-outbox-relay",
        abstract: "Relay a producer's transactional outbox to the GORDON JetStream stream."
    )

    static func main() async {
        await CommandLineEntry.main(GordonOutboxRelay.self, failureStatus: 1)
    }

    @Option(help: "PostgreSQL URL without a password, e.g. postgres://gordon_executor@127.0.0.1:5432/gordon")
    var databaseURL: String

    @Option(help: "NATS server URL (repeat for a cluster)")
    var natsURL: [String] = ["nats://127.0.0.1:4222"]

    @Option(help: "NATS user (default: none, for a server without authorization)")
    var natsUser: String?

    @Option(help: "Keyfile with postgres_password and, with --nats-user, nats_password (mode 0400)")
    var keyfile: String

    @Option(help: "Address of /healthz, /readyz and /metrics")
    var httpHost = "127.0.0.1"

    @Option(help: "Port of /healthz, /readyz and /metrics (0 takes a free one and prints it)")
    var httpPort = 0

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
        guard (0...65535).contains(httpPort) else { throw ValidationError("--http-port must be between 0 and 65535") }
    }

    func run() async throws {
        let identity = ServiceIdentity(name: "gordon-outbox-relay", databaseRole: nil, httpPort: nil)
        var relayConfiguration = OutboxRelay.Configuration()
        relayConfiguration.batchSize = batchSize
        relayConfiguration.pollInterval = .milliseconds(pollMilliseconds)
        relayConfiguration.subjectPrefixes = subjectPrefixes
        let ensureStream = ensureStream
        let prefixes = subjectPrefixes
        await GordonService.main(identity, configuration: configuration(identity)) { context in
            if ensureStream { try await GordonStream.ensure(context.jetStream, logger: context.logger) }
            let url = context.databaseURL
            let logger = context.logger
            let relay = OutboxRelay(configuration: relayConfiguration, jetStream: context.jetStream, logger: logger) {
                try await Database.connect(url, logger: logger)
            }
            context.metrics.export(relay: relay, producer: url.username)
            logger.info("relaying outbox", metadata: ["database": "\(url)", "prefixes": "\(prefixes)"])
            return [RelayService(relay: relay, logger: logger)]
        }
    }

    private func configuration(_ identity: ServiceIdentity) -> () throws -> ServiceConfiguration {
        { [self] in
            let url = try DatabaseURL(parsing: databaseURL)
            var configuration = ServiceConfiguration(identity: identity, keyfilePath: keyfile, databaseURL: url, natsURLs: natsURL,
                                                     httpHost: httpHost, httpPort: httpPort)
            configuration.natsUser = natsUser
            return configuration
        }
    }
}

struct RelayService: Service {
    let relay: OutboxRelay
    let logger: Logger

    func run() async throws {
        await cancelWhenGracefulShutdown { await relay.run() }
        logger.info("outbox relay stopped", metadata: ["published": "\(relay.statistics.published)"])
    }
}
