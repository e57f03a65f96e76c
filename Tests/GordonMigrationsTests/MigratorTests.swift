import Foundation
@testable import GordonMigrations
import GordonPostgres
import GordonKernel
import GordonTestDB
import PostgresNIO
import Testing

/// A scratch migrations directory for one test, removed afterwards.
struct ScratchMigrations {
    let path: String

    init(_ files: [String: String]) throws {
        path = NSTemporaryDirectory() + "gordon-migrations-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        for (name, sql) in files { try write(name, sql) }
    }

    func write(_ name: String, _ sql: String) throws {
        try Data(sql.utf8).write(to: URL(fileURLWithPath: path + "/" + name))
    }

    func remove() { try? FileManager.default.removeItem(atPath: path) }
}

func scalar<T: PostgresDecodable & Sendable>(_ connection: PostgresConnection, _ sql: String, as: T.Type = T.self) async throws -> T? {
    let rows = try await connection.query(PostgresQuery(unsafeSQL: sql), logger: TestEnvironment.logger)
    for try await (value,) in rows.decode((T,).self) { return value }
    return nil
}

@Suite("Migrator against a real PostgreSQL")
struct MigratorTests {
    @Test("an empty database migrates to the newest version, and a second run applies nothing")
    func fullMigrateThenIdle() async throws {
        try await withTestDatabase(empty: true) { database async throws in
            let directory = try MigrationDirectory(path: GordonTestPaths.migrations)
            let migrator = Migrator(directory: directory, logger: TestEnvironment.logger)
            try await withConnection(try await database.connect()) { connection async throws in
                let first = try await migrator.migrate(on: connection)
                #expect(first.applied.map(\.file) == directory.files.map(\.fileName))
                #expect(first.latestVersion == SchemaCheck.requiredVersion)
                let second = try await migrator.migrate(on: connection)
                #expect(second.applied.isEmpty)
                #expect(second.latestVersion == SchemaCheck.requiredVersion)
                let recorded = try await Migrator.appliedMigrations(on: connection)
                #expect(recorded.map(\.checksum) == directory.files.map(\.checksum))
                #expect(try await SchemaCheck.verify(on: connection) == SchemaCheck.requiredVersion)
            }
        }
    }

    @Test("a failing file leaves nothing behind and the error names file, line and Postgres's message")
    func failureRollsBack() async throws {
        let scratch = try ScratchMigrations([
            "0001_ok.sql": "CREATE TABLE first_table (id int);\n",
            "0002_broken.sql": "CREATE TABLE half_table (id int);\nINSERT INTO half_table VALUES (1);\n\nSELECT * FROM no_such_table;\n",
        ])
        defer { scratch.remove() }
        try await withTestDatabase(empty: true) { database async throws in
            try await withConnection(try await database.connect()) { connection async throws in
                let migrator = Migrator(directory: try MigrationDirectory(path: scratch.path), logger: TestEnvironment.logger)
                do {
                    _ = try await migrator.migrate(on: connection)
                    Issue.record("a broken migration succeeded")
                } catch let error as GordonError {
                    #expect(error.code == .sqlFailed)
                    #expect(error.context["file"] == "0002_broken.sql")
                    #expect(error.context["line"] == "4")
                    #expect(error.context["sqlstate"] == "42P01")
                    #expect(error.message.contains("no_such_table"))
                }
                #expect(try await scalar(connection, "SELECT to_regclass('half_table')::text", as: String?.self) == .some(nil))
                #expect(try await scalar(connection, "SELECT to_regclass('first_table')::text", as: String?.self) == "first_table")
                #expect(try await scalar(connection, "SELECT count(*) FROM public.schema_migrations", as: Int.self) == 1)
            }
        }
    }

    @Test("an applied file edited afterwards is an error naming the file, and nothing new is applied")
    func editedFile() async throws {
        let scratch = try ScratchMigrations(["0001_a.sql": "CREATE TABLE a (id int);\n"])
        defer { scratch.remove() }
        try await withTestDatabase(empty: true) { database async throws in
            try await withConnection(try await database.connect()) { connection async throws in
                _ = try await Migrator(directory: try MigrationDirectory(path: scratch.path), logger: TestEnvironment.logger).migrate(on: connection)
                try scratch.write("0001_a.sql", "CREATE TABLE a (id bigint);\n")
                try scratch.write("0002_b.sql", "CREATE TABLE b (id int);\n")
                do {
                    _ = try await Migrator(directory: try MigrationDirectory(path: scratch.path), logger: TestEnvironment.logger).migrate(on: connection)
                    Issue.record("an edited migration was accepted")
                } catch let error as GordonError {
                    #expect(error.code == .migrationChecksumMismatch)
                    #expect(error.context["file"] == "0001_a.sql")
                }
                #expect(try await scalar(connection, "SELECT to_regclass('b')::text", as: String?.self) == .some(nil))
            }
        }
    }

    @Test("two migrators at once: the second waits for the lock and then finds nothing to do")
    func concurrentMigrators() async throws {
        try await withTestDatabase(empty: true) { database async throws in
            let directory = try MigrationDirectory(path: GordonTestPaths.migrations)
            let reports = try await withThrowingTaskGroup(of: Migrator.Report.self) { group in
                for _ in 0..<2 {
                    group.addTask {
                        try await withConnection(try await database.connect()) { connection async throws in
                            try await Migrator(directory: directory, logger: TestEnvironment.logger).migrate(on: connection)
                        }
                    }
                }
                var all: [Migrator.Report] = []
                for try await report in group { all.append(report) }
                return all
            }
            #expect(reports.map(\.applied.count).sorted() == [0, directory.files.count])
        }
    }

    @Test("a migrator blocks while another session holds the lock, and proceeds once it is released")
    func lockWaits() async throws {
        try await withTestDatabase(empty: true) { database async throws in
            let directory = try MigrationDirectory(path: GordonTestPaths.migrations)
            try await withConnection(try await database.connect()) { holder async throws in
                try await holder.query("SELECT pg_advisory_lock(\(Migrator.advisoryLockKey))", logger: TestEnvironment.logger)
                let migration = Task {
                    try await withConnection(try await database.connect()) { connection async throws in
                        try await Migrator(directory: directory, logger: TestEnvironment.logger).migrate(on: connection)
                    }
                }
                // Postgres itself shows the migrator waiting on the advisory lock.
                let blocked = try await eventually {
                    try await scalar(holder, """
                        SELECT count(*)::int FROM pg_locks
                        WHERE locktype = 'advisory' AND NOT granted
                          AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
                        """, as: Int.self) == 1
                }
                #expect(blocked)
                #expect(try await scalar(holder, "SELECT to_regclass('public.schema_migrations')::text", as: String?.self) == .some(nil))
                try await holder.query("SELECT pg_advisory_unlock(\(Migrator.advisoryLockKey))", logger: TestEnvironment.logger)
                let report = try await migration.value
                #expect(report.applied.count == directory.files.count)
            }
        }
    }

    @Test("the schema check refuses a database that is behind or was never migrated")
    func schemaCheck() async throws {
        try await withTestDatabase(empty: true) { database async throws in
            try await withConnection(try await database.connect()) { connection async throws in
                await #expect {
                    try await SchemaCheck.verify(on: connection)
                } throws: { ($0 as? GordonError)?.code == .schemaBehind }
                let all = try MigrationDirectory(path: GordonTestPaths.migrations)
                let partial = try MigrationDirectory(path: all.path, files: Array(all.files.prefix(2)))
                _ = try await Migrator(directory: partial, logger: TestEnvironment.logger).migrate(on: connection)
                await #expect {
                    try await SchemaCheck.verify(on: connection)
                } throws: { error in
                    let error = error as? GordonError
                    return error?.code == .schemaBehind && error?.context["current"] == "2"
                }
                #expect(try await SchemaCheck.verify(on: connection, requiredVersion: 2) == 2)
            }
        }
    }

    @Test("the fresh install starts halted")
    func haltLatchStartsHalted() async throws {
        try await withTestDatabase { database in
            try await withConnection(try await database.connect(as: .executor)) { executor async throws in
                #expect(try await scalar(executor, "SELECT halted FROM trading.v_halt_latch", as: Bool.self) == true)
            }
        }
    }

    @Test("role passwords set by RolePassword log in, and a wrong one is refused")
    func rolePasswords() async throws {
        try await withTestDatabase { database in
            try await withConnection(try await database.connect(as: .bot)) { bot async throws in
                #expect(try await scalar(bot, "SELECT current_user::text", as: String.self) == "gordon_bot")
            }
            do {
                let connection = try await Database.connect(
                    database.url.with(username: "gordon_bot", password: Secret("wrong")), logger: TestEnvironment.logger)
                try? await connection.close()
                Issue.record("a wrong password logged in")
            } catch let error as GordonError {
                #expect(error.code == .databaseAuthFailed)
            }
        }
    }
}
