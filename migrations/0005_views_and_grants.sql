-- Every privilege a runtime role has, in one file (DESIGN §5). The test suite checks this
-- file from the outside: every role against every table and view, allowed and refused.
--
-- Reads go through named views. A view runs with its owner's (the migrator's) rights on
-- the base table, so a reader never holds SELECT on a market_data table itself, and a
-- view can later hide or reshape columns without touching its readers.
-- Postgres expands `SELECT *` when a view is created: a migration that adds a column to
-- a table also replaces its view if readers should see it.

-- Market data readers.
CREATE VIEW market_data.v_klines_reader AS SELECT * FROM market_data.klines;
CREATE VIEW market_data.v_metrics_reader AS SELECT * FROM market_data.metrics;
CREATE VIEW market_data.v_macro_reader AS SELECT * FROM market_data.macro_series;
CREATE VIEW market_data.v_funding_rates_reader AS SELECT * FROM market_data.funding_rates;
CREATE VIEW market_data.v_open_interest_reader AS SELECT * FROM market_data.open_interest;

-- Trading readers (the console, breakers and bots read these, never the tables).
CREATE VIEW trading.v_bot_configs AS SELECT * FROM trading.bot_configs;
CREATE VIEW trading.v_bot_leases AS SELECT * FROM trading.bot_leases;
CREATE VIEW trading.v_order_intents AS SELECT * FROM trading.order_intents;
CREATE VIEW trading.v_orders AS SELECT * FROM trading.orders;
CREATE VIEW trading.v_trades AS SELECT * FROM trading.trades;
CREATE VIEW trading.v_positions AS SELECT * FROM trading.positions;
CREATE VIEW trading.v_halt_latch AS SELECT * FROM trading.halt_latch;
CREATE VIEW trading.v_risk_events AS SELECT * FROM trading.risk_events;
CREATE VIEW trading.v_runs AS SELECT * FROM trading.runs;
CREATE VIEW trading.v_equity_points AS SELECT * FROM trading.equity_points;

-- Schema usage: only where a role has something to touch.
GRANT USAGE ON SCHEMA market_data TO gordon_data_writer, gordon_risk, gordon_manager, gordon_lab_reader;
GRANT USAGE ON SCHEMA trading TO gordon_executor, gordon_risk, gordon_manager, gordon_bot, gordon_lab_reader;

-- gordon_data_writer: sole writer of market history. Reads its own history back through
-- the views for gap detection, backfill and its /klines and /warmup endpoints.
GRANT INSERT ON market_data.klines, market_data.metrics, market_data.macro_series,
    market_data.funding_rates, market_data.open_interest TO gordon_data_writer;
GRANT SELECT ON market_data.v_klines_reader, market_data.v_metrics_reader, market_data.v_macro_reader,
    market_data.v_funding_rates_reader, market_data.v_open_interest_reader TO gordon_data_writer;

-- gordon_executor: sole writer of orders and fills. SELECT on orders, trades and positions
-- because `UPDATE … WHERE client_order_id = …` needs it and reconciliation reads its own
-- open orders; positions are derived from its fills, so it maintains them too. It reads
-- the halt latch, which it must enforce, through the view.
GRANT SELECT, INSERT, UPDATE ON trading.orders, trading.trades, trading.positions TO gordon_executor;
GRANT INSERT, UPDATE ON trading.order_events, trading.fill_events TO gordon_executor;
GRANT SELECT ON trading.v_halt_latch TO gordon_executor;

-- gordon_risk: records breaker events and its audit trail, owns the halt latch, and may
-- change one column of bot_configs: desired_state (to pause or resume a bot). SELECT on
-- bot_id alone lets it say which bot; it reads the rest of the state it judges through views.
GRANT INSERT ON trading.risk_events, trading.risk_audit_log TO gordon_risk;
GRANT SELECT (bot_id), UPDATE (desired_state) ON trading.bot_configs TO gordon_risk;
GRANT SELECT, UPDATE (halted, reason, changed_by, changed_at) ON trading.halt_latch TO gordon_risk;
GRANT SELECT ON market_data.v_klines_reader, market_data.v_metrics_reader, trading.v_bot_configs,
    trading.v_orders, trading.v_trades, trading.v_positions, trading.v_risk_events TO gordon_risk;

-- gordon_manager: the control plane. Creates and edits bots (not their ids or creation
-- time), records backtest runs and their equity curves, and reads everything else through
-- the views. A run is inserted when queued and updated once, when it finishes.
GRANT INSERT ON trading.bot_configs, trading.runs, trading.equity_points TO gordon_manager;
GRANT SELECT (bot_id),
      UPDATE (strategy, parameters, symbols, interval, desired_state, max_quote_exposure, updated_at)
    ON trading.bot_configs TO gordon_manager;
GRANT SELECT (run_id), UPDATE (status, summary, finished_at) ON trading.runs TO gordon_manager;
GRANT SELECT ON market_data.v_klines_reader, market_data.v_metrics_reader, market_data.v_macro_reader,
    market_data.v_funding_rates_reader, market_data.v_open_interest_reader,
    trading.v_bot_configs, trading.v_bot_leases, trading.v_order_intents, trading.v_orders,
    trading.v_trades, trading.v_positions, trading.v_halt_latch, trading.v_risk_events,
    trading.v_runs, trading.v_equity_points TO gordon_manager;

-- gordon_bot: emits intents and holds its lease (taken over when the previous holder's
-- advisory lock is gone, hence SELECT and UPDATE on bot_leases). Reads its configuration.
GRANT INSERT ON trading.order_intents TO gordon_bot;
GRANT SELECT, INSERT, UPDATE ON trading.bot_leases TO gordon_bot;
GRANT SELECT ON trading.v_bot_configs TO gordon_bot;

-- Outbox producers and their relays (row-level security in 0004 limits each to its rows):
-- insert, claim with FOR UPDATE SKIP LOCKED (needs SELECT and UPDATE), mark sent, prune.
GRANT SELECT, INSERT, UPDATE, DELETE ON trading.outbox
    TO gordon_executor, gordon_risk, gordon_manager, gordon_bot;

-- gordon_lab_reader: research access. Reads every trading table and every view, writes
-- nothing; market_data base tables stay closed to it like to everyone (views only).
GRANT SELECT ON ALL TABLES IN SCHEMA trading TO gordon_lab_reader;
GRANT SELECT ON market_data.v_klines_reader, market_data.v_metrics_reader, market_data.v_macro_reader,
    market_data.v_funding_rates_reader, market_data.v_open_interest_reader TO gordon_lab_reader;
-- Future trading tables are readable by the lab too, and never writable: the revoke is
-- explicit so no later default grant to PUBLIC-like groups can widen it.
ALTER DEFAULT PRIVILEGES IN SCHEMA trading GRANT SELECT ON TABLES TO gordon_lab_reader;
ALTER DEFAULT PRIVILEGES IN SCHEMA trading
    REVOKE INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON TABLES FROM gordon_lab_reader;
ALTER DEFAULT PRIVILEGES IN SCHEMA market_data
    REVOKE ALL ON TABLES FROM gordon_lab_reader;
