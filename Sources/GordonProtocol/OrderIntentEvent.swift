public import GordonDomain
public import GordonKernel

/// What a bot wants placed, on `gordon.intent.<bot>`; the executor places it with
/// `clientOrderId` = `intent_id`, so a redelivered intent can never place a second order.
///
/// An intent is sized either in the base asset (`quantity`) or, for MARKET orders only, in
/// the quote asset (`quote_order_quantity`, Binance's `quoteOrderQty`: "spend 100 USDT").
/// Per-type rules are the domain's (`OrderType.requiresPrice`, `requiresTimeInForce`,
/// `requiresStopPrice`): a LIMIT needs a price and a time in force, a MARKET has neither.
public struct OrderIntentEvent: EventPayload, Hashable {
    public static let eventType = "order_intent"
    /// Longest `reason`, in UTF-8 bytes.
    public static let maxReasonBytes = 256

    public let intentId: ClientOrderId
    public let botId: BotId
    public let symbol: Symbol
    public let side: Side
    public let orderType: OrderType
    public let timeInForce: TimeInForce?
    public let price: Price?
    /// The trigger of the stop-loss and take-profit types (Binance's `stopPrice`).
    public let stopPrice: Price?
    public let quantity: Quantity?
    public let quoteOrderQuantity: Quantity?
    /// Why the strategy wants this order, for the audit trail.
    public let reason: String
    public let createdAt: Timestamp

    /// Validates the combination: base-sized intents must form a valid domain
    /// `OrderRequest` (`invalidOrder` otherwise); quote-sized ones must be MARKET without a
    /// price, stop price or time in force, with exactly one of the two sizes, positive
    /// (`invalidEventPayload`). The reason is 1–256 bytes without control characters.
    public init(
        intentId: ClientOrderId, botId: BotId, symbol: Symbol, side: Side, orderType: OrderType,
        timeInForce: TimeInForce? = nil, price: Price? = nil, stopPrice: Price? = nil,
        quantity: Quantity? = nil, quoteOrderQuantity: Quantity? = nil, reason: String, createdAt: Timestamp
    ) throws(GordonError) {
        func invalid(_ message: String) -> GordonError {
            invalidPayload(Self.eventType, message, ["intentId": intentId.rawValue, "orderType": orderType.rawValue])
        }
        switch (quantity, quoteOrderQuantity) {
        case (.some(let quantity), nil):
            _ = try OrderRequest(clientOrderId: intentId, botId: botId, symbol: symbol, side: side, type: orderType,
                                 timeInForce: timeInForce, price: price, stopPrice: stopPrice, quantity: quantity)
        case (nil, .some(let quote)):
            guard orderType == .market else { throw invalid("only MARKET intents may be sized by quote_order_quantity") }
            guard price == nil, stopPrice == nil, timeInForce == nil else {
                throw invalid("a MARKET intent has no price, stop price or time in force")
            }
            guard !quote.isZero else { throw invalid("quote_order_quantity must be positive") }
        case (.some, .some):
            throw invalid("an intent has quantity or quote_order_quantity, not both")
        case (nil, nil):
            throw invalid("an intent needs quantity or quote_order_quantity")
        }
        guard Text.isFreeText(reason, maxBytes: Self.maxReasonBytes) else {
            throw invalid("reason must be 1-\(Self.maxReasonBytes) bytes without control characters")
        }
        self.intentId = intentId
        self.botId = botId
        self.symbol = symbol
        self.side = side
        self.orderType = orderType
        self.timeInForce = timeInForce
        self.price = price
        self.stopPrice = stopPrice
        self.quantity = quantity
        self.quoteOrderQuantity = quoteOrderQuantity
        self.reason = reason
        self.createdAt = createdAt
    }

    /// The intent for a domain request; the intent id is the request's client order id.
    public init(request: OrderRequest, reason: String, createdAt: Timestamp) throws(GordonError) {
        try self.init(intentId: request.clientOrderId, botId: request.botId, symbol: request.symbol, side: request.side,
                      orderType: request.type, timeInForce: request.timeInForce, price: request.price,
                      stopPrice: request.stopPrice, quantity: request.quantity, reason: reason, createdAt: createdAt)
    }

    /// The domain request for a base-sized intent; nil for a quote-sized MARKET intent, which
    /// has no base quantity until the exchange fills it.
    public var orderRequest: OrderRequest? {
        guard let quantity else { return nil }
        // The initializer built this very request to validate the intent, so it succeeds.
        return try? OrderRequest(clientOrderId: intentId, botId: botId, symbol: symbol, side: side, type: orderType,
                                 timeInForce: timeInForce, price: price, stopPrice: stopPrice, quantity: quantity)
    }

    public var subject: Subject { .intent(botId) }

    enum CodingKeys: String, CodingKey {
        case intentId = "intent_id"
        case botId = "bot_id"
        case symbol, side
        case orderType = "order_type"
        case timeInForce = "time_in_force"
        case price
        case stopPrice = "stop_price"
        case quantity
        case quoteOrderQuantity = "quote_order_quantity"
        case reason
        case createdAt = "created_at"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let intentId = try container.decode(ClientOrderId.self, forKey: .intentId)
        let botId = try container.decode(BotId.self, forKey: .botId)
        let symbol = try container.decode(Symbol.self, forKey: .symbol)
        let side = try container.decode(Side.self, forKey: .side)
        let orderType = try container.decode(OrderType.self, forKey: .orderType)
        let timeInForce = try container.decodeIfPresent(TimeInForce.self, forKey: .timeInForce)
        let price = try container.decodeIfPresent(Price.self, forKey: .price)
        let stopPrice = try container.decodeIfPresent(Price.self, forKey: .stopPrice)
        let quantity = try container.decodeIfPresent(Quantity.self, forKey: .quantity)
        let quoteOrderQuantity = try container.decodeIfPresent(Quantity.self, forKey: .quoteOrderQuantity)
        let reason = try container.decode(String.self, forKey: .reason)
        let createdAt = try container.decodeTimestamp(forKey: .createdAt)
        self = try decoder.validating { () throws(GordonError) in
            try OrderIntentEvent(intentId: intentId, botId: botId, symbol: symbol, side: side, orderType: orderType,
                                 timeInForce: timeInForce, price: price, stopPrice: stopPrice, quantity: quantity,
                                 quoteOrderQuantity: quoteOrderQuantity, reason: reason, createdAt: createdAt)
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(intentId, forKey: .intentId)
        try container.encode(botId, forKey: .botId)
        try container.encode(symbol, forKey: .symbol)
        try container.encode(side, forKey: .side)
        try container.encode(orderType, forKey: .orderType)
        try container.encodeIfPresent(timeInForce, forKey: .timeInForce)
        try container.encodeIfPresent(price, forKey: .price)
        try container.encodeIfPresent(stopPrice, forKey: .stopPrice)
        try container.encodeIfPresent(quantity, forKey: .quantity)
        try container.encodeIfPresent(quoteOrderQuantity, forKey: .quoteOrderQuantity)
        try container.encode(reason, forKey: .reason)
        try container.encode(createdAt, forKey: .createdAt)
    }
}
