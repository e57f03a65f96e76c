public import GordonDomain
public import GordonKernel

/// The executor's reconciliation of Gordon's records with the exchange (DESIGN §3): run on
/// start, every 60 s, after every user-stream reconnect and after every order whose outcome
/// is unknown. A plain value: it is told what the shell read and answers what to read next,
/// then what it found; it never touches a socket, a clock or the database, so every rule is
/// tested without them.
///
/// Steps: Gordon's open orders and the exchange's open orders (`listOpenOrders`); Gordon's
/// records of orders the exchange lists open but Gordon does not hold open
/// (`readGordonRecords`); the exchange's answer for each order Gordon holds open that the
/// exchange did not list (`lookUp`); the balances (`readBalances`); then `report`.
public struct Reconciliation: Sendable {
    /// Why a run starts; while one runs, the most urgent reason waiting is kept.
    public enum Trigger: String, Sendable, Comparable {
        case timer, start, streamReconnected, outcomeUnknown

        var urgency: Int { [.timer: 0, .start: 1, .streamReconnected: 2, .outcomeUnknown: 3][self] ?? 0 }
        public static func < (lhs: Trigger, rhs: Trigger) -> Bool { lhs.urgency < rhs.urgency }
    }

    public enum Action: Sendable, Equatable {
        case listOpenOrders
        case readGordonRecords([ClientOrderId])
        /// Ask the exchange for each of these orders by client order id.
        case lookUp([Order])
        case readBalances
        /// What the run found; with `listAgain` a trigger that came in meanwhile has already
        /// started the next run, and its first step is `listOpenOrders`.
        case report(ReconciliationReport, listAgain: Bool)
        /// A run is under way; this trigger runs again once it reports.
        case none
    }

    public struct Configuration: Sendable {
        /// A PENDING_NEW order younger than this may still be on its way to the exchange:
        /// neither placed nor lost yet (the client's recvWindow plus its retries).
        public var placementWindow: Int64 = 30_000
        /// A shortfall no larger than this is none (dust, rounding).
        public var balanceTolerance: ExactDecimal = ExactDecimal(significand: 1, scale: 8)

        public init() {}
    }

    enum Phase: Sendable, Equatable { case idle, listing, readingGordonRecords, lookingUp, readingBalances }

    public let configuration: Configuration
    private(set) var phase = Phase.idle
    private var trigger = Trigger.start
    private var rerun: Trigger?
    private var gordonOpen: [ClientOrderId: Order] = [:]
    private var exchangeOpen: [ClientOrderId: Order] = [:]
    private var report = ReconciliationReport()

    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
    }

    public var isRunning: Bool { phase != .idle }

    /// A reason to reconcile. While a run is under way the latest reason is kept and a new
    /// run starts when this one reports (an order that went unknown mid-run is not missed).
    public mutating func start(_ trigger: Trigger) -> Action {
        guard phase == .idle else {
            rerun = max(rerun ?? trigger, trigger)
            return .none
        }
        self.trigger = trigger
        report = ReconciliationReport(trigger: trigger)
        phase = .listing
        return .listOpenOrders
    }

    public mutating func openOrdersListed(gordon: [Order], exchange: [Order]) -> Action {
        guard phase == .listing else { return .none }
        gordonOpen = Dictionary(gordon.map { ($0.clientOrderId, $0) }, uniquingKeysWith: { first, _ in first })
        exchangeOpen = Dictionary(exchange.map { ($0.clientOrderId, $0) }, uniquingKeysWith: { first, _ in first })
        for (id, theirs) in exchangeOpen.sorted(by: { $0.key < $1.key }) {
            if let ours = gordonOpen[id] { compare(ours, with: theirs) }
        }
        let notOpenAtGordon = exchangeOpen.keys.filter { gordonOpen[$0] == nil }.sorted()
        if !notOpenAtGordon.isEmpty {
            phase = .readingGordonRecords
            return .readGordonRecords(notOpenAtGordon)
        }
        return afterGordonRecords()
    }

    /// Gordon's records of the ids asked for; an id Gordon has no record of is absent.
    public mutating func gordonRecordsRead(_ records: [Order]) -> Action {
        guard phase == .readingGordonRecords else { return .none }
        let known = Dictionary(records.map { ($0.clientOrderId, $0) }, uniquingKeysWith: { first, _ in first })
        for (id, theirs) in exchangeOpen.sorted(by: { $0.key < $1.key }) where gordonOpen[id] == nil {
            if let ours = known[id], ours.isOpen {
                compare(ours, with: theirs)  // placed between the two reads
            } else if let ours = known[id] {
                // Gordon closed it, the exchange still works it: the two disagree.
                report.divergences.append(.init(clientOrderId: id, kind: .openOnlyAtExchange, gordon: ours.status, exchange: theirs.status))
            } else {
                report.unknownToGordon.append(theirs)  // placed by hand: reported, left alone
            }
        }
        return afterGordonRecords()
    }

    private mutating func afterGordonRecords() -> Action {
        let missing = gordonOpen.values.filter { exchangeOpen[$0.clientOrderId] == nil }.sorted { $0.clientOrderId < $1.clientOrderId }
        guard missing.isEmpty else {
            phase = .lookingUp
            return .lookUp(missing)
        }
        phase = .readingBalances
        return .readBalances
    }

    /// The exchange's answer per order looked up; nil where it knows no such order.
    public mutating func lookedUp(_ answers: [ClientOrderId: Order?], now: Timestamp) -> Action {
        guard phase == .lookingUp else { return .none }
        for ours in gordonOpen.values.sorted(by: { $0.clientOrderId < $1.clientOrderId }) where exchangeOpen[ours.clientOrderId] == nil {
            switch answers[ours.clientOrderId] {
            case .some(.some(let theirs)):
                compare(ours, with: theirs)
            case .some(.none):
                if ours.status == .pendingNew {
                    if now.milliseconds - ours.createdAt.milliseconds >= configuration.placementWindow {
                        report.neverPlaced.append(ours.clientOrderId)
                    } else {
                        report.inFlight.append(ours.clientOrderId)
                    }
                } else {
                    report.divergences.append(.init(clientOrderId: ours.clientOrderId, kind: .unknownToExchange, gordon: ours.status, exchange: nil))
                }
            case .none:
                report.inFlight.append(ours.clientOrderId)  // not answered: asked again next run
            }
        }
        phase = .readingBalances
        return .readBalances
    }

    /// What Gordon's records say the account holds at least of each asset (its bots'
    /// positions), and the exchange's balances. The account holding less (free + locked) is a
    /// divergence: sold or withdrawn behind Gordon's back, or a fill Gordon booked that never
    /// happened. Holding more is not: the account may hold the operator's own coins.
    /// Skipped when this run advanced records: the expectation was read before those fills
    /// were written, and the next run compares with them in.
    public mutating func balancesRead(expected: [Asset: ExactDecimal], exchange: [Balance]) -> Action {
        guard phase == .readingBalances else { return .none }
        guard report.advanced.isEmpty else {
            report.balancesDeferred = true
            return finish()
        }
        var held: [Asset: ExactDecimal] = [:]
        var unreadable: Set<Asset> = []
        for balance in exchange {
            guard let total = try? balance.free.adding(balance.locked).adding(held[balance.asset] ?? .zero) else {
                unreadable.insert(balance.asset)
                continue
            }
            held[balance.asset] = total
        }
        for (asset, total) in expected.sorted(by: { $0.key < $1.key }) {
            let actual = held[asset] ?? .zero
            guard !unreadable.contains(asset), let shortfall = try? total.subtracting(actual), shortfall <= configuration.balanceTolerance else {
                report.balanceDivergences.append(.init(asset: asset, expected: total, exchange: actual))
                continue
            }
        }
        return finish()
    }

    /// A read failed: this run ends without a report; the shell retries on its schedule.
    public mutating func failed() -> Action {
        guard phase != .idle else { return .none }
        phase = .idle
        return rerun.map { next in
            rerun = nil
            return start(next)
        } ?? .none
    }

    private mutating func finish() -> Action {
        let done = report
        phase = .idle
        gordonOpen = [:]
        exchangeOpen = [:]
        guard let next = rerun else { return .report(done, listAgain: false) }
        rerun = nil
        _ = start(next)
        return .report(done, listAgain: true)
    }

    /// The exchange's state of an order Gordon holds open. Ahead is normal (a fill the stream
    /// missed): Gordon's record is advanced. Anything Gordon's rules refuse (back from
    /// FILLED, less executed) is a divergence, never written.
    private mutating func compare(_ ours: Order, with theirs: Order) {
        guard ours.status != theirs.status || ours.executedQuantity != theirs.executedQuantity
                || ours.cumulativeQuoteQuantity != theirs.cumulativeQuoteQuantity || ours.exchangeOrderId != theirs.exchangeOrderId else { return }
        var advanced = ours
        do {
            try advanced.apply(status: theirs.status, executedQuantity: theirs.executedQuantity, cumulativeQuote: theirs.cumulativeQuoteQuantity,
                               at: theirs.updatedAt, exchangeOrderId: theirs.exchangeOrderId)
            if advanced != ours { report.advanced.append(advanced) }
        } catch {
            report.divergences.append(.init(clientOrderId: ours.clientOrderId, kind: .conflicting, gordon: ours.status, exchange: theirs.status))
        }
    }
}

/// What one reconciliation found. Clean when Gordon and the exchange agree.
public struct ReconciliationReport: Sendable, Equatable {
    public struct Divergence: Sendable, Equatable {
        public enum Kind: String, Sendable {
            /// Gordon holds it closed, the exchange still works it.
            case openOnlyAtExchange
            /// Gordon saw it acknowledged; the exchange knows no such order.
            case unknownToExchange
            /// The exchange's state is one Gordon's record cannot move to.
            case conflicting
        }
        public let clientOrderId: ClientOrderId
        public let kind: Kind
        public let gordon: OrderStatus
        public let exchange: OrderStatus?
    }

    public struct BalanceDivergence: Sendable, Equatable {
        public let asset: Asset
        public let expected: ExactDecimal
        public let exchange: ExactDecimal
    }

    public var trigger: Reconciliation.Trigger = .start
    /// Gordon's records moved to the exchange's state, to be written.
    public var advanced: [Order] = []
    /// PENDING_NEW past the placement window and unknown to the exchange: never placed, to
    /// be recorded as refused (its intent may be placed again under the same id).
    public var neverPlaced: [ClientOrderId] = []
    /// PENDING_NEW still inside the placement window, or not answered: next run decides.
    public var inFlight: [ClientOrderId] = []
    /// Open on the exchange, no record at Gordon: placed by hand. Reported, left alone.
    public var unknownToGordon: [Order] = []
    public var divergences: [Divergence] = []
    public var balanceDivergences: [BalanceDivergence] = []
    /// Balances were not compared: this run advanced records (see `balancesRead`).
    public var balancesDeferred = false

    public init(trigger: Reconciliation.Trigger = .start) {
        self.trigger = trigger
    }

    public var isClean: Bool { divergences.isEmpty && balanceDivergences.isEmpty && unknownToGordon.isEmpty }
}
