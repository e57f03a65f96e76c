import GordonBot
import GordonBus
import GordonDomain
import GordonKernel
import GordonPostgres
import GordonProtocol
import GordonTestDB
import PostgresNIO
import Testing

/// A bot's intent is written with its outbox event, as its lease holder, or not at all.
@Suite("gordon-bot: recording intents", .serialized)
struct IntentRecorderTests {
    static func envelope(_ id: String, stop: String? = nil) throws -> EventEnvelope<OrderIntentEvent> {
        let intent = try OrderIntentEvent(intentId: try ClientOrderId(id), botId: try BotId("alpha"), symbol: try Symbol("BTCUSDT"),
                                          side: stop == nil ? .buy : .sell, orderType: stop == nil ? .limit : .stopLossLimit, timeInForce: .gtc,
                                          price: try Price(parsing: "42000.5"), stopPrice: try stop.map { try Price(parsing: $0) },
                                          quantity: try Quantity(parsing: "0.0015"), reason: "sma_crossover: fast crossed above slow",
                                          createdAt: Timestamp(milliseconds: 1_704_067_260_000))
        return EventEnvelope(payload: intent, source: .bot, traceId: TraceId.random(), occurredAt: intent.createdAt, ids: EventIdGenerator())
    }

    /// Rows of the intent and of its outbox event, counted by the superuser.
    func count(_ database: TestDatabase, _ intent: String) async throws -> (intents: Int, outbox: Int) {
        let admin = try await database.connect()
        defer { Task { try? await admin.close() } }
        for try await row in try await admin.query("""
            SELECT (SELECT count(*) FROM trading.order_intents WHERE intent_id = \(intent))::int,
                   (SELECT count(*) FROM trading.outbox WHERE event_type = 'order_intent')::int
            """, logger: testLogger).decode((Int, Int).self) {
            return row
        }
        return (-1, -1)
    }

    @Test("the holder's intent lands with its event in one transaction; after a release or a takeover the old token writes nothing")
    func fencedByTheLease() async throws {
        try await withTestDatabase { database in
            let admin = try await adminWithBots(database, ["alpha"])
            defer { Task { try? await admin.close() } }
            let held = try await BotLease(botId: "alpha", instanceId: "first", host: "test", logger: testLogger) {
                try await database.connect(asBot: "alpha")
            }.acquire()
            // Renewed while the test runs, as the bot's own watcher does: unrenewed, the row
            // expires after its ttl and a slow host would see the fence refuse the holder.
            let renewing = Task { await held.watch() }
            defer { renewing.cancel() }

            let bot = try await database.connect(asBot: "alpha")
            defer { Task { try? await bot.close() } }
            let first = try Self.envelope("alpha-1", stop: "42100")
            try await bot.withTransaction(logger: testLogger) { connection in
                try await IntentRecorder.record(first, lease: held.token, on: connection, logger: testLogger)
                return .commit(())
            }
            #expect(try await count(database, "alpha-1") == (1, 1))
            let stored = try await admin.query("""
                SELECT price::text, stop_price::text, quantity::text, trace_id FROM trading.v_order_intents WHERE intent_id = 'alpha-1'
                """, logger: testLogger).decode((String, String, String, String).self)
            for try await (price, stop, quantity, trace) in stored {
                #expect(price == "42000.5" && stop == "42100" && quantity == "0.0015" && trace == first.traceId.hex)
            }

            // Released (or taken over): this process's late writes are fenced off as well.
            await held.release()
            await #expect(throws: GordonError.self) {
                try await bot.withTransaction(logger: testLogger) { connection in
                    try await IntentRecorder.record(try Self.envelope("alpha-2"), lease: held.token, on: connection, logger: testLogger)
                    return .commit(())
                }
            }
            #expect(try await count(database, "alpha-2") == (0, 1), "neither the intent nor its event")

            // Another instance took over: the row names it, and the old token is refused.
            let next = try await BotLease(botId: "alpha", instanceId: "second", host: "test", logger: testLogger) {
                try await database.connect(asBot: "alpha")
            }.acquire()
            let renewingNext = Task { await next.watch() }
            defer { renewingNext.cancel() }
            await #expect(throws: GordonError.self) {
                try await bot.withTransaction(logger: testLogger) { connection in
                    try await IntentRecorder.record(try Self.envelope("alpha-3"), lease: held.token, on: connection, logger: testLogger)
                    return .commit(())
                }
            }
            try await bot.withTransaction(logger: testLogger) { connection in
                try await IntentRecorder.record(try Self.envelope("alpha-3"), lease: next.token, on: connection, logger: testLogger)
                return .commit(())
            }
            #expect(try await count(database, "alpha-3") == (1, 2))
            await next.release()
        }
    }
}
