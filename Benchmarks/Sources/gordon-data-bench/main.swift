// gordon-data-bench:
//   backfill: historical klines into PostgreSQL (fsync on) the way a backfill writes them,
//             `KlineStore.bulkInsert` (COPY, skipping stored rows) in batches, as gordon-data's
//             own role; rows written per second, klines generated beforehand.
//   latency:  (with --nats-url) a BinanceSim closes one kline at a time and gordon-data's
//             ingest stores and publishes it; from the simulator sending the closed kline to
//             a subscriber on the stream's subject receiving the event (the row's commit and
//             the stream's ack in between).
import ArgumentParser
import BenchSupport
import BinanceSim
import GordonBus
import GordonData
import GordonExchange
import GordonNATS
import GordonProtocol
import NIOConcurrencyHelpers
import GordonDomain
import GordonKernel
import GordonMigrations
import GordonPostgres
import GordonStrategy
import Logging
import PostgresNIO

@main
struct DataBench: AsyncParsableCommand {
    @Option(help: "Superuser PostgreSQL URL of a throwaway server") var adminURL: String
    @Option(help: "Migrations directory") var migrations: String
    @Option(help: "Klines to write") var rows: Int = 500_000
    @Option(help: "Klines per bulk insert") var batchSize: Int = 20_000
    @Option(help: "NATS URL: also measure kline close → event latency") var natsURL: String?
    @Option(help: "Klines closed one at a time for the latency run") var klinesClosed: Int = 2000

    func run() async throws {
        var logger = Logger(label: "bench")
        logger.logLevel = .warning
        let writer = try await throwawayDatabase(adminURL: adminURL, migrations: migrations, role: .dataWriter, logger: logger)
        let symbol = try Symbol("BTCUSDT")
        let bars = SyntheticMarket(seed: 3, startPrice: 30_000, priceDecimals: 2)
            .generate(count: rows, symbol: symbol, interval: .oneMinute, startOpenTime: 1_577_836_800_000)
        var klines: [Kline] = []
        klines.reserveCapacity(rows)
        for index in bars.indices {
            klines.append(try SimMarketFeed.kline(bars[index], symbol: symbol, interval: .oneMinute, decimals: 2))
        }
        let pool = Database.makePool(writer, logger: logger)
        let running = Task { await pool.run() }
        defer { running.cancel() }
        let store = KlineStore(database: pool, logger: logger)
        let clock = ContinuousClock()
        let start = clock.now
        var written = 0
        var index = 0
        while index < klines.count {
            let end = min(klines.count, index + batchSize)
            written += try await store.bulkInsert(Array(klines[index..<end]))
            index = end
        }
        let elapsed = clock.now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        print("kline backfill into PostgreSQL (COPY, fsync on): \(written) rows in \(String(format: "%.2f", seconds)) s = \(Int(Double(written) / seconds)) rows/s (batch \(batchSize))")
        if let natsURL {
            let latencies = try await measureLatency(pool: pool, natsURL: natsURL, logger: logger).sorted()
            func percentile(_ p: Double) -> Double { latencies[min(latencies.count - 1, Int(Double(latencies.count) * p))] }
            print("kline close → event in the stream (\(latencies.count) klines, stored and published one by one): "
                  + "p50 \(String(format: "%.2f", percentile(0.5))) ms, p99 \(String(format: "%.2f", percentile(0.99))) ms, max \(String(format: "%.2f", latencies.last ?? 0)) ms")
        }
    }

    private func measureLatency(pool: PostgresClient, natsURL: String, logger: Logger) async throws -> [Double] {
        let symbol = try Symbol("ETHUSDT")
        let series = SyntheticMarket(seed: 5, startPrice: 2_000, priceDecimals: 2)
            .generate(count: klinesClosed + 10, symbol: symbol, interval: .oneMinute, startOpenTime: 1_704_067_200_000)
        let simulator = BinanceSimulator(configuration: SimConfiguration(symbols: [try SimConfiguration.spotSymbol(symbol)], balances: [:], apiKeys: []),
                                         feed: try SimMarketFeed(series: [series], preloaded: 5))
        let (port, server) = try await SimHTTPServer(simulator: simulator, port: 0, logger: logger).start()
        defer { server.cancel() }
        let client = try await NATSClient.connect(try NATSClientOptions(urls: [natsURL], name: "data-bench"))
        let jetStream = JetStream(client: client)
        try await GordonStream.ensure(jetStream, GordonStream.configuration(maxBytes: 1 << 30))
        let rest = BinanceRESTClient(configuration: try BinanceClientConfiguration(endpoint: try BinanceEndpoint(parsing: "http://127.0.0.1:\(port)")),
                                     logger: logger)
        let ingest = KlineIngest(series: [KlineSeriesKey(symbol: symbol, interval: .oneMinute)], rest: rest,
                                 store: KlineStore(database: pool, logger: logger), publisher: JetStreamEventPublisher(jetStream: jetStream), logger: logger)
        let subscription = try await client.subscribe(to: "gordon.market.kline.ETHUSDT.1m")
        try await client.flush()
        let running = Task { await ingest.run() }
        defer { running.cancel() }
        while simulator.streamConnectionCount == 0 { try await Task.sleep(for: .milliseconds(5)) }
        var iterator = subscription.makeAsyncIterator()
        var latencies: [Double] = []
        let clock = ContinuousClock()
        for _ in 0..<klinesClosed {
            let sent = clock.now
            simulator.advance(steps: 1)
            guard try await iterator.next() != nil else { break }
            let elapsed = clock.now - sent
            latencies.append(Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15)
        }
        await client.close()
        return latencies
    }
}
