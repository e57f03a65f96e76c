import GordonDomain

/// What a placement will do, decided in full before any state changes, so that a rejection
/// (insufficient balance, LIMIT_MAKER crossing) leaves the exchange exactly as it was.
struct PlacementPlan: Sendable {
    var origQty: ExactDecimal
    var fills: [PlannedFill]
    /// Quote (BUY) or base (SELL) locked while a limit order is working; zero for MARKET.
    var lock: ExactDecimal
    /// Whether an unfilled remainder stays on the book (GTC, LIMIT_MAKER) or expires
    /// (MARKET, IOC, FOK).
    var restsOnBook: Bool
}

extension SimExchangeCore {
    /// `POST /api/v3/order/test`: every check that does not need the matching engine, and no
    /// state change. See `OrderChecks` for why balance and duplicate ids are not checked here.
    public func validate(_ params: SimOrderParams) throws(SimRejection) {
        guard let market = markets[params.symbol] else { throw SimRejection.invalidSymbol }
        _ = try OrderChecks.check(params, in: market)
    }

    /// `POST /api/v3/order` with a FULL response.
    ///
    /// After the API checks (`OrderChecks`) the matching engine's rules apply, in this order:
    /// - client order id: a sent one in use by an OPEN order of the symbol → -2010
    ///   "Duplicate order sent." (rest-api.md: accepted again once the earlier order closed);
    ///   none sent → a generated 22-character id, as Binance generates.
    /// - LIMIT_MAKER that would trade on arrival → -2010 "Order would immediately match and take.".
    /// - funds: a LIMIT BUY needs `price × quantity` free quote and a SELL `quantity` free base
    ///   (what it locks); a MARKET order needs what its walk through the book costs.
    ///   Short → -2010 "Account has insufficient balance for requested action.".
    /// Then MARKET walks the book as taker and ends FILLED, or EXPIRED with what filled when
    /// the levels run out; LIMIT takes the levels up to its price and GTC rests the remainder
    /// (NEW / PARTIALLY_FILLED), IOC expires it, FOK fills completely or expires with nothing.
    /// Events: NEW, a TRADE per fill, EXPIRED if so, then one outboundAccountPosition.
    public mutating func place(_ params: SimOrderParams, now: Int64) throws(SimRejection) -> (order: SimOrder, events: [SimEvent]) {
        guard var market = takeMarket(params.symbol) else { throw SimRejection.invalidSymbol }
        defer { markets[params.symbol] = market }
        let checked = try OrderChecks.check(params, in: market)
        if let id = checked.clientOrderId, isOpen(clientOrderId: id, in: market) { throw SimRejection.duplicateOrder }
        try checkOpenOrderLimits(checked, in: market)
        try checkPercentPriceBySide(checked, in: market)
        var plan = try checked.stopPrice == nil ? plan(checked, in: market) : stopPlan(checked, in: market)
        let prevention = selfTradePrevention(checked, plan: &plan, in: market)
        let order = insertOrder(checked, origQty: plan.origQty, in: &market, now: now)
        let orderId = order.orderId
        if plan.lock.isPositive {
            ledger.lock(plan.lock, of: checked.side == .buy ? market.spec.quote : market.spec.base)
        }

        var events: [SimEvent] = [.execution(order: order, executionType: .new, lastFill: nil, time: now)]
        var latest = order
        var matchId: Int64?
        if prevention.expiresTaker || !prevention.makers.isEmpty {
            matchId = market.nextPreventedMatchId
            market.nextPreventedMatchId += 1
        }
        for makerId in prevention.makers {
            var expired = close(in: &market, orderId: makerId, as: .expiredInMatch, now: now)
            expired.preventedMatchId = matchId
            market.orders[makerId] = expired
            events.append(.execution(order: expired, executionType: .tradePrevention, lastFill: nil, time: now))
            settleList(of: makerId, keeping: nil, othersAs: .expired, in: &market, now: now, events: &events)
        }
        for planned in plan.fills {
            let (updated, fill) = applyFill(in: &market, orderId: orderId, price: planned.price, quantity: planned.quantity,
                                            isMaker: false, now: now)
            latest = updated
            events.append(.execution(order: updated, executionType: .trade, lastFill: fill, time: now))
        }
        if latest.isOpen, prevention.expiresTaker {
            latest = close(in: &market, orderId: orderId, as: .expiredInMatch, now: now)
            latest.preventedMatchId = matchId
            market.orders[orderId] = latest
            events.append(.execution(order: latest, executionType: .tradePrevention, lastFill: nil, time: now))
        } else if latest.isOpen, !plan.restsOnBook {
            latest = close(in: &market, orderId: orderId, as: .expired, now: now)
            events.append(.execution(order: latest, executionType: .expired, lastFill: nil, time: now))
        }
        appendBalanceChanges(to: &events, now: now)
        return (latest, events)
    }

    /// Puts a new order on the market's tables, NEW, with the sent client id or a generated one.
    mutating func insertOrder(_ checked: CheckedOrder, origQty: ExactDecimal, in market: inout SymbolMarket, now: Int64,
                              orderListId: Int64 = -1) -> SimOrder {
        let clientOrderId = checked.clientOrderId ?? generateClientOrderId(in: market)
        let orderId = market.nextOrderId
        market.nextOrderId += 1
        let order = SimOrder(
            orderId: orderId, clientOrderId: clientOrderId, symbol: market.spec.symbol, side: checked.side,
            type: checked.type, timeInForce: checked.timeInForce, price: checked.price ?? .zero,
            stopPrice: checked.stopPrice ?? .zero, origQty: origQty, executedQty: .zero, cummulativeQuoteQty: .zero,
            origQuoteOrderQty: { if case .quote(let amount) = checked.size { amount } else { .zero } }(),
            status: .new, time: now, updateTime: now, workingTime: checked.stopPrice == nil ? now : -1,
            selfTradePreventionMode: checked.selfTradePreventionMode, fills: [], orderListId: orderListId)
        market.orders[orderId] = order
        market.openOrderIds.insert(orderId)
        market.orderIdByClientId[clientOrderId] = orderId
        return order
    }

    /// Self-trade prevention, decided by the taker's mode (faqs/stp_faq.md): the account's
    /// own working orders on the other side that this order would reach (a BUY reaches an
    /// own SELL priced at or below its limit, or, as MARKET, at or below the deepest level it
    /// takes; a SELL mirrored) are expired under EXPIRE_MAKER, and under EXPIRE_TAKER the
    /// order keeps only the fills priced ahead of the first own order and then expires; both
    /// under EXPIRE_BOTH. NONE leaves own orders out of the match. A stop waiting for its
    /// trigger and a LIMIT_MAKER (which never takes) meet nothing.
    private func selfTradePrevention(_ order: CheckedOrder, plan: inout PlacementPlan, in market: SymbolMarket)
        -> (makers: [Int64], expiresTaker: Bool) {
        let mode = order.selfTradePreventionMode
        guard mode != "NONE", order.stopPrice == nil, order.type != .limitMaker else { return ([], false) }
        let isBuy = order.side == .buy
        let reach: ExactDecimal?
        if let limit = order.price {
            reach = limit
        } else {
            reach = isBuy ? plan.fills.map(\.price).max() : plan.fills.map(\.price).min()
        }
        guard let reach else { return ([], false) }
        let reached = market.openOrderIds.compactMap { market.orders[$0] }
            .filter { own in
                own.side != order.side && !own.isWaitingForTrigger && own.type != .market
                    && (isBuy ? own.price <= reach : own.price >= reach)
            }
            .sorted { isBuy ? ($0.price, $0.orderId) < ($1.price, $1.orderId) : ($0.price, $1.orderId) > ($1.price, $0.orderId) }
        guard let first = reached.first else { return ([], false) }
        let expiresTaker = mode == "EXPIRE_TAKER" || mode == "EXPIRE_BOTH"
        if expiresTaker {
            plan.fills = plan.fills.filter { isBuy ? $0.price < first.price : $0.price > first.price }
            plan.restsOnBook = false
        }
        let makers = mode == "EXPIRE_MAKER" || mode == "EXPIRE_BOTH" ? reached.map(\.orderId) : []
        return (makers, expiresTaker)
    }

    /// MAX_NUM_ORDERS counts every open order of the symbol, MAX_NUM_ALGO_ORDERS the open
    /// stop orders; the new order must still fit (filters.md).
    private func checkOpenOrderLimits(_ order: CheckedOrder, in market: SymbolMarket) throws(SimRejection) {
        guard market.openOrderIds.count < market.spec.maxNumOrders else { throw SimRejection.filterFailure("MAX_NUM_ORDERS") }
        if order.stopPrice != nil {
            let algo = market.openOrderIds.count { market.orders[$0]!.isStopOrder }
            guard algo < market.spec.maxNumAlgoOrders else { throw SimRejection.filterFailure("MAX_NUM_ALGO_ORDERS") }
        }
    }

    /// PERCENT_PRICE_BY_SIDE, which Binance checks in the matching engine: a limit price
    /// outside the side's band around the reference price is refused.
    func checkPercentPriceBySide(_ order: CheckedOrder, in market: SymbolMarket) throws(SimRejection) {
        guard let filter = market.spec.percentPriceBySide, let limit = order.price, let last = market.lastPrice,
              let price = try? Price(limit), let reference = try? Price(last) else { return }
        do {
            try filter.validate(side: order.side, price: price, weightedAveragePrice: reference)
        } catch {
            throw SimRejection.filterFailure("PERCENT_PRICE_BY_SIDE")
        }
    }

    /// A stop-limit order waits off the book, its funds locked as for the limit order it
    /// becomes. Its trigger must not already be reached by the last price: Binance refuses
    /// such an order ("Order would trigger immediately.").
    private func stopPlan(_ order: CheckedOrder, in market: SymbolMarket) throws(SimRejection) -> PlacementPlan {
        guard let stop = order.stopPrice, let limit = order.price, case .base(let quantity) = order.size else {
            preconditionFailure("OrderChecks gives a stop-limit order a stop, a limit and a base quantity")
        }
        guard let last = market.lastPrice else { throw SimRejection.marketClosed }
        if Self.isTriggered(type: order.type, side: order.side, stop: stop, low: last, high: last) {
            throw SimRejection.wouldTriggerImmediately
        }
        let lock = order.side == .buy ? limit * quantity : quantity
        guard lock <= ledger.free(order.side == .buy ? market.spec.quote : market.spec.base) else { throw SimRejection.insufficientBalance }
        return PlacementPlan(origQty: quantity, fills: [], lock: lock, restsOnBook: true)
    }

    /// Whether a market that traded between `low` and `high` reaches a stop: a stop-loss
    /// sells when the price falls to it and buys when it rises to it; a take-profit the
    /// other way round (Binance's trigger rules for STOP_LOSS_LIMIT and TAKE_PROFIT_LIMIT).
    static func isTriggered(type: OrderType, side: Side, stop: ExactDecimal, low: ExactDecimal, high: ExactDecimal) -> Bool {
        switch (type, side) {
        case (.stopLossLimit, .sell), (.takeProfitLimit, .buy): low <= stop
        case (.stopLossLimit, .buy), (.takeProfitLimit, .sell): high >= stop
        default: false
        }
    }

    func isOpen(clientOrderId: String, in market: SymbolMarket) -> Bool {
        // Only the newest order with an id can be open: a reuse is accepted only once it closed.
        market.orderIdByClientId[clientOrderId].flatMap { market.orders[$0] }?.isOpen ?? false
    }

    /// The fills, lock and outcome of a checked order, or the matching engine's rejection.
    private func plan(_ order: CheckedOrder, in market: SymbolMarket) throws(SimRejection) -> PlacementPlan {
        let spec = market.spec
        let book = market.book
        let levels = book?.levels(against: order.side) ?? []
        guard let limit = order.price else {
            // MARKET: OrderChecks already refused it when there is no book.
            let walk = TakerWalk(levels: levels, side: order.side, size: order.size, limit: nil, step: spec.marketStep)
            let needed = order.side == .buy ? walk.quoteQuantity : walk.quantity
            let available = ledger.free(order.side == .buy ? spec.quote : spec.base)
            guard needed <= available else { throw SimRejection.insufficientBalance }
            let origQty: ExactDecimal
            switch order.size {
            case .base(let quantity):
                origQty = quantity
            case .quote:
                // A quote-sized order's quantity is what it bought or sold. One that expired
                // reports a little more than it executed (what the unused quote would have
                // taken at the last price reached), so that executed < orig, as EXPIRED means.
                if !walk.isIncomplete, walk.quantity.isPositive {
                    origQty = walk.quantity
                } else {
                    let price = walk.fills.last?.price ?? levels.first?.price ?? market.lastPrice!
                    let unfilled = TakerWalk.wholeSteps(of: walk.unusedQuote, at: price, step: spec.marketStep)
                    origQty = walk.quantity + max(unfilled, spec.marketStep)
                }
            }
            return PlacementPlan(origQty: origQty, fills: walk.fills, lock: .zero, restsOnBook: false)
        }

        guard case .base(let quantity) = order.size else { preconditionFailure("OrderChecks sizes limit orders in base") }
        if order.type == .limitMaker, book?.crosses(side: order.side, price: limit) == true {
            throw SimRejection.wouldMatchAndTake
        }
        let lock = order.side == .buy ? limit * quantity : quantity
        guard lock <= ledger.free(order.side == .buy ? spec.quote : spec.base) else { throw SimRejection.insufficientBalance }
        if order.type == .limitMaker {
            return PlacementPlan(origQty: quantity, fills: [], lock: lock, restsOnBook: true)
        }
        let walk = TakerWalk(levels: levels, side: order.side, size: order.size, limit: limit, step: spec.marketStep)
        switch order.timeInForce ?? .gtc {
        case .gtc:
            return PlacementPlan(origQty: quantity, fills: walk.fills, lock: lock, restsOnBook: true)
        case .ioc:
            return PlacementPlan(origQty: quantity, fills: walk.fills, lock: lock, restsOnBook: false)
        case .fok:
            let complete = walk.quantity == quantity
            return PlacementPlan(origQty: quantity, fills: complete ? walk.fills : [], lock: lock, restsOnBook: false)
        }
    }
}
