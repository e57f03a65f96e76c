public import GordonKernel
import GordonPostgres
public import Logging
public import PostgresNIO

/// A bot's own login role (`gordon-migrate add-bot`): `gordon_bot_<bot>`, a member of
/// `gordon_bot`, recorded in `trading.bot_roles` so the row-level policies of migration 0011
/// key every bot table to it. Repeating the command sets the password again and changes
/// nothing else.
public enum BotRole {
    /// The role for `botId`, which must be a bot id short enough for a PostgreSQL name.
    public static func roleName(for botId: String) throws(GordonError) -> String {
        guard botId.utf8.count <= 52, let first = botId.utf8.first, isLowerOrDigit(first),
              botId.utf8.allSatisfy({ isLowerOrDigit($0) || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "-") }) else {
            throw GordonError(.unknownRole, "'\(botId)' is not a bot id for a role: 1 to 52 of a-z, 0-9, _ and -, starting with a letter or digit")
        }
        return "gordon_bot_\(botId)"
    }

    /// Creates (or keeps) the role, sets its password and records it, in one transaction.
    @discardableResult
    public static func ensure(botId: String, password: Secret, on connection: PostgresConnection,
                              logger: Logger) async throws(GordonError) -> String {
        let role = try roleName(for: botId)
        do {
            try await connection.query("BEGIN", logger: logger)
            // Role DDL takes no bind parameters; the name is checked above and double-quoted.
            var exists = false
            for try await _ in try await connection.query("SELECT 1 FROM pg_roles WHERE rolname = \(role)", logger: logger) {
                exists = true
            }
            if !exists {
                _ = try await connection.query(PostgresQuery(unsafeSQL: "CREATE ROLE \"\(role)\" LOGIN IN ROLE gordon_bot"), logger: logger)
            }
            try await RolePassword.set(roleName: role, password: password, on: connection)
            try await connection.query("""
                INSERT INTO trading.bot_roles (bot_id, role_name) VALUES (\(botId), \(role))
                ON CONFLICT (bot_id) DO UPDATE SET role_name = EXCLUDED.role_name
                """, logger: logger)
            try await connection.query("COMMIT", logger: logger)
        } catch {
            _ = try? await connection.query("ROLLBACK", logger: logger)
            if let error = error as? GordonError { throw error }
            throw PostgresFailure.map(error, context: ["operation": "add bot role", "bot": botId])
        }
        return role
    }

    private static func isLowerOrDigit(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
    }
}
