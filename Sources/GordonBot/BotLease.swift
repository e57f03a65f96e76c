public import GordonKernel
import GordonPostgres
public import Logging
public import PostgresNIO
import Synchronization

/// One active instance per bot (DESIGN §3): the holder keeps a PostgreSQL advisory lock keyed
/// on the bot id for as long as its session lives, on a connection of its own; a second
/// instance waits as a hot standby, asking for the lock every `retry`, and holds it as soon as
/// the first's session is gone (its process killed, its host or network down: PostgreSQL ends
/// the session, and with it the lock). `trading.bot_leases` says who holds it, for operators.
///
/// The lock is the session, so the holder proves it still holds the lease by using that
/// session: every `renewEvery` it reads and renews its row there, with a deadline; a renewal
/// that fails or hangs means the session, and so the lease, may be gone, and the holder must
/// stop acting at once (`HeldLease.watch` returns). The session asks the server for TCP
/// keepalives, so a holder whose host vanishes loses the lock in seconds, not hours.
///
/// Each acquisition writes a fresh token into the row (`instance_id`: the instance's name and
/// a random suffix); writes for the bot are fenced on that token (`IntentRecorder`), so two
/// processes given the same name still cannot both write.
public final class BotLease: Sendable {
    public struct Configuration: Sendable {
        public var retry: Duration = .seconds(1)
        public var renewEvery: Duration = .seconds(2)
        /// How long one renewal may take before the holder takes its session for gone and
        /// stops acting: well inside `ttl`, and well beyond a busy host's stall (a lease
        /// given up because the CPU was slow hands the bot to the standby for nothing).
        public var renewTimeout: Duration = .seconds(5)
        /// What the row's `expires_at` promises: beyond a few missed renewals. Writes fenced on
        /// the lease stop when it passes.
        public var ttl: Duration = .seconds(10)

        public init() {}
    }

    public let botId: String
    public let instanceId: String
    public let host: String
    let configuration: Configuration
    let connect: @Sendable () async throws -> PostgresConnection
    let logger: Logger
    private let tries = Atomic<Int>(0)

    /// `connect` opens a direct connection (never through a pooler: the lock is the session)
    /// as the bot's database role; the lease keeps one for itself.
    public init(botId: String, instanceId: String, host: String, configuration: Configuration = Configuration(), logger: Logger,
                connect: @escaping @Sendable () async throws -> PostgresConnection) {
        self.botId = botId
        self.instanceId = instanceId
        self.host = host
        self.configuration = configuration
        self.connect = connect
        self.logger = logger
    }

    /// Times this instance asked for the lock and found it held by another.
    public var refusals: Int { tries.load(ordering: .relaxed) }

    /// The 64-bit advisory lock key, computed by PostgreSQL the same way on every instance.
    static let key = "hashtextextended('gordon.bot.lease:' || $1, 0)"

    /// Waits as a hot standby until this instance holds the bot's lock, then records itself in
    /// `trading.bot_leases`. Throws only when cancelled.
    public func acquire() async throws -> HeldLease {
        var failures = 0
        while true {
            try Task.checkCancellation()
            let connection: PostgresConnection
            do {
                connection = try await connect()
            } catch {
                failures += 1
                logger.warning("bot lease: cannot reach PostgreSQL; retrying", metadata: ["bot": "\(botId)", "error": "\(error)"])
                try await Task.sleep(for: retryBackoff(afterFailures: failures, maximum: configuration.retry * 5))
                continue
            }
            do {
                while true {
                    try Task.checkCancellation()
                    if let held = try await tryLock(on: connection) {
                        if Task.isCancelled {  // nobody is left to act on it
                            await held.release()
                            throw CancellationError()
                        }
                        return held
                    }
                    if tries.add(1, ordering: .relaxed).newValue == 1 {
                        logger.notice("bot lease held by another instance; standing by", metadata: ["bot": "\(botId)", "instance": "\(instanceId)"])
                    }
                    try await Task.sleep(for: configuration.retry)
                }
            } catch is CancellationError {
                try? await connection.close()
                throw CancellationError()
            } catch {
                // The standby's own session died: a new one, and ask again.
                try? await connection.close()
                failures += 1
                logger.warning("bot lease: standby session lost; reconnecting", metadata: ["bot": "\(botId)", "error": "\(error)"])
                try await Task.sleep(for: retryBackoff(afterFailures: failures, maximum: configuration.retry * 5))
            }
        }
    }

    private func tryLock(on connection: PostgresConnection) async throws -> HeldLease? {
        // A connection that died unnoticed must not hold the standby (or a fresh holder) forever.
        let deadline = max(configuration.renewTimeout, .seconds(5))
        return try await withDeadline(deadline, timeoutError: {
            GordonError(.databaseTimeout, "asking for the bot lease took longer than \(deadline)")
        }, onTimeout: { try? await connection.close() }) { [self] in
            try await lockAndRecord(on: connection)
        }
    }

    private func lockAndRecord(on connection: PostgresConnection) async throws -> HeldLease? {
        var binds = PostgresBindings()
        binds.append(botId)
        var locked = false
        for try await granted in try await connection.query(PostgresQuery(unsafeSQL: "SELECT pg_try_advisory_lock(\(Self.key))", binds: binds),
                                                           logger: logger).decode(Bool.self) {
            locked = granted
        }
        guard locked else { return nil }
        // Server-side keepalives: a vanished holder's session (and lock) ends within seconds.
        // The lock timeout keeps a renewal from waiting behind the bot's own writes.
        try await connection.query("""
            SELECT set_config('tcp_keepalives_idle', '5', false), set_config('tcp_keepalives_interval', '2', false),
                   set_config('tcp_keepalives_count', '3', false), set_config('lock_timeout', '500ms', false)
            """, logger: logger)
        let token = "\(instanceId.prefix(100))#\(String(UInt64.random(in: 0...UInt64.max), radix: 16))"
        var row = PostgresBindings()
        row.append(botId)
        row.append(token)
        row.append(host)
        row.append(configuration.ttl.nanoseconds / 1_000_000)
        try await connection.query(PostgresQuery(unsafeSQL: """
            INSERT INTO trading.bot_leases (bot_id, instance_id, host, acquired_at, renewed_at, expires_at)
            VALUES ($1, $2, $3, now(), now(), now() + $4 * interval '1 millisecond')
            ON CONFLICT (bot_id) DO UPDATE SET instance_id = EXCLUDED.instance_id, host = EXCLUDED.host,
                acquired_at = now(), renewed_at = now(), expires_at = EXCLUDED.expires_at
            """, binds: row), logger: logger)
        logger.notice("bot lease acquired", metadata: ["bot": "\(botId)", "instance": "\(token)", "host": "\(host)"])
        return HeldLease(lease: self, token: token, connection: connection)
    }
}

/// The lease while this instance holds it, on the session that holds the lock.
public final class HeldLease: Sendable {
    public enum End: Sendable, Equatable {
        /// The session may be gone: another instance may already hold the lease.
        case lost(String)
        case released
    }

    let lease: BotLease
    /// What the lease row names while this instance holds it; writes are fenced on it.
    public let token: String
    let connection: PostgresConnection
    private let ended = Mutex<End?>(nil)

    init(lease: BotLease, token: String, connection: PostgresConnection) {
        self.lease = lease
        self.token = token
        self.connection = connection
    }

    /// A lease dropped with its session still open (a result its deadline discarded, a caller
    /// gone, an end whose close has not run) must not keep the lock: the standby would wait.
    deinit {
        guard !connection.isClosed else { return }
        let connection = connection
        Task { try? await connection.close() }
    }

    /// Whether this instance may still act for the bot.
    public var isHeld: Bool { ended.withLock { $0 == nil } }

    /// Renews the row on the lock's session until the lease is lost or released; returns
    /// which. The caller stops acting for the bot when this returns.
    public func watch() async -> End {
        while true {
            if let end = ended.withLock({ $0 }) { return end }
            if (try? await Task.sleep(for: lease.configuration.renewEvery)) == nil { return end(.released) }
            do {
                let timeout = lease.configuration.renewTimeout
                let renewed = try await withDeadline(timeout, timeoutError: {
                    GordonError(.databaseUnreachable, "renewing the bot lease took longer than \(timeout)")
                }) { try await self.renew() }
                guard renewed else { return end(.lost("the lease row names another instance")) }
            } catch {
                return end(.lost("\(error)"))
            }
        }
    }

    /// Gives the lease up: the row is marked expired (so this process's own late writes are
    /// fenced off too), the lock's session ends, and a standby takes over.
    public func release() async {
        guard isHeld else { return }
        var binds = PostgresBindings()
        binds.append(lease.botId)
        binds.append(token)
        _ = try? await connection.query(PostgresQuery(unsafeSQL: """
            UPDATE trading.bot_leases SET expires_at = greatest(now(), acquired_at + interval '1 millisecond')
            WHERE bot_id = $1 AND instance_id = $2
            """, binds: binds), logger: lease.logger)
        _ = end(.released)
    }

    /// The first end wins; either way the lock's session is closed (a watcher cancelled
    /// without `release` must not keep the standby waiting).
    private func end(_ reason: End) -> End {
        let first = ended.withLock { state -> End in
            if let state { return state }
            state = reason
            return reason
        }
        if case .lost(let why) = first {
            lease.logger.error("bot lease lost; stopping", metadata: ["bot": "\(lease.botId)", "instance": "\(token)", "reason": "\(why)"])
        }
        let connection = connection
        Task { try? await connection.close() }
        return first
    }

    /// Whether the row still names this acquisition, read on the lock's session (a plain read,
    /// never blocked by the bot's own writes holding the row FOR SHARE); then the row's times
    /// move on, unless those writes hold it past the session's lock timeout.
    private func renew() async throws -> Bool {
        var binds = PostgresBindings()
        binds.append(lease.botId)
        binds.append(token)
        var ours = false
        for try await named in try await connection.query(PostgresQuery(unsafeSQL: """
            SELECT instance_id = $2 FROM trading.bot_leases WHERE bot_id = $1
            """, binds: binds), logger: lease.logger).decode(Bool.self) {
            ours = named
        }
        guard ours else { return false }
        binds.append(lease.configuration.ttl.nanoseconds / 1_000_000)
        do {
            try await connection.query(PostgresQuery(unsafeSQL: """
                UPDATE trading.bot_leases SET renewed_at = now(), expires_at = now() + $3 * interval '1 millisecond'
                WHERE bot_id = $1 AND instance_id = $2
                """, binds: binds), logger: lease.logger)
        } catch let error as PSQLError where error.serverInfo?[.sqlState] == "55P03" {
            // lock_not_available: one of the bot's intent transactions holds the row; the session lives.
        }
        return true
    }

    /// The PostgreSQL backend holding the lock (for operators and tests). A lease that has
    /// ended is refused at once: its session is being closed, and a query sent to a closing
    /// connection may never be answered.
    public func backendPID() async throws -> Int32 {
        guard isHeld else { throw GordonError(.botLeaseLost, "the lease has ended; its session is closed") }
        let timeout = lease.configuration.renewTimeout
        return try await withDeadline(timeout, timeoutError: {
            GordonError(.databaseTimeout, "reading the lease's backend took longer than \(timeout)")
        }) { [connection, lease] in
            for try await pid in try await connection.query("SELECT pg_backend_pid()", logger: lease.logger).decode(Int32.self) { return pid }
            throw GordonError(.internalInvariant, "pg_backend_pid returned no row")
        }
    }
}
