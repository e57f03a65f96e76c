import GordonMigrations

/// Every table and view a role could touch, with two sample rows: `seed` is inserted by
/// the superuser before the matrix runs; `fresh` is what an INSERT or UPDATE writes. Both
/// satisfy every constraint, so a statement that Postgres allows really succeeds.
struct Relation: Sendable {
    let name: String
    let isView: Bool
    let key: [String]
    let seed: [(String, String)]
    let fresh: [(String, String)]

    static func table(_ name: String, key: [String], seed: [(String, String)], fresh: [(String, String)]) -> Relation {
        Relation(name: name, isView: false, key: key, seed: seed, fresh: fresh)
    }

    /// A view over `base`: writes use the base table's rows (and are refused for everyone).
    static func view(_ name: String, over base: Relation) -> Relation {
        Relation(name: name, isView: true, key: base.key, seed: [], fresh: base.fresh)
    }

    var insertSQL: String {
        "INSERT INTO \(name) (\(fresh.map(\.0).joined(separator: ", "))) VALUES (\(fresh.map(\.1).joined(separator: ", ")))"
    }

    var seedSQL: String {
        "INSERT INTO \(name) (\(seed.map(\.0).joined(separator: ", "))) VALUES (\(seed.map(\.1).joined(separator: ", ")))"
    }

    /// Sets every non-key column to a literal: no column is read, so only UPDATE is needed.
    var updateSQL: String {
        let assignments = fresh.filter { !key.contains($0.0) }.map { "\($0.0) = \($0.1)" }
        return "UPDATE \(name) SET \(assignments.joined(separator: ", "))"
    }
}

enum Fixtures {
    static let now = "'2026-01-01T00:00:00Z'"
    static let later = "'2026-01-01T00:01:00Z'"

    static let klines = Relation.table(
        "market_data.klines", key: ["symbol", "interval", "open_time"],
        seed: klineRow(open: now, close: "'2026-01-01T00:00:59.999Z'"),
        fresh: klineRow(open: later, close: "'2026-01-01T00:01:59.999Z'"))
    static let metrics = Relation.table(
        "market_data.metrics", key: ["name", "observed_at"],
        seed: [("name", "'fear_greed'"), ("observed_at", now), ("value", "54"), ("source", "'alternative.me'")],
        fresh: [("name", "'fear_greed'"), ("observed_at", later), ("value", "55"), ("source", "'alternative.me'")])
    static let macro = Relation.table(
        "market_data.macro_series", key: ["series_id", "observation_date"],
        seed: [("series_id", "'DGS10'"), ("observation_date", "'2026-01-01'"), ("value", "4.12"), ("source", "'fred'")],
        fresh: [("series_id", "'DGS10'"), ("observation_date", "'2026-01-02'"), ("value", "4.15"), ("source", "'fred'")])
    static let funding = Relation.table(
        "market_data.funding_rates", key: ["venue", "instrument", "funding_time"],
        seed: [("venue", "'deribit'"), ("instrument", "'BTC-PERPETUAL'"), ("funding_time", now), ("rate", "0.0001")],
        fresh: [("venue", "'deribit'"), ("instrument", "'BTC-PERPETUAL'"), ("funding_time", later), ("rate", "0.0002")])
    static let openInterest = Relation.table(
        "market_data.open_interest", key: ["venue", "instrument", "observed_at"],
        seed: [("venue", "'deribit'"), ("instrument", "'BTC-PERPETUAL'"), ("observed_at", now), ("open_interest", "1000"), ("open_interest_usd", "50000000")],
        fresh: [("venue", "'deribit'"), ("instrument", "'BTC-PERPETUAL'"), ("observed_at", later), ("open_interest", "1001"), ("open_interest_usd", "50000001")])

    static let botConfigs = Relation.table(
        "trading.bot_configs", key: ["bot_id"],
        seed: botRow("bot-a"), fresh: botRow("bot-c"))
    static let botRoles = Relation.table(
        "trading.bot_roles", key: ["bot_id"],
        seed: [("bot_id", "'bot-x'"), ("role_name", "'gordon_bot_bot-x'"), ("created_at", now)],
        fresh: [("bot_id", "'bot-y'"), ("role_name", "'gordon_bot_bot-y'"), ("created_at", later)])
    static let botLeases = Relation.table(
        "trading.bot_leases", key: ["bot_id"],
        seed: leaseRow("bot-a"), fresh: leaseRow("bot-b"))
    static let orderIntents = Relation.table(
        "trading.order_intents", key: ["intent_id"],
        seed: intentRow("intent-a", event: 1), fresh: intentRow("intent-c", event: 3, bot: "bot-b"))
    static let orders = Relation.table(
        "trading.orders", key: ["client_order_id"],
        seed: orderRow("intent-a", exchangeId: 101), fresh: orderRow("intent-b", exchangeId: 102))
    static let trades = Relation.table(
        "trading.trades", key: ["symbol", "trade_id"],
        seed: tradeRow(1), fresh: tradeRow(3))
    static let orderEvents = Relation.table(
        "trading.order_events", key: ["id"],
        seed: orderEventRow(event: 11), fresh: orderEventRow(event: 12))
    static let fillEvents = Relation.table(
        "trading.fill_events", key: ["id"],
        seed: [("event_id", uuid(21)), ("symbol", "'BTCUSDT'"), ("trade_id", "1"), ("recorded_at", now)],
        fresh: [("event_id", uuid(22)), ("symbol", "'BTCUSDT'"), ("trade_id", "2"), ("recorded_at", later)])
    static let positions = Relation.table(
        "trading.positions", key: ["bot_id", "symbol"],
        seed: positionRow("BTCUSDT"), fresh: positionRow("ETHUSDT"))
    static let riskEvents = Relation.table(
        "trading.risk_events", key: ["id"],
        seed: riskEventRow(event: 31), fresh: riskEventRow(event: 32))
    static let riskAudit = Relation.table(
        "trading.risk_audit_log", key: ["id"],
        seed: auditRow("operator:alice"), fresh: auditRow("breaker:drawdown"))
    /// The latch row exists from the migration itself; nobody may add a second one.
    static let haltLatch = Relation.table(
        "trading.halt_latch", key: ["id"], seed: [],
        fresh: [("id", "true"), ("halted", "false"), ("reason", "'operator resumed'"), ("changed_by", "'operator:alice'"), ("changed_at", later)])
    /// Like the latch, one row from the migration.
    static let riskState = Relation.table(
        "trading.risk_state", key: ["id"], seed: [],
        fresh: [("id", "true"), ("peak_equity", "1200"), ("day", "20454"), ("day_opening_equity", "1100"), ("tripped", "'{drawdown}'"),
                ("limits", "'{}'::jsonb"),
                ("updated_at", later)])
    static let operatorRequests = Relation.table(
        "trading.operator_requests", key: ["id"],
        seed: requestRow("halt", by: "alice (uid 1000)"), fresh: requestRow("resume", by: "bob (uid 1001)"))
    static let backfillRequests = Relation.table(
        "market_data.backfill_requests", key: ["id"],
        seed: backfillRow(by: "alice"), fresh: backfillRow(by: "bob"))
    static let runs = Relation.table(
        "trading.runs", key: ["run_id"],
        seed: runRow(uuid(41)), fresh: runRow(uuid(42)))
    static let equityPoints = Relation.table(
        "trading.equity_points", key: ["run_id", "at"],
        seed: equityRow(now), fresh: equityRow(later))
    static let outbox = Relation.table(
        "trading.outbox", key: ["id"],
        seed: outboxRow(event: 51, producer: "'gordon_executor'"), fresh: outboxRow(event: 52, producer: nil))
    static let processedEvents = Relation.table(
        "trading.processed_events", key: ["role", "consumer", "event_id"],
        seed: [("role", "'gordon_executor'"), ("consumer", "'gordon-executor-intents'"), ("event_id", uuid(61)), ("stream_seq", "1")],
        fresh: [("consumer", "'c-fresh'"), ("event_id", uuid(62)), ("stream_seq", "2"), ("processed_at", now)])
    static let deadLetters = Relation.table(
        "trading.dead_letters", key: ["id"],
        seed: deadLetterRow(sequence: 1, role: "'gordon_executor'"), fresh: deadLetterRow(sequence: 2, role: nil))
    static let schemaMigrations = Relation.table(
        "public.schema_migrations", key: ["version"], seed: [],
        fresh: [("version", "9999"), ("name", "'forged'"), ("checksum", "'\(String(repeating: "0", count: 64))'"), ("execution_ms", "1")])

    /// Rows the fixtures above refer to but that are not themselves a relation's seed.
    static let supportingRows: [String] = [
        Relation.table("trading.bot_configs", key: [], seed: botRow("bot-b"), fresh: []).seedSQL,
        // The matrix's gordon_bot login acts for bot-b (migration 0011's per-bot policies), so
        // its fresh rows name bot-b.
        "INSERT INTO trading.bot_roles (bot_id, role_name) VALUES ('bot-b', 'gordon_bot')",
        Relation.table("trading.order_intents", key: [], seed: intentRow("intent-b", event: 2), fresh: []).seedSQL,
        Relation.table("trading.trades", key: [], seed: tradeRow(2), fresh: []).seedSQL,
    ]

    /// In dependency order: parents before children.
    static let tables: [Relation] = [
        klines, metrics, macro, funding, openInterest, backfillRequests,
        botConfigs, botRoles, botLeases, orderIntents, orders, trades, orderEvents, fillEvents, positions,
        riskEvents, riskAudit, haltLatch, riskState, operatorRequests, runs, equityPoints, outbox, processedEvents, deadLetters, schemaMigrations,
    ]

    static let views: [Relation] = [
        .view("market_data.v_klines_reader", over: klines),
        .view("market_data.v_backfill_requests", over: backfillRequests),
        .view("market_data.v_metrics_reader", over: metrics),
        .view("market_data.v_macro_reader", over: macro),
        .view("market_data.v_funding_rates_reader", over: funding),
        .view("market_data.v_open_interest_reader", over: openInterest),
        .view("trading.v_bot_configs", over: botConfigs),
        .view("trading.v_bot_leases", over: botLeases),
        .view("trading.v_order_intents", over: orderIntents),
        .view("trading.v_orders", over: orders),
        .view("trading.v_trades", over: trades),
        .view("trading.v_positions", over: positions),
        .view("trading.v_halt_latch", over: haltLatch),
        .view("trading.v_risk_events", over: riskEvents),
        .view("trading.v_risk_state", over: riskState),
        .view("trading.v_risk_audit_log", over: riskAudit),
        .view("trading.v_runs", over: runs),
        .view("trading.v_equity_points", over: equityPoints),
        .view("trading.v_own_bot_config", over: botConfigs),
        .view("trading.v_own_bot_positions", over: positions),
        .view("trading.v_own_bot_intents", over: orderIntents),
        .view("trading.v_own_bot_orders", over: orders),
    ]

    static var relations: [Relation] { tables + views }

    // MARK: Row builders

    static func uuid(_ n: Int) -> String {
        let digits = String(n)
        return "'00000000-0000-7000-8000-" + String(repeating: "0", count: 12 - digits.count) + digits + "'"
    }

    static func klineRow(open: String, close: String) -> [(String, String)] {
        [("symbol", "'BTCUSDT'"), ("interval", "'1m'"), ("open_time", open), ("close_time", close),
         ("open", "27000.10"), ("high", "27010.00"), ("low", "26990.00"), ("close", "27005.50"),
         ("volume", "12.5"), ("quote_volume", "337500.25"), ("trades", "420"),
         ("taker_buy_base_volume", "6.1"), ("taker_buy_quote_volume", "164700.00")]
    }

    static func botRow(_ id: String) -> [(String, String)] {
        [("bot_id", "'\(id)'"), ("strategy", "'ema_crossover'"), ("parameters", "'{\"fast\":12}'"),
         ("symbols", "ARRAY['BTCUSDT']"), ("interval", "'1h'"), ("desired_state", "'stopped'"),
         ("max_quote_exposure", "1000"), ("created_at", now), ("updated_at", now)]
    }

    static func leaseRow(_ bot: String) -> [(String, String)] {
        [("bot_id", "'\(bot)'"), ("instance_id", "'\(bot)-1'"), ("host", "'srv-apps'"),
         ("acquired_at", now), ("renewed_at", now), ("expires_at", later)]
    }

    static func intentRow(_ id: String, event: Int, bot: String = "bot-a") -> [(String, String)] {
        [("intent_id", "'\(id)'"), ("event_id", uuid(event)), ("trace_id", "'\(String(repeating: "a", count: 32))'"),
         ("bot_id", "'\(bot)'"), ("symbol", "'BTCUSDT'"), ("side", "'BUY'"), ("order_type", "'LIMIT'"),
         ("time_in_force", "'GTC'"), ("price", "27000.00"), ("quantity", "0.001"), ("reason", "'ema cross up'"),
         ("created_at", now)]
    }

    static func orderRow(_ id: String, exchangeId: Int) -> [(String, String)] {
        [("client_order_id", "'\(id)'"), ("exchange_order_id", "\(exchangeId)"), ("bot_id", "'bot-a'"),
         ("symbol", "'BTCUSDT'"), ("side", "'BUY'"), ("order_type", "'LIMIT'"), ("time_in_force", "'GTC'"),
         ("price", "27000.00"), ("quantity", "0.001"), ("executed_quantity", "0"),
         ("cumulative_quote_quantity", "0"), ("status", "'NEW'"), ("created_at", now), ("updated_at", now)]
    }

    static func tradeRow(_ id: Int) -> [(String, String)] {
        [("symbol", "'BTCUSDT'"), ("trade_id", "\(id)"), ("client_order_id", "'intent-a'"), ("exchange_order_id", "101"),
         ("bot_id", "'bot-a'"), ("side", "'BUY'"), ("price", "27000.00"), ("quantity", "0.0005"),
         ("quote_quantity", "13.5"), ("commission", "0.0000005"), ("commission_asset", "'BTC'"),
         ("is_maker", "true"), ("trade_time", now)]
    }

    static func orderEventRow(event: Int) -> [(String, String)] {
        [("event_id", uuid(event)), ("client_order_id", "'intent-a'"), ("status", "'NEW'"),
         ("executed_quantity", "0"), ("cumulative_quote_quantity", "0"), ("exchange_time", now), ("recorded_at", now)]
    }

    static func positionRow(_ symbol: String) -> [(String, String)] {
        [("bot_id", "'bot-a'"), ("symbol", "'\(symbol)'"), ("quantity", "0.0005"),
         ("average_entry_price", "27000.00"), ("realized_pnl", "0"), ("updated_at", now)]
    }

    static func riskEventRow(event: Int) -> [(String, String)] {
        [("event_id", uuid(event)), ("breaker", "'drawdown'"), ("state", "'tripped'"), ("value", "0.21"),
         ("threshold", "0.20"), ("reason", "'drawdown over 20%'"), ("occurred_at", now)]
    }

    static func auditRow(_ actor: String) -> [(String, String)] {
        [("actor", "'\(actor)'"), ("action", "'halt'"), ("target", "'all'"), ("reason", "'test'"),
         ("details", "'{}'"), ("occurred_at", now)]
    }

    static func requestRow(_ action: String, by caller: String) -> [(String, String)] {
        [("action", "'\(action)'"), ("target", "'all'"), ("reason", "'test'"), ("requested_by", "'\(caller)'"),
         ("requested_at", now), ("handled_at", later), ("outcome", "'done'")]
    }

    static func backfillRow(by caller: String) -> [(String, String)] {
        [("symbol", "'BTCUSDT'"), ("interval", "'1m'"), ("from_time", now), ("to_time", later), ("requested_by", "'\(caller)'"),
         ("requested_at", now), ("status", "'queued'"), ("fetched", "0"), ("written", "0"), ("progress", "0")]
    }

    static func runRow(_ id: String) -> [(String, String)] {
        [("run_id", id), ("kind", "'backtest'"), ("strategy", "'ema_crossover'"), ("parameters", "'{}'"),
         ("symbol", "'BTCUSDT'"), ("interval", "'1h'"), ("from_time", now), ("to_time", later),
         ("status", "'queued'"), ("summary", "'{}'"), ("created_at", now), ("finished_at", later)]
    }

    static func equityRow(_ at: String) -> [(String, String)] {
        [("run_id", uuid(41)), ("at", at), ("equity", "10000"), ("cash", "10000"),
         ("position_value", "0"), ("drawdown", "0")]
    }

    static func deadLetterRow(sequence: Int, role: String?) -> [(String, String)] {
        var row = [("consumer", "'gordon-executor-intents'"), ("subject", "'gordon.intent.bot-a'"), ("stream_seq", "\(sequence)"),
                   ("deliveries", "1"), ("error_code", "'GORDON-PROTO-0002'"), ("reason", "'malformed'"),
                   ("payload", "'\\x00'::bytea"), ("dead_at", now)]
        if let role { row.insert(("role", role), at: 0) }
        return row
    }

    static func outboxRow(event: Int, producer: String?) -> [(String, String)] {
        var row = [("subject", "'gordon.intent.bot-b'"), ("event_id", uuid(event)), ("event_type", "'order_intent'"),
                   ("payload", "'\\x7b7d'::bytea"), ("ordering_key", "'bot-a'"), ("created_at", now),
                   ("attempts", "0")]
        if let producer { row.insert(("producer", producer), at: 0) }
        return row
    }
}
