public import GordonKernel

/// An order's lifecycle state: Binance's statuses plus Gordon's own `PENDING_NEW`.
///
/// Transition table (`from → allowed next states`). A state listed as its own successor
/// accepts repeated updates (duplicate acks, further partial fills); terminal states accept
/// nothing, so a late or replayed update can never resurrect a finished order.
///
/// | from             | to |
/// |------------------|----|
/// | PENDING_NEW      | PENDING_NEW, NEW, PARTIALLY_FILLED, FILLED, CANCELED, PENDING_CANCEL, REJECTED, EXPIRED, EXPIRED_IN_MATCH |
/// | NEW              | NEW, PARTIALLY_FILLED, FILLED, CANCELED, PENDING_CANCEL, EXPIRED, EXPIRED_IN_MATCH |
/// | PARTIALLY_FILLED | PARTIALLY_FILLED, FILLED, CANCELED, PENDING_CANCEL, EXPIRED, EXPIRED_IN_MATCH |
/// | PENDING_CANCEL   | PENDING_CANCEL, PARTIALLY_FILLED, FILLED, CANCELED, EXPIRED, EXPIRED_IN_MATCH |
/// | FILLED, CANCELED, REJECTED, EXPIRED, EXPIRED_IN_MATCH | — (terminal) |
///
/// Why: PENDING_NEW may jump to any exchange state because the first thing Gordon hears
/// may be a reconciliation long after placement (an IOC already EXPIRED, a market order
/// already FILLED). REJECTED only happens at placement, so only PENDING_NEW reaches it.
/// Nothing returns to PENDING_NEW or NEW: the exchange never un-fills. PENDING_CANCEL may
/// still see fills, because a fill can race the cancel request.
public enum OrderStatus: String, Sendable, Hashable, Codable, CaseIterable, CustomStringConvertible {
    /// Accepted by Gordon's executor, not yet acknowledged by the exchange.
    case pendingNew = "PENDING_NEW"
    case new = "NEW"
    case partiallyFilled = "PARTIALLY_FILLED"
    case filled = "FILLED"
    case canceled = "CANCELED"
    case pendingCancel = "PENDING_CANCEL"
    case rejected = "REJECTED"
    case expired = "EXPIRED"
    /// Expired by the exchange's self-trade prevention.
    case expiredInMatch = "EXPIRED_IN_MATCH"

    public var description: String { rawValue }

    public var isTerminal: Bool {
        switch self {
        case .filled, .canceled, .rejected, .expired, .expiredInMatch: true
        case .pendingNew, .new, .partiallyFilled, .pendingCancel: false
        }
    }

    /// The states this one may move to, itself included where repeats are allowed.
    public var successors: Set<OrderStatus> { OrderStatus.successorTable[self]! }

    /// Built once: the executor and the backtester check a transition on every update.
    private static let successorTable: [OrderStatus: Set<OrderStatus>] = Dictionary(
        uniqueKeysWithValues: allCases.map { ($0, $0.computeSuccessors()) })

    private func computeSuccessors() -> Set<OrderStatus> {
        switch self {
        case .pendingNew:
            [.pendingNew, .new, .partiallyFilled, .filled, .canceled, .pendingCancel, .rejected, .expired, .expiredInMatch]
        case .new:
            [.new, .partiallyFilled, .filled, .canceled, .pendingCancel, .expired, .expiredInMatch]
        case .partiallyFilled:
            [.partiallyFilled, .filled, .canceled, .pendingCancel, .expired, .expiredInMatch]
        case .pendingCancel:
            [.pendingCancel, .partiallyFilled, .filled, .canceled, .expired, .expiredInMatch]
        case .filled, .canceled, .rejected, .expired, .expiredInMatch:
            []
        }
    }

    public func canTransition(to next: OrderStatus) -> Bool {
        successors.contains(next)
    }

    /// `next` if the table allows it, else `illegalOrderTransition` naming both states.
    public func transition(to next: OrderStatus) throws(GordonError) -> OrderStatus {
        guard canTransition(to: next) else {
            throw GordonError(.illegalOrderTransition, "order cannot go from \(rawValue) to \(next.rawValue)",
                              context: ["from": rawValue, "to": next.rawValue])
        }
        return next
    }
}
