-- Market history, written only by gordon-data (gordon_data_writer) and read only through
-- the v_*_reader views of 0005. Prices and volumes are numeric: exact, never float.

CREATE TABLE market_data.klines (
    symbol                 text        NOT NULL CHECK (symbol ~ '^[A-Z0-9]{2,20}$'),
    interval               text        NOT NULL CHECK (interval IN (
                               '1s', '1m', '3m', '5m', '15m', '30m', '1h', '2h', '4h',
                               '6h', '8h', '12h', '1d', '3d', '1w', '1M')),
    open_time              timestamptz NOT NULL,
    close_time             timestamptz NOT NULL,
    open                   numeric     NOT NULL CHECK (open >= 0),
    high                   numeric     NOT NULL,
    low                    numeric     NOT NULL CHECK (low >= 0),
    close                  numeric     NOT NULL CHECK (close >= 0),
    volume                 numeric     NOT NULL CHECK (volume >= 0),
    quote_volume           numeric     NOT NULL CHECK (quote_volume >= 0),
    trades                 bigint      NOT NULL CHECK (trades >= 0),
    taker_buy_base_volume  numeric     NOT NULL CHECK (taker_buy_base_volume >= 0),
    taker_buy_quote_volume numeric     NOT NULL CHECK (taker_buy_quote_volume >= 0),
    ingested_at            timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (symbol, interval, open_time),
    CHECK (close_time > open_time),
    CHECK (high >= low AND high >= open AND high >= close AND low <= open AND low <= close)
);

-- Alternative data sampled by gordon-data: Fear & Greed, DVOL and the like.
CREATE TABLE market_data.metrics (
    name        text        NOT NULL CHECK (name ~ '^[a-z0-9_]{1,64}$'),
    observed_at timestamptz NOT NULL,
    value       numeric     NOT NULL,
    source      text        NOT NULL,
    ingested_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (name, observed_at)
);

-- Daily/weekly/monthly macro series (FRED ids such as DGS10, M2SL).
CREATE TABLE market_data.macro_series (
    series_id        text        NOT NULL CHECK (series_id ~ '^[A-Za-z0-9_.-]{1,64}$'),
    observation_date date        NOT NULL,
    value            numeric     NOT NULL,
    source           text        NOT NULL,
    ingested_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (series_id, observation_date)
);

CREATE TABLE market_data.funding_rates (
    venue        text        NOT NULL CHECK (venue ~ '^[a-z0-9_]{1,32}$'),
    instrument   text        NOT NULL CHECK (length(instrument) BETWEEN 1 AND 64),
    funding_time timestamptz NOT NULL,
    rate         numeric     NOT NULL,
    ingested_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (venue, instrument, funding_time)
);

CREATE TABLE market_data.open_interest (
    venue             text        NOT NULL CHECK (venue ~ '^[a-z0-9_]{1,32}$'),
    instrument        text        NOT NULL CHECK (length(instrument) BETWEEN 1 AND 64),
    observed_at       timestamptz NOT NULL,
    open_interest     numeric     NOT NULL CHECK (open_interest >= 0),
    open_interest_usd numeric              CHECK (open_interest_usd >= 0),
    ingested_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (venue, instrument, observed_at)
);
