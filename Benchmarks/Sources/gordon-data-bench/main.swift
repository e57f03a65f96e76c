// gordon-data-bench: historical klines into PostgreSQL (fsync on) the way a backfill writes
// them: `KlineStore.bulkInsert` (COPY, skipping stored rows) in batches, as gordon-data's
// own role. The figure is rows written per second, klines generated beforehand.
import ArgumentParser
import BinanceSim
import GordonData
import GordonDomain
import GordonKernel
import GordonMigrations
import GordonPostgres
import GordonStrategy
import Logging

@main
struct DataBench: AsyncParsableCommand {
    @Option(help: "Superuser PostgreSQL URL of a throwaway server") var adminURL: String
    @Option(help: "Migrations directory") var migrations: String
    @Option(help: "Klines to write") var rows: Int = 500_000
    @Option(help: "Klines per bulk insert") var batchSize: Int = 20_000

    func run() async throws {
        var logger = Logger(label: "bench")
        logger.logLevel = .warning
        let admin = try DatabaseURL(parsing: adminURL)
        let database = "bench_\(UInt32.random(in: 0...UInt32.max))"
        try await Database.withConnection(admin, logger: logger) { connection in
            try await connection.query("CREATE DATABASE \(unescaped: database)", logger: logger)
        }
        let password = Secret(String(UInt64.random(in: 0...UInt64.max), radix: 36) + "Bench")
        try await Database.withConnection(admin.with(database: database), logger: logger) { connection in
            _ = try await Migrator(directory: try MigrationDirectory(path: migrations), logger: logger).migrate(on: connection)
            try await RolePassword.set(role: .dataWriter, password: password, on: connection)
        }
        let writer = admin.with(database: database).with(username: DatabaseRole.dataWriter.rawValue, password: password)
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
    }
}
