public import GordonDomain
public import GordonKernel

/// The executor's view of one order after a change (placed, acknowledged, filled, canceled,
/// rejected), on `gordon.exec.order.<bot>`.
public struct OrderUpdateEvent: EventPayload, Hashable {
    public static let eventType = "order_update"
    /// Longest `reject_reason`, in UTF-8 bytes.
    public static let maxRejectReasonBytes = 256

    public let clientOrderId: ClientOrderId
    /// Binance's `orderId`; nil until the exchange acknowledged the order.
    public let exchangeOrderId: Int64?
    public let botId: BotId
    public let symbol: Symbol
    public let side: Side
    public let orderType: OrderType
    public let status: OrderStatus
    /// The limit price; nil for types without one.
    public let price: Price?
    public let quantity: Quantity
    public let executedQuantity: Quantity
    /// Binance's `cummulativeQuoteQty`.
    public let cumulativeQuoteQuantity: ExactDecimal
    /// The exchange's or the executor's reason for a rejection.
    public let rejectReason: String?
    public let updatedAt: Timestamp

    /// Checks the execution invariants the domain `Order` keeps (`invalidEventPayload`): a
    /// non-negative exchange id, a positive quantity and price, `executed ≤ quantity` with
    /// equality exactly when FILLED, nothing executed while PENDING_NEW, NEW or REJECTED,
    /// something while PARTIALLY_FILLED, and a non-negative cumulative quote that is zero
    /// while nothing executed. A reject reason is 1–256 bytes without control characters.
    public init(
        clientOrderId: ClientOrderId, exchangeOrderId: Int64? = nil, botId: BotId, symbol: Symbol, side: Side,
        orderType: OrderType, status: OrderStatus, price: Price? = nil, quantity: Quantity,
        executedQuantity: Quantity = .zero, cumulativeQuoteQuantity: ExactDecimal = .zero,
        rejectReason: String? = nil, updatedAt: Timestamp
    ) throws(GordonError) {
        func invalid(_ message: String) -> GordonError {
            invalidPayload(Self.eventType, message, ["clientOrderId": clientOrderId.rawValue, "status": status.rawValue])
        }
        if let exchangeOrderId, exchangeOrderId < 0 { throw invalid("exchange order id must not be negative") }
        guard !quantity.isZero else { throw invalid("order quantity must be positive") }
        if let price, price.isZero { throw invalid("price must be positive when present") }
        guard executedQuantity <= quantity else { throw invalid("executed quantity exceeds the order quantity") }
        guard (executedQuantity == quantity) == (status == .filled) else {
            throw invalid("an order is fully executed exactly when it is FILLED")
        }
        switch status {
        case .pendingNew, .new, .rejected:
            guard executedQuantity.isZero else { throw invalid("an order \(status.rawValue) has executed nothing") }
        case .partiallyFilled:
            guard !executedQuantity.isZero else { throw invalid("a PARTIALLY_FILLED order has executed something") }
        case .filled, .canceled, .pendingCancel, .expired, .expiredInMatch:
            break
        }
        guard !cumulativeQuoteQuantity.isNegative else { throw invalid("cumulative quote quantity must not be negative") }
        guard !executedQuantity.isZero || cumulativeQuoteQuantity.isZero else {
            throw invalid("cumulative quote quantity must be zero while nothing executed")
        }
        if let rejectReason, !Text.isFreeText(rejectReason, maxBytes: Self.maxRejectReasonBytes) {
            throw invalid("reject reason must be 1-\(Self.maxRejectReasonBytes) bytes without control characters")
        }
        self.clientOrderId = clientOrderId
        self.exchangeOrderId = exchangeOrderId
        self.botId = botId
        self.symbol = symbol
        self.side = side
        self.orderType = orderType
        self.status = status
        self.price = price
        self.quantity = quantity
        self.executedQuantity = executedQuantity
        self.cumulativeQuoteQuantity = cumulativeQuoteQuantity
        self.rejectReason = rejectReason
        self.updatedAt = updatedAt
    }

    /// The update describing a domain order's current state.
    public init(order: Order, rejectReason: String? = nil) throws(GordonError) {
        try self.init(clientOrderId: order.clientOrderId, exchangeOrderId: order.exchangeOrderId, botId: order.botId,
                      symbol: order.symbol, side: order.side, orderType: order.type, status: order.status, price: order.price,
                      quantity: order.quantity, executedQuantity: order.executedQuantity,
                      cumulativeQuoteQuantity: order.cumulativeQuoteQuantity, rejectReason: rejectReason,
                      updatedAt: order.updatedAt)
    }

    public var subject: Subject { .orderUpdate(botId) }

    enum CodingKeys: String, CodingKey {
        case clientOrderId = "client_order_id"
        case exchangeOrderId = "exchange_order_id"
        case botId = "bot_id"
        case symbol, side
        case orderType = "order_type"
        case status, price, quantity
        case executedQuantity = "executed_quantity"
        case cumulativeQuoteQuantity = "cumulative_quote_quantity"
        case rejectReason = "reject_reason"
        case updatedAt = "updated_at"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let clientOrderId = try container.decode(ClientOrderId.self, forKey: .clientOrderId)
        let exchangeOrderId = try container.decodeIntegerIfPresent(Int64.self, forKey: .exchangeOrderId)
        let botId = try container.decode(BotId.self, forKey: .botId)
        let symbol = try container.decode(Symbol.self, forKey: .symbol)
        let side = try container.decode(Side.self, forKey: .side)
        let orderType = try container.decode(OrderType.self, forKey: .orderType)
        let status = try container.decode(OrderStatus.self, forKey: .status)
        let price = try container.decodeIfPresent(Price.self, forKey: .price)
        let quantity = try container.decode(Quantity.self, forKey: .quantity)
        let executedQuantity = try container.decode(Quantity.self, forKey: .executedQuantity)
        let cumulativeQuoteQuantity = try container.decode(ExactDecimal.self, forKey: .cumulativeQuoteQuantity)
        let rejectReason = try container.decodeIfPresent(String.self, forKey: .rejectReason)
        let updatedAt = try container.decodeTimestamp(forKey: .updatedAt)
        self = try decoder.validating { () throws(GordonError) in
            try OrderUpdateEvent(clientOrderId: clientOrderId, exchangeOrderId: exchangeOrderId, botId: botId, symbol: symbol,
                                 side: side, orderType: orderType, status: status, price: price, quantity: quantity,
                                 executedQuantity: executedQuantity, cumulativeQuoteQuantity: cumulativeQuoteQuantity,
                                 rejectReason: rejectReason, updatedAt: updatedAt)
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(clientOrderId, forKey: .clientOrderId)
        try container.encodeIfPresent(exchangeOrderId, forKey: .exchangeOrderId)
        try container.encode(botId, forKey: .botId)
        try container.encode(symbol, forKey: .symbol)
        try container.encode(side, forKey: .side)
        try container.encode(orderType, forKey: .orderType)
        try container.encode(status, forKey: .status)
        try container.encodeIfPresent(price, forKey: .price)
        try container.encode(quantity, forKey: .quantity)
        try container.encode(executedQuantity, forKey: .executedQuantity)
        try container.encode(cumulativeQuoteQuantity, forKey: .cumulativeQuoteQuantity)
        try container.encodeIfPresent(rejectReason, forKey: .rejectReason)
        try container.encode(updatedAt, forKey: .updatedAt)
    }
}
