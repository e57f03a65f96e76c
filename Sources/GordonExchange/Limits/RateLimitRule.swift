/// One entry of exchangeInfo's `rateLimits` array, with exactly its JSON keys.
///
/// `rateLimitType` is `REQUEST_WEIGHT`, `ORDERS` or `RAW_REQUESTS`; `interval` is `SECOND`,
/// `MINUTE`, `HOUR` or `DAY` (enums.md, "Rate limiters" and "Rate limit intervals"). They
/// stay strings so that a type Binance adds later decodes instead of failing exchangeInfo;
/// `RateLimitState` shows such a rule in its status but cannot count against it.
public struct RateLimitRule: Sendable, Hashable, Codable, CustomStringConvertible {
    public var rateLimitType: String
    public var interval: String
    public var intervalNum: Int
    public var limit: Int

    public init(rateLimitType: String, interval: String, intervalNum: Int, limit: Int) {
        self.rateLimitType = rateLimitType
        self.interval = interval
        self.intervalNum = intervalNum
        self.limit = limit
    }

    public static let requestWeight = "REQUEST_WEIGHT"
    public static let orders = "ORDERS"
    public static let rawRequests = "RAW_REQUESTS"

    /// The window's length, or nil for an interval this code does not know (or one too long
    /// to count in milliseconds: exchangeInfo is input, and input must never trap).
    public var windowMilliseconds: Int64? {
        guard intervalNum > 0, let unit = RateLimitRule.unitMilliseconds[interval] else { return nil }
        let (window, overflow) = unit.multipliedReportingOverflow(by: Int64(intervalNum))
        return overflow ? nil : window
    }

    /// The `(intervalNum)(intervalLetter)` tail of the response headers that report this
    /// rule's count, lowercased: `1m` for `X-MBX-USED-WEIGHT-1M`, `10s` for
    /// `X-MBX-ORDER-COUNT-10S` (rest-api.md, "General Info on Limits").
    var headerSuffix: String? {
        guard intervalNum > 0, let letter = RateLimitRule.intervalLetters[interval] else { return nil }
        return "\(intervalNum)\(letter)"
    }

    /// Units the server counts per request under this rule: the endpoint's weight for
    /// `REQUEST_WEIGHT`, one per request for `RAW_REQUESTS`, one per new order for `ORDERS`.
    func cost(weight: Int, isOrder: Bool) -> Int {
        switch rateLimitType {
        case RateLimitRule.requestWeight: return weight
        case RateLimitRule.rawRequests: return 1
        case RateLimitRule.orders: return isOrder ? 1 : 0
        default: return 0
        }
    }

    /// `REQUEST_WEIGHT 6000/1m`, for logs.
    public var description: String {
        "\(rateLimitType) \(limit)/\(headerSuffix ?? "\(intervalNum) \(interval)")"
    }

    private static let unitMilliseconds: [String: Int64] = [
        "SECOND": 1000, "MINUTE": 60_000, "HOUR": 3_600_000, "DAY": 86_400_000,
    ]
    private static let intervalLetters: [String: String] = [
        "SECOND": "s", "MINUTE": "m", "HOUR": "h", "DAY": "d",
    ]
}
