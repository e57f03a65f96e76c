import GordonDomain
import GordonExchange

/// The public trade tape (`trades`, `aggTrades`) and the order list endpoints (OCO).
extension BinanceSimulator {
    /// `GET /api/v3/trades` (the most recent `limit`) and `GET /api/v3/aggTrades` (from
    /// `fromId`, else within the time bounds, else the most recent), oldest first. Each trade
    /// is its own aggregate, so `f` and `l` equal `a`.
    func publicTrades(_ endpoint: SimEndpoint, _ p: SimParameters) throws(SimRejection) -> SimHTTPResponse {
        let symbol = try knownSymbol(p)
        let limit = try integer(p, "limit", default: 500, range: 1...1000)
        let tape = state.withLock { $0.publicTrades[symbol] ?? [] }
        let places = configuration.decimals
        let format = { (value: ExactDecimal) in BinanceDecimal.format(value, places: places) }
        guard endpoint == .aggTrades else {
            return ok(tape.suffix(limit).map {
                TradeResponse(id: $0.id, price: format($0.price), qty: format($0.quantity), quoteQty: format($0.price * $0.quantity),
                              time: $0.time, isBuyerMaker: false, isBestMatch: true)
            })
        }
        let fromId = p["fromId"].flatMap { Int64($0) }
        let startTime = p["startTime"].flatMap { Int64($0) }
        let endTime = p["endTime"].flatMap { Int64($0) }
        let chosen: ArraySlice<PublicTrade>
        if let fromId {
            chosen = tape.drop { $0.id < fromId }.prefix(limit)
        } else if startTime != nil || endTime != nil {
            chosen = tape.filter { trade in
                (startTime.map { trade.time >= $0 } ?? true) && (endTime.map { trade.time <= $0 } ?? true)
            }.prefix(limit)
        } else {
            chosen = tape.suffix(limit)
        }
        return ok(chosen.map {
            AggTradeResponse(a: $0.id, p: format($0.price), q: format($0.quantity), f: $0.id, l: $0.id, T: $0.time, m: false, M: true)
        })
    }

    func orderLists(_ endpoint: SimEndpoint, _ p: SimParameters, now: Int64) throws(SimRejection) -> SimHTTPResponse {
        let places = configuration.decimals
        switch endpoint {
        case .newOCO:
            let params = try ocoParameters(p)
            let (list, orders, events) = try state.withLock { state throws(SimRejection) in
                let placed = try state.core.placeOCO(params, now: now)
                for order in placed.orders { state.placements[order.clientOrderId, default: 0] += 1 }
                return placed
            }
            broadcast(events)
            let form: SimWire.OrderForm = switch p["newOrderRespType"] {
            case "ACK": .ack
            case "FULL": .full
            default: .result
            }
            return ok(SimWire.orderList(list, reports: orders.map { SimWire.orderResponse($0, form: form, places: places) }))
        case .cancelOrderList:
            let symbol = try knownSymbol(p)
            let listId = p["orderListId"].flatMap { Int64($0) }
            let (list, orders, events) = try state.withLock { state throws(SimRejection) in
                try state.core.cancelOrderList(symbol: symbol, orderListId: listId, listClientOrderId: p["listClientOrderId"], now: now)
            }
            broadcast(events)
            let newClientOrderId = p["newClientOrderId"]
            return ok(SimWire.orderList(list, reports: orders.map { order in
                var report = SimWire.orderResponse(order, form: .cancel, places: places)
                report.origClientOrderId = order.clientOrderId
                report.clientOrderId = newClientOrderId ?? order.clientOrderId
                return report
            }))
        case .queryOrderList:
            let listId = p["orderListId"].flatMap { Int64($0) }
            let list = try state.withLock { state throws(SimRejection) in
                try state.core.orderList(orderListId: listId, listClientOrderId: p["origClientOrderId"])
            }
            return ok(SimWire.orderList(list))
        case .allOrderLists:
            let limit = try integer(p, "limit", default: 500, range: 1...1000)
            let lists = state.withLock {
                $0.core.allOrderLists(fromId: p["fromId"].flatMap { Int64($0) }, startTime: p["startTime"].flatMap { Int64($0) },
                                      endTime: p["endTime"].flatMap { Int64($0) }, limit: limit)
            }
            return ok(lists.map { SimWire.orderList($0) })
        default:
            return ok(state.withLock { $0.core.openOrderLists() }.map { SimWire.orderList($0) })
        }
    }

    /// The above and below legs of `POST /api/v3/orderList/oco`. Trailing, iceberg and pegged
    /// legs are not simulated and are refused by name rather than ignored.
    private func ocoParameters(_ p: SimParameters) throws(SimRejection) -> SimOCOParams {
        let symbol = try knownSymbol(p)
        guard let sideText = p["side"] else { throw missing("side") }
        guard let side = Side(rawValue: sideText) else { throw SimRejection(code: -1117, message: "Invalid side.") }
        guard let quantity = try decimal(p, "quantity") else { throw missing("quantity") }
        for position in ["above", "below"] {
            for unsupported in ["TrailingDelta", "IcebergQty", "PegPriceType", "PegOffsetType", "PegOffsetValue"]
            where p[position + unsupported] != nil {
                throw SimRejection(code: -1013, message: "This simulator does not work '\(position)\(unsupported)' in order lists.")
            }
        }
        func leg(_ position: String) throws(SimRejection) -> SimOCOParams.Leg {
            guard let typeText = p[position + "Type"] else { throw missing(position + "Type") }
            guard let type = OrderType(rawValue: typeText) else { throw SimRejection(code: -1116, message: "Invalid orderType.") }
            var timeInForce: TimeInForce?
            if let text = p[position + "TimeInForce"] {
                guard let value = TimeInForce(rawValue: text) else { throw SimRejection(code: -1115, message: "Invalid timeInForce.") }
                timeInForce = value
            }
            return SimOCOParams.Leg(type: type, price: try decimal(p, position + "Price"), stopPrice: try decimal(p, position + "StopPrice"),
                                    timeInForce: timeInForce, clientOrderId: p[position + "ClientOrderId"])
        }
        return SimOCOParams(symbol: symbol, side: side, quantity: quantity, above: try leg("above"), below: try leg("below"),
                            listClientOrderId: p["listClientOrderId"], selfTradePreventionMode: p["selfTradePreventionMode"])
    }
}

extension SimWire {
    /// `DELETE /api/v3/openOrders`' body: stand-alone orders as cancel responses, and each
    /// order list once, as an order list with its legs' reports (rest-api.md's example mixes both).
    static func canceledOpenOrders(_ orders: [SimOrder], lists: [SimOrderList], places: Int) -> [UInt8] {
        func report(_ order: SimOrder) -> OrderResponse {
            var response = orderResponse(order, form: .cancel, places: places)
            response.origClientOrderId = order.clientOrderId
            return response
        }
        var entries: [[UInt8]] = []
        var listed: Set<Int64> = []
        for order in orders {
            guard order.orderListId >= 0 else {
                entries.append(SimJSON.encode(report(order)))
                continue
            }
            guard listed.insert(order.orderListId).inserted, let list = lists.first(where: { $0.orderListId == order.orderListId }) else { continue }
            let legs = orders.filter { $0.orderListId == order.orderListId }
            entries.append(SimJSON.encode(orderList(list, reports: legs.map(report))))
        }
        return Array("[".utf8) + Array(entries.joined(separator: Array(",".utf8))) + Array("]".utf8)
    }
}
