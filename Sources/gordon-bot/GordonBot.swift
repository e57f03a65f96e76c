import ArgumentParser
import GordonBot
import GordonBus
import GordonCommandLine
import GordonDomain
import GordonKernel
import GordonNATS
import GordonPlatform
import GordonPostgres
import GordonProtocol
import Logging
import NIOConcurrencyHelpers
import PostgresNIO
import ServiceLifecycle
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// gordon-bot: one process per bot, no exchange key. Holds the bot's lease (a second
/// instance waits as a hot standby), warms its plan up from gordon-data's `/warmup`, then
/// turns each closed kline of its series into at most one order intent, written with its
/// outbox event in the transaction that records the kline as handled.
///
/// Exit status: 0 when the bot is stopped (`desired_state = stopped`) or on SIGTERM; 1 when
/// it loses its lease or cannot start, so the watchdog starts it again (as a standby).
@main
struct GordonBotCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gordon-bot",
        abstract: "Run one bot: its plan over its kline series, order intents to the executor through the outbox.")

    @OptionGroup var service: ServiceOptions

    @Option(help: "The bot's id (trading.bot_configs); the process logs in as its own role and NATS user")
    var bot: String

    @Option(help: "Base URL of gordon-data, for the warm-up history")
    var dataURL = "http://127.0.0.1:8081"

    @Option(help: "Closed bars read for the warm-up (at least the strategy's own warm-up; at most 5000)")
    var warmUpBars = 1000

    @Option(help: "Quote value below which a holding is dust and an entry is not sent")
    var minimumNotional = "5"

    @Option(help: "Seconds between checks of the bot's desired state while no kline arrives")
    var stateCheckSeconds = 5

    static func main() async {
        await CommandLineEntry.main(GordonBotCommand.self, failureStatus: 1)
    }

    func validate() throws {
        guard (try? BotId(bot)) != nil else { throw ValidationError("--bot: '\(bot)' is not a bot id (a-z, 0-9, _ and -)") }
        guard (1...5000).contains(warmUpBars) else { throw ValidationError("--warm-up-bars must be between 1 and 5000") }
        guard let notional = try? ExactDecimal(parsing: minimumNotional), !notional.isNegative else {
            throw ValidationError("--minimum-notional: '\(minimumNotional)' is not a non-negative decimal")
        }
        guard stateCheckSeconds >= 1 else { throw ValidationError("--state-check-seconds must be at least 1") }
    }

    func run() async throws {
        let botId = try BotId(bot)
        let identity = ServiceIdentity(name: NATSPermissions.userName(for: botId), databaseRole: "gordon_bot_\(bot)", httpPort: 8084)
        let options = BotOptions(botId: botId, dataURL: dataURL, warmUpBars: warmUpBars,
                                 minimumNotional: try ExactDecimal(parsing: minimumNotional), stateCheck: .seconds(stateCheckSeconds))
        await GordonService.main(identity, configuration: { try service.configuration(identity, defaultPort: 8084) }) { context in
            let state = BotServiceState()
            context.readiness.add("lease and warm-up") {
                // Stopped by its configuration, the active instance is doing what it was told.
                if state.stopped { return }
                guard let engine = state.engine else {
                    throw GordonError(.serviceUnavailable, "standby: another instance holds the bot's lease, or warm-up is not done")
                }
                _ = engine
            }
            BotMetrics.export(state, to: context.metrics)
            return [BotService(options: options, databaseURL: context.databaseURL, jetStream: context.jetStream, logger: context.logger,
                               state: state)]
        }
    }
}

struct BotOptions: Sendable {
    let botId: BotId
    let dataURL: String
    let warmUpBars: Int
    let minimumNotional: ExactDecimal
    let stateCheck: Duration
}

/// What /readyz and /metrics read: the engine once this instance is the active one and
/// trades; `stopped` while it is the active one and its configuration says stopped.
final class BotServiceState: Sendable {
    private struct Phase { var engine: BotEngine?; var stopped = false }
    private let box = NIOLockedValueBox(Phase())
    var engine: BotEngine? { box.withLockedValue { $0.engine } }
    var stopped: Bool { box.withLockedValue { $0.stopped } }
    func activate(_ engine: BotEngine) { box.withLockedValue { $0 = Phase(engine: engine) } }
    func stop() { box.withLockedValue { $0 = Phase(engine: nil, stopped: true) } }
}

struct BotService: Service {
    let options: BotOptions
    let databaseURL: DatabaseURL
    let jetStream: JetStream
    let logger: Logger
    let state: BotServiceState

    func run() async throws {
        do {
            try await cancelWhenGracefulShutdown {
                try await runBot()
            }
        } catch where Task.isShuttingDownGracefully {
            // SIGTERM cancelled the lease wait, the consumer or the lease watcher, whichever
            // ended first: a stop the operator asked for, exit 0 like any service.
            logger.info("stopped on request", metadata: ["bot": "\(options.botId.rawValue)"])
        }
    }

    func connect() async throws -> PostgresConnection {
        try await Database.connect(databaseURL, logger: logger)
    }

    private func runBot() async throws {
        let botId = options.botId
        let host = Self.hostName()
        let lease = BotLease(botId: botId.rawValue, instanceId: "\(host)-\(getpid())", host: host, logger: logger) {
            try await connect()
        }
        // A stopped bot gives its lease up and keeps its process, waiting to be started: under
        // the watchdog an exit is a crash, and a bot left down could not be started again.
        while true {
            logger.info("waiting for the bot's lease", metadata: ["bot": "\(botId.rawValue)"])
            let held = try await lease.acquire()
            logger.info("lease acquired: this instance is the bot's active one", metadata: ["bot": "\(botId.rawValue)", "lease": "\(held.token)"])
            do {
                try await trade(held)
            } catch {
                await held.release()
                throw error
            }
            await held.release()
            state.stop()
            try await waitUntilStarted()
        }
    }

    private func trade(_ held: HeldLease) async throws {
        let botId = options.botId
        let settings = try await withConnection { try await BotRecords.settings(botId: botId, on: $0, logger: logger) }
        if settings.desiredState == .stopped {
            logger.notice("the bot's desired state is stopped: not trading until it is started", metadata: ["bot": "\(botId.rawValue)"])
            return
        }
        let engine = try BotEngine(settings: settings, leaseToken: held.token, minimumNotional: options.minimumNotional, logger: logger)

        // The consumer exists before the history is read, so no kline falls between the two:
        // one stored after the read is delivered, one stored before is in the history.
        var consumerConfig = EventConsumer.Configuration(durableName: "\(NATSPermissions.userName(for: botId))-klines",
                                                         filterSubject: "gordon.market.kline.>")
        consumerConfig.deliverPolicy = .new
        // A kline the killed holder fetched but never acknowledged comes back to its
        // successor after this, well inside a bar.
        consumerConfig.ackWait = .seconds(10)
        // A fetch returns when its batch is full or expires: one kline per fetch, so each is
        // handled the moment it arrives.
        consumerConfig.batchSize = 1
        let consumer = EventConsumer(configuration: consumerConfig, jetStream: jetStream, logger: logger) { try await connect() }
        try await consumer.ensureConsumer()

        let holdings = try await withConnection { try await BotRecords.holdings(symbol: settings.symbol, on: $0, logger: logger) }
        let history = try await warmUpHistory(settings, bars: max(options.warmUpBars, engine.warmUpBars + 1))
        engine.warmUp(history, holdings: holdings)
        logger.info("warmed up", metadata: [
            "bot": "\(botId.rawValue)", "strategy": "\(settings.plan.strategy.name)", "bars": "\(engine.barsClosed)",
            "series": "\(settings.symbol.rawValue)@\(settings.interval.rawValue)", "state": "\(settings.desiredState.rawValue)",
        ])
        state.activate(engine)

        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await consumer.run { event, connection in try await engine.handle(event, on: connection) } }
            group.addTask {
                let end = await held.watch()
                throw GordonError(.botLeaseLost, "the bot's lease ended (\(end)); stopping so a standby can take over",
                                  context: ["bot": botId.rawValue])
            }
            group.addTask { try await waitUntilStopped() }
            // Whichever ends first decides: stopped returns (and waits to be started), a lost
            // lease throws (exit 1: a standby takes over, the watchdog starts a new one).
            _ = try await group.next()
            group.cancelAll()
        }
    }

    /// Returns once the bot's desired state is `stopped`.
    private func waitUntilStopped() async throws {
        _ = try await desiredState { $0 == .stopped }
        logger.notice("the bot's desired state is stopped: not trading until it is started", metadata: ["bot": "\(options.botId.rawValue)"])
    }

    /// Returns once the bot's desired state is no longer `stopped`.
    private func waitUntilStarted() async throws {
        let desired = try await desiredState { $0 != .stopped }
        logger.notice("the bot's desired state is \(desired): trading again", metadata: ["bot": "\(options.botId.rawValue)"])
    }

    /// The bot's desired state, read every `stateCheck` until `wanted` holds (a read that
    /// fails is tried again at the next check).
    private func desiredState(until wanted: (DesiredState) -> Bool) async throws -> DesiredState {
        while true {
            try await Task.sleep(for: options.stateCheck)
            if let desired = try? await withConnection({ try await BotRecords.desiredState(botId: options.botId, on: $0, logger: logger) }),
               wanted(desired) {
                return desired
            }
        }
    }

    /// The machine's name, for the lease's instance id (the watchdog gives its services no
    /// HOSTNAME variable).
    static func hostName() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "localhost" }
        let name = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return name.isEmpty ? "localhost" : name
    }

    private func withConnection<T: Sendable>(_ body: (PostgresConnection) async throws -> T) async throws -> T {
        try await Database.withConnection(databaseURL, logger: logger, body)
    }

    /// The newest closed bars of the bot's series from gordon-data, oldest first.
    private func warmUpHistory(_ settings: BotSettings, bars: Int) async throws -> [Kline] {
        let client = ServiceHTTPClient(peer: "gordon-data", baseURL: options.dataURL, timeout: .seconds(30))
        let path = "/warmup?symbol=\(settings.symbol.rawValue)&interval=\(settings.interval.rawValue)&bars=\(min(bars, 5000))"
        let reply = try await client.send(.GET, path)
        guard reply.status == 200 else {
            throw GordonError(.serviceUnavailable, "gordon-data answered \(reply.status) to the warm-up request: \(String(decoding: reply.body.prefix(200), as: UTF8.self))",
                              context: ["peer": "gordon-data"])
        }
        return try WarmupHistory.klines(from: reply.body, symbol: settings.symbol, interval: settings.interval)
    }
}

enum BotMetrics {
    static func export(_ state: BotServiceState, to metrics: MetricsRegistry) {
        let counters: [(String, String, @Sendable (BotEngine.Counters) -> Int)] = [
            ("gordon_bot_bars_closed", "Closed bars the plan has seen (warm-up included)", \.barsClosed),
            ("gordon_bot_intents", "Order intents recorded", \.intents),
            ("gordon_bot_stale_klines", "Klines older than the newest bar seen: handled without acting", \.staleKlines),
            ("gordon_bot_signals_held_pending", "Signals not acted on because the previous intent was still working", \.heldWhilePending),
            ("gordon_bot_signals_held_paused", "Signals not acted on because the bot is paused", \.heldWhilePaused),
        ]
        for (name, help, read) in counters {
            metrics.sampledGauge(name: name, help: help) { Double(state.engine.map { read($0.counters) } ?? 0) }
        }
        metrics.sampledGauge(name: "gordon_bot_active", help: "1 when this instance holds the bot's lease and has warmed up; 0 as a standby") {
            state.engine == nil ? 0 : 1
        }
    }
}
