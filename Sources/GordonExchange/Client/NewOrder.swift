public import GordonDomain
public import GordonKernel

/// The parameters of `POST /api/v3/order`, already rounded to the symbol's filters.
///
/// `clientOrderId` is sent as `newClientOrderId`: it is the intent id, so the exchange and
/// Gordon name the order the same way and a retry can find what an earlier attempt placed.
public struct NewOrder: Sendable, Hashable {
    public var symbol: Symbol
    public var side: Side
    public var type: OrderType
    public var timeInForce: TimeInForce?
    /// Base quantity; nil only for a MARKET order given by `quoteOrderQuantity`.
    public var quantity: Quantity?
    /// MARKET by quote amount (`quoteOrderQty`): spend or receive this much of the quote asset.
    public var quoteOrderQuantity: ExactDecimal?
    public var price: Price?
    public var stopPrice: Price?
    public var clientOrderId: ClientOrderId

    public init(symbol: Symbol, side: Side, type: OrderType, timeInForce: TimeInForce? = nil, quantity: Quantity? = nil,
                quoteOrderQuantity: ExactDecimal? = nil, price: Price? = nil, stopPrice: Price? = nil,
                clientOrderId: ClientOrderId) throws(GordonError) {
        guard (quantity == nil) != (quoteOrderQuantity == nil) else {
            throw GordonError(.invalidOrder, "an order needs exactly one of quantity and quoteOrderQty", context: ["clientOrderId": clientOrderId.rawValue])
        }
        guard quoteOrderQuantity == nil || type == .market else {
            throw GordonError(.invalidOrder, "quoteOrderQty is for MARKET orders only", context: ["clientOrderId": clientOrderId.rawValue])
        }
        self.symbol = symbol
        self.side = side
        self.type = type
        self.timeInForce = timeInForce
        self.quantity = quantity
        self.quoteOrderQuantity = quoteOrderQuantity
        self.price = price
        self.stopPrice = stopPrice
        self.clientOrderId = clientOrderId
    }

    /// The order a domain request asks for.
    public init(_ request: OrderRequest) throws(GordonError) {
        try self.init(symbol: request.symbol, side: request.side, type: request.type, timeInForce: request.timeInForce,
                      quantity: request.quantity, price: request.price, stopPrice: request.stopPrice,
                      clientOrderId: request.clientOrderId)
    }

    /// Rounded to the symbol's rules as `ExchangeFilters` documents (prices never worse for
    /// Gordon, quantities never more than asked), then checked the way Binance would check it.
    /// `referencePrice` stands in for the fill price of a MARKET order in the notional check.
    public func conforming(to filters: ExchangeFilters, percentPrice: PercentPriceBySide? = nil,
                           referencePrice: Price? = nil, averagePrice: Price? = nil) throws(GordonError) -> NewOrder {
        var rounded = self
        if let price { rounded.price = try filters.roundedPrice(price, side: side) }
        if let stopPrice { rounded.stopPrice = try filters.roundedPrice(stopPrice, side: side) }
        if let quantity { rounded.quantity = try filters.roundedQuantity(quantity, type: type) }
        if let quantity = rounded.quantity, let checkPrice = rounded.price ?? referencePrice {
            try filters.validate(type: type, price: checkPrice, quantity: quantity)
        }
        if let percentPrice, let price = rounded.price, let averagePrice {
            try percentPrice.validate(side: side, price: price, weightedAveragePrice: averagePrice)
        }
        return rounded
    }

    /// Query parameters in the order Binance's examples use.
    var parameters: QueryParameters {
        var query = QueryParameters()
        query.append("symbol", symbol.rawValue)
        query.append("side", side.rawValue)
        query.append("type", type.rawValue)
        if let timeInForce { query.append("timeInForce", timeInForce.rawValue) }
        if let quantity { query.append("quantity", quantity.description) }
        if let quoteOrderQuantity { query.append("quoteOrderQty", quoteOrderQuantity.description) }
        if let price { query.append("price", price.description) }
        if let stopPrice { query.append("stopPrice", stopPrice.description) }
        query.append("newClientOrderId", clientOrderId.rawValue)
        query.append("newOrderRespType", "FULL")
        return query
    }
}
