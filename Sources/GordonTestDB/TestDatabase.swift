#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import GordonKernel
public import GordonMigrations
public import GordonPostgres
public import Logging
public import PostgresNIO

/// A fresh database for one test, cloned from a template migrated once per test process.
///
/// The server is the throwaway cluster `scripts/test` starts; its superuser URL arrives in
/// `GORDON_TEST_DATABASE_URL`. Each role's login is real: the template run gives the six
/// roles random passwords for this process, and `connect(as:)` logs in with them, so
/// every privilege a test sees is enforced by Postgres exactly as in production.
public struct TestDatabase: Sendable {
    public let name: String
    /// Superuser URL of this database.
    public let url: DatabaseURL

    /// A clone of the migrated template.
    public static func create() async throws -> TestDatabase {
        let template = try await Template.shared.ensure()
        return try await make(template: template.name)
    }

    /// An empty database with no Gordon schema at all, for migrator tests.
    public static func createEmpty() async throws -> TestDatabase {
        try await make(template: "template0")
    }

    private static func make(template: String) async throws -> TestDatabase {
        let admin = try TestEnvironment.adminURL()
        let name = "gordon_test_\(UInt64.random(in: 0...UInt64.max) & 0xFFFF_FFFF_FFFF)"
        try await Database.withConnection(admin, logger: TestEnvironment.logger) { connection in
            try await connection.query("CREATE DATABASE \(unescaped: name) TEMPLATE \(unescaped: template)", logger: TestEnvironment.logger)
            // CREATE DATABASE copies the template's contents but not its own ACL, which is
            // where 0001 revoked PUBLIC's CONNECT; copy it so the clone is the real thing.
            try await connection.query("""
                UPDATE pg_database SET datacl = (SELECT datacl FROM pg_database WHERE datname = \(template))
                WHERE datname = \(name)
                """, logger: TestEnvironment.logger)
        }
        return TestDatabase(name: name, url: admin.with(database: name))
    }

    /// A superuser connection (the migrator's rights).
    public func connect() async throws -> PostgresConnection {
        try await Database.connect(url, logger: TestEnvironment.logger)
    }

    /// A connection that logs in as `role` with its password, as the service would.
    public func connect(as role: DatabaseRole) async throws -> PostgresConnection {
        let template = try await Template.shared.ensure()
        guard let password = template.passwords[role] else {
            throw GordonError(.internalInvariant, "no test password for \(role.rawValue)")
        }
        return try await Database.connect(url.with(username: role.rawValue, password: password), logger: TestEnvironment.logger)
    }

    /// The URL a service logs in with as `role`, password included (tests pass it to child
    /// processes through a keyfile).
    public func url(as role: DatabaseRole) async throws -> DatabaseURL {
        let template = try await Template.shared.ensure()
        guard let password = template.passwords[role] else {
            throw GordonError(.internalInvariant, "no test password for \(role.rawValue)")
        }
        return url.with(username: role.rawValue, password: password)
    }

    /// The URL bot `botId` logs in with: its own role (`gordon-migrate add-bot`), created in
    /// the cluster if missing and recorded in this database's `trading.bot_roles`.
    ///
    /// Roles belong to the cluster, so every test process derives the same password from
    /// `GORDON_TEST_ROLE_PASSWORD`, and a bot's role is made or updated one at a time.
    public func url(asBot botId: String) async throws -> DatabaseURL {
        let template = try await Template.shared.ensure()
        let password = Secret((TestEnvironment.variable("GORDON_TEST_ROLE_PASSWORD") ?? "\(template.name)") + "_bot_\(botId)")
        let role = try await BotRoles.shared.ensure(botId: botId, password: password, in: self)
        return url.with(username: role, password: password)
    }

    /// A connection as bot `botId`'s own role (see `url(asBot:)`).
    public func connect(asBot botId: String) async throws -> PostgresConnection {
        try await Database.connect(try await url(asBot: botId), logger: TestEnvironment.logger)
    }

    public func drop() async throws {
        let admin = try TestEnvironment.adminURL()
        try await Database.withConnection(admin, logger: TestEnvironment.logger) { connection in
            try await connection.query("DROP DATABASE IF EXISTS \(unescaped: name) WITH (FORCE)", logger: TestEnvironment.logger)
        }
    }
}

/// Runs `body` with a fresh clone and drops it afterwards, also when `body` throws.
@discardableResult
public func withTestDatabase<T: Sendable>(
    empty: Bool = false, _ body: (TestDatabase) async throws -> T
) async throws -> T {
    let database = empty ? try await TestDatabase.createEmpty() : try await TestDatabase.create()
    do {
        let result = try await body(database)
        try await database.drop()
        return result
    } catch {
        try? await database.drop()
        throw error
    }
}

/// Runs `body` with a connection and closes it afterwards, also when `body` throws.
@discardableResult
public func withConnection<T: Sendable>(
    _ connect: @autoclosure () async throws -> PostgresConnection, _ body: (PostgresConnection) async throws -> T
) async throws -> T {
    let connection = try await connect()
    do {
        let result = try await body(connection)
        try await connection.close()
        return result
    } catch {
        try? await connection.close()
        throw error
    }
}

public enum TestEnvironment {
    public static let logger = Logger(label: "gordon.testdb")

    public static func adminURL() throws -> DatabaseURL {
        guard let text = variable("GORDON_TEST_DATABASE_URL") else {
            throw GordonError(
                .invalidDatabaseURL,
                "GORDON_TEST_DATABASE_URL is not set: run the tests through scripts/test, which starts a throwaway PostgreSQL")
        }
        return try DatabaseURL(parsing: text)
    }

    /// The repository's `migrations/`: from GORDON_MIGRATIONS_DIR, else found from this
    /// source file's location in the checkout.
    public static var migrationsDirectory: String {
        if let path = variable("GORDON_MIGRATIONS_DIR") { return path }
        return repositoryRoot + "/migrations"
    }

    /// The checkout these tests were built from.
    public static var repositoryRoot: String {
        let file = #filePath
        return file.split(separator: "/", omittingEmptySubsequences: false).dropLast(3).joined(separator: "/")
    }

    public static func variable(_ name: String) -> String? {
        ProcessEnvironment.variable(name).flatMap { $0.isEmpty ? nil : $0 }
    }
}

/// Bot roles are made one at a time: two tests adding the same bot must not race on CREATE ROLE.
actor BotRoles {
    static let shared = BotRoles()

    func ensure(botId: String, password: Secret, in database: TestDatabase) async throws -> String {
        try await withRoleLock {
            try await Database.withConnection(database.url, logger: TestEnvironment.logger) { connection in
                try await BotRole.ensure(botId: botId, password: password, on: connection, logger: TestEnvironment.logger)
            }
        }
    }
}

/// Runs `body` holding a lock every test process on the cluster shares. Roles belong to the
/// cluster, and two sessions changing one role at once fail ("tuple concurrently updated"):
/// the test processes that start together each set the service roles' passwords, so they
/// take turns. The lock is an advisory lock in the `postgres` database, which every process
/// can reach, held by a session of its own (closing it releases the lock).
func withRoleLock<T: Sendable>(_ body: () async throws -> T) async throws -> T {
    let logger = TestEnvironment.logger
    let lock = try await Database.connect(try TestEnvironment.adminURL().with(database: "postgres"), logger: logger)
    do {
        try await lock.query("SELECT pg_advisory_lock(7262007)", logger: logger)
        let result = try await body()
        try await lock.close()
        return result
    } catch {
        try? await lock.close()
        throw error
    }
}

/// The migrated template, built once per test process however many tests ask at once.
actor Template {
    static let shared = Template()

    struct Ready: Sendable {
        let name: String
        let passwords: [DatabaseRole: Secret]
    }

    private var ready: Task<Ready, any Error>?

    func ensure() async throws -> Ready {
        if let ready { return try await ready.value }
        let task = Task { try await Template.build() }
        ready = task
        return try await task.value
    }

    private static func build() async throws -> Ready {
        let admin = try TestEnvironment.adminURL()
        let name = "gordon_template_\(getpid())"
        let logger = TestEnvironment.logger
        try await Database.withConnection(admin, logger: logger) { connection in
            try await connection.query("DROP DATABASE IF EXISTS \(unescaped: name) WITH (FORCE)", logger: logger)
            try await connection.query("CREATE DATABASE \(unescaped: name)", logger: logger)
        }
        return Ready(name: name, passwords: try await migrate(admin.with(database: name)))
    }

    /// Migrates the database at `url` (a superuser URL) and gives every role a fresh random
    /// password, returned so tests can log in as each service would.
    static func migrate(_ url: DatabaseURL) async throws -> [DatabaseRole: Secret] {
        let logger = TestEnvironment.logger
        let directory = try MigrationDirectory(path: TestEnvironment.migrationsDirectory)
        var passwords: [DatabaseRole: Secret] = [:]
        // Roles belong to the cluster, not the database: test processes sharing one cluster
        // must all set the same passwords, which scripts/test hands them.
        let shared = TestEnvironment.variable("GORDON_TEST_ROLE_PASSWORD")
        for role in DatabaseRole.allCases {
            var generator = SystemRandomNumberGenerator()
            let random = (0..<4).map { _ in String(generator.next() as UInt64, radix: 36) }.joined()
            passwords[role] = Secret(shared.map { "\($0)_\(role.rawValue)" } ?? random)
        }
        try await Database.withConnection(url, logger: logger) { [passwords] connection in
            _ = try await Migrator(directory: directory, logger: logger).migrate(on: connection)
            try await withRoleLock {
                for (role, password) in passwords {
                    try await RolePassword.set(role: role, password: password, on: connection)
                }
            }
        }
        return passwords
    }
}
