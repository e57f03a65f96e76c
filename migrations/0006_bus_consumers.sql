-- Consumers of the GORDON stream (DESIGN §4) record what they have processed and what they
-- gave up on. JetStream delivers at least once; a consumer records the event id in the same
-- transaction as its side effect, so a redelivery is recognised and has no second effect.

CREATE TABLE trading.processed_events (
    role          name        NOT NULL DEFAULT current_user,
    -- The durable consumer's name: one service may consume the same event in several roles.
    consumer      text        NOT NULL CHECK (consumer ~ '^[A-Za-z0-9_-]{1,64}$'),
    event_id      uuid        NOT NULL,
    stream_seq    bigint      NOT NULL CHECK (stream_seq > 0),
    processed_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (role, consumer, event_id)
);
CREATE INDEX processed_events_age_idx ON trading.processed_events (processed_at);

-- Messages a consumer could not process: undecodable payloads at once, failing handlers after
-- the configured number of deliveries. Kept whole (payload and headers) so an operator can
-- inspect, fix and replay them.
CREATE TABLE trading.dead_letters (
    id            bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    role          name        NOT NULL DEFAULT current_user,
    consumer      text        NOT NULL,
    subject       text        NOT NULL,
    stream_seq    bigint      NOT NULL,
    deliveries    integer     NOT NULL CHECK (deliveries >= 1),
    event_id      uuid,
    error_code    text        NOT NULL,
    reason        text        NOT NULL,
    payload       bytea       NOT NULL,
    headers       text,
    dead_at       timestamptz NOT NULL DEFAULT now(),
    UNIQUE (role, consumer, stream_seq)
);

-- As with the outbox, each role sees and writes only its own rows: a compromised bot can
-- neither mark another service's events processed nor read its dead letters.
ALTER TABLE trading.processed_events ENABLE ROW LEVEL SECURITY;
CREATE POLICY processed_events_own_rows ON trading.processed_events
    USING (role = current_user) WITH CHECK (role = current_user);
CREATE POLICY processed_events_lab_reads ON trading.processed_events FOR SELECT TO gordon_lab_reader USING (true);

ALTER TABLE trading.dead_letters ENABLE ROW LEVEL SECURITY;
CREATE POLICY dead_letters_own_rows ON trading.dead_letters
    USING (role = current_user) WITH CHECK (role = current_user);
CREATE POLICY dead_letters_lab_reads ON trading.dead_letters FOR SELECT TO gordon_lab_reader USING (true);

-- Every service that consumes the stream: SELECT for ON CONFLICT and the dedup check,
-- INSERT to record, DELETE to prune processed ids older than the stream's retention.
-- gordon_data_writer consumes nothing and gets nothing.
GRANT SELECT, INSERT, DELETE ON trading.processed_events
    TO gordon_executor, gordon_risk, gordon_manager, gordon_bot;
GRANT SELECT, INSERT ON trading.dead_letters
    TO gordon_executor, gordon_risk, gordon_manager, gordon_bot;
GRANT SELECT ON trading.processed_events, trading.dead_letters TO gordon_lab_reader;
