import GordonDomain
import GordonKernel
import GordonMigrations
import GordonProtocol
@testable import GordonRisk
import GordonTestDB
import PostgresNIO
import Synchronization
import Testing

/// The monitor's steps driven one by one, in the order the run loop may take them, on a clock
/// the test sets: no timing decides what happens.
@Suite("RiskMonitor: an operator's resume re-bases the breakers however soon it follows a trip")
struct RiskMonitorResumeTests {
    final class TestClock: Sendable {
        let milliseconds = Mutex<Int64>(1_780_000_000_000)
        var now: Timestamp { Timestamp(milliseconds: milliseconds.withLock { $0 }) }
        func advance(seconds: Int64) { milliseconds.withLock { $0 += seconds * 1000 } }
    }

    static let symbol = try! Symbol("BTCUSDT")

    static func closed(at close: Int, minute: Int64) throws -> AnyEvent {
        let open = 1_780_000_000_000 - (1_780_000_000_000 % 60_000) + minute * 60_000
        let price = try Price(ExactDecimal(close))
        let kline = try Kline(symbol: symbol, interval: .oneMinute, openTime: Timestamp(milliseconds: open),
                              closeTime: Timestamp(milliseconds: open + 59_999), open: price, high: price, low: price, close: price,
                              volume: try Quantity(parsing: "1"), quoteVolume: .zero, trades: 1, takerBuyBaseVolume: .zero,
                              takerBuyQuoteVolume: .zero, isClosed: true)
        return .kline(EventEnvelope(payload: KlineEvent(kline), source: .data, traceId: TraceId.random(), occurredAt: kline.closeTime,
                                    ids: EventIdGenerator()))
    }

    /// The regression: risk used to learn of its own halt only from its next read of the latch
    /// (once a second). A resume carried out before that read found the latch "open as it was",
    /// so the losses were not counted afresh and the drawdown breaker, still tripped on the old
    /// peak, could never trip again.
    @Test("a resume carried out before risk next reads the latch counts the losses afresh, and the drawdown trips again on a further fall")
    func quickResumeRebases() async throws {
        try await withTestDatabase { database in
            try await withConnection(try await database.connect()) { admin async throws in
                // 1000 allocated, 1 BTC held at 500: equity = 500 cash + the coin at its close.
                try await admin.query("""
                    INSERT INTO trading.bot_configs (bot_id, strategy, symbols, interval, desired_state, max_quote_exposure)
                    VALUES ('alpha', 'sma_crossover', '{BTCUSDT}', '1m', 'running', 1000)
                    """, logger: TestEnvironment.logger)
                try await admin.query("""
                    INSERT INTO trading.positions (bot_id, symbol, quantity, average_entry_price) VALUES ('alpha', 'BTCUSDT', 1, 500)
                    """, logger: TestEnvironment.logger)
                try await admin.query("UPDATE trading.halt_latch SET halted = false, changed_by = 'operator:alice'", logger: TestEnvironment.logger)
            }
            let clock = TestClock()
            let monitor = RiskMonitor(limits: RiskLimits(), logger: TestEnvironment.logger, now: { clock.now },
                                      connect: { try await database.connect(as: .risk) })
            try await withConnection(try await database.connect(as: .risk)) { risk async throws in
                try await monitor.start(on: risk)
                try await monitor.handleMarket(try Self.closed(at: 500, minute: 0), on: risk)
                #expect(try monitor.evaluate().isEmpty)
                #expect(monitor.statistics.peakEquity == ExactDecimal(1000))
                try await monitor.watchLatch(on: risk)  // open, as read

                clock.advance(seconds: 1)
                try await monitor.handleMarket(try Self.closed(at: 300, minute: 1), on: risk)  // equity 800: 20 % down
                #expect(try monitor.evaluate().contains { $0.breaker == .drawdown && $0.state == .tripped })
                try await monitor.writeUnwritten(on: risk)  // the latch closes

                // The operator resumes at once, as gordon-manager files it; risk carries it out
                // before its next read of the latch.
                try await withConnection(try await database.connect(as: .manager)) { manager async throws in
                    try await manager.query("""
                        INSERT INTO trading.operator_requests (action, reason, requested_by) VALUES ('resume', 'looked at it', 'alice')
                        """, logger: TestEnvironment.logger)
                }
                clock.advance(seconds: 1)
                try await monitor.carryOutOperatorRequests(on: risk)
                _ = try monitor.evaluate()
                #expect(!monitor.statistics.tripped.contains(.drawdown), "the drawdown breaker still stands tripped after the resume")
                #expect(monitor.statistics.peakEquity == ExactDecimal(800), "the peak was not re-based on the equity at the resume")

                clock.advance(seconds: 1)
                try await monitor.handleMarket(try Self.closed(at: 100, minute: 2), on: risk)  // equity 600: 25 % below the new peak
                #expect(try monitor.evaluate().contains { $0.breaker == .drawdown && $0.state == .tripped })
            }
        }
    }

    /// A bot created after risk started (as the local stack does, and as an operator does on
    /// the device): its allocation is capital coming in, not a gain.
    @Test("a bot's allocation added while risk runs moves the peak and the day's opening, so the day's loss still counts")
    func allocationAddedWhileRunning() async throws {
        try await withTestDatabase { database in
            let clock = TestClock()
            let monitor = RiskMonitor(limits: RiskLimits(), logger: TestEnvironment.logger, now: { clock.now },
                                      connect: { try await database.connect(as: .risk) })
            try await withConnection(try await database.connect(as: .risk)) { risk async throws in
                try await monitor.start(on: risk)
                #expect(try monitor.evaluate().isEmpty)
                #expect(monitor.statistics.dayOpeningEquity == .zero)
                try await withConnection(try await database.connect()) { admin async throws in
                    try await admin.query("""
                        INSERT INTO trading.bot_configs (bot_id, strategy, symbols, interval, desired_state, max_quote_exposure)
                        VALUES ('alpha', 'sma_crossover', '{BTCUSDT}', '1m', 'running', 1000)
                        """, logger: TestEnvironment.logger)
                }
                try await monitor.reloadBook(on: risk)
                _ = try monitor.evaluate()
                #expect(monitor.statistics.dayOpeningEquity == ExactDecimal(1000), "the day opened at zero and stayed there")
                #expect(monitor.statistics.peakEquity == ExactDecimal(1000))
            }
        }
    }
}
