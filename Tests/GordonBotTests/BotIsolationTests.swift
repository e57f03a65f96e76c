import GordonKernel
import GordonPostgres
import GordonTestDB
import PostgresNIO
import Testing

/// Each bot logs in as its own role (`gordon-migrate add-bot`), and PostgreSQL keeps it to its
/// own rows: a compromised bot cannot write another bot's intents, lease or outbox events,
/// nor read its position.
@Suite("gordon-bot: bots are isolated from each other in PostgreSQL")
struct BotIsolationTests {
    /// The SQLSTATE a statement fails with, or nil when it succeeds.
    static func sqlState(_ connection: PostgresConnection, _ sql: String) async throws -> String? {
        do {
            try await connection.query(PostgresQuery(unsafeSQL: sql), logger: testLogger)
            return nil
        } catch let error as PSQLError {
            return error.serverInfo?[.sqlState] ?? "client:\(error.code)"
        }
    }

    static func count(_ connection: PostgresConnection, _ sql: String) async throws -> Int {
        for try await (count,) in try await connection.query(PostgresQuery(unsafeSQL: sql), logger: testLogger).decode((Int,).self) {
            return count
        }
        return -1
    }

    static func intent(_ id: String, bot: String, event: Int) -> String {
        """
        INSERT INTO trading.order_intents (intent_id, event_id, trace_id, bot_id, symbol, side, order_type, quantity, reason)
        VALUES ('\(id)', '00000000-0000-7000-8000-00000000000\(event)', '\(String(repeating: "b", count: 32))', '\(bot)',
                'BTCUSDT', 'BUY', 'MARKET', 0.001, 'test')
        """
    }

    static func outbox(subject: String, event: Int) -> String {
        """
        INSERT INTO trading.outbox (subject, event_id, event_type, payload, ordering_key)
        VALUES ('\(subject)', '00000000-0000-7000-8000-00000000010\(event)', 'order_intent', '\\x7b7d', 'bot:x')
        """
    }

    @Test("bot iso-a writes its own intents, lease and events; every write for iso-b is refused, and it reads only its own rows")
    func ownRowsOnly() async throws {
        try await withTestDatabase { database in
            let admin = try await adminWithBots(database, ["iso-a", "iso-b"])
            defer { Task { try? await admin.close() } }
            try await admin.query("""
                INSERT INTO trading.bot_leases (bot_id, instance_id, host, expires_at) VALUES ('iso-b', 'b#1', 'test', now() + interval '1 hour');
                """, logger: testLogger)
            try await admin.query("""
                INSERT INTO trading.positions (bot_id, symbol, quantity, average_entry_price)
                VALUES ('iso-a', 'BTCUSDT', 0.5, 40000), ('iso-b', 'BTCUSDT', 2, 41000)
                """, logger: testLogger)
            let botA = try await database.connect(asBot: "iso-a")
            defer { Task { try? await botA.close() } }
            // Its own rows: allowed.
            #expect(try await Self.sqlState(botA, Self.intent("a-1", bot: "iso-a", event: 1)) == nil)
            #expect(try await Self.sqlState(botA, Self.outbox(subject: "gordon.intent.iso-a", event: 1)) == nil)
            #expect(try await Self.sqlState(botA, """
                INSERT INTO trading.bot_leases (bot_id, instance_id, host, expires_at) VALUES ('iso-a', 'a#1', 'test', now() + interval '1 hour')
                """) == nil)
            // Another bot's: refused by row-level security (42501), or invisible.
            #expect(try await Self.sqlState(botA, Self.intent("b-1", bot: "iso-b", event: 2)) == "42501")
            #expect(try await Self.sqlState(botA, Self.outbox(subject: "gordon.intent.iso-b", event: 2)) == "42501")
            #expect(try await Self.sqlState(botA, Self.outbox(subject: "gordon.exec.fill.iso-a", event: 3)) == "42501",
                    "only its own intent and lifecycle subjects")
            #expect(try await Self.sqlState(botA, """
                INSERT INTO trading.bot_leases (bot_id, instance_id, host, expires_at) VALUES ('iso-b', 'a#2', 'test', now() + interval '1 hour')
                ON CONFLICT (bot_id) DO UPDATE SET instance_id = EXCLUDED.instance_id
                """) == "42501")
            #expect(try await Self.count(botA, """
                WITH taken AS (UPDATE trading.bot_leases SET instance_id = 'a#3' WHERE bot_id = 'iso-b' RETURNING 1) SELECT count(*)::int FROM taken
                """) == 0)
            #expect(try await Self.count(admin, "SELECT count(*)::int FROM trading.bot_leases WHERE bot_id = 'iso-b' AND instance_id = 'b#1'") == 1)
            #expect(try await Self.count(admin, "SELECT count(*)::int FROM trading.order_intents WHERE bot_id = 'iso-b'") == 0)
            // Reads: its own configuration, position and intents; the all-bots view is closed.
            #expect(try await Self.count(botA, "SELECT count(*)::int FROM trading.v_own_bot_config") == 1)
            #expect(try await Self.count(botA, "SELECT count(*)::int FROM trading.v_own_bot_positions WHERE bot_id = 'iso-a'") == 1)
            #expect(try await Self.count(botA, "SELECT count(*)::int FROM trading.v_own_bot_positions") == 1)
            #expect(try await Self.count(botA, "SELECT count(*)::int FROM trading.v_own_bot_intents") == 1)
            #expect(try await Self.sqlState(botA, "SELECT * FROM trading.v_bot_configs") == "42501")
            #expect(try await Self.sqlState(botA, "SELECT * FROM trading.v_positions") == "42501")
        }
    }
}
