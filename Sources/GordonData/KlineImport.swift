public import GordonDomain
public import GordonKernel
public import GordonExchange
import GordonKlineFiles

/// Imports Binance public-data kline files (data.binance.vision: `.zip` as downloaded, or the
/// `.csv` inside) into `market_data.klines`, exactly as the files print them: each table is
/// checked whole first (a bad row refuses its file before anything of it is written), then
/// written with COPY in batches, rows already stored skipped, so an import can be repeated or
/// overlap the live ingest.
public struct KlineImport: Sendable {
    public typealias Progress = BulkWriteProgress

    public let series: KlineSeriesKey
    public let paths: [String]
    public let batchSize: Int

    public init(series: KlineSeriesKey, paths: [String], batchSize: Int = 20_000) throws(GordonError) {
        guard !paths.isEmpty else { throw GordonError(.marketDataUnreadable, "no kline file to import") }
        self.series = series
        self.paths = paths
        self.batchSize = max(1000, batchSize)
    }

    /// Imports every file in turn; `report` gets the progress after every batch, its share
    /// counted in files.
    public func run(store: KlineStore, report: (Progress) -> Void = { _ in }) async throws(GordonError) -> Progress {
        let started = ContinuousClock.now
        var progress = Progress(of: "the files")
        for (index, path) in paths.enumerated() {
            var tables: [[Kline]] = []
            try KlineFileLoader.forEachTable(paths: [path]) { (name, bytes) throws(GordonError) in
                tables.append(try BinanceKlineCSV.parseKlines(bytes, name: name, symbol: series.symbol, interval: series.interval))
            }
            let rows = tables.reduce(0) { $0 + $1.count }
            var done = 0
            for klines in tables {
                var start = klines.startIndex
                while start < klines.endIndex {
                    let end = min(start + batchSize, klines.endIndex)
                    progress.written += try await store.bulkInsert(Array(klines[start..<end]))
                    progress.fetched += end - start
                    done += end - start
                    progress.done = (Double(index) + Double(done) / Double(max(1, rows))) / Double(paths.count)
                    progress.elapsed(since: started)
                    report(progress)
                    start = end
                }
            }
        }
        progress.done = 1
        progress.elapsed(since: started)
        return progress
    }
}
