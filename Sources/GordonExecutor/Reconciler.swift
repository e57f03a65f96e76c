import GordonBus
public import GordonDomain
public import GordonExchange
public import GordonKernel
public import GordonProtocol
public import Logging
import NIOConcurrencyHelpers
public import PostgresNIO

/// Runs `Reconciliation` against the exchange and the database: on start, every `every`,
/// after each user-stream reconnect and after each placement whose outcome stayed unknown.
/// The state machine decides; this only reads what it asks for and writes what it found:
/// orders the exchange has moved further (a fill the stream missed) are recorded with their
/// trades; orders placed by hand, divergences and balance shortfalls are logged, counted and
/// published (`ReconciliationEvent`, when they change), never touched. Each run also refuses the intents the intents consumer dead-lettered, so
/// their bots stop waiting for a verdict.
public final class Reconciler: Sendable {
    public struct Counters: Sendable, Equatable {
        public var runs = 0
        public var failedRuns = 0
        /// Orders recorded further because the exchange had moved them on.
        public var advanced = 0
        public var deadLetteredIntentsRefused = 0
        /// What the last completed run found.
        public var lastUnknownToGordon = 0
        public var lastDivergences = 0
        public var lastBalanceDivergences = 0
        /// Whether a run has completed since the start, and whether the last one was clean.
        public var reconciled = false
        public var lastClean = false
        /// `ReconciliationEvent`s written to the outbox.
        public var published = 0
    }

    public struct Configuration: Sendable {
        public var every: Duration = .seconds(60)
        /// A run (connecting included) not done by then is given up: its connection is closed
        /// and the next trigger or timer runs anew. A connection can hang without failing
        /// (PostgreSQL killed as a query is sent); a run stuck on one must not stop every run after it.
        public var runDeadline: Duration = .seconds(90)
        /// The consumer whose dead letters are intents.
        public var intentsConsumer = "gordon-executor-intents"
        public var machine = Reconciliation.Configuration()

        public init() {}
    }

    let rest: BinanceRESTClient
    let execution: BinanceExecution
    let rules: @Sendable (Symbol) async throws(GordonError) -> BinanceExecution.SymbolRules?
    let connect: @Sendable () async throws -> PostgresConnection
    let configuration: Configuration
    let logger: Logger
    let ids: EventIdGenerator
    private let counters = NIOLockedValueBox(Counters())
    private let waiting = NIOLockedValueBox<Reconciliation.Trigger?>(nil)
    /// The findings last published; none yet counts as clean.
    private let published = NIOLockedValueBox<ReconciliationEvent?>(nil)
    private let wakeUp = WakeSignal()

    public init(rest: BinanceRESTClient, execution: BinanceExecution, configuration: Configuration = Configuration(), logger: Logger,
                ids: EventIdGenerator = EventIdGenerator(),
                rules: @escaping @Sendable (Symbol) async throws(GordonError) -> BinanceExecution.SymbolRules?,
                connect: @escaping @Sendable () async throws -> PostgresConnection) {
        self.rest = rest
        self.execution = execution
        self.configuration = configuration
        self.logger = logger
        self.ids = ids
        self.rules = rules
        self.connect = connect
    }

    public var statistics: Counters { counters.withLockedValue { $0 } }

    /// A reason to reconcile soon. Reasons arriving during a run are kept, the most urgent
    /// one, and start the next run when this one ends.
    public func trigger(_ reason: Reconciliation.Trigger) {
        waiting.withLockedValue { $0 = max($0 ?? reason, reason) }
        wakeUp.signal()
    }

    /// Runs until cancelled: first at once, then on each trigger or timer.
    public func run() async {
        var machine = Reconciliation(configuration: configuration.machine)
        var connection: PostgresConnection?
        var reason = Reconciliation.Trigger.start
        while !Task.isCancelled {
            do {
                if connection == nil {
                    connection = try await withDeadline(configuration.runDeadline, timeoutError: { self.stuck("connecting") }) {
                        try await self.connect()
                    }
                }
                let (started, open, trigger) = (machine, connection!, reason)
                machine = try await withDeadline(configuration.runDeadline, timeoutError: { self.stuck("a run") },
                                                 onTimeout: { try? await open.close() }) {
                    var running = started
                    try await self.reconcile(trigger, machine: &running, on: open)
                    return running
                }
            } catch {
                if Task.isCancelled { break }
                _ = machine.failed()
                counters.withLockedValue { $0.failedRuns += 1 }
                logger.warning("reconciliation failed; it runs again on the next trigger", metadata: [
                    "trigger": "\(reason.rawValue)", "error": "\(error)",
                ])
                try? await connection?.close()
                connection = nil
            }
            // A trigger that came during the run has left its signal: this returns at once.
            await wakeUp.wait(timeout: configuration.every)
            reason = waiting.withLockedValue { taken in
                defer { taken = nil }
                return taken ?? .timer
            }
        }
        try? await connection?.close()
    }

    private func stuck(_ what: String) -> GordonError {
        GordonError(.databaseUnreachable, "reconciliation: \(what) did not finish within \(configuration.runDeadline)")
    }

    /// One run, driven step by step by the state machine.
    func reconcile(_ reason: Reconciliation.Trigger, machine: inout Reconciliation, on connection: PostgresConnection) async throws {
        var action = machine.start(reason)
        while true {
            switch action {
            case .listOpenOrders:
                let ours = try await ExecutorRecords.orders(on: connection, logger: logger)
                let theirs = try await execution.openOrders(symbol: nil)
                action = machine.openOrdersListed(gordon: ours, exchange: theirs)
            case .readGordonRecords(let ids):
                action = machine.gordonRecordsRead(try await ExecutorRecords.orders(ids, on: connection, logger: logger))
            case .lookUp(let orders):
                var answers: [ClientOrderId: Order?] = [:]
                for order in orders {
                    switch await lookUp(order) {
                    case .success(let found): answers[order.clientOrderId] = .some(found)
                    case .failure(let error) where error.code == .unknownOrder: answers[order.clientOrderId] = .some(nil)
                    case .failure(let error):
                        // Unanswered: the machine keeps it for the next run.
                        logger.warning("reconciliation could not look up an order", metadata: [
                            "clientOrderId": "\(order.clientOrderId.rawValue)", "error": "\(error.code.rawValue)",
                        ])
                    }
                }
                action = machine.lookedUp(answers, now: Timestamp(milliseconds: rest.serverNowMilliseconds))
            case .readBalances:
                let expected = try await expectedHoldings(on: connection)
                action = machine.balancesRead(expected: expected, exchange: try await execution.balances())
            case .report(let report, let listAgain):
                try await act(on: report, on: connection)
                guard listAgain else { return }
                action = .listOpenOrders
            case .none:
                return
            }
        }
    }

    private func lookUp(_ ours: Order) async -> Result<Order, GordonError> {
        do {
            let answer = try await rest.queryOrder(symbol: ours.symbol, clientOrderId: ours.clientOrderId)
            return .success(try answer.order(botId: ours.botId, createdAt: ours.createdAt))
        } catch {
            return .failure(error)
        }
    }

    /// What the bots' positions say the account holds at least, per base asset.
    private func expectedHoldings(on connection: PostgresConnection) async throws -> [Asset: ExactDecimal] {
        var expected: [Asset: ExactDecimal] = [:]
        for (symbol, quantity) in try await ExecutorRecords.holdings(on: connection, logger: logger) {
            // A symbol whose rules cannot be read is left out, not the whole comparison.
            guard let asset = try? await rules(symbol)?.baseAsset else { continue }
            expected[asset] = try (expected[asset] ?? .zero).adding(quantity)
        }
        return expected
    }

    private func act(on report: ReconciliationReport, on connection: PostgresConnection) async throws {
        let traceId = TraceId.random()
        for order in report.advanced {
            let fills = try await rest.fills(of: order)
            let recorded = try await connection.withTransaction(logger: logger) { connection in
                .commit(try await ExecutorRecords.recordExecution(order, fills: fills, ids: ids, traceId: traceId, on: connection, logger: logger))
            }
            logger.notice("reconciliation recorded what the exchange had done", metadata: [
                "clientOrderId": "\(order.clientOrderId.rawValue)", "status": "\(order.status.rawValue)", "newFills": "\(recorded.count)",
            ])
        }
        for order in report.unknownToGordon {
            logger.warning("an open order Gordon did not place (placed by hand?): reported, left alone", metadata: [
                "clientOrderId": "\(order.clientOrderId.rawValue)", "symbol": "\(order.symbol.rawValue)", "side": "\(order.side.rawValue)",
                "quantity": "\(order.quantity)",
            ])
        }
        for divergence in report.divergences {
            logger.error("Gordon's record and the exchange disagree about an order", metadata: [
                "clientOrderId": "\(divergence.clientOrderId.rawValue)", "kind": "\(divergence.kind.rawValue)",
                "gordon": "\(divergence.gordon.rawValue)", "exchange": "\(divergence.exchange?.rawValue ?? "none")",
            ])
        }
        for shortfall in report.balanceDivergences {
            logger.error("the account holds less than Gordon's positions", metadata: [
                "asset": "\(shortfall.asset.rawValue)", "positions": "\(shortfall.expected)", "account": "\(shortfall.exchange)",
            ])
        }
        let refused = try await refuseDeadLetteredIntents(traceId: traceId, on: connection)
        let announced = try await publishIfChanged(report, traceId: traceId, on: connection)
        counters.withLockedValue {
            $0.published += announced ? 1 : 0
            $0.runs += 1
            $0.advanced += report.advanced.count
            $0.deadLetteredIntentsRefused += refused
            $0.lastUnknownToGordon = report.unknownToGordon.count
            $0.lastDivergences = report.divergences.count
            $0.lastBalanceDivergences = report.balanceDivergences.count
            $0.reconciled = true
            $0.lastClean = report.isClean
        }
        logger.info("reconciled", metadata: [
            "trigger": "\(report.trigger.rawValue)", "clean": "\(report.isClean)", "advanced": "\(report.advanced.count)",
            "inFlight": "\(report.inFlight.count)", "neverPlaced": "\(report.neverPlaced.count)",
        ])
    }

    /// The findings go on the bus when they differ from the last published: a lasting
    /// disagreement is told once, not every minute, and its end is told too.
    private func publishIfChanged(_ report: ReconciliationReport, traceId: TraceId, on connection: PostgresConnection) async throws -> Bool {
        let at = Timestamp(milliseconds: rest.serverNowMilliseconds)
        let findings = try Self.findings(of: report, at: at)
        let last = published.withLockedValue { $0 }
        guard !Self.sameFindings(findings, last) else { return false }
        let envelope = EventEnvelope(payload: findings, source: .executor, traceId: traceId, occurredAt: at, ids: ids)
        _ = try await connection.withTransaction(logger: logger) { connection in
            .commit(try await Outbox.enqueue(envelope, orderingKey: "reconciliation", on: connection, logger: logger))
        }
        published.withLockedValue { $0 = findings }
        return true
    }

    static func sameFindings(_ findings: ReconciliationEvent, _ last: ReconciliationEvent?) -> Bool {
        guard let last else { return findings.isClean }
        return findings.orders == last.orders && findings.foreignOrders == last.foreignOrders && findings.balances == last.balances
    }

    /// The report as an event, each list in a fixed order and cut to what one event may carry.
    static func findings(of report: ReconciliationReport, at: Timestamp) throws(GordonError) -> ReconciliationEvent {
        let orders = report.divergences.sorted { $0.clientOrderId < $1.clientOrderId }.prefix(ReconciliationEvent.maxItems).map { divergence in
            let kind: ReconciliationEvent.OrderDivergence.Kind = switch divergence.kind {
            case .openOnlyAtExchange: .openOnlyAtExchange
            case .unknownToExchange: .unknownToExchange
            case .conflicting: .conflicting
            }
            return ReconciliationEvent.OrderDivergence(clientOrderId: divergence.clientOrderId, kind: kind, gordon: divergence.gordon,
                                                       exchange: divergence.exchange)
        }
        let foreign = report.unknownToGordon.sorted { $0.clientOrderId < $1.clientOrderId }.prefix(ReconciliationEvent.maxItems).map { order in
            ReconciliationEvent.ForeignOrder(clientOrderId: order.clientOrderId, symbol: order.symbol, side: order.side, quantity: order.quantity)
        }
        let balances = report.balanceDivergences.sorted { $0.asset < $1.asset }.prefix(ReconciliationEvent.maxItems).map { shortfall in
            ReconciliationEvent.BalanceShortfall(asset: shortfall.asset, positions: shortfall.expected, account: shortfall.exchange)
        }
        return try ReconciliationEvent(trigger: report.trigger.rawValue, orders: Array(orders), foreignOrders: Array(foreign),
                                       balances: Array(balances), at: at)
    }

    /// An intent its consumer gave up on gets a verdict, so its bot may act again.
    private func refuseDeadLetteredIntents(traceId: TraceId, on connection: PostgresConnection) async throws -> Int {
        var refused = 0
        for intent in try await ExecutorRecords.deadLetteredIntents(consumer: configuration.intentsConsumer, on: connection, logger: logger) {
            let written = try await connection.withTransaction(logger: logger) { connection in
                .commit(try await ExecutorRecords.reject(
                    intent, reason: "dead-lettered: the executor could not handle this intent",
                    at: Timestamp(milliseconds: rest.serverNowMilliseconds), ids: ids, traceId: traceId, ifAbsent: true,
                    on: connection, logger: logger))
            }
            if written {
                refused += 1
                logger.warning("a dead-lettered intent is refused so its bot stops waiting", metadata: [
                    "intent": "\(intent.clientOrderId.rawValue)", "bot": "\(intent.botId.rawValue)",
                ])
            }
        }
        return refused
    }
}
