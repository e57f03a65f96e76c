import GordonKernel
import GordonMigrations
import GordonPostgres
import GordonTestDB
import PostgresNIO
import Testing

/// Grants narrower than a row, row-level security on the outbox, default privileges on
/// future tables, and what PUBLIC (a role Gordon never granted anything) can do.
@Suite("Column grants, row security and PUBLIC")
struct ColumnGrantTests {
    static func sqlState(_ connection: PostgresConnection, _ sql: String) async throws -> String? {
        try await connection.query("BEGIN", logger: TestEnvironment.logger)
        do {
            try await connection.query(PostgresQuery(unsafeSQL: sql), logger: TestEnvironment.logger)
            try await connection.query("ROLLBACK", logger: TestEnvironment.logger)
            return nil
        } catch let error as PSQLError {
            try await connection.query("ROLLBACK", logger: TestEnvironment.logger)
            return error.serverInfo?[.sqlState] ?? "client:\(error.code)"
        }
    }

    static func seedBots(_ database: TestDatabase) async throws {
        try await withConnection(try await database.connect()) { admin async throws in
            try await admin.query(PostgresQuery(unsafeSQL: Fixtures.botConfigs.seedSQL), logger: TestEnvironment.logger)
            try await admin.query(PostgresQuery(unsafeSQL: Fixtures.runs.seedSQL), logger: TestEnvironment.logger)
        }
    }

    @Test("gordon_risk may update bot_configs.desired_state and no other column")
    func riskDesiredStateOnly() async throws {
        try await withTestDatabase { database in
            try await Self.seedBots(database)
            try await withConnection(try await database.connect(as: .risk)) { risk async throws in
                let update = try await risk.query(
                    "UPDATE trading.bot_configs SET desired_state = 'paused' WHERE bot_id = 'bot-a' RETURNING bot_id",
                    logger: TestEnvironment.logger)
                var updated: [String] = []
                for try await (bot,) in update.decode((String,).self) { updated.append(bot) }
                #expect(updated == ["bot-a"])
                for column in ["strategy = 'x'", "parameters = '{}'", "symbols = ARRAY['ETHUSDT']", "interval = '1m'",
                               "max_quote_exposure = 1", "updated_at = now()", "created_at = now()", "bot_id = 'z'"] {
                    let state = try await Self.sqlState(risk, "UPDATE trading.bot_configs SET \(column) WHERE bot_id = 'bot-a'")
                    #expect(state == "42501", "risk updating \(column)")
                }
                #expect(try await Self.sqlState(risk, "SELECT parameters FROM trading.bot_configs") == "42501")
            }
            try await withConnection(try await database.connect()) { admin async throws in
                let rows = try await admin.query("SELECT desired_state FROM trading.bot_configs WHERE bot_id = 'bot-a'", logger: TestEnvironment.logger)
                var states: [String] = []
                for try await (state,) in rows.decode((String,).self) { states.append(state) }
                #expect(states == ["paused"])
            }
        }
    }

    @Test("gordon_manager files backfills; gordon-data writes only how each goes, never what was asked or by whom")
    func backfillRequestColumns() async throws {
        try await withTestDatabase { database in
            try await withConnection(try await database.connect(as: .manager)) { manager async throws in
                #expect(try await Self.sqlState(manager, """
                    INSERT INTO market_data.backfill_requests (symbol, interval, from_time, to_time, requested_by, file_name)
                    VALUES ('BTCUSDT', '1m', now() - interval '1 day', now(), 'operator:alice', repeat('ab', 32) || '.zip')
                    """) == nil)
                #expect(try await Self.sqlState(manager, """
                    INSERT INTO market_data.backfill_requests (symbol, interval, from_time, to_time, requested_by, file_name)
                    VALUES ('BTCUSDT', '1m', now() - interval '1 day', now(), 'operator:alice', '../../etc/passwd')
                    """) == "23514")
                #expect(try await Self.sqlState(manager, "UPDATE market_data.backfill_requests SET status = 'succeeded'") == "42501")
                #expect(try await Self.sqlState(manager, "SELECT requested_by FROM market_data.backfill_requests") == "42501")
                #expect(try await Self.sqlState(manager, "SELECT requested_by FROM market_data.v_backfill_requests") == nil)
            }
            try await withConnection(try await database.connect(as: .dataWriter)) { data async throws in
                #expect(try await Self.sqlState(data, """
                    UPDATE market_data.backfill_requests SET status = 'succeeded', fetched = 10, written = 10, progress = 100, error = NULL,
                           started_at = now(), finished_at = now()
                    """) == nil)
                // It reads which file to import, and may not point a request at another.
                #expect(try await Self.sqlState(data, "SELECT id, file_name FROM market_data.backfill_requests") == nil)
                for column in ["symbol = 'ETHUSDT'", "from_time = now()", "requested_by = 'mallory'", "file_name = NULL"] {
                    #expect(try await Self.sqlState(data, "UPDATE market_data.backfill_requests SET \(column)") == "42501", "data updating \(column)")
                }
                #expect(try await Self.sqlState(data, """
                    INSERT INTO market_data.backfill_requests (symbol, interval, from_time, to_time, requested_by)
                    VALUES ('BTCUSDT', '1m', now(), now(), 'x')
                    """) == "42501")
            }
        }
    }

    @Test("gordon_manager may finish a run but not rewrite what it ran")
    func managerRunColumns() async throws {
        try await withTestDatabase { database in
            try await Self.seedBots(database)
            try await withConnection(try await database.connect(as: .manager)) { manager async throws in
                #expect(try await Self.sqlState(manager, """
                    UPDATE trading.runs SET status = 'succeeded', summary = '{"sharpe": 1.2}', finished_at = now(), progress = 100, error = NULL
                    WHERE run_id = \(Fixtures.uuid(41))
                    """) == nil)
                for column in ["strategy = 'x'", "parameters = '{}'", "from_time = now()", "kind = 'paper'", "requested_by = 'mallory'"] {
                    #expect(try await Self.sqlState(manager, "UPDATE trading.runs SET \(column)") == "42501", "manager updating \(column)")
                }
                #expect(try await Self.sqlState(manager, "UPDATE trading.bot_configs SET desired_state = 'running' WHERE bot_id = 'bot-a'") == nil)
                #expect(try await Self.sqlState(manager, "UPDATE trading.bot_configs SET created_at = now()") == "42501")
            }
        }
    }

    @Test("gordon_risk may say how an operator's request was handled, but not rewrite what was asked or by whom")
    func riskOperatorRequestColumns() async throws {
        try await withTestDatabase { database in
            try await withConnection(try await database.connect(as: .manager)) { manager async throws in
                #expect(try await Self.sqlState(manager, """
                    INSERT INTO trading.operator_requests (action, reason, requested_by) VALUES ('resume', 'checked', 'alice (uid 1000)')
                    """) == nil)
                try await manager.query("""
                    INSERT INTO trading.operator_requests (action, reason, requested_by) VALUES ('resume', 'checked', 'alice (uid 1000)')
                    """, logger: TestEnvironment.logger)
                // The manager files requests; only risk says what came of them.
                #expect(try await Self.sqlState(manager, "UPDATE trading.operator_requests SET outcome = 'done', handled_at = now()") == "42501")
                // A bot command names its bot, a portfolio command names none.
                #expect(try await Self.sqlState(manager, """
                    INSERT INTO trading.operator_requests (action, reason, requested_by) VALUES ('pause_bot', 'why', 'alice')
                    """) == "23514")
            }
            try await withConnection(try await database.connect(as: .risk)) { risk async throws in
                #expect(try await Self.sqlState(risk, "UPDATE trading.operator_requests SET outcome = 'done', handled_at = now()") == nil)
                for column in ["action = 'halt'", "reason = 'x'", "requested_by = 'mallory'", "target = 'bot-a'", "requested_at = now()"] {
                    #expect(try await Self.sqlState(risk, "UPDATE trading.operator_requests SET \(column)") == "42501", "risk updating \(column)")
                }
                #expect(try await Self.sqlState(risk, """
                    INSERT INTO trading.operator_requests (action, reason, requested_by) VALUES ('resume', 'forged', 'breaker:drawdown')
                    """) == "42501")
            }
        }
    }

    @Test("outbox rows are visible and claimable only by the role that wrote them")
    func outboxRowSecurity() async throws {
        try await withTestDatabase { database in
            try await withConnection(try await database.connect(as: .executor)) { executor async throws in
                try await executor.query(PostgresQuery(unsafeSQL: Fixtures.outbox.insertSQL), logger: TestEnvironment.logger)
                let own = try await executor.query("SELECT count(*) FROM trading.outbox", logger: TestEnvironment.logger)
                for try await (count,) in own.decode((Int,).self) { #expect(count == 1) }
            }
            try await withConnection(try await database.connect(as: .bot)) { bot async throws in
                let rows = try await bot.query("SELECT count(*) FROM trading.outbox", logger: TestEnvironment.logger)
                for try await (count,) in rows.decode((Int,).self) { #expect(count == 0) }
                let updated = try await bot.query("UPDATE trading.outbox SET sent_at = now() RETURNING id", logger: TestEnvironment.logger)
                var ids: [Int] = []
                for try await (id,) in updated.decode((Int,).self) { ids.append(id) }
                #expect(ids.isEmpty)
                // Writing a row in another producer's name is refused by the policy (42501).
                #expect(try await Self.sqlState(bot, """
                    INSERT INTO trading.outbox (producer, subject, event_id, event_type, payload, ordering_key)
                    VALUES ('gordon_risk', 'gordon.risk.command.all', \(Fixtures.uuid(99)), 'risk_command', '\\x00', 'all')
                    """) == "42501")
            }
            try await withConnection(try await database.connect(as: .labReader)) { lab async throws in
                let rows = try await lab.query("SELECT count(*) FROM trading.outbox", logger: TestEnvironment.logger)
                for try await (count,) in rows.decode((Int,).self) { #expect(count == 1) }
            }
        }
    }

    @Test("a table added later in trading is readable and never writable by the lab reader")
    func labReaderDefaultPrivileges() async throws {
        try await withTestDatabase { database in
            try await withConnection(try await database.connect()) { admin async throws in
                try await admin.query("CREATE TABLE trading.later_table (id integer PRIMARY KEY)", logger: TestEnvironment.logger)
                try await admin.query("CREATE TABLE market_data.later_table (id integer PRIMARY KEY)", logger: TestEnvironment.logger)
            }
            try await withConnection(try await database.connect(as: .labReader)) { lab async throws in
                #expect(try await Self.sqlState(lab, "SELECT * FROM trading.later_table") == nil)
                for statement in ["INSERT INTO trading.later_table VALUES (1)", "UPDATE trading.later_table SET id = 2",
                                  "DELETE FROM trading.later_table", "TRUNCATE trading.later_table",
                                  "SELECT * FROM market_data.later_table"] {
                    #expect(try await Self.sqlState(lab, statement) == "42501", "\(statement)")
                }
            }
            try await withConnection(try await database.connect(as: .bot)) { bot async throws in
                #expect(try await Self.sqlState(bot, "SELECT * FROM trading.later_table") == "42501")
            }
        }
    }

    @Test("PUBLIC gets nothing: a role Gordon never granted cannot even connect")
    func publicGetsNothing() async throws {
        try await withTestDatabase { database in
            let name = "gordon_stranger_\(UInt32.random(in: 0...UInt32.max))"
            let password = "stranger-\(UInt64.random(in: 0...UInt64.max))"
            try await withConnection(try await database.connect()) { admin async throws in
                try await admin.query(PostgresQuery(unsafeSQL: "CREATE ROLE \(name) LOGIN PASSWORD '\(password)'"), logger: TestEnvironment.logger)
            }
            do {
                let connection = try await Database.connect(
                    database.url.with(username: name, password: .init(password)), logger: TestEnvironment.logger)
                try? await connection.close()
                Issue.record("a role without CONNECT logged in")
            } catch let error as GordonError {
                #expect(error.context["sqlstate"] == "42501")
            }
            // Even with CONNECT, nothing in Gordon's schemas is visible to it.
            try await withConnection(try await database.connect()) { admin async throws in
                try await admin.query(PostgresQuery(unsafeSQL: "GRANT CONNECT ON DATABASE \(database.name) TO \(name)"), logger: TestEnvironment.logger)
            }
            try await withConnection(try await Database.connect(
                database.url.with(username: name, password: .init(password)), logger: TestEnvironment.logger)) { stranger async throws in
                for statement in ["SELECT * FROM trading.v_orders", "SELECT * FROM market_data.v_klines_reader",
                                  "SELECT * FROM public.schema_migrations", "SELECT trading.outbox_notify()"] {
                    #expect(try await Self.sqlState(stranger, statement) == "42501", "\(statement)")
                }
            }
            try await withConnection(try await database.connect()) { admin async throws in
                try await admin.query(PostgresQuery(unsafeSQL: "REVOKE CONNECT ON DATABASE \(database.name) FROM \(name)"), logger: TestEnvironment.logger)
                try await admin.query(PostgresQuery(unsafeSQL: "DROP ROLE \(name)"), logger: TestEnvironment.logger)
            }
        }
    }

    @Test("no runtime role holds SELECT on any market_data base table")
    func noMarketDataBaseTableReads() async throws {
        try await withTestDatabase { database in
            try await withConnection(try await database.connect()) { admin async throws in
                let rows = try await admin.query("""
                    SELECT r.rolname, c.relname FROM pg_class c
                    JOIN pg_namespace n ON n.oid = c.relnamespace
                    CROSS JOIN pg_roles r
                    WHERE n.nspname = 'market_data' AND c.relkind IN ('r', 'p')
                      AND r.rolname LIKE 'gordon\\_%'
                      AND has_table_privilege(r.oid, c.oid, 'SELECT')
                    """, logger: TestEnvironment.logger)
                var offenders: [String] = []
                for try await (role, table) in rows.decode((String, String).self) { offenders.append("\(role):\(table)") }
                #expect(offenders.isEmpty)
            }
        }
    }
}
