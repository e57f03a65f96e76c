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

    @OptionGroup var service: ServiceOptions

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
    }

    func run() async throws {
        let identity = ServiceIdentity(name: "gordon-outbox-relay", databaseRole: nil, httpPort: nil)
        var relayConfiguration = OutboxRelay.Configuration()
        relayConfiguration.batchSize = batchSize
        relayConfiguration.pollInterval = .milliseconds(pollMilliseconds)
        relayConfiguration.subjectPrefixes = subjectPrefixes
        let ensureStream = ensureStream
        let prefixes = subjectPrefixes
        await GordonService.main(identity, configuration: { try service.configuration(identity, defaultPort: 0) }) { context in
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
}

struct RelayService: Service {
    let relay: OutboxRelay
    let logger: Logger

    func run() async throws {
        await cancelWhenGracefulShutdown { await relay.run() }
        logger.info("outbox relay stopped", metadata: ["published": "\(relay.statistics.published)"])
    }
}
