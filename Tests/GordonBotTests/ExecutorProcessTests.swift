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
import PostgresNIO
import Testing

/// gordon-executor alone against the simulator, its intents and risk commands published on
/// the stream as a bot and gordon-risk would: halted, it refuses intents with the reason;
/// a flatten still cancels and sells everything, once.
@Suite("gordon-executor: halted, and the emergency flatten", .serialized)
struct ExecutorProcessTests {
    static let bot = "flat-a"

    @Test("halted: an intent is refused with its reason and never reaches the simulator; a flatten sells the position down to dust, once")
    func haltedThenFlattened() async throws {
        let symbol = try Symbol("BTCUSDT")
        let series = SyntheticMarket(seed: 5, startPrice: 30_000, priceDecimals: 2)
            .generate(count: 80, symbol: symbol, interval: .oneMinute, startOpenTime: 1_704_067_200_000)
        let apiKey = (0..<4).map { _ in String(UInt64.random(in: 0...UInt64.max), radix: 16) }.joined()
        let apiSecret = (0..<4).map { _ in String(UInt64.random(in: 0...UInt64.max), radix: 16) }.joined()
        let simulator = BinanceSimulator(
            configuration: SimConfiguration(symbols: [try SimConfiguration.spotSymbol(symbol)], balances: [try Asset("USDT"): 10_000],
                                            apiKeys: [SimAPIKey(apiKey: apiKey, secretKey: Secret(apiSecret))]),
            feed: try SimMarketFeed(series: [series], preloaded: 40))
        let (simPort, simServer) = try await SimHTTPServer(simulator: simulator, port: 0, logger: testLogger).start()
        defer { simServer.cancel() }
        let natsServer = try await TestNATSServer()
        let nats = try await NATSClient.connect(try NATSClientOptions(urls: [natsServer.url], name: "executor-test"), logger: testLogger)
        let jetStream = JetStream(client: nats)
        try await GordonStream.ensure(jetStream)
        defer { Task { await nats.close(); await natsServer.stop() } }
        let publisher = JetStreamEventPublisher(jetStream: jetStream)

        try await withTestDatabase { database in
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("gordon-executor-test-\(UUID().uuidString)").path
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let admin = try await database.connect()
            defer { Task { try? await admin.close() } }
            try await admin.query("""
                INSERT INTO trading.bot_configs (bot_id, strategy, symbols, interval, desired_state, max_quote_exposure)
                VALUES (\(Self.bot), 'sma_crossover', '{BTCUSDT}', '1m', 'running', 1000)
                """, logger: testLogger)
            try await admin.query("UPDATE trading.halt_latch SET halted = false, reason = 'test', changed_by = 'operator:test'", logger: testLogger)
            let key = try BotProcessTests.keyfile(directory, "gordon-executor", try await database.url(as: .executor),
                                                  extra: "binance_api_key = \(apiKey)\nbinance_api_secret = \(apiSecret)\n")
            let nats = ["--nats-url", natsServer.url, "--http-port", "0"]
            let (executor, _) = try await BotProcessTests.start("gordon-executor", [
                "--database-url", key.databaseURL, "--keyfile", key.keyfile, "--binance", "http://127.0.0.1:\(simPort)",
                "--max-order-notional", "2000", "--max-position-notional", "2000", "--max-gross-exposure", "5000",
            ] + nats)
            let (relay, _) = try await BotProcessTests.start("gordon-outbox-relay", ["--database-url", key.databaseURL, "--keyfile", key.keyfile] + nats)

            func intent(_ id: String, quote: String) async throws {
                let intent = try OrderIntentEvent(intentId: try ClientOrderId(id), botId: try BotId(Self.bot), symbol: symbol, side: .buy,
                                                  orderType: .market, quoteOrderQuantity: try Quantity(parsing: quote), reason: "test entry",
                                                  createdAt: Timestamp(milliseconds: simulator.serverTime))
                let envelope = EventEnvelope(payload: intent, source: .bot, traceId: TraceId.random(), occurredAt: intent.createdAt,
                                             ids: EventIdGenerator())
                // The bot records its intent before its relay publishes it; orders reference it.
                try await admin.query("""
                    INSERT INTO trading.order_intents (intent_id, event_id, trace_id, bot_id, symbol, side, order_type, quote_order_quantity, reason)
                    VALUES (\(id), \(envelope.eventId.string)::uuid, \(envelope.traceId.hex), \(Self.bot), 'BTCUSDT', 'BUY', 'MARKET',
                            \(quote)::numeric, 'test entry')
                    """, logger: testLogger)
                _ = try await publisher.publish(envelope)
            }
            func status(_ id: String) async throws -> String {
                try await BotProcessTests.text(admin, "SELECT coalesce((SELECT status || coalesce(' ' || reject_reason, '') FROM trading.orders WHERE client_order_id = '\(id)'), '')")
            }
            func flatten() async throws {
                let command = try RiskCommandEvent(command: .flatten, target: .all, reason: "drawdown breaker", issuedBy: .operatorNamed("alice"),
                                                   issuedAt: Timestamp(milliseconds: simulator.serverTime))
                _ = try await publisher.publish(EventEnvelope(payload: command, source: .risk, traceId: TraceId.random(),
                                                              occurredAt: command.issuedAt, ids: EventIdGenerator()))
            }

            // Running: an entry fills.
            try await intent("t-buy-1", quote: "600")
            #expect(try await eventually(timeout: .seconds(30)) { try await status("t-buy-1") == "FILLED" })
            let bought = try await BotProcessTests.text(admin, "SELECT quantity::text FROM trading.positions WHERE bot_id = '\(Self.bot)'")
            #expect(try ExactDecimal(parsing: bought).isPositive)

            // Halted: the next intent is refused with the reason, and nothing is sent.
            try await admin.query("UPDATE trading.halt_latch SET halted = true, reason = 'drawdown', changed_by = 'breaker:drawdown'", logger: testLogger)
            try await intent("t-buy-2", quote: "300")
            #expect(try await eventually(timeout: .seconds(30)) { try await status("t-buy-2").hasPrefix("REJECTED halted:") })
            #expect(simulator.placements(of: "t-buy-2") == 0)

            // The flatten is not stopped by the latch: everything held is sold, to below one lot.
            try await flatten()
            #expect(try await eventually(timeout: .seconds(30)) {
                try await BotProcessTests.scalar(admin, "SELECT count(*)::int FROM trading.orders WHERE side = 'SELL' AND status = 'FILLED'") == 1
            }, "no flatten sell: \(executor.stderr.suffix(3000))")
            let left = try ExactDecimal(parsing: try await BotProcessTests.text(admin, "SELECT quantity::text FROM trading.positions WHERE bot_id = '\(Self.bot)'"))
            #expect(left < ExactDecimal(significand: 1, scale: 5), "what is left is below BTCUSDT's lot size: \(left)")
            let account = simulator.balances().first { $0.asset.rawValue == "BTC" }.map { $0.free + $0.locked } ?? .zero
            #expect(account == left, "the account holds what the book says: \(account) vs \(left)")
            let reason = try await BotProcessTests.text(admin, "SELECT reason FROM trading.order_intents WHERE side = 'SELL'")
            #expect(reason == "flatten: drawdown breaker")

            // A second flatten finds only dust: no further order.
            try await flatten()
            #expect(try await eventually(timeout: .seconds(30)) {
                try await BotProcessTests.scalar(admin, "SELECT count(*)::int FROM trading.processed_events WHERE consumer = 'gordon-executor-risk'") == 2
            })
            #expect(try await BotProcessTests.scalar(admin, "SELECT count(*)::int FROM trading.orders WHERE side = 'SELL'") == 1)

            // The executor's role records flatten intents only.
            let executorConnection = try await database.connect(as: .executor)
            defer { Task { try? await executorConnection.close() } }
            #expect(try await BotIsolationTests.sqlState(executorConnection, BotIsolationTests.intent("x-1", bot: Self.bot, event: 9)) == "42501")

            _ = try await relay.stop()
            _ = try await executor.stop()
        }
    }
}
