public import GordonKernel
import GordonPostgres
public import GordonNATS
public import GordonProtocol
public import Logging
import NIOConcurrencyHelpers
import NIOCore
public import PostgresNIO

/// Consumes Gordon events from a durable pull consumer, each at most once in effect.
///
/// Every event is handled inside a database transaction that also records its id in
/// `trading.processed_events`; the JetStream ack follows the commit. A redelivery (crash
/// between commit and ack, a lost ack) finds the id already recorded and is acknowledged
/// without running the handler again. A payload that does not decode, or whose handler
/// keeps failing for `maxDeliveries` deliveries, goes to `trading.dead_letters` with a log
/// line and is terminated, so one poison message cannot stall the consumer.
public final class EventConsumer: Sendable {
    public struct Configuration: Sendable {
        /// The durable consumer's name (also the `consumer` column of the bookkeeping tables).
        public var durableName: String
        public var filterSubject: String
        public var maxDeliveries = 5
        public var batchSize = 64
        public var fetchExpiry: Duration = .seconds(2)
        public var ackWait: Duration = .seconds(30)
        /// First retry delay; doubled per delivery, capped at `maxRetryDelay`.
        public var retryDelay: Duration = .milliseconds(500)
        public var maxRetryDelay: Duration = .seconds(30)
        /// Longest time one fetched batch may take to handle; past it the database
        /// connection is presumed hung, closed, and the unacknowledged events come back.
        public var batchTimeout: Duration = .seconds(120)
        /// Where a new durable starts: `.all` for services that must see every event kept,
        /// `.new` for a bot, whose warm-up reads the history from the database instead.
        public var deliverPolicy: ConsumerConfig.DeliverPolicy = .all

        public init(durableName: String, filterSubject: String) {
            self.durableName = durableName
            self.filterSubject = filterSubject
        }
    }

    public enum Outcome: Sendable, Equatable {
        case processed
        case duplicate
        case retry
        case deadLettered
    }

    public struct Counters: Sendable, Equatable {
        public var processed = 0
        public var duplicates = 0
        public var retries = 0
        public var deadLettered = 0
    }

    public typealias Handler = @Sendable (AnyEvent, PostgresConnection) async throws -> Void
    public typealias Connect = @Sendable () async throws -> PostgresConnection

    public let configuration: Configuration
    let jetStream: JetStream
    let connect: Connect
    let logger: Logger
    let codec: EventCodec
    private let counters = NIOLockedValueBox(Counters())

    public init(configuration: Configuration, jetStream: JetStream, logger: Logger, codec: EventCodec = EventCodec(),
                connect: @escaping Connect) {
        self.configuration = configuration
        self.jetStream = jetStream
        self.connect = connect
        self.logger = logger
        self.codec = codec
    }

    public var statistics: Counters { counters.withLockedValue { $0 } }

    /// Creates the durable consumer or brings it to this configuration.
    public func ensureConsumer() async throws(GordonError) {
        var config = ConsumerConfig(durableName: configuration.durableName, filterSubject: configuration.filterSubject)
        config.ackPolicy = .explicit
        config.deliverPolicy = configuration.deliverPolicy
        config.ackWait = configuration.ackWait.nanoseconds
        config.maxAckPending = max(configuration.batchSize * 4, 256)
        _ = try await jetStream.createConsumer(stream: GordonStream.name, config)
    }

    /// Fetches and handles events until the task is cancelled. Failures of the database or
    /// the server are logged and retried; they never end the loop.
    /// Fetches and handles events until the task is cancelled; `committed` hears of each
    /// event whose handling has just committed (to wake whoever acts on what it wrote).
    public func run(_ handler: @escaping Handler, committed: @escaping @Sendable (AnyEvent) -> Void) async {
        await run(handler, afterCommit: committed)
    }

    public func run(_ handler: @escaping Handler) async {
        await run(handler, afterCommit: nil)
    }

    private func run(_ handler: @escaping Handler, afterCommit: (@Sendable (AnyEvent) -> Void)?) async {
        let consumer = jetStream.pullConsumer(stream: GordonStream.name, name: configuration.durableName)
        var connection: PostgresConnection?
        var failures = 0
        while !Task.isCancelled {
            do {
                if connection == nil { connection = try await connect() }
                let batch = try await consumer.next(batch: configuration.batchSize, expires: configuration.fetchExpiry)
                let current = connection!
                try await withWatchdog(configuration.batchTimeout, doing: "event batch", onTimeout: { try? await current.close() }) {
                    for message in batch { _ = try await self.process(message, on: current, handler: handler, committed: afterCommit) }
                }
                failures = 0
            } catch {
                if Task.isCancelled { break }  // shutting down: not a failure
                failures += 1
                logger.warning("event consumer failed; retrying", metadata: [
                    "consumer": "\(configuration.durableName)", "error": "\(error)",
                ])
                // Anything but a NATS failure may have left the connection unusable.
                let code = (error as? GordonError)?.code.rawValue ?? ""
                if !code.hasPrefix("GORDON-NATS") && !code.hasPrefix("GORDON-JS") {
                    try? await connection?.close()
                    connection = nil
                }
                try? await Task.sleep(for: retryBackoff(afterFailures: failures))
            }
        }
        try? await connection?.close()
    }

    /// Handles one delivered message. Public so a service can drive its own fetch loop.
    public func process(_ message: JetStreamMessage, on connection: PostgresConnection, handler: Handler,
                        committed: (@Sendable (AnyEvent) -> Void)? = nil) async throws(GordonError) -> Outcome {
        let event: AnyEvent
        do {
            event = try codec.decodeAny(from: message.payload.readableBytesView)
            if event.subject.string != message.subject {
                throw GordonError(.malformedEvent, "event belongs on \(event.subject.string), arrived on \(message.subject)",
                                  context: ["subject": message.subject])
            }
        } catch {
            // Decoding is deterministic: retrying a malformed payload can only fail again.
            try await deadLetter(message, eventId: nil, error: error, on: connection)
            return .deadLettered
        }

        enum Outcome: Sendable {
            case handled
            case duplicate
        }
        /// Thrown out of the transaction, so its rollback is best effort: a handler that failed
        /// because the connection died must still be retried or dead-lettered as a failure.
        struct HandlerFailed: Error {
            let error: any Error
        }
        let outcome: Outcome
        do {
            outcome = try await connection.withTransaction(logger: logger) { connection in
                var fresh = false
                let eventId = event.eventId.string
                let sequence = Int64(message.metadata.streamSequence)
                for try await _ in try await connection.query("""
                    INSERT INTO trading.processed_events (consumer, event_id, stream_seq)
                    VALUES (\(configuration.durableName), \(eventId)::uuid, \(sequence))
                    ON CONFLICT DO NOTHING RETURNING 1
                    """, logger: logger) { fresh = true }
                guard fresh else { return .rollback(.duplicate) }
                do {
                    try await handler(event, connection)
                } catch {
                    throw HandlerFailed(error: error)
                }
                return .commit(.handled)
            }
        } catch let failed as HandlerFailed {
            return try await handlerFailed(message, event: event, error: failed.error, on: connection)
        } catch let error as GordonError {
            throw error
        } catch {
            throw PostgresFailure.map(error, context: ["operation": "event consumer", "consumer": configuration.durableName])
        }
        switch outcome {
        case .handled:
            committed?(event)
        case .duplicate:
            try await message.ack()
            counters.withLockedValue { $0.duplicates += 1 }
            return .duplicate
        }
        try await message.ack()
        counters.withLockedValue { $0.processed += 1 }
        return .processed
    }

    private func handlerFailed(_ message: JetStreamMessage, event: AnyEvent, error: any Error,
                               on connection: PostgresConnection) async throws(GordonError) -> Outcome {
        let deliveries = message.metadata.deliveries
        if deliveries >= configuration.maxDeliveries {
            try await deadLetter(message, eventId: event.eventId.string, error: error, on: connection)
            return .deadLettered
        }
        var delay = configuration.retryDelay
        for _ in 1..<min(deliveries, 16) { delay = delay * 2 }
        delay = min(delay, configuration.maxRetryDelay)
        logger.warning("event handler failed; will retry", metadata: [
            "consumer": "\(configuration.durableName)", "event_id": "\(event.eventId)", "deliveries": "\(deliveries)",
            "retry_in_ms": "\(delay.components.seconds * 1000 + delay.components.attoseconds / 1_000_000_000_000_000)",
            "error": "\(error)",
        ])
        try await message.nak(delay: delay)
        counters.withLockedValue { $0.retries += 1 }
        return .retry
    }

    private func deadLetter(_ message: JetStreamMessage, eventId: String?, error: any Error,
                            on connection: PostgresConnection) async throws(GordonError) {
        let gordonError = (error as? GordonError) ?? GordonError(.eventDeadLettered, "\(error)")
        let reason = String(gordonError.description.prefix(1000))
        let headers = message.headers.map { $0.fields.map { "\($0.name): \($0.value)" }.joined(separator: "\n") }
        let sequence = Int64(message.metadata.streamSequence)
        do {
            try await connection.query("""
                INSERT INTO trading.dead_letters
                    (consumer, subject, stream_seq, deliveries, event_id, error_code, reason, payload, headers)
                VALUES (\(configuration.durableName), \(message.subject), \(sequence), \(message.metadata.deliveries),
                        \(eventId)::uuid, \(gordonError.code.rawValue), \(reason), \(message.payload), \(headers))
                ON CONFLICT (role, consumer, stream_seq) DO NOTHING
                """, logger: logger)
        } catch {
            throw PostgresFailure.map(error, context: ["operation": "dead letter", "consumer": configuration.durableName])
        }
        logger.error("event dead-lettered", metadata: [
            "consumer": "\(configuration.durableName)", "subject": "\(message.subject)",
            "stream_seq": "\(sequence)", "deliveries": "\(message.metadata.deliveries)",
            "code": "\(gordonError.code)", "reason": "\(gordonError.message.prefix(200))",
        ])
        try await message.term()
        counters.withLockedValue { $0.deadLettered += 1 }
    }
}
