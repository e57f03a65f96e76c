public import GordonDomain
public import GordonExchange
public import GordonKernel
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A historical backfill of one series over Binance's REST `/klines`: pages of 1,000 closed
/// klines, written `KlineStore.bulkInsert` a batch at a time (rows already stored are
/// skipped, so a backfill can be repeated or overlap the live ingest).
/// How far a bulk write (a backfill, an import) has come, as its command prints it.
public struct BulkWriteProgress: Sendable, Equatable {
    /// Closed klines read so far, and how many of them were new.
    public var fetched = 0
    public var written = 0
    /// The share of the work done, 0…1, and what it is a share of (`the range`, `the files`).
    public var done: Double = 0
    public let of: String
    public var seconds: Double = 0

    public init(of: String) { self.of = of }

    public var rowsPerSecond: Double { seconds > 0 ? Double(fetched) / seconds : 0 }

    /// Seconds left at the rate so far.
    public var secondsLeft: Double? {
        guard done > 0, seconds > 0 else { return nil }
        return seconds * max(0, 1 - done) / done
    }

    /// `rows 120000 (new 119000), 104512 rows/s, 62% of the range, ETA 0:07`
    public var line: String {
        let eta = secondsLeft.map { left -> String in
            let whole = Int(left.rounded())
            return "\(whole / 60):" + (whole % 60 < 10 ? "0" : "") + "\(whole % 60)"
        } ?? "-"
        return "rows \(fetched) (new \(written)), \(Int(rowsPerSecond)) rows/s, \(Int(100 * min(1, max(0, done))))% of \(of), ETA \(eta)"
    }

    mutating func elapsed(since start: ContinuousClock.Instant) {
        let elapsed = ContinuousClock.now - start
        seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    }
}

/// A historical backfill of one series over Binance's REST `/klines`: pages of 1,000 closed
/// klines, written `KlineStore.bulkInsert` a batch at a time (rows already stored are
/// skipped, so a backfill can be repeated or overlap the live ingest).
public struct KlineBackfill: Sendable {
    public typealias Progress = BulkWriteProgress

    public let series: KlineSeriesKey
    public let from: Int64
    public let to: Int64
    public let batchSize: Int

    public init(series: KlineSeriesKey, from: Int64, to: Int64, batchSize: Int = 20_000) throws(GordonError) {
        guard from <= to else {
            throw GordonError(.invalidMarketData, "backfill range ends before it starts", context: ["from": "\(from)", "to": "\(to)"])
        }
        self.series = series
        self.from = from
        self.to = to
        self.batchSize = max(1000, batchSize)
    }

    /// Runs to the end of the range; `report` gets the progress after every batch.
    public func run(rest: BinanceRESTClient, store: KlineStore,
                    report: (Progress) -> Void = { _ in }) async throws(GordonError) -> Progress {
        let started = ContinuousClock.now
        var progress = Progress(of: "the range")
        var next = from
        var batch: [Kline] = []
        func flush() async throws(GordonError) {
            progress.written += try await store.bulkInsert(batch)
            batch.removeAll(keepingCapacity: true)
            progress.elapsed(since: started)
            report(progress)
        }
        while next <= to {
            let page = try await rest.klines(symbol: series.symbol, interval: series.interval, startTime: next, endTime: to, limit: 1000)
            let closed = page.filter { $0.isClosed && $0.openTime.milliseconds >= next && $0.openTime.milliseconds <= to }
            batch += closed
            progress.fetched += closed.count
            if let last = closed.last {
                progress.done = Double(last.openTime.milliseconds - from) / Double(max(1, to - from))
                next = series.interval.nextOpenTime(after: last.openTime.milliseconds)
            }
            if batch.count >= batchSize { try await flush() }
            guard page.count == 1000, !closed.isEmpty else { break }
        }
        progress.done = 1  // the whole range has been asked for
        try await flush()
        return progress
    }
}
