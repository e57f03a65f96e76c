/// GET /api/v3/exchangeInfo.
public struct ExchangeInfoResponse: Codable, Sendable {
    public var timezone: String
    public var serverTime: Int64
    public var rateLimits: [RateLimitRule]
    public var exchangeFilters: [SymbolFilter]
    public var symbols: [SymbolInfo]
    /// Present only where smart order routing is available.
    public var sors: [SmartOrderRoutingInfo]?

    public init(timezone: String = "UTC", serverTime: Int64, rateLimits: [RateLimitRule], exchangeFilters: [SymbolFilter],
                symbols: [SymbolInfo], sors: [SmartOrderRoutingInfo]? = nil) {
        self.timezone = timezone
        self.serverTime = serverTime
        self.rateLimits = rateLimits
        self.exchangeFilters = exchangeFilters
        self.symbols = symbols
        self.sors = sors
    }
}

/// One entry of exchangeInfo's `sors`: the symbols SOR may route between.
public struct SmartOrderRoutingInfo: Codable, Sendable, Hashable {
    public var baseAsset: String
    public var symbols: [String]

    public init(baseAsset: String, symbols: [String]) {
        self.baseAsset = baseAsset
        self.symbols = symbols
    }
}

/// One symbol of exchangeInfo. Fields Binance added after 2022 are optional, so older
/// snapshots and testnets decode as well as the current API; `quotePrecision` is optional
/// because Binance announced its removal.
public struct SymbolInfo: Codable, Sendable {
    public var symbol: String
    /// `TRADING`, `END_OF_DAY`, `HALT`, `BREAK`, `CANCEL_ONLY` (enums.md); kept as text so
    /// a new status is visible rather than a decoding failure.
    public var status: String
    public var baseAsset: String
    public var baseAssetPrecision: Int
    public var quoteAsset: String
    public var quotePrecision: Int?
    public var quoteAssetPrecision: Int
    public var baseCommissionPrecision: Int
    public var quoteCommissionPrecision: Int
    public var orderTypes: [String]
    public var icebergAllowed: Bool
    public var ocoAllowed: Bool
    public var otoAllowed: Bool?
    public var opoAllowed: Bool?
    public var quoteOrderQtyMarketAllowed: Bool
    public var allowTrailingStop: Bool
    public var cancelReplaceAllowed: Bool
    public var amendAllowed: Bool?
    public var pegInstructionsAllowed: Bool?
    public var isSpotTradingAllowed: Bool
    public var isMarginTradingAllowed: Bool
    public var filters: [SymbolFilter]
    public var permissions: [String]
    public var permissionSets: [[String]]?
    public var defaultSelfTradePreventionMode: String?
    public var allowedSelfTradePreventionModes: [String]?

    /// A spot symbol as the simulator lists it: every order type Gordon uses, spot only,
    /// STP `NONE`, and the precision Binance uses for most pairs (8).
    public init(symbol: String, status: String = "TRADING", baseAsset: String, quoteAsset: String, precision: Int = 8,
                orderTypes: [String] = ["LIMIT", "LIMIT_MAKER", "MARKET", "STOP_LOSS", "STOP_LOSS_LIMIT", "TAKE_PROFIT", "TAKE_PROFIT_LIMIT"],
                filters: [SymbolFilter]) {
        self.symbol = symbol
        self.status = status
        self.baseAsset = baseAsset
        self.baseAssetPrecision = precision
        self.quoteAsset = quoteAsset
        self.quotePrecision = precision
        self.quoteAssetPrecision = precision
        self.baseCommissionPrecision = precision
        self.quoteCommissionPrecision = precision
        self.orderTypes = orderTypes
        self.icebergAllowed = false
        self.ocoAllowed = false
        self.otoAllowed = false
        self.opoAllowed = false
        self.quoteOrderQtyMarketAllowed = false
        self.allowTrailingStop = false
        self.cancelReplaceAllowed = false
        self.amendAllowed = false
        self.pegInstructionsAllowed = false
        self.isSpotTradingAllowed = true
        self.isMarginTradingAllowed = false
        self.filters = filters
        self.permissions = []
        self.permissionSets = [["SPOT"]]
        self.defaultSelfTradePreventionMode = "NONE"
        self.allowedSelfTradePreventionModes = ["NONE"]
    }
}
