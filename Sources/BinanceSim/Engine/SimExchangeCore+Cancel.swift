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
        // rest-api.md: "Canceling an individual order from an order list will cancel the entire order list."
        settleList(of: order.orderId, keeping: nil, othersAs: .canceled, in: &market, now: now, events: &events)
        appendBalanceChanges(to: &events, now: now)
        return (canceled, events)
    }

    /// `DELETE /api/v3/openOrders`: cancels every open order of the symbol, by orderId, as one
    /// change, an OCO's two legs together. None open → -2011 "Unknown order sent." (what Binance answers).
    public mutating func cancelAll(symbol: Symbol, now: Int64) throws(SimRejection) -> (orders: [SimOrder], events: [SimEvent]) {
        guard var market = takeMarket(symbol) else { throw SimRejection.invalidSymbol }
        defer { markets[symbol] = market }
        guard !market.openOrderIds.isEmpty else { throw SimRejection.unknownOrderToCancel }
        var canceled: [SimOrder] = []
        var events: [SimEvent] = []
        for orderId in market.openOrderIds.sorted() where market.orders[orderId]!.isOpen {
            let order = close(in: &market, orderId: orderId, as: .canceled, now: now)
            canceled.append(order)
            events.append(.execution(order: order, executionType: .canceled, lastFill: nil, time: now))
            var listEvents: [SimEvent] = []
            settleList(of: orderId, keeping: nil, othersAs: .canceled, in: &market, now: now, events: &listEvents)
            for case .execution(let sibling, _, _, _) in listEvents { canceled.append(sibling) }
            events += listEvents
        }
        appendBalanceChanges(to: &events, now: now)
        return (canceled, events)
    }
}
