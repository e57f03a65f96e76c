public import GordonKernel

/// The name of a market metric, `^[a-z0-9][a-z0-9_]{0,63}$` (`fear_greed`, `dvol_btc`,
/// `funding_rate_btcusdt`). It is the last token of `gordon.market.metric.<name>` and a
/// database key, so it is restricted to what both read unambiguously.
public struct MetricName: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let rawValue: String

    /// Refuses anything else with `invalidSubject` naming the token.
    public init(_ text: some StringProtocol) throws(GordonError) {
        guard Text.isSnakeName(text) else {
            throw GordonError(.invalidSubject, "metric name must match ^[a-z0-9][a-z0-9_]{0,63}$", context: ["token": Text.quoted(text)])
        }
        rawValue = String(text)
    }

    private init(unchecked rawValue: String) { self.rawValue = rawValue }

    /// Crypto Fear & Greed index (alternative.me).
    public static let fearGreed = MetricName(unchecked: "fear_greed")
    /// Deribit BTC implied volatility index.
    public static let dvolBtc = MetricName(unchecked: "dvol_btc")
    public static let dvolEth = MetricName(unchecked: "dvol_eth")

    public var description: String { rawValue }
    public static func < (lhs: MetricName, rhs: MetricName) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// The name of one of gordon-risk's circuit breakers, `^[a-z0-9][a-z0-9_]{0,63}$`.
///
/// Not an enum: a breaker added to gordon-risk must not make every older consumer refuse
/// its events, and the name is a subject token (`gordon.risk.breaker.<name>`) either way.
public struct BreakerName: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let rawValue: String

    /// Refuses anything else with `invalidSubject` naming the token.
    public init(_ text: some StringProtocol) throws(GordonError) {
        guard Text.isSnakeName(text) else {
            throw GordonError(.invalidSubject, "breaker name must match ^[a-z0-9][a-z0-9_]{0,63}$", context: ["token": Text.quoted(text)])
        }
        rawValue = String(text)
    }

    private init(unchecked rawValue: String) { self.rawValue = rawValue }

    public static let drawdown = BreakerName(unchecked: "drawdown")
    public static let dailyLoss = BreakerName(unchecked: "daily_loss")
    public static let exposure = BreakerName(unchecked: "exposure")
    public static let orderRate = BreakerName(unchecked: "order_rate")
    public static let dataStaleness = BreakerName(unchecked: "data_staleness")

    public var description: String { rawValue }
    public static func < (lhs: BreakerName, rhs: BreakerName) -> Bool { lhs.rawValue < rhs.rawValue }
}

extension MetricName: Codable {
    public init(from decoder: any Decoder) throws {
        self = try decoder.validatedString { text throws(GordonError) in try MetricName(text) }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}

extension BreakerName: Codable {
    public init(from decoder: any Decoder) throws {
        self = try decoder.validatedString { text throws(GordonError) in try BreakerName(text) }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}
