public import GordonBus
public import GordonNATS

/// Gauges for what the libraries already count, sampled at scrape time. Counters kept as
/// plain numbers in the libraries stay free of any metrics dependency.
extension MetricsRegistry {
    public func export(nats client: NATSClient) {
        let names: [(String, String, @Sendable (NATSStatistics) -> Int)] = [
            ("gordon_nats_messages_in", "Messages received from NATS", \.messagesIn),
            ("gordon_nats_messages_out", "Messages sent to NATS", \.messagesOut),
            ("gordon_nats_bytes_in", "Payload bytes received from NATS", \.bytesIn),
            ("gordon_nats_bytes_out", "Payload bytes sent to NATS", \.bytesOut),
            ("gordon_nats_reconnects", "Reconnects to NATS since start", \.reconnects),
            ("gordon_nats_dropped_messages", "Messages dropped for slow subscribers", \.droppedMessages),
        ]
        for (name, help, read) in names {
            sampledGauge(name: name, help: help) { Double(read(client.statistics)) }
        }
        sampledGauge(name: "gordon_nats_connected", help: "1 while connected to NATS") { client.isConnected ? 1 : 0 }
    }

    public func export(relay: OutboxRelay, producer: String) {
        let labels = [("producer", producer)]
        let names: [(String, String, @Sendable (OutboxRelay.Counters) -> Int)] = [
            ("gordon_outbox_published", "Outbox rows published and acknowledged by the stream", \.published),
            ("gordon_outbox_duplicates", "Outbox rows the stream already had (deduplicated)", \.duplicates),
            ("gordon_outbox_failures", "Relay batches that failed and were retried", \.failures),
            ("gordon_outbox_dead_lettered", "Outbox rows that could never be published, moved to trading.dead_letters", \.deadLettered),
        ]
        for (name, help, read) in names {
            sampledGauge(name: name, help: help, labels: labels) { Double(read(relay.statistics)) }
        }
        // One query serves both gauges of a scrape; NaN while the database cannot answer.
        let backlog = MetricsRegistry.readOncePerScrape { () async -> (pending: Int, oldestSeconds: Double)? in try? await relay.backlog() }
        sampledGauge(name: "gordon_outbox_pending", help: "Outbox rows not yet published", labels: labels) {
            await backlog().map { Double($0.pending) } ?? .nan
        }
        sampledGauge(name: "gordon_outbox_oldest_pending_seconds", help: "Age of the oldest outbox row not yet published (0: none)",
                     labels: labels) {
            await backlog()?.oldestSeconds ?? .nan
        }
    }

    public func export(consumer: EventConsumer) {
        let labels = [("consumer", consumer.configuration.durableName)]
        let names: [(String, String, @Sendable (EventConsumer.Counters) -> Int)] = [
            ("gordon_consumer_processed", "Events handled and committed", \.processed),
            ("gordon_consumer_duplicates", "Redelivered events already processed", \.duplicates),
            ("gordon_consumer_retries", "Handler failures retried", \.retries),
            ("gordon_consumer_dead_lettered", "Events moved to trading.dead_letters", \.deadLettered),
        ]
        for (name, help, read) in names {
            sampledGauge(name: name, help: help, labels: labels) { Double(read(consumer.statistics)) }
        }
    }
}
