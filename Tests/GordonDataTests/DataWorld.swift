import BinanceSim
import Foundation
import GordonBus
import GordonData
import GordonDomain
import GordonExchange
import GordonKernel
import GordonMigrations
import GordonNATS
import GordonPostgres
import GordonProtocol
import GordonStrategy
import GordonTestDB
import Logging
import PostgresNIO

let testLogger: Logger = {
    var logger = Logger(label: "test.data")
    logger.logLevel = .warning
    return logger
}()

let btcusdt = try! Symbol("BTCUSDT")

/// A BinanceSim serving one BTCUSDT 1m series, nats-server with the GORDON stream, a test
/// database and gordon-data's pool logged in as `gordon_data_writer`.
struct DataWorld {
    let simulator: BinanceSimulator
    let endpoint: BinanceEndpoint
    let nats: NATSClient
    let natsURL: String
    let jetStream: JetStream
    /// gordon_data_writer's login, password included.
    let writerURL: DatabaseURL
    let pool: PostgresClient
    /// The private cluster, for tests that stop PostgreSQL; nil on the shared test server.
    let postgres: TestPostgresServer?
    /// The test database on the shared server (its other roles); nil on a private cluster.
    let database: TestDatabase?

    static func with(preload: Int = 100, privatePostgres: Bool = false, _ body: (DataWorld) async throws -> Void) async throws {
        let series = SyntheticMarket(seed: 11, startPrice: 30_000, priceDecimals: 2)
            .generate(count: preload + 300, symbol: btcusdt, interval: .oneMinute, startOpenTime: 1_704_067_200_000)
        let simulator = BinanceSimulator(configuration: SimConfiguration(symbols: [try SimConfiguration.spotSymbol(btcusdt)], balances: [:], apiKeys: []),
                                         feed: try SimMarketFeed(series: [series], preloaded: preload))
        let (port, server) = try await SimHTTPServer(simulator: simulator, port: 0, logger: testLogger).start()
        defer { server.cancel() }
        let natsServer = try await TestNATSServer()
        let nats = try await NATSClient.connect(try NATSClientOptions(urls: [natsServer.url], name: "data-test"), logger: testLogger)
        let jetStream = JetStream(client: nats)
        try await GordonStream.ensure(jetStream)
        func run(_ writerURL: DatabaseURL, _ postgres: TestPostgresServer?, _ database: TestDatabase? = nil) async throws {
            let pool = Database.makePool(writerURL, logger: testLogger)
            let running = Task { await pool.run() }
            defer { running.cancel() }
            try await body(DataWorld(simulator: simulator, endpoint: try BinanceEndpoint(parsing: "http://127.0.0.1:\(port)"),
                                     nats: nats, natsURL: natsServer.url, jetStream: jetStream, writerURL: writerURL, pool: pool,
                                     postgres: postgres, database: database))
        }
        if privatePostgres {
            let postgres = try await TestPostgresServer()
            let (url, passwords) = try await postgres.migratedDatabase()
            try await run(url.with(username: DatabaseRole.dataWriter.rawValue, password: passwords[.dataWriter]), postgres)
        } else {
            try await withTestDatabase { database in try await run(try await database.url(as: .dataWriter), nil, database) }
        }
        await nats.close()
        await natsServer.stop()
    }

    var store: KlineStore { KlineStore(database: pool, logger: testLogger) }

    func ingest() throws -> KlineIngest {
        let rest = BinanceRESTClient(configuration: try BinanceClientConfiguration(endpoint: endpoint), logger: testLogger)
        return KlineIngest(series: [KlineSeriesKey(symbol: btcusdt, interval: .oneMinute)], rest: rest, store: store,
                           publisher: JetStreamEventPublisher(jetStream: jetStream), logger: testLogger)
    }

    /// Every kline event in the stream, in stream order.
    func streamedOpenTimes(expected: Int) async throws -> [Int64] {
        let consumer = OrderedConsumer(jetStream: jetStream, stream: GordonStream.name, filterSubject: "gordon.market.kline.>")
        var messages: [JetStreamMessage] = []
        _ = try await eventually(timeout: .seconds(60)) {
            messages += try await consumer.next(batch: 512, expires: .seconds(1))
            return messages.count >= expected
        }
        messages += try await consumer.next(batch: 512, expires: .seconds(1))  // anything more would be a duplicate
        let codec = EventCodec()
        return try messages.map { try codec.decode(KlineEvent.self, from: $0.message.payload.readableBytesView).payload.kline.openTime.milliseconds }
    }

    /// Rows stored for the series, counted through the reader view.
    func storedCount() async throws -> Int {
        let connection = try await Database.connect(writerURL, logger: testLogger)
        defer { Task { try? await connection.close() } }
        for try await count in try await connection.query(
            "SELECT count(*)::int FROM market_data.v_klines_reader WHERE symbol = 'BTCUSDT' AND interval = '1m'", logger: testLogger).decode(Int.self) {
            return count
        }
        return -1
    }

    func metricCount() async throws -> Int {
        let connection = try await Database.connect(writerURL, logger: testLogger)
        defer { Task { try? await connection.close() } }
        for try await count in try await connection.query("SELECT count(*)::int FROM market_data.v_metrics_reader", logger: testLogger).decode(Int.self) {
            return count
        }
        return -1
    }

    /// Metric events in the stream.
    func streamedMetrics(expected: Int) async throws -> Int {
        let consumer = OrderedConsumer(jetStream: jetStream, stream: GordonStream.name, filterSubject: "gordon.market.metric.>")
        var count = 0
        _ = try await eventually(timeout: .seconds(60)) {
            count += try await consumer.next(batch: 512, expires: .seconds(1)).count
            return count >= expected
        }
        return count + (try await consumer.next(batch: 512, expires: .seconds(1)).count)
    }

    /// Open times stored for the series, oldest first.
    func storedOpenTimes() async throws -> [Int64] {
        try await store.read(symbol: btcusdt, interval: .oneMinute, from: 0, to: nil, limit: 1000).map(\.openTime.milliseconds)
    }
}

/// A scratch directory for one test, removed afterwards.
func withScratchDirectory(_ body: (String) async throws -> Void) async throws {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("gordon-data-test-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: directory) }
    try await body(directory)
}

extension DataWorld {
    /// gordon-data's keyfile in `directory` (mode 0400): its database password and `extra`
    /// lines; with the database URL as its command line takes it (no password).
    func writeKeyfile(in directory: String, extra: String = "") throws -> (keyfile: String, databaseURL: String) {
        let keyfile = directory + "/gordon-data.key"
        try writerURL.password!.withPlainText { "postgres_password = \($0)\n" + extra }.write(toFile: keyfile, atomically: true, encoding: .utf8)
        chmod(keyfile, 0o400)
        return (keyfile, writerURL.with(username: writerURL.username, password: nil).description)
    }
}
