import Foundation
import GordonDomain
import GordonKernel
import GordonMigrations
import GordonPostgres
import GordonProtocol
import GordonRisk
import GordonTestDB
import Logging
import PostgresNIO
import Testing

/// The halt latch lives in PostgreSQL, not in gordon-risk: a trip written by risk's role is
/// still there after PostgreSQL itself is killed with SIGKILL and recovers.
@Suite("the halt latch survives kill -9 of PostgreSQL", .serialized)
struct HaltLatchDurabilityTests {
    @Test("a drawdown trip written as gordon_risk: the latch closed, what stands tripped and the audit trail outlive a SIGKILL of the postmaster")
    func latchSurvivesPostgresKill() async throws {
        let server = try await TestPostgresServer(durable: true)
        let (url, passwords) = try await server.migratedDatabase()
        let logger = TestEnvironment.logger
        try await Database.withConnection(url, logger: logger) { connection in
            try await connection.query("UPDATE trading.halt_latch SET halted = false, reason = 'test', changed_by = 'operator:test'", logger: logger)
        }
        var breakers = Breakers(limits: RiskLimits())
        _ = try breakers.evaluate(RiskSample(at: Timestamp(milliseconds: 1_780_000_000_000), equity: ExactDecimal(1000)))
        let changes = try breakers.evaluate(RiskSample(at: Timestamp(milliseconds: 1_780_000_001_000), equity: ExactDecimal(850)))
        let trip = try #require(changes.first { $0.breaker == .drawdown })
        let riskURL = url.with(username: DatabaseRole.risk.rawValue, password: try #require(passwords[.risk]))
        try await Database.withConnection(riskURL, logger: logger) { connection in
            try await RiskRecords.record(trip, at: Timestamp(milliseconds: 1_780_000_001_000),
                                         ids: EventIdGenerator(), on: connection, logger: logger)
        }

        let pidFile = server.directory + "/pg/data/postmaster.pid"
        let pid = try #require(Int32(try String(contentsOfFile: pidFile, encoding: .utf8).split(separator: "\n").first ?? ""))
        #expect(kill(pid, SIGKILL) == 0)
        // Its backends leave once they see the postmaster gone; then it starts with crash recovery.
        #expect(try await eventually(timeout: .seconds(60)) {
            guard kill(pid, 0) != 0 else { return false }
            return (try? await server.start()) != nil
        })

        try await Database.withConnection(url, logger: logger) { connection in
            let latch = try await connection.query("SELECT halted::text || ' ' || changed_by FROM trading.halt_latch", logger: logger).collect()
            #expect(try latch.first?.decode(String.self) == "true breaker:drawdown")
            let tripped = try await connection.query("SELECT tripped FROM trading.risk_state", logger: logger).collect()
            #expect(try tripped.first?.decode([String].self) == [trip.key])
            let audit = try await connection.query(
                "SELECT string_agg(action, ',' ORDER BY id) FROM trading.risk_audit_log WHERE actor = 'breaker:drawdown'", logger: logger).collect()
            #expect(try audit.first?.decode(String.self) == "breaker_tripped,halt,flatten")
            let commands = try await connection.query(
                "SELECT count(*)::int FROM trading.outbox WHERE subject = 'gordon.risk.command.all'", logger: logger).collect()
            #expect(try commands.first?.decode(Int.self) == 2, "the halt and the flatten are queued for the bus")
        }
    }
}
