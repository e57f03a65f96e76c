import GordonKernel
@testable import GordonRisk
import GordonTestDB
import PostgresNIO
import Testing

/// The soak's finding: PostgreSQL killed while risk's round was on the wire left the round
/// waiting forever. Evaluations, writes, operator requests and graceful shutdown all stopped.
@Suite("RiskMonitor: a round stuck on the database fails after its deadline, and the monitor goes on")
struct RiskMonitorHangTests {
    @Test("with the latch locked away from risk, evaluations go on and record failures; released, an operator's halt is carried out")
    func aStuckRoundFailsAndTheMonitorGoesOn() async throws {
        try await withTestDatabase { database in
            let monitor = RiskMonitor(limits: RiskLimits(), logger: TestEnvironment.logger, connect: { try await database.connect(as: .risk) })
            try await withConnection(try await database.connect(as: .risk)) { risk async throws in try await monitor.start(on: risk) }
            let locker = try await database.connect()
            // Every read of the latch now waits: risk's round hangs as on a dead connection.
            try await locker.query("BEGIN", logger: TestEnvironment.logger)
            try await locker.query("LOCK TABLE trading.halt_latch IN ACCESS EXCLUSIVE MODE", logger: TestEnvironment.logger)
            let running = Task { await monitor.run(evaluationsPerSecond: 30, roundDeadline: .milliseconds(500)) }
            let failing = try await eventually(timeout: .seconds(30)) { monitor.statistics.recordFailures >= 2 }
            #expect(failing, "the stuck round never failed")
            let before = monitor.statistics.evaluations
            let evaluating = try await eventually(timeout: .seconds(30)) { monitor.statistics.evaluations > before + 1 }
            #expect(evaluating, "evaluations stopped behind the stuck round")

            try await locker.query("COMMIT", logger: TestEnvironment.logger)
            try await withConnection(try await database.connect(as: .manager)) { manager async throws in
                try await manager.query("""
                    INSERT INTO trading.operator_requests (action, reason, requested_by) VALUES ('halt', 'looking', 'alice')
                    """, logger: TestEnvironment.logger)
            }
            let carriedOut = try await eventually(timeout: .seconds(30)) {
                try await locker.query("SELECT count(*) FROM trading.operator_requests WHERE outcome IS NOT NULL", logger: TestEnvironment.logger)
                    .collect().first?.decode(Int.self) == 1
            }
            #expect(carriedOut, "risk never came back to the operator's request")
            running.cancel()
            await running.value
            try await locker.close()
        }
    }
}
