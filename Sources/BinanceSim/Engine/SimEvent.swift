public import GordonDomain

/// The `x` field of an executionReport (enums.md, Execution types) the simulator produces.
public enum SimExecutionType: String, Sendable, Hashable {
    case new = "NEW"
    case trade = "TRADE"
    case canceled = "CANCELED"
    case expired = "EXPIRED"
    case rejected = "REJECTED"
    /// An order expired by self-trade prevention (status EXPIRED_IN_MATCH).
    case tradePrevention = "TRADE_PREVENTION"
}

/// One asset of the account: `free` to trade, `locked` by open orders.
public struct SimBalance: Sendable, Hashable {
    public let asset: Asset
    public let free: ExactDecimal
    public let locked: ExactDecimal

    public init(asset: Asset, free: ExactDecimal, locked: ExactDecimal) {
        self.asset = asset
        self.free = free
        self.locked = locked
    }
}

/// What the user-data stream must report after a state change, in the order to send it.
public enum SimEvent: Sendable, Hashable {
    /// Becomes an executionReport. `order` is the order's state right after this step (so
    /// a NEW event shows nothing executed even if the same placement then fills).
    case execution(order: SimOrder, executionType: SimExecutionType, lastFill: SimFill?, time: Int64)
    /// Becomes an outboundAccountPosition: only the balances that changed, sorted by asset.
    case accountPosition(balances: [SimBalance], time: Int64)
    /// Becomes a listStatus: an order list was placed or finished.
    case listStatus(list: SimOrderList, time: Int64)
}
