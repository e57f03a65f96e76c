public import GordonExchange
import GordonDomain
public import GordonKernel
public import Logging
public import PostgresNIO
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Backfills operators asked for (`market_data.backfill_requests`, filed by gordon-manager for
/// `gordonctl data backfill` and `data import`): the oldest queued one is taken, run with
/// `KlineBackfill` over the service's own REST client (and so within its rate limits), or
/// with `KlineImport` from the file the manager left in the import directory; its progress
/// written while it runs, and its end. One at a time, beside the live ingest (both skip the
/// rows already stored).
public struct BackfillRequests: Sendable {
    let rest: BinanceRESTClient
    let store: KlineStore
    let database: PostgresClient
    let logger: Logger
    let pollInterval: Duration
    let importDirectory: String?

    public init(rest: BinanceRESTClient, store: KlineStore, database: PostgresClient, logger: Logger, importDirectory: String? = nil,
                pollInterval: Duration = .seconds(2)) {
        self.importDirectory = importDirectory
        self.rest = rest
        self.store = store
        self.database = database
        self.logger = logger
        self.pollInterval = pollInterval
    }

    /// Until cancelled: a backfill that was running when the service stopped is queued
    /// again (a backfill may be repeated), then each queued one in turn.
    public func run() async {
        do {
            try await database.query("UPDATE market_data.backfill_requests SET status = 'queued' WHERE status = 'running'", logger: logger)
        } catch {
            logger.warning("cannot requeue interrupted backfills", metadata: ["error": "\(error)"])
        }
        while !Task.isCancelled {
            let worked: Bool
            do {
                worked = try await processNext()
            } catch {
                logger.warning("backfill requests cannot be read; retrying", metadata: ["error": "\(error)"])
                worked = false
            }
            if !worked { try? await Task.sleep(for: pollInterval) }  // the next look at the queue
        }
    }

    /// Takes and runs the oldest queued backfill; false when there is none.
    public func processNext() async throws -> Bool {
        var taken: (id: Int64, symbol: String, interval: String, from: Int64, to: Int64, file: String?)?
        for try await row in try await database.query("""
            UPDATE market_data.backfill_requests SET status = 'running', started_at = now()
            WHERE id = (SELECT id FROM market_data.backfill_requests WHERE status = 'queued' ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED)
            RETURNING id, symbol, interval, (extract(epoch FROM from_time) * 1000)::bigint, (extract(epoch FROM to_time) * 1000)::bigint, file_name
            """, logger: logger).decode((Int64, String, String, Int64, Int64, String?).self) { taken = row }
        guard let taken else { return false }
        logger.info("backfill starting", metadata: ["request": "\(taken.id)", "series": "\(taken.symbol)@\(taken.interval)",
                                                    "file": "\(taken.file ?? "-")"])
        let latest = Mutex<BulkWriteProgress?>(nil)
        let reporter = Task {
            var written: BulkWriteProgress?
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(1))
                let progress = latest.withLock { $0 }
                guard let progress, progress != written else { continue }
                written = progress
                _ = try? await database.query("""
                    UPDATE market_data.backfill_requests SET fetched = \(Int64(progress.fetched)), written = \(Int64(progress.written)),
                           progress = \(Self.percent(progress)) WHERE id = \(taken.id)
                    """, logger: logger).collect()
            }
        }
        defer { reporter.cancel() }
        do {
            guard let symbol = try? Symbol(taken.symbol), let interval = Interval(rawValue: taken.interval) else {
                throw GordonError(.invalidMarketData, "\(taken.symbol)@\(taken.interval) is not a series gordon-data can read")
            }
            let series = KlineSeriesKey(symbol: symbol, interval: interval)
            let done: BulkWriteProgress
            if let file = taken.file {
                guard let importDirectory else {
                    throw GordonError(.marketDataUnreadable, "imports are not configured on gordon-data (--import-directory)")
                }
                let path = importDirectory + "/" + file
                done = try await KlineImport(series: series, paths: [path]).run(store: store) { progress in latest.withLock { $0 = progress } }
                // The file serves its one request and goes, as after a failure below (an import
                // is repeated by filing the file again); only a stop leaves it for the requeue.
                unlink(path)
            } else {
                let backfill = try KlineBackfill(series: series, from: taken.from, to: taken.to)
                done = try await backfill.run(rest: rest, store: store) { progress in latest.withLock { $0 = progress } }
            }
            reporter.cancel()
            try await database.query("""
                UPDATE market_data.backfill_requests SET status = 'succeeded', fetched = \(Int64(done.fetched)), written = \(Int64(done.written)),
                       progress = 100, finished_at = now() WHERE id = \(taken.id)
                """, logger: logger)
            logger.info("backfill succeeded", metadata: ["request": "\(taken.id)", "result": "\(done.line)"])
        } catch {
            reporter.cancel()
            let message = (error as? GordonError).map { "\($0.code): \($0.message)" } ?? "\(error)"
            logger.error("backfill failed", metadata: ["request": "\(taken.id)", "error": "\(message)"])
            if let file = taken.file, let importDirectory, !Task.isCancelled { unlink(importDirectory + "/" + file) }
            try await database.query("""
                UPDATE market_data.backfill_requests SET status = 'failed', error = \(String(message.prefix(2000))), finished_at = now()
                WHERE id = \(taken.id)
                """, logger: logger)
        }
        return true
    }

    static func percent(_ progress: BulkWriteProgress) -> Int { Int((100 * min(1, max(0, progress.done))).rounded(.down)) }
}
