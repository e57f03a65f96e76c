public import Prometheus
import CoreMetrics
import Synchronization

/// A process's metrics in the Prometheus text format: one `PrometheusCollectorRegistry`
/// that swift-metrics also reports into (so library counters and Hummingbird's request
/// metrics appear), plus samplers that copy counters kept elsewhere (NATS statistics, the
/// relay's and consumers' counters, the exchange's used weight) into gauges at scrape time.
public final class MetricsRegistry: Sendable {
    public let prometheus: PrometheusCollectorRegistry
    private let samplers = Mutex<[@Sendable () -> Void]>([])

    public init() {
        prometheus = PrometheusCollectorRegistry()
    }

    /// Makes this registry the process's swift-metrics backend. Once per process, as
    /// swift-metrics allows; the runner does it.
    public func bootstrapMetricsSystem() {
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: prometheus))
    }

    /// Runs `sample` before every scrape; it sets gauges made on `prometheus`.
    public func addSampler(_ sample: @escaping @Sendable () -> Void) {
        samplers.withLock { $0.append(sample) }
    }

    /// A gauge whose value is read at scrape time.
    public func sampledGauge(name: String, help: String, labels: [(String, String)] = [],
                             _ value: @escaping @Sendable () -> Double) {
        let gauge = labels.isEmpty ? prometheus.makeGauge(name: name, help: help)
            : prometheus.makeGauge(name: name, labels: labels, help: help)
        addSampler { gauge.set(value()) }
    }

    /// The exposition text (`text/plain; version=0.0.4`).
    public func render() -> String {
        for sample in samplers.withLock({ $0 }) { sample() }
        return prometheus.emitToString()
    }

    public static let contentType = "text/plain; version=0.0.4; charset=utf-8"
}
