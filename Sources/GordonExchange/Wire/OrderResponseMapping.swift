public import GordonKernel
public import GordonDomain

extension OrderResponse {
    /// The domain order this response describes.
    ///
    /// Binance's padding is dropped as `Order` requires: a `price` for a type without one
    /// (MARKET's `"0.00000000"`) or a zero price, the `timeInForce` echoed on MARKET and
    /// LIMIT_MAKER orders, and the `stopPrice` `"0.0"` of types without a trigger. The
    /// client order id is the original order's (`origClientOrderId` in a cancel response).
    ///
    /// `createdAt` is `time` (query, open orders) or `transactTime` of a placement; a
    /// cancel response carries neither creation time, so `fallback` is used. An ACK lacks
    /// the order's terms and is `exchangeMalformedResponse` here: query the order instead.
    public func order(botId: BotId, createdAt fallback: Timestamp) throws(GordonError) -> Order {
        let isCancel = origClientOrderId != nil
        let clientOrderId = try WireMapping.field(isCancel ? "origClientOrderId" : "clientOrderId") { () throws(GordonError) in
            try ClientOrderId(origClientOrderId ?? self.clientOrderId)
        }
        let symbol = try WireMapping.field("symbol") { () throws(GordonError) in try Symbol(self.symbol) }
        let type = try WireMapping.required(try typeValue, "type")
        let side = try WireMapping.required(try sideValue, "side")
        let status = try WireMapping.required(try statusValue, "status")
        let quantity = try WireMapping.required(try originalQuantity, "origQty")
        let executed = try WireMapping.required(try executedQuantity, "executedQty")
        let cumulativeQuote = try WireMapping.required(try cumulativeQuoteQuantity, "cummulativeQuoteQty")
        guard !cumulativeQuote.isNegative else {
            // rest-api.md: "For some historical orders cummulativeQuoteQty will be < 0,
            // meaning the data is not available at this time."
            throw WireMapping.malformed("cummulativeQuoteQty is not available (negative) for order \(orderId)",
                                        context: ["field": "cummulativeQuoteQty", "orderId": "\(orderId)"])
        }
        let price = try type.requiresPrice ? priceValue.flatMap { $0.isZero ? nil : $0 } : nil
        let stopPrice = try type.requiresStopPrice ? stopPriceValue.flatMap { $0.isZero ? nil : $0 } : nil
        let timeInForce = try type.requiresTimeInForce ? timeInForceValue : nil

        let createdAt = Timestamp(milliseconds: time ?? (isCancel ? nil : transactTime) ?? fallback.milliseconds)
        let updatedAt = max(createdAt, Timestamp(milliseconds: updateTime ?? transactTime ?? createdAt.milliseconds))
        return try WireMapping.value("order \(orderId)") { () throws(GordonError) in
            try Order(clientOrderId: clientOrderId, exchangeOrderId: orderId, botId: botId, symbol: symbol, side: side,
                      type: type, timeInForce: timeInForce, price: price, stopPrice: stopPrice, quantity: quantity,
                      executedQuantity: executed, cumulativeQuoteQuantity: cumulativeQuote, status: status,
                      createdAt: createdAt, updatedAt: updatedAt)
        }
    }

    /// The trades of a FULL placement response as domain fills. They matched on arrival,
    /// so each is a taker fill at `transactTime`; the quote quantity is `price × qty`
    /// (the FULL response does not state it). Empty for the other response types.
    public func domainFills() throws(GordonError) -> [Fill] {
        guard let fills, !fills.isEmpty else { return [] }
        let clientOrderId = try WireMapping.field("clientOrderId") { () throws(GordonError) in try ClientOrderId(self.clientOrderId) }
        let symbol = try WireMapping.field("symbol") { () throws(GordonError) in try Symbol(self.symbol) }
        let side = try WireMapping.required(try sideValue, "side")
        let time = Timestamp(milliseconds: try WireMapping.required(transactTime, "transactTime"))
        var result: [Fill] = []
        for fill in fills {
            let price = try fill.priceValue
            let quantity = try fill.quantity
            let commission = try fill.commissionValue
            let commissionAsset = try fill.commissionAssetValue
            result.append(try WireMapping.value("fill \(fill.tradeId)") { () throws(GordonError) in
                try Fill(tradeId: fill.tradeId, clientOrderId: clientOrderId, exchangeOrderId: orderId, symbol: symbol, side: side,
                         price: price, quantity: quantity, quoteQuantity: try price.notional(for: quantity),
                         commission: commission, commissionAsset: commissionAsset, isMaker: false, time: time)
            })
        }
        return result
    }
}
