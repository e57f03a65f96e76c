public import GordonBus
public import GordonDomain
public import GordonKernel
public import GordonPlatform
import GordonPostgres
import GordonProtocol
public import Logging
public import PostgresNIO
import Synchronization
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Polls one alternative-data source on its schedule: fetch, decode, store (the series in
/// `market_data.metrics`, the provider's detail in its typed table), then publish each value
/// stored by this poll as a `MetricEvent` on `gordon.market.metric.<name>`, its id from
/// (name, observed time) so the stream keeps one copy.
///
/// Exactly once across crashes: a value is published when it is first stored; one the stream
/// did not acknowledge stays owed, whatever its age, until it does (a NATS outage); and after
/// a start or a failed poll, the values stored within the stream's duplicate window are
/// published again, so those stored just before a crash get their event (those already in the
/// stream are dropped as duplicates). A failure (the provider down, a 5xx, a body it cannot
/// read) is logged and counted for this source alone, stores nothing, and is retried with
/// backoff capped below that window.
public final class MetricPoller: Sendable {
    public struct Counters: Sendable, Equatable {
        public var polls = 0
        public var failures = 0
        public var stored = 0
        public var published = 0
        /// Wall-clock ms of the last successful poll; nil before the first.
        public var lastSuccess: Int64?
        /// The newest observation time stored or seen stored; nil before the first.
        public var newestObserved: Int64?
    }

    /// Shorter than the GORDON stream's duplicate window (10 minutes), with room for clocks.
    public static let republishWindow: Duration = .seconds(8 * 60)

    public let source: any MetricSource
    let client: ServiceHTTPClient
    let store: MetricStore
    let publisher: any EventPublisher
    let logger: Logger
    private let counters = Mutex(Counters())
    private let recovering = Mutex(true)
    /// Stored, not yet acknowledged by the stream.
    private let pending = Mutex<[MetricObservation]>([])

    public init(source: any MetricSource, baseURL: String, database: PostgresClient, publisher: any EventPublisher, logger: Logger) {
        self.source = source
        self.client = ServiceHTTPClient(peer: source.name, baseURL: baseURL, timeout: .seconds(10))
        self.store = MetricStore(database: database, logger: logger)
        self.publisher = publisher
        self.logger = logger
    }

    public var statistics: Counters { counters.withLock { $0 } }

    public func run() async {
        var failures = 0
        while !Task.isCancelled {
            do {
                try await pollOnce()
                failures = 0
                try? await Task.sleep(for: source.pollInterval)
            } catch {
                failures += 1
                let cap = min(source.pollInterval, Self.republishWindow / 2)
                try? await Task.sleep(for: retryBackoff(afterFailures: failures, initial: .seconds(1), maximum: cap))
            }
        }
    }

    /// One poll; throws (after logging and counting) when it failed.
    public func pollOnce() async throws(GordonError) {
        counters.withLock { $0.polls += 1 }
        let request = source.request(now: Timestamp(milliseconds: Self.wallClock()))
        do throws(GordonError) {
            let reply: ServiceHTTPClient.Reply
            do {
                reply = try await client.send(.GET, request.path)
            } catch {
                // The client's error names the path, which may hold a key.
                throw GordonError(error.code, "\(source.name) did not answer", context: ["source": source.id, "path": request.loggedPath])
            }
            guard reply.status == 200 else {
                var context = ["source": source.id, "path": request.loggedPath]
                if let message = source.errorMessage(reply.body) { context["error"] = message }
                throw GordonError(.serviceUnavailable, "\(source.name) answered HTTP \(reply.status)", context: context)
            }
            let observations = try source.decode(reply.body)
            let stored = try await store.stored(observations, recent: Self.republishWindow)
            let fresh = observations.filter { stored[MetricKey($0)] == nil }
            try await store.insert(fresh)
            counters.withLock {
                $0.stored += fresh.count
                if let newest = observations.map(\.observedAt.milliseconds).max() { $0.newestObserved = max($0.newestObserved ?? newest, newest) }
            }
            // What to publish: values this process stored and the stream has not acknowledged
            // (whatever their age), the fresh ones, and after a start or a failure the values
            // stored within the duplicate window (what a crash may have left unpublished; the
            // stream drops those it has).
            var owed = pending.withLock { $0 } + fresh
            if recovering.withLock({ $0 }) {
                owed += try await store.recent(name: source.metric, within: Self.republishWindow).map {
                    MetricObservation(name: source.metric, observedAt: Timestamp(milliseconds: $0.time), value: $0.value, source: $0.source,
                                      unit: source.unit)
                }
            }
            var seen = Set<MetricKey>()
            owed = owed.filter { seen.insert(MetricKey($0)).inserted }.sorted { $0.observedAt < $1.observedAt }
            pending.withLock { $0 = owed }
            for observation in owed {
                try await publish(observation)
                pending.withLock { $0.removeAll { MetricKey($0) == MetricKey(observation) } }
            }
            recovering.withLock { $0 = false }
            counters.withLock { $0.lastSuccess = Self.wallClock() }
        } catch {
            recovering.withLock { $0 = true }
            counters.withLock { $0.failures += 1 }
            logger.warning("metric source failed; keeping what was stored before", metadata: [
                "source": "\(source.id)", "error": "\(error)",
            ])
            throw error
        }
    }

    private func publish(_ observation: MetricObservation) async throws(GordonError) {
        let event = try MetricEvent(name: observation.name, value: observation.value, observedAt: observation.observedAt,
                                    source: observation.source, unit: observation.unit)
        let key = "\(observation.name.rawValue)@\(observation.source)"
        _ = try await publisher.publish(EventEnvelope(
            eventId: try DeterministicIds.eventId(time: observation.observedAt.milliseconds, key: key),
            traceId: DeterministicIds.traceId(time: observation.observedAt.milliseconds, key: key), source: .data,
            occurredAt: observation.observedAt, payload: event))
        counters.withLock { $0.published += 1 }
    }

    static func wallClock() -> Int64 { Int64((Date().timeIntervalSince1970 * 1000).rounded(.down)) }
}
