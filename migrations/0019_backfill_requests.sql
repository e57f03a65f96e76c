-- Backfills an operator asked for through gordon-manager (`gordonctl data backfill`): the
-- manager, which cannot write market data, files the request; gordon-data, which can, takes
-- the oldest one, backfills it over Binance's REST API within its own rate limits, and
-- writes how far it has got and how it ended.
CREATE TABLE market_data.backfill_requests (
    id           bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    symbol       text        NOT NULL CHECK (symbol ~ '^[A-Z0-9]{2,20}$'),
    interval     text        NOT NULL CHECK (interval IN (
                                 '1s', '1m', '3m', '5m', '15m', '30m', '1h', '2h', '4h',
                                 '6h', '8h', '12h', '1d', '3d', '1w', '1M')),
    from_time    timestamptz NOT NULL,
    to_time      timestamptz NOT NULL,
    requested_by text        NOT NULL CHECK (length(requested_by) BETWEEN 1 AND 128),
    requested_at timestamptz NOT NULL DEFAULT now(),
    status       text        NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'running', 'succeeded', 'failed')),
    fetched      bigint      NOT NULL DEFAULT 0 CHECK (fetched >= 0),
    written      bigint      NOT NULL DEFAULT 0 CHECK (written >= 0),
    progress     integer     NOT NULL DEFAULT 0 CHECK (progress BETWEEN 0 AND 100),
    error        text        CHECK (length(error) <= 2000),
    started_at   timestamptz,
    finished_at  timestamptz,
    CHECK (to_time >= from_time)
);
CREATE INDEX backfill_requests_queued ON market_data.backfill_requests (id) WHERE status = 'queued';

-- Reads go through the view, as for every market_data table. The manager files requests
-- (and reads back the id it filed); gordon-data takes the oldest queued one (reading what it
-- asks for) and writes only how each is going.
CREATE VIEW market_data.v_backfill_requests AS SELECT * FROM market_data.backfill_requests;
GRANT SELECT ON market_data.v_backfill_requests TO gordon_manager, gordon_data_writer;
GRANT INSERT, SELECT (id) ON market_data.backfill_requests TO gordon_manager;
GRANT SELECT (id, symbol, interval, from_time, to_time, status),
      UPDATE (status, fetched, written, progress, error, started_at, finished_at)
    ON market_data.backfill_requests TO gordon_data_writer;
