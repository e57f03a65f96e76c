public import GordonKernel
public import PostgresNIO

/// The start-up check every service runs (DESIGN §5): refuse to start against a schema
/// that is behind the binary.
public enum SchemaCheck {
    /// The highest migration this build of Gordon was written against. A test keeps it
    /// equal to the newest file in `migrations/`, so adding a migration means raising it.
    public static let requiredVersion = 21

    /// Throws `schemaBehind` when the database lacks migrations this binary needs. A database
    /// ahead of the binary is accepted: migrations are additive, and an older service keeps
    /// working while a newer one is rolled out.
    public static func verify(
        on connection: PostgresConnection, requiredVersion: Int = SchemaCheck.requiredVersion
    ) async throws(GordonError) -> Int {
        let current: Int
        do {
            let rows = try await connection.run("""
                SELECT coalesce(max(version), 0) FROM public.schema_migrations
                """)
            var found = 0
            for try await (version,) in rows.decode((Int,).self) { found = version }
            current = found
        } catch {
            let mapped = PostgresFailure.map(error)
            // An unmigrated database has no ledger at all (42P01): that is "behind", not a crash.
            if mapped.context["sqlstate"] == "42P01" {
                throw GordonError(
                    .schemaBehind, "database has no schema_migrations table; run gordon-migrate",
                    context: ["required": String(requiredVersion)])
            }
            throw mapped
        }
        guard current >= requiredVersion else {
            throw GordonError(
                .schemaBehind,
                "database schema is at version \(current) but this binary needs \(requiredVersion); run gordon-migrate",
                context: ["current": String(current), "required": String(requiredVersion)])
        }
        return current
    }
}
