public import GordonBus
public import GordonDomain
public import GordonExchange
import GordonKernel
import GordonPostgres
import GordonProtocol
public import Logging
import Synchronization
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Binance klines into `market_data.klines` and the stream, for every configured series.
///
/// Each closed kline is stored, then published as a `KlineEvent`; both are retried until
/// they succeed (or the task is cancelled), so a database or NATS outage delays klines and
/// loses none. The market stream delivers each closed kline once, in open-time order, and
/// fills gaps over REST after a drop. On start it resumes after the newest stored kline of
/// each series, and first publishes that kline again: a crash between storing and publishing
/// leaves at most that one unpublished, and if it was published the stream drops the copy
/// (`KlineEvents` gives it the same message id).
public final class KlineIngest: Sendable {
    public struct Counters: Sendable, Equatable {
        public var stored = 0
        public var published = 0
        public var duplicates = 0
        public var storeFailures = 0
        public var publishFailures = 0
    }

    /// Far above a healthy insert (about a millisecond), short enough to count an outage.
    static let storeDeadline: Duration = .seconds(5)

    public let series: [KlineSeriesKey]
    let rest: BinanceRESTClient
    let store: KlineStore
    let publisher: any EventPublisher
    let logger: Logger
    private let counters = Mutex(Counters())
    /// Close time of the newest kline handled, and when it was handled (wall clock, ms), per
    /// series key (`KlineStore.key`).
    private let newest = Mutex<[String: (close: Int64, handledAt: Int64)]>([:])

    public init(series: [KlineSeriesKey], rest: BinanceRESTClient, store: KlineStore, publisher: any EventPublisher, logger: Logger) {
        self.series = series
        self.rest = rest
        self.store = store
        self.publisher = publisher
        self.logger = logger
    }

    public var statistics: Counters { counters.withLock { $0 } }

    /// Per "SYMBOL@interval": the close time (ms) of the newest kline stored and published,
    /// and the wall-clock time (ms) it was.
    public var newestKlines: [String: (close: Int64, handledAt: Int64)] { newest.withLock { $0 } }

    /// Runs until cancelled.
    public func run() async {
        guard let resumeFrom = await resumePoints() else { return }
        let stream = BinanceMarketStream(streams: series.map { .kline($0.symbol, $0.interval) }, rest: rest, resumeFrom: resumeFrom,
                                         logger: logger)
        logger.info("ingesting klines", metadata: ["series": "\(series.map(\.description))", "resume": "\(resumeFrom)"])
        await stream.run { [self] output in
            guard case .closedKline(let kline) = output else { return }
            await handle(kline, store: true)
        }
    }

    /// The newest stored open time of each series, asked until the database answers; each
    /// of those klines is published again first. Nil when cancelled.
    private func resumePoints() async -> [KlineSeriesKey: Int64]? {
        var failures = 0
        while !Task.isCancelled {
            do {
                var points: [KlineSeriesKey: Int64] = [:]
                for key in series {
                    guard let newest = try await store.read(symbol: key.symbol, interval: key.interval, from: nil, to: nil, limit: 1).last else {
                        continue
                    }
                    points[key] = newest.openTime.milliseconds
                    await handle(newest, store: false)
                }
                return points
            } catch {
                failures += 1
                logger.warning("cannot read where kline ingest left off; retrying", metadata: ["error": "\(error)"])
                try? await Task.sleep(for: retryBackoff(afterFailures: failures))
            }
        }
        return nil
    }

    /// Stores (unless it came from the database) and publishes one closed kline.
    func handle(_ kline: Kline, store shouldStore: Bool) async {
        let key = KlineStore.key(kline.symbol, kline.interval)
        if shouldStore {
            // With a deadline: while PostgreSQL is down the pool waits for a connection without
            // failing, and a wait that is never counted or logged hides the outage.
            let store = store
            guard await retrying("store kline", key, failure: \.storeFailures, { () async throws(GordonError) in
                do {
                    try await withDeadline(Self.storeDeadline, timeoutError: {
                        GordonError(.databaseUnreachable, "storing a kline took longer than \(Self.storeDeadline)", context: ["series": key])
                    }) { try await store.insert([kline]) }
                } catch {
                    throw PostgresFailure.map(error, context: ["operation": "insert klines", "series": key])
                }
            }) else { return }
            counters.withLock { $0.stored += 1 }
        }
        let envelope: EventEnvelope<KlineEvent>
        do {
            envelope = try KlineEvents.envelope(kline)
        } catch {
            logger.error("kline cannot become an event", metadata: ["series": "\(key)", "error": "\(error)"])
            return
        }
        let publisher = publisher
        guard await retrying("publish kline", key, failure: \.publishFailures, { () async throws(GordonError) in
            let ack = try await publisher.publish(envelope)
            if ack.duplicate { self.counters.withLock { $0.duplicates += 1 } }
        }) else { return }
        counters.withLock { $0.published += 1 }
        let now = Int64((Date().timeIntervalSince1970 * 1000).rounded(.down))
        newest.withLock { $0[key] = (max($0[key]?.close ?? .min, kline.closeTime.milliseconds), now) }
    }

    /// Runs `attempt` until it succeeds (true) or the task is cancelled (false).
    private func retrying(_ what: String, _ key: String, failure: WritableKeyPath<Counters, Int>,
                          _ attempt: () async throws(GordonError) -> Void) async -> Bool {
        var failures = 0
        while !Task.isCancelled {
            do {
                try await attempt()
                if failures > 0 { logger.notice("\(what) succeeded again", metadata: ["series": "\(key)", "attempts": "\(failures + 1)"]) }
                return true
            } catch {
                failures += 1
                counters.withLock { $0[keyPath: failure] += 1 }
                if failures == 1 || failures.isMultiple(of: 20) {
                    logger.warning("\(what) failed; retrying", metadata: ["series": "\(key)", "attempts": "\(failures)", "error": "\(error)"])
                }
                try? await Task.sleep(for: retryBackoff(afterFailures: failures))
            }
        }
        return false
    }
}
