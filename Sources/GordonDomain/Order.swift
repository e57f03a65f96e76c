public import GordonKernel

/// What a bot asks the executor to place. Validated against Binance's per-type rules, so a
/// request that exists is one the exchange can at least parse.
public struct OrderRequest: Sendable, Hashable {
    /// The idempotency key: resubmitting the same id must never place a second order.
    public let clientOrderId: ClientOrderId
    public let botId: BotId
    public let symbol: Symbol
    public let side: Side
    public let type: OrderType
    public let timeInForce: TimeInForce?
    /// The limit price, for the types that `requiresPrice`.
    public let price: Price?
    /// The trigger price, for the stop-loss and take-profit types.
    public let stopPrice: Price?
    public let quantity: Quantity

    public init(
        clientOrderId: ClientOrderId, botId: BotId, symbol: Symbol, side: Side, type: OrderType,
        timeInForce: TimeInForce? = nil, price: Price? = nil, stopPrice: Price? = nil, quantity: Quantity
    ) throws(GordonError) {
        try OrderShape.validate(clientOrderId: clientOrderId, type: type, timeInForce: timeInForce,
                                price: price, stopPrice: stopPrice, quantity: quantity)
        self.init(validatedClientOrderId: clientOrderId, botId: botId, symbol: symbol, side: side, type: type,
                  timeInForce: timeInForce, price: price, stopPrice: stopPrice, quantity: quantity)
    }

    fileprivate init(
        validatedClientOrderId clientOrderId: ClientOrderId, botId: BotId, symbol: Symbol, side: Side, type: OrderType,
        timeInForce: TimeInForce?, price: Price?, stopPrice: Price?, quantity: Quantity
    ) {
        self.clientOrderId = clientOrderId
        self.botId = botId
        self.symbol = symbol
        self.side = side
        self.type = type
        self.timeInForce = timeInForce
        self.price = price
        self.stopPrice = stopPrice
        self.quantity = quantity
    }
}

/// Gordon's record of one order and how far it has executed.
///
/// Fields that describe what was asked never change; the execution fields change only
/// through `apply(status:executedQuantity:cumulativeQuote:at:exchangeOrderId:)`, which keeps
/// every invariant of the validating initializer.
public struct Order: Sendable, Hashable {
    public let clientOrderId: ClientOrderId
    /// Binance's `orderId`; nil until the exchange has acknowledged the order.
    public private(set) var exchangeOrderId: Int64?
    public let botId: BotId
    public let symbol: Symbol
    public let side: Side
    public let type: OrderType
    public let timeInForce: TimeInForce?
    public let price: Price?
    public let stopPrice: Price?
    public let quantity: Quantity
    public private(set) var executedQuantity: Quantity
    /// Binance's `cummulativeQuoteQty`: the quote asset spent or received so far.
    public private(set) var cumulativeQuoteQuantity: ExactDecimal
    public private(set) var status: OrderStatus
    public let createdAt: Timestamp
    public private(set) var updatedAt: Timestamp

    /// Besides Binance's per-type rules (see `OrderType`), requires: quantity > 0,
    /// 0 ≤ executed ≤ quantity with equality exactly when FILLED, nothing executed while
    /// PENDING_NEW, NEW or REJECTED, something but not everything while PARTIALLY_FILLED,
    /// a non-negative cumulative quote that is zero while nothing executed, and
    /// `updatedAt ≥ createdAt`. A mapper from Binance's JSON must drop the `price` of
    /// `"0.00000000"` and the `timeInForce` Binance echoes on MARKET orders.
    public init(
        clientOrderId: ClientOrderId, exchangeOrderId: Int64? = nil, botId: BotId, symbol: Symbol,
        side: Side, type: OrderType, timeInForce: TimeInForce? = nil, price: Price? = nil, stopPrice: Price? = nil,
        quantity: Quantity, executedQuantity: Quantity = .zero, cumulativeQuoteQuantity: ExactDecimal = .zero,
        status: OrderStatus, createdAt: Timestamp, updatedAt: Timestamp
    ) throws(GordonError) {
        try OrderShape.validate(clientOrderId: clientOrderId, type: type, timeInForce: timeInForce,
                                price: price, stopPrice: stopPrice, quantity: quantity)
        self.clientOrderId = clientOrderId
        self.exchangeOrderId = exchangeOrderId
        self.botId = botId
        self.symbol = symbol
        self.side = side
        self.type = type
        self.timeInForce = timeInForce
        self.price = price
        self.stopPrice = stopPrice
        self.quantity = quantity
        self.executedQuantity = executedQuantity
        self.cumulativeQuoteQuantity = cumulativeQuoteQuantity
        self.status = status
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        try validateExecution()
    }

    /// The order as the executor first records it: PENDING_NEW, nothing executed.
    public init(accepting request: OrderRequest, at time: Timestamp) {
        clientOrderId = request.clientOrderId
        exchangeOrderId = nil
        botId = request.botId
        symbol = request.symbol
        side = request.side
        type = request.type
        timeInForce = request.timeInForce
        price = request.price
        stopPrice = request.stopPrice
        quantity = request.quantity
        executedQuantity = .zero
        cumulativeQuoteQuantity = .zero
        status = .pendingNew
        createdAt = time
        updatedAt = time
    }

    public var isOpen: Bool { !status.isTerminal }

    /// What is left to execute.
    public var remainingQuantity: Quantity {
        // executedQuantity ≤ quantity is an invariant, so the difference is never negative.
        Quantity(unchecked: quantity.value - executedQuantity.value)
    }

    /// The request this order was placed for.
    public var request: OrderRequest {
        // These fields passed the same shape validation when this order was made.
        OrderRequest(validatedClientOrderId: clientOrderId, botId: botId, symbol: symbol, side: side, type: type,
                     timeInForce: timeInForce, price: price, stopPrice: stopPrice, quantity: quantity)
    }

    /// Applies an exchange update (an execution report, a query result, a reconciliation).
    ///
    /// Refuses, leaving the order unchanged: a status move the table forbids
    /// (`illegalOrderTransition`); executed quantity or cumulative quote going down, or
    /// an executed quantity beyond the order's, or a different exchange order id than the
    /// one already known (`invalidOrder`). Out-of-order updates therefore surface as errors
    /// the caller can drop after re-querying, never as silent regressions.
    ///
    /// `updatedAt` only moves forward: `at` comes from the exchange's clock while
    /// `createdAt` may come from Gordon's, and a few milliseconds of skew must not reject
    /// a genuine fill.
    public mutating func apply(
        status next: OrderStatus, executedQuantity executed: Quantity, cumulativeQuote: ExactDecimal,
        at time: Timestamp, exchangeOrderId newExchangeOrderId: Int64? = nil
    ) throws(GordonError) {
        let nextStatus = try status.transition(to: next)
        guard executed >= executedQuantity else {
            throw invalid("executed quantity must never decrease",
                          ["executed": executedQuantity.description, "update": executed.description])
        }
        guard cumulativeQuote >= cumulativeQuoteQuantity else {
            throw invalid("cumulative quote quantity must never decrease",
                          ["cumulativeQuote": cumulativeQuoteQuantity.description, "update": cumulativeQuote.description])
        }
        if let known = exchangeOrderId, let newExchangeOrderId, known != newExchangeOrderId {
            throw invalid("update is for a different exchange order", ["exchangeOrderId": "\(known)", "update": "\(newExchangeOrderId)"])
        }
        var updated = self
        updated.status = nextStatus
        updated.executedQuantity = executed
        updated.cumulativeQuoteQuantity = cumulativeQuote
        updated.updatedAt = max(updatedAt, time)
        updated.exchangeOrderId = exchangeOrderId ?? newExchangeOrderId
        try updated.validateExecution()
        self = updated
    }

    private func validateExecution() throws(GordonError) {
        if let exchangeOrderId, exchangeOrderId < 0 {
            throw invalid("exchange order id must not be negative", ["exchangeOrderId": "\(exchangeOrderId)"])
        }
        guard executedQuantity <= quantity else {
            throw invalid("executed quantity exceeds the order quantity",
                          ["quantity": quantity.description, "executed": executedQuantity.description])
        }
        guard (executedQuantity == quantity) == (status == .filled) else {
            throw invalid("an order is fully executed exactly when it is FILLED",
                          ["status": status.rawValue, "quantity": quantity.description, "executed": executedQuantity.description])
        }
        switch status {
        case .pendingNew, .new, .rejected:
            guard executedQuantity.isZero else {
                throw invalid("an order \(status.rawValue) has executed nothing", ["executed": executedQuantity.description])
            }
        case .partiallyFilled:
            guard !executedQuantity.isZero else {
                throw invalid("a PARTIALLY_FILLED order has executed something", ["executed": executedQuantity.description])
            }
        case .filled, .canceled, .pendingCancel, .expired, .expiredInMatch:
            break
        }
        guard !cumulativeQuoteQuantity.isNegative else {
            throw invalid("cumulative quote quantity must not be negative", ["cumulativeQuote": cumulativeQuoteQuantity.description])
        }
        guard !executedQuantity.isZero || cumulativeQuoteQuantity.isZero else {
            throw invalid("cumulative quote quantity must be zero while nothing executed",
                          ["cumulativeQuote": cumulativeQuoteQuantity.description])
        }
        guard updatedAt >= createdAt else {
            throw invalid("updatedAt is before createdAt", ["createdAt": createdAt.description, "updatedAt": updatedAt.description])
        }
    }

    private func invalid(_ message: String, _ context: [String: String]) -> GordonError {
        GordonError(.invalidOrder, message, context: context.merging(["clientOrderId": clientOrderId.rawValue]) { current, _ in current })
    }
}

/// Binance's per-type parameter rules, shared by requests and orders.
enum OrderShape {
    static func validate(
        clientOrderId: ClientOrderId, type: OrderType, timeInForce: TimeInForce?,
        price: Price?, stopPrice: Price?, quantity: Quantity
    ) throws(GordonError) {
        func invalid(_ message: String) -> GordonError {
            GordonError(.invalidOrder, message, context: ["clientOrderId": clientOrderId.rawValue, "type": type.rawValue])
        }
        guard !quantity.isZero else { throw invalid("order quantity must be positive") }
        if type.requiresPrice {
            guard let price else { throw invalid("\(type.rawValue) order needs a price") }
            guard !price.isZero else { throw invalid("order price must be positive") }
        } else if price != nil {
            throw invalid("\(type.rawValue) order must not have a price")
        }
        if type.requiresTimeInForce {
            guard timeInForce != nil else { throw invalid("\(type.rawValue) order needs a time in force") }
        } else if timeInForce != nil {
            throw invalid("\(type.rawValue) order must not have a time in force")
        }
        if type.requiresStopPrice {
            guard let stopPrice else { throw invalid("\(type.rawValue) order needs a stop price") }
            guard !stopPrice.isZero else { throw invalid("stop price must be positive") }
        } else if stopPrice != nil {
            throw invalid("\(type.rawValue) order must not have a stop price")
        }
    }
}

extension OrderRequest: Codable {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let clientOrderId = try container.decode(ClientOrderId.self, forKey: .clientOrderId)
        let botId = try container.decode(BotId.self, forKey: .botId)
        let symbol = try container.decode(Symbol.self, forKey: .symbol)
        let side = try container.decode(Side.self, forKey: .side)
        let type = try container.decode(OrderType.self, forKey: .type)
        let timeInForce = try container.decodeIfPresent(TimeInForce.self, forKey: .timeInForce)
        let price = try container.decodeIfPresent(Price.self, forKey: .price)
        let stopPrice = try container.decodeIfPresent(Price.self, forKey: .stopPrice)
        let quantity = try container.decode(Quantity.self, forKey: .quantity)
        self = try decoder.validated { () throws(GordonError) in
            try OrderRequest(clientOrderId: clientOrderId, botId: botId, symbol: symbol, side: side, type: type,
                             timeInForce: timeInForce, price: price, stopPrice: stopPrice, quantity: quantity)
        }
    }
}

extension Order: Codable {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let clientOrderId = try container.decode(ClientOrderId.self, forKey: .clientOrderId)
        let exchangeOrderId = try container.decodeIfPresent(Int64.self, forKey: .exchangeOrderId)
        let botId = try container.decode(BotId.self, forKey: .botId)
        let symbol = try container.decode(Symbol.self, forKey: .symbol)
        let side = try container.decode(Side.self, forKey: .side)
        let type = try container.decode(OrderType.self, forKey: .type)
        let timeInForce = try container.decodeIfPresent(TimeInForce.self, forKey: .timeInForce)
        let price = try container.decodeIfPresent(Price.self, forKey: .price)
        let stopPrice = try container.decodeIfPresent(Price.self, forKey: .stopPrice)
        let quantity = try container.decode(Quantity.self, forKey: .quantity)
        let executedQuantity = try container.decode(Quantity.self, forKey: .executedQuantity)
        let cumulativeQuoteQuantity = try container.decode(ExactDecimal.self, forKey: .cumulativeQuoteQuantity)
        let status = try container.decode(OrderStatus.self, forKey: .status)
        let createdAt = try container.decode(Timestamp.self, forKey: .createdAt)
        let updatedAt = try container.decode(Timestamp.self, forKey: .updatedAt)
        self = try decoder.validated { () throws(GordonError) in
            try Order(clientOrderId: clientOrderId, exchangeOrderId: exchangeOrderId, botId: botId, symbol: symbol,
                      side: side, type: type, timeInForce: timeInForce, price: price, stopPrice: stopPrice,
                      quantity: quantity, executedQuantity: executedQuantity,
                      cumulativeQuoteQuantity: cumulativeQuoteQuantity, status: status,
                      createdAt: createdAt, updatedAt: updatedAt)
        }
    }
}
