public import GordonKernel
import GordonPostgres
public import Logging
public import PostgresNIO

/// Applies a migrations directory to one database (DESIGN §5, gordon-migrate).
///
/// - One transaction per file, recorded in `public.schema_migrations` with its SHA-256 in
///   the same transaction, so a file is either applied and recorded or neither.
/// - A session advisory lock serialises migrators: a second one waits, then finds nothing
///   left to do.
/// - Before anything runs, the recorded history must match the files (see `MigrationPlan`).
public struct Migrator: Sendable {
    /// The advisory lock key: "gordonmg" in ASCII, fixed forever so every version of
    /// gordon-migrate excludes every other.
    public static let advisoryLockKey: Int64 = 0x676F_7264_6F6E_6D67

    public let directory: MigrationDirectory
    public let logger: Logger
    /// How long to wait for another migrator's lock before giving up.
    public let lockTimeoutSeconds: Int

    /// Accept a database migrated past this directory (`MigrationPlan`'s `databaseMayBeAhead`).
    public let databaseMayBeAhead: Bool

    public init(directory: MigrationDirectory, logger: Logger, lockTimeoutSeconds: Int = 300, databaseMayBeAhead: Bool = false) {
        self.databaseMayBeAhead = databaseMayBeAhead
        self.directory = directory
        self.logger = logger
        self.lockTimeoutSeconds = lockTimeoutSeconds
    }

    public struct Report: Sendable, Equatable {
        /// Files applied by this run, in order, with how long each took.
        public var applied: [(file: String, milliseconds: Int)] = []
        public var latestVersion: Int = 0

        public static func == (lhs: Report, rhs: Report) -> Bool {
            lhs.latestVersion == rhs.latestVersion && lhs.applied.map(\.file) == rhs.applied.map(\.file)
        }
    }

    /// Applies every pending file. `onApplied` is called after each file commits.
    public func migrate(
        on connection: PostgresConnection,
        onApplied: @Sendable (String, Int) -> Void = { _, _ in }
    ) async throws(GordonError) -> Report {
        do {
            try await lock(connection)
            let plan = try MigrationPlan(files: directory.files, applied: try await Self.appliedMigrations(on: connection),
                                     databaseMayBeAhead: databaseMayBeAhead)
            var report = Report()
            for file in plan.pending {
                let milliseconds = try await apply(file, on: connection)
                report.applied.append((file.fileName, milliseconds))
                logger.info("applied migration", metadata: ["file": "\(file.fileName)", "ms": "\(milliseconds)"])
                onApplied(file.fileName, milliseconds)
            }
            _ = try await connection.run("SELECT pg_advisory_unlock(\(Self.advisoryLockKey))")
            report.latestVersion = max(plan.applied.last?.version ?? 0, plan.pending.last?.version ?? 0)
            return report
        } catch {
            // The lock is per session; release it for callers that keep the connection.
            _ = try? await connection.run("SELECT pg_advisory_unlock_all()")
            throw PostgresFailure.map(error)
        }
    }

    /// The plan this directory makes for the database, without changing anything.
    public func status(on connection: PostgresConnection) async throws(GordonError) -> MigrationPlan {
        do {
            try await Self.ensureLedger(connection)
            return try MigrationPlan(files: directory.files, applied: try await Self.appliedMigrations(on: connection),
                                     databaseMayBeAhead: databaseMayBeAhead)
        } catch {
            throw PostgresFailure.map(error)
        }
    }

    private func lock(_ connection: PostgresConnection) async throws {
        _ = try await connection.run("SET lock_timeout = '\(unescaped: String(lockTimeoutSeconds))s'")
        do {
            _ = try await connection.run("SELECT pg_advisory_lock(\(Self.advisoryLockKey))")
        } catch {
            let mapped = PostgresFailure.map(error)
            if mapped.code == .databaseTimeout {
                throw GordonError(
                    .databaseTimeout, "another gordon-migrate held the migration lock for over \(lockTimeoutSeconds) s")
            }
            throw mapped
        }
        _ = try await connection.run("SET lock_timeout = 0")
        try await Self.ensureLedger(connection)
    }

    /// The ledger lives in `public` and is created by the migrator itself, before file 0001,
    /// so that file 0001 can already be recorded (and can grant reading it).
    static func ensureLedger(_ connection: PostgresConnection) async throws {
        try await connection.run("""
            CREATE TABLE IF NOT EXISTS public.schema_migrations (
                version      integer     PRIMARY KEY CHECK (version > 0),
                name         text        NOT NULL,
                checksum     text        NOT NULL CHECK (checksum ~ '^[0-9a-f]{64}$'),
                applied_at   timestamptz NOT NULL DEFAULT now(),
                execution_ms integer     NOT NULL CHECK (execution_ms >= 0)
            )
            """)
        try await connection.run("REVOKE ALL ON public.schema_migrations FROM PUBLIC")
    }

    static func appliedMigrations(on connection: PostgresConnection) async throws -> [AppliedMigration] {
        let rows = try await connection.run("""
            SELECT version, name, checksum, (extract(epoch FROM applied_at) * 1000)::bigint
            FROM public.schema_migrations ORDER BY version
            """)
        var applied: [AppliedMigration] = []
        for try await (version, name, checksum, appliedAt) in rows.decode((Int, String, String, Int64).self) {
            applied.append(AppliedMigration(version: version, name: name, checksum: checksum, appliedAtMilliseconds: appliedAt))
        }
        return applied
    }

    /// Runs one file and records it, in one transaction. On failure nothing of the file
    /// remains, and the error names the file and the line Postgres pointed at.
    private func apply(_ file: MigrationFile, on connection: PostgresConnection) async throws -> Int {
        let clock = ContinuousClock()
        let started = clock.now
        var current: SQLScript.Statement?
        do {
            return try await connection.withTransaction { connection in
                for statement in file.statements {
                    current = statement
                    try await connection.run(PostgresQuery(unsafeSQL: statement.text))
                }
                current = nil
                let elapsed = started.duration(to: clock.now)
                let milliseconds = Int(elapsed.components.seconds * 1000 + elapsed.components.attoseconds / 1_000_000_000_000_000)
                _ = try await connection.run("""
                    INSERT INTO public.schema_migrations (version, name, checksum, execution_ms)
                    VALUES (\(file.version), \(file.name), \(file.checksum), \(milliseconds))
                    """)
                return .commit(milliseconds)
            }
        } catch {
            var context = ["file": file.fileName]
            if let current {
                let position = (error as? PSQLError)?.serverInfo?[.position].flatMap { Int($0) }
                context["line"] = String(position.map(current.fileLine(ofPosition:)) ?? current.keywordLine)
            }
            var mapped = PostgresFailure.map(error, context: context)
            if mapped.code == .sqlFailed { mapped.message = "migration \(file.fileName) failed: \(mapped.message)" }
            throw mapped
        }
    }
}
