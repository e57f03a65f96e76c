import Foundation
import GordonKernel
import GordonMigrations
import GordonPostgres
import GordonTestDB
import Testing

/// gordon-migrate as an operator (and the watchdog) meets it, without the caller's own
/// database settings leaking in.
func runMigrate(_ arguments: [String], environment: [String: String] = [:]) async throws -> CommandResult {
    var env: [String: String?] = ["GORDON_DATABASE_URL": nil, "GORDON_MIGRATIONS_DIR": nil]
    for (key, value) in environment { env[key] = value }
    return try await TestCommand.run("gordon-migrate", arguments, environment: env)
}

@Suite("gordon-migrate exit codes and messages")
struct MigrateCommandTests {
    /// Exactly one line on stderr, carrying the stable error code.
    static func expectOneErrorLine(_ result: CommandResult, code: ErrorCode, mentioning words: [String] = [],
                                   sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(result.status == 1, sourceLocation: sourceLocation)
        let lines = result.stderr.split(separator: "\n")
        #expect(lines.count == 1, "stderr: \(result.stderr)", sourceLocation: sourceLocation)
        #expect(result.stderr.hasPrefix("gordon-migrate: error: \(code.rawValue)"), "stderr: \(result.stderr)", sourceLocation: sourceLocation)
        for word in words {
            #expect(result.stderr.contains(word), "stderr lacks \(word): \(result.stderr)", sourceLocation: sourceLocation)
        }
    }

    @Test("up migrates and exits 0; status lists every file as applied")
    func upAndStatus() async throws {
        try await withTestDatabase(empty: true) { database async throws in
            let url = "postgres://postgres@\(Self.hostPort(database))/\(database.name)"
            let up = try await runMigrate(["up", "--database-url", url, "--migrations", GordonTestPaths.migrations])
            #expect(up.status == 0, "\(up.stderr)")
            #expect(up.stdout.contains("schema is at version \(SchemaCheck.requiredVersion)"))
            #expect(up.stderr.isEmpty)
            // The URL and directory may also come from the environment.
            let again = try await runMigrate([], environment: ["GORDON_DATABASE_URL": url, "GORDON_MIGRATIONS_DIR": GordonTestPaths.migrations])
            #expect(again.status == 0)
            #expect(again.stdout.contains("up to date"))
            let status = try await runMigrate(["status", "--database-url", url, "--migrations", GordonTestPaths.migrations])
            #expect(status.status == 0)
            #expect(status.stdout.contains("\(SchemaCheck.requiredVersion) applied, 0 pending"))
        }
    }

    @Test("status shows pending files without applying them")
    func statusPending() async throws {
        try await withTestDatabase(empty: true) { database async throws in
            let url = "postgres://postgres@\(Self.hostPort(database))/\(database.name)"
            let status = try await runMigrate(["status", "--database-url", url, "--migrations", GordonTestPaths.migrations])
            #expect(status.status == 0)
            #expect(status.stdout.contains("pending  0001_roles_and_schemas.sql"))
            #expect(status.stdout.contains("0 applied, \(SchemaCheck.requiredVersion) pending"))
        }
    }

    @Test("a SQL error exits 1 naming file, line and Postgres's message")
    func sqlError() async throws {
        let scratch = try ScratchMigrations(["0001_bad.sql": "SELECT 1;\nSELEC 2;\n"])
        defer { scratch.remove() }
        try await withTestDatabase(empty: true) { database async throws in
            let url = "postgres://postgres@\(Self.hostPort(database))/\(database.name)"
            let result = try await runMigrate(["--database-url", url, "--migrations", scratch.path])
            Self.expectOneErrorLine(result, code: .sqlFailed, mentioning: ["0001_bad.sql", "line=2", "syntax error", "SELEC"])
        }
    }

    @Test("an unreachable server exits 1 with one line")
    func unreachable() async throws {
        let result = try await runMigrate(["--database-url", "postgres://postgres@127.0.0.1:1/gordon", "--migrations", GordonTestPaths.migrations])
        Self.expectOneErrorLine(result, code: .databaseUnreachable)
    }

    @Test("a bad URL exits 1 and does not echo the password")
    func badURL() async throws {
        let result = try await runMigrate(["--database-url", "postgres://u:topsecret@h:x/db", "--migrations", GordonTestPaths.migrations])
        Self.expectOneErrorLine(result, code: .invalidDatabaseURL, mentioning: ["port"])
        #expect(!result.stderr.contains("topsecret"))
        let missing = try await runMigrate(["--migrations", GordonTestPaths.migrations])
        Self.expectOneErrorLine(missing, code: .invalidDatabaseURL, mentioning: ["GORDON_DATABASE_URL"])
    }

    @Test("a bad file name or a duplicate version exits 1 before connecting")
    func badFiles() async throws {
        let badName = try ScratchMigrations(["001_short.sql": "SELECT 1;"])
        defer { badName.remove() }
        Self.expectOneErrorLine(
            try await runMigrate(["--database-url", "postgres://u@127.0.0.1:1/db", "--migrations", badName.path]),
            code: .invalidMigrationName, mentioning: ["001_short.sql"])
        let duplicate = try ScratchMigrations(["0001_a.sql": "SELECT 1;", "0001_b.sql": "SELECT 2;"])
        defer { duplicate.remove() }
        Self.expectOneErrorLine(
            try await runMigrate(["--database-url", "postgres://u@127.0.0.1:1/db", "--migrations", duplicate.path]),
            code: .duplicateMigrationVersion, mentioning: ["0001_a.sql", "0001_b.sql"])
        Self.expectOneErrorLine(
            try await runMigrate(["--database-url", "postgres://u@127.0.0.1:1/db", "--migrations", "/nonexistent/migrations"]),
            code: .migrationsDirectoryUnreadable)
    }

    @Test("set-password takes the password from a keyfile and refuses a keyfile others can read")
    func setPassword() async throws {
        let keys = try ScratchMigrations([:])
        defer { keys.remove() }
        let keyfile = keys.path + "/gordon-bot.key"
        let password = "pw-\(UInt64.random(in: 0...UInt64.max))"
        try keys.write("gordon-bot.key", "# gordon-bot\npostgres_password = \(password)\n")
        // Role passwords are cluster-wide: changing one on the shared server would lock out
        // every test logging in as gordon_bot at that moment, so this runs on a private one.
        let server = try await TestPostgresServer()
        let (database, _) = try await server.migratedDatabase()
        let url = "postgres://postgres@127.0.0.1:\(server.port)/gordon"
        chmod(keyfile, 0o644)
        Self.expectOneErrorLine(
            try await runMigrate(["set-password", "--database-url", url, "--role", "gordon_bot", "--keyfile", keyfile]),
            code: .keyfileTooOpen)
        chmod(keyfile, 0o400)
        Self.expectOneErrorLine(
            try await runMigrate(["set-password", "--database-url", url, "--role", "gordon_nobody", "--keyfile", keyfile]),
            code: .unknownRole)
        let result = try await runMigrate(["set-password", "--database-url", url, "--role", "gordon_bot", "--keyfile", keyfile])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(!result.stdout.contains(password) && !result.stderr.contains(password))
        let connection = try await Database.connect(
            database.with(username: "gordon_bot", password: Secret(password)), logger: TestEnvironment.logger)
        try await connection.close()
    }

    @Test("set-passwords sets each filled slot, skips empty and absent ones, and a bad slot changes nothing")
    func setPasswords() async throws {
        let keys = try ScratchMigrations([:])
        defer { keys.remove() }
        let botPassword = "pw-\(UInt64.random(in: 0...UInt64.max))"
        try keys.write("gordon-bot.key", "postgres_password = \(botPassword)\nnats_password = other\n")
        try keys.write("gordon-risk.key", "")
        chmod(keys.path + "/gordon-bot.key", 0o400)
        chmod(keys.path + "/gordon-risk.key", 0o400)
        // Cluster-wide role passwords: a private server, as in setPassword.
        let server = try await TestPostgresServer()
        let (database, _) = try await server.migratedDatabase()
        let url = "postgres://postgres@127.0.0.1:\(server.port)/gordon"
        let logsIn = { (role: String, password: String) async -> Bool in
            do {
                let connection = try await Database.connect(
                    database.with(username: role, password: Secret(password)), logger: TestEnvironment.logger)
                try await connection.close()
                return true
            } catch {
                return false
            }
        }

        let result = try await runMigrate(["set-passwords", "--database-url", url, "--keys", keys.path])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("password set for gordon_bot from \(keys.path)/gordon-bot.key"))
        #expect(result.stdout.contains("no password for gordon_risk: \(keys.path)/gordon-risk.key is empty"))
        #expect(result.stdout.contains("no password for gordon_executor: \(keys.path)/gordon-executor.key does not exist"))
        #expect(!result.stdout.contains(botPassword) && !result.stderr.contains(botPassword))
        #expect(await logsIn("gordon_bot", botPassword))
        #expect(await !logsIn("gordon_risk", botPassword))

        // A new bot password beside a risk slot others can read: refused before any change.
        try FileManager.default.removeItem(atPath: keys.path + "/gordon-bot.key")
        try keys.write("gordon-bot.key", "postgres_password = changed-\(botPassword)\n")
        chmod(keys.path + "/gordon-bot.key", 0o400)
        try FileManager.default.removeItem(atPath: keys.path + "/gordon-risk.key")
        try keys.write("gordon-risk.key", "postgres_password = risky\n")
        chmod(keys.path + "/gordon-risk.key", 0o644)
        Self.expectOneErrorLine(
            try await runMigrate(["set-passwords", "--database-url", url, "--keys", keys.path]),
            code: .keyfileTooOpen, mentioning: ["gordon-risk.key"])
        #expect(await logsIn("gordon_bot", botPassword))
        #expect(await !logsIn("gordon_bot", "changed-\(botPassword)"))
    }

    @Test("usage errors exit 1 and say what was wrong; --help exits 0")
    func usage() async throws {
        let unknown = try await runMigrate(["frobnicate"])
        #expect(unknown.status == 1)
        #expect(unknown.stderr.contains("frobnicate"))
        let help = try await runMigrate(["--help"])
        #expect(help.status == 0)
        #expect(help.stdout.contains("set-password"))
    }

    static func hostPort(_ database: TestDatabase) -> String {
        guard case .tcp(let host, let port) = database.url.endpoint else { return "127.0.0.1:5432" }
        return "\(host):\(port)"
    }
}
