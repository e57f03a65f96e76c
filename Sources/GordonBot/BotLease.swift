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
/// session: every `renewEvery` it renews its row there, with a deadline; a renewal that
/// fails or hangs means the session, and so the lease, may be gone, and the holder must stop
/// acting at once (`HeldLease.watch` returns).
public final class BotLease: Sendable {
    public struct Configuration: Sendable {
        public var retry: Duration = .seconds(1)
        public var renewEvery: Duration = .seconds(2)
        /// What the row's `expires_at` promises: beyond a few missed renewals.
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

    /// `connect` opens a connection as the bot's database role; the lease keeps one for itself.
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
                    if let held = try await tryLock(on: connection) { return held }
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
        var binds = PostgresBindings()
        binds.append(botId)
        var locked = false
        for try await (granted) in try await connection.query(PostgresQuery(unsafeSQL: "SELECT pg_try_advisory_lock(\(Self.key))", binds: binds),
                                                             logger: logger).decode(Bool.self) {
            locked = granted
        }
        guard locked else { return nil }
        var row = PostgresBindings()
        row.append(botId)
        row.append(instanceId)
        row.append(host)
        row.append(configuration.ttl.nanoseconds / 1_000_000)
        try await connection.query(PostgresQuery(unsafeSQL: """
            INSERT INTO trading.bot_leases (bot_id, instance_id, host, acquired_at, renewed_at, expires_at)
            VALUES ($1, $2, $3, now(), now(), now() + $4 * interval '1 millisecond')
            ON CONFLICT (bot_id) DO UPDATE SET instance_id = EXCLUDED.instance_id, host = EXCLUDED.host,
                acquired_at = now(), renewed_at = now(), expires_at = EXCLUDED.expires_at
            """, binds: row), logger: logger)
        logger.notice("bot lease acquired", metadata: ["bot": "\(botId)", "instance": "\(instanceId)", "host": "\(host)"])
        return HeldLease(lease: self, connection: connection)
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
    let connection: PostgresConnection
    private let ended = Mutex<End?>(nil)

    init(lease: BotLease, connection: PostgresConnection) {
        self.lease = lease
        self.connection = connection
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
                let renewed = try await withDeadline(lease.configuration.renewEvery, timeoutError: {
                    GordonError(.databaseUnreachable, "renewing the bot lease took longer than \(self.lease.configuration.renewEvery)")
                }) { try await self.renew() }
                guard renewed else { return end(.lost("the lease row names another instance")) }
            } catch {
                return end(.lost("\(error)"))
            }
        }
    }

    /// Gives the lease up: the lock's session ends, and a standby takes over.
    public func release() async {
        _ = end(.released)
        try? await connection.close()
    }

    private func end(_ reason: End) -> End {
        let first = ended.withLock { state -> End in
            if let state { return state }
            state = reason
            return reason
        }
        if case .lost(let why) = first {
            lease.logger.error("bot lease lost; stopping", metadata: ["bot": "\(lease.botId)", "instance": "\(lease.instanceId)", "reason": "\(why)"])
            let connection = connection
            Task { try? await connection.close() }
        }
        return first
    }

    private func renew() async throws -> Bool {
        var binds = PostgresBindings()
        binds.append(lease.botId)
        binds.append(lease.instanceId)
        binds.append(lease.configuration.ttl.nanoseconds / 1_000_000)
        var count = 0
        for try await renewed in try await connection.query(PostgresQuery(unsafeSQL: """
            WITH renewed AS (
                UPDATE trading.bot_leases SET renewed_at = now(), expires_at = now() + $3 * interval '1 millisecond'
                WHERE bot_id = $1 AND instance_id = $2 RETURNING 1
            ) SELECT count(*)::int FROM renewed
            """, binds: binds), logger: lease.logger).decode(Int.self) {
            count = renewed
        }
        return count == 1
    }

    /// The PostgreSQL backend holding the lock (for operators and tests).
    public func backendPID() async throws -> Int32 {
        for try await pid in try await connection.query("SELECT pg_backend_pid()", logger: lease.logger).decode(Int32.self) { return pid }
        throw GordonError(.internalInvariant, "pg_backend_pid returned no row")
    }
}
