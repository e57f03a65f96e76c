public import GordonDomain

/// An `executionReport`: one change to one order (placed, filled, canceled, expired, …).
///
/// Amounts are `ExactDecimal`, not `Price`/`Quantity`: Binance fills fields that do not apply
/// with `"0.00000000"` (a market order's price, a non-stop order's stop price), so zero has to
/// mean "absent" here and the caller decides per order type.
public struct ExecutionReport: Sendable, Hashable {
    public var eventTime: Timestamp
    public var symbol: Symbol
    /// `"c"`: the order's client id (for a cancel, the id of the cancel request).
    public var clientOrderId: String
    public var side: Side
    public var orderType: OrderType
    /// `"f"`, or nil when `orderType` takes no time in force: Binance then sends a filler
    /// (`"GTC"`) that means nothing, and the encoder writes that filler back.
    public var timeInForce: TimeInForce?
    public var quantity: ExactDecimal
    public var price: ExactDecimal
    public var stopPrice: ExactDecimal
    /// `"F"`.
    public var icebergQuantity: ExactDecimal
    /// `"g"`: -1 unless the order belongs to an order list.
    public var orderListId: Int64
    /// `"C"`: the id of the order being canceled; empty unless this report is a cancel.
    public var originalClientOrderId: String
    /// `"x"`: NEW, CANCELED, REPLACED, REJECTED, TRADE, EXPIRED or TRADE_PREVENTION. Kept as
    /// text so a new execution type does not make the whole report undecodable.
    public var executionType: String
    /// `"X"`.
    public var orderStatus: OrderStatus
    /// `"r"`: `NONE` unless rejected.
    public var rejectReason: String
    public var orderId: Int64
    /// `"l"`, `"z"`, `"L"`: this execution's quantity, the order's cumulative fill, this
    /// execution's price.
    public var lastExecutedQuantity: ExactDecimal
    public var cumulativeFilledQuantity: ExactDecimal
    public var lastExecutedPrice: ExactDecimal
    /// `"n"` in `commissionAsset` (`"N"`, null when nothing was charged).
    public var commission: ExactDecimal
    public var commissionAsset: String?
    /// `"T"`.
    public var transactionTime: Timestamp
    /// `"t"`: -1 unless this report is a trade.
    public var tradeId: Int64
    /// `"I"`: Binance's execution id.
    public var executionId: Int64
    /// `"w"`.
    public var isOnBook: Bool
    /// `"m"`.
    public var isMaker: Bool
    /// `"O"`.
    public var orderCreationTime: Timestamp
    /// `"Z"`: quote quantity filled so far (average price = Z / z).
    public var cumulativeQuoteQuantity: ExactDecimal
    /// `"Y"`: this execution's `price × quantity`.
    public var lastQuoteQuantity: ExactDecimal
    /// `"Q"`: the quote quantity a quote-sized market order asked for, else zero.
    public var quoteOrderQuantity: ExactDecimal
    /// `"W"`: present once the order is working on the book.
    public var workingTime: Timestamp?
    /// `"V"`: the self-trade prevention mode, e.g. `NONE`, `EXPIRE_MAKER`.
    public var selfTradePreventionMode: String
    /// `"v"`: present only when self-trade prevention expired the order.
    public var preventedMatchId: Int64?
    /// `"eR"`: present once the order expired, e.g. `INSUFFICIENT_LIQUIDITY`.
    public var expiryReason: String?

    public init(
        eventTime: Timestamp, symbol: Symbol, clientOrderId: String, side: Side, orderType: OrderType,
        timeInForce: TimeInForce?, quantity: ExactDecimal, price: ExactDecimal, stopPrice: ExactDecimal,
        icebergQuantity: ExactDecimal = .zero, orderListId: Int64 = -1, originalClientOrderId: String = "",
        executionType: String, orderStatus: OrderStatus, rejectReason: String = "NONE", orderId: Int64,
        lastExecutedQuantity: ExactDecimal, cumulativeFilledQuantity: ExactDecimal, lastExecutedPrice: ExactDecimal,
        commission: ExactDecimal, commissionAsset: String?, transactionTime: Timestamp, tradeId: Int64,
        executionId: Int64, isOnBook: Bool, isMaker: Bool, orderCreationTime: Timestamp,
        cumulativeQuoteQuantity: ExactDecimal, lastQuoteQuantity: ExactDecimal, quoteOrderQuantity: ExactDecimal,
        workingTime: Timestamp?, selfTradePreventionMode: String = "NONE", preventedMatchId: Int64? = nil,
        expiryReason: String? = nil
    ) {
        self.eventTime = eventTime
        self.symbol = symbol
        self.clientOrderId = clientOrderId
        self.side = side
        self.orderType = orderType
        self.timeInForce = timeInForce
        self.quantity = quantity
        self.price = price
        self.stopPrice = stopPrice
        self.icebergQuantity = icebergQuantity
        self.orderListId = orderListId
        self.originalClientOrderId = originalClientOrderId
        self.executionType = executionType
        self.orderStatus = orderStatus
        self.rejectReason = rejectReason
        self.orderId = orderId
        self.lastExecutedQuantity = lastExecutedQuantity
        self.cumulativeFilledQuantity = cumulativeFilledQuantity
        self.lastExecutedPrice = lastExecutedPrice
        self.commission = commission
        self.commissionAsset = commissionAsset
        self.transactionTime = transactionTime
        self.tradeId = tradeId
        self.executionId = executionId
        self.isOnBook = isOnBook
        self.isMaker = isMaker
        self.orderCreationTime = orderCreationTime
        self.cumulativeQuoteQuantity = cumulativeQuoteQuantity
        self.lastQuoteQuantity = lastQuoteQuantity
        self.quoteOrderQuantity = quoteOrderQuantity
        self.workingTime = workingTime
        self.selfTradePreventionMode = selfTradePreventionMode
        self.preventedMatchId = preventedMatchId
        self.expiryReason = expiryReason
    }
}

/// One entry of `outboundAccountPosition`'s `"B"`.
public struct AssetBalanceUpdate: Sendable, Hashable {
    public var asset: Asset
    public var free: ExactDecimal
    public var locked: ExactDecimal

    public init(asset: Asset, free: ExactDecimal, locked: ExactDecimal) {
        self.asset = asset
        self.free = free
        self.locked = locked
    }
}

/// `outboundAccountPosition`: the new balances of the assets an event may have changed.
public struct AccountPosition: Sendable, Hashable {
    public var eventTime: Timestamp
    /// `"u"`: when the account last changed.
    public var lastUpdateTime: Timestamp
    public var balances: [AssetBalanceUpdate]

    public init(eventTime: Timestamp, lastUpdateTime: Timestamp, balances: [AssetBalanceUpdate]) {
        self.eventTime = eventTime
        self.lastUpdateTime = lastUpdateTime
        self.balances = balances
    }
}

/// `balanceUpdate`: a deposit, withdrawal or transfer changed one asset by `delta`.
public struct BalanceUpdate: Sendable, Hashable {
    public var eventTime: Timestamp
    public var asset: Asset
    public var delta: ExactDecimal
    /// `"T"`.
    public var clearTime: Timestamp

    public init(eventTime: Timestamp, asset: Asset, delta: ExactDecimal, clearTime: Timestamp) {
        self.eventTime = eventTime
        self.asset = asset
        self.delta = delta
        self.clearTime = clearTime
    }
}

/// A decoded user data stream message.
public enum UserDataEvent: Sendable, Hashable {
    case executionReport(ExecutionReport)
    case accountPosition(AccountPosition)
    case balanceUpdate(BalanceUpdate)
    /// The listen key expired: the stream is dead until a new key is created.
    case listenKeyExpired(eventTime: Timestamp)
    /// A WebSocket API subscription ended (unsubscribe, logout, token expiry).
    case eventStreamTerminated(eventTime: Timestamp)
    /// A well-formed event Gordon does not act on (`listStatus`, `externalLockUpdate`, …).
    case other(eventType: String)
}
