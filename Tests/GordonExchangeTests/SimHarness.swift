import BinanceSim
import GordonDomain
import GordonExchange
import GordonKernel
import GordonStrategy
import Logging

/// A BinanceSim on a free loopback port and a client configured for it: the same client
/// code that talks to Binance, pointed at the simulator by its endpoint alone.
struct SimHarness {
    static let apiKey = "gordon-test-api-key-0123456789abcdefghijklmnopqrstuvwxyzABCDEFGH"
    static let secretKey = Secret("gordon-test-secret-9876543210zyxwvutsrqponmlkjihgfedcbaZYXWVUTS")
    static let symbol = try! Symbol("BTCUSDT")

    let simulator: BinanceSimulator
    let port: Int
    let endpoint: BinanceEndpoint
    private let server: Task<Void, any Error>

    /// Starts the server; `preload` klines are history, `klines` in all.
    static func start(klines: Int = 3000, preload: Int = 500, rateLimits: [RateLimitRule] = RateLimitState.binanceDefaults,
                      balances: [Asset: ExactDecimal] = [.usdt: ExactDecimal(100_000), .btc: ExactDecimal(2)],
                      banAfterViolations: Int = 5, seed: UInt64 = 7) async throws -> SimHarness {
        let series = SyntheticMarket(seed: seed, startPrice: 30_000, priceDecimals: 2)
            .generate(count: klines, symbol: symbol, interval: .oneMinute, startOpenTime: 1_704_067_200_000)
        let configuration = SimConfiguration(
            symbols: [try SimConfiguration.spotSymbol(symbol)], balances: balances,
            apiKeys: [SimAPIKey(apiKey: apiKey, secretKey: secretKey)], rateLimits: rateLimits,
            banAfterViolations: banAfterViolations, banSeconds: 3)
        let simulator = BinanceSimulator(configuration: configuration, feed: try SimMarketFeed(series: [series], preloaded: preload))
        var logger = Logger(label: "test.binance-sim")
        logger.logLevel = .warning
        let (port, server) = try await SimHTTPServer(simulator: simulator, port: 0, logger: logger).start()
        return SimHarness(simulator: simulator, port: port,
                          endpoint: try BinanceEndpoint(parsing: "http://127.0.0.1:\(port)"), server: server)
    }

    func client(secret: Secret = SimHarness.secretKey, apiKey: String = SimHarness.apiKey, recvWindow: Int64 = 5000,
                timeout: Duration = .seconds(5), settle: Duration = .milliseconds(200), endpoint: BinanceEndpoint? = nil) throws -> BinanceRESTClient {
        var logger = Logger(label: "test.binance-client")
        logger.logLevel = .error
        let configuration = try BinanceClientConfiguration(
            endpoint: endpoint ?? self.endpoint, credentials: try BinanceCredentials(apiKey: Secret(apiKey), secretKey: secret),
            recvWindowMilliseconds: recvWindow, requestTimeout: timeout, orderSettleMargin: settle)
        return BinanceRESTClient(configuration: configuration, logger: logger)
    }

    /// The client's first clock sample, retried while a loaded machine lets the short request
    /// timeouts of the fault tests expire before the simulator answers.
    func synchronize(_ client: BinanceRESTClient) async throws {
        let deadline = ContinuousClock.now + .seconds(30)
        while true {
            do {
                try await client.synchronizeClock()
                return
            } catch {
                guard error.code == .exchangeTimeout, ContinuousClock.now < deadline else { throw error }
            }
        }
    }

    func stop() {
        server.cancel()
    }
}

/// Runs `body` with a started harness and always stops the server.
func withSim<T>(klines: Int = 3000, preload: Int = 500, rateLimits: [RateLimitRule] = RateLimitState.binanceDefaults,
                banAfterViolations: Int = 5, _ body: (SimHarness) async throws -> T) async throws -> T {
    let harness = try await SimHarness.start(klines: klines, preload: preload, rateLimits: rateLimits, banAfterViolations: banAfterViolations)
    defer { harness.stop() }
    return try await body(harness)
}

/// A client order id unique within a test run.
func newClientOrderId(_ tag: String) throws -> ClientOrderId {
    try ClientOrderId("\(tag)-\(UInt32.random(in: 0...UInt32.max))")
}
