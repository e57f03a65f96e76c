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

/// Polls one alternative-data source on its schedule: fetch, decode, store in
/// `market_data.metrics` (a value already stored is skipped), publish each as a `MetricEvent`
/// on `gordon.market.metric.<name>` (its id from (name, observed time), so the stream keeps
/// one copy). A failure (the provider down, a 5xx, a body it cannot read) is logged and
/// counted for this source alone, stores nothing, and is retried with backoff.
public final class MetricPoller: Sendable {
    public struct Counters: Sendable, Equatable {
        public var polls = 0
        public var failures = 0
        public var stored = 0
        public var published = 0
        /// Wall-clock ms of the last successful poll; nil before the first.
        public var lastSuccess: Int64?
    }

    public let source: any MetricSource
    let client: ServiceHTTPClient
    let database: PostgresClient
    let publisher: any EventPublisher
    let logger: Logger
    private let counters = Mutex(Counters())

    public init(source: any MetricSource, baseURL: String, database: PostgresClient, publisher: any EventPublisher, logger: Logger) {
        self.source = source
        self.client = ServiceHTTPClient(peer: source.name, baseURL: baseURL, timeout: .seconds(10))
        self.database = database
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
                try? await Task.sleep(for: retryBackoff(afterFailures: failures, initial: .seconds(1), maximum: source.pollInterval))
            }
        }
    }

    /// One poll; throws (after logging and counting) when nothing could be stored.
    public func pollOnce() async throws(GordonError) {
        counters.withLock { $0.polls += 1 }
        do throws(GordonError) {
            let reply = try await client.send(.GET, source.path)
            guard reply.status == 200 else {
                throw GordonError(.serviceUnavailable, "\(source.name) answered HTTP \(reply.status)", context: ["source": source.name])
            }
            let observations = try source.decode(reply.body)
            try await store(observations)
            counters.withLock { $0.stored += observations.count }
            for observation in observations {
                let event = try MetricEvent(name: observation.name, value: observation.value, observedAt: observation.observedAt,
                                            source: observation.source, unit: observation.unit)
                let name = "\(observation.name.rawValue)@\(observation.source)"
                _ = try await publisher.publish(EventEnvelope(
                    eventId: try DeterministicIds.eventId(time: observation.observedAt.milliseconds, key: name),
                    traceId: DeterministicIds.traceId(time: observation.observedAt.milliseconds, key: name), source: .data,
                    occurredAt: observation.observedAt, payload: event))
                counters.withLock { $0.published += 1 }
            }
            let now = Int64((Date().timeIntervalSince1970 * 1000).rounded(.down))
            counters.withLock { $0.lastSuccess = now }
        } catch {
            counters.withLock { $0.failures += 1 }
            logger.warning("metric source failed; keeping what was stored before", metadata: [
                "source": "\(source.name)", "error": "\(error)",
            ])
            throw error
        }
    }

    private func store(_ observations: [MetricObservation]) async throws(GordonError) {
        guard !observations.isEmpty else { return }
        var binds = PostgresBindings()
        binds.append(observations.map(\.name.rawValue))
        binds.append(observations.map(\.observedAt.milliseconds))
        binds.append(observations.map(\.value.description))
        binds.append(observations.map(\.source))
        do {
            try await database.query(PostgresQuery(unsafeSQL: """
                INSERT INTO market_data.metrics (name, observed_at, value, source)
                SELECT n, 'epoch'::timestamptz + t * interval '1 millisecond', v::numeric, s
                FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[]) AS m(n, t, v, s)
                ON CONFLICT DO NOTHING
                """, binds: binds), logger: logger)
        } catch {
            throw PostgresFailure.map(error, context: ["operation": "insert metrics", "source": source.name])
        }
    }
}
