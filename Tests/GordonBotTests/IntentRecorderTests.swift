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
    static func envelope(_ id: String) throws -> EventEnvelope<OrderIntentEvent> {
        let intent = try OrderIntentEvent(intentId: try ClientOrderId(id), botId: try BotId("alpha"), symbol: try Symbol("BTCUSDT"),
                                          side: .buy, orderType: .limit, timeInForce: .gtc, price: try Price(parsing: "42000.5"),
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

    @Test("the holder's intent lands with its event in one transaction; after a takeover the old holder writes nothing")
    func fencedByTheLease() async throws {
        try await withTestDatabase { database in
            let admin = try await database.connect()
            defer { Task { try? await admin.close() } }
            try await admin.query("INSERT INTO trading.bot_configs (bot_id, strategy, symbols, interval) VALUES ('alpha', 'sma_crossover', '{BTCUSDT}', '1m')",
                                  logger: testLogger)
            let held = try await BotLease(botId: "alpha", instanceId: "first", host: "test", logger: testLogger) {
                try await database.connect(as: .bot)
            }.acquire()

            let bot = try await database.connect(as: .bot)
            defer { Task { try? await bot.close() } }
            let first = try Self.envelope("alpha-1")
            try await bot.withTransaction(logger: testLogger) { connection in
                try await IntentRecorder.record(first, instanceId: "first", on: connection, logger: testLogger)
                return .commit(())
            }
            #expect(try await count(database, "alpha-1") == (1, 1))
            let stored = try await admin.query("SELECT price::text, quantity::text, trace_id FROM trading.order_intents WHERE intent_id = 'alpha-1'",
                                               logger: testLogger).decode((String, String, String).self)
            for try await (price, quantity, trace) in stored {
                #expect(price == "42000.5" && quantity == "0.0015" && trace == first.traceId.hex)
            }

            // Another instance took over: the row names it, and the old holder is fenced off.
            try await admin.query("UPDATE trading.bot_leases SET instance_id = 'second' WHERE bot_id = 'alpha'", logger: testLogger)
            await #expect(throws: GordonError.self) {
                try await bot.withTransaction(logger: testLogger) { connection in
                    try await IntentRecorder.record(try Self.envelope("alpha-2"), instanceId: "first", on: connection, logger: testLogger)
                    return .commit(())
                }
            }
            #expect(try await count(database, "alpha-2") == (0, 1), "neither the intent nor its event")
            await held.release()
        }
    }
}
