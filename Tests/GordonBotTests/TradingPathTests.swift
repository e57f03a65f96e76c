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
    static let bot = "paper-a"
    static let preload = 50
    static let steps = 160

    @Test("the executor killed mid-run: every intent is exactly one order on the simulator, on the backtester's bars, and the position matches the account")
    func paperTrades() async throws {
        let symbol = try Symbol("BTCUSDT")
        let series = SyntheticMarket(seed: 11, startPrice: 30_000, priceDecimals: 2)
            .generate(count: Self.preload + Self.steps + 1, symbol: symbol, interval: .oneMinute, startOpenTime: 1_704_067_200_000)
        let seen = series.slice(Self.preload..<(Self.preload + Self.steps))
        let backtest = try Backtester(settings: BacktestSettings(initialCash: 1000, closeAtEnd: false)).run(BotEngineTests.plan, on: seen)
        #expect(backtest.trades.count >= 2, "the market must make the plan trade")
        // Killed on the bar whose close makes the second entry: its intent is in flight.
        let killAt = backtest.trades[1].entryIndex

        let apiKey = (0..<4).map { _ in String(UInt64.random(in: 0...UInt64.max), radix: 16) }.joined()
        let apiSecret = (0..<4).map { _ in String(UInt64.random(in: 0...UInt64.max), radix: 16) }.joined()
        let simulator = BinanceSimulator(
            configuration: SimConfiguration(symbols: [try SimConfiguration.spotSymbol(symbol)], balances: [try Asset("USDT"): 10_000],
                                            apiKeys: [SimAPIKey(apiKey: apiKey, secretKey: Secret(apiSecret))]),
            feed: try SimMarketFeed(series: [series], preloaded: Self.preload))
        let (simPort, simServer) = try await SimHTTPServer(simulator: simulator, port: 0, logger: testLogger).start()
        defer { simServer.cancel() }
        let natsServer = try await TestNATSServer()
        let nats = try await NATSClient.connect(try NATSClientOptions(urls: [natsServer.url], name: "paper-test"), logger: testLogger)
        try await GordonStream.ensure(JetStream(client: nats))
        defer { Task { await nats.close(); await natsServer.stop() } }

        try await withTestDatabase { database in
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("gordon-paper-test-\(UUID().uuidString)").path
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let admin = try await database.connect()
            defer { Task { try? await admin.close() } }
            try await admin.query("""
                INSERT INTO trading.bot_configs (bot_id, strategy, parameters, symbols, interval, desired_state, max_quote_exposure)
                VALUES (\(Self.bot), 'sma_crossover', '{"fast": 5, "slow": 15}', '{BTCUSDT}', '1m', 'running', 1000)
                """, logger: testLogger)
            // A fresh install is halted until an operator resumes trading.
            try await admin.query("""
                UPDATE trading.halt_latch SET halted = false, reason = 'paper trading test', changed_by = 'operator:test', changed_at = now()
                """, logger: testLogger)
            let data = try BotProcessTests.keyfile(directory, "gordon-data", try await database.url(as: .dataWriter))
            let botKey = try BotProcessTests.keyfile(directory, "gordon-bot-\(Self.bot)", try await database.url(asBot: Self.bot))
            let executorKey = try BotProcessTests.keyfile(directory, "gordon-executor", try await database.url(as: .executor),
                                                          extra: "binance_api_key = \(apiKey)\nbinance_api_secret = \(apiSecret)\n")
            let simURL = "http://127.0.0.1:\(simPort)"
            let nats = ["--nats-url", natsServer.url, "--http-port", "0"]

            let (dataProcess, dataBase) = try await BotProcessTests.start("gordon-data", [
                "--database-url", data.databaseURL, "--keyfile", data.keyfile, "--binance", simURL, "--kline", "BTCUSDT@1m",
            ] + nats)
            let (botProcess, botBase) = try await BotProcessTests.start("gordon-bot", [
                "--bot", Self.bot, "--database-url", botKey.databaseURL, "--keyfile", botKey.keyfile, "--data-url", dataBase,
            ] + nats)
            #expect(try await eventually(timeout: .seconds(60)) { await BotProcessTests.isReady(botBase) })
            let (botRelay, _) = try await BotProcessTests.start("gordon-outbox-relay", ["--database-url", botKey.databaseURL, "--keyfile", botKey.keyfile] + nats)
            let executorArguments = ["--database-url", executorKey.databaseURL, "--keyfile", executorKey.keyfile, "--binance", simURL,
                                     "--max-order-notional", "2000", "--max-position-notional", "2000", "--max-gross-exposure", "5000"] + nats
            var (executor, _) = try await BotProcessTests.start("gordon-executor", executorArguments)
            let (executorRelay, _) = try await BotProcessTests.start("gordon-outbox-relay", [
                "--database-url", executorKey.databaseURL, "--keyfile", executorKey.keyfile,
            ] + nats)
            _ = try await eventually(timeout: .seconds(30)) { simulator.streamConnectionCount > 0 }

            let unfinished = """
                SELECT count(*)::int FROM trading.order_intents i LEFT JOIN trading.orders o ON o.client_order_id = i.intent_id
                WHERE o.status IS NULL OR o.status IN ('PENDING_NEW', 'NEW', 'PARTIALLY_FILLED')
                """
            for step in 1...Self.steps {
                simulator.advance(steps: 1)
                if step == killAt {
                    executor.process.signal(SIGKILL)
                    await executor.waitUntilExit()
                    (executor, _) = try await BotProcessTests.start("gordon-executor", executorArguments)
                }
                #expect(try await eventually(timeout: .seconds(60)) {
                    try await BotProcessTests.scalar(admin, "SELECT count(*)::int FROM trading.processed_events WHERE consumer = 'gordon-bot-\(Self.bot)-klines'") >= step
                }, "kline \(step) was not handled by the bot")
                // The market moves on once whatever the bar asked for has been placed and filled.
                #expect(try await eventually(timeout: .seconds(60)) { try await BotProcessTests.scalar(admin, unfinished) == 0 },
                        "an intent of step \(step) was not placed: \(executor.stderr.suffix(1500))")
            }

            var intents: [(id: String, bar: String, status: String, reason: String?)] = []
            for try await (id, status, reason) in try await admin.query("""
                SELECT i.intent_id, o.status, o.reject_reason FROM trading.order_intents i
                JOIN trading.orders o ON o.client_order_id = i.intent_id ORDER BY i.created_at
                """, logger: testLogger).decode((String, String, String?).self) {
                let tail = id.split(separator: "-").last!
                intents.append((id, "\(Int64(tail.dropLast(), radix: 36)!)\(tail.last!)", status, reason))
            }
            var expected: [String] = []
            for trade in backtest.trades { expected += ["\(seen.openTime[trade.entryIndex - 1])b", "\(seen.openTime[trade.exitIndex - 1])s"] }
            if backtest.inPosition.last == true, let entry = backtest.fills.last(where: { $0.side == .buy }),
               let index = seen.openTime.lastIndex(where: { $0 < entry.time.milliseconds }) {
                expected.append("\(seen.openTime[index])b")
            }
            #expect(intents.map(\.bar) == expected)
            #expect(intents.allSatisfy { $0.status == "FILLED" }, "\(intents.filter { $0.status != "FILLED" })")
            for intent in intents {
                #expect(simulator.placements(of: intent.id) == 1, "intent \(intent.id) placed \(simulator.placements(of: intent.id)) times")
            }
            // The executor's book and the account agree: what the bot holds is the account's BTC.
            let held = try await BotProcessTests.text(admin, "SELECT coalesce(sum(quantity), 0)::text FROM trading.positions WHERE bot_id = '\(Self.bot)'")
            let account = simulator.balances().first { $0.asset.rawValue == "BTC" }.map { ($0.free + $0.locked).description } ?? "0"
            #expect(try ExactDecimal(parsing: held) == ExactDecimal(parsing: account), "positions \(held) BTC, account \(account) BTC")
            let trades = try await BotProcessTests.scalar(admin, "SELECT count(*)::int FROM trading.trades")
            let fillEvents = try await BotProcessTests.scalar(admin, "SELECT count(*)::int FROM trading.fill_events")
            #expect(trades >= intents.count && fillEvents == trades)

            for process in [executorRelay, executor, botRelay, botProcess, dataProcess] { _ = try await process.stop() }
        }
    }
}
