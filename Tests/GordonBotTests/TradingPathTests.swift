import BinanceSim
import Foundation
import GordonBus
import GordonDomain
import GordonKernel
import GordonNATS
import GordonPostgres
import GordonStrategy
import GordonTestDB
import PostgresNIO
import Testing

/// Paper trading end to end, every part a real process: BinanceSim's market → gordon-data →
/// the stream → gordon-bot → its outbox relay → gordon-executor → BinanceSim's matching
/// engine → the executor's records and outbox. The executor is killed with SIGKILL while an
/// intent is on its way and started again.
@Suite("Trading path: simulator to data, bot, executor and back", .serialized)
struct TradingPathTests {
    static let preload = 50

    @Test("the bot, the executor, the relays and nats-server killed and the exchange failing mid-run: every intent is exactly one order on the simulator, on the backtester's bars, and the position matches the account")
    func paperTradesThroughFaults() async throws {
        let steps = 160
        let world = try await PaperWorld(bot: "paper-a", steps: steps, preload: Self.preload, parameters: #"{"fast": 5, "slow": 15}"#,
                                         strategy: "sma_crossover")
        let seen = world.series.slice(Self.preload..<(Self.preload + steps))
        let backtest = try Backtester(settings: BacktestSettings(initialCash: 1000, closeAtEnd: false)).run(BotEngineTests.plan, on: seen)
        #expect(backtest.trades.count >= 2, "the market must make the plan trade")
        // The seeded fault schedule: one fault on each bar that makes an order (its step is
        // the fill bar's index in `seen`, the bar after the signal). The bot is killed on the
        // first, the executor on the second; the others draw from the exchange's faults.
        var orderSteps = backtest.trades.flatMap { [$0.entryIndex, $0.exitIndex] }
        if backtest.inPosition.last == true, let last = backtest.fills.last, last.side == .buy,
           let index = seen.openTime.lastIndex(where: { $0 < last.time.milliseconds }) {
            orderSteps.append(index + 1)
        }
        let seed = UInt64(TestEnvironment.variable("GORDON_FAULT_SEED") ?? "") ?? 2026
        var random = SplitMix64(seed: seed)
        var schedule: [Int: Fault] = [:]
        for (position, step) in orderSteps.enumerated() {
            schedule[step] = position == 0 ? .killBot : position == 1 ? .killExecutor
                : Fault.exchangeFaults[Int(random.next() % UInt64(Fault.exchangeFaults.count))]
        }
        // Every background fault once, in a seeded order, on quiet bars spread over the run.
        var background = Fault.backgroundFaults
        for index in background.indices.reversed() { background.swapAt(index, Int(random.next() % UInt64(index + 1))) }
        var quietStep = 8
        for fault in background {
            while schedule[quietStep] != nil || schedule[quietStep + 1] != nil { quietStep += 1 }
            schedule[quietStep] = fault
            quietStep += steps / (background.count + 1)
        }

        try await world.run { world in
            let unfinished = """
                SELECT count(*)::int FROM trading.order_intents i LEFT JOIN trading.orders o ON o.client_order_id = i.intent_id
                WHERE o.status IS NULL OR o.status IN ('PENDING_NEW', 'NEW', 'PARTIALLY_FILLED')
                """
            var applied: [Fault: Int] = [:]
            for step in 1...steps {
                let fault = schedule[step]
                if let fault { applied[fault, default: 0] += 1 }
                if let fault, let inject = fault.inject { world.simulator.updateFaults(inject) }
                world.simulator.advance(steps: 1)
                switch fault {
                case .killExecutor: try await world.restart(.executor)
                case .killBot: try await world.restart(.bot)
                case .killBotRelay: try await world.restart(.botRelay)
                case .killExecutorRelay: try await world.restart(.executorRelay)
                case .killNATS: try await world.restartNATS()
                case .dropStreams: #expect(world.simulator.dropStreamConnections() >= 2, "the kline stream and the user data stream")
                default: break
                }
                #expect(try await eventually(timeout: .seconds(60)) { try await world.klinesHandled() >= step },
                        "kline \(step) was not handled by the bot")
                // The market moves on once whatever the bar asked for has been placed and filled.
                #expect(try await eventually(timeout: .seconds(60)) { try await BotProcessTests.scalar(world.admin, unfinished) == 0 },
                        "an intent of step \(step) was not placed: \(world.executor.stderr.suffix(1500))")
            }
            print("fault schedule (seed \(seed)): " + applied.sorted { $0.key.rawValue < $1.key.rawValue }.map { "\($0.key.rawValue) \($0.value)" }
                .joined(separator: ", ") + "; \(orderSteps.count) orders")
            #expect(world.simulator.faults.executedThenServerErrors == 0 && world.simulator.faults.executedThenTimeouts == 0
                    && world.simulator.faults.lateExecutions == 0 && world.simulator.faults.truncatedOrderReplies == 0,
                    "every injected fault was met")

            let intents = try await world.intents()
            var expected: [String] = []
            for trade in backtest.trades { expected += ["\(seen.openTime[trade.entryIndex - 1])b", "\(seen.openTime[trade.exitIndex - 1])s"] }
            if backtest.inPosition.last == true, let entry = backtest.fills.last(where: { $0.side == .buy }),
               let index = seen.openTime.lastIndex(where: { $0 < entry.time.milliseconds }) {
                expected.append("\(seen.openTime[index])b")
            }
            #expect(intents.map(\.bar) == expected)
            #expect(intents.allSatisfy { $0.status == "FILLED" }, "\(intents.filter { $0.status != "FILLED" })")
            try await world.expectOncePlacedAndBooked(intents)
        }
    }

    @Test("a market faster than the fills (a kline every few milliseconds): the bot never buys twice or sells what it has not got, and the book matches the account")
    func fastMarket() async throws {
        let steps = 300
        // Enters whenever flat (RSI(2) below 99.99, nearly always) and leaves after one bar
        // held: an order on most klines, each decided while the last may just be filling.
        let world = try await PaperWorld(bot: "paper-b", steps: steps, preload: Self.preload,
                                         parameters: #"{"period": 2, "oversold": 99.99, "overbought": 100}"#, strategy: "rsi_mean_reversion",
                                         overlays: #"[{"name": "time_stop", "parameters": {"bars": 1}}]"#)
        try await world.run { world in
            for step in 1...steps {
                world.simulator.advance(steps: 1)
                // Only the bot's own pace holds the market back: the fills are not waited for.
                #expect(try await eventually(timeout: .seconds(60)) { try await world.klinesHandled() >= step }, "kline \(step) was not handled")
            }
            #expect(try await eventually(timeout: .seconds(60)) {
                try await BotProcessTests.scalar(world.admin, """
                    SELECT count(*)::int FROM trading.order_intents i LEFT JOIN trading.orders o ON o.client_order_id = i.intent_id
                    WHERE o.status IS NULL OR o.status IN ('PENDING_NEW', 'NEW', 'PARTIALLY_FILLED')
                    """) == 0
            })
            let intents = try await world.intents()
            #expect(intents.count > steps / 6, "the plan trades on many bars: \(intents.count) intents")
            #expect(intents.allSatisfy { $0.status == "FILLED" }, "\(intents.filter { $0.status != "FILLED" }.prefix(3))")
            let sides = intents.map { $0.bar.last! }
            #expect(zip(sides, sides.dropFirst()).allSatisfy { $0 != $1 }, "entries and exits alternate: \(String(sides))")
            try await world.expectOncePlacedAndBooked(intents)
        }
    }
}

/// Everything the trading path runs, each a real process: a BinanceSim (in the test) with the
/// executor's API key, nats-server, a test database; gordon-data, one bot and its relay,
/// gordon-executor and its relay.
final class PaperWorld: @unchecked Sendable {
    enum Service { case bot, executor, botRelay, executorRelay }

    let bot: String
    let series: BarSeries
    let simulator: BinanceSimulator
    let steps: Int
    private let configSQL: String
    private(set) var admin: PostgresConnection!
    private(set) var executor: TestCommand!
    private var botProcess: TestCommand!
    private var relays: [Service: TestCommand] = [:]
    private var natsServer: TestNATSServer!
    private var arguments: [Service: [String]] = [:]

    init(bot: String, steps: Int, preload: Int, parameters: String, strategy: String, overlays: String = "[]") async throws {
        let symbol = try Symbol("BTCUSDT")
        self.bot = bot
        self.steps = steps
        series = SyntheticMarket(seed: 11, startPrice: 30_000, priceDecimals: 2)
            .generate(count: preload + steps + 1, symbol: symbol, interval: .oneMinute, startOpenTime: 1_704_067_200_000)
        apiKey = (0..<4).map { _ in String(UInt64.random(in: 0...UInt64.max), radix: 16) }.joined()
        apiSecret = (0..<4).map { _ in String(UInt64.random(in: 0...UInt64.max), radix: 16) }.joined()
        simulator = BinanceSimulator(
            configuration: SimConfiguration(symbols: [try SimConfiguration.spotSymbol(symbol)], balances: [try Asset("USDT"): 10_000],
                                            apiKeys: [SimAPIKey(apiKey: apiKey, secretKey: Secret(apiSecret))]),
            feed: try SimMarketFeed(series: [series], preloaded: preload))
        configSQL = """
            INSERT INTO trading.bot_configs (bot_id, strategy, parameters, overlays, symbols, interval, desired_state, max_quote_exposure)
            VALUES ('\(bot)', '\(strategy)', '\(parameters)', '\(overlays)', '{BTCUSDT}', '1m', 'running', 1000)
            """
    }

    private let apiKey: String
    private let apiSecret: String

    /// Starts everything, runs `body`, stops everything.
    func run(_ body: (PaperWorld) async throws -> Void) async throws {
        let (simPort, simServer) = try await SimHTTPServer(simulator: simulator, port: 0, logger: testLogger).start()
        defer { simServer.cancel() }
        let natsServer = try await TestNATSServer()
        self.natsServer = natsServer
        let nats = try await NATSClient.connect(try NATSClientOptions(urls: [natsServer.url], name: "paper-test"), logger: testLogger)
        try await GordonStream.ensure(JetStream(client: nats))
        defer { Task { await nats.close(); await natsServer.stop() } }
        try await withTestDatabase { database in
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("gordon-paper-test-\(UUID().uuidString)").path
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: directory) }
            admin = try await database.connect()
            defer { Task { [admin] in try? await admin?.close() } }
            try await admin.query(PostgresQuery(unsafeSQL: configSQL), logger: testLogger)
            // A fresh install is halted until an operator resumes trading.
            try await admin.query("""
                UPDATE trading.halt_latch SET halted = false, reason = 'paper trading test', changed_by = 'operator:test', changed_at = now()
                """, logger: testLogger)
            let data = try BotProcessTests.keyfile(directory, "gordon-data", try await database.url(as: .dataWriter))
            let botKey = try BotProcessTests.keyfile(directory, "gordon-bot-\(bot)", try await database.url(asBot: bot))
            let executorKey = try BotProcessTests.keyfile(directory, "gordon-executor", try await database.url(as: .executor),
                                                          extra: "binance_api_key = \(apiKey)\nbinance_api_secret = \(apiSecret)\n")
            let simURL = "http://127.0.0.1:\(simPort)"
            let common = ["--nats-url", natsServer.url, "--http-port", "0"]
            let (dataProcess, dataBase) = try await BotProcessTests.start("gordon-data", [
                "--database-url", data.databaseURL, "--keyfile", data.keyfile, "--binance", simURL, "--kline", "BTCUSDT@1m",
            ] + common)
            arguments[.bot] = ["--bot", bot, "--database-url", botKey.databaseURL, "--keyfile", botKey.keyfile, "--data-url", dataBase] + common
            arguments[.executor] = ["--database-url", executorKey.databaseURL, "--keyfile", executorKey.keyfile, "--binance", simURL,
                                    "--max-order-notional", "2000", "--max-position-notional", "2000", "--max-gross-exposure", "5000",
                                    "--recv-window", "2000"] + common
            let botBase: String
            (botProcess, botBase) = try await BotProcessTests.start("gordon-bot", arguments[.bot]!)
            #expect(try await eventually(timeout: .seconds(60)) { await BotProcessTests.isReady(botBase) })
            arguments[.botRelay] = ["--database-url", botKey.databaseURL, "--keyfile", botKey.keyfile] + common
            arguments[.executorRelay] = ["--database-url", executorKey.databaseURL, "--keyfile", executorKey.keyfile] + common
            (relays[.botRelay], _) = try await BotProcessTests.start("gordon-outbox-relay", arguments[.botRelay]!)
            (executor, _) = try await BotProcessTests.start("gordon-executor", arguments[.executor]!)
            (relays[.executorRelay], _) = try await BotProcessTests.start("gordon-outbox-relay", arguments[.executorRelay]!)
            _ = try await eventually(timeout: .seconds(30)) { self.simulator.streamConnectionCount > 0 }
            try await body(self)
            // Stopped as the watchdog stops them: SIGTERM, exit 0.
            for process in [relays[.executorRelay]!, executor!, relays[.botRelay]!, botProcess!, dataProcess] {
                let stopped = try #require(try await process.stop(timeout: .seconds(20)))
                #expect(stopped.status == 0, "\(stopped.stderr.suffix(800))")
            }
        }
    }

    /// SIGKILL, then a new process with the same arguments.
    func restart(_ service: Service) async throws {
        let process = switch service {
        case .bot: botProcess!
        case .executor: executor!
        case .botRelay, .executorRelay: relays[service]!
        }
        process.process.signal(SIGKILL)
        await process.waitUntilExit()
        let program = switch service {
        case .bot: "gordon-bot"
        case .executor: "gordon-executor"
        case .botRelay, .executorRelay: "gordon-outbox-relay"
        }
        let (started, _) = try await BotProcessTests.start(program, arguments[service]!)
        switch service {
        case .bot: botProcess = started
        case .executor: executor = started
        case .botRelay, .executorRelay: relays[service] = started
        }
    }

    /// SIGKILL of nats-server, then the same server (port, JetStream store) again.
    func restartNATS() async throws {
        await natsServer.kill()
        try await natsServer.start()
    }

    func klinesHandled() async throws -> Int {
        try await BotProcessTests.scalar(admin, "SELECT count(*)::int FROM trading.processed_events WHERE consumer = 'gordon-bot-\(bot)-klines'")
    }

    /// Every intent with its order, oldest first; `bar` is the signal bar's open time and b or s.
    func intents() async throws -> [(id: String, bar: String, status: String, reason: String?)] {
        var intents: [(id: String, bar: String, status: String, reason: String?)] = []
        for try await (id, status, reason) in try await admin.query("""
            SELECT i.intent_id, o.status, o.reject_reason FROM trading.order_intents i
            JOIN trading.orders o ON o.client_order_id = i.intent_id ORDER BY i.created_at
            """, logger: testLogger).decode((String, String, String?).self) {
            let tail = id.split(separator: "-").last!
            intents.append((id, "\(Int64(tail.dropLast(), radix: 36)!)\(tail.last!)", status, reason))
        }
        return intents
    }

    /// Each intent placed on the simulator exactly once; the executor's book and the account
    /// agree (what the bot holds is the account's BTC); every trade has its fill event.
    func expectOncePlacedAndBooked(_ intents: [(id: String, bar: String, status: String, reason: String?)]) async throws {
        for intent in intents {
            #expect(simulator.placements(of: intent.id) == 1, "intent \(intent.id) placed \(simulator.placements(of: intent.id)) times")
        }
        let held = try await BotProcessTests.text(admin, "SELECT coalesce(sum(quantity), 0)::text FROM trading.positions WHERE bot_id = '\(bot)'")
        let account = simulator.balances().first { $0.asset.rawValue == "BTC" }.map { ($0.free + $0.locked).description } ?? "0"
        #expect(try ExactDecimal(parsing: held) == ExactDecimal(parsing: account), "positions \(held) BTC, account \(account) BTC")
        let trades = try await BotProcessTests.scalar(admin, "SELECT count(*)::int FROM trading.trades")
        let fillEvents = try await BotProcessTests.scalar(admin, "SELECT count(*)::int FROM trading.fill_events")
        #expect(trades >= intents.count && fillEvents == trades)
    }
}

/// What the trading path test does to the system on a bar that makes an order.
enum Fault: String, Hashable, CaseIterable {
    case killBot = "SIGKILL gordon-bot"
    case killExecutor = "SIGKILL gordon-executor"
    case executedThenServerError = "executed, then 503"
    case executedThenTimeout = "executed, then -1007"
    case lateExecution = "503 at once, executed late"
    case truncatedReply = "executed, reply cut short"
    case serverError = "503, not processed"
    case tooManyRequests = "429 with Retry-After"
    case killBotRelay = "SIGKILL the bot's relay"
    case killExecutorRelay = "SIGKILL the executor's relay"
    case killNATS = "SIGKILL nats-server"
    case ban = "418 IP ban"
    case dropStreams = "every stream dropped"
    case clockSkew = "exchange clock 3 s ahead"

    static let exchangeFaults: [Fault] = [.executedThenServerError, .executedThenTimeout, .lateExecution, .truncatedReply,
                                          .serverError, .tooManyRequests]
    /// Drawn on bars that make no order: the processes between the bot and the exchange, the
    /// bus itself, and the exchange refusing everyone for a while.
    static let backgroundFaults: [Fault] = [.killBotRelay, .killExecutorRelay, .killNATS, .ban, .dropStreams, .clockSkew]

    var inject: ((inout SimFaults) -> Void)? {
        switch self {
        case .killBot, .killExecutor, .killBotRelay, .killExecutorRelay, .killNATS, .dropStreams: nil
        case .ban: { $0.bans = 1; $0.banSeconds = 2 }
        case .clockSkew: { $0.clockSkewMilliseconds += 3000 }
        case .executedThenServerError: { $0.executedThenServerErrors = 1 }
        case .executedThenTimeout: { $0.executedThenTimeouts = 1 }
        case .lateExecution: { $0.lateExecutions = 1; $0.lateExecutionMilliseconds = 800 }
        case .truncatedReply: { $0.truncatedOrderReplies = 1 }
        case .serverError: { $0.serverErrors = 1 }
        case .tooManyRequests: { $0.tooManyRequests = 1; $0.retryAfterSeconds = 1 }
        }
    }
}

/// A small seeded generator: the same seed gives the same fault schedule.
struct SplitMix64 {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
