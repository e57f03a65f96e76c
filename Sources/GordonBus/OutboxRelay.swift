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
/// Order: rows of one ordering key reach the stream in the order their transactions
/// committed (`Outbox.enqueue` makes id order and commit order the same per key); across
/// keys nothing is promised. A row that can never be published goes to
/// `trading.dead_letters` (logged, counted) and the rows behind it flow on.
///
/// Exactly once into the stream: `Nats-Msg-Id` is the row id, so a row republished after a
/// crash between ack and mark is recognised by the stream's duplicate window and not
/// stored twice. One relay at a time: it works only while its connection holds the
/// producer's lease (`leaseScope`), so a second relay is a hot standby.
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
        /// Rows the stream acknowledged (new or duplicate) in this step.
        public var published: Int
        public var duplicates: Int
        public var standby: Bool
        /// Rows read and sent off in this step, whose acknowledgements the next step walks.
        public var read: Int = 0
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
        /// Rows that could never be published, moved to `trading.dead_letters`.
        public var deadLettered = 0
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
        var session = Session()
        var start: ScanStart? = .everything
        var lastPurge = ContinuousClock.now
        while !Task.isCancelled {
            var next: OutboxRelaySchedule.Next
            do {
                if connection == nil {
                    connection = try await connect()
                    session = Session()
                }
                let result: BatchResult
                (result, session) = try await relayBatch(on: connection!, session: session, from: start, timeout: configuration.batchTimeout)
                next = result.standby
                    ? schedule.standby()
                    : schedule.published(result.read, marksPending: !session.unmarked.isEmpty || !session.inFlight.isEmpty)
                if session.leased, ContinuousClock.now - lastPurge > configuration.purgeEvery {
                    lastPurge = .now
                    try await purgeSent(on: connection!)
                }
            } catch {
                if Task.isCancelled { break }  // shutting down: not a failure
                counters.withLockedValue { $0.failures += 1 }
                logger.warning("outbox relay batch failed", metadata: ["error": "\(error)"])
                // Closing the connection also gives up the lease, so a standby can take over.
                try? await connection?.close()
                connection = nil
                next = schedule.failed()
            }
            switch next {
            case .wait(let delay): start = await doorbell.wait(upTo: delay)
            case .settle(let delay): start = await doorbell.wait(upTo: delay, timeoutStart: nil)
            case .relayNow: start = doorbell.take()
            }
        }
        if let connection {
            if !session.unmarked.isEmpty { try? await markSent(session.unmarked, on: connection) }
            try? await connection.close()
        }
    }

    /// LISTENs on `gordon_outbox` and rings the doorbell for this producer's inserts.
    private func listen() async {
        let doorbell = doorbell
        let logger = logger
        await NotificationListener(channel: "gordon_outbox", logger: logger, connect: connect).run { connection, notifications in
            let role = try await Self.currentUser(on: connection, logger: logger)
            doorbell.ring(.everything)  // rows may have arrived while not listening
            for try await notification in notifications {
                if let start = Self.scanStart(notification: notification.payload, role: role) { doorbell.ring(start) }
            }
        }
    }

    /// A notification `<producer>:<id>` for this producer's row `id`; other producers' are
    /// ignored; a bare `<producer>` (a trigger older than migration 0008) means "look at
    /// everything".
    static func scanStart(notification payload: String, role: String) -> ScanStart? {
        if payload == role { return .everything }
        guard payload.hasPrefix(role + ":"), let id = Int64(payload.dropFirst(role.utf8.count + 1)) else { return nil }
        return .atOrBelow(id)
    }

    private static func currentUser(on connection: PostgresConnection, logger: Logger) async throws -> String {
        for try await name in try await connection.query("SELECT current_user::text", logger: logger).decode(String.self) {
            return name
        }
        throw GordonError(.sqlFailed, "current_user returned nothing")
    }

    /// What a relay's own connection carries from one batch to the next.
    struct Session: Sendable {
        /// Whether this connection holds the producer's lease.
        var leased = false
        /// Rows the stream acknowledged that are not yet marked sent: the next batch's query
        /// marks them, so a batch costs one round trip to the database, not three.
        var unmarked: [Int64] = []
        /// Every pending row at or below this id has been handled (published or
        /// dead-lettered), except rows that committed late, which their notification points
        /// back to. Reading from here skips the dead index entries sent rows leave until
        /// vacuum, which would otherwise cost every query a walk over the whole backlog.
        var cursor: Int64 = 0
        /// The last batch's rows, published, their acknowledgements not yet walked: the next
        /// batch reads and publishes before walking them, so the database's work for one
        /// batch overlaps the stream's for the other.
        var inFlight: [PublishedRow] = []

        /// The id after which this batch reads.
        func lowerBound(_ start: ScanStart?) -> Int64 {
            switch start {
            case .everything?: 0
            case .atOrBelow(let id)?: min(cursor, id - 1)
            case nil: cursor
            }
        }
    }

    /// `relayBatch` under a watchdog: a hung connection fails the batch instead of the relay.
    private func relayBatch(on connection: PostgresConnection, session: Session, from start: ScanStart?,
                            timeout: Duration) async throws -> (BatchResult, Session) {
        try await withWatchdog(timeout, doing: "outbox relay batch", onTimeout: { try? await connection.close() }) {
            try await self.relayBatch(on: connection, session: session, from: start)
        }
    }

    /// One batch on a connection of the caller's, complete: take the lease, publish, mark what
    /// was acknowledged, give the lease back. For tools and tests; the relay's own loop keeps
    /// its lease and defers the marking to its next batch.
    public func relayBatch(on connection: PostgresConnection) async throws -> BatchResult {
        var (result, session) = try await relayBatch(on: connection, session: Session(), from: .everything)
        if session.leased {
            let drained: BatchResult
            (drained, session) = try await walkInFlight(on: connection, session: session)
            result.published += drained.published
            result.duplicates += drained.duplicates
            do {
                try await markSent(session.unmarked, on: connection)
                try await connection.query(leaseQuery("pg_advisory_unlock"), logger: logger)
            } catch {
                throw PostgresFailure.map(error, context: ["operation": "outbox relay"])
            }
        }
        return result
    }

    /// The lease: a session-level advisory lock per producer (and subject scope), held for as
    /// long as the relay's connection lives. A second relay of the same producer is a hot
    /// standby, not a competitor that could overtake the first; when the holder's connection
    /// ends (crash, kill, network), the lock is released and the standby takes over. Rows the
    /// old holder published but did not mark are published again and dropped by the stream's
    /// duplicate window, and since each relay publishes in id order on one connection, the
    /// stream still stores every key's rows in id order.
    private var leaseScope: String { "gordon_outbox_relay:" + configuration.subjectPrefixes.sorted().joined(separator: ",") }

    /// `SELECT function(lease key)`, the key per producer: the scope and the connecting role.
    private func leaseQuery(_ function: String, _ extra: String = "") -> PostgresQuery {
        var binds = PostgresBindings()
        binds.append(leaseScope)
        return PostgresQuery(unsafeSQL: "SELECT \(function)(hashtext($1 || ':' || current_user))\(extra)", binds: binds)
    }

    /// One step: read the oldest pending rows (marking the rows acknowledged before), publish
    /// them (pipelined, in id order), then walk the previous step's acknowledgements
    /// (`walkInFlight`).
    private func relayBatch(on connection: PostgresConnection, session: Session, from start: ScanStart?) async throws -> (BatchResult, Session) {
        var session = session
        do {
            if !session.leased {
                // Marking rows sent needs no fsync: a mark lost in a crash means the rows are
                // published again and the stream's duplicate window (GordonStream) drops
                // them. Waiting for the flush would hold every batch for an fsync.
                let lock = leaseQuery("pg_try_advisory_lock", ", set_config('synchronous_commit', 'off', false)")
                for try await (held, _) in try await connection.query(lock, logger: logger).decode((Bool, String).self) {
                    session.leased = held
                }
                guard session.leased else { return (BatchResult(published: 0, duplicates: 0, standby: true), session) }
            }
            let lowerBound = session.lowerBound(start)
            // Only rows above the bound could be read twice; reading on from the cursor (the
            // steady state) that is none, and the query tests no row against the list.
            let skip = (session.unmarked + session.inFlight.map(\.row.id)).filter { $0 > lowerBound }
            let published = try await publishPending(on: connection, after: lowerBound, marking: session.unmarked, skipping: skip)
            session.unmarked = []
            // A full batch may have stopped short of rows it would otherwise have read: go on
            // from its last row. Otherwise every visible row past the bound was read.
            if let highest = published.last?.row.id {
                session.cursor = published.count >= configuration.batchSize ? highest : max(session.cursor, highest)
            }
            var result: BatchResult
            (result, session) = try await walkInFlight(on: connection, session: session)
            session.inFlight = published
            result.read = published.count
            return (result, session)
        } catch let error as GordonError {
            throw error
        } catch {
            throw PostgresFailure.map(error, context: ["operation": "outbox relay"])
        }
    }

    /// Walks the in-flight rows' acknowledgements in id order. Acknowledged rows go to
    /// `Session.unmarked`; a row that can never be published is moved to
    /// `trading.dead_letters` and the walk goes on; the first row that failed for a reason that
    /// may pass (a timeout, a lost connection, the stream unavailable) ends the walk: what was
    /// acknowledged before it is marked, and it is thrown, so it and every row after it are
    /// published again, in order, from a new session (those that did reach the stream come
    /// back as duplicates).
    private func walkInFlight(on connection: PostgresConnection, session: Session) async throws -> (BatchResult, Session) {
        var session = session
        var sent: [Int64] = []
        var duplicates = 0
        var deadLettered = 0
        var retry: (row: PendingRow, error: GordonError)?
        var streamIsUp: Bool?  // asked at most once per walk
        let outcomes = await Self.acknowledgements(of: session.inFlight)
        for ((row, _), outcome) in zip(session.inFlight, outcomes) {
            // Past the first retryable failure the walk only drains the acknowledgements.
            guard retry == nil else { continue }
            switch outcome {
            case .success(let pubAck):
                if pubAck.duplicate { duplicates += 1 }
                sent.append(row.id)
            case .failure(let error):
                if await isPermanent(error, streamIsUp: &streamIsUp) {
                    try await deadLetter(row, error: error, on: connection)
                    deadLettered += 1
                } else {
                    retry = (row, error)
                }
            }
        }
        session.inFlight = []
        session.unmarked = sent
        counters.withLockedValue {
            $0.published += sent.count
            $0.duplicates += duplicates
            $0.deadLettered += deadLettered
        }
        guard let (row, error) = retry else { return (BatchResult(published: sent.count, duplicates: duplicates, standby: false), session) }
        try await markSent(sent, on: connection)
        // Recorded on the row for the operator.
        let text = String(error.description.prefix(500))
        try await connection.query(
            "UPDATE trading.outbox SET attempts = attempts + 1, last_error = \(text) WHERE id = \(row.id)", logger: logger)
        throw GordonError(.outboxRelayFailed, "outbox row \(row.id) was not acknowledged: \(error.message)",
                          context: ["outbox_id": "\(row.id)"], underlying: error)
    }

    /// The outcome of each in-flight publish, in order. Awaited as one future: awaiting a
    /// thousand futures one by one costs a thread hop each, longer than the stream takes to
    /// acknowledge them.
    static func acknowledgements(of rows: [PublishedRow]) async -> [Result<PubAck, GordonError>] {
        let futures = rows.compactMap { try? $0.ack.get() }
        var acknowledged: [Result<PubAck, any Error>] = []
        if let loop = futures.first?.eventLoop {
            acknowledged = (try? await EventLoopFuture.whenAllComplete(futures, on: loop).get()) ?? []
        }
        var next = acknowledged.makeIterator()
        return rows.map { row in
            switch row.ack {
            case .failure(let error):
                return .failure(error)
            case .success:
                switch next.next() {
                case .success(let pubAck)?: return .success(pubAck)
                case .failure(let error)?:
                    return .failure((error as? GordonError) ?? GordonError(.outboxRelayFailed, "publish failed", underlying: error))
                case nil:
                    return .failure(GordonError(.outboxRelayFailed, "publish outcome lost"))
                }
            }
        }
    }

    /// Marks acknowledged rows (`$1`) sent; on its own, and as the CTE of `publishPending`.
    ///
    /// The id range is stated beside the list because the planner, with the list a
    /// parameter, reaches the rows through the pending-rows index, and without bounds that
    /// scan visits every pending row of the producer: with a backlog of 50,000 rows, a
    /// quarter of a second per batch instead of a few milliseconds.
    static let markSentSQL = """
        UPDATE trading.outbox SET sent_at = now(), attempts = attempts + 1
        WHERE id = ANY($1) AND id BETWEEN (SELECT min(i) FROM unnest($1::bigint[]) i) AND (SELECT max(i) FROM unnest($1::bigint[]) i)
          AND sent_at IS NULL
        """

    private func markSent(_ ids: [Int64], on connection: PostgresConnection) async throws {
        guard !ids.isEmpty else { return }
        var binds = PostgresBindings()
        binds.append(ids)
        try await connection.query(PostgresQuery(unsafeSQL: Self.markSentSQL, binds: binds), logger: logger)
    }

    /// One statement marks the acknowledged rows and reads the next rows (skipping those and
    /// the rows still in flight explicitly: the statement's own update is not visible to it),
    /// and each row read is published at once.
    private func publishPending(on connection: PostgresConnection, after lowerBound: Int64, marking marked: [Int64],
                                skipping skipped: [Int64]) async throws -> [PublishedRow] {
        let patterns = configuration.subjectPrefixes.map { Self.likePrefix($0) }
        var binds = PostgresBindings()
        binds.append(marked)
        binds.append(lowerBound)
        binds.append(skipped)
        binds.append(patterns)
        binds.append(configuration.batchSize)
        let rows = try await connection.query(PostgresQuery(unsafeSQL: """
            WITH marked AS (\(Self.markSentSQL))
            SELECT id, subject, payload, ordering_key, attempts FROM trading.outbox
            WHERE sent_at IS NULL AND id > $2 AND NOT (id = ANY($3))
              AND (cardinality($4::text[]) = 0 OR subject LIKE ANY($4::text[]))
            ORDER BY id LIMIT $5
            """, binds: binds), logger: logger)
        var published: [PublishedRow] = []
        for try await (id, subject, payload, orderingKey, attempts) in rows.decode((Int64, String, ByteBuffer, String, Int32).self) {
            let row = PendingRow(id: id, subject: subject, payload: payload, orderingKey: orderingKey, attempts: Int(attempts))
            do {
                // Never kept for a reconnect: after a lost connection the relay starts again from
                // the first unacknowledged row, and a buffered later row must not get there first.
                let ack = try await jetStream.publishAsync(payload.readableBytesView, to: subject, messageId: String(id),
                                                           expectedStream: GordonStream.name, bufferWhileDisconnected: false)
                published.append((row, .success(ack)))
            } catch {
                published.append((row, .failure(error)))
            }
        }
        return published
    }

    typealias PublishedRow = (row: PendingRow, ack: Result<EventLoopFuture<PubAck>, GordonError>)

    struct PendingRow: Sendable {
        var id: Int64
        var subject: String
        var payload: ByteBuffer
        var orderingKey: String
        var attempts: Int
    }

    /// Whether publishing `error`'s row again can never succeed, so holding it back would only
    /// block the rows behind it: the server refuses the subject to this producer, the message
    /// is larger than the server or the stream accepts, the subject is invalid, another
    /// stream captures it, or no stream captures it while the GORDON stream is up.
    func isPermanent(_ error: GordonError, streamIsUp: inout Bool?) async -> Bool {
        switch error.code {
        case .natsPermissionDenied, .natsPayloadTooLarge, .natsInvalidSubject:
            return true
        case .jetStreamPublishRejected:
            return Self.permanentPublishRejections.contains(error.context["err_code"] ?? "")
        case .jetStreamNotFound:
            // No responders: either no stream captures the subject (permanent), or JetStream
            // or the stream itself is not there yet (wait for it). Asking tells them apart.
            if let streamIsUp { return streamIsUp }
            let up = (try? await jetStream.streamInfo(GordonStream.name)) != nil
            streamIsUp = up
            return up
        default:
            return false
        }
    }

    /// JetStream's own refusals that no retry changes: 10054, the message is over the
    /// stream's max_msg_size; 10060, the subject belongs to a stream other than GORDON.
    static let permanentPublishRejections: Set<String> = ["10054", "10060"]

    /// Moves `row` to `trading.dead_letters` in the batch's transaction, whole, so an operator
    /// can inspect and replay it, and tells the operator.
    private func deadLetter(_ row: PendingRow, error: GordonError, on connection: PostgresConnection) async throws {
        let reason = String(error.description.prefix(500))
        let code = error.code.rawValue
        let deliveries = row.attempts + 1
        try await connection.query("""
            WITH moved AS (DELETE FROM trading.outbox WHERE id = \(row.id) RETURNING id, subject, event_id, payload, ordering_key)
            INSERT INTO trading.dead_letters (consumer, subject, outbox_id, deliveries, event_id, error_code, reason, payload, ordering_key)
            SELECT 'outbox-relay', subject, id, \(deliveries), event_id, \(code), \(reason), payload, ordering_key FROM moved
            """, logger: logger)
        logger.error("outbox row can never be published: moved to trading.dead_letters", metadata: [
            "outbox_id": "\(row.id)", "subject": "\(row.subject)", "ordering_key": "\(row.orderingKey)",
            "error_code": "\(code)", "error": "\(error.message)",
        ])
    }

    private func purgeSent(on connection: PostgresConnection) async throws {
        let seconds = Int(configuration.keepSentRows.components.seconds)
        try await connection.query(
            "DELETE FROM trading.outbox WHERE sent_at < now() - make_interval(secs => \(seconds))", logger: logger)
    }

    /// The rows this relay has still to publish and the age of the oldest, on a connection of
    /// its own (the relay's may be mid-batch): what `/metrics` shows as the backlog. A backlog
    /// that grows while the relay is up means the stream is refusing or the relay is stuck.
    public func backlog(timeout: Duration = .seconds(5)) async throws -> (pending: Int, oldestSeconds: Double) {
        let patterns = configuration.subjectPrefixes.map { Self.likePrefix($0) }
        let connection = try await connect()
        defer { Task { try? await connection.close() } }
        let logger = logger
        return try await withWatchdog(timeout, doing: "outbox backlog", onTimeout: { try? await connection.close() }) {
            var binds = PostgresBindings()
            binds.append(patterns)
            let rows = try await connection.query(PostgresQuery(unsafeSQL: """
                SELECT count(*), coalesce(extract(epoch FROM clock_timestamp() - min(created_at)), 0)::float8 FROM trading.outbox
                WHERE sent_at IS NULL AND (cardinality($1::text[]) = 0 OR subject LIKE ANY($1::text[]))
                """, binds: binds), logger: logger)
            for try await (count, age) in rows.decode((Int64, Double).self) { return (Int(count), age) }
            return (0, 0)
        }
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
    public func wake() { doorbell.ring(.everything) }
}

/// Where the relay's next query must start reading pending rows.
enum ScanStart: Sendable, Equatable {
    /// From the first id: a sweep (at start, after the listener reconnected, on the polling
    /// fallback), because a notification may have been missed.
    case everything
    /// At or below this committed row's id, which may lie below the relay's cursor.
    case atOrBelow(Int64)

    /// Two rings in one: whichever reaches further back.
    func merged(with other: ScanStart?) -> ScanStart {
        switch (self, other) {
        case (.everything, _), (_, .everything?): .everything
        case (.atOrBelow(let a), .atOrBelow(let b)?): .atOrBelow(min(a, b))
        case (.atOrBelow, nil): self
        }
    }
}

/// One waiter, many ringers: `wait` returns on the first ring since the last wait (with
/// every ring's `ScanStart` merged), or on timeout (`.everything`, the polling fallback).
final class Doorbell: Sendable {
    private struct State {
        var pending: ScanStart?
        var waiter: CheckedContinuation<ScanStart?, Never>?
        /// Which wait a timer belongs to: a late timer must not end a later wait.
        var generation: UInt64 = 0
    }
    private let state = NIOLockedValueBox(State())

    func ring(_ start: ScanStart = .everything) {
        let resume: (CheckedContinuation<ScanStart?, Never>, ScanStart)? = state.withLockedValue { state in
            let merged = start.merged(with: state.pending)
            guard let waiter = state.waiter else {
                state.pending = merged
                return nil
            }
            state.waiter = nil
            state.pending = nil
            return (waiter, merged)
        }
        if let (waiter, start) = resume { waiter.resume(returning: start) }
    }

    /// What rang since the last wait, without waiting.
    func take() -> ScanStart? {
        state.withLockedValue { state in
            defer { state.pending = nil }
            return state.pending
        }
    }

    /// Ends wait number `generation` if it is still waiting; otherwise does nothing.
    private func expire(_ generation: UInt64, with start: ScanStart?) {
        let waiter: CheckedContinuation<ScanStart?, Never>? = state.withLockedValue { state in
            guard state.generation == generation, let waiter = state.waiter else { return nil }
            state.waiter = nil
            return waiter
        }
        waiter?.resume(returning: start)
    }

    /// On timeout the wait returns `timeoutStart`: `.everything` for the polling fallback,
    /// nil for a pause after which the relay simply reads on.
    @discardableResult
    func wait(upTo timeout: Duration, timeoutStart: ScanStart? = .everything) async -> ScanStart? {
        let generation = state.withLockedValue { state in
            state.generation &+= 1
            return state.generation
        }
        // The polling fallback's period.
        let timer = Task {
            guard (try? await Task.sleep(for: timeout)) != nil else { return }
            self.expire(generation, with: timeoutStart)
        }
        defer { timer.cancel() }
        // Cancellation ends the wait too, so a relay being shut down is not held for a poll period.
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<ScanStart?, Never>) in
                let now: ScanStart? = state.withLockedValue { state in
                    if let pending = state.pending {
                        state.pending = nil
                        return pending
                    }
                    // Checked under the lock that `expire` takes: a cancellation either came
                    // before (seen here) or finds the waiter installed.
                    if Task.isCancelled { return .everything }
                    state.waiter = continuation
                    return nil
                }
                if let now { continuation.resume(returning: now) }
            }
        } onCancel: {
            self.expire(generation, with: .everything)
        }
    }
}
