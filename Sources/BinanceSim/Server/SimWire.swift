import GordonDomain
import GordonExchange

/// The simulator's values in Binance's JSON shapes (the `GordonExchange` wire types, whose
/// key sets are held to the documentation's examples by the decoding tests).
enum SimWire {
    /// Which response of rest-api.md an order is printed as.
    enum OrderForm { case ack, result, full, query, cancel }

    static func orderResponse(_ order: SimOrder, form: OrderForm, places: Int) -> OrderResponse {
        func text(_ value: ExactDecimal) -> String { BinanceDecimal.format(value, places: places) }
        var response = OrderResponse(symbol: order.symbol.rawValue, orderId: order.orderId, orderListId: order.orderListId,
                                     clientOrderId: order.clientOrderId, transactTime: form == .query ? nil : order.updateTime)
        guard form != .ack else { return response }
        response.price = text(order.price)
        response.origQty = text(order.origQty)
        response.executedQty = text(order.executedQty)
        response.origQuoteOrderQty = text(order.origQuoteOrderQty)
        response.cummulativeQuoteQty = text(order.cummulativeQuoteQty)
        response.status = order.status.rawValue
        response.timeInForce = (order.timeInForce ?? .gtc).rawValue
        response.type = order.type.rawValue
        response.side = order.side.rawValue
        response.selfTradePreventionMode = order.selfTradePreventionMode
        response.preventedMatchId = order.preventedMatchId
        switch form {
        case .query:
            response.stopPrice = text(order.stopPrice)
            response.icebergQty = text(.zero)
            response.time = order.time
            response.updateTime = order.updateTime
            response.isWorking = !order.isWaitingForTrigger && (order.isOpen || order.workingTime > 0)
            response.workingTime = order.workingTime
        case .result, .full:
            response.workingTime = order.workingTime
            if form == .full {
                response.fills = order.fills.map {
                    OrderFillResponse(price: text($0.price), qty: text($0.quantity), commission: text($0.commission),
                                      commissionAsset: $0.commissionAsset.rawValue, tradeId: $0.tradeId)
                }
            }
        case .cancel:
            response.transactTime = order.updateTime
        case .ack:
            break
        }
        return response
    }

    static func trade(_ fill: SimFill, places: Int) -> MyTradeResponse {
        func text(_ value: ExactDecimal) -> String { BinanceDecimal.format(value, places: places) }
        return MyTradeResponse(symbol: fill.symbol.rawValue, id: fill.tradeId, orderId: fill.orderId, price: text(fill.price),
                               qty: text(fill.quantity), quoteQty: text(fill.quoteQuantity), commission: text(fill.commission),
                               commissionAsset: fill.commissionAsset.rawValue, time: fill.time, isBuyer: fill.side == .buy,
                               isMaker: fill.isMaker)
    }

    static func symbolInfo(_ spec: SimSymbolSpec) -> SymbolInfo {
        let f = spec.filters
        var filters: [SymbolFilter] = []
        if let tick = f.tickSize {
            filters.append(.priceFilter(minPrice: f.minPrice ?? .zero, maxPrice: f.maxPrice ?? .zero, tickSize: tick))
        }
        if let step = f.stepSize {
            filters.append(.lotSize(minQty: f.minQuantity ?? .zero, maxQty: f.maxQuantity ?? .zero, stepSize: step))
        }
        if let step = f.marketStepSize {
            filters.append(.marketLotSize(minQty: f.minQuantity ?? .zero, maxQty: f.marketMaxQuantity ?? .zero, stepSize: step))
        }
        if let minNotional = f.minNotional {
            filters.append(.notional(minNotional: minNotional, applyMinToMarket: true, maxNotional: f.maxNotional ?? ExactDecimal(9_000_000),
                                     applyMaxToMarket: false, avgPriceMins: 5))
        }
        if let band = spec.percentPriceBySide {
            filters.append(.percentPriceBySide(bidMultiplierUp: band.bidMultiplierUp, bidMultiplierDown: band.bidMultiplierDown,
                                               askMultiplierUp: band.askMultiplierUp, askMultiplierDown: band.askMultiplierDown,
                                               avgPriceMins: band.avgPriceMins))
        }
        filters.append(.other(filterType: "MAX_NUM_ORDERS", fields: ["maxNumOrders": "\(spec.maxNumOrders)"]))
        filters.append(.other(filterType: "MAX_NUM_ALGO_ORDERS", fields: ["maxNumAlgoOrders": "\(spec.maxNumAlgoOrders)"]))
        return SymbolInfo(symbol: spec.symbol.rawValue, baseAsset: spec.base.rawValue, quoteAsset: spec.quote.rawValue,
                          precision: spec.baseAssetPrecision,
                          orderTypes: ["LIMIT", "LIMIT_MAKER", "MARKET", "STOP_LOSS_LIMIT", "TAKE_PROFIT_LIMIT"], filters: filters)
    }

    /// A listen key shaped like Binance's (60 alphanumeric characters).
    static func listenKey(number: Int) -> String {
        let alphabet = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789".utf8)
        var state = UInt64(truncatingIfNeeded: number) &* 0x9E37_79B9_7F4A_7C15 &+ 0x632B_E59B_D9B4_E019
        var bytes: [UInt8] = []
        for _ in 0..<60 {
            state ^= state >> 33
            state = state &* 0xFF51_AFD7_ED55_8CCD
            state ^= state >> 29
            bytes.append(alphabet[Int(state % UInt64(alphabet.count))])
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// An engine event as the user data stream prints it.
    static func userDataMessage(_ event: SimEvent, places: Int) -> String {
        switch event {
        case .execution(let order, let executionType, let lastFill, let time):
            let report = ExecutionReport(
                eventTime: Timestamp(milliseconds: time), symbol: order.symbol, clientOrderId: order.clientOrderId, side: order.side,
                orderType: order.type, timeInForce: order.timeInForce ?? .gtc, quantity: order.origQty, price: order.price,
                stopPrice: order.stopPrice, executionType: executionType.rawValue, orderStatus: order.status, orderId: order.orderId,
                lastExecutedQuantity: lastFill?.quantity ?? .zero, cumulativeFilledQuantity: order.executedQty,
                lastExecutedPrice: lastFill?.price ?? .zero, commission: lastFill?.commission ?? .zero,
                commissionAsset: lastFill?.commissionAsset.rawValue, transactionTime: Timestamp(milliseconds: time),
                tradeId: lastFill?.tradeId ?? -1, executionId: executionId(order, lastFill), isOnBook: order.isOpen,
                isMaker: lastFill?.isMaker ?? false, orderCreationTime: Timestamp(milliseconds: order.time),
                cumulativeQuoteQuantity: order.cummulativeQuoteQty, lastQuoteQuantity: lastFill?.quoteQuantity ?? .zero,
                quoteOrderQuantity: order.origQuoteOrderQty, workingTime: Timestamp(milliseconds: order.workingTime),
                selfTradePreventionMode: order.selfTradePreventionMode, preventedMatchId: order.preventedMatchId)
            return BinanceStreamEncoder.executionReport(report, decimals: places)
        case .accountPosition(let balances, let time):
            let position = AccountPosition(
                eventTime: Timestamp(milliseconds: time), lastUpdateTime: Timestamp(milliseconds: time),
                balances: balances.map { AssetBalanceUpdate(asset: $0.asset, free: $0.free, locked: $0.locked) })
            return BinanceStreamEncoder.accountPosition(position, decimals: places)
        case .listStatus(let list, let time):
            let event = ListStatusEvent(
                E: time, s: list.symbol.rawValue, g: list.orderListId, l: list.listStatusType, L: list.listOrderStatus,
                C: list.listClientOrderId, T: list.updateTime,
                O: list.legs.map { .init(s: list.symbol.rawValue, i: $0.orderId, c: $0.clientOrderId) })
            return String(decoding: SimJSON.encode(event), as: UTF8.self)
        }
    }

    /// An order list as `orderList`, `allOrderList` and `openOrderList` print it, and with
    /// `reports` as the placement and cancel responses print it.
    static func orderList(_ list: SimOrderList, reports: [OrderResponse]? = nil) -> OrderListResponse {
        OrderListResponse(
            orderListId: list.orderListId, listStatusType: list.listStatusType, listOrderStatus: list.listOrderStatus,
            listClientOrderId: list.listClientOrderId, transactionTime: list.updateTime, symbol: list.symbol.rawValue,
            orders: list.legs.map { .init(symbol: list.symbol.rawValue, orderId: $0.orderId, clientOrderId: $0.clientOrderId) },
            orderReports: reports)
    }

    /// Binance's execution id `I` is unique per event; order id and trade id make one here.
    private static func executionId(_ order: SimOrder, _ fill: SimFill?) -> Int64 {
        order.orderId * 1_000_000 + (fill?.tradeId ?? 0)
    }
}
