import BinanceSim
import Foundation
import GordonDomain
import GordonKernel
import GordonProtocol
import GordonTestDB
import PostgresNIO
import Testing

/// gordon-risk as a process beside the executor: it values the book from the executor's
/// records and the closed klines on the stream, and a breaker's trip reaches the exchange.
@Suite("gordon-risk: a breaker's trip halts the executor and flattens every position", .serialized)
struct RiskProcessTests {
    @Test("a drawdown beyond the limit closes the halt latch, flattens the position on the simulator and is recorded and audited; the latch outlives risk's kill -9 and refuses the next intent")
    func drawdownHaltsAndFlattens() async throws {
        try await ExecutorWorld().run { world in
            _ = try await world.startExecutor(reconcileEvery: 3600)
            try await world.intent("t-buy-1", type: .market, quote: "600")
            #expect(try await eventually(timeout: .seconds(30)) { try await world.status("t-buy-1") == "FILLED" })
            let entry = try ExactDecimal(parsing: try await BotProcessTests.text(
                world.admin, "SELECT average_entry_price::text FROM trading.positions WHERE bot_id = '\(ExecutorWorld.bot)'"))

            let (risk, base, relay) = try await world.startRisk(["--max-drawdown", "0.01", "--max-gross-exposure", "100000"])
            // Until a kline prices BTCUSDT, equity is unknown and risk is not ready.
            #expect(await BotProcessTests.isReady(base) == false)
            try await world.publish(try Self.closedKline(world.symbol, minute: 1, close: entry))
            #expect(try await eventually(timeout: .seconds(30)) { await BotProcessTests.isReady(base) }, "\(risk.stderr.suffix(2000))")
            #expect(try await world.scalar("SELECT count(*)::int FROM trading.risk_events") == 0, "at the entry price nothing trips")

            // 5 % down on a position of 600 against an allocation of 1000: 3 % below the peak.
            let lower = try entry.multiplied(by: try ExactDecimal(parsing: "0.95")).rounded(scale: 2, rule: .down)
            try await world.publish(try Self.closedKline(world.symbol, minute: 2, close: lower))
            #expect(try await eventually(timeout: .seconds(30)) {
                try await BotProcessTests.text(world.admin, "SELECT halted::text || ' ' || changed_by FROM trading.halt_latch") == "true breaker:drawdown"
            }, "\(risk.stderr.suffix(2000))")
            #expect(try await eventually(timeout: .seconds(30)) {
                try await world.scalar("SELECT count(*)::int FROM trading.orders WHERE side = 'SELL' AND status = 'FILLED'") == 1
            }, "no flatten sell: \(world.executorLog)")
            let left = try ExactDecimal(parsing: try await BotProcessTests.text(
                world.admin, "SELECT quantity::text FROM trading.positions WHERE bot_id = '\(ExecutorWorld.bot)'"))
            #expect(left < ExactDecimal(significand: 1, scale: 5), "sold down to below one lot: \(left)")
            #expect(try await world.scalar("SELECT count(*)::int FROM trading.risk_events WHERE breaker = 'drawdown' AND state = 'tripped'") == 1)

            // kill -9: the latch is in the database, not in the process.
            let killed = try #require(try await risk.stop(signal: SIGKILL, timeout: .seconds(10)))
            #expect(killed.status != 0)
            // The flatten sold at the simulator's price, which did not fall with the published
            // kline: once the sell is booked the equity may be back within the limit, and risk
            // then rightly records a reset. Read once risk is dead, so nothing moves meanwhile.
            let actions = try await BotProcessTests.text(world.admin, """
                SELECT string_agg(action, ',' ORDER BY id) FROM trading.risk_audit_log WHERE actor = 'breaker:drawdown'
                """)
            let recovered = actions == "breaker_tripped,halt,flatten,breaker_reset"
            #expect(actions == "breaker_tripped,halt,flatten" || recovered, "\(actions)")
            #expect(try await world.scalar("""
                SELECT count(*)::int FROM trading.outbox WHERE producer = 'gordon_risk' AND subject = 'gordon.risk.command.all'
                """) == 2, "the halt and the flatten")
            #expect(try await world.scalar("""
                SELECT count(*)::int FROM trading.outbox WHERE producer = 'gordon_risk' AND subject = 'gordon.risk.breaker.drawdown'
                """) == (recovered ? 2 : 1), "the breaker's events")
            try await world.intent("t-buy-2", type: .market, quote: "100")
            #expect(try await eventually(timeout: .seconds(30)) { try await world.status("t-buy-2").hasPrefix("REJECTED halted:") })
            #expect(world.simulator.placements(of: "t-buy-2") == 0)
            #expect(try await BotProcessTests.text(world.admin, "SELECT array_to_string(tripped, ',') FROM trading.risk_state")
                == (recovered ? "" : "drawdown"))

            // An operator resumes; the next risk neither trips again nor halts: the drawdown
            // counts afresh from the equity of the resume, and that is audited as a reset.
            try await world.admin.query("""
                UPDATE trading.halt_latch SET halted = false, reason = 'loss accepted', changed_by = 'operator:alice', changed_at = now()
                """, logger: testLogger)
            let (again, againBase, _) = try await world.startRisk(["--max-drawdown", "0.01", "--max-gross-exposure", "100000"], relay: false)
            // The dust left has no stored price here (nothing runs gordon-data): the next kline gives one.
            try await world.publish(try Self.closedKline(world.symbol, minute: 3, close: lower))
            #expect(try await eventually(timeout: .seconds(30)) {
                try await world.scalar("SELECT count(*)::int FROM trading.risk_events WHERE breaker = 'drawdown' AND state = 'reset'") == 1
            }, "\(again.stderr.suffix(2000))")
            #expect(try await BotProcessTests.text(world.admin, "SELECT array_to_string(tripped, ',') FROM trading.risk_state") == "")
            try await world.intent("t-buy-3", type: .market, quote: "100")
            #expect(try await eventually(timeout: .seconds(30)) { try await world.status("t-buy-3") == "FILLED" })
            #expect(try await world.scalar("SELECT count(*)::int FROM trading.risk_events WHERE state = 'tripped'") == 1, "no second trip")
            #expect(try await BotProcessTests.text(world.admin, "SELECT halted::text FROM trading.halt_latch") == "false")
            let stoppedRisk = try #require(try await again.stop(timeout: .seconds(20)))
            #expect(stoppedRisk.status == 0, "SIGTERM: a graceful exit")
            _ = againBase
            let stopped = try #require(try await relay?.stop(timeout: .seconds(20)))
            #expect(stopped.status == 0)
        }
    }

    /// A closed one-minute kline of `symbol` whose every price is `close`.
    static func closedKline(_ symbol: Symbol, minute: Int64, close: ExactDecimal) throws -> EventEnvelope<KlineEvent> {
        let open = 1_780_000_000_000 - (1_780_000_000_000 % 60_000) + minute * 60_000
        let price = try Price(close)
        let kline = try Kline(symbol: symbol, interval: .oneMinute, openTime: Timestamp(milliseconds: open),
                              closeTime: Timestamp(milliseconds: open + 59_999), open: price, high: price, low: price, close: price,
                              volume: try Quantity(parsing: "1"), quoteVolume: close, trades: 1, takerBuyBaseVolume: .zero,
                              takerBuyQuoteVolume: .zero, isClosed: true)
        return EventEnvelope(payload: KlineEvent(kline), source: .data, traceId: TraceId.random(), occurredAt: kline.closeTime,
                             ids: EventIdGenerator())
    }
}
