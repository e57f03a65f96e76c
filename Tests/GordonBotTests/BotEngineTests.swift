import GordonBot
import GordonDomain
import GordonKernel
import GordonPostgres
import GordonProtocol
import GordonStrategy
import GordonTestDB
import PostgresNIO
import Testing

/// The bot's engine against a real PostgreSQL, with the test playing the executor: the
/// strategy's intents land on the bars the backtester trades, once each, and only while the
/// bot runs and nothing is working.
@Suite("gordon-bot: closed klines to intents", .serialized)
struct BotEngineTests {
    static let symbol = try! Symbol("BTCUSDT")
    static let plan = TradingPlan(strategy: StrategyConfig(name: "sma_crossover", parameters: ["fast": 5, "slow": 15]))

    static func kline(_ series: BarSeries, _ index: Int) throws -> Kline {
        let bar = series[index]
        func price(_ value: Double) throws -> Price { try Price(parsing: String(format2: value)) }
        return try Kline(symbol: series.symbol, interval: series.interval, openTime: Timestamp(milliseconds: bar.openTime),
                         closeTime: Timestamp(milliseconds: series.interval.closeTime(forOpenTime: bar.openTime)),
                         open: price(bar.open), high: price(bar.high), low: price(bar.low), close: price(bar.close),
                         volume: Quantity(parsing: "1"), quoteVolume: .zero, trades: 1, takerBuyBaseVolume: .zero,
                         takerBuyQuoteVolume: .zero, isClosed: true)
    }

    static func event(_ kline: Kline) -> AnyEvent {
        .kline(EventEnvelope(payload: KlineEvent(kline), source: .data, traceId: TraceId.random(), occurredAt: kline.closeTime,
                             ids: EventIdGenerator()))
    }

    /// A database with bot `bot` configured and running, its lease held, and its engine.
    static func withBot(_ bot: String, _ body: (TestDatabase, PostgresConnection, PostgresConnection, BotEngine) async throws -> Void) async throws {
        try await withTestDatabase { database in
            let admin = try await database.connect()
            defer { Task { try? await admin.close() } }
            try await admin.query("""
                INSERT INTO trading.bot_configs (bot_id, strategy, parameters, symbols, interval, desired_state, max_quote_exposure)
                VALUES (\(bot), 'sma_crossover', '{"fast": 5, "slow": 15}', '{BTCUSDT}', '1m', 'running', 1000)
                """, logger: testLogger)
            let held = try await BotLease(botId: bot, instanceId: "engine-test", host: "test", logger: testLogger) {
                try await database.connect(asBot: bot)
            }.acquire()
            // The lease is renewed while the test runs, as the bot's own watcher does.
            let renewing = Task { await held.watch() }
            defer { renewing.cancel() }
            let connection = try await database.connect(asBot: bot)
            defer { Task { try? await connection.close() } }
            do {
                let settings = try await BotRecords.settings(botId: try BotId(bot), on: connection, logger: testLogger)
                #expect(settings.plan == plan && settings.allocation == ExactDecimal(significand: 1000, scale: 0))
                let engine = try BotEngine(settings: settings, leaseToken: held.token, logger: testLogger)
                try await body(database, admin, connection, engine)
            } catch {
                await held.release()
                throw error
            }
            await held.release()
        }
    }

    /// Handles the kline in one transaction, as the event consumer does.
    static func handle(_ engine: BotEngine, _ event: AnyEvent, on connection: PostgresConnection, commit: Bool = true) async throws {
        try await connection.query("BEGIN", logger: testLogger)
        do {
            try await engine.handle(event, on: connection)
            try await connection.query(commit ? "COMMIT" : "ROLLBACK", logger: testLogger)
        } catch {
            try? await connection.query("ROLLBACK", logger: testLogger)
            throw error
        }
    }

    struct Intent: Equatable {
        let id: String
        let side: String
        let quantity: String?
        let quote: String?
    }

    static func intents(_ admin: PostgresConnection, bot: String) async throws -> [Intent] {
        var intents: [Intent] = []
        for try await (id, side, quantity, quote) in try await admin.query("""
            SELECT intent_id, side, quantity::text, quote_order_quantity::text FROM trading.order_intents WHERE bot_id = \(bot) ORDER BY created_at, intent_id
            """, logger: testLogger).decode((String, String, String?, String?).self) {
            intents.append(Intent(id: id, side: side, quantity: quantity, quote: quote))
        }
        return intents
    }

    /// What the executor records when the intent's market order fills at `price`.
    static func fill(_ admin: PostgresConnection, bot: String, intent: Intent, price: Double) async throws {
        let priceText = String(format2: price)
        if intent.side == "BUY" {
            let quote = try ExactDecimal(parsing: intent.quote!)
            let quantity = try quote.divided(by: ExactDecimal(parsing: priceText), scale: 5, rounding: .down)
            try await admin.query("""
                INSERT INTO trading.orders (client_order_id, bot_id, symbol, side, order_type, quantity, executed_quantity, status)
                VALUES (\(intent.id), \(bot), 'BTCUSDT', 'BUY', 'MARKET', \(quantity.description)::numeric, \(quantity.description)::numeric, 'FILLED')
                """, logger: testLogger)
            try await admin.query("""
                INSERT INTO trading.positions (bot_id, symbol, quantity, average_entry_price) VALUES (\(bot), 'BTCUSDT', \(quantity.description)::numeric, \(priceText)::numeric)
                ON CONFLICT (bot_id, symbol) DO UPDATE SET quantity = EXCLUDED.quantity, average_entry_price = EXCLUDED.average_entry_price
                """, logger: testLogger)
        } else {
            try await admin.query("""
                INSERT INTO trading.orders (client_order_id, bot_id, symbol, side, order_type, quantity, executed_quantity, status)
                VALUES (\(intent.id), \(bot), 'BTCUSDT', 'SELL', 'MARKET', \(intent.quantity!)::numeric, \(intent.quantity!)::numeric, 'FILLED')
                """, logger: testLogger)
            try await admin.query("""
                UPDATE trading.positions SET realized_pnl = realized_pnl + quantity * (\(priceText)::numeric - average_entry_price), quantity = 0
                WHERE bot_id = \(bot)
                """, logger: testLogger)
        }
    }

    @Test("every kline through the engine, fills at the next open: intents on exactly the bars the backtester trades, the first sized at the allocation")
    func tradesTheBacktestersBars() async throws {
        let series = SyntheticMarket(seed: 11, startPrice: 30_000).generate(count: 600, symbol: Self.symbol, interval: .oneMinute,
                                                                                startOpenTime: 1_767_225_600_000)
        let backtest = try Backtester(settings: BacktestSettings(initialCash: 1000, closeAtEnd: false)).run(Self.plan, on: series)
        // nextOpen: a trade fills on the bar after its signal.
        var expected: [(index: Int, side: String)] = []
        for trade in backtest.trades { expected += [(trade.entryIndex - 1, "BUY"), (trade.exitIndex - 1, "SELL")] }
        #expect(backtest.trades.count >= 3, "the series must make the plan trade")

        try await Self.withBot("eng-a") { _, admin, connection, engine in
            var seen: [(index: Int, side: String)] = []
            var handled = Set<String>()
            for index in series.indices {
                // The executor fills what the previous bar asked for at this bar's open.
                for intent in try await Self.intents(admin, bot: "eng-a") where !handled.contains(intent.id) {
                    handled.insert(intent.id)
                    try await Self.fill(admin, bot: "eng-a", intent: intent, price: series[index].open)
                }
                let before = try await Self.intents(admin, bot: "eng-a").count
                try await Self.handle(engine, Self.event(try Self.kline(series, index)), on: connection)
                let after = try await Self.intents(admin, bot: "eng-a")
                if after.count > before { seen.append((index, after.last!.side)) }
            }
            let closedTrades = expected.count
            #expect(seen.prefix(closedTrades).map(\.index) == expected.map(\.index))
            #expect(seen.prefix(closedTrades).map(\.side) == expected.map(\.side))
            #expect(seen.count - closedTrades <= 1, "at most an entry still open at the end")
            let first = try await Self.intents(admin, bot: "eng-a").first
            // fixed_fraction's default share of the 1000 allocation, exact to 8 places.
            let fraction = try Sizing(StrategyConfig(name: "fixed_fraction"))
            if case .fixedFraction(let share) = fraction {
                #expect(first?.quote == (try BotEngineTests.quote(1000, share)))
            }
            #expect(engine.counters.intents == seen.count)
        }
    }

    static func quote(_ equity: Int, _ share: Double) throws -> String {
        let parts = Int128((share * 100_000_000).rounded(.down))
        return (ExactDecimal(significand: Int128(equity), scale: 0) * ExactDecimal(significand: parts, scale: 8)).description
    }

    @Test("a retried kline acts once; a working intent, a paused bot or a stale kline sends nothing more")
    func onceAndOnlyWhenAllowed() async throws {
        let series = SyntheticMarket(seed: 11, startPrice: 30_000).generate(count: 600, symbol: Self.symbol, interval: .oneMinute,
                                                                                startOpenTime: 1_767_225_600_000)
        let backtest = try Backtester(settings: BacktestSettings(initialCash: 1000, closeAtEnd: false)).run(Self.plan, on: series)
        let entrySignal = backtest.trades[0].entryIndex - 1
        let exitSignal = backtest.trades[0].exitIndex - 1
        try await Self.withBot("eng-b") { _, admin, connection, engine in
            // History up to the bar before the entry signal, as a warm-up.
            engine.warmUp(try (0..<entrySignal).map { try Self.kline(series, $0) }, holdings: BotHoldings())
            #expect(engine.barsClosed == entrySignal)
            // The entry bar's transaction fails once (rolled back): the retry acts, once.
            let entry = Self.event(try Self.kline(series, entrySignal))
            try await Self.handle(engine, entry, on: connection, commit: false)
            #expect(try await Self.intents(admin, bot: "eng-b").isEmpty)
            try await Self.handle(engine, entry, on: connection)
            #expect(try await Self.intents(admin, bot: "eng-b").count == 1)
            #expect(engine.barsClosed == entrySignal + 1, "the bar was closed once")
            // Delivered again: the intent is still with the executor, so nothing is sent.
            try await Self.handle(engine, entry, on: connection)
            #expect(try await Self.intents(admin, bot: "eng-b").count == 1)
            #expect(engine.counters.heldWhilePending == 1)
            // An older kline is stale.
            try await Self.handle(engine, Self.event(try Self.kline(series, entrySignal - 3)), on: connection)
            #expect(engine.counters.staleKlines == 1)
            // Filled; then paused up to the exit signal: the exit is held, not sent.
            let buy = try await Self.intents(admin, bot: "eng-b")[0]
            try await Self.fill(admin, bot: "eng-b", intent: buy, price: series[entrySignal + 1].open)
            try await admin.query("UPDATE trading.bot_configs SET desired_state = 'paused' WHERE bot_id = 'eng-b'", logger: testLogger)
            for index in (entrySignal + 1)...exitSignal {
                try await Self.handle(engine, Self.event(try Self.kline(series, index)), on: connection)
            }
            #expect(try await Self.intents(admin, bot: "eng-b").count == 1)
            #expect(engine.counters.heldWhilePaused == 1)
            // Running again, the exit bar's kline delivered again (a retry) sells everything held.
            try await admin.query("UPDATE trading.bot_configs SET desired_state = 'running' WHERE bot_id = 'eng-b'", logger: testLogger)
            try await Self.handle(engine, Self.event(try Self.kline(series, exitSignal)), on: connection)
            let all = try await Self.intents(admin, bot: "eng-b")
            #expect(all.count == 2 && all[1].side == "SELL")
            var held = ""
            for try await (quantity,) in try await admin.query("SELECT quantity::text FROM trading.positions WHERE bot_id = 'eng-b'",
                                                               logger: testLogger).decode((String,).self) { held = quantity }
            #expect(all[1].quantity == held)
            // The outbox holds one event per intent, on the bot's own subject.
            var events = 0
            for try await (count,) in try await admin.query("""
                SELECT count(*)::int FROM trading.outbox WHERE subject = 'gordon.intent.eng-b' AND producer = 'gordon_bot_eng-b'
                """, logger: testLogger).decode((Int,).self) { events = count }
            #expect(events == 2)
        }
    }
}

extension String {
    /// Two decimals, as the synthetic market prices are.
    init(format2 value: Double) {
        let cents = Int64((value * 100).rounded())
        let sign = cents < 0 ? "-" : ""
        let magnitude = cents.magnitude
        let fraction = magnitude % 100
        self = "\(sign)\(magnitude / 100).\(fraction < 10 ? "0" : "")\(fraction)"
    }
}
