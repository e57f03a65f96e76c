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
    }

    func run() async throws {
        let identity = ServiceIdentity.executor
        let limits = try limits()
        let endpoint = try endpoint()
        let recvWindow = recvWindow
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
            let placer = OrderPlacer(rest: rest, logger: logger, rules: rules, connect: { try await Database.connect(url, logger: logger) },
                                     executed: { market.balancesChanged() })
            let flattener = Flattener(rest: rest, logger: logger, rules: rules, accepted: { id in placer.accepted(id) })
            let intake = IntentIntake(limits: limits, logger: logger, market: { symbol throws(GordonError) in
                try await market.snapshot(symbol)
            }, accepted: { id in placer.accepted(id) })
            var consumerConfig = EventConsumer.Configuration(durableName: "gordon-executor-intents", filterSubject: "gordon.intent.*")
            // One intent per fetch: each is checked the moment it arrives.
            consumerConfig.batchSize = 1
            // An intent a killed executor fetched but never acknowledged comes back this soon.
            consumerConfig.ackWait = .seconds(10)
            let consumer = EventConsumer(configuration: consumerConfig, jetStream: context.jetStream, logger: logger) {
                try await Database.connect(url, logger: logger)
            }
            try await consumer.ensureConsumer()
            // Risk commands: the flatten, which the halt latch does not stop.
            var riskConfig = EventConsumer.Configuration(durableName: "gordon-executor-risk", filterSubject: "gordon.risk.command.>")
            riskConfig.batchSize = 1
            riskConfig.ackWait = .seconds(30)
            let risk = EventConsumer(configuration: riskConfig, jetStream: context.jetStream, logger: logger) {
                try await Database.connect(url, logger: logger)
            }
            try await risk.ensureConsumer()
            context.readiness.add("exchange") { try await rest.ping() }
            ExecutorMetrics.export(intake: intake, placer: placer, consumer: consumer, to: context.metrics)
            context.metrics.sampledGauge(name: "gordon_executor_flatten_sells", help: "Market sells placed by emergency flattens") {
                Double(flattener.statistics.sells)
            }
            context.metrics.sampledGauge(name: "gordon_executor_flatten_dust_positions", help: "Positions a flatten left below one lot") {
                Double(flattener.statistics.dustPositions)
            }
            return [IntakeService(consumer: consumer, handle: intake.handle), IntakeService(consumer: risk, handle: flattener.handle),
                    PlacerService(placer: placer)]
        }
    }
}

/// One durable consumer and its handler.
struct IntakeService: Service {
    let consumer: EventConsumer
    let handle: @Sendable (AnyEvent, PostgresConnection) async throws -> Void

    func run() async throws {
        await cancelWhenGracefulShutdown { await consumer.run { event, connection in try await handle(event, connection) } }
    }
}

struct PlacerService: Service {
    let placer: OrderPlacer

    func run() async throws {
        await cancelWhenGracefulShutdown { await placer.run() }
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
        ]
        for (name, help, read) in placements {
            metrics.sampledGauge(name: name, help: help) { read(placer.statistics) }
        }
        metrics.sampledGauge(name: "gordon_executor_intents_dead_lettered", help: "Intents that could not be handled and went to trading.dead_letters") {
            Double(consumer.statistics.deadLettered)
        }
    }
}
