-- Trading state. Each table has one writer service (see 0005 for the grants).
-- Quantities and prices are numeric (exact); times are timestamptz (UTC on the wire).

CREATE TABLE trading.bot_configs (
    bot_id             text        PRIMARY KEY CHECK (bot_id ~ '^[a-z0-9][a-z0-9_-]{0,62}$'),
    strategy           text        NOT NULL CHECK (length(strategy) BETWEEN 1 AND 64),
    parameters         jsonb       NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(parameters) = 'object'),
    symbols            text[]      NOT NULL CHECK (cardinality(symbols) >= 1),
    interval           text        NOT NULL,
    -- What the operator (via gordon-manager) or gordon-risk wants; bots converge on it.
    desired_state      text        NOT NULL DEFAULT 'stopped'
                                   CHECK (desired_state IN ('running', 'paused', 'stopped')),
    max_quote_exposure numeric     CHECK (max_quote_exposure > 0),
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now()
);

-- One live instance per bot: the holder also keeps a Postgres advisory lock keyed on the
-- bot id for as long as its session lives; this row says who holds it and since when.
CREATE TABLE trading.bot_leases (
    bot_id      text        PRIMARY KEY REFERENCES trading.bot_configs (bot_id),
    instance_id text        NOT NULL CHECK (length(instance_id) BETWEEN 1 AND 128),
    host        text        NOT NULL,
    acquired_at timestamptz NOT NULL DEFAULT now(),
    renewed_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    CHECK (expires_at > acquired_at)
);

-- What a bot asked for. intent_id is also the exchange clientOrderId, which is what makes
-- order placement idempotent end to end.
CREATE TABLE trading.order_intents (
    intent_id            text        PRIMARY KEY CHECK (intent_id ~ '^[.A-Z:/a-z0-9_-]{1,36}$'),
    event_id             uuid        NOT NULL UNIQUE,
    trace_id             text        NOT NULL CHECK (trace_id ~ '^[0-9a-f]{32}$'),
    bot_id               text        NOT NULL REFERENCES trading.bot_configs (bot_id),
    symbol               text        NOT NULL CHECK (symbol ~ '^[A-Z0-9]{2,20}$'),
    side                 text        NOT NULL CHECK (side IN ('BUY', 'SELL')),
    order_type           text        NOT NULL CHECK (order_type IN ('MARKET', 'LIMIT', 'LIMIT_MAKER',
                                         'STOP_LOSS', 'STOP_LOSS_LIMIT', 'TAKE_PROFIT', 'TAKE_PROFIT_LIMIT')),
    time_in_force        text        CHECK (time_in_force IN ('GTC', 'IOC', 'FOK')),
    price                numeric     CHECK (price > 0),
    quantity             numeric     CHECK (quantity > 0),
    quote_order_quantity numeric     CHECK (quote_order_quantity > 0),
    reason               text        NOT NULL,
    created_at           timestamptz NOT NULL DEFAULT now(),
    CHECK ((quantity IS NULL) <> (quote_order_quantity IS NULL)),
    CHECK (order_type <> 'LIMIT' OR (price IS NOT NULL AND time_in_force IS NOT NULL))
);

CREATE TABLE trading.orders (
    client_order_id           text        PRIMARY KEY REFERENCES trading.order_intents (intent_id),
    exchange_order_id         bigint,
    bot_id                    text        NOT NULL REFERENCES trading.bot_configs (bot_id),
    symbol                    text        NOT NULL CHECK (symbol ~ '^[A-Z0-9]{2,20}$'),
    side                      text        NOT NULL CHECK (side IN ('BUY', 'SELL')),
    order_type                text        NOT NULL,
    time_in_force             text        CHECK (time_in_force IN ('GTC', 'IOC', 'FOK')),
    price                     numeric     CHECK (price >= 0),
    quantity                  numeric     NOT NULL CHECK (quantity >= 0),
    executed_quantity         numeric     NOT NULL DEFAULT 0 CHECK (executed_quantity >= 0),
    cumulative_quote_quantity numeric     NOT NULL DEFAULT 0 CHECK (cumulative_quote_quantity >= 0),
    status                    text        NOT NULL CHECK (status IN ('PENDING_NEW', 'NEW',
                                  'PARTIALLY_FILLED', 'FILLED', 'CANCELED', 'PENDING_CANCEL',
                                  'REJECTED', 'EXPIRED', 'EXPIRED_IN_MATCH')),
    reject_reason             text,
    created_at                timestamptz NOT NULL DEFAULT now(),
    updated_at                timestamptz NOT NULL DEFAULT now(),
    UNIQUE (symbol, exchange_order_id)
);
CREATE INDEX orders_open_idx ON trading.orders (bot_id, symbol)
    WHERE status IN ('PENDING_NEW', 'NEW', 'PARTIALLY_FILLED', 'PENDING_CANCEL');

-- One row per exchange trade; Binance trade ids are unique per symbol.
CREATE TABLE trading.trades (
    symbol            text        NOT NULL CHECK (symbol ~ '^[A-Z0-9]{2,20}$'),
    trade_id          bigint      NOT NULL,
    client_order_id   text        NOT NULL REFERENCES trading.orders (client_order_id),
    exchange_order_id bigint      NOT NULL,
    bot_id            text        NOT NULL REFERENCES trading.bot_configs (bot_id),
    side              text        NOT NULL CHECK (side IN ('BUY', 'SELL')),
    price             numeric     NOT NULL CHECK (price > 0),
    quantity          numeric     NOT NULL CHECK (quantity > 0),
    quote_quantity    numeric     NOT NULL CHECK (quote_quantity >= 0),
    commission        numeric     NOT NULL CHECK (commission >= 0),
    commission_asset  text        NOT NULL CHECK (commission_asset ~ '^[A-Z0-9]{1,20}$'),
    is_maker          boolean     NOT NULL,
    trade_time        timestamptz NOT NULL,
    PRIMARY KEY (symbol, trade_id)
);

-- Append-only history of every order state the executor observed, keyed by the event id
-- it published, so a replayed exchange report is recorded once.
CREATE TABLE trading.order_events (
    id                        bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_id                  uuid        NOT NULL UNIQUE,
    client_order_id           text        NOT NULL REFERENCES trading.orders (client_order_id),
    status                    text        NOT NULL,
    executed_quantity         numeric     NOT NULL CHECK (executed_quantity >= 0),
    cumulative_quote_quantity numeric     NOT NULL CHECK (cumulative_quote_quantity >= 0),
    reject_reason             text,
    exchange_time             timestamptz,
    recorded_at               timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE trading.fill_events (
    id          bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_id    uuid        NOT NULL UNIQUE,
    symbol      text        NOT NULL,
    trade_id    bigint      NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (symbol, trade_id),
    FOREIGN KEY (symbol, trade_id) REFERENCES trading.trades (symbol, trade_id)
);

-- Spot positions per bot, long only; maintained by the executor from fills.
CREATE TABLE trading.positions (
    bot_id              text        NOT NULL REFERENCES trading.bot_configs (bot_id),
    symbol              text        NOT NULL CHECK (symbol ~ '^[A-Z0-9]{2,20}$'),
    quantity            numeric     NOT NULL CHECK (quantity >= 0),
    average_entry_price numeric     NOT NULL CHECK (average_entry_price >= 0),
    realized_pnl        numeric     NOT NULL DEFAULT 0,
    updated_at          timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (bot_id, symbol)
);

CREATE TABLE trading.risk_events (
    id          bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_id    uuid        NOT NULL UNIQUE,
    breaker     text        NOT NULL CHECK (breaker ~ '^[a-z0-9_]{1,64}$'),
    state       text        NOT NULL CHECK (state IN ('tripped', 'reset')),
    value       numeric,
    threshold   numeric,
    reason      text        NOT NULL,
    occurred_at timestamptz NOT NULL
);

-- Who did what to the risk state, operators and breakers alike; never updated or deleted.
CREATE TABLE trading.risk_audit_log (
    id          bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    actor       text        NOT NULL CHECK (length(actor) BETWEEN 1 AND 128),
    action      text        NOT NULL CHECK (action IN ('halt', 'resume', 'flatten', 'pause_bot',
                                'resume_bot', 'breaker_tripped', 'breaker_reset')),
    target      text        NOT NULL,
    reason      text        NOT NULL,
    details     jsonb       NOT NULL DEFAULT '{}'::jsonb,
    occurred_at timestamptz NOT NULL DEFAULT now()
);

-- The halt latch: exactly one row. It survives restarts, and only an operator clears it
-- (through gordon-risk). A fresh install starts halted, so nothing trades until an
-- operator has looked at the system and said so.
CREATE TABLE trading.halt_latch (
    id         boolean     PRIMARY KEY DEFAULT true CHECK (id),
    halted     boolean     NOT NULL,
    reason     text        NOT NULL,
    changed_by text        NOT NULL,
    changed_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO trading.halt_latch (halted, reason, changed_by)
VALUES (true, 'fresh install: an operator resumes trading explicitly', 'gordon-migrate');

-- Backtests, walk-forward runs and paper runs launched through gordon-manager.
CREATE TABLE trading.runs (
    run_id      uuid        PRIMARY KEY,
    kind        text        NOT NULL CHECK (kind IN ('backtest', 'walk_forward', 'paper')),
    strategy    text        NOT NULL,
    parameters  jsonb       NOT NULL DEFAULT '{}'::jsonb,
    symbol      text        NOT NULL CHECK (symbol ~ '^[A-Z0-9]{2,20}$'),
    interval    text        NOT NULL,
    from_time   timestamptz NOT NULL,
    to_time     timestamptz NOT NULL,
    status      text        NOT NULL CHECK (status IN ('queued', 'running', 'succeeded', 'failed')),
    summary     jsonb,
    created_at  timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz,
    CHECK (to_time > from_time)
);

CREATE TABLE trading.equity_points (
    run_id         uuid        NOT NULL REFERENCES trading.runs (run_id),
    at             timestamptz NOT NULL,
    equity         numeric     NOT NULL,
    cash           numeric     NOT NULL,
    position_value numeric     NOT NULL,
    drawdown       numeric     NOT NULL CHECK (drawdown >= 0),
    PRIMARY KEY (run_id, at)
);
