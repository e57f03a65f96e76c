import BinanceSim
import Foundation
import GordonBus
import GordonDomain
import GordonExchange
import GordonKernel
import GordonNATS
import GordonPostgres
import GordonProtocol
import GordonStrategy
import GordonTestDB
import PostgresNIO
import Testing

/// gordon-executor's view of the account kept true: the user data stream books an order that
/// rests on the book the moment it fills; what the stream could not see (the executor was
/// down) is booked by the reconciliation at start; an order placed by hand is reported and
/// left alone; an intent the executor gave up on (dead-lettered) gets a verdict, so its bot
/// is not left waiting.
@Suite("gordon-executor: the user data stream and reconciliation", .serialized)
struct ExecutorReconciliationTests {
    @Test("an order resting on the book is booked from the user data stream when it fills, with no reconciliation")
    func restingOrderBookedFromTheStream() async throws {
        try await ExecutorWorld().run { world in
            let base = try await world.startExecutor(reconcileEvery: 3600)
            // The run at start and the one after the stream connected; no other until the hour.
            #expect(try await eventually(timeout: .seconds(30)) { try await world.metric(base, "gordon_executor_reconciliations") == 2 })
            let (price, steps) = world.restingBuyPrice()
            try await world.intent("rest-1", type: .limit, quantity: "0.01", price: price)
            #expect(try await eventually(timeout: .seconds(30)) { try await world.status("rest-1") == "NEW" })
            #expect(world.simulator.openOrders().count == 1, "the order rests on the book")

            world.simulator.advance(steps: steps)
            #expect(try await eventually(timeout: .seconds(20)) { try await world.status("rest-1") == "FILLED" })
            #expect(try await world.scalar("SELECT count(*)::int FROM trading.trades WHERE client_order_id = 'rest-1'") == 1)
            try await world.expectBookMatchesAccount()
            #expect(try await world.metric(base, "gordon_executor_user_stream_fills") == 1, "the stream booked the trade")
            #expect(try await world.metric(base, "gordon_executor_reconciliation_advanced_orders") == 0, "reconciliation did not need to")
            #expect(try await world.metric(base, "gordon_executor_reconciliations") == 2, "\(world.executorLog)")
            #expect(try await world.scalar("SELECT count(*)::int FROM trading.fill_events") == 1, "one fill event for the bot")
        }
    }

    @Test("a fill while the executor was down is booked by the reconciliation at its start")
    func fillMissedWhileDownBookedAtStart() async throws {
        try await ExecutorWorld().run { world in
            _ = try await world.startExecutor(reconcileEvery: 3600)
            let (price, steps) = world.restingBuyPrice()
            try await world.intent("gap-1", type: .limit, quantity: "0.01", price: price)
            #expect(try await eventually(timeout: .seconds(30)) { try await world.status("gap-1") == "NEW" })
            try await world.stopExecutor()

            world.simulator.advance(steps: steps)
            #expect(world.simulator.openOrders().isEmpty, "the order filled on the exchange")
            #expect(try await world.status("gap-1") == "NEW", "nobody has told Gordon yet")

            let base = try await world.startExecutor(reconcileEvery: 3600)
            #expect(try await eventually(timeout: .seconds(30)) { try await world.status("gap-1") == "FILLED" })
            #expect(try await world.scalar("SELECT count(*)::int FROM trading.trades WHERE client_order_id = 'gap-1'") == 1)
            try await world.expectBookMatchesAccount()
            // Counted when the reconciliation's run ends, which is after it recorded the fill:
            // on a loaded host the status can be read between the two.
            #expect(try await eventually(timeout: .seconds(20)) {
                try await world.metric(base, "gordon_executor_reconciliation_advanced_orders") == 1
            })
            #expect(try await world.metric(base, "gordon_executor_user_stream_fills") == 0)
            #expect(try await eventually(timeout: .seconds(20)) { await BotProcessTests.isReady(base) }, "ready: stream up, reconciled")
        }
    }

    @Test("while the user data stream is down the executor is not ready; its return is followed by a reconciliation")
    func streamDownIsNotReady() async throws {
        try await ExecutorWorld().run { world in
            let base = try await world.startExecutor(reconcileEvery: 3600)
            #expect(try await eventually(timeout: .seconds(30)) { await BotProcessTests.isReady(base) })
            #expect(try await eventually(timeout: .seconds(30)) { try await world.metric(base, "gordon_executor_reconciliations") == 2 })
            // Every new connection hangs in its upgrade and is then refused: the stream stays down.
            world.simulator.updateFaults { $0.stalledStreamUpgrades = 1000; $0.upgradeStallMilliseconds = 100 }
            #expect(world.simulator.dropStreamConnections() == 1)
            #expect(try await eventually(timeout: .seconds(30)) { try await BotProcessTests.get(base + "/readyz").0 == 503 })
            let (_, readiness) = try await BotProcessTests.get(base + "/readyz")
            #expect(readiness.contains("user data stream is not connected"), "\(readiness)")
            #expect(try await world.metric(base, "gordon_executor_user_stream_up") == 0)
            world.simulator.updateFaults { $0.stalledStreamUpgrades = 0 }
            #expect(try await eventually(timeout: .seconds(60)) { await BotProcessTests.isReady(base) })
            #expect(try await eventually(timeout: .seconds(30)) { try await world.metric(base, "gordon_executor_reconciliations") == 3 },
                    "the reconnect asks for a reconciliation")
        }
    }

    @Test("an order placed by hand is reported by the stream and the reconciliation, and left alone")
    func handPlacedOrderReportedAndLeftAlone() async throws {
        try await ExecutorWorld().run { world in
            let base = try await world.startExecutor(reconcileEvery: 1)
            #expect(try await eventually(timeout: .seconds(30)) { await BotProcessTests.isReady(base) })
            let (price, _) = world.restingBuyPrice()
            let byHand = try ClientOrderId("by-hand-1")
            _ = try await world.handClient().placeOrder(NewOrder(symbol: world.symbol, side: .buy, type: .limit, timeInForce: .gtc,
                                                                 quantity: try Quantity(parsing: "0.002"), price: price, clientOrderId: byHand))
            #expect(try await eventually(timeout: .seconds(20)) {
                try await world.metric(base, "gordon_executor_reconciliation_unknown_orders") == 1
            })
            #expect(try await world.metric(base, "gordon_executor_user_stream_unknown_orders") == 1)
            #expect(world.simulator.openOrders().map(\.clientOrderId) == ["by-hand-1"], "left alone: still open")
            #expect(world.simulator.requestLog.allSatisfy { $0.path != "/api/v3/order" || $0.method != "DELETE" }, "never cancelled")
            #expect(try await world.scalar("SELECT count(*)::int FROM trading.orders") == 0, "no record of it")
            // Published once, however many reconciliations find it again; its end is published too.
            let published = try await world.reconciliationEvents()
            #expect(published.count == 1, "\(published)")
            #expect(published.first?.foreignOrders.map(\.clientOrderId) == [byHand])
            #expect(published.first?.isClean == false)
            let runs = try await world.metric(base, "gordon_executor_reconciliations")
            #expect(try await eventually(timeout: .seconds(20)) { try await world.metric(base, "gordon_executor_reconciliations") >= runs + 2 })
            #expect(try await world.reconciliationEvents().count == 1)
            _ = try await world.handClient().cancelOrder(symbol: world.symbol, clientOrderId: byHand)
            #expect(try await eventually(timeout: .seconds(20)) { try await world.reconciliationEvents().count == 2 })
            #expect(try await world.reconciliationEvents().last?.isClean == true)
        }
    }

    @Test("an intent the executor dead-lettered is refused with the reason, so its bot does not wait forever")
    func deadLetteredIntentRefused() async throws {
        try await ExecutorWorld().run { world in
            let base = try await world.startExecutor(reconcileEvery: 1)
            // No such symbol on the exchange: every delivery fails until the consumer gives up.
            try await world.intent("dead-1", symbol: try Symbol("NOSUCHUSDT"), type: .market, quantity: "1")
            let refused = try await eventually(timeout: .seconds(60)) { try await world.status("dead-1").hasPrefix("REJECTED dead-lettered:") }
            let status = try await world.status("dead-1")
            #expect(refused, "the intent's order: '\(status)'; \(world.executorLog)")
            #expect(try await world.scalar("SELECT count(*)::int FROM trading.dead_letters WHERE consumer = 'gordon-executor-intents'") == 1)
            #expect(try await world.metric(base, "gordon_executor_dead_lettered_intents_refused") == 1)
            // The refusal reaches the bot like any other: an order update on its subject.
            #expect(try await world.scalar("SELECT count(*)::int FROM trading.outbox WHERE subject = 'gordon.exec.order.\(ExecutorWorld.bot)'") == 1)
        }
    }

    @Test("halted: orders an earlier executor accepted but may not have sent are looked up, booked if placed, refused once they can no longer arrive, never sent")
    func haltedPendingOrdersAreNeverSent() async throws {
        try await ExecutorWorld().run { world in
            let (price, _) = world.restingBuyPrice()
            // What a killed executor left: three accepted orders, none answered.
            for (id, age) in [("left-old", 120), ("left-young", 0), ("left-placed", 120)] {
                try await world.pendingOrder(id, price: price, ageSeconds: age)
            }
            // The earlier executor's send of one of them did land.
            _ = try await world.handClient().placeOrder(NewOrder(symbol: world.symbol, side: .buy, type: .limit, timeInForce: .gtc,
                                                                 quantity: try Quantity(parsing: "0.01"), price: price,
                                                                 clientOrderId: try ClientOrderId("left-placed")))
            try await world.halt()
            let base = try await world.startExecutor(reconcileEvery: 3600)
            #expect(try await eventually(timeout: .seconds(30)) {
                try await world.status("left-old").hasPrefix("REJECTED halted: never placed")
            }, "\(world.executorLog)")
            #expect(try await eventually(timeout: .seconds(30)) { try await world.status("left-placed") == "NEW" }, "booked, not refused")
            #expect(try await eventually(timeout: .seconds(30)) { await BotProcessTests.isReady(base) })
            // Two placement rounds later the young one still waits: an earlier send could still arrive.
            let rounds = try await world.metric(base, "gordon_executor_placement_rounds")
            #expect(try await eventually(timeout: .seconds(30)) { try await world.metric(base, "gordon_executor_placement_rounds") >= rounds + 2 })
            #expect(try await world.status("left-young") == "PENDING_NEW")
            #expect(world.simulator.placements(of: "left-old") == 0 && world.simulator.placements(of: "left-young") == 0, "nothing sent while halted")
            #expect(world.simulator.placements(of: "left-placed") == 1)
        }
    }
}

/// gordon-executor and its relay against a simulator, nats-server and a test database; the
/// test publishes intents as a bot would.
final class ExecutorWorld: @unchecked Sendable {
    static let bot = "recon-a"
    static let preload = 40

    let symbol: Symbol
    let series: BarSeries
    let simulator: BinanceSimulator
    private let apiKey: String
    private let apiSecret: String
    private(set) var admin: PostgresConnection!
    private(set) var database: TestDatabase!
    private(set) var simURL = ""
    private var publisher: JetStreamEventPublisher!
    private var executor: TestCommand?
    private var executorArguments: [String] = []
    private var directory = ""
    private var natsURL = ""

    init() throws {
        symbol = try Symbol("BTCUSDT")
        series = SyntheticMarket(seed: 5, startPrice: 30_000, priceDecimals: 2)
            .generate(count: Self.preload + 60, symbol: symbol, interval: .oneMinute, startOpenTime: 1_704_067_200_000)
        apiKey = (0..<4).map { _ in String(UInt64.random(in: 0...UInt64.max), radix: 16) }.joined()
        apiSecret = (0..<4).map { _ in String(UInt64.random(in: 0...UInt64.max), radix: 16) }.joined()
        simulator = BinanceSimulator(
            configuration: SimConfiguration(symbols: [try SimConfiguration.spotSymbol(symbol)], balances: [try Asset("USDT"): 10_000],
                                            apiKeys: [SimAPIKey(apiKey: apiKey, secretKey: Secret(apiSecret))]),
            feed: try SimMarketFeed(series: [series], preloaded: Self.preload))
    }

    func run(_ body: (ExecutorWorld) async throws -> Void) async throws {
        let (simPort, simServer) = try await SimHTTPServer(simulator: simulator, port: 0, logger: testLogger).start()
        defer { simServer.cancel() }
        simURL = "http://127.0.0.1:\(simPort)"
        let natsServer = try await TestNATSServer()
        let nats = try await NATSClient.connect(try NATSClientOptions(urls: [natsServer.url], name: "executor-world"), logger: testLogger)
        let jetStream = JetStream(client: nats)
        try await GordonStream.ensure(jetStream)
        defer { Task { await nats.close(); await natsServer.stop() } }
        publisher = JetStreamEventPublisher(jetStream: jetStream)
        try await withTestDatabase { database in
            self.database = database
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("gordon-executor-world-\(UUID().uuidString)").path
            self.directory = directory
            natsURL = natsServer.url
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: directory) }
            admin = try await database.connect()
            defer { Task { [admin] in try? await admin?.close() } }
            try await admin.query("""
                INSERT INTO trading.bot_configs (bot_id, strategy, symbols, interval, desired_state, max_quote_exposure)
                VALUES (\(Self.bot), 'sma_crossover', '{BTCUSDT}', '1m', 'running', 1000)
                """, logger: testLogger)
            try await admin.query("UPDATE trading.halt_latch SET halted = false, reason = 'test', changed_by = 'operator:test'", logger: testLogger)
            let key = try BotProcessTests.keyfile(directory, "gordon-executor", try await database.url(as: .executor),
                                                  extra: "binance_api_key = \(apiKey)\nbinance_api_secret = \(apiSecret)\n")
            let common = ["--nats-url", natsServer.url, "--http-port", "0"]
            executorArguments = ["--database-url", key.databaseURL, "--keyfile", key.keyfile, "--binance", simURL,
                                 "--max-order-notional", "2000", "--max-position-notional", "2000", "--max-gross-exposure", "5000"] + common
            let (relay, _) = try await BotProcessTests.start("gordon-outbox-relay", ["--database-url", key.databaseURL, "--keyfile", key.keyfile] + common)
            try await body(self)
            try await stopExecutor()
            let stopped = try #require(try await relay.stop(timeout: .seconds(20)))
            #expect(stopped.status == 0)
        }
    }

    /// Starts gordon-executor; returns its base URL.
    func startExecutor(reconcileEvery seconds: Int) async throws -> String {
        let (process, base) = try await BotProcessTests.start("gordon-executor", executorArguments + ["--reconcile-every", "\(seconds)"])
        executor = process
        return base
    }

    /// gordon-risk with `arguments` (its thresholds) and its outbox relay; the relay is
    /// stopped by the caller, risk too (or killed).
    func startRisk(_ arguments: [String], relay startRelay: Bool = true) async throws -> (risk: TestCommand, base: String, relay: TestCommand?) {
        let url = try await database.url(as: .risk)
        let keyfile = "\(directory)/gordon-risk.key"
        let key = FileManager.default.fileExists(atPath: keyfile)
            ? (keyfile: keyfile, databaseURL: url.with(username: url.username, password: nil).description)
            : try BotProcessTests.keyfile(directory, "gordon-risk", url)
        let common = ["--database-url", key.databaseURL, "--keyfile", key.keyfile, "--nats-url", natsURL, "--http-port", "0"]
        let relay = startRelay ? try await BotProcessTests.start("gordon-outbox-relay", common).0 : nil
        let (risk, base) = try await BotProcessTests.start("gordon-risk", common + arguments)
        return (risk, base, relay)
    }

    /// Everything the bot held is sold to below BTCUSDT's lot size, and the account holds
    /// exactly what the book says is left.
    func expectSoldToDust(_ what: String, sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let left = try ExactDecimal(parsing: try await BotProcessTests.text(admin, "SELECT quantity::text FROM trading.positions WHERE bot_id = '\(Self.bot)'"))
        #expect(left < ExactDecimal(significand: 1, scale: 5), "\(what): \(left)", sourceLocation: sourceLocation)
        let account = simulator.balances().first { $0.asset.rawValue == "BTC" }.map { $0.free + $0.locked } ?? .zero
        #expect(account == left, "the account holds what the book says: \(account) vs \(left)", sourceLocation: sourceLocation)
    }

    /// Whether the running executor has logged `text`.
    func executorLogged(_ text: String) -> Bool { executor?.stderr.contains(text) ?? false }

    /// The end of the running executor's log, for a failure's message.
    var executorLog: String { executor.map { String($0.stderr.suffix(3000)) } ?? "" }

    /// SIGTERM, as the watchdog stops it: exit 0.
    func stopExecutor() async throws {
        guard let process = executor else { return }
        executor = nil
        let stopped = try #require(try await process.stop(timeout: .seconds(20)))
        #expect(stopped.status == 0, "\(stopped.stderr.suffix(1500))")
    }

    /// A buy price below the market that a coming kline reaches, and how many klines to
    /// publish until it has.
    func restingBuyPrice() -> (Price, Int) {
        let last = series.close[Self.preload - 1]
        for index in Self.preload..<series.count where series.low[index] < last * 0.998 {
            return (series.exactPrice(series.low[index]), index - Self.preload + 1)
        }
        fatalError("the synthetic series never dips 0.2 % below its last preloaded close")
    }

    /// A buy intent as a bot makes one: recorded (orders reference it), then published.
    /// Sized in the base asset (`quantity`) or, for a market order, in the quote (`quote`).
    func intent(_ id: String, symbol: Symbol? = nil, type: OrderType, quantity: String? = nil, quote: String? = nil,
                price: Price? = nil) async throws {
        let intent = try OrderIntentEvent(intentId: try ClientOrderId(id), botId: try BotId(Self.bot), symbol: symbol ?? self.symbol, side: .buy,
                                          orderType: type, timeInForce: type == .limit ? .gtc : nil, price: price,
                                          quantity: try quantity.map { text throws(GordonError) in try Quantity(parsing: text) },
                                          quoteOrderQuantity: try quote.map { text throws(GordonError) in try Quantity(parsing: text) },
                                          reason: "test entry", createdAt: Timestamp(milliseconds: simulator.serverTime))
        let envelope = EventEnvelope(payload: intent, source: .bot, traceId: TraceId.random(), occurredAt: intent.createdAt, ids: EventIdGenerator())
        try await admin.query("""
            INSERT INTO trading.order_intents (intent_id, event_id, trace_id, bot_id, symbol, side, order_type, time_in_force, price, quantity,
                                               quote_order_quantity, reason)
            VALUES (\(id), \(envelope.eventId.string)::uuid, \(envelope.traceId.hex), \(Self.bot), \(intent.symbol.rawValue), 'BUY',
                    \(type.rawValue), \(intent.timeInForce?.rawValue), \(price?.value.description)::numeric, \(quantity)::numeric,
                    \(quote)::numeric, 'test entry')
            """, logger: testLogger)
        try await publish(envelope)
    }

    /// An emergency flatten of every bot, as gordon-risk publishes one (a new command each call).
    func flatten(reason: String) async throws {
        let command = try RiskCommandEvent(command: .flatten, target: .all, reason: reason, issuedBy: .operatorNamed("alice"),
                                           issuedAt: Timestamp(milliseconds: simulator.serverTime))
        try await publish(EventEnvelope(payload: command, source: .risk, traceId: TraceId.random(), occurredAt: command.issuedAt,
                                        ids: EventIdGenerator()))
    }

    /// Publishes an event on the stream as its service would.
    func publish<Payload: EventPayload>(_ envelope: EventEnvelope<Payload>) async throws {
        _ = try await publisher.publish(envelope)
    }

    /// An intent and the PENDING_NEW order an executor recorded for it `ageSeconds` ago.
    func pendingOrder(_ id: String, price: Price, ageSeconds: Int) async throws {
        try await admin.query("""
            INSERT INTO trading.order_intents (intent_id, event_id, trace_id, bot_id, symbol, side, order_type, time_in_force, price, quantity,
                                               reason, created_at)
            VALUES (\(id), gen_random_uuid(), \(TraceId.random().hex), \(Self.bot), 'BTCUSDT', 'BUY', 'LIMIT', 'GTC',
                    \(price.value.description)::numeric, 0.01, 'test entry', now() - make_interval(secs => \(ageSeconds)))
            """, logger: testLogger)
        try await admin.query("""
            INSERT INTO trading.orders (client_order_id, bot_id, symbol, side, order_type, time_in_force, price, quantity, status, created_at)
            VALUES (\(id), \(Self.bot), 'BTCUSDT', 'BUY', 'LIMIT', 'GTC', \(price.value.description)::numeric, 0.01, 'PENDING_NEW',
                    now() - make_interval(secs => \(ageSeconds)))
            """, logger: testLogger)
    }

    func halt() async throws {
        try await admin.query("UPDATE trading.halt_latch SET halted = true, reason = 'drawdown', changed_by = 'breaker:drawdown'", logger: testLogger)
    }

    /// The order's status, with the reason of a refusal; empty while there is no order.
    func status(_ id: String) async throws -> String {
        try await BotProcessTests.text(admin, "SELECT coalesce((SELECT status || coalesce(' ' || reject_reason, '') FROM trading.orders WHERE client_order_id = '\(id)'), '')")
    }

    func scalar(_ sql: String) async throws -> Int { try await BotProcessTests.scalar(admin, sql) }

    /// The reconciliation findings the executor queued for the bus, oldest first.
    func reconciliationEvents() async throws -> [ReconciliationEvent] {
        var events: [ReconciliationEvent] = []
        for try await payload in try await admin.query("SELECT payload FROM trading.outbox WHERE subject = 'gordon.exec.reconciliation' ORDER BY id",
                                                       logger: testLogger).decode(ByteBuffer.self) {
            events.append(try EventCodec().decode(ReconciliationEvent.self, from: Array(buffer: payload)).payload)
        }
        return events
    }

    /// The bot's position is what the account holds of the base asset.
    func expectBookMatchesAccount() async throws {
        let book = try ExactDecimal(parsing: try await BotProcessTests.text(admin, "SELECT coalesce((SELECT quantity::text FROM trading.positions WHERE bot_id = '\(Self.bot)'), '0')"))
        let account = simulator.balances().first { $0.asset.rawValue == "BTC" }.map { $0.free + $0.locked } ?? .zero
        #expect(book.isPositive && book == account, "book \(book), account \(account)")
    }

    /// A sample of the executor's `/metrics` (-1 when absent).
    func metric(_ base: String, _ name: String) async throws -> Double {
        let (_, body) = try await BotProcessTests.get(base + "/metrics")
        for line in body.split(separator: "\n") where line.hasPrefix(name + " ") {
            return Double(line.split(separator: " ").last.map(String.init) ?? "") ?? -1
        }
        return -1
    }

    /// A client with the executor's keys, as an operator at the exchange's website would act.
    func handClient() throws -> BinanceRESTClient {
        let credentials = try BinanceCredentials(apiKey: Secret(apiKey), secretKey: Secret(apiSecret))
        return BinanceRESTClient(configuration: try BinanceClientConfiguration(endpoint: try BinanceEndpoint(parsing: simURL), credentials: credentials),
                                 logger: testLogger)
    }
}
