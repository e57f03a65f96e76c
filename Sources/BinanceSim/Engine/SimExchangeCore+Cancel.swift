public import GordonDomain

extension SimExchangeCore {
    /// `DELETE /api/v3/order`: cancels an open order and releases its lock exactly.
    ///
    /// Neither id → -1102; unknown, or already FILLED/CANCELED/EXPIRED → -2011 "Unknown order
    /// sent." (Binance answers a cancel of a closed order the same way). Emits a CANCELED
    /// executionReport and the released balances.
    public mutating func cancel(symbol: Symbol, orderId: Int64?, origClientOrderId: String?,
                                now: Int64) throws(SimRejection) -> (order: SimOrder, events: [SimEvent]) {
        guard var market = takeMarket(symbol) else { throw SimRejection.invalidSymbol }
        defer { markets[symbol] = market }
        guard let order = try market.find(orderId: orderId, clientOrderId: origClientOrderId), order.isOpen else {
            throw SimRejection.unknownOrderToCancel
        }
        let canceled = close(in: &market, orderId: order.orderId, as: .canceled, now: now)
        var events: [SimEvent] = [.execution(order: canceled, executionType: .canceled, lastFill: nil, time: now)]
        appendBalanceChanges(to: &events, now: now)
        return (canceled, events)
    }
}
