import ArgumentParser
import BinanceSim
import GordonDomain
import GordonExchange
import GordonKernel
import GordonStrategy
import Logging
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The exchange client against BinanceSim on loopback (order round trips per second and
/// placement latency through the real `BinanceRESTClient`), and the stream decoder's kline
/// messages per second beside Foundation's `JSONDecoder` on the same messages.
@main
struct ExchangeBench: AsyncParsableCommand {
    @Option(help: "Orders per concurrency level.") var orders: Int = 5000
    @Option(help: "Concurrent placing tasks, comma-separated.") var concurrency: String = "1,8"
    @Option(help: "Kline messages to decode.") var messages: Int = 1_000_000
    @Option(help: "Runs of the decode measurement; the fastest is reported.") var runs: Int = 5
    @Option(help: "What to run: orders, decode or both.") var mode: String = "both"

    func run() async throws {
        if mode == "orders" || mode == "both" { try await benchmarkOrders() }
        if mode == "decode" || mode == "both" { try benchmarkDecode() }
    }

    // MARK: Orders

    static let apiKey = "gordon-bench-api-key"
    static let secret = Secret("gordon-bench-secret")
    static let symbol = try! Symbol("BTCUSDT")

    private func benchmarkOrders() async throws {
        // Limits far above the load, so the benchmark measures the round trip, not the limiter.
        let rules = [
            RateLimitRule(rateLimitType: RateLimitRule.requestWeight, interval: "MINUTE", intervalNum: 1, limit: 10_000_000),
            RateLimitRule(rateLimitType: RateLimitRule.orders, interval: "SECOND", intervalNum: 10, limit: 10_000_000),
            RateLimitRule(rateLimitType: RateLimitRule.orders, interval: "DAY", intervalNum: 1, limit: 100_000_000),
        ]
        let series = SyntheticMarket(seed: 1, startPrice: 30_000, priceDecimals: 2)
            .generate(count: 1000, symbol: Self.symbol, interval: .oneMinute, startOpenTime: 1_704_067_200_000)
        let configuration = SimConfiguration(
            symbols: [try SimConfiguration.spotSymbol(Self.symbol, levelQuantity: ExactDecimal(1000))],
            balances: [.usdt: ExactDecimal(1_000_000_000), .btc: ExactDecimal(100_000)],
            apiKeys: [SimAPIKey(apiKey: Self.apiKey, secretKey: Self.secret)], rateLimits: rules)
        let simulator = BinanceSimulator(configuration: configuration, feed: try SimMarketFeed(series: [series], preloaded: 500))
        var quiet = Logger(label: "bench")
        quiet.logLevel = .error
        let (port, server) = try await SimHTTPServer(simulator: simulator, port: 0, logger: quiet).start()
        defer { server.cancel() }

        let client = BinanceRESTClient(
            configuration: try BinanceClientConfiguration(
                endpoint: try BinanceEndpoint(parsing: "http://127.0.0.1:\(port)"),
                credentials: try BinanceCredentials(apiKey: Secret(Self.apiKey), secretKey: Self.secret)),
            logger: quiet)
        _ = try await client.exchangeInfo(symbols: [Self.symbol])
        try await client.synchronizeClock()
        _ = try await place(client, count: 200, concurrency: 4, tag: "warm")

        for level in concurrency.split(separator: ",").compactMap({ Int($0) }) where level > 0 {
            let clock = ContinuousClock()
            let start = clock.now
            let latencies = try await place(client, count: orders, concurrency: level, tag: "c\(level)")
            let seconds = Self.seconds(clock.now - start)
            let sorted = latencies.sorted()
            func percentile(_ p: Double) -> Double { sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))] }
            print("{\"scenario\":\"order round trip\",\"concurrency\":\(level),\"orders\":\(orders),"
                + "\"orders_per_s\":\(Int(Double(orders) / seconds)),\"p50_ms\":\(Self.format(percentile(0.5))),"
                + "\"p90_ms\":\(Self.format(percentile(0.9))),\"p99_ms\":\(Self.format(percentile(0.99))),"
                + "\"max_ms\":\(Self.format(sorted.last ?? 0))}")
        }
    }

    /// `count` market orders, alternately buying and selling, from `concurrency` tasks; the
    /// latency of each `placeOrder` call in milliseconds.
    private func place(_ client: BinanceRESTClient, count: Int, concurrency: Int, tag: String) async throws -> [Double] {
        let quantity = try Quantity(parsing: "0.001")
        return try await withThrowingTaskGroup(of: [Double].self) { group in
            for worker in 0..<concurrency {
                group.addTask {
                    var latencies: [Double] = []
                    let clock = ContinuousClock()
                    var index = worker
                    while index < count {
                        let order = try NewOrder(symbol: Self.symbol, side: index % 2 == 0 ? .buy : .sell, type: .market,
                                                 quantity: quantity, clientOrderId: ClientOrderId("\(tag)-\(index)"))
                        let start = clock.now
                        let placed = try await client.placeOrder(order)
                        latencies.append(Self.seconds(clock.now - start) * 1000)
                        guard placed.status == "FILLED" else { throw ValidationError("order \(index) ended \(placed.status)") }
                        index += concurrency
                    }
                    return latencies
                }
            }
            var all: [Double] = []
            for try await part in group { all += part }
            return all
        }
    }

    // MARK: Decoding

    /// The combined-stream kline message as a Codable mirror: the peer Gordon's decoder is
    /// compared with.
    struct CombinedKline: Decodable {
        struct Payload: Decodable {
            struct Body: Decodable {
                let t: Int64, T: Int64, s: String, i: String, f: Int64, L: Int64
                let o: String, c: String, h: String, l: String, v: String, n: Int64, x: Bool, q: String, V: String, Q: String
            }
            let e: String, E: Int64, s: String, k: Body
        }
        let stream: String
        let data: Payload
    }

    private func benchmarkDecode() throws {
        let series = SyntheticMarket(seed: 2, startPrice: 30_000, priceDecimals: 2)
            .generate(count: 10_000, symbol: Self.symbol, interval: .oneMinute, startOpenTime: 1_704_067_200_000)
        let texts = try series.indices.map { index in
            let kline = try SimMarketFeed.kline(series[index], symbol: Self.symbol, interval: .oneMinute, decimals: 2)
            return BinanceStreamEncoder.kline(KlineUpdate(eventTime: Timestamp(milliseconds: kline.closeTime.milliseconds + 1), kline: kline),
                                              combined: true)
        }
        let frames = texts.map { Array($0.utf8) }
        let bytesPerMessage = Double(frames.reduce(0) { $0 + $1.count }) / Double(frames.count)
        let known = [Self.symbol]

        let gordon = try fastest {
            var closed = 0
            for index in 0..<messages {
                if case .kline(let update) = try BinanceStreamDecoder.decodeMarket(frames[index % frames.count], knownSymbols: known),
                   update.kline.isClosed { closed += 1 }
            }
            guard closed == messages else { throw ValidationError("decoded \(closed) closed klines of \(messages)") }
        }
        let decoder = JSONDecoder()
        let foundationCount = max(messages / 10, 1)
        let foundation = try fastest {
            var closed = 0
            for index in 0..<foundationCount {
                let message = try decoder.decode(CombinedKline.self, from: Data(frames[index % frames.count]))
                if message.data.k.x { closed += 1 }
            }
            guard closed == foundationCount else { throw ValidationError("JSONDecoder decoded \(closed) of \(foundationCount)") }
        }
        let gordonRate = Double(messages) / gordon
        let foundationRate = Double(foundationCount) / foundation
        print("{\"scenario\":\"kline decode\",\"messages\":\(messages),\"bytes_per_message\":\(Int(bytesPerMessage)),"
            + "\"gordon_msgs_per_s\":\(Int(gordonRate)),\"gordon_mb_per_s\":\(Self.format(gordonRate * bytesPerMessage / 1e6)),"
            + "\"jsondecoder_msgs_per_s\":\(Int(foundationRate)),\"ratio\":\(Self.format(gordonRate / foundationRate))}")
    }

    /// The fastest of `runs` timings of `body`, in seconds.
    private func fastest(_ body: () throws -> Void) throws -> Double {
        let clock = ContinuousClock()
        var best = Double.infinity
        for _ in 0..<max(runs, 1) {
            let start = clock.now
            try body()
            best = min(best, Self.seconds(clock.now - start))
        }
        return best
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    static func format(_ value: Double) -> String {
        String(Double(Int((value * 1000).rounded())) / 1000)
    }
}
