import AsyncHTTPClient
import BinanceSim
import Foundation
import GordonBus
import GordonDomain
import GordonKernel
import GordonNATS
import GordonPostgres
import GordonProtocol
import GordonStrategy
import GordonTestDB
import NIOCore
import PostgresNIO
import Testing

/// gordon-bot as the device runs it, behind gordon-data and in front of its outbox relay:
/// the simulator's market → gordon-data → the stream → the bot → its outbox → the stream. The
/// test plays the executor (fills each intent at the next bar's open). The active instance is
/// killed with SIGKILL mid-run; the standby takes over, and the intents are still exactly the
/// backtester's, once each.
@Suite("gordon-bot: the process", .serialized)
struct BotProcessTests {
    static let bot = "proc-a"
    static let preload = 50
    static let steps = 160
    static let killAt = 60

    /// Starts a program and waits for its "listening on" line; returns it and its base URL.
    static func start(_ program: String, _ arguments: [String]) async throws -> (TestCommand, String) {
        let command = try TestCommand(program, arguments)
        var base: String?
        _ = try await eventually(timeout: .seconds(60)) {
            base = command.stdout.split(separator: "\n").first { $0.contains(" listening on ") }
                .map { String($0[$0.range(of: " listening on ")!.upperBound...]) }
            return base != nil || !command.process.isRunning
        }
        guard let base else { throw TestNATSServerError(message: "\(program) did not start: \(command.stderr.suffix(2000))") }
        return (command, base)
    }

    static func get(_ url: String) async throws -> (Int, String) {
        let response = try await HTTPClient.shared.execute(HTTPClientRequest(url: url), timeout: .seconds(10))
        let body = try await response.body.collect(upTo: 1 << 20)
        return (Int(response.status.code), String(buffer: body))
    }

    static func isReady(_ base: String) async -> Bool { (try? await get(base + "/readyz").0) == 200 }

    /// The value of gordon_bot_active in the bot's /metrics (1: it trades).
    static func activeGauge(_ base: String) async throws -> Double? {
        try await get(base + "/metrics").1.split(separator: "\n").first { $0.hasPrefix("gordon_bot_active ") }?
            .split(separator: " ").last.flatMap { Double($0) }
    }

    static func keyfile(_ directory: String, _ name: String, _ url: DatabaseURL, extra: String = "") throws -> (keyfile: String, databaseURL: String) {
        let path = "\(directory)/\(name).key"
        try url.password!.withPlainText { "postgres_password = \($0)\n" + extra }.write(toFile: path, atomically: true, encoding: .utf8)
        chmod(path, 0o400)
        return (path, url.with(username: url.username, password: nil).description)
    }

    static func scalar(_ connection: PostgresConnection, _ sql: String) async throws -> Int {
        for try await (value,) in try await connection.query(PostgresQuery(unsafeSQL: sql), logger: testLogger).decode((Int,).self) { return value }
        return -1
    }

    static func text(_ connection: PostgresConnection, _ sql: String) async throws -> String {
        for try await (value,) in try await connection.query(PostgresQuery(unsafeSQL: sql), logger: testLogger).decode((String,).self) { return value }
        return ""
    }

    @Test("SIGKILL of the active instance mid-run: the standby takes over, and the intents are the backtester's trades, once each, relayed to the stream")
    func killedAndTakenOver() async throws {
        let symbol = try Symbol("BTCUSDT")
        let series = SyntheticMarket(seed: 11, startPrice: 30_000, priceDecimals: 2)
            .generate(count: Self.preload + Self.steps + 1, symbol: symbol, interval: .oneMinute, startOpenTime: 1_704_067_200_000)
        let simulator = BinanceSimulator(configuration: SimConfiguration(symbols: [try SimConfiguration.spotSymbol(symbol)], balances: [:], apiKeys: []),
                                         feed: try SimMarketFeed(series: [series], preloaded: Self.preload))
        let (simPort, simServer) = try await SimHTTPServer(simulator: simulator, port: 0, logger: testLogger).start()
        defer { simServer.cancel() }
        let natsServer = try await TestNATSServer()
        let nats = try await NATSClient.connect(try NATSClientOptions(urls: [natsServer.url], name: "bot-test"), logger: testLogger)
        let jetStream = JetStream(client: nats)
        try await GordonStream.ensure(jetStream)
        defer { Task { await nats.close(); await natsServer.stop() } }

        try await withTestDatabase { database in
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("gordon-bot-test-\(UUID().uuidString)").path
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let admin = try await database.connect()
            defer { Task { try? await admin.close() } }
            try await admin.query("""
                INSERT INTO trading.bot_configs (bot_id, strategy, parameters, symbols, interval, desired_state, max_quote_exposure)
                VALUES (\(Self.bot), 'sma_crossover', '{"fast": 5, "slow": 15}', '{BTCUSDT}', '1m', 'running', 1000)
                """, logger: testLogger)
            let data = try Self.keyfile(directory, "gordon-data", try await database.url(as: .dataWriter))
            let botKey = try Self.keyfile(directory, "gordon-bot-\(Self.bot)", try await database.url(asBot: Self.bot))
            let simURL = "http://127.0.0.1:\(simPort)"

            let (dataProcess, dataBase) = try await Self.start("gordon-data", [
                "--database-url", data.databaseURL, "--keyfile", data.keyfile, "--nats-url", natsServer.url,
                "--binance", simURL, "--kline", "BTCUSDT@1m", "--http-port", "0",
            ])
            let botArguments = ["--bot", Self.bot, "--database-url", botKey.databaseURL, "--keyfile", botKey.keyfile,
                                "--nats-url", natsServer.url, "--data-url", dataBase, "--http-port", "0", "--state-check-seconds", "1"]
            let (first, firstBase) = try await Self.start("gordon-bot", botArguments)
            #expect(try await eventually(timeout: .seconds(60)) { await Self.isReady(firstBase) })
            let (second, secondBase) = try await Self.start("gordon-bot", botArguments)
            #expect(await !Self.isReady(secondBase), "the second instance is a standby")
            let (relay, _) = try await Self.start("gordon-outbox-relay", [
                "--database-url", botKey.databaseURL, "--keyfile", botKey.keyfile, "--nats-url", natsServer.url, "--http-port", "0",
            ])
            _ = try await eventually(timeout: .seconds(30)) { simulator.streamConnectionCount > 0 }

            let consumer = "gordon-bot-\(Self.bot)-klines"
            var filled = Set<String>()
            for step in 1...Self.steps {
                simulator.advance(steps: 1)
                if step == Self.killAt { first.process.signal(SIGKILL) }
                #expect(try await eventually(timeout: .seconds(60)) {
                    try await Self.scalar(admin, "SELECT count(*)::int FROM trading.processed_events WHERE consumer = '\(consumer)'") >= step
                }, "kline \(step) was not handled")
                // The executor fills what this bar asked for at the next bar's open.
                let next = series[Self.preload + step].open
                for try await (id, side, quantity, quote) in try await admin.query("""
                    SELECT intent_id, side, quantity::text, quote_order_quantity::text FROM trading.order_intents WHERE bot_id = \(Self.bot)
                    """, logger: testLogger).decode((String, String, String?, String?).self) where !filled.contains(id) {
                    filled.insert(id)
                    try await BotEngineTests.fill(admin, bot: Self.bot, intent: .init(id: id, side: side, quantity: quantity, quote: quote), price: next)
                }
            }
            await first.waitUntilExit()
            #expect(await Self.isReady(secondBase), "the standby took over")

            // The bars the bot saw are the ones gordon-data stored; the backtester over them.
            var stored: [Int64] = []
            for try await (open,) in try await admin.query(
                "SELECT (extract(epoch FROM open_time) * 1000)::bigint FROM market_data.klines ORDER BY open_time", logger: testLogger)
                .decode((Int64,).self) { stored.append(open) }
            #expect(stored.count == Self.steps)
            let firstIndex = try #require(series.openTime.firstIndex(of: stored[0]))
            let seen = series.slice(firstIndex..<(firstIndex + stored.count))
            let backtest = try Backtester(settings: BacktestSettings(initialCash: 1000, closeAtEnd: false)).run(BotEngineTests.plan, on: seen)
            var expected: [String] = []
            for trade in backtest.trades {
                expected += ["\(seen.openTime[trade.entryIndex - 1])b", "\(seen.openTime[trade.exitIndex - 1])s"]
            }
            if backtest.inPosition.last == true, let entry = backtest.fills.last(where: { $0.side == .buy }),
               let index = seen.openTime.lastIndex(where: { $0 < entry.time.milliseconds }) {
                expected.append("\(seen.openTime[index])b")
            }
            #expect(backtest.trades.count >= 2, "the market must make the plan trade")
            var intents: [String] = []
            for try await (id,) in try await admin.query("SELECT intent_id FROM trading.order_intents ORDER BY created_at",
                                                         logger: testLogger).decode((String,).self) {
                let tail = id.split(separator: "-").last!
                intents.append("\(Int64(tail.dropLast(), radix: 36)!)\(tail.last!)")
            }
            #expect(intents == expected)
            #expect(Set(intents).count == intents.count, "no bar acted on twice")

            // Every intent reached the stream once, on the bot's own subject, through its relay.
            let stream = OrderedConsumer(jetStream: jetStream, stream: GordonStream.name, filterSubject: "gordon.intent.>")
            var relayed: [JetStreamMessage] = []
            #expect(try await eventually(timeout: .seconds(30)) {
                relayed += try await stream.next(batch: 64, expires: .seconds(1))
                return relayed.count >= intents.count
            })
            relayed += try await stream.next(batch: 64, expires: .milliseconds(500))
            let codec = EventCodec()
            let relayedIds = try relayed.map { try codec.decode(OrderIntentEvent.self, from: $0.message.payload.readableBytesView).payload.intentId.rawValue }
            #expect(relayed.allSatisfy { $0.message.subject == "gordon.intent.\(Self.bot)" })
            #expect(relayedIds.count == intents.count && Set(relayedIds).count == relayedIds.count)

            // A standby stopped with SIGTERM while it waits for the lease exits 0, as does the
            // active one (the watchdog's stop).
            let (third, _) = try await Self.start("gordon-bot", botArguments)
            let standbyStop = try #require(try await third.stop(timeout: .seconds(20)))
            #expect(standbyStop.status == 0, "\(standbyStop.stderr.suffix(1000))")

            // Stopped by its configuration, the active instance stops trading but keeps its
            // process (under the watchdog an exit is a crash, and a bot left down could not be
            // started again); started again, it warms up and trades; SIGTERM: exit 0.
            try await admin.query("UPDATE trading.bot_configs SET desired_state = 'stopped' WHERE bot_id = \(Self.bot)", logger: testLogger)
            #expect(try await eventually(timeout: .seconds(30)) { try await Self.activeGauge(secondBase) == 0 },
                    "the stopped bot still trades")
            #expect(second.process.isRunning, "a stopped bot exited: \(second.stderr.suffix(1000))")
            #expect(await Self.isReady(secondBase), "a stopped bot is doing what it was told: ready")
            try await admin.query("UPDATE trading.bot_configs SET desired_state = 'running' WHERE bot_id = \(Self.bot)", logger: testLogger)
            #expect(try await eventually(timeout: .seconds(60)) { (try? await Self.activeGauge(secondBase)) == 1 },
                    "the started bot did not trade again: \(second.stderr.suffix(2000))")
            let activeStop = try #require(try await second.stop(timeout: .seconds(20)))
            #expect(activeStop.status == 0, "\(activeStop.stderr.suffix(1000))")
            _ = try await relay.stop()
            _ = try await dataProcess.stop()
        }
    }
}
