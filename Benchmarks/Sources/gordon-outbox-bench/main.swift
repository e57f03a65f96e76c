// gordon-outbox-bench: the transactional outbox end to end, from committed row to the
// stream's acknowledgement, against a real PostgreSQL and nats-server.
//
//   throughput: N rows are committed first, then one relay is started; the figure is
//               rows acknowledged by the stream per second until the outbox is empty.
//   latency:    one producer commits one event per transaction at a fixed rate while the
//               relay runs; each event's latency is from its COMMIT returning to the moment a
//               subscriber on the stream's subject receives it (JetStream delivers to core
//               subscribers after storing, so this bounds commit → ack from above).
import ArgumentParser
import BenchSupport
import GordonBus
import GordonDomain
import GordonKernel
import GordonMigrations
import GordonNATS
import GordonPostgres
import GordonProtocol
import Logging
import NIOConcurrencyHelpers
import PostgresNIO

@main
struct OutboxBench: AsyncParsableCommand {
    @Option(help: "Superuser PostgreSQL URL of a throwaway server") var adminURL: String
    @Option(help: "Migrations directory") var migrations: String
    @Option(help: "NATS URL") var natsURL: String
    @Option(help: "Rows for the throughput run") var rows: Int = 50_000
    @Option(help: "Relay batch size") var batchSize: Int = 1000
    @Option(help: "Events per second for the latency run") var rate: Int = 1000
    @Option(help: "Seconds of the latency run") var seconds: Int = 10
    @Option(help: "The relay's polling interval in ms (its fallback when no NOTIFY arrives)") var pollMs: Int = 1000
    @Flag(help: "Only measure LISTEN/NOTIFY: commit of a pg_notify → notification received") var notifyProbe = false

    func run() async throws {
        var logger = Logger(label: "bench")
        logger.logLevel = .warning
        let executor = try await throwawayDatabase(adminURL: adminURL, migrations: migrations, role: .executor, logger: logger)
        let client = try await NATSClient.connect(try NATSClientOptions(urls: [natsURL], name: "outbox-bench"))
        let js = JetStream(client: client)
        try await GordonStream.ensure(js, GordonStream.configuration(maxBytes: 4 << 30))

        if notifyProbe {
            let latencies = try await measureNotify(executor: executor, logger: logger).sorted()
            func percentile(_ p: Double) -> Double { latencies[min(latencies.count - 1, Int(Double(latencies.count) * p))] }
            print("notify latency (\(latencies.count)): p50 \(format(percentile(0.5))) ms, p99 \(format(percentile(0.99))) ms")
            return
        }
        let throughput = try await measureThroughput(executor: executor, js: js, logger: logger)
        print("outbox relay throughput: \(rows) rows in \(format(throughput.seconds)) s = \(Int(Double(rows) / throughput.seconds)) events/s (batch \(batchSize))")

        let latencies = try await measureLatency(executor: executor, js: js, client: client, logger: logger)
        let sorted = latencies.sorted()
        func percentile(_ p: Double) -> Double { sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))] }
        print("outbox commit→stream latency at \(rate) events/s for \(seconds) s (\(sorted.count) events): "
              + "p50 \(format(percentile(0.5))) ms, p99 \(format(percentile(0.99))) ms, max \(format(sorted.last ?? 0)) ms")
        await client.close()
    }

    private func measureThroughput(executor: DatabaseURL, js: JetStream, logger: Logger) async throws -> (seconds: Double, Void) {
        let ids = EventIdGenerator()
        try await Database.withConnection(executor, logger: logger) { connection in
            var index = 0
            while index < rows {
                try await connection.query("BEGIN", logger: logger)
                for _ in 0..<min(1000, rows - index) {
                    _ = try await Outbox.enqueue(try event(index, ids: ids), orderingKey: "bench", on: connection, logger: logger)
                    index += 1
                }
                try await connection.query("COMMIT", logger: logger)
            }
        }
        var configuration = OutboxRelay.Configuration()
        configuration.batchSize = batchSize
        configuration.pollInterval = .milliseconds(pollMs)
        let relay = OutboxRelay(configuration: configuration, jetStream: js, logger: logger) {
            try await Database.connect(executor, logger: logger)
        }
        let clock = ContinuousClock()
        let start = clock.now
        let task = Task { await relay.run() }
        while relay.statistics.published < rows {
            try await Task.sleep(for: .milliseconds(2))  // polling the relay's counter, bounded by the run
        }
        let elapsed = clock.now - start
        task.cancel()
        await task.value
        return (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18, ())
    }

    private func measureLatency(executor: DatabaseURL, js: JetStream, client: NATSClient, logger: Logger) async throws -> [Double] {
        let ids = EventIdGenerator()
        let commits = NIOLockedValueBox<[String: ContinuousClock.Instant]>([:])
        let arrivals = NIOLockedValueBox<[String: ContinuousClock.Instant]>([:])
        let subject = "gordon.market.metric.latency"
        let subscription = try await client.subscribe(to: subject)
        try await client.flush()
        let total = rate * seconds
        let reader = Task {
            for try await message in subscription {
                let arrived = ContinuousClock.now
                guard let id = message.headers?[NATSHeaders.messageId] else { continue }
                if arrivals.withLockedValue({ $0[id] = arrived; return $0.count }) == total { break }
            }
        }
        var configuration = OutboxRelay.Configuration()
        configuration.batchSize = batchSize
        configuration.pollInterval = .milliseconds(pollMs)
        let relay = OutboxRelay(configuration: configuration, jetStream: js, logger: logger) {
            try await Database.connect(executor, logger: logger)
        }
        let relayTask = Task { await relay.run() }
        try await Task.sleep(for: .milliseconds(500))  // let the relay start listening before the clock runs
        try await Database.withConnection(executor, logger: logger) { connection in
            let interval = Duration.seconds(1) / rate
            let clock = ContinuousClock()
            var next = clock.now
            for index in 0..<total {
                next += interval
                try await connection.query("BEGIN", logger: logger)
                let id = try await Outbox.enqueue(try event(index, name: "latency", ids: ids), orderingKey: "latency", on: connection, logger: logger)
                try await connection.query("COMMIT", logger: logger)
                let committed = ContinuousClock.now
                commits.withLockedValue { $0[String(id)] = committed }
                if next > clock.now { try await Task.sleep(until: next, clock: clock) }  // the producer's pacing
            }
        }
        _ = try? await reader.value
        relayTask.cancel()
        await relayTask.value
        let committed = commits.withLockedValue { $0 }
        return arrivals.withLockedValue { $0 }.compactMap { id, arrived in
            guard let start = committed[id] else { return nil }
            let delta = arrived - start
            return Double(delta.components.seconds) * 1000 + Double(delta.components.attoseconds) / 1e15
        }
    }

    private func measureNotify(executor: DatabaseURL, logger: Logger) async throws -> [Double] {
        let arrivals = NIOLockedValueBox<[String: ContinuousClock.Instant]>([:])
        let listener = try await Database.connect(executor, logger: logger)
        let total = rate * seconds
        let ready = NIOLockedValueBox(false)
        let reader = Task {
            try await listener.listen(on: "probe") { notifications in
                ready.withLockedValue { $0 = true }
                for try await notification in notifications {
                    let now = ContinuousClock.now
                    if arrivals.withLockedValue({ $0[notification.payload] = now; return $0.count }) == total { return }
                }
            }
        }
        while !ready.withLockedValue({ $0 }) { try await Task.sleep(for: .milliseconds(10)) }
        try await Task.sleep(for: .milliseconds(200))
        var commits: [String: ContinuousClock.Instant] = [:]
        try await Database.withConnection(executor, logger: logger) { connection in
            let interval = Duration.seconds(1) / rate
            let clock = ContinuousClock()
            var next = clock.now
            for index in 0..<total {
                next += interval
                try await connection.query("BEGIN", logger: logger)
                try await connection.query("SELECT pg_notify('probe', \(String(index)))", logger: logger)
                try await connection.query("COMMIT", logger: logger)
                commits[String(index)] = ContinuousClock.now
                if next > clock.now { try await Task.sleep(until: next, clock: clock) }
            }
        }
        try await reader.value
        try await listener.close()
        return arrivals.withLockedValue { $0 }.compactMap { id, arrived in
            guard let start = commits[id] else { return nil }
            let delta = arrived - start
            return Double(delta.components.seconds) * 1000 + Double(delta.components.attoseconds) / 1e15
        }
    }

    private func event(_ index: Int, name: String = "bench", ids: EventIdGenerator) throws -> EventEnvelope<MetricEvent> {
        let payload = try MetricEvent(name: MetricName(name), value: ExactDecimal(index), observedAt: Timestamp(milliseconds: 1_700_000_000_000), source: "bench")
        return EventEnvelope(payload: payload, source: .data, traceId: .random(), occurredAt: Timestamp(milliseconds: 1_700_000_000_000), ids: ids)
    }

    private func format(_ value: Double) -> String {
        let scaled = (value * 100).rounded() / 100
        return "\(scaled)"
    }
}
