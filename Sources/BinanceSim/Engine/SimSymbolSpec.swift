public import GordonDomain
public import GordonExchange

/// One tradable symbol of the simulated exchange: its rules (what `exchangeInfo` reports)
/// and the synthetic liquidity the engine quotes around the last price.
public struct SimSymbolSpec: Sendable {
    public var symbol: Symbol
    public var base: Asset
    public var quote: Asset
    /// PRICE_FILTER, LOT_SIZE, MARKET_LOT_SIZE, NOTIONAL, checked on every order.
    public var filters: ExchangeFilters
    /// Decimals a quantity may carry (Binance: 8).
    public var baseAssetPrecision: Int
    /// Decimals a price or a quote amount may carry (Binance: 8).
    public var quotePrecision: Int
    /// Base-asset quantity offered at every synthetic price level, and the most one resting
    /// order fills per market move. Should lie on the LOT_SIZE step grid.
    public var levelQuantity: ExactDecimal
    /// Synthetic levels per side of the book.
    public var depthLevels: Int
    /// PERCENT_PRICE_BY_SIDE: a limit price must lie within these multipliers of the
    /// reference price, per side. The simulator's reference is the last price (Binance's
    /// weighted average over `avgPriceMins`, which is the last price when that is 0).
    public var percentPriceBySide: PercentPriceBySide?
    /// Self-trade prevention: the mode an order without `selfTradePreventionMode` gets, and
    /// the modes an order may name. The simulator works NONE, EXPIRE_TAKER, EXPIRE_MAKER and
    /// EXPIRE_BOTH (faqs/stp_faq.md); NONE leaves the account's own orders out of the match.
    public var defaultSelfTradePreventionMode = "NONE"
    public var allowedSelfTradePreventionModes = ["NONE", "EXPIRE_TAKER", "EXPIRE_MAKER", "EXPIRE_BOTH"]
    /// MAX_NUM_ORDERS: open orders on the symbol at most (Binance's usual 200).
    public var maxNumOrders: Int = 200
    /// MAX_NUM_ALGO_ORDERS: open stop orders (STOP_LOSS_LIMIT, TAKE_PROFIT_LIMIT) at most
    /// (Binance's usual 5).
    public var maxNumAlgoOrders: Int = 5

    public init(symbol: Symbol, base: Asset, quote: Asset, filters: ExchangeFilters,
                baseAssetPrecision: Int = 8, quotePrecision: Int = 8,
                levelQuantity: ExactDecimal, depthLevels: Int) {
        self.symbol = symbol
        self.base = base
        self.quote = quote
        self.filters = filters
        self.baseAssetPrecision = baseAssetPrecision
        self.quotePrecision = quotePrecision
        self.levelQuantity = levelQuantity
        self.depthLevels = depthLevels
    }

    /// The price grid: PRICE_FILTER's tick, or one unit of the quote precision when the
    /// filter is absent or disabled (tick "0").
    var tick: ExactDecimal {
        if let tick = filters.tickSize, tick.isPositive { return tick }
        return ExactDecimal(significand: 1, scale: quotePrecision)
    }

    /// The grid a MARKET quantity lands on: MARKET_LOT_SIZE's step, else LOT_SIZE's, else
    /// one unit of the base precision. A `quoteOrderQty` order rounds each fill down to it,
    /// as Binance's "will not break LOT_SIZE filter rules" requires.
    var marketStep: ExactDecimal {
        if let step = filters.marketStepSize, step.isPositive { return step }
        if let step = filters.stepSize, step.isPositive { return step }
        return ExactDecimal(significand: 1, scale: baseAssetPrecision)
    }
}

/// The parameters of `POST /api/v3/order` the simulator understands, already parsed from
/// text; which are present matters as much as their values (Binance rejects both missing
/// and superfluous ones).
public struct SimOrderParams: Sendable, Hashable {
    public var symbol: Symbol
    public var side: Side
    public var type: OrderType
    public var timeInForce: TimeInForce?
    public var quantity: ExactDecimal?
    public var quoteOrderQty: ExactDecimal?
    public var price: ExactDecimal?
    public var stopPrice: ExactDecimal?
    public var newClientOrderId: String?
    public var selfTradePreventionMode: String?

    public init(symbol: Symbol, side: Side, type: OrderType, timeInForce: TimeInForce? = nil,
                quantity: ExactDecimal? = nil, quoteOrderQty: ExactDecimal? = nil, price: ExactDecimal? = nil,
                stopPrice: ExactDecimal? = nil, newClientOrderId: String? = nil, selfTradePreventionMode: String? = nil) {
        self.symbol = symbol
        self.side = side
        self.type = type
        self.timeInForce = timeInForce
        self.quantity = quantity
        self.quoteOrderQty = quoteOrderQty
        self.price = price
        self.stopPrice = stopPrice
        self.newClientOrderId = newClientOrderId
        self.selfTradePreventionMode = selfTradePreventionMode
    }
}
