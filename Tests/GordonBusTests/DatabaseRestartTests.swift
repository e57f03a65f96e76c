import GordonBus
import GordonKernel
import GordonMigrations
import GordonPostgres
import GordonNATS
import GordonProtocol
import GordonTestDB
import PostgresNIO
import Testing

@Suite struct DatabaseRestartTests {
    /// PostgreSQL stops (every connection terminated) while the relay works and comes back:
    /// the relay reconnects by itself and every row still reaches the stream once, in order.
    @Test func relaySurvivesAPostgresRestart() async throws {
        let postgres = try await TestPostgresServer()
        let (url, passwords) = try await postgres.migratedDatabase()
        let executorURL = url.with(username: DatabaseRole.executor.rawValue, password: passwords[.executor])
        let nats = try await TestNATSServer()
        let client = try await NATSClient.connect(try NATSClientOptions(urls: [nats.url]))
        let js = JetStream(client: client)
        try await GordonStream.ensure(js)

        func enqueue(_ count: Int, from start: Int) async throws -> [Int64] {
            try await Database.withConnection(executorURL, logger: testLogger) { connection in
                var ids: [Int64] = []
                try await connection.query("BEGIN", logger: testLogger)
                for i in start..<(start + count) {
                    ids.append(try await Outbox.enqueue(try metricEvent(i), orderingKey: "k", on: connection, logger: testLogger))
                }
                try await connection.query("COMMIT", logger: testLogger)
                return ids
            }
        }
        func pending() async throws -> Int {
            try await Database.withConnection(executorURL, logger: testLogger) { connection in
                for try await n in try await connection.query("SELECT count(*)::int FROM trading.outbox WHERE sent_at IS NULL",
                                                              logger: testLogger).decode(Int.self) { return n }
                return -1
            }
        }

        var configuration = OutboxRelay.Configuration()
        configuration.batchSize = 50
        configuration.maxBackoff = .milliseconds(500)
        let relay = OutboxRelay(configuration: configuration, jetStream: js, logger: testLogger) {
            try await Database.connect(executorURL, logger: testLogger)
        }
        let task = Task { await relay.run() }
        var ids = try await enqueue(400, from: 0)
        #expect(try await eventually(timeout: .seconds(30)) { try await pending() == 0 })

        try await postgres.stop()
        #expect(try await eventually(timeout: .seconds(30)) { relay.statistics.failures > 0 })
        try await postgres.start()
        ids += try await enqueue(400, from: 400)
        #expect(try await eventually(timeout: .seconds(60)) { try await pending() == 0 })
        task.cancel()
        await task.value

        #expect(try await js.streamInfo(GordonStream.name).state.messages == UInt64(ids.count))
        let ordered = OrderedConsumer(jetStream: js, stream: GordonStream.name)
        var messages: [JetStreamMessage] = []
        _ = try await eventually(timeout: .seconds(30)) {
            messages += try await ordered.next(batch: 512, expires: .milliseconds(300))
            return messages.count >= ids.count
        }
        messages += try await ordered.next(batch: 512, expires: .milliseconds(300))
        let resets = await ordered.resets
        #expect(messages.count == ids.count, "ordered consumer resets: \(resets)")
        #expect(messages.map { $0.headers?[NATSHeaders.messageId] } == ids.map { String($0) })
        await client.close()
    }
}
