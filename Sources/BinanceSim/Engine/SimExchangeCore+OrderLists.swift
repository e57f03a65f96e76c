public import GordonDomain

extension SimExchangeCore {
    /// `POST /api/v3/orderList/oco`, checked as Binance checks it (rest-api.md, "New Order
    /// list - OCO"; errors.md):
    /// - each leg passes the checks of a single order (`OrderChecks`);
    /// - one leg is STOP_LOSS_LIMIT, the other LIMIT_MAKER or TAKE_PROFIT_LIMIT (-1158, and
    ///   -1168 for two LIMIT_MAKERs); on a SELL the stop loss is the below leg and the profit
    ///   leg the above one, on a BUY the other way round (-1165/-1166, -1196…-1199);
    /// - SELL: profit price > last price > stop price; BUY: profit price < last < stop
    ///   ("The relationship of the prices for the orders is not correct.");
    /// - ids unique among open lists and open orders ("Duplicate order sent."), both legs
    ///   within MAX_NUM_ORDERS and the stop legs within MAX_NUM_ALGO_ORDERS, the shared lock
    ///   free, and a LIMIT_MAKER leg that would take refused.
    /// Events: NEW for each leg, the listStatus, then the locked balance.
    public mutating func placeOCO(_ params: SimOCOParams, now: Int64) throws(SimRejection)
        -> (list: SimOrderList, orders: [SimOrder], events: [SimEvent]) {
        guard var market = takeMarket(params.symbol) else { throw SimRejection.invalidSymbol }
        defer { markets[params.symbol] = market }
        if let id = params.listClientOrderId, (try? ClientOrderId(id)) == nil {
            throw SimRejection.illegalCharacters("listClientOrderId")
        }
        let above = try OrderChecks.check(params.orderParams(params.above), in: market)
        let below = try OrderChecks.check(params.orderParams(params.below), in: market)
        let profitTypes: Set<OrderType> = [.limitMaker, .takeProfitLimit]
        guard [above, below].allSatisfy({ profitTypes.contains($0.type) || $0.type == .stopLossLimit }) else {
            throw SimRejection.ocoOrderTypeRejected
        }
        if above.type == .limitMaker, below.type == .limitMaker { throw SimRejection.bothOCOOrdersLimit }
        let isSell = params.side == .sell
        let (stop, profit) = isSell ? (below, above) : (above, below)
        guard stop.type == .stopLossLimit else {
            throw isSell ? SimRejection.sellOCOStopLossMustBeBelow : SimRejection.buyOCOStopLossMustBeAbove
        }
        guard profitTypes.contains(profit.type) else {
            switch (isSell, profit.type == .limitMaker) {
            case (true, true): throw SimRejection.sellOCOLimitMustBeAbove
            case (true, false): throw SimRejection.sellOCOTakeProfitMustBeAbove
            case (false, true): throw SimRejection.buyOCOLimitMustBeBelow
            case (false, false): throw SimRejection.buyOCOTakeProfitMustBeBelow
            }
        }
        guard let last = market.lastPrice else { throw SimRejection.marketClosed }
        let stopLevel = stop.stopPrice!
        let profitLevel = profit.type == .limitMaker ? profit.price! : profit.stopPrice!
        guard isSell ? (profitLevel > last && last > stopLevel) : (profitLevel < last && last < stopLevel) else {
            throw SimRejection.ocoPriceRelationship
        }

        if let id = params.listClientOrderId, orderListIdByClientId[id].flatMap({ orderLists[$0] }).map({ !$0.isDone }) ?? false {
            throw SimRejection.duplicateOrder
        }
        for leg in [stop, profit] {
            if let id = leg.clientOrderId, isOpen(clientOrderId: id, in: market) { throw SimRejection.duplicateOrder }
        }
        if let id = stop.clientOrderId, id == profit.clientOrderId { throw SimRejection.duplicateOrder }
        guard market.openOrderIds.count + 2 <= market.spec.maxNumOrders else { throw SimRejection.filterFailure("MAX_NUM_ORDERS") }
        let algo = market.openOrderIds.count { market.orders[$0]!.isStopOrder }
        let newAlgo = profit.type == .takeProfitLimit ? 2 : 1
        guard algo + newAlgo <= market.spec.maxNumAlgoOrders else { throw SimRejection.filterFailure("MAX_NUM_ALGO_ORDERS") }
        for leg in [stop, profit] { try checkPercentPriceBySide(leg, in: market) }
        if profit.type == .limitMaker, market.book?.crosses(side: params.side, price: profit.price!) == true {
            throw SimRejection.wouldMatchAndTake
        }
        let lockAsset = isSell ? market.spec.base : market.spec.quote
        let lock = isSell ? params.quantity : max(stop.price! * params.quantity, profit.price! * params.quantity)
        guard lock <= ledger.free(lockAsset) else { throw SimRejection.insufficientBalance }

        let listId = nextOrderListId
        nextOrderListId += 1
        let stopOrder = insertOrder(stop, origQty: params.quantity, in: &market, now: now, orderListId: listId)
        var profitOrder = insertOrder(profit, origQty: params.quantity, in: &market, now: now, orderListId: listId)
        if profitOrder.type == .takeProfitLimit {
            profitOrder.workingTime = -1
            market.orders[profitOrder.orderId] = profitOrder
        }
        let listClientOrderId = params.listClientOrderId ?? generateListClientOrderId()
        let list = SimOrderList(
            orderListId: listId, listClientOrderId: listClientOrderId, symbol: params.symbol,
            legs: [stopOrder, profitOrder].map { SimOrderList.Leg(orderId: $0.orderId, clientOrderId: $0.clientOrderId) },
            transactionTime: now, updateTime: now, lockAsset: lockAsset, sharedLock: lock)
        orderLists[listId] = list
        orderListIdByClientId[listClientOrderId] = listId
        ledger.lock(lock, of: lockAsset)
        var events: [SimEvent] = [stopOrder, profitOrder].map { .execution(order: $0, executionType: .new, lastFill: nil, time: now) }
        events.append(.listStatus(list: list, time: now))
        appendBalanceChanges(to: &events, now: now)
        return (list, [stopOrder, profitOrder], events)
    }

    /// Ends a list that is still executing: its other open legs close as `othersAs`, the
    /// shared lock is released, and `keeping` (a leg that started working) takes its own lock
    /// out of it. A list already done, or an order of no list, is left alone.
    mutating func settleList(of orderId: Int64, keeping: Int64?, othersAs status: OrderStatus, in market: inout SymbolMarket,
                             now: Int64, events: inout [SimEvent]) {
        let listId = market.orders[orderId]!.orderListId
        guard var list = orderLists[listId], !list.isDone else { return }
        for leg in list.legs where leg.orderId != keeping && market.orders[leg.orderId]!.isOpen {
            let closed = close(in: &market, orderId: leg.orderId, as: status, now: now)
            events.append(.execution(order: closed, executionType: status == .canceled ? .canceled : .expired, lastFill: nil, time: now))
        }
        ledger.release(list.sharedLock, of: list.lockAsset)
        list.sharedLock = .zero
        if let keeping {
            let (amount, asset) = reservation(of: market.orders[keeping]!, in: market.spec)
            ledger.lock(amount, of: asset)
        }
        list.isDone = true
        list.updateTime = now
        orderLists[listId] = list
        events.append(.listStatus(list: list, time: now))
    }

    /// `DELETE /api/v3/orderList`: cancels both legs of an executing list. Unknown, or done
    /// → -2011 "Order list does not exist." Binance's lookup: by `orderListId`, then a sent
    /// `listClientOrderId` must match that list.
    public mutating func cancelOrderList(symbol: Symbol, orderListId: Int64?, listClientOrderId: String?, now: Int64)
        throws(SimRejection) -> (list: SimOrderList, orders: [SimOrder], events: [SimEvent]) {
        guard var market = takeMarket(symbol) else { throw SimRejection.invalidSymbol }
        defer { markets[symbol] = market }
        guard let list = try findOrderList(orderListId: orderListId, listClientOrderId: listClientOrderId),
              list.symbol == symbol, !list.isDone else {
            throw SimRejection.orderListToCancelDoesNotExist
        }
        var events: [SimEvent] = []
        settleList(of: list.legs[0].orderId, keeping: nil, othersAs: .canceled, in: &market, now: now, events: &events)
        appendBalanceChanges(to: &events, now: now)
        return (orderLists[list.orderListId]!, list.legs.map { market.orders[$0.orderId]! }, events)
    }

    /// `GET /api/v3/orderList`: by `orderListId` (and then a sent client id must match) or by
    /// the newest list with `origClientOrderId`; -2013 "Order list does not exist." otherwise.
    public func orderList(orderListId: Int64?, listClientOrderId: String?) throws(SimRejection) -> SimOrderList {
        guard let list = try findOrderList(orderListId: orderListId, listClientOrderId: listClientOrderId) else {
            throw SimRejection.orderListDoesNotExist
        }
        return list
    }

    /// `GET /api/v3/allOrderList`: newest first, as rest-api.md's example; from `fromId` on
    /// when sent, else within the time bounds.
    public func allOrderLists(fromId: Int64?, startTime: Int64?, endTime: Int64?, limit: Int) -> [SimOrderList] {
        let matching = orderLists.values.filter { list in
            (fromId.map { list.orderListId >= $0 } ?? true) && (startTime.map { list.transactionTime >= $0 } ?? true)
                && (endTime.map { list.transactionTime <= $0 } ?? true)
        }
        let ascending = matching.sorted { $0.orderListId < $1.orderListId }
        let chosen = fromId == nil ? ascending.suffix(max(0, limit)) : ascending.prefix(max(0, limit))
        return chosen.reversed()
    }

    /// `GET /api/v3/openOrderList`: the lists still executing, by orderListId.
    public func openOrderLists() -> [SimOrderList] {
        orderLists.values.filter { !$0.isDone }.sorted { $0.orderListId < $1.orderListId }
    }

    /// The legs of a list as they stand now.
    public func legs(of list: SimOrderList) -> [SimOrder] {
        list.legs.compactMap { markets[list.symbol]?.orders[$0.orderId] }
    }

    private func findOrderList(orderListId: Int64?, listClientOrderId: String?) throws(SimRejection) -> SimOrderList? {
        if let orderListId {
            guard let list = orderLists[orderListId] else { return nil }
            if let listClientOrderId, list.listClientOrderId != listClientOrderId { return nil }
            return list
        }
        guard let listClientOrderId else { throw SimRejection.eitherMandatory("listClientOrderId", "orderListId") }
        return orderListIdByClientId[listClientOrderId].flatMap { orderLists[$0] }
    }
}
