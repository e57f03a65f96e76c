import Foundation
import GordonBus
import GordonKernel
import GordonMigrations
import GordonNATS
import GordonProtocol
import GordonTestDB
import Logging
import NIOConcurrencyHelpers
import NIOCore
import PostgresNIO
import Testing

/// Issue 14, item 6: per-key commit order and rows that can never be published.
@Suite("Outbox: commit order per key, poison rows to dead letters", .serialized)
struct OutboxOrderingTests {
    @Test("events of one ordering key reach the stream in commit order, also when a later insert would commit first")
    func oneKeyInCommitOrder() async throws {
        try await BusWorld.with { world in
            let first = try await world.database.connect(as: .executor)
            let second = try await world.database.connect(as: .executor)
            let observer = try await world.database.connect(as: .executor)

            try await first.query("BEGIN", logger: testLogger)
            _ = try await Outbox.enqueue(try metricEvent(1), orderingKey: "key", on: first, logger: testLogger)
            let secondCommitted = NIOLockedValueBox(false)
            let secondTransaction = Task {
                try await second.query("BEGIN", logger: testLogger)
                _ = try await Outbox.enqueue(try metricEvent(2), orderingKey: "key", on: second, logger: testLogger)
                try await second.query("COMMIT", logger: testLogger)
                secondCommitted.withLockedValue { $0 = true }
            }
            // The second transaction either commits while the first is still open (what a
            // plain insert allows) or waits on a lock until the first ends.
            let settled = try await eventually(timeout: .seconds(30)) {
                if secondCommitted.withLockedValue({ $0 }) { return true }
                for try await waiting in try await observer.query("""
                    SELECT count(*)::int FROM pg_stat_activity
                    WHERE datname = current_database() AND wait_event_type = 'Lock' AND state = 'active'
                    """, logger: testLogger).decode(Int.self) { return waiting > 0 }
                return false
            }
            #expect(settled)
            let commitOrder = secondCommitted.withLockedValue { $0 } ? [2, 1] : [1, 2]
            try await first.query("COMMIT", logger: testLogger)
            try await secondTransaction.value

            _ = try await Self.relayOnce(relay(world), world.database)
            let streamed = try await world.streamMessages(expected: 2).map { try Self.metricValue($0) }
            #expect(streamed == commitOrder, "stream order \(streamed), commit order \(commitOrder)")
            for connection in [first, second, observer] { try await connection.close() }
        }
    }

    @Test("a row that commits after higher ids were published is relayed at once, not at the next sweep")
    func lateCommitBelowTheCursor() async throws {
        try await BusWorld.with { world in
            let early = try await world.database.connect(as: .executor)
            let late = try await world.database.connect(as: .executor)
            // No polling within the test: only the notification can bring the late row.
            let relay = relay(world) { $0.pollInterval = .seconds(600) }
            try await whileRelaying([relay]) {
                try await late.query("BEGIN", logger: testLogger)
                let lowId = try await Outbox.enqueue(try metricEvent(1), orderingKey: "a", on: late, logger: testLogger)
                try await early.query("BEGIN", logger: testLogger)
                let highId = try await Outbox.enqueue(try metricEvent(2), orderingKey: "b", on: early, logger: testLogger)
                try await early.query("COMMIT", logger: testLogger)
                #expect(lowId < highId)
                #expect(try await eventually(timeout: .seconds(20)) { relay.statistics.published == 1 })
                try await late.query("COMMIT", logger: testLogger)
                #expect(try await eventually(timeout: .seconds(20)) { relay.statistics.published == 2 })
            }
            let streamed = try await world.streamMessages(expected: 2).map { try Self.metricValue($0) }
            #expect(streamed == [2, 1])
            for connection in [early, late] { try await connection.close() }
        }
    }

    @Test("enqueues with different keys do not wait on each other")
    func differentKeysDoNotWait() async throws {
        try await BusWorld.with { world in
            let first = try await world.database.connect(as: .executor)
            let second = try await world.database.connect(as: .executor)
            try await first.query("BEGIN", logger: testLogger)
            _ = try await Outbox.enqueue(try metricEvent(1), orderingKey: "a", on: first, logger: testLogger)
            // Would hang (the suite's time limit) if "b" waited on "a".
            try await second.query("BEGIN", logger: testLogger)
            _ = try await Outbox.enqueue(try metricEvent(2), orderingKey: "b", on: second, logger: testLogger)
            try await second.query("COMMIT", logger: testLogger)
            try await first.query("COMMIT", logger: testLogger)
            #expect(try await world.pendingCount() == 2)
            for connection in [first, second] { try await connection.close() }
        }
    }

    @Test("rows no stream captures, over max_payload or captured by another stream go to dead_letters; the rest flow on in order")
    func poisonRowsAreDeadLettered() async throws {
        let server = try await TestNATSServer()
        let client = try await NATSClient.connect(try NATSClientOptions(urls: [server.url], name: "poison-test"), logger: testLogger)
        let jetStream = JetStream(client: client)
        // GORDON captures market data only here; OTHER takes the executor's subjects.
        _ = try await jetStream.createStream(StreamConfig(name: GordonStream.name, subjects: ["gordon.market.>"]))
        _ = try await jetStream.createStream(StreamConfig(name: "OTHER", subjects: ["gordon.exec.>"]))
        try await withTestDatabase { database in try await withConnection(try await database.connect(as: .executor)) { connection in
            let good = [0, 1, 2, 3]
            var ids: [Int64] = []
            try await connection.query("BEGIN", logger: testLogger)
            ids.append(try await Outbox.enqueue(try metricEvent(good[0]), orderingKey: "k", on: connection, logger: testLogger))
            ids.append(try await Self.insertRaw(subject: "gordon.intent.b1", payload: Array("{}".utf8), on: connection))
            ids.append(try await Outbox.enqueue(try metricEvent(good[1]), orderingKey: "k", on: connection, logger: testLogger))
            ids.append(try await Self.insertRaw(subject: "gordon.market.metric.huge", payload: [UInt8](repeating: 0x41, count: 2 * 1_048_576),
                                                on: connection))
            ids.append(try await Outbox.enqueue(try metricEvent(good[2]), orderingKey: "k", on: connection, logger: testLogger))
            ids.append(try await Self.insertRaw(subject: "gordon.exec.order.b1", payload: Array("{}".utf8), on: connection))
            ids.append(try await Outbox.enqueue(try metricEvent(good[3]), orderingKey: "k", on: connection, logger: testLogger))
            try await connection.query("COMMIT", logger: testLogger)

            let recorder = LogRecorder()
            let relay = OutboxRelay(jetStream: jetStream, logger: recorder.logger) { try await database.connect(as: .executor) }
            let result = try await Self.relayOnce(relay, database)
            #expect(result.published == 4)
            #expect(relay.statistics.deadLettered == 3)

            var dead: [(Int64, String, String)] = []
            for try await row in try await connection.query(
                "SELECT outbox_id, subject, error_code FROM trading.dead_letters ORDER BY outbox_id", logger: testLogger
            ).decode((Int64, String, String).self) { dead.append(row) }
            #expect(dead.map(\.0) == [ids[1], ids[3], ids[5]])
            #expect(dead.map(\.2) == [ErrorCode.jetStreamNotFound.rawValue, ErrorCode.natsPayloadTooLarge.rawValue,
                                      ErrorCode.jetStreamPublishRejected.rawValue])
            var remaining = -1
            for try await count in try await connection.query("SELECT count(*)::int FROM trading.outbox WHERE sent_at IS NULL",
                                                              logger: testLogger).decode(Int.self) { remaining = count }
            #expect(remaining == 0)
            let lines = recorder.records.filter { $0.level == .error && $0.message.contains("dead_letters") }
            #expect(lines.count == 3)

            let world = BusWorld(server: server, database: database, client: client)
            let streamed = try await world.streamMessages(filter: "gordon.market.>", expected: 4).map { try Self.metricValue($0) }
            #expect(streamed == good)
        } }
        await client.close()
    }

    @Test("a subject the server refuses to the producer is dead-lettered at once, not after an ack timeout")
    func refusedSubjectIsDeadLettered() async throws {
        let fixture = try await PermissionFixture()
        let migrate = try await fixture.connect(try fixture.user("gordon-migrate"))
        try await GordonStream.ensure(JetStream(client: migrate), GordonStream.configuration(maxBytes: 256 << 20))
        await migrate.close()
        let executor = try await fixture.connect(try fixture.user("gordon-executor"))
        try await withTestDatabase { database in try await withConnection(try await database.connect(as: .executor)) { connection in
            try await connection.query("BEGIN", logger: testLogger)
            let own = try await Self.insertRaw(subject: "gordon.exec.order.b1", payload: Array("{}".utf8), on: connection)
            let refused = try await Self.insertRaw(subject: "gordon.risk.command.all", payload: Array("{}".utf8), on: connection)
            let after = try await Self.insertRaw(subject: "gordon.exec.fill.b1", payload: Array("{}".utf8), on: connection)
            try await connection.query("COMMIT", logger: testLogger)

            // The ack timeout is long, so a refused row that waited for it would fail the batch.
            let relay = OutboxRelay(jetStream: JetStream(client: executor, timeout: .seconds(30)), logger: testLogger) {
                try await database.connect(as: .executor)
            }
            let started = ContinuousClock.now
            let result = try await Self.relayOnce(relay, database)
            #expect(ContinuousClock.now - started < .seconds(20))
            #expect(result.published == 2)
            var dead: [(Int64, String)] = []
            for try await row in try await connection.query("SELECT outbox_id, error_code FROM trading.dead_letters",
                                                            logger: testLogger).decode((Int64, String).self) { dead.append(row) }
            #expect(dead.map(\.0) == [refused])
            #expect(dead.map(\.1) == [ErrorCode.natsPermissionDenied.rawValue])
            var sent: [Int64] = []
            for try await id in try await connection.query("SELECT id FROM trading.outbox WHERE sent_at IS NOT NULL ORDER BY id",
                                                           logger: testLogger).decode(Int64.self) { sent.append(id) }
            #expect(sent == [own, after])
        } }
        await executor.close()
    }

    @Test("a row that fails for a passing reason stays in the outbox and is not dead-lettered")
    func transientFailureIsRetriedNotDeadLettered() async throws {
        // No stream at all: JetStream answers nobody, which may be a server still starting.
        let server = try await TestNATSServer()
        let client = try await NATSClient.connect(try NATSClientOptions(urls: [server.url], name: "transient-test"), logger: testLogger)
        try await withTestDatabase { database in try await withConnection(try await database.connect(as: .executor)) { connection in
            try await connection.query("BEGIN", logger: testLogger)
            _ = try await Outbox.enqueue(try metricEvent(1), orderingKey: "k", on: connection, logger: testLogger)
            try await connection.query("COMMIT", logger: testLogger)
            let relay = OutboxRelay(jetStream: JetStream(client: client), logger: testLogger) { try await database.connect(as: .executor) }
            await #expect(throws: GordonError.self) { _ = try await Self.relayOnce(relay, database) }
            #expect(relay.statistics.deadLettered == 0)
            var pending = -1
            for try await count in try await connection.query("SELECT count(*)::int FROM trading.outbox WHERE sent_at IS NULL",
                                                              logger: testLogger).decode(Int.self) { pending = count }
            #expect(pending == 1)
        } }
        await client.close()
    }

    static func relayOnce(_ relay: OutboxRelay, _ database: TestDatabase) async throws -> OutboxRelay.BatchResult {
        try await withConnection(try await database.connect(as: .executor)) { try await relay.relayBatch(on: $0) }
    }

    static func insertRaw(subject: String, payload: [UInt8], on connection: PostgresConnection) async throws -> Int64 {
        for try await id in try await connection.query("""
            INSERT INTO trading.outbox (subject, event_id, event_type, payload, ordering_key)
            VALUES (\(subject), \(UUID().uuidString)::uuid, 'test', \(ByteBuffer(bytes: payload)), 'k') RETURNING id
            """, logger: testLogger).decode(Int64.self) { return id }
        throw GordonError(.sqlFailed, "insert returned no id")
    }

    static func metricValue(_ message: JetStreamMessage) throws -> Int {
        let envelope = try EventCodec().decode(MetricEvent.self, from: message.payload.readableBytesView)
        return Int(envelope.payload.value.description) ?? -1
    }
}
