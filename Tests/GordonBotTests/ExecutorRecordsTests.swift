import GordonDomain
import GordonExecutor
import GordonKernel
import GordonPostgres
import GordonProtocol
import GordonTestDB
import PostgresNIO
import Testing

/// The executor's records only move forward: the placement answer, the user data stream and
/// reconciliation report the same order in any order, and two writers book fills of one bot
/// without losing either.
@Suite("gordon-executor: records move forward only", .serialized)
struct ExecutorRecordsTests {
    static let bot = try! BotId("rec-a")
    static let symbol = try! Symbol("BTCUSDT")

    static func order(_ id: String, _ status: OrderStatus, executed: String, quote: String) throws -> Order {
        try Order(clientOrderId: try ClientOrderId(id), exchangeOrderId: 7, botId: bot, symbol: symbol, side: .buy, type: .limit,
                  timeInForce: .gtc, price: try Price(parsing: "30000"), quantity: try Quantity(parsing: "0.02"),
                  executedQuantity: try Quantity(parsing: executed), cumulativeQuoteQuantity: try ExactDecimal(parsing: quote),
                  status: status, createdAt: Timestamp(milliseconds: 1_000), updatedAt: Timestamp(milliseconds: 2_000))
    }

    static func fill(_ id: String, trade: Int64) throws -> Fill {
        try Fill(tradeId: trade, clientOrderId: try ClientOrderId(id), exchangeOrderId: 7, symbol: symbol, side: .buy,
                 price: try Price(parsing: "30000"), quantity: try Quantity(parsing: "0.01"), quoteQuantity: 300, commission: .zero,
                 commissionAsset: try Asset("BNB"), isMaker: true, time: Timestamp(milliseconds: 3_000))
    }

    @Test("an answer behind the record (NEW after PARTIALLY_FILLED after FILLED) changes nothing and announces nothing")
    func staleAnswersChangeNothing() async throws {
        try await withTestDatabase { database in
            let admin = try await database.connect()
            defer { Task { try? await admin.close() } }
            try await admin.query("""
                INSERT INTO trading.bot_configs (bot_id, strategy, symbols, interval, desired_state, max_quote_exposure)
                VALUES ('rec-a', 'sma_crossover', '{BTCUSDT}', '1m', 'running', 1000)
                """, logger: testLogger)
            try await admin.query("""
                INSERT INTO trading.order_intents (intent_id, event_id, trace_id, bot_id, symbol, side, order_type, time_in_force, price, quantity, reason)
                VALUES ('o-1', gen_random_uuid(), repeat('a', 32), 'rec-a', 'BTCUSDT', 'BUY', 'LIMIT', 'GTC', 30000, 0.02, 'test')
                """, logger: testLogger)
            let executor = try await database.connect(as: .executor)
            defer { Task { try? await executor.close() } }
            try await admin.query("""
                INSERT INTO trading.orders (client_order_id, bot_id, symbol, side, order_type, time_in_force, price, quantity, status)
                VALUES ('o-1', 'rec-a', 'BTCUSDT', 'BUY', 'LIMIT', 'GTC', 30000, 0.02, 'PENDING_NEW')
                """, logger: testLogger)
            func record(_ order: Order, _ fills: [Fill] = []) async throws -> [Fill] {
                try await executor.withTransaction(logger: testLogger) { connection in
                    .commit(try await ExecutorRecords.recordExecution(order, fills: fills, ids: EventIdGenerator(), traceId: TraceId.random(),
                                                                      on: connection, logger: testLogger))
                }
            }
            func state() async throws -> String {
                try await BotProcessTests.text(admin, "SELECT status || ' ' || executed_quantity::text FROM trading.orders WHERE client_order_id = 'o-1'")
            }
            func announcements() async throws -> Int {
                try await BotProcessTests.scalar(admin, "SELECT count(*)::int FROM trading.outbox WHERE subject = 'gordon.exec.order.rec-a'")
            }

            // The stream got there first: both trades, FILLED.
            _ = try await record(try Self.order("o-1", .partiallyFilled, executed: "0.01", quote: "300"), [try Self.fill("o-1", trade: 1)])
            _ = try await record(try Self.order("o-1", .filled, executed: "0.02", quote: "600"), [try Self.fill("o-1", trade: 2)])
            #expect(try await state() == "FILLED 0.02")
            #expect(try await announcements() == 2)

            // The placement answer (NEW) and a late PARTIALLY_FILLED arrive after: nothing moves back.
            #expect(try await record(try Self.order("o-1", .new, executed: "0", quote: "0")).isEmpty)
            #expect(try await record(try Self.order("o-1", .partiallyFilled, executed: "0.01", quote: "300"), [try Self.fill("o-1", trade: 1)]).isEmpty)
            #expect(try await state() == "FILLED 0.02")
            #expect(try await announcements() == 2, "a stale answer announces nothing")
            #expect(try await BotProcessTests.scalar(admin, "SELECT count(*)::int FROM trading.order_events WHERE client_order_id = 'o-1'") == 2)
            let position = try await BotProcessTests.text(admin, "SELECT quantity::text FROM trading.positions WHERE bot_id = 'rec-a'")
            #expect(try ExactDecimal(parsing: position) == ExactDecimal(significand: 2, scale: 2), "each trade booked once")
        }
    }
}
