import GordonDomain
import GordonKernel
import GordonMigrations
import GordonProtocol
import GordonRisk
import GordonTestDB
import PostgresNIO
import Testing

/// `RiskRecords.record` as gordon_risk's role may make it, for the per-bot action: the role
/// may change one column of `bot_configs` and read none but `bot_id`.
@Suite("RiskRecords: a bot sending too fast is paused through risk's column grant")
struct RiskRecordsTests {
    @Test("an order-rate trip pauses the running bot, audits it and queues pause_bot; a stopped bot is not woken as paused")
    func orderRateTripPausesTheBot() async throws {
        try await withTestDatabase { database in
            let admin = try await database.connect()
            defer { Task { try? await admin.close() } }
            for (bot, state) in [("fast-1", "running"), ("idle-1", "stopped")] {
                try await admin.query("""
                    INSERT INTO trading.bot_configs (bot_id, strategy, symbols, interval, desired_state)
                    VALUES (\(bot), 'sma_crossover', '{BTCUSDT}', '1m', \(state))
                    """, logger: TestEnvironment.logger)
            }
            var limits = RiskLimits()
            limits.maxOrdersPerMinutePerBot = 2
            var breakers = Breakers(limits: limits)
            let start: Int64 = 1_780_000_000_000
            for bot in ["fast-1", "idle-1"] {
                for second in 0..<3 { breakers.orderSent(by: try BotId(bot), at: Timestamp(milliseconds: start + Int64(second) * 1000)) }
            }
            let trips = try breakers.evaluate(RiskSample(at: Timestamp(milliseconds: start + 3000), equity: nil))
            #expect(trips.map(\.key) == ["order_rate/fast-1", "order_rate/idle-1"])
            let risk = try await database.connect(as: .risk)
            defer { Task { try? await risk.close() } }
            for trip in trips {
                try await RiskRecords.record(trip, at: Timestamp(milliseconds: start + 3000),
                                             ids: EventIdGenerator(), on: risk, logger: TestEnvironment.logger)
            }
            let states = try await admin.query("SELECT string_agg(bot_id || '=' || desired_state, ',' ORDER BY bot_id) FROM trading.bot_configs",
                                               logger: TestEnvironment.logger).collect()
            #expect(try states.first?.decode(String.self) == "fast-1=paused,idle-1=stopped")
            let audit = try await admin.query("SELECT string_agg(action || ':' || target, ',' ORDER BY id) FROM trading.risk_audit_log",
                                              logger: TestEnvironment.logger).collect()
            #expect(try audit.first?.decode(String.self)
                    == "breaker_tripped:fast-1,pause_bot:fast-1,breaker_tripped:idle-1,pause_bot:idle-1")
            let commands = try await admin.query("SELECT count(*)::int FROM trading.outbox WHERE subject LIKE 'gordon.risk.command.%'",
                                                 logger: TestEnvironment.logger).collect()
            #expect(try commands.first?.decode(Int.self) == 2)
        }
    }

    @Test("a trip written again (its commit's answer lost with the connection) is not recorded twice: one event, one halt, one flatten; a reset and a new trip are")
    func tripWrittenAgainIsRecordedOnce() async throws {
        try await withTestDatabase { database in
            let admin = try await database.connect()
            defer { Task { try? await admin.close() } }
            var breakers = Breakers(limits: RiskLimits())
            let start: Int64 = 1_780_000_000_000
            _ = try breakers.evaluate(RiskSample(at: Timestamp(milliseconds: start), equity: try ExactDecimal(parsing: "1000")))
            let trips = try breakers.evaluate(RiskSample(at: Timestamp(milliseconds: start + 1000), equity: try ExactDecimal(parsing: "500")))
            let trip = try #require(trips.first { $0.breaker == .drawdown })
            #expect(trip.actions == [.halt, .flatten])
            let risk = try await database.connect(as: .risk)
            defer { Task { try? await risk.close() } }
            let at = Timestamp(milliseconds: start + 1000)
            func record(_ change: BreakerChange) async throws -> Bool {
                try await RiskRecords.record(change, at: at, ids: EventIdGenerator(), on: risk, logger: TestEnvironment.logger)
            }
            func count(_ sql: String) async throws -> Int? {
                try await admin.query(PostgresQuery(unsafeSQL: sql), logger: TestEnvironment.logger).collect().first?.decode(Int.self)
            }
            #expect(try await record(trip))
            #expect(try await !record(trip))
            #expect(try await count("SELECT count(*)::int FROM trading.risk_events") == 1)
            #expect(try await count("SELECT count(*)::int FROM trading.outbox WHERE subject LIKE 'gordon.risk.command.%'") == 2, "one halt, one flatten")
            #expect(try await count("SELECT count(*)::int FROM trading.risk_audit_log WHERE action = 'flatten'") == 1)

            // The operator resumes (the trip is reset), and the next loss trips it anew.
            let resets = breakers.operatorResumed(equity: try ExactDecimal(parsing: "500"), at: Timestamp(milliseconds: start + 2000))
            let reset = try #require(resets.first { $0.key == trip.key })
            #expect(try await record(reset))
            #expect(try await RiskRecords.state(on: risk, logger: TestEnvironment.logger).tripped == [])
            let again = try breakers.evaluate(RiskSample(at: Timestamp(milliseconds: start + 3000), equity: try ExactDecimal(parsing: "200")))
            #expect(try await record(try #require(again.first { $0.breaker == .drawdown })))
            #expect(try await count("SELECT count(*)::int FROM trading.risk_events WHERE state = 'tripped'") == 2)
            #expect(try await RiskRecords.state(on: risk, logger: TestEnvironment.logger).tripped == [trip.key])
        }
    }

    @Test("a negative equity (losses beyond the allocations) is remembered: a refused write would stop risk recording anything")
    func negativeEquityIsRemembered() async throws {
        try await withTestDatabase { database in
            try await withConnection(try await database.connect(as: .risk)) { risk async throws in
                let negative = try ExactDecimal(parsing: "-95.5")
                try await RiskRecords.remember(peak: negative, day: (20_000, negative), on: risk, logger: TestEnvironment.logger)
                let state = try await RiskRecords.state(on: risk, logger: TestEnvironment.logger)
                #expect(state.peakEquity == negative && state.day?.number == 20_000 && state.day?.openingEquity == negative)
            }
        }
    }
}
