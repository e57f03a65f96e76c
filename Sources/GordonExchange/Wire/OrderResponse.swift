import GordonKernel
public import GordonDomain

/// One order as the REST API reports it: POST /api/v3/order (ACK, RESULT and FULL
/// `newOrderRespType`), GET /api/v3/order, DELETE /api/v3/order and each element of
/// GET /api/v3/openOrders. Fields that some of these lack are optional and are only
/// written when present, so each encodes to its own documented key set. Decimals stay as
/// Binance's text (typed accessors parse them); the spelling `cummulativeQuoteQty` is
/// Binance's.
///
/// Conditional fields (rest-api.md, "Conditional fields in Order Responses") are carried
/// where Gordon can meet them; the SOR and peg fields are not.
public struct OrderResponse: Codable, Sendable, Hashable {
    public var symbol: String
    /// The original order's client id; present only in a cancel response, whose
    /// `clientOrderId` is the id of the cancel request.
    public var origClientOrderId: String?
    public var orderId: Int64
    /// -1 unless the order belongs to an order list.
    public var orderListId: Int64
    public var clientOrderId: String
    /// When the request was processed (placement or cancel), not when the order was made.
    public var transactTime: Int64?
    public var price: String?
    public var origQty: String?
    public var executedQty: String?
    public var origQuoteOrderQty: String?
    public var cummulativeQuoteQty: String?
    public var status: String?
    public var timeInForce: String?
    public var type: String?
    public var side: String?
    public var stopPrice: String?
    public var icebergQty: String?
    /// Creation time (GET /order, /openOrders).
    public var time: Int64?
    public var updateTime: Int64?
    public var isWorking: Bool?
    public var workingTime: Int64?
    public var selfTradePreventionMode: String?
    public var trailingDelta: Int64?
    public var trailingTime: Int64?
    public var strategyId: Int64?
    public var strategyType: Int64?
    public var preventedMatchId: Int64?
    public var preventedQuantity: String?
    public var expiryReason: String?
    /// FULL responses only: the trades the order made on arrival.
    public var fills: [OrderFillResponse]?

    /// An ACK response; set the other fields for RESULT, FULL, query and cancel shapes.
    public init(symbol: String, orderId: Int64, orderListId: Int64 = -1, clientOrderId: String, transactTime: Int64? = nil) {
        self.symbol = symbol
        self.orderId = orderId
        self.orderListId = orderListId
        self.clientOrderId = clientOrderId
        self.transactTime = transactTime
    }

    // MARK: Typed accessors (nil when the field is absent)

    public var priceValue: Price? { get throws(GordonError) { try price.map { text throws(GordonError) in try Self.price(text, "price") } } }
    public var stopPriceValue: Price? { get throws(GordonError) { try stopPrice.map { text throws(GordonError) in try Self.price(text, "stopPrice") } } }
    public var originalQuantity: Quantity? { get throws(GordonError) { try origQty.map { text throws(GordonError) in try Self.quantity(text, "origQty") } } }
    public var executedQuantity: Quantity? {
        get throws(GordonError) { try executedQty.map { text throws(GordonError) in try Self.quantity(text, "executedQty") } }
    }
    public var cumulativeQuoteQuantity: ExactDecimal? {
        get throws(GordonError) { try cummulativeQuoteQty.map { text throws(GordonError) in try BinanceDecimal.parse(text, field: "cummulativeQuoteQty") } }
    }
    public var statusValue: OrderStatus? { get throws(GordonError) { try status.map { text throws(GordonError) in try Self.enumValue(text, "status") } } }
    public var sideValue: Side? { get throws(GordonError) { try side.map { text throws(GordonError) in try Self.enumValue(text, "side") } } }
    public var typeValue: OrderType? { get throws(GordonError) { try type.map { text throws(GordonError) in try Self.enumValue(text, "type") } } }
    public var timeInForceValue: TimeInForce? {
        get throws(GordonError) { try timeInForce.map { text throws(GordonError) in try Self.enumValue(text, "timeInForce") } }
    }

    static func price(_ text: String, _ field: String) throws(GordonError) -> Price {
        try WireMapping.field(field) { () throws(GordonError) in try Price(parsing: text) }
    }

    static func quantity(_ text: String, _ field: String) throws(GordonError) -> Quantity {
        try WireMapping.field(field) { () throws(GordonError) in try Quantity(parsing: text) }
    }

    static func enumValue<T: RawRepresentable<String>>(_ text: String, _ field: String) throws(GordonError) -> T {
        guard let value = T(rawValue: text) else {
            throw WireMapping.malformed("field \(field) has an unknown value \(text.prefix(40))", context: ["field": field, "value": String(text.prefix(40))])
        }
        return value
    }
}

/// One element of a FULL order response's `fills`.
public struct OrderFillResponse: Codable, Sendable, Hashable {
    public var price: String
    public var qty: String
    public var commission: String
    public var commissionAsset: String
    public var tradeId: Int64

    public init(price: String, qty: String, commission: String, commissionAsset: String, tradeId: Int64) {
        self.price = price
        self.qty = qty
        self.commission = commission
        self.commissionAsset = commissionAsset
        self.tradeId = tradeId
    }

    public var priceValue: Price { get throws(GordonError) { try OrderResponse.price(price, "fills.price") } }
    public var quantity: Quantity { get throws(GordonError) { try OrderResponse.quantity(qty, "fills.qty") } }
    public var commissionValue: ExactDecimal { get throws(GordonError) { try BinanceDecimal.parse(commission, field: "fills.commission") } }
    public var commissionAssetValue: Asset {
        get throws(GordonError) { try WireMapping.field("fills.commissionAsset") { () throws(GordonError) in try Asset(commissionAsset) } }
    }
}
