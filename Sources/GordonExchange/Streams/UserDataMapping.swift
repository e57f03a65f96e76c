public import GordonDomain
public import GordonKernel

extension ExecutionReport {
    /// The id of the order this report is about: a cancel report carries the cancel
    /// request's id in `c` and the order's in `C`.
    public var orderClientId: String { originalClientOrderId.isEmpty ? clientOrderId : originalClientOrderId }

    /// The domain order after this report, for the bot `botId` (the report does not say).
    ///
    /// As with `OrderResponse.order`, Binance's zero padding means absent: a price for a type
    /// without one, a stop price without a trigger. A quote-sized market order states no base
    /// quantity before it executes (`q` is zero): its quantity is then what it executed, and a
    /// report before any execution is `exchangeMalformedResponse` (the placement answer or a
    /// query has its terms).
    public func order(botId: BotId) throws(GordonError) -> Order {
        let id = try WireMapping.field("c") { () throws(GordonError) in try ClientOrderId(orderClientId) }
        let executed = try WireMapping.value("z") { () throws(GordonError) in try Quantity(cumulativeFilledQuantity) }
        let stated = quantity.isPositive ? quantity : cumulativeFilledQuantity
        guard stated.isPositive else {
            throw WireMapping.malformed("executionReport for order \(orderId) states no quantity yet", context: ["orderId": "\(orderId)"])
        }
        let price = orderType.requiresPrice && price.isPositive ? try WireMapping.value("p") { () throws(GordonError) in try Price(self.price) } : nil
        let stopPrice = orderType.requiresStopPrice && stopPrice.isPositive
            ? try WireMapping.value("P") { () throws(GordonError) in try Price(self.stopPrice) } : nil
        let created = orderCreationTime
        return try WireMapping.value("order \(orderId)") { () throws(GordonError) in
            try Order(clientOrderId: id, exchangeOrderId: orderId, botId: botId, symbol: symbol, side: side, type: orderType,
                      timeInForce: orderType.requiresTimeInForce ? timeInForce : nil, price: price, stopPrice: stopPrice,
                      quantity: try Quantity(stated), executedQuantity: executed, cumulativeQuoteQuantity: cumulativeQuoteQuantity,
                      status: orderStatus, createdAt: created, updatedAt: max(created, transactionTime))
        }
    }

    /// The trade this report announces (`x` = TRADE), or nil for any other execution type.
    public func fill() throws(GordonError) -> Fill? {
        guard executionType == "TRADE", lastExecutedQuantity.isPositive, tradeId >= 0 else { return nil }
        let id = try WireMapping.field("c") { () throws(GordonError) in try ClientOrderId(orderClientId) }
        let asset = try WireMapping.field("N") { () throws(GordonError) in
            try Asset(WireMapping.required(commissionAsset, "N"))
        }
        return try WireMapping.value("trade \(tradeId)") { () throws(GordonError) in
            try Fill(tradeId: tradeId, clientOrderId: id, exchangeOrderId: orderId, symbol: symbol, side: side,
                     price: try Price(lastExecutedPrice), quantity: try Quantity(lastExecutedQuantity), quoteQuantity: lastQuoteQuantity,
                     commission: commission, commissionAsset: asset, isMaker: isMaker, time: transactionTime)
        }
    }
}
