import GordonBus
public import GordonDomain
public import GordonKernel
import GordonPostgres
public import GordonProtocol
public import Logging
public import PostgresNIO

/// gordon-risk's reads and writes, as its role (`gordon_risk`) may make them: what the bots
/// hold through the views, its own memory in `risk_state`, and each breaker change with what
/// it asks for (the halt latch, a bot's desired state, the audit trail and the events) in one
/// transaction.
public enum RiskRecords {
    /// Every bot's allocation (`max_quote_exposure`, none counting as zero).
    public static func allocations(on connection: PostgresConnection, logger: Logger) async throws(GordonError) -> [BotId: ExactDecimal] {
        do {
            var allocations: [BotId: ExactDecimal] = [:]
            for try await (bot, amount) in try await connection.query(
                "SELECT bot_id, coalesce(max_quote_exposure, 0)::text FROM trading.v_bot_configs", logger: logger).decode((String, String).self) {
                allocations[try BotId(bot)] = try ExactDecimal(parsing: amount)
            }
            return allocations
        } catch { throw PostgresFailure.map(error, context: ["operation": "read the bots' allocations"]) }
    }

    /// The bots' positions as the executor recorded them.
    public static func holdings(on connection: PostgresConnection, logger: Logger) async throws(GordonError) -> [Portfolio.Key: Portfolio.Holding] {
        do {
            var holdings: [Portfolio.Key: Portfolio.Holding] = [:]
            for try await (bot, symbol, quantity, entry, realised) in try await connection.query(
                "SELECT bot_id, symbol, quantity::text, average_entry_price::text, realized_pnl::text FROM trading.v_positions",
                logger: logger).decode((String, String, String, String, String).self) {
                holdings[Portfolio.Key(bot: try BotId(bot), symbol: try Symbol(symbol))] = Portfolio.Holding(
                    quantity: try ExactDecimal(parsing: quantity), averageEntryPrice: try ExactDecimal(parsing: entry),
                    realisedProfit: try ExactDecimal(parsing: realised))
            }
            return holdings
        } catch { throw PostgresFailure.map(error, context: ["operation": "read the positions"]) }
    }

    /// The newest stored close of each symbol, any interval: prices for the holdings before
    /// the next kline closes.
    public static func lastCloses(on connection: PostgresConnection, logger: Logger) async throws(GordonError) -> [Symbol: ExactDecimal] {
        do {
            var closes: [Symbol: ExactDecimal] = [:]
            for try await (symbol, close) in try await connection.query("""
                SELECT DISTINCT ON (symbol) symbol, close::text FROM market_data.v_klines_reader
                WHERE symbol IN (SELECT symbol FROM trading.v_positions) ORDER BY symbol, close_time DESC
                """, logger: logger).decode((String, String).self) {
                closes[try Symbol(symbol)] = try ExactDecimal(parsing: close)
            }
            return closes
        } catch { throw PostgresFailure.map(error, context: ["operation": "read the last closes"]) }
    }

    /// What risk remembered from its last run.
    public struct State: Sendable, Equatable {
        public var peakEquity: ExactDecimal?
        public var day: (number: Int64, openingEquity: ExactDecimal)?
        /// `Breakers.trippedKeys` as last stored.
        public var tripped: [String]

        public static func == (lhs: State, rhs: State) -> Bool {
            lhs.peakEquity == rhs.peakEquity && lhs.day?.number == rhs.day?.number && lhs.day?.openingEquity == rhs.day?.openingEquity
                && lhs.tripped == rhs.tripped
        }
    }

    public static func state(on connection: PostgresConnection, logger: Logger) async throws(GordonError) -> State {
        do {
            for try await (peak, day, opening, tripped) in try await connection.query(
                "SELECT peak_equity::text, day, day_opening_equity::text, tripped FROM trading.risk_state",
                logger: logger).decode((String?, Int64?, String?, [String]).self) {
                let dayValue: (number: Int64, openingEquity: ExactDecimal)? = if let day, let opening { (day, try ExactDecimal(parsing: opening)) } else { nil }
                return State(peakEquity: try peak.map { text throws(GordonError) in try ExactDecimal(parsing: text) }, day: dayValue, tripped: tripped)
            }
            throw GordonError(.sqlFailed, "trading.risk_state has no row")
        } catch { throw PostgresFailure.map(error, context: ["operation": "read the risk state"]) }
    }

    /// Keeps the peak and the day's opening for the next run.
    public static func remember(peak: ExactDecimal?, day: (number: Int64, openingEquity: ExactDecimal)?, on connection: PostgresConnection,
                                logger: Logger) async throws(GordonError) {
        do {
            try await connection.query("""
                UPDATE trading.risk_state SET peak_equity = \(peak?.description)::numeric, day = \(day?.number),
                       day_opening_equity = \(day?.openingEquity.description)::numeric, updated_at = now()
                """, logger: logger)
        } catch { throw PostgresFailure.map(error, context: ["operation": "remember the risk state"]) }
    }

    public static func isHalted(on connection: PostgresConnection, logger: Logger) async throws(GordonError) -> Bool {
        do {
            for try await (halted,) in try await connection.query("SELECT halted FROM trading.halt_latch", logger: logger).decode((Bool,).self) {
                return halted
            }
            return true
        } catch { throw PostgresFailure.map(error, context: ["operation": "read the halt latch"]) }
    }

    /// Stores the thresholds this run uses; a change from the last run's (or the first
    /// thresholds ever) is audited with both. Returns whether they changed.
    public static func adopt(limits: RiskLimits, on connection: PostgresConnection, logger: Logger) async throws(GordonError) -> Bool {
        let current = limits.json
        do {
            return try await connection.withTransaction(logger: logger) { connection in
                var changed = false
                for try await (_,) in try await connection.query("""
                    INSERT INTO trading.risk_audit_log (actor, action, target, reason, details)
                    SELECT 'gordon-risk', 'limits_changed', 'all', 'the thresholds differ from the last run''s',
                           jsonb_build_object('from', limits, 'to', \(current)::jsonb)
                    FROM trading.risk_state WHERE limits IS DISTINCT FROM \(current)::jsonb
                    RETURNING 1
                    """, logger: logger).decode((Int,).self) { changed = true }
                if changed {
                    try await connection.query("UPDATE trading.risk_state SET limits = \(current)::jsonb, updated_at = now()", logger: logger)
                }
                return .commit(changed)
            }
        } catch { throw PostgresFailure.map(error, context: ["operation": "adopt the thresholds"]) }
    }

    /// One breaker change and everything it asks for, in one transaction: `risk_events`, the
    /// audit trail, the halt latch or the bot's desired state, through the outbox the
    /// `BreakerEvent` and each `RiskCommandEvent` (the executor flattens on its own), and the
    /// stored set of what stands tripped, with the change's key added or removed.
    ///
    /// A change the stored set already shows (its commit went through, and the answer was
    /// lost with the connection) is not written again: returns false. Written twice, a trip
    /// would halt, flatten and pause twice, and the executor would sell twice.
    @discardableResult
    public static func record(_ change: BreakerChange, at time: Timestamp, ids: EventIdGenerator,
                              on connection: PostgresConnection, logger: Logger) async throws(GordonError) -> Bool {
        let reason = String(change.reason.prefix(BreakerEvent.maxReasonBytes))
        let breaker = try BreakerEvent(breaker: change.breaker, state: change.state, value: change.value, threshold: change.threshold,
                                       reason: reason, at: time)
        let traceId = TraceId.random()
        let envelope = EventEnvelope(payload: breaker, source: .risk, traceId: traceId, occurredAt: time, ids: ids)
        let actor = "breaker:\(change.breaker.rawValue)"
        let target = change.bot?.rawValue ?? "all"
        do {
            return try await connection.withTransaction(logger: logger) { connection in
                var stored: [String] = []
                for try await keys in try await connection.query("SELECT tripped FROM trading.risk_state FOR UPDATE", logger: logger)
                    .decode([String].self) { stored = keys }
                guard stored.contains(change.key) != (change.state == .tripped) else {
                    logger.notice("breaker change already recorded", metadata: ["key": "\(change.key)", "state": "\(change.state.rawValue)"])
                    return .commit(false)
                }
                let tripped = change.state == .tripped ? (stored + [change.key]).sorted() : stored.filter { $0 != change.key }
                try await connection.query("""
                    INSERT INTO trading.risk_events (event_id, breaker, state, value, threshold, reason, occurred_at)
                    VALUES (\(envelope.eventId.string)::uuid, \(change.breaker.rawValue), \(change.state.rawValue),
                            \(change.value.description)::numeric, \(change.threshold.description)::numeric, \(reason),
                            'epoch'::timestamptz + \(time.milliseconds) * interval '1 millisecond')
                    """, logger: logger)
                try await audit(actor: actor, action: change.state == .tripped ? "breaker_tripped" : "breaker_reset", target: target,
                                reason: reason, on: connection, logger: logger)
                _ = try await Outbox.enqueue(envelope, orderingKey: "risk", on: connection, logger: logger)
                try await connection.query("UPDATE trading.risk_state SET tripped = \(tripped), updated_at = now()", logger: logger)
                for action in change.actions {
                    try await perform(action, change: change, reason: reason, at: time, traceId: traceId, ids: ids, on: connection, logger: logger)
                }
                return .commit(true)
            }
        } catch { throw PostgresFailure.map(error, context: ["operation": "record a breaker change"]) }
    }

    private static func perform(_ action: RiskAction, change: BreakerChange, reason: String, at time: Timestamp, traceId: TraceId,
                                ids: EventIdGenerator, on connection: PostgresConnection, logger: Logger) async throws {
        let actor = "breaker:\(change.breaker.rawValue)"
        let command: RiskCommandEvent
        switch action {
        case .halt:
            try await connection.query("""
                UPDATE trading.halt_latch SET halted = true, reason = \(reason), changed_by = \(actor), changed_at = now()
                """, logger: logger)
            try await audit(actor: actor, action: "halt", target: "all", reason: reason, on: connection, logger: logger)
            command = try RiskCommandEvent(command: .halt, target: .all, reason: reason, issuedBy: .breaker(change.breaker), issuedAt: time)
        case .flatten:
            try await audit(actor: actor, action: "flatten", target: "all", reason: reason, on: connection, logger: logger)
            command = try RiskCommandEvent(command: .flatten, target: .all, reason: reason, issuedBy: .breaker(change.breaker), issuedAt: time)
        case .pause(let bot):
            // Only a running bot is paused (a stopped one stays stopped). The role may read no
            // column of bot_configs but bot_id, so the state is read through the view.
            try await connection.query("""
                UPDATE trading.bot_configs SET desired_state = 'paused'
                WHERE bot_id = (SELECT bot_id FROM trading.v_bot_configs WHERE bot_id = \(bot.rawValue) AND desired_state = 'running')
                """, logger: logger)
            try await audit(actor: actor, action: "pause_bot", target: bot.rawValue, reason: reason, on: connection, logger: logger)
            command = try RiskCommandEvent(command: .pauseBot, target: try .bot(bot), reason: reason, issuedBy: .breaker(change.breaker),
                                           issuedAt: time)
        }
        let event = EventEnvelope(payload: command, source: .risk, traceId: traceId, occurredAt: time, ids: ids)
        _ = try await Outbox.enqueue(event, orderingKey: "risk", on: connection, logger: logger)
    }

    private static func audit(actor: String, action: String, target: String, reason: String, on connection: PostgresConnection,
                              logger: Logger) async throws {
        try await connection.query("""
            INSERT INTO trading.risk_audit_log (actor, action, target, reason) VALUES (\(actor), \(action), \(target), \(reason))
            """, logger: logger)
    }
}

extension RiskLimits {
    /// The thresholds as stored in `risk_state.limits` (compared as jsonb, so order and
    /// spacing do not matter).
    public var json: String {
        "{\"max_daily_loss\":\"\(maxDailyLoss)\",\"max_drawdown\":\"\(maxDrawdown)\",\"max_gross_exposure\":\"\(maxGrossExposure)\","
            + "\"max_orders_per_minute_per_bot\":\(maxOrdersPerMinutePerBot),\"max_rejects_per_minute\":\(maxRejectsPerMinute),"
            + "\"max_silence_ms\":\(maxSilenceMilliseconds)}"
    }
}
