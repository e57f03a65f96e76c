-- The transactional outbox (DESIGN §4): a service writes its state change and the event
-- announcing it in one transaction; its relay publishes pending rows to JetStream with
-- Nats-Msg-Id = id and sets sent_at only after the publish ack.
--
-- Several services share this table, each through its own role. Row-level security keeps
-- every producer to its own rows, so a compromised bot cannot read, claim or delete
-- another service's pending events.

CREATE TABLE trading.outbox (
    id            bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    producer      name        NOT NULL DEFAULT current_user,
    subject       text        NOT NULL CHECK (subject ~ '^gordon\.[A-Za-z0-9_.-]+$'),
    event_id      uuid        NOT NULL UNIQUE,
    event_type    text        NOT NULL,
    -- The encoded envelope exactly as it will be published: the relay never re-encodes.
    payload       bytea       NOT NULL,
    -- Events that share a key are published in id order, even with several relays.
    ordering_key  text        NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    sent_at       timestamptz,
    attempts      integer     NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    last_error    text
);
CREATE INDEX outbox_pending_idx ON trading.outbox (producer, id) WHERE sent_at IS NULL;

ALTER TABLE trading.outbox ENABLE ROW LEVEL SECURITY;
CREATE POLICY outbox_own_rows ON trading.outbox
    USING (producer = current_user)
    WITH CHECK (producer = current_user);
-- The lab reader may look at everything, but only look (its grant in 0005 is SELECT).
CREATE POLICY outbox_lab_reads ON trading.outbox FOR SELECT TO gordon_lab_reader USING (true);

-- Relays LISTEN on gordon_outbox and fall back to polling; the payload names the producer
-- so a relay can ignore other services' inserts.
CREATE FUNCTION trading.outbox_notify() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('gordon_outbox', NEW.producer);
    RETURN NULL;
END
$$;
CREATE TRIGGER outbox_notify AFTER INSERT ON trading.outbox
    FOR EACH ROW EXECUTE FUNCTION trading.outbox_notify();
