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
        // Seconds since the newest handled kline closed: a stalled stream shows as a growing lag.
        metrics.sampledGauges(name: "gordon_data_kline_lag_seconds", help: "Seconds since the newest stored and published kline of the series closed") {
            let now = Date().timeIntervalSince1970
            return ingest.newestCloseTimes.sorted { $0.key < $1.key }.map { key, close in
                ([("series", key)], max(0, now - Double(close) / 1000))
            }
        }
    }
}
