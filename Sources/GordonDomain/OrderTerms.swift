/// Order side; raw values are Binance's.
public enum Side: String, Sendable, Hashable, Codable, CaseIterable, CustomStringConvertible {
    case buy = "BUY"
    case sell = "SELL"

    public var description: String { rawValue }
}

/// Binance spot order types; raw values are Binance's.
public enum OrderType: String, Sendable, Hashable, Codable, CaseIterable, CustomStringConvertible {
    case market = "MARKET"
    case limit = "LIMIT"
    case limitMaker = "LIMIT_MAKER"
    case stopLoss = "STOP_LOSS"
    case stopLossLimit = "STOP_LOSS_LIMIT"
    case takeProfit = "TAKE_PROFIT"
    case takeProfitLimit = "TAKE_PROFIT_LIMIT"

    public var description: String { rawValue }

    /// Binance requires a limit price for these and rejects one for the others.
    public var requiresPrice: Bool {
        switch self {
        case .limit, .limitMaker, .stopLossLimit, .takeProfitLimit: true
        case .market, .stopLoss, .takeProfit: false
        }
    }

    /// Binance requires a time in force for these and rejects one for the others
    /// (a LIMIT_MAKER is post-only and has none).
    public var requiresTimeInForce: Bool {
        switch self {
        case .limit, .stopLossLimit, .takeProfitLimit: true
        case .market, .limitMaker, .stopLoss, .takeProfit: false
        }
    }

    /// Binance requires a trigger (`stopPrice`) for these and rejects one for the others.
    public var requiresStopPrice: Bool {
        switch self {
        case .stopLoss, .stopLossLimit, .takeProfit, .takeProfitLimit: true
        case .market, .limit, .limitMaker: false
        }
    }
}

/// How long an order stays on the book; raw values are Binance's.
public enum TimeInForce: String, Sendable, Hashable, Codable, CaseIterable, CustomStringConvertible {
    /// Good till canceled.
    case gtc = "GTC"
    /// Immediate or cancel: fill what can be filled now, expire the rest.
    case ioc = "IOC"
    /// Fill or kill: fill completely now or expire.
    case fok = "FOK"

    public var description: String { rawValue }
}
