import ArgumentParser
import GordonBus
import GordonCommandLine
import GordonDomain
import GordonExchange
import GordonExecutor
import GordonKernel
import GordonNATS
import GordonPlatform
import GordonPostgres
import GordonProtocol
import Logging
import PostgresNIO
import ServiceLifecycle

/// gordon-executor: the only process with trading keys. Consumes the bots' order intents,
/// checks each against the halt latch, the bot's desired state and Gordon's limits, records
/// the verdict, places accepted orders under the intent id as client order id (never twice),
/// and records orders, trades and positions, announcing them to the bots through its outbox.
@main
struct GordonExecutorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gordon-executor",
        abstract: "Place the bots' order intents on Binance (or BinanceSim), exactly once, and record what happened.")

    @OptionGroup var service: ServiceOptions

    @Option(help: "Binance: live, testnet, or http://HOST:PORT of a simulator")
    var binance = "live"

    @Option(help: "Largest notional of one order, in the quote asset")
    var maxOrderNotional = TradingLimits.safeDefaults.maxOrderNotional.description

    @Option(help: "Largest value of one bot's position in a symbol, open orders included")
    var maxPositionNotional = TradingLimits.safeDefaults.maxPositionNotional.description

    @Option(help: "Most open orders one bot may have")
    var maxOpenOrders = TradingLimits.safeDefaults.maxOpenOrders

    @Option(help: "Largest value of every bot's positions together")
    var maxGrossExposure = TradingLimits.safeDefaults.maxGrossExposure.description

    @Option(help: "How long a signed request stays valid, in milliseconds (Binance's recvWindow)")
    var recvWindow: Int64 = 5000

    @Option(help: "Seconds between reconciliations with the exchange (also run on start, after each user-stream reconnect and each unknown outcome)")
    var reconcileEvery = 60

    @Option(help: "How the account's user data stream is subscribed: websocket-api (live Binance) or listen-key")
    var userStream = "websocket-api"

    static func main() async {
        await CommandLineEntry.main(GordonExecutorCommand.self, failureStatus: 1)
    }

    func limits() throws -> TradingLimits {
        func amount(_ text: String, _ name: String) throws -> ExactDecimal {
            guard let value = try? ExactDecimal(parsing: text), value.isPositive else { throw ValidationError("\(name): '\(text)' is not a positive decimal") }
            return value
        }
        guard maxOpenOrders >= 1 else { throw ValidationError("--max-open-orders must be at least 1") }
        return TradingLimits(maxOrderNotional: try amount(maxOrderNotional, "--max-order-notional"),
                             maxPositionNotional: try amount(maxPositionNotional, "--max-position-notional"),
                             maxOpenOrders: maxOpenOrders, maxGrossExposure: try amount(maxGrossExposure, "--max-gross-exposure"))
    }

    func endpoint() throws -> BinanceEndpoint {
        do { return try BinanceEndpoint(parsing: binance) } catch { throw ValidationError("--binance: \(error.message)") }
    }

    func validate() throws {
        _ = try limits()
        _ = try endpoint()
        guard (1...60_000).contains(recvWindow) else { throw ValidationError("--recv-window must be between 1 and 60000") }
        guard (1...3600).contains(reconcileEvery) else { throw ValidationError("--reconcile-every must be between 1 and 3600 seconds") }
        _ = try transport()
    }

    func transport() throws -> UserDataTransport {
        switch userStream {
        case "websocket-api": return .webSocketAPI
        case "listen-key": return .listenKey
        default: throw ValidationError("--user-stream: '\(userStream)' is neither websocket-api nor listen-key")
        }
    }

    func run() async throws {
        let identity = ServiceIdentity.executor
        let limits = try limits()
        let endpoint = try endpoint()
        let recvWindow = recvWindow
        let transport = try transport()
        var reconcilerConfig = Reconciler.Configuration()
        reconcilerConfig.every = .seconds(reconcileEvery)
        await GordonService.main(identity, configuration: { try service.configuration(identity, defaultPort: 8085) }) { context in
            let logger = context.logger
            let credentials = try BinanceCredentials(keyfile: context.keyfile)
            let rest = BinanceRESTClient(configuration: try BinanceClientConfiguration(endpoint: endpoint, credentials: credentials,
                                                                                       recvWindowMilliseconds: recvWindow),
                                         logger: logger)
            _ = try await rest.synchronizeClock()
            let execution = BinanceExecution(rest: rest) { _ in try! BotId("unknown") }
            let url = context.databaseURL
            let rules: @Sendable (Symbol) async throws(GordonError) -> BinanceExecution.SymbolRules? = { symbol throws(GordonError) in
                if let known = execution.rules(for: symbol) { return known }
                return try await execution.loadRules(for: [symbol])[symbol]
            }
            let market = MarketSnapshot(price: { symbol throws(GordonError) in try await rest.tickerPrice(symbol: symbol) }, balances: {
                () throws(GordonError) in
                var free: [Asset: ExactDecimal] = [:]
                for balance in try await execution.balances() { free[balance.asset] = balance.free }
                return free
            })
            let reconciler = Reconciler(rest: rest, execution: execution, configuration: reconcilerConfig, logger: logger, rules: rules) {
                try await Database.connect(url, logger: logger)
            }
            let placer = OrderPlacer(rest: rest, logger: logger, rules: rules, connect: { try await Database.connect(url, logger: logger) },
                                     executed: { market.balancesChanged() }, outcomeUnknown: { reconciler.trigger(.outcomeUnknown) })
            let recorder = UserStreamRecorder(logger: logger, connect: { try await Database.connect(url, logger: logger) },
                                              reconnected: { reconciler.trigger(.streamReconnected) }, executed: { market.balancesChanged() })
            let userStream = BinanceUserDataStream(rest: rest, transport: transport, logger: logger)
            let flattener = Flattener(rest: rest, logger: logger, rules: rules, placer: placer)
            let intake = IntentIntake(limits: limits, logger: logger, market: { symbol throws(GordonError) in
                try await market.snapshot(symbol)
            }, accepted: { id in placer.accepted(id) })
            var consumerConfig = EventConsumer.Configuration(durableName: "gordon-executor-intents", filterSubject: "gordon.intent.*")
            // One intent per fetch: each is checked the moment it arrives.
            consumerConfig.batchSize = 1
            // An intent a killed executor fetched but never acknowledged comes back this soon.
            consumerConfig.ackWait = .seconds(10)
            // A batch stuck on a connection that hangs (PostgreSQL killed as a query is sent) is
            // given up this soon and redelivered: an intent or a flatten is not held for minutes.
            consumerConfig.batchTimeout = .seconds(30)
            let consumer = EventConsumer(configuration: consumerConfig, jetStream: context.jetStream, logger: logger) {
                try await Database.connect(url, logger: logger)
            }
            try await consumer.ensureConsumer()
            // Risk commands: the flatten, which the halt latch does not stop.
            var riskConfig = EventConsumer.Configuration(durableName: "gordon-executor-risk", filterSubject: "gordon.risk.command.>")
            riskConfig.batchSize = 1
            riskConfig.ackWait = .seconds(30)
            riskConfig.batchTimeout = .seconds(30)
            let risk = EventConsumer(configuration: riskConfig, jetStream: context.jetStream, logger: logger) {
                try await Database.connect(url, logger: logger)
            }
            try await risk.ensureConsumer()
            context.readiness.add("exchange") { try await rest.ping() }
            context.readiness.add("user stream") {
                guard recorder.statistics.up else { throw GordonError(.exchangeUnavailable, "the user data stream is not connected") }
            }
            context.readiness.add("reconciled") {
                guard reconciler.statistics.reconciled else { throw GordonError(.exchangeUnavailable, "no reconciliation has completed yet") }
            }
            ExecutorMetrics.export(intake: intake, placer: placer, consumer: consumer, to: context.metrics)
            ExecutorMetrics.export(reconciler: reconciler, recorder: recorder, userStream: userStream, rest: rest, to: context.metrics)
            context.metrics.sampledGauge(name: "gordon_executor_flatten_sells", help: "Market sells placed by emergency flattens") {
                Double(flattener.statistics.sells)
            }
            context.metrics.sampledGauge(name: "gordon_executor_flatten_dust_positions", help: "Positions a flatten left below one lot") {
                Double(flattener.statistics.dustPositions)
            }
            context.metrics.sampledGauge(name: "gordon_executor_flatten_withdrawn_orders",
                                         help: "Pending orders a flatten refused before they were sent") {
                Double(flattener.statistics.withdrawn)
            }
            return [IntakeService(consumer: consumer, handle: intake.handle, placer: placer),
                    IntakeService(consumer: risk, handle: flattener.handle, placer: placer),
                    PlacerService(placer: placer), ReconcilerService(reconciler: reconciler),
                    UserStreamService(stream: userStream, recorder: recorder)]
        }
    }
}

/// One durable consumer and its handler; the placer is woken once what a handler accepted
/// has committed (woken earlier, it would find nothing yet and wait for its next poll).
struct IntakeService: Service {
    let consumer: EventConsumer
    let handle: @Sendable (AnyEvent, PostgresConnection) async throws -> Void
    let placer: OrderPlacer

    func run() async throws {
        await cancelWhenGracefulShutdown {
            await consumer.run({ event, connection in try await handle(event, connection) }, committed: { _ in placer.wake() })
        }
    }
}

struct PlacerService: Service {
    let placer: OrderPlacer

    func run() async throws {
        await cancelWhenGracefulShutdown { await placer.run() }
    }
}

struct ReconcilerService: Service {
    let reconciler: Reconciler

    func run() async throws {
        await cancelWhenGracefulShutdown { await reconciler.run() }
    }
}

/// The account's user data stream, kept up until shutdown; each report is recorded in turn.
struct UserStreamService: Service {
    let stream: BinanceUserDataStream
    let recorder: UserStreamRecorder

    func run() async throws {
        await cancelWhenGracefulShutdown {
            await stream.run { output in await recorder.deliver(output) }
        }
        recorder.streamEnded()
        await recorder.close()
    }
}

enum ExecutorMetrics {
    static func export(intake: IntentIntake, placer: OrderPlacer, consumer: EventConsumer, to metrics: MetricsRegistry) {
        metrics.sampledGauge(name: "gordon_executor_intents_accepted", help: "Intents that passed the pre-trade checks") {
            Double(intake.statistics.accepted)
        }
        for code in PreTradeRefusal.Code.allCases {
            metrics.sampledGauge(name: "gordon_executor_intents_refused", help: "Intents refused by Gordon's checks, by reason",
                                 labels: [("reason", code.rawValue)]) { Double(intake.statistics.refused[code] ?? 0) }
        }
        let placements: [(String, String, @Sendable (OrderPlacer.Counters) -> Double)] = [
            ("gordon_executor_orders_placed", "Orders the exchange accepted", { Double($0.placed) }),
            ("gordon_executor_orders_rejected", "Orders the exchange (or its filters) refused", { Double($0.rejectedByExchange) }),
            ("gordon_executor_orders_outcome_unknown", "Placements whose fate stayed unknown (left pending, resolved later)", { Double($0.outcomeUnknown) }),
            ("gordon_executor_fills", "Trades recorded", { Double($0.fills) }),
            ("gordon_executor_last_placement_milliseconds", "How long the last placement took", { $0.lastPlacementMilliseconds }),
            ("gordon_executor_placement_rounds", "Placement rounds completed (each places every pending order once)", { Double($0.rounds) }),
        ]
        for (name, help, read) in placements {
            metrics.sampledGauge(name: name, help: help) { read(placer.statistics) }
        }
        metrics.sampledGauges(name: "gordon_executor_orders_rejected_by_code", help: "Orders the exchange refused, by Binance's error code") {
            placer.statistics.rejectedByCode.sorted { $0.key < $1.key }.map { (labels: [("code", $0.key)], value: Double($0.value)) }
        }
        metrics.sampledGauge(name: "gordon_executor_intents_dead_lettered", help: "Intents that could not be handled and went to trading.dead_letters") {
            Double(consumer.statistics.deadLettered)
        }
    }
}

extension ExecutorMetrics {
    static func export(reconciler: Reconciler, recorder: UserStreamRecorder, userStream: BinanceUserDataStream, rest: BinanceRESTClient,
                       to metrics: MetricsRegistry) {
        let reconciliation: [(String, String, @Sendable (Reconciler.Counters) -> Double)] = [
            ("gordon_executor_reconciliations", "Reconciliations completed", { Double($0.runs) }),
            ("gordon_executor_reconciliations_failed", "Reconciliations a failed read cut short", { Double($0.failedRuns) }),
            ("gordon_executor_reconciliation_advanced_orders", "Orders recorded further because the exchange had moved them on", { Double($0.advanced) }),
            ("gordon_executor_reconciliation_divergences", "Orders Gordon and the exchange disagree about, at the last reconciliation", { Double($0.lastDivergences) }),
            ("gordon_executor_reconciliation_balance_shortfalls", "Assets the account holds less of than the positions, at the last reconciliation", { Double($0.lastBalanceDivergences) }),
            ("gordon_executor_reconciliation_unknown_orders", "Open orders Gordon did not place, at the last reconciliation", { Double($0.lastUnknownToGordon) }),
            ("gordon_executor_reconciliation_events", "Reconciliation findings published (each time they changed)", { Double($0.published) }),
            ("gordon_executor_dead_lettered_intents_refused", "Dead-lettered intents refused so their bots go on", { Double($0.deadLetteredIntentsRefused) }),
        ]
        for (name, help, read) in reconciliation {
            metrics.sampledGauge(name: name, help: help) { read(reconciler.statistics) }
        }
        let stream: [(String, String, @Sendable (UserStreamRecorder.Counters) -> Double)] = [
            ("gordon_executor_user_stream_up", "1 while the user data stream is connected", { $0.up ? 1 : 0 }),
            ("gordon_executor_user_stream_reports", "executionReports received", { Double($0.reports) }),
            ("gordon_executor_user_stream_fills", "Trades first recorded from the user data stream", { Double($0.fills) }),
            ("gordon_executor_user_stream_unknown_orders", "executionReports of orders Gordon did not place", { Double($0.unknownOrders) }),
        ]
        for (name, help, read) in stream {
            metrics.sampledGauge(name: name, help: help) { read(recorder.statistics) }
        }
        metrics.sampledGauge(name: "gordon_executor_user_stream_drops", help: "User data stream connections lost") { Double(userStream.counters.drops) }
        metrics.sampledGauges(name: "gordon_executor_exchange_used_weight", help: "Request weight used in the exchange's current window, by rule") {
            await rest.limiter.status(now: rest.serverNowMilliseconds).usages.map { (labels: [("rule", "\($0.rule)")], value: Double($0.used)) }
        }
        metrics.sampledGauge(name: "gordon_executor_exchange_banned", help: "1 while the exchange bans this IP (HTTP 418)") {
            await rest.limiter.status(now: rest.serverNowMilliseconds).bannedUntilMs == nil ? 0 : 1
        }
    }
}
