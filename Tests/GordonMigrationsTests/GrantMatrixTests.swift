import GordonMigrations
import GordonTestDB
import PostgresNIO
import Testing

/// DESIGN §5 as a table: which role may do what to which relation. Anything not listed is
/// refused. S = SELECT, I = INSERT, U = UPDATE of every non-key column, D = DELETE,
/// T = TRUNCATE. Column-level grants narrower than a whole row are in ColumnGrantTests.
let expectedGrants: [String: [DatabaseRole: String]] = [
    "market_data.klines": [.dataWriter: "I"],
    "market_data.metrics": [.dataWriter: "I"],
    "market_data.macro_series": [.dataWriter: "I"],
    "market_data.funding_rates": [.dataWriter: "I"],
    "market_data.open_interest": [.dataWriter: "I"],
    "market_data.backfill_requests": [.manager: "I"],  // manager: SELECT (id); data: SELECT and UPDATE of columns, ColumnGrantTests
    "market_data.v_backfill_requests": [.manager: "S", .dataWriter: "S"],
    "market_data.v_klines_reader": [.dataWriter: "S", .risk: "S", .manager: "S", .labReader: "S"],
    "market_data.v_metrics_reader": [.dataWriter: "S", .risk: "S", .manager: "S", .labReader: "S"],
    "market_data.v_macro_reader": [.dataWriter: "S", .manager: "S", .labReader: "S"],
    "market_data.v_funding_rates_reader": [.dataWriter: "S", .manager: "S", .labReader: "S"],
    "market_data.v_open_interest_reader": [.dataWriter: "S", .manager: "S", .labReader: "S"],

    "trading.bot_configs": [.manager: "I", .labReader: "S"],
    "trading.bot_leases": [.bot: "SIU", .labReader: "S"],
    "trading.order_intents": [.bot: "I", .labReader: "S"],  // the executor may insert only flatten intents (0013), not this row
    "trading.orders": [.executor: "SIU", .labReader: "S"],
    "trading.trades": [.executor: "SIU", .labReader: "S"],
    "trading.order_events": [.executor: "IU", .labReader: "S"],
    "trading.fill_events": [.executor: "IU", .labReader: "S"],
    "trading.positions": [.executor: "SIU", .labReader: "S"],
    "trading.risk_events": [.risk: "I", .labReader: "S"],
    "trading.risk_audit_log": [.risk: "I", .labReader: "S"],
    "trading.halt_latch": [.risk: "SU", .labReader: "S"],
    "trading.risk_state": [.risk: "SU", .labReader: "S"],
    "trading.operator_requests": [.manager: "SI", .risk: "S", .labReader: "S"],  // risk: UPDATE (handled_at, outcome), ColumnGrantTests
    "trading.runs": [.manager: "I", .labReader: "S"],
    "trading.equity_points": [.manager: "I", .labReader: "S"],
    "trading.outbox": [.executor: "SIUD", .risk: "SIUD", .manager: "SIUD", .bot: "SIUD", .labReader: "S"],
    "trading.processed_events": [.executor: "SID", .risk: "SID", .manager: "SID", .bot: "SID", .labReader: "S"],
    "trading.dead_letters": [.executor: "SI", .risk: "SI", .manager: "SI", .bot: "SI", .labReader: "S"],
    "public.schema_migrations": [.dataWriter: "S", .executor: "S", .risk: "S", .manager: "S", .bot: "S", .labReader: "S"],

    "trading.v_bot_configs": [.executor: "S", .risk: "S", .manager: "S", .labReader: "S"],
    "trading.bot_roles": [.labReader: "S"],
    "trading.v_own_bot_config": [.bot: "S", .labReader: "S"],
    "trading.v_own_bot_positions": [.bot: "S", .labReader: "S"],
    "trading.v_own_bot_intents": [.bot: "S", .labReader: "S"],
    "trading.v_own_bot_orders": [.bot: "S", .labReader: "S"],
    "trading.v_bot_leases": [.manager: "S", .labReader: "S"],
    "trading.v_order_intents": [.executor: "S", .manager: "S", .labReader: "S"],
    "trading.v_orders": [.risk: "S", .manager: "S", .labReader: "S"],
    "trading.v_trades": [.risk: "S", .manager: "S", .labReader: "S"],
    "trading.v_positions": [.risk: "S", .manager: "S", .labReader: "S"],
    "trading.v_halt_latch": [.executor: "S", .manager: "S", .labReader: "S"],
    "trading.v_risk_events": [.risk: "S", .manager: "S", .labReader: "S"],
    "trading.v_risk_state": [.manager: "S", .labReader: "S"],
    "trading.v_risk_audit_log": [.manager: "S", .labReader: "S"],
    "trading.v_runs": [.manager: "S", .labReader: "S"],
    "trading.v_equity_points": [.manager: "S", .labReader: "S"],
]

enum Privilege: Character, CaseIterable, Sendable {
    case select = "S", insert = "I", update = "U", delete = "D", truncate = "T"

    func statement(for relation: Relation) -> String {
        switch self {
        case .select: "SELECT * FROM \(relation.name) LIMIT 1"
        case .insert: relation.insertSQL
        case .update: relation.updateSQL
        case .delete: "DELETE FROM \(relation.name)"
        case .truncate: "TRUNCATE \(relation.name)"
        }
    }

    /// TRUNCATE does not apply to views at all (Postgres says "is not a table").
    func applies(to relation: Relation) -> Bool { !(relation.isView && self == .truncate) }
}

struct Outcome: Sendable, CustomStringConvertible {
    let role: DatabaseRole
    let relation: String
    let privilege: Privilege
    let expectedAllowed: Bool
    let sqlState: String?  // nil: the statement succeeded

    var description: String {
        "\(role.rawValue) \(privilege) \(relation): expected \(expectedAllowed ? "allowed" : "refused"), got \(sqlState.map { "SQLSTATE \($0)" } ?? "success")"
    }
}

@Suite("Grant matrix: every role × every relation × every privilege")
struct GrantMatrixTests {
    @Test("the expected table names every table and view the migrations create, and no other")
    func coversEveryRelation() async throws {
        try await withTestDatabase { database in
            try await withConnection(try await database.connect()) { connection async throws in
                let rows = try await connection.query("""
                    SELECT table_schema || '.' || table_name FROM information_schema.tables
                    WHERE table_schema IN ('market_data', 'trading')
                       OR (table_schema = 'public' AND table_name = 'schema_migrations')
                    """, logger: TestEnvironment.logger)
                var existing: Set<String> = []
                for try await (name,) in rows.decode((String,).self) { existing.insert(name) }
                #expect(existing == Set(expectedGrants.keys))
                #expect(existing == Set(Fixtures.relations.map(\.name)))
            }
        }
    }

    @Test("each allowed statement succeeds; each forbidden one fails with SQLSTATE 42501")
    func matrix() async throws {
        let outcomes = try await withTestDatabase { database in
            try await withConnection(try await database.connect()) { admin async throws in
                for relation in Fixtures.tables where !relation.seed.isEmpty {
                    try await admin.query(PostgresQuery(unsafeSQL: relation.seedSQL), logger: TestEnvironment.logger)
                }
                for sql in Fixtures.supportingRows {
                    try await admin.query(PostgresQuery(unsafeSQL: sql), logger: TestEnvironment.logger)
                }
            }
            return try await withThrowingTaskGroup(of: [Outcome].self) { group in
                for role in DatabaseRole.allCases {
                    group.addTask { try await GrantMatrixTests.run(role: role, in: database) }
                }
                var all: [Outcome] = []
                for try await outcomes in group { all += outcomes }
                return all
            }
        }

        let allowed = outcomes.filter(\.expectedAllowed)
        let refused = outcomes.filter { !$0.expectedAllowed }
        for outcome in allowed {
            #expect(outcome.sqlState == nil, "\(outcome)")
        }
        for outcome in refused {
            #expect(outcome.sqlState == "42501", "\(outcome)")
        }
        let expectedCount = DatabaseRole.allCases.count
            * Fixtures.relations.reduce(0) { total, relation in total + Privilege.allCases.filter { $0.applies(to: relation) }.count }
        #expect(outcomes.count == expectedCount)
        print("grant matrix: \(outcomes.count) statements, \(allowed.count) allowed, \(refused.count) refused")
    }

    /// One login connection per role; each statement in its own rolled-back transaction so
    /// the statements cannot affect each other.
    static func run(role: DatabaseRole, in database: TestDatabase) async throws -> [Outcome] {
        try await withConnection(try await database.connect(as: role)) { connection async throws in
            var outcomes: [Outcome] = []
            for relation in Fixtures.relations {
                let granted = expectedGrants[relation.name]?[role] ?? ""
                for privilege in Privilege.allCases where privilege.applies(to: relation) {
                    try await connection.query("BEGIN", logger: TestEnvironment.logger)
                    var sqlState: String?
                    do {
                        try await connection.query(PostgresQuery(unsafeSQL: privilege.statement(for: relation)), logger: TestEnvironment.logger)
                    } catch let error as PSQLError {
                        sqlState = error.serverInfo?[.sqlState] ?? "client:\(error.code)"
                    }
                    try await connection.query("ROLLBACK", logger: TestEnvironment.logger)
                    outcomes.append(Outcome(
                        role: role, relation: relation.name, privilege: privilege,
                        expectedAllowed: granted.contains(privilege.rawValue), sqlState: sqlState))
                }
            }
            return outcomes
        }
    }
}
