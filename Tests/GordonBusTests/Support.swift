import Foundation
import GordonBus
import GordonDomain
import GordonKernel
import GordonMigrations
import GordonNATS
import GordonProtocol
import GordonTestDB
import Logging
import NIOConcurrencyHelpers
import PostgresNIO

let testLogger = Logger(label: "test.bus")
let ids = EventIdGenerator()

func metricEvent(_ value: Int, name: String = "fear_greed") throws -> EventEnvelope<MetricEvent> {
    let payload = try MetricEvent(name: MetricName(name), value: ExactDecimal(value), observedAt: Timestamp(milliseconds: 1_700_000_000_000 + Int64(value)),
                                  source: "test")
    return EventEnvelope(payload: payload, source: .data, traceId: .random(), occurredAt: Timestamp(milliseconds: 1_700_000_000_000), ids: ids)
}

/// A private nats-server with the GORDON stream, a fresh database, and a NATS client.
struct BusWorld: Sendable {
    let server: TestNATSServer
    let database: TestDatabase
    let client: NATSClient
    var jetStream: JetStream { JetStream(client: client) }

    static func with(_ body: (BusWorld) async throws -> Void) async throws {
        let server = try await TestNATSServer()
        let client = try await NATSClient.connect(try NATSClientOptions(urls: [server.url], name: "bus-test"), logger: testLogger)
        try await GordonStream.ensure(JetStream(client: client))
        try await withTestDatabase { database in
            try await body(BusWorld(server: server, database: database, client: client))
        }
        await client.close()
    }

    /// Inserts `count` outbox rows as `role` (one transaction per `perTransaction` rows) and
    /// returns their ids.
    func enqueue(_ count: Int, as role: DatabaseRole = .executor, name: String = "fear_greed", perTransaction: Int = 100) async throws -> [Int64] {
        try await withConnection(try await database.connect(as: role)) { connection in
            var ids: [Int64] = []
            var index = 0
            while index < count {
                try await connection.query("BEGIN", logger: testLogger)
                for _ in 0..<min(perTransaction, count - index) {
                    ids.append(try await Outbox.enqueue(try metricEvent(index, name: name), orderingKey: name, on: connection, logger: testLogger))
                    index += 1
                }
                try await connection.query("COMMIT", logger: testLogger)
            }
            return ids
        }
    }

    /// Every message in the stream on `filter`, in stream order.
    func streamMessages(filter: String = "gordon.>", expected: Int) async throws -> [JetStreamMessage] {
        let ordered = OrderedConsumer(jetStream: jetStream, stream: GordonStream.name, filterSubject: filter)
        var messages: [JetStreamMessage] = []
        // Pulls expire after a second: a shorter expiry, on a loaded machine, lets messages
        // still in flight for an expired pull arrive too late, and every such gap costs the
        // ordered consumer a reset before it reads on.
        _ = try await eventually(timeout: .seconds(60)) {
            messages += try await ordered.next(batch: 512, expires: .seconds(1))
            return messages.count >= expected
        }
        // Anything beyond `expected` would be a duplicate: look once more.
        messages += try await ordered.next(batch: 512, expires: .seconds(1))
        return messages
    }

    func pendingCount(as role: DatabaseRole = .executor) async throws -> Int {
        try await withConnection(try await database.connect(as: role)) { connection in
            for try await count in try await connection.query("SELECT count(*)::int FROM trading.outbox WHERE sent_at IS NULL",
                                                              logger: testLogger).decode(Int.self) { return count }
            return -1
        }
    }
}

func relay(_ world: BusWorld, role: DatabaseRole = .executor, configure: (inout OutboxRelay.Configuration) -> Void = { _ in }) -> OutboxRelay {
    var configuration = OutboxRelay.Configuration()
    configure(&configuration)
    let database = world.database
    return OutboxRelay(configuration: configuration, jetStream: world.jetStream, logger: testLogger) {
        try await database.connect(as: role)
    }
}

/// Runs `relay` in a task for the duration of `body`.
func whileRelaying<T>(_ relays: [OutboxRelay], _ body: () async throws -> T) async throws -> T {
    let tasks = relays.map { relay in Task { await relay.run() } }
    defer { tasks.forEach { $0.cancel() } }
    let result = try await body()
    for task in tasks { task.cancel(); await task.value }
    return result
}

/// Keeps every log line, so a test can assert that an operator would have been told.
final class LogRecorder: Sendable {
    private let lines = NIOLockedValueBox<[(Logger.Level, String, Logger.Metadata)]>([])
    var records: [(level: Logger.Level, message: String, metadata: Logger.Metadata)] { lines.withLockedValue { $0.map { ($0.0, $0.1, $0.2) } } }

    var logger: Logger {
        Logger(label: "test.recorded") { _ in Handler(recorder: self) }
    }

    struct Handler: LogHandler {
        let recorder: LogRecorder
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }
        func log(event: LogEvent) {
            recorder.lines.withLockedValue { $0.append((event.level, "\(event.message)", event.metadata ?? [:])) }
        }
    }
}
