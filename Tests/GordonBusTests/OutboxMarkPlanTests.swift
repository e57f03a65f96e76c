import Foundation
@testable import GordonBus
import GordonTestDB
import PostgresNIO
import Testing

/// The relay's mark statement against a backlog: its cost must follow the batch, not the
/// number of rows still pending, or a relay that is behind slows down as it falls further
/// behind.
@Suite("Outbox: marking a batch sent")
struct OutboxMarkPlanTests {
    @Test("marking a batch sent visits the batch's rows, not every pending row, with or without planner statistics",
          arguments: [false, true])
    func markingIsBoundedByTheBatch(analyzed: Bool) async throws {
        try await withTestDatabase { database in
            let connection = try await database.connect(as: .executor)
            try await connection.query("""
                INSERT INTO trading.outbox (subject, event_id, event_type, payload, ordering_key)
                SELECT 'gordon.market.metric.plan', gen_random_uuid(), 'metric', '\\x00'::bytea, 'plan' FROM generate_series(1, 20000)
                """, logger: testLogger)
            if analyzed {
                let owner = try await database.connect()
                try await owner.query("ANALYZE trading.outbox", logger: testLogger)
                try await owner.close()
            }
            var batch: [Int64] = []
            for try await id in try await connection.query(
                "SELECT id FROM trading.outbox ORDER BY id OFFSET 5000 LIMIT 1000", logger: testLogger).decode(Int64.self) {
                batch.append(id)
            }
            var binds = PostgresBindings()
            binds.append(batch)
            var plan = ""
            for try await text in try await connection.query(
                PostgresQuery(unsafeSQL: "EXPLAIN (ANALYZE, FORMAT JSON) " + OutboxRelay.markSentSQL, binds: binds),
                logger: testLogger).decode(String.self) {
                plan += text
            }
            let visited = Self.rowsVisited(in: try JSONSerialization.jsonObject(with: Data(plan.utf8)))
            #expect(visited <= 2 * batch.count, "the mark visited \(visited) rows for a batch of \(batch.count): \(plan)")
            try await connection.close()
        }
    }

    /// The most rows any one plan node produced or filtered away.
    static func rowsVisited(in node: Any) -> Int {
        if let list = node as? [Any] { return list.map(rowsVisited).max() ?? 0 }
        guard let object = node as? [String: Any] else { return 0 }
        let own = ((object["Actual Rows"] as? Int) ?? 0) + ((object["Rows Removed by Filter"] as? Int) ?? 0)
        let children = [object["Plan"], object["Plans"]].compactMap { $0 }.map(rowsVisited).max() ?? 0
        return max(own, children)
    }
}
