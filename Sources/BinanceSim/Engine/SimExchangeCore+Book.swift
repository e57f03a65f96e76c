public import GordonDomain

extension SimExchangeCore {
    /// The market moved (a trade or kline update from the price feed).
    ///
    /// Sets the last price, so the synthetic book now sits around `last`, and fills resting
    /// orders the traded range reached: a BUY whose limit is at or above the low, a SELL at
    /// or below the high (the range is widened to include `last`). Each fills as maker at its
    /// own limit price, at most `levelQuantity` per order per call, so a large order goes
    /// PARTIALLY_FILLED over several moves as it would against real volume. Orders are
    /// visited by orderId. Each fill yields a TRADE executionReport followed by the balances
    /// it changed. The first leg of an OCO to trigger or fill expires the other leg (its
    /// EXPIRED report and the list's ALL_DONE come before the leg's own trade). An unknown
    /// symbol or a non-positive price is ignored.
    public mutating func marketMoved(symbol: Symbol, last: ExactDecimal, low: ExactDecimal, high: ExactDecimal,
                                     now: Int64) -> [SimEvent] {
        guard last.isPositive, var market = takeMarket(symbol) else { return [] }
        defer { markets[symbol] = market }
        market.lastPrice = last
        market.updateId += 1
        let low = min(low, last)
        let high = max(high, last)
        var events: [SimEvent] = []
        for orderId in market.openOrderIds.sorted() {
            // An OCO leg earlier in this loop may have expired this one.
            guard var order = market.orders[orderId], order.isOpen, order.type != .market else { continue }
            if order.isWaitingForTrigger {
                guard Self.isTriggered(type: order.type, side: order.side, stop: order.stopPrice, low: low, high: high) else { continue }
                // Triggered: from now on a limit order at its price, which may fill in this very move.
                order.workingTime = now
                order.updateTime = now
                market.orders[orderId] = order
                settleList(of: orderId, keeping: orderId, othersAs: .expired, in: &market, now: now, events: &events)
            }
            let reached = order.side == .buy ? order.price >= low : order.price <= high
            let quantity = min(market.spec.levelQuantity, order.remainingQty)
            guard reached, quantity.isPositive else {
                appendBalanceChanges(to: &events, now: now)
                continue
            }
            // An OCO's limit leg that starts filling expires its stop leg first.
            settleList(of: orderId, keeping: orderId, othersAs: .expired, in: &market, now: now, events: &events)
            let (updated, fill) = applyFill(in: &market, orderId: orderId, price: order.price, quantity: quantity,
                                            isMaker: true, now: now)
            events.append(.execution(order: updated, executionType: .trade, lastFill: fill, time: now))
            appendBalanceChanges(to: &events, now: now)
        }
        return events
    }

    /// `GET /api/v3/ticker/bookTicker`: the synthetic best levels (zeros for a side with no
    /// level); nil before the first price or for an unknown symbol.
    public func bookTicker(_ symbol: Symbol) -> (bidPrice: ExactDecimal, bidQty: ExactDecimal, askPrice: ExactDecimal, askQty: ExactDecimal)? {
        guard let book = markets[symbol]?.book else { return nil }
        return (book.bestBid?.price ?? .zero, book.bestBid?.quantity ?? .zero,
                book.bestAsk?.price ?? .zero, book.bestAsk?.quantity ?? .zero)
    }

    /// `GET /api/v3/depth`: up to `limit` synthetic levels per side, best first, with the
    /// count of market moves as `lastUpdateId`. The account's own resting orders are not
    /// shown (the synthetic book stands for everyone else). Nil before the first price.
    public func depth(_ symbol: Symbol, limit: Int) -> (lastUpdateId: Int64, bids: [(ExactDecimal, ExactDecimal)], asks: [(ExactDecimal, ExactDecimal)])? {
        guard let market = markets[symbol], let book = market.book else { return nil }
        let limit = max(0, limit)
        return (market.updateId,
                book.bids.prefix(limit).map { ($0.price, $0.quantity) },
                book.asks.prefix(limit).map { ($0.price, $0.quantity) })
    }
}
