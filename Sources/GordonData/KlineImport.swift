public import GordonDomain
public import GordonKernel
public import GordonExchange
import GordonKlineFiles

/// Imports Binance public-data kline files (data.binance.vision: `.zip` as downloaded, or the
/// `.csv` inside) into `market_data.klines`, exactly as the files print them: each table's
/// structure is checked whole first (a malformed row, a time off the grid or out of order
/// refuses its file before anything of it is written), then written with COPY in batches,
/// rows already stored skipped, so an import can be repeated, resumed after a failure, or
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
    /// counted in files. The next batch is read while the current one is written.
    public func run(store: KlineStore, report: (Progress) -> Void = { _ in }) async throws(GordonError) -> Progress {
        let started = ContinuousClock.now
        var progress = Progress(of: "the files")
        for (index, path) in paths.enumerated() {
            var readers: [BinanceKlineCSV.KlineReader] = []
            try KlineFileLoader.forEachTable(paths: [path]) { (name, bytes) throws(GordonError) in
                readers.append(try BinanceKlineCSV.KlineReader(Array(bytes), name: name, symbol: series.symbol, interval: series.interval))
            }
            let rows = readers.reduce(0) { $0 + $1.count }
            var done = 0
            for var reader in readers {
                var batch = try reader.next(upTo: batchSize)
                while !batch.isEmpty {
                    let position = reader
                    async let following = Self.read(position, batchSize)
                    let written: Int
                    do {
                        written = try await store.bulkInsert(batch)
                    } catch {
                        _ = try? await following
                        throw error
                    }
                    progress.written += written
                    progress.fetched += batch.count
                    done += batch.count
                    progress.done = (Double(index) + Double(done) / Double(max(1, rows))) / Double(paths.count)
                    progress.elapsed(since: started)
                    report(progress)
                    do {
                        (batch, reader) = try await following
                    } catch {
                        // `async let` forgets the typed throw; the reader throws only GordonError.
                        throw error as? GordonError ?? GordonError(.invalidMarketData, "\(error)")
                    }
                }
            }
        }
        progress.done = 1
        progress.elapsed(since: started)
        return progress
    }

    private static func read(_ reader: BinanceKlineCSV.KlineReader, _ count: Int) async throws(GordonError) -> ([Kline], BinanceKlineCSV.KlineReader) {
        var reader = reader
        return (try reader.next(upTo: count), reader)
    }
}
