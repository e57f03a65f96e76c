public import GordonKernel
import GordonMigrations
public import GordonPostgres
public import Logging
import PostgresNIO

/// A fresh, migrated database on a throwaway server, and the URL `role` logs into it with:
/// each benchmark run starts from an empty schema.
public func throwawayDatabase(adminURL: String, migrations: String, role: DatabaseRole, logger: Logger) async throws -> DatabaseURL {
    let admin = try DatabaseURL(parsing: adminURL)
    let database = "bench_\(UInt32.random(in: 0...UInt32.max))"
    try await Database.withConnection(admin, logger: logger) { connection in
        try await connection.query("CREATE DATABASE \(unescaped: database)", logger: logger)
    }
    let password = Secret(String(UInt64.random(in: 0...UInt64.max), radix: 36) + "Bench")
    try await Database.withConnection(admin.with(database: database), logger: logger) { connection in
        _ = try await Migrator(directory: try MigrationDirectory(path: migrations), logger: logger).migrate(on: connection)
        try await RolePassword.set(role: role, password: password, on: connection)
    }
    return admin.with(database: database).with(username: role.rawValue, password: password)
}
