public import GordonKernel

/// Everything a `BinanceRESTClient` needs besides its HTTP client.
public struct BinanceClientConfiguration: Sendable {
    public var endpoint: BinanceEndpoint
    /// Nil for a market-data-only client (gordon-data): signed endpoints then fail fast.
    public var credentials: BinanceCredentials?
    /// How long a signed request stays valid after its `timestamp` (Binance default 5000,
    /// maximum 60000). It also bounds how long an order's fate can stay unknown.
    public var recvWindowMilliseconds: Int64
    /// A request without a complete response by then is a timeout.
    public var requestTimeout: Duration
    /// After `timestamp + recvWindow`, how much longer to wait before trusting that an order
    /// not found by query was never placed (the matching engine may still hold it briefly).
    public var orderSettleMargin: Duration
    /// How many times a placement whose fate is unknown is resolved and resent.
    public var maximumPlacementAttempts: Int
    /// A rate-limit wait longer than this fails the call instead of sleeping.
    public var maximumRateLimitWait: Duration
    /// The file through which every Gordon process on this host shares Binance's per-IP
    /// limits (`SharedRateLimitFile`), under the runtime directory; nil keeps them per process.
    public var sharedRateLimitPath: String?

    public init(
        endpoint: BinanceEndpoint, credentials: BinanceCredentials? = nil, recvWindowMilliseconds: Int64 = 5000,
        requestTimeout: Duration = .seconds(10), orderSettleMargin: Duration = .seconds(1),
        maximumPlacementAttempts: Int = 3, maximumRateLimitWait: Duration = .seconds(30), sharedRateLimitPath: String? = nil
    ) throws(GordonError) {
        guard (1...60_000).contains(recvWindowMilliseconds) else {
            throw GordonError(.exchangeConfigInvalid, "recvWindow must be 1…60000 ms", context: ["recvWindow": "\(recvWindowMilliseconds)"])
        }
        guard maximumPlacementAttempts >= 1 else {
            throw GordonError(.exchangeConfigInvalid, "maximumPlacementAttempts must be at least 1")
        }
        self.endpoint = endpoint
        self.credentials = credentials
        self.recvWindowMilliseconds = recvWindowMilliseconds
        self.requestTimeout = requestTimeout
        self.orderSettleMargin = orderSettleMargin
        self.maximumPlacementAttempts = maximumPlacementAttempts
        self.maximumRateLimitWait = maximumRateLimitWait
        self.sharedRateLimitPath = sharedRateLimitPath
    }
}
