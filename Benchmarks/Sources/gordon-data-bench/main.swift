// gordon-data-bench:
//   backfill: historical klines into PostgreSQL (fsync on) the way a backfill writes them,
//             `KlineStore.bulkInsert` (COPY, skipping stored rows) in batches, as gordon-data's
//             own role; rows written per second, klines generated beforehand.
//   import:   the same klines as a Binance public-data file (12 columns), imported by
//             `KlineImport` (exact parse, then COPY) into an empty database; rows per second.
//   idle RSS: (with --gordon-data PATH and --nats-url) the service process, ingesting one
//             series from a quiet simulator, its resident set sampled for ten seconds.
//   latency:  (with --nats-url) a BinanceSim closes one kline at a time and gordon-data's
//             ingest stores and publishes it; from the simulator sending the closed kline to
//             a subscriber on the stream's subject receiving the event (the row's commit and
//             the stream's ack in between).
import ArgumentParser
import BenchSupport
import Foundation
import GordonKlineFiles
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
    @Option(help: "A gordon-data executable: also measure its idle resident set") var gordonData: String?

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
        try await checkpoint(logger)
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
        try await measureImport(bars, logger: logger)
        if let natsURL {
            let latencies = try await measureLatency(pool: pool, natsURL: natsURL, logger: logger)
            print("kline close → event in the stream (\(latencies.count) klines, stored and published one by one): \(summary(latencies))")
        }
        // The part of that a committed insert takes alone, with fsync on: the disk's share.
        var commits: [Double] = []
        for kline in try commitSamples(count: klinesClosed) {
            let started = clock.now
            try await store.insert([kline])
            let elapsed = clock.now - started
            commits.append(Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15)
        }
        print("one kline insert committed alone (fsync on, \(commits.count) inserts): \(summary(commits))")
    }

    /// Each bulk run starts with the WAL of the one before written out, so neither pays for
    /// the other's checkpoint.
    func checkpoint(_ logger: Logger) async throws {
        try await Database.withConnection(try DatabaseURL(parsing: adminURL), logger: logger) { connection in
            try await connection.query("CHECKPOINT", logger: logger)
        }
    }

    func summary(_ values: [Double]) -> String {
        let sorted = values.sorted()
        func percentile(_ p: Double) -> Double { sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))] }
        return "p50 \(String(format: "%.2f", percentile(0.5))) ms, p99 \(String(format: "%.2f", percentile(0.99))) ms, max \(String(format: "%.2f", sorted.last ?? 0)) ms"
    }

    func commitSamples(count: Int) throws -> [Kline] {
        let symbol = try Symbol("SOLUSDT")
        let bars = SyntheticMarket(seed: 9, startPrice: 100, priceDecimals: 2)
            .generate(count: count, symbol: symbol, interval: .oneMinute, startOpenTime: 1_704_067_200_000)
        return try bars.indices.map { try SimMarketFeed.kline(bars[$0], symbol: symbol, interval: .oneMinute, decimals: 2) }
    }

    private func measureImport(_ bars: BarSeries, logger: Logger) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("gordon-import-bench-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/BTCUSDT-1m.csv"
        try KlineFileLoader.write(BinanceKlineCSV.write(bars), to: path)
        let writer = try await throwawayDatabase(adminURL: adminURL, migrations: migrations, role: .dataWriter, logger: logger)
        let pool = Database.makePool(writer, logger: logger)
        let running = Task { await pool.run() }
        defer { running.cancel() }
        let parseStart = ContinuousClock.now
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        let parsed = try BinanceKlineCSV.parseKlines(bytes, name: "bench", symbol: bars.symbol, interval: .oneMinute)
        let parseTime = ContinuousClock.now - parseStart
        let parseSeconds = Double(parseTime.components.seconds) + Double(parseTime.components.attoseconds) / 1e18
        print("kline file exact parse alone: \(parsed.count) rows in \(String(format: "%.2f", parseSeconds)) s = \(Int(Double(parsed.count) / parseSeconds)) rows/s")
        try await checkpoint(logger)
        let importer = try KlineImport(series: KlineSeriesKey(symbol: bars.symbol, interval: .oneMinute), paths: [path], batchSize: batchSize)
        let done = try await importer.run(store: KlineStore(database: pool, logger: logger))
        print("kline file import into PostgreSQL (exact parse + COPY, fsync on): \(done.written) rows in \(String(format: "%.2f", done.seconds)) s = \(Int(done.rowsPerSecond)) rows/s")
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
        if let gordonData { try await measureIdleRSS(gordonData, writer: pool, simulatorPort: port, natsURL: natsURL) }
        return latencies
    }

    /// The service as the device runs it (its role, keyfile, one series), idle once started.
    private func measureIdleRSS(_ executable: String, writer: PostgresClient, simulatorPort: Int, natsURL: String) async throws {
        let url = try await throwawayDatabase(adminURL: adminURL, migrations: migrations, role: .dataWriter, logger: Logger(label: "bench"))
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("gordon-rss-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let keyfile = directory + "/gordon-data.key"
        try url.password!.withPlainText { "postgres_password = \($0)\n" }.write(toFile: keyfile, atomically: true, encoding: .utf8)
        chmod(keyfile, 0o400)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = ["--database-url", url.with(username: url.username, password: nil).description, "--keyfile", keyfile,
                             "--nats-url", natsURL, "--binance", "http://127.0.0.1:\(simulatorPort)", "--kline", "ETHUSDT@1m", "--http-port", "0"]
        process.standardOutput = FileHandle(forWritingAtPath: "/dev/null")
        process.standardError = FileHandle(forWritingAtPath: "/dev/null")
        try process.run()
        defer { process.terminate() }
        /// VmRSS, RssAnon and RssFile in KiB.
        func resident() -> [Int]? {
            guard let status = try? String(contentsOfFile: "/proc/\(process.processIdentifier)/status", encoding: .utf8) else { return nil }
            let values = ["VmRSS:", "RssAnon:", "RssFile:"].compactMap { key in
                status.split(separator: "\n").first { $0.hasPrefix(key) }.flatMap { Int($0.split(separator: " ").dropFirst().first ?? "") }
            }
            return values.count == 3 ? values : nil
        }
        // Settled: started, connected, resumed; then ten seconds of sampling.
        try await Task.sleep(for: .seconds(5))
        var samples: [[Int]] = []
        for _ in 0..<20 {
            if let sample = resident() { samples.append(sample) }
            try await Task.sleep(for: .milliseconds(500))
        }
        guard let peak = samples.max(by: { $0[0] < $1[0] }) else {
            print("gordon-data idle RSS: the process exited")
            return
        }
        func mib(_ kib: Int) -> String { String(format: "%.1f", Double(kib) / 1024) }
        print("gordon-data idle RSS (native, one series, peak of \(samples.count) samples over 10 s): \(mib(peak[0])) MiB = "
              + "\(mib(peak[1])) MiB anonymous + \(mib(peak[2])) MiB file-backed (binary and shared libraries)")
    }
}
