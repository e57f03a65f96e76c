import GordonKernel
import GordonPostgres
public import GordonNATS
public import Logging
import NIOConcurrencyHelpers
import NIOCore
public import PostgresNIO

/// Publishes a producer's outbox rows to the GORDON stream, in id order, and marks each
/// sent only after JetStream acknowledged it.
///
/// Exactly once into the stream: `Nats-Msg-Id` is the row id, so a row republished after a
/// crash between ack and commit is recognised by the stream's duplicate window and not
/// stored twice. In order: a relay works only while it holds a transaction-scoped advisory
/// lock for its producer (and subject scope), so a second relay is a hot standby rather
/// than a competitor that could overtake the first.
public final class OutboxRelay: Sendable {
    public struct Configuration: Sendable {
        public var batchSize = 500
        /// Polling fallback when no NOTIFY arrives (e.g. the listener connection is down).
        public var pollInterval: Duration = .seconds(1)
        public var maxBackoff: Duration = .seconds(5)
        /// Publish only rows whose subject starts with one of these (empty: all of the
        /// producer's rows). Bots share a database role but each may publish only its own.
        public var subjectPrefixes: [String] = []
        /// Sent rows older than this are deleted, at most once per `purgeEvery`.
        public var keepSentRows: Duration = .seconds(7 * 86_400)
        public var purgeEvery: Duration = .seconds(600)
        /// A batch taking longer than this (a hung connection) is abandoned: the connection
        /// is closed, so its transaction rolls back and its rows are relayed again.
        public var batchTimeout: Duration = .seconds(10)

        public init() {}
    }

    public struct BatchResult: Sendable, Equatable {
        public var published: Int
        public var duplicates: Int
        public var standby: Bool
    }

    public typealias Connect = @Sendable () async throws -> PostgresConnection

    public let configuration: Configuration
    let jetStream: JetStream
    let connect: Connect
    let logger: Logger
    private let doorbell = Doorbell()
    private let counters = NIOLockedValueBox(Counters())

    public struct Counters: Sendable {
        public var published = 0
        public var duplicates = 0
        public var failures = 0
    }

    public init(configuration: Configuration = Configuration(), jetStream: JetStream, logger: Logger, connect: @escaping Connect) {
        self.configuration = configuration
        self.jetStream = jetStream
        self.connect = connect
        self.logger = logger
    }

    public var statistics: Counters { counters.withLockedValue { $0 } }

    /// Relays until the task is cancelled. Database and NATS failures are logged and
    /// retried with backoff; nothing here ends the loop but cancellation.
    public func run() async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.listen() }
            group.addTask { await self.relayLoop() }
            await group.next()
            group.cancelAll()
        }
    }

    private func relayLoop() async {
        var schedule = OutboxRelaySchedule(batchSize: configuration.batchSize, pollInterval: configuration.pollInterval,
                                           maxBackoff: configuration.maxBackoff)
        var connection: PostgresConnection?
        var lastPurge = ContinuousClock.now
        while !Task.isCancelled {
            var next: OutboxRelaySchedule.Next
            do {
                if connection == nil { connection = try await connect() }
                let result = try await relayBatch(on: connection!, timeout: configuration.batchTimeout)
                next = result.standby ? schedule.standby() : schedule.published(result.published)
                if ContinuousClock.now - lastPurge > configuration.purgeEvery {
                    lastPurge = .now
                    try await purgeSent(on: connection!)
                }
            } catch {
                if Task.isCancelled { break }  // shutting down: not a failure
                counters.withLockedValue { $0.failures += 1 }
                logger.warning("outbox relay batch failed", metadata: ["error": "\(error)"])
                try? await connection?.close()
                connection = nil
                next = schedule.failed()
            }
            if case .wait(let delay) = next { await doorbell.wait(upTo: delay) }
        }
        try? await connection?.close()
    }

    /// LISTENs on `gordon_outbox` and rings the doorbell for this producer's inserts.
    private func listen() async {
        let doorbell = doorbell
        let logger = logger
        await NotificationListener(channel: "gordon_outbox", logger: logger, connect: connect).run { connection, notifications in
            let role = try await Self.currentUser(on: connection, logger: logger)
            doorbell.ring()  // rows may have arrived while not listening
            for try await notification in notifications where notification.payload == role {
                doorbell.ring()
            }
        }
    }

    private static func currentUser(on connection: PostgresConnection, logger: Logger) async throws -> String {
        for try await name in try await connection.query("SELECT current_user::text", logger: logger).decode(String.self) {
            return name
        }
        throw GordonError(.sqlFailed, "current_user returned nothing")
    }

    /// `relayBatch` under a watchdog: a hung connection fails the batch instead of the relay.
    private func relayBatch(on connection: PostgresConnection, timeout: Duration) async throws -> BatchResult {
        try await withWatchdog(timeout, doing: "outbox relay batch", onTimeout: { try? await connection.close() }) {
            try await self.relayBatch(on: connection)
        }
    }

    /// One transaction: take the producer's lease, lock the oldest pending rows, publish them
    /// all (pipelined), await the acks in order, mark the acknowledged rows sent, commit.
    public func relayBatch(on connection: PostgresConnection) async throws -> BatchResult {
        let result: BatchResult
        let unacknowledged: GordonError?
        do {
            (result, unacknowledged) = try await connection.withTransaction(logger: logger) { connection in
                let outcome = try await relayInTransaction(connection)
                return outcome.0.standby ? .rollback(outcome) : .commit(outcome)
            }
        } catch {
            throw PostgresFailure.map(error, context: ["operation": "outbox relay"])
        }
        counters.withLockedValue { $0.published += result.published; $0.duplicates += result.duplicates }
        // What was acknowledged is committed; the relay then backs off and retries the
        // unacknowledged row first.
        if let unacknowledged { throw unacknowledged }
        return result
    }

    /// The batch's work inside its transaction. A row the stream did not acknowledge ends the
    /// batch: it is returned as the error, after the rows acknowledged before it are marked.
    private func relayInTransaction(_ connection: PostgresConnection) async throws -> (BatchResult, GordonError?) {
        let scope = "gordon_outbox_relay:" + configuration.subjectPrefixes.sorted().joined(separator: ",")
        var leased = false
        for try await held in try await connection.query(
            "SELECT pg_try_advisory_xact_lock(hashtext(\(scope) || ':' || current_user))", logger: logger
        ).decode(Bool.self) { leased = held }
        guard leased else { return (BatchResult(published: 0, duplicates: 0, standby: true), nil) }

        let patterns = configuration.subjectPrefixes.map { Self.likePrefix($0) }
        let rows = try await connection.query("""
            SELECT id, subject, payload FROM trading.outbox
            WHERE sent_at IS NULL AND (cardinality(\(patterns)::text[]) = 0 OR subject LIKE ANY(\(patterns)::text[]))
            ORDER BY id LIMIT \(configuration.batchSize) FOR UPDATE
            """, logger: logger)
        var pending: [(id: Int64, ack: EventLoopFuture<PubAck>)] = []
        var publishError: (id: Int64, error: GordonError)?
        for try await (id, subject, payload) in rows.decode((Int64, String, ByteBuffer).self) {
            guard publishError == nil else { continue }
            do {
                let ack = try await jetStream.publishAsync(payload.readableBytesView, to: subject, messageId: String(id),
                                                           expectedStream: GordonStream.name)
                pending.append((id, ack))
            } catch {
                publishError = (id, error)
            }
        }
        var sent: [Int64] = []
        var duplicates = 0
        for (id, ack) in pending {
            guard publishError == nil else { break }
            do {
                if try await ack.get().duplicate { duplicates += 1 }
                sent.append(id)
            } catch {
                publishError = (id, (error as? GordonError) ?? GordonError(.outboxRelayFailed, "publish failed", underlying: error))
            }
        }
        if !sent.isEmpty {
            try await connection.query(
                "UPDATE trading.outbox SET sent_at = now(), attempts = attempts + 1 WHERE id = ANY(\(sent))", logger: logger)
        }
        let result = BatchResult(published: sent.count, duplicates: duplicates, standby: false)
        guard let (id, error) = publishError else { return (result, nil) }
        // Recorded on the row for the operator.
        let text = String(error.description.prefix(500))
        try await connection.query(
            "UPDATE trading.outbox SET attempts = attempts + 1, last_error = \(text) WHERE id = \(id)", logger: logger)
        return (result, GordonError(.outboxRelayFailed, "outbox row \(id) was not acknowledged: \(error.message)",
                                    context: ["outbox_id": "\(id)"], underlying: error))
    }

    private func purgeSent(on connection: PostgresConnection) async throws {
        let seconds = Int(configuration.keepSentRows.components.seconds)
        try await connection.query(
            "DELETE FROM trading.outbox WHERE sent_at < now() - make_interval(secs => \(seconds))", logger: logger)
    }

    /// A LIKE pattern matching subjects that start with `prefix` literally.
    static func likePrefix(_ prefix: String) -> String {
        var escaped = ""
        for character in prefix {
            if character == "%" || character == "_" || character == "\\" { escaped.append("\\") }
            escaped.append(character)
        }
        return escaped + "%"
    }

    /// Wakes the relay early (a NOTIFY arrived) — for tests and for producers in-process.
    public func wake() { doorbell.ring() }
}

/// One waiter, many ringers: `wait` returns on the first ring since the last wait, or on timeout.
final class Doorbell: Sendable {
    private struct State {
        var rung = false
        var waiter: CheckedContinuation<Void, Never>?
    }
    private let state = NIOLockedValueBox(State())

    func ring() {
        let waiter: CheckedContinuation<Void, Never>? = state.withLockedValue { state in
            if let waiter = state.waiter {
                state.waiter = nil
                return waiter
            }
            state.rung = true
            return nil
        }
        waiter?.resume()
    }

    func wait(upTo timeout: Duration) async {
        let timer = Task {
            // The polling fallback's period. A cancelled timer must not ring: its ring would
            // cut the next wait short and turn polling into a busy loop.
            guard (try? await Task.sleep(for: timeout)) != nil else { return }
            self.ring()
        }
        // Cancellation rings too, so a relay being shut down is not held for a poll period.
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow: Bool = state.withLockedValue { state in
                    if state.rung {
                        state.rung = false
                        return true
                    }
                    state.waiter = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            self.ring()
        }
        timer.cancel()
        state.withLockedValue { $0.rung = false }
    }
}
