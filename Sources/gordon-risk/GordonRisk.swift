import ArgumentParser
import GordonBus
import GordonCommandLine
import GordonDomain
import GordonKernel
import GordonPlatform
import GordonPostgres
import GordonProtocol
import GordonRisk
import Logging
import PostgresNIO
import ServiceLifecycle

/// gordon-risk: keeps Gordon compounding without blowing up. Values the bots' book from the
/// executor's records and the closed klines, evaluates five circuit breakers thirty times a
/// second, and on a trip closes the halt latch, orders a flatten or pauses a bot, through its
/// outbox, with every change in `risk_events` and `risk_audit_log`. It holds no exchange keys.
@main
struct GordonRiskCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gordon-risk",
        abstract: "Watch equity, exposure, order rates and the market feed; halt, flatten or pause when a limit is crossed.")

    @OptionGroup var service: ServiceOptions

    @Option(help: "Largest fall of equity from its peak, as a fraction (0.10 = 10 %); beyond it: halt and flatten")
    var maxDrawdown = RiskLimits().maxDrawdown.description

    @Option(help: "Largest loss since the UTC day began, as a fraction of its opening equity; beyond it: halt and flatten")
    var maxDailyLoss = RiskLimits().maxDailyLoss.description

    @Option(help: "Largest gross exposure (every position at its last price), in the quote asset; beyond it: halt")
    var maxGrossExposure = RiskLimits().maxGrossExposure.description

    @Option(help: "Most orders the exchange may refuse in a minute, every bot together; beyond it: halt")
    var maxRejectsPerMinute = RiskLimits().maxRejectsPerMinute

    @Option(help: "Most orders one bot may send in a minute; beyond it: that bot is paused")
    var maxOrdersPerMinutePerBot = RiskLimits().maxOrdersPerMinutePerBot

    @Option(help: "Longest silence of the closed klines, in seconds; beyond it: halt")
    var maxSilenceSeconds = Int(RiskLimits().maxSilenceMilliseconds / 1000)

    @Option(help: "Breaker evaluations per second")
    var evaluationsPerSecond = 30

    static func main() async {
        await CommandLineEntry.main(GordonRiskCommand.self, failureStatus: 1)
    }

    func limits() throws -> RiskLimits {
        func decimal(_ text: String, _ name: String) throws -> ExactDecimal {
            guard let value = try? ExactDecimal(parsing: text) else { throw ValidationError("\(name): '\(text)' is not a decimal") }
            return value
        }
        var limits = RiskLimits()
        limits.maxDrawdown = try decimal(maxDrawdown, "--max-drawdown")
        limits.maxDailyLoss = try decimal(maxDailyLoss, "--max-daily-loss")
        limits.maxGrossExposure = try decimal(maxGrossExposure, "--max-gross-exposure")
        limits.maxRejectsPerMinute = maxRejectsPerMinute
        limits.maxOrdersPerMinutePerBot = maxOrdersPerMinutePerBot
        limits.maxSilenceMilliseconds = Int64(maxSilenceSeconds) * 1000
        do { return try limits.validated() } catch {
            throw ValidationError("--\(error.context["limit"]?.replacingOccurrences(of: "_", with: "-").replacingOccurrences(of: "-ms", with: "-seconds") ?? "limit") "
                + "is out of range (fractions between 0 and 1, counts and amounts above 0): \(error.context["value"] ?? "")")
        }
    }

    func validate() throws {
        _ = try limits()
        guard (1...100).contains(evaluationsPerSecond) else { throw ValidationError("--evaluations-per-second must be between 1 and 100") }
    }

    func run() async throws {
        let identity = ServiceIdentity.risk
        let limits = try limits()
        let rate = evaluationsPerSecond
        await GordonService.main(identity, configuration: { try service.configuration(identity, defaultPort: 8082) }) { context in
            let logger = context.logger
            let url = context.databaseURL
            let connect: @Sendable () async throws -> PostgresConnection = { try await Database.connect(url, logger: logger) }
            let monitor = RiskMonitor(limits: limits, logger: logger, connect: connect)
            let connection = try await connect()
            do {
                try await monitor.start(on: connection)
                try? await connection.close()
            } catch {
                try? await connection.close()
                throw error
            }
            var consumers: [(EventConsumer, EventConsumer.Handler)] = []
            for (name, filter, handle) in [
                ("gordon-risk-exec", "gordon.exec.>", monitor.handleExecution),
                ("gordon-risk-market", "gordon.market.>", monitor.handleMarket),
                ("gordon-risk-intents", "gordon.intent.*", monitor.handleIntent),
            ] as [(String, String, EventConsumer.Handler)] {
                var configuration = EventConsumer.Configuration(durableName: name, filterSubject: filter)
                // The book is read from the database at start: only what happens from now on matters.
                configuration.deliverPolicy = .new
                let consumer = EventConsumer(configuration: configuration, jetStream: context.jetStream, logger: logger, connect: connect)
                try await consumer.ensureConsumer()
                consumers.append((consumer, handle))
            }
            context.readiness.add("equity") {
                guard monitor.statistics.equity != nil else {
                    throw GordonError(.serviceUnavailable, "equity is unknown: a held symbol has no price yet")
                }
            }
            RiskMetrics.export(monitor: monitor, limits: limits, consumers: consumers.map(\.0), to: context.metrics)
            return consumers.map { ConsumerService(consumer: $0.0, handle: $0.1) } + [MonitorService(monitor: monitor, rate: rate)]
        }
    }
}

struct ConsumerService: Service {
    let consumer: EventConsumer
    let handle: EventConsumer.Handler

    func run() async throws {
        await cancelWhenGracefulShutdown { await consumer.run(handle) }
    }
}

struct MonitorService: Service {
    let monitor: RiskMonitor
    let rate: Int

    func run() async throws {
        await cancelWhenGracefulShutdown { await monitor.run(evaluationsPerSecond: rate) }
    }
}

enum RiskMetrics {
    static func export(monitor: RiskMonitor, limits: RiskLimits, consumers: [EventConsumer], to metrics: MetricsRegistry) {
        let values: [(String, String, @Sendable (RiskMonitor.Counters) -> Double?)] = [
            ("gordon_risk_evaluations", "Breaker evaluations completed", { Double($0.evaluations) }),
            ("gordon_risk_changes_recorded", "Breaker changes written with their actions", { Double($0.changesRecorded) }),
            ("gordon_risk_record_failures", "Evaluation rounds whose writes failed (retried)", { Double($0.recordFailures) }),
            ("gordon_risk_equity", "Equity in the quote asset: allocations, realised profit and positions at the last close", {
                $0.equity?.doubleApproximation }),
            ("gordon_risk_peak_equity", "The highest equity seen", { $0.peakEquity?.doubleApproximation }),
            ("gordon_risk_day_opening_equity", "The equity the UTC day opened with", { $0.dayOpeningEquity?.doubleApproximation }),
            ("gordon_risk_gross_exposure", "Every position at its last price", { $0.grossExposure.doubleApproximation }),
            ("gordon_risk_unpriced_symbols", "Held symbols without a price (equity unknown)", { Double($0.unpricedSymbols) }),
        ]
        for (name, help, read) in values {
            metrics.sampledGauge(name: name, help: help) { read(monitor.statistics) ?? .nan }
        }
        metrics.sampledGauge(name: "gordon_risk_halted", help: "1 while the halt latch is closed (NaN before risk first read it)") {
            monitor.halted.map { $0 ? 1 : 0 } ?? .nan
        }
        metrics.sampledGauges(name: "gordon_risk_breaker_tripped", help: "1 while a breaker is tripped") {
            let tripped = monitor.statistics.tripped
            return [BreakerName.drawdown, .dailyLoss, .exposure, .orderRate, .dataStaleness].map {
                (labels: [("breaker", $0.rawValue)], value: tripped.contains($0) ? 1 : 0)
            }
        }
        let thresholds: [(String, Double)] = [
            ("max_drawdown", limits.maxDrawdown.doubleApproximation), ("max_daily_loss", limits.maxDailyLoss.doubleApproximation),
            ("max_gross_exposure", limits.maxGrossExposure.doubleApproximation),
            ("max_rejects_per_minute", Double(limits.maxRejectsPerMinute)),
            ("max_orders_per_minute_per_bot", Double(limits.maxOrdersPerMinutePerBot)),
            ("max_silence_seconds", Double(limits.maxSilenceMilliseconds) / 1000),
        ]
        metrics.sampledGauges(name: "gordon_risk_limit", help: "Each breaker's threshold") {
            thresholds.map { (labels: [("limit", $0.0)], value: $0.1) }
        }
        metrics.sampledGauges(name: "gordon_risk_seconds_since_heard", help: "Seconds since each watched source last spoke") {
            let now = EventIdGenerator.systemClock().milliseconds
            return monitor.statistics.lastHeard.sorted { $0.key < $1.key }.map {
                (labels: [("source", $0.key)], value: Double(now - $0.value.milliseconds) / 1000)
            }
        }
        metrics.sampledGauge(name: "gordon_risk_events_dead_lettered", help: "Events the consumers could not handle") {
            Double(consumers.map(\.statistics.deadLettered).reduce(0, +))
        }
    }
}
