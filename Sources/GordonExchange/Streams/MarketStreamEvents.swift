public import GordonDomain

/// One `<symbol>@aggTrade` event: the fills of a single taker order at one price.
public struct AggregateTrade: Sendable, Hashable {
    public var eventTime: Timestamp
    public var symbol: Symbol
    public var aggregateTradeId: Int64
    public var price: Price
    public var quantity: Quantity
    public var firstTradeId: Int64
    public var lastTradeId: Int64
    public var tradeTime: Timestamp
    /// True when the buyer's order was resting on the book, i.e. the taker sold.
    public var buyerIsMaker: Bool

    public init(eventTime: Timestamp, symbol: Symbol, aggregateTradeId: Int64, price: Price, quantity: Quantity,
                firstTradeId: Int64, lastTradeId: Int64, tradeTime: Timestamp, buyerIsMaker: Bool) {
        self.eventTime = eventTime
        self.symbol = symbol
        self.aggregateTradeId = aggregateTradeId
        self.price = price
        self.quantity = quantity
        self.firstTradeId = firstTradeId
        self.lastTradeId = lastTradeId
        self.tradeTime = tradeTime
        self.buyerIsMaker = buyerIsMaker
    }
}

/// One `<symbol>@bookTicker` event: the best bid and ask. Binance sends no event type or
/// time with it; `updateId` orders the updates.
public struct BookTicker: Sendable, Hashable {
    public var updateId: Int64
    public var symbol: Symbol
    public var bidPrice: Price
    public var bidQuantity: Quantity
    public var askPrice: Price
    public var askQuantity: Quantity

    public init(updateId: Int64, symbol: Symbol, bidPrice: Price, bidQuantity: Quantity, askPrice: Price, askQuantity: Quantity) {
        self.updateId = updateId
        self.symbol = symbol
        self.bidPrice = bidPrice
        self.bidQuantity = bidQuantity
        self.askPrice = askPrice
        self.askQuantity = askQuantity
    }
}

/// One `<symbol>@kline_<interval>` event: the current state of a forming (or just closed)
/// kline. `kline.isClosed` is Binance's `"x"`; the kline was validated like any other.
public struct KlineUpdate: Sendable, Hashable {
    public var eventTime: Timestamp
    public var kline: Kline
    /// Binance's `"f"` and `"L"`: the first and last trade in the kline, -1 when it has none.
    public var firstTradeId: Int64
    public var lastTradeId: Int64

    public init(eventTime: Timestamp, kline: Kline, firstTradeId: Int64 = -1, lastTradeId: Int64 = -1) {
        self.eventTime = eventTime
        self.kline = kline
        self.firstTradeId = firstTradeId
        self.lastTradeId = lastTradeId
    }
}

/// A decoded market stream message.
public enum MarketStreamEvent: Sendable, Hashable {
    case kline(KlineUpdate)
    case aggTrade(AggregateTrade)
    case bookTicker(BookTicker)
    /// Binance is about to close the connection (`"e":"serverShutdown"`): reconnect now.
    case serverShutdown(eventTime: Timestamp)
}
