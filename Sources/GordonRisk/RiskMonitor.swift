public import GordonDomain
public import GordonKernel
public import GordonProtocol
public import Logging
import NIOConcurrencyHelpers
public import PostgresNIO

/// gordon-risk's shell around `Breakers` and `Portfolio`: the consumers feed it (closed
/// klines, fills, order updates, intents), a loop evaluates every breaker `evaluationsPerSecond`
/// times a second, and each change is written with what it asks for (`RiskRecords.record`).
/// A change whose write fails is kept and written on the next evaluation: a trip is never
/// lost to a database hiccup.
public final class RiskMonitor: Sendable {
    public struct Counters: Sendable, Equatable {
        public var evaluations = 0
        public var changesRecorded = 0
        public var recordFailures = 0
        /// The last sample's measures, for `/metrics`.
        public var equity: ExactDecimal?
        public var peakEquity: ExactDecimal?
        public var dayOpeningEquity: ExactDecimal?
        public var grossExposure = ExactDecimal.zero
        public var tripped: Set<BreakerName> = []
        public var lastHeard: [String: Timestamp] = [:]
        public var unpricedSymbols = 0
    }

    struct State {
        var breakers: Breakers
        var portfolio = Portfolio()
        var lastHeard: [String: Timestamp]
        /// Changes evaluated but not yet written.
        var unwritten: [BreakerChange] = []
        var remembered: (peak: ExactDecimal?, day: Int64?) = (nil, nil)
        /// The halt latch as last read, or as risk itself last set it; nil before the first read.
        /// Risk's own halts count at once: an operator may resume before the next read, and
        /// that resume must still count the losses afresh.
        var halted: Bool?
        /// The first load of the book is where capital starts, not capital moved.
        var bookLoaded = false
        var counters = Counters()
    }

    /// The sources whose silence trips `data_staleness`.
    public static let klines = "klines"

    let connect: @Sendable () async throws -> PostgresConnection
    let logger: Logger
    let ids: EventIdGenerator
    let now: @Sendable () -> Timestamp
    private let state: NIOLockedValueBox<State>

    public init(limits: RiskLimits, logger: Logger, ids: EventIdGenerator = EventIdGenerator(),
                now: @escaping @Sendable () -> Timestamp = EventIdGenerator.systemClock,
                connect: @escaping @Sendable () async throws -> PostgresConnection) {
        self.connect = connect
        self.logger = logger
        self.ids = ids
        self.now = now
        state = NIOLockedValueBox(State(breakers: Breakers(limits: limits), lastHeard: [Self.klines: now()]))
    }

    public var statistics: Counters { state.withLockedValue { $0.counters } }

    /// The halt latch as risk last saw or set it; nil before its first look.
    public var halted: Bool? { state.withLockedValue { $0.halted } }

    /// Before the consumers run: the remembered peak and day, the thresholds (a change is
    /// audited), the bots' allocations and positions and the last stored closes.
    public func start(on connection: PostgresConnection) async throws(GordonError) {
        let remembered = try await RiskRecords.state(on: connection, logger: logger)
        let limits = state.withLockedValue { $0.breakers.limits }
        if try await RiskRecords.adopt(limits: limits, on: connection, logger: logger) {
            logger.notice("risk thresholds changed since the last run (audited)", metadata: ["limits": "\(limits.json)"])
        }
        try await reloadBook(on: connection)
        let closes = try await RiskRecords.lastCloses(on: connection, logger: logger)
        state.withLockedValue { state in
            state.breakers = Breakers(limits: limits, peakEquity: remembered.peakEquity, day: remembered.day, trippedKeys: remembered.tripped)
            state.remembered = (remembered.peakEquity, remembered.day?.number)
            for (symbol, close) in closes { state.portfolio.priceClosed(symbol, at: close) }
        }
    }

    /// The allocations and positions as recorded now. A change of the allocations moves the
    /// breakers' peak and day's opening with it (`Breakers.capitalMoved`).
    func reloadBook(on connection: PostgresConnection) async throws(GordonError) {
        let allocations = try await RiskRecords.allocations(on: connection, logger: logger)
        let holdings = try await RiskRecords.holdings(on: connection, logger: logger)
        let moved = try state.withLockedValue { (state: inout State) -> Result<ExactDecimal, GordonError> in
            do throws(GordonError) {
                let before = try state.portfolio.totalAllocation()
                for (bot, amount) in allocations { state.portfolio.setAllocation(amount, of: bot) }
                state.portfolio.replaceHoldings(holdings)
                let moved = state.bookLoaded ? try state.portfolio.totalAllocation().subtracting(before) : .zero
                state.bookLoaded = true
                if !moved.isZero { try state.breakers.capitalMoved(moved) }
                return .success(moved)
            } catch {
                return .failure(error)
            }
        }.get()
        if !moved.isZero {
            logger.notice("the bots' allocations changed: the peak and the day's opening move with them", metadata: ["amount": "\(moved)"])
        }
    }

    /// `gordon.market.>`: a closed kline prices its symbol and shows the market is alive.
    public func handleMarket(_ event: AnyEvent, on connection: PostgresConnection) async throws {
        guard case .kline(let envelope) = event, envelope.payload.kline.isClosed else { return }
        let kline = envelope.payload.kline
        let heard = now()
        state.withLockedValue { state in
            state.portfolio.priceClosed(kline.symbol, at: kline.close.value)
            state.lastHeard[Self.klines] = heard
        }
    }

    /// `gordon.exec.>`: a fill moves a position (read back as recorded); an order the
    /// exchange refused counts toward the reject rate. Gordon's own refusals (halted, a
    /// limit) do not: they are the checks working.
    public func handleExecution(_ event: AnyEvent, on connection: PostgresConnection) async throws {
        switch event {
        case .fill:
            try await reloadBook(on: connection)
        case .orderUpdate(let envelope) where envelope.payload.status == .rejected:
            guard Self.isExchangeRefusal(envelope.payload.rejectReason) else { return }
            state.withLockedValue { $0.breakers.orderRejected(at: envelope.payload.updatedAt) }
        default:
            return
        }
    }

    /// A refusal by the exchange or its filters: the executor records those under Gordon's
    /// error codes (`GORDON-EXCH-…`, `GORDON-STRAT-…`).
    static func isExchangeRefusal(_ reason: String?) -> Bool {
        guard let reason else { return false }
        return reason.hasPrefix("GORDON-EXCH-") || reason.hasPrefix("GORDON-STRAT-")
    }

    /// `gordon.intent.*`: each intent is an order its bot sends.
    public func handleIntent(_ event: AnyEvent, on connection: PostgresConnection) async throws {
        guard case .orderIntent(let envelope) = event else { return }
        let heard = now()
        state.withLockedValue { $0.breakers.orderSent(by: envelope.payload.botId, at: heard) }
    }

    /// Evaluates until cancelled; re-reads the book every `reloadEvery` in case an event was missed.
    public func run(evaluationsPerSecond: Int = 30, reloadEvery: Duration = .seconds(5), roundDeadline: Duration = .seconds(10)) async {
        let period = Duration.milliseconds(max(1, 1000 / max(1, evaluationsPerSecond)))
        var connection: PostgresConnection?
        var lastReload = ContinuousClock.now
        var lastRemembered = ContinuousClock.now - .seconds(10)
        var lastAsked = ContinuousClock.now - .seconds(10)
        let timedOut: @Sendable () -> any Error = {
            GordonError(.databaseUnreachable, "a round of risk's writes and reads did not finish within \(roundDeadline)")
        }
        while !Task.isCancelled {
            let tick = ContinuousClock.now
            do {
                let changes = try evaluate()
                for change in changes { log(change) }
                if connection == nil {
                    connection = try await withDeadline(roundDeadline, timeoutError: timedOut) { try await self.connect() }
                }
                let current = connection!
                // An operator waits on the other end (gordonctl halt): a few looks a second.
                let reload = tick - lastReload >= reloadEvery, ask = tick - lastAsked >= .milliseconds(200)
                let remember = tick - lastRemembered >= .seconds(1)
                // A connection can hang without failing (PostgreSQL killed as a query is sent):
                // the round then fails and the connection is made anew, or the breakers would
                // go on evaluating with nothing ever written, and no operator heard.
                try await withDeadline(roundDeadline, timeoutError: timedOut, onTimeout: { try? await current.close() }) {
                    try await self.writeUnwritten(on: current)
                    if reload { try await self.reloadBook(on: current) }
                    if ask { try await self.carryOutOperatorRequests(on: current) }
                    if remember {
                        try await self.watchLatch(on: current)
                        try await self.rememberIfChanged(on: current)
                    }
                }
                if reload { lastReload = tick }
                if ask { lastAsked = tick }
                if remember { lastRemembered = tick }
            } catch {
                if Task.isCancelled { break }
                state.withLockedValue { $0.counters.recordFailures += 1 }
                logger.error("risk evaluation could not write; retrying in a second", metadata: ["error": "\(error)"])
                try? await connection?.close()
                connection = nil
                // Not thirty failures (and log lines) a second while the database is away.
                try? await Task.sleep(for: .seconds(1))
            }
            try? await Task.sleep(until: tick + period, clock: .continuous)
        }
        try? await connection?.close()
    }

    /// One evaluation of every breaker against the book as it is now.
    func evaluate() throws(GordonError) -> [BreakerChange] {
        let at = now()
        let outcome = state.withLockedValue { (state: inout State) -> Result<[BreakerChange], GordonError> in
            do throws(GordonError) {
                let sample = RiskSample(at: at, equity: try state.portfolio.equity(), grossExposure: try state.portfolio.grossExposure(),
                                        lastHeard: state.lastHeard)
                let changes = try state.breakers.evaluate(sample)
                state.unwritten += changes
                state.counters.evaluations += 1
                state.counters.equity = sample.equity
                state.counters.peakEquity = state.breakers.peakEquity
                state.counters.dayOpeningEquity = state.breakers.day?.openingEquity
                state.counters.grossExposure = sample.grossExposure
                state.counters.tripped = state.breakers.trippedBreakers
                state.counters.lastHeard = state.lastHeard
                state.counters.unpricedSymbols = state.portfolio.unpricedSymbols.count
                return .success(changes)
            } catch {
                return .failure(error)
            }
        }
        return try outcome.get()
    }

    private func log(_ change: BreakerChange) {
        let metadata: Logger.Metadata = [
            "breaker": "\(change.breaker.rawValue)", "value": "\(change.value)", "threshold": "\(change.threshold)",
            "bot": "\(change.bot?.rawValue ?? "all")", "reason": "\(change.reason)",
            "actions": "\(change.actions.map { "\($0)" }.joined(separator: ","))",
        ]
        if change.state == .tripped {
            logger.critical("circuit breaker tripped", metadata: metadata)
        } else {
            logger.notice("circuit breaker back within its limit", metadata: metadata)
        }
    }

    /// Writes the oldest unwritten change first; stops at the first failure (thrown).
    func writeUnwritten(on connection: PostgresConnection) async throws(GordonError) {
        while let change = state.withLockedValue({ $0.unwritten.first }) {
            let written = try await RiskRecords.record(change, at: now(), ids: ids, on: connection, logger: logger)
            state.withLockedValue {
                $0.unwritten.removeFirst()
                if written { $0.counters.changesRecorded += 1 }
                if change.actions.contains(.halt) { $0.halted = true }
            }
        }
    }

    /// An operator opened the halt latch (seen closed before, or at start with a trip
    /// standing): the drawdown and the day's loss count afresh from the equity now.
    func watchLatch(on connection: PostgresConnection) async throws(GordonError) {
        let halted = try await RiskRecords.isHalted(on: connection, logger: logger)
        let at = now()
        let equity = try state.withLockedValue { $0.portfolio }.equity()
        let changes = state.withLockedValue { state -> [BreakerChange] in
            guard !halted else {
                state.halted = true
                return []
            }
            guard state.halted != false else { return [] }
            let trips = Set(state.breakers.trippedBreakers)
            // With a loss breaker standing, the new base needs the equity: wait until it is known.
            if equity == nil && !trips.isDisjoint(with: [.drawdown, .dailyLoss]) { return [] }
            state.halted = false
            let changes = state.breakers.operatorResumed(equity: equity, at: at)
            state.unwritten += changes
            return changes
        }
        for change in changes { log(change) }
        if !changes.isEmpty { try await writeUnwritten(on: connection) }
    }

    func carryOutOperatorRequests(on connection: PostgresConnection) async throws(GordonError) {
        let requests = try await OperatorRequests.pending(on: connection, logger: logger)
        for request in requests {
            guard let outcome = try await OperatorRequests.carryOut(request, at: now(), ids: ids, on: connection, logger: logger) else { continue }
            if request.action == .halt || request.action == .flatten, !outcome.hasPrefix("refused") { state.withLockedValue { $0.halted = true } }
            logger.notice("operator request carried out", metadata: [
                "request": "\(request.id)", "action": "\(request.action.rawValue)", "target": "\(request.target)",
                "operator": "\(request.requestedBy)", "reason": "\(request.reason)", "outcome": "\(outcome)",
            ])
        }
        // A resume is seen here at once, not at the next look at the latch.
        if requests.contains(where: { $0.action == .resume }) { try await watchLatch(on: connection) }
    }

    private func rememberIfChanged(on connection: PostgresConnection) async throws(GordonError) {
        let (peak, day, remembered) = state.withLockedValue { ($0.breakers.peakEquity, $0.breakers.day, $0.remembered) }
        guard peak != remembered.peak || day?.number != remembered.day else { return }
        try await RiskRecords.remember(peak: peak, day: day, on: connection, logger: logger)
        state.withLockedValue { $0.remembered = (peak, day?.number) }
    }
}
