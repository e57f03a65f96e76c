-- Outbox rows that can never be published (no stream captures the subject, the server
-- refuses the subject to this producer, the message is larger than the server accepts)
-- leave the outbox for trading.dead_letters, so one bad row does not hold back every row
-- after it. A dead letter now comes either from a consumer (stream_seq) or from a
-- producer's outbox (outbox_id), never both.
ALTER TABLE trading.dead_letters
    ALTER COLUMN stream_seq DROP NOT NULL,
    ADD COLUMN outbox_id bigint,
    ADD COLUMN ordering_key text,
    ADD CONSTRAINT dead_letters_one_source CHECK ((stream_seq IS NULL) <> (outbox_id IS NULL));
CREATE UNIQUE INDEX dead_letters_outbox_idx ON trading.dead_letters (role, outbox_id) WHERE outbox_id IS NOT NULL;
