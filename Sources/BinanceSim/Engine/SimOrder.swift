public import GordonDomain

/// One trade of the account's order against the (synthetic) market, as `myTrades` and the
/// `fills` of a FULL order response report it.
public struct SimFill: Sendable, Hashable {
    /// Per symbol, from 1, in execution order.
    public let tradeId: Int64
    public let orderId: Int64
    public let symbol: Symbol
    public let side: Side
    public let price: ExactDecimal
    public let quantity: ExactDecimal
    /// `price × quantity`, exact.
    public let quoteQuantity: ExactDecimal
    public let commission: ExactDecimal
    /// The asset received: base on a BUY, quote on a SELL.
    public let commissionAsset: Asset
    public let time: Int64
    public let isMaker: Bool

    public init(tradeId: Int64, orderId: Int64, symbol: Symbol, side: Side, price: ExactDecimal, quantity: ExactDecimal,
                quoteQuantity: ExactDecimal, commission: ExactDecimal, commissionAsset: Asset, time: Int64, isMaker: Bool) {
        self.tradeId = tradeId
        self.orderId = orderId
        self.symbol = symbol
        self.side = side
        self.price = price
        self.quantity = quantity
        self.quoteQuantity = quoteQuantity
        self.commission = commission
        self.commissionAsset = commissionAsset
        self.time = time
        self.isMaker = isMaker
    }
}

/// An order as the exchange reports it (`GET /api/v3/order`, the FULL placement response,
/// the order part of an executionReport). Field names follow Binance's JSON.
public struct SimOrder: Sendable, Hashable {
    /// Per symbol, from 1.
    public let orderId: Int64
    public let clientOrderId: String
    public let symbol: Symbol
    public let side: Side
    public let type: OrderType
    /// As sent: nil for MARKET and LIMIT_MAKER (Binance prints "GTC" for those; the server
    /// decides how to print a nil).
    public let timeInForce: TimeInForce?
    /// The limit price; zero for MARKET, which Binance prints as "0.00000000".
    public let price: ExactDecimal
    /// The trigger of a STOP_LOSS_LIMIT or TAKE_PROFIT_LIMIT; zero otherwise.
    public let stopPrice: ExactDecimal
    /// The base quantity ordered. For a `quoteOrderQty` MARKET order it is the quantity the
    /// quote amount bought or sold (so FILLED means executed == orig, as everywhere).
    public internal(set) var origQty: ExactDecimal
    public internal(set) var executedQty: ExactDecimal
    /// Binance's spelling: the quote amount spent or received so far.
    public internal(set) var cummulativeQuoteQty: ExactDecimal
    /// The `quoteOrderQty` sent, zero otherwise.
    public let origQuoteOrderQty: ExactDecimal
    public internal(set) var status: OrderStatus
    public let time: Int64
    public internal(set) var updateTime: Int64
    /// When the order started working: its placement time, or for a stop order the time it
    /// triggered, -1 until then (as Binance reports it).
    public internal(set) var workingTime: Int64
    /// NONE, EXPIRE_TAKER, EXPIRE_MAKER or EXPIRE_BOTH.
    public let selfTradePreventionMode: String
    /// Set when self-trade prevention expired the order.
    public internal(set) var preventedMatchId: Int64?
    /// Every fill of the order so far, oldest first.
    public internal(set) var fills: [SimFill]
    /// The order list (OCO) the order is a leg of; -1 for a stand-alone order.
    public internal(set) var orderListId: Int64 = -1

    public var isOpen: Bool { !status.isTerminal }

    /// A stop order whose trigger has not been reached: it is on no book and cannot fill.
    public var isWaitingForTrigger: Bool { isOpen && workingTime < 0 }

    var isStopOrder: Bool { type == .stopLossLimit || type == .takeProfitLimit }

    /// What is left to execute.
    public var remainingQty: ExactDecimal { origQty - executedQty }
}
