public import Prometheus
import CoreMetrics
import Synchronization

/// A process's metrics in the Prometheus text format: one `PrometheusCollectorRegistry`
/// that swift-metrics also reports into (so library counters and Hummingbird's request
/// metrics appear), plus samplers that copy counters kept elsewhere (NATS statistics, the
/// relay's and consumers' counters, the exchange's used weight) into gauges at scrape time.
public final class MetricsRegistry: Sendable {
    public let prometheus: PrometheusCollectorRegistry
    private let samplers = Mutex<[@Sendable () async -> Void]>([])

    public init() {
        prometheus = PrometheusCollectorRegistry()
    }

    /// Makes this registry the process's swift-metrics backend. Once per process, as
    /// swift-metrics allows; the runner does it.
    public func bootstrapMetricsSystem() {
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: prometheus))
    }

    /// Runs `sample` before every scrape; it sets gauges made on `prometheus`. Async, so a
    /// sampler can read an actor's state (the exchange client's rate limiter).
    public func addSampler(_ sample: @escaping @Sendable () async -> Void) {
        samplers.withLock { $0.append(sample) }
    }

    /// `read`, called at most once per `interval` and its answer shared: for several gauges
    /// a scrape samples from one query or one file.
    public static func readOncePerScrape<Value: Sendable>(
        every interval: Duration = .seconds(1), _ read: @escaping @Sendable () async -> Value
    ) -> @Sendable () async -> Value {
        let shared = SharedRead<Value>()
        return {
            if let cached = shared.latest.withLock({ $0 }), ContinuousClock.now - cached.at < interval { return cached.value }
            let value = await read()
            shared.latest.withLock { $0 = (.now, value) }
            return value
        }
    }

    /// A gauge whose value is read at scrape time.
    public func sampledGauge(name: String, help: String, labels: [(String, String)] = [],
                             _ value: @escaping @Sendable () async -> Double) {
        let gauge = prometheus.makeGauge(descriptor: Self.descriptor(name, help), labels: labels)
        addSampler { gauge.set(await value()) }
    }

    /// One gauge per label set, all read at scrape time: for a family whose members are known
    /// only then (`gordon_binance_weight_used{rule="REQUEST_WEIGHT 6000/1m"}`, one per rule of
    /// exchangeInfo).
    public func sampledGauges(name: String, help: String,
                              _ values: @escaping @Sendable () async -> [(labels: [(String, String)], value: Double)]) {
        let prometheus = prometheus
        addSampler {
            for (labels, value) in await values() {
                prometheus.makeGauge(descriptor: Self.descriptor(name, help), labels: labels).set(value)
            }
        }
    }

    /// The exposition text (`text/plain; version=0.0.4`).
    public func render() async -> String {
        for sample in samplers.withLock({ $0 }) { await sample() }
        return prometheus.emitToString()
    }

    /// A metric's full name (`gordon_http_requests_total`) and its `# HELP` text.
    public static func descriptor(_ name: String, _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(metricName: name, unitName: "", helpText: help)
    }

    public static let contentType = "text/plain; version=0.0.4; charset=utf-8"
}

/// The last answer of a `readOncePerScrape` read and when it came.
private final class SharedRead<Value: Sendable>: Sendable {
    let latest = Mutex<(at: ContinuousClock.Instant, value: Value)?>(nil)
}
