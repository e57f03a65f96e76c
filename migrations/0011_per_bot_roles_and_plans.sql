-- Bots are isolated from each other in PostgreSQL, not only in NATS. Every bot logs in as a
-- role of its own, a member of gordon_bot (so it inherits the group's grants), and
-- row-level security keys the bot tables to the bot that role belongs to: bot A can neither
-- write intents or lease rows for bot B nor queue outbox events on B's subjects, which B's
-- relay would otherwise publish with B's credentials.
--
-- `gordon-migrate add-bot` creates the role and its row here; the mapping lives in a table
-- (not in a naming rule) so a policy never parses role names.
CREATE TABLE trading.bot_roles (
    bot_id     text        PRIMARY KEY CHECK (bot_id ~ '^[a-z0-9][a-z0-9_-]{0,51}$'),
    role_name  name        NOT NULL UNIQUE,
    created_at timestamptz NOT NULL DEFAULT now()
);

-- The bot a login role acts for, or NULL. SECURITY DEFINER so bots need no grant on
-- bot_roles; the caller passes current_user, evaluated in its own context.
CREATE FUNCTION trading.bot_of(role name) RETURNS text
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
    AS $$ SELECT bot_id FROM trading.bot_roles WHERE role_name = role $$;
REVOKE ALL ON FUNCTION trading.bot_of(name) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION trading.bot_of(name) TO gordon_bot, gordon_lab_reader;

ALTER TABLE trading.order_intents ENABLE ROW LEVEL SECURITY;
CREATE POLICY order_intents_own_bot ON trading.order_intents FOR INSERT TO gordon_bot
    WITH CHECK (bot_id = trading.bot_of(current_user));
CREATE POLICY order_intents_lab_reads ON trading.order_intents FOR SELECT TO gordon_lab_reader USING (true);

ALTER TABLE trading.bot_leases ENABLE ROW LEVEL SECURITY;
CREATE POLICY bot_leases_own_bot ON trading.bot_leases TO gordon_bot
    USING (bot_id = trading.bot_of(current_user)) WITH CHECK (bot_id = trading.bot_of(current_user));
CREATE POLICY bot_leases_lab_reads ON trading.bot_leases FOR SELECT TO gordon_lab_reader USING (true);

-- The outbox already keeps each role to its own rows; a bot's rows must also name its own
-- subjects (RESTRICTIVE: and-ed with the permissive own-rows policy).
CREATE POLICY outbox_bot_subjects ON trading.outbox AS RESTRICTIVE FOR INSERT TO gordon_bot
    WITH CHECK (subject IN ('gordon.intent.' || trading.bot_of(current_user),
                            'gordon.bot.lifecycle.' || trading.bot_of(current_user)));

-- A bot's plan beyond the entry strategy: its overlays and sizing rule, in the backtester's
-- own JSON (`TradingPlan`), so a bot trades exactly the plan a backtest ran.
ALTER TABLE trading.bot_configs
    ADD COLUMN overlays jsonb NOT NULL DEFAULT '[]'::jsonb CHECK (jsonb_typeof(overlays) = 'array'),
    ADD COLUMN sizing jsonb NOT NULL DEFAULT '{"name": "fixed_fraction"}'::jsonb CHECK (jsonb_typeof(sizing) = 'object');
CREATE OR REPLACE VIEW trading.v_bot_configs AS SELECT * FROM trading.bot_configs;
GRANT UPDATE (overlays, sizing) ON trading.bot_configs TO gordon_manager;

-- What a bot reads: its own configuration, and its position and order history as the
-- executor recorded them (a restarted bot rebuilds its view of the position from these,
-- never from memory). The views filter by the caller; bots lose the all-bots view.
REVOKE SELECT ON trading.v_bot_configs FROM gordon_bot;
CREATE VIEW trading.v_own_bot_config AS
    SELECT * FROM trading.bot_configs WHERE bot_id = trading.bot_of(current_user);
CREATE VIEW trading.v_own_bot_positions AS
    SELECT * FROM trading.positions WHERE bot_id = trading.bot_of(current_user);
CREATE VIEW trading.v_own_bot_intents AS
    SELECT * FROM trading.order_intents WHERE bot_id = trading.bot_of(current_user);
CREATE VIEW trading.v_own_bot_orders AS
    SELECT * FROM trading.orders WHERE bot_id = trading.bot_of(current_user);
GRANT SELECT ON trading.v_own_bot_config, trading.v_own_bot_positions, trading.v_own_bot_intents, trading.v_own_bot_orders
    TO gordon_bot;
GRANT SELECT ON trading.v_own_bot_config, trading.v_own_bot_positions, trading.v_own_bot_intents, trading.v_own_bot_orders,
    trading.bot_roles TO gordon_lab_reader;
