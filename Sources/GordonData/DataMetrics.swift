import GordonKernel
public import GordonPlatform
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// gordon-data's own metrics, read at scrape time.
public enum DataMetrics {
    public static func export(_ ingest: KlineIngest, to metrics: MetricsRegistry) {
        let counters: [(String, String, @Sendable (KlineIngest.Counters) -> Int)] = [
            ("gordon_data_klines_stored", "Closed klines written to market_data.klines", \.stored),
            ("gordon_data_klines_published", "Kline events acknowledged by the stream", \.published),
            ("gordon_data_kline_duplicates", "Kline events the stream already had", \.duplicates),
            ("gordon_data_kline_store_failures", "Failed attempts to store a kline (retried)", \.storeFailures),
            ("gordon_data_kline_publish_failures", "Failed attempts to publish a kline event (retried)", \.publishFailures),
        ]
        for (name, help, read) in counters {
            metrics.sampledGauge(name: name, help: help) { Double(read(ingest.statistics)) }
        }
        // Lag: now − the newest kline's close time (on Binance, how far behind the market
        // ingest is). Idle: since a kline was last handled at all (also meaningful on a
        // simulator replaying old klines). Either growing means a stalled stream.
        metrics.sampledGauges(name: "gordon_data_kline_lag_seconds", help: "Seconds since the newest stored and published kline of the series closed") {
            let now = Date().timeIntervalSince1970
            return ingest.newestKlines.sorted { $0.key < $1.key }.map { key, newest in
                ([("series", key)], max(0, now - Double(newest.close) / 1000))
            }
        }
        metrics.sampledGauges(name: "gordon_data_kline_idle_seconds", help: "Seconds since a kline of the series was last stored and published") {
            let now = Date().timeIntervalSince1970
            return ingest.newestKlines.sorted { $0.key < $1.key }.map { key, newest in
                ([("series", key)], max(0, now - Double(newest.handledAt) / 1000))
            }
        }
    }

    public static func export(_ poller: MetricPoller, to metrics: MetricsRegistry) {
        let labels = [("source", poller.source.id)]
        let counters: [(String, String, @Sendable (MetricPoller.Counters) -> Int)] = [
            ("gordon_data_source_polls", "Polls of the alternative-data source", \.polls),
            ("gordon_data_source_failures", "Polls that failed (unreachable, 5xx, unreadable body); nothing was stored", \.failures),
            ("gordon_data_source_values_stored", "Values the source reported that were new and stored", \.stored),
            ("gordon_data_source_values_published", "Metric events the stream acknowledged", \.published),
        ]
        for (name, help, read) in counters {
            metrics.sampledGauge(name: name, help: help, labels: labels) { Double(read(poller.statistics)) }
        }
        // Staleness: seconds since the last successful poll (-1 before the first).
        metrics.sampledGauge(name: "gordon_data_source_age_seconds", help: "Seconds since the source was last polled successfully; -1 before the first",
                             labels: labels) {
            guard let last = poller.statistics.lastSuccess else { return -1 }
            return max(0, Date().timeIntervalSince1970 - Double(last) / 1000)
        }
        // Staleness of the data itself: a source can answer on time with an old value.
        metrics.sampledGauge(name: "gordon_data_source_observation_age_seconds",
                             help: "Seconds since the newest value the source reported was observed; -1 before the first", labels: labels) {
            guard let newest = poller.statistics.newestObserved else { return -1 }
            return max(0, Date().timeIntervalSince1970 - Double(newest) / 1000)
        }
    }
}
