import GordonDomain

/// Everything the engine keeps for one symbol: its spec, the market's last price and the
/// account's orders and trades there. Order and trade ids count per symbol from 1, as on
/// Binance where each symbol has its own matching engine.
struct SymbolMarket: Sendable {
    let spec: SimSymbolSpec
    var lastPrice: ExactDecimal?
    /// Bumped on every market move: the book's `lastUpdateId`.
    var updateId: Int64 = 0
    var nextOrderId: Int64 = 1
    var nextTradeId: Int64 = 1
    var nextPreventedMatchId: Int64 = 1
    var orders: [Int64: SimOrder] = [:]
    /// Orders not yet terminal.
    var openOrderIds: Set<Int64> = []
    /// Client order id → the newest order that used it (Binance reuses ids once closed, and a
    /// query by `origClientOrderId` finds the newest).
    var orderIdByClientId: [String: Int64] = [:]
    /// Ascending tradeId.
    var trades: [SimFill] = []

    init(spec: SimSymbolSpec) {
        self.spec = spec
    }

    var book: SyntheticBook? {
        lastPrice.map { SyntheticBook(spec: spec, lastPrice: $0) }
    }

    /// Binance's lookup rule (rest-api.md, Query order): by `orderId` when sent, and then a
    /// sent `origClientOrderId` must match that order too; otherwise the newest order with
    /// the client id. Nil when nothing matches.
    func find(orderId: Int64?, clientOrderId: String?) throws(SimRejection) -> SimOrder? {
        if let orderId {
            guard let order = orders[orderId] else { return nil }
            if let clientOrderId, order.clientOrderId != clientOrderId { return nil }
            return order
        }
        guard let clientOrderId else { throw SimRejection.eitherMandatory("origClientOrderId", "orderId") }
        return orderIdByClientId[clientOrderId].flatMap { orders[$0] }
    }
}
