public import GordonDomain
public import GordonExchange
public import GordonKernel

/// Everything the simulator is made of besides its price feed.
public struct SimConfiguration: Sendable {
    public var symbols: [SimSymbolSpec]
    public var fees: FeeModel
    /// The account's starting balances.
    public var balances: [Asset: ExactDecimal]
    /// The API keys it accepts (each with its HMAC secret).
    public var apiKeys: [SimAPIKey]
    /// Published in exchangeInfo and enforced per window, as Binance does.
    public var rateLimits: [RateLimitRule]
    /// After this many refused requests in a row, the client is banned (HTTP 418).
    public var banAfterViolations: Int
    public var banSeconds: Int
    /// A listen key not kept alive for this long expires (Binance: 60 minutes).
    public var listenKeyLifetimeMilliseconds: Int64
    /// Decimal places of prices and quantities in responses (Binance prints 8).
    public var decimals: Int
    /// The first order and trade id of every symbol. Binance's ids only grow; a simulator
    /// started again over the records of an earlier run starts past them.
    public var firstId: Int64 = 1

    public init(symbols: [SimSymbolSpec], fees: FeeModel = .binanceDefault, balances: [Asset: ExactDecimal],
                apiKeys: [SimAPIKey], rateLimits: [RateLimitRule] = RateLimitState.binanceDefaults,
                banAfterViolations: Int = 5, banSeconds: Int = 120, listenKeyLifetimeMilliseconds: Int64 = 3_600_000,
                decimals: Int = 8) {
        self.symbols = symbols
        self.fees = fees
        self.balances = balances
        self.apiKeys = apiKeys
        self.rateLimits = rateLimits
        self.banAfterViolations = banAfterViolations
        self.banSeconds = banSeconds
        self.listenKeyLifetimeMilliseconds = listenKeyLifetimeMilliseconds
        self.decimals = decimals
    }

    /// A spot symbol with Binance-like BTCUSDT rules: tick 0.01, step 0.00001, min notional 5,
    /// limit prices within 0.2× to 5× of the market, self-trade prevention EXPIRE_MAKER.
    public static func spotSymbol(_ symbol: Symbol, levelQuantity: ExactDecimal = ExactDecimal(significand: 5, scale: 1),
                                  depthLevels: Int = 20) throws(GordonError) -> SimSymbolSpec {
        guard let base = symbol.base, let quote = symbol.quote else {
            throw GordonError(.invalidSymbol, "the simulator needs a symbol with a known quote asset", context: ["symbol": symbol.rawValue])
        }
        let filters = ExchangeFilters(
            tickSize: ExactDecimal(significand: 1, scale: 2), minPrice: ExactDecimal(significand: 1, scale: 2),
            maxPrice: ExactDecimal(1_000_000), stepSize: ExactDecimal(significand: 1, scale: 5),
            minQuantity: ExactDecimal(significand: 1, scale: 5), maxQuantity: ExactDecimal(9000),
            marketStepSize: ExactDecimal(significand: 1, scale: 5), marketMaxQuantity: ExactDecimal(100),
            minNotional: ExactDecimal(5), maxNotional: ExactDecimal(9_000_000))
        var spec = SimSymbolSpec(symbol: symbol, base: base, quote: quote, filters: filters, baseAssetPrecision: 8, quotePrecision: 8,
                                 levelQuantity: levelQuantity, depthLevels: depthLevels)
        // BTCUSDT's band on Binance: bids and asks within 0.2× to 5× of the average price.
        spec.percentPriceBySide = PercentPriceBySide(bidMultiplierUp: ExactDecimal(5), bidMultiplierDown: ExactDecimal(significand: 2, scale: 1),
                                                     askMultiplierUp: ExactDecimal(5), askMultiplierDown: ExactDecimal(significand: 2, scale: 1),
                                                     avgPriceMins: 5)
        // Binance's default for spot symbols: a taker meeting the account's own order expires the maker.
        spec.defaultSelfTradePreventionMode = "EXPIRE_MAKER"
        return spec
    }
}
