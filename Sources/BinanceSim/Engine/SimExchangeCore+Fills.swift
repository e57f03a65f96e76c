import GordonDomain

/// How one fill moves money, shared by taker fills at placement and maker fills on market moves.
extension SimExchangeCore {
    /// Books one fill of an order: a new tradeId, the balance moves, the order's progress.
    ///
    /// A limit order pays out of its lock: a BUY releases `limit × quantity` of quote, pays
    /// the fill's quote amount and returns the price improvement to free; a SELL pays the base
    /// out of its lock. A MARKET order has no lock and pays from free. The received asset is
    /// credited net of commission (`SimCommission`), maker or taker rate from `FeeModel`.
    mutating func applyFill(in market: inout SymbolMarket, orderId: Int64, price: ExactDecimal, quantity: ExactDecimal,
                            isMaker: Bool, now: Int64) -> (order: SimOrder, fill: SimFill) {
        var order = market.orders[orderId]!
        let spec = market.spec
        let quoteQuantity = price * quantity
        let rate = fees.rate(isMaker: isMaker)
        let paysFromLock = order.type != .market
        let commission: ExactDecimal
        let commissionAsset: Asset
        switch order.side {
        case .buy:
            if paysFromLock {
                let reserved = order.price * quantity
                ledger.debitLocked(reserved, of: spec.quote)
                ledger.creditFree(reserved - quoteQuantity, of: spec.quote)
            } else {
                ledger.debitFree(quoteQuantity, of: spec.quote)
            }
            commission = SimCommission.charge(on: quantity, rate: rate)
            commissionAsset = spec.base
            ledger.creditFree(quantity - commission, of: spec.base)
        case .sell:
            if paysFromLock {
                ledger.debitLocked(quantity, of: spec.base)
            } else {
                ledger.debitFree(quantity, of: spec.base)
            }
            commission = SimCommission.charge(on: quoteQuantity, rate: rate)
            commissionAsset = spec.quote
            ledger.creditFree(quoteQuantity - commission, of: spec.quote)
        }
        let fill = SimFill(tradeId: market.nextTradeId, orderId: orderId, symbol: spec.symbol, side: order.side,
                           price: price, quantity: quantity, quoteQuantity: quoteQuantity, commission: commission,
                           commissionAsset: commissionAsset, time: now, isMaker: isMaker)
        market.nextTradeId += 1
        market.trades.append(fill)
        order.executedQty += quantity
        order.cummulativeQuoteQty += quoteQuantity
        order.fills.append(fill)
        order.updateTime = now
        order.status = order.executedQty == order.origQty ? .filled : .partiallyFilled
        if order.status == .filled { market.openOrderIds.remove(orderId) }
        market.orders[orderId] = order
        return (order, fill)
    }

    /// Ends an open order (CANCELED or EXPIRED), releasing what its remainder still locks. A
    /// leg of an order list that still shares its lock releases nothing: `settleList` does.
    mutating func close(in market: inout SymbolMarket, orderId: Int64, as status: OrderStatus, now: Int64) -> SimOrder {
        var order = market.orders[orderId]!
        let sharesListLock = orderLists[order.orderListId].map { !$0.isDone } ?? false
        if order.type != .market, !sharesListLock {
            let (amount, asset) = reservation(of: order, in: market.spec)
            ledger.release(amount, of: asset)
        }
        order.status = status
        order.updateTime = now
        market.openOrderIds.remove(orderId)
        market.orders[orderId] = order
        return order
    }

    /// What a working limit order's remainder holds: quote at its limit price for a BUY, the
    /// base itself for a SELL.
    func reservation(of order: SimOrder, in spec: SimSymbolSpec) -> (amount: ExactDecimal, asset: Asset) {
        order.side == .buy ? (order.price * order.remainingQty, spec.quote) : (order.remainingQty, spec.base)
    }

    /// Appends one outboundAccountPosition with the balances changed since the last one, if any.
    mutating func appendBalanceChanges(to events: inout [SimEvent], now: Int64) {
        let changed = ledger.drainChanges()
        if !changed.isEmpty { events.append(.accountPosition(balances: changed, time: now)) }
    }
}
