public import GordonKernel
public import GordonDomain

/// One element of GET /api/v3/myTrades.
public struct MyTradeResponse: Codable, Sendable, Hashable {
    public var symbol: String
    /// The trade id.
    public var id: Int64
    public var orderId: Int64
    public var orderListId: Int64
    public var price: String
    public var qty: String
    public var quoteQty: String
    public var commission: String
    public var commissionAsset: String
    public var time: Int64
    public var isBuyer: Bool
    public var isMaker: Bool
    public var isBestMatch: Bool

    public init(symbol: String, id: Int64, orderId: Int64, orderListId: Int64 = -1, price: String, qty: String, quoteQty: String,
                commission: String, commissionAsset: String, time: Int64, isBuyer: Bool, isMaker: Bool, isBestMatch: Bool = true) {
        self.symbol = symbol
        self.id = id
        self.orderId = orderId
        self.orderListId = orderListId
        self.price = price
        self.qty = qty
        self.quoteQty = quoteQty
        self.commission = commission
        self.commissionAsset = commissionAsset
        self.time = time
        self.isBuyer = isBuyer
        self.isMaker = isMaker
        self.isBestMatch = isBestMatch
    }
}

extension MyTradeResponse {
    /// The domain fill. The trade list does not name the client order id, so the caller,
    /// who looked the trades up by order, supplies it; the side follows from `isBuyer`.
    public func fill(clientOrderId: ClientOrderId) throws(GordonError) -> Fill {
        let symbol = try WireMapping.field("symbol") { () throws(GordonError) in try Symbol(self.symbol) }
        let price = try OrderResponse.price(self.price, "price")
        let quantity = try OrderResponse.quantity(qty, "qty")
        let quoteQuantity = try BinanceDecimal.parse(quoteQty, field: "quoteQty")
        let commission = try BinanceDecimal.parse(self.commission, field: "commission")
        let commissionAsset = try WireMapping.field("commissionAsset") { () throws(GordonError) in try Asset(self.commissionAsset) }
        return try WireMapping.value("trade \(id)") { () throws(GordonError) in
            try Fill(tradeId: id, clientOrderId: clientOrderId, exchangeOrderId: orderId, symbol: symbol,
                     side: isBuyer ? .buy : .sell, price: price, quantity: quantity, quoteQuantity: quoteQuantity,
                     commission: commission, commissionAsset: commissionAsset, isMaker: isMaker, time: Timestamp(milliseconds: time))
        }
    }
}
