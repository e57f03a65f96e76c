-- The outbox notification now names the row as well as its producer ('<producer>:<id>').
-- The relay reads each producer's pending rows from a cursor (the highest id it has
-- handled), which keeps its query off the dead index entries that sent rows leave behind;
-- a row that commits after higher ids were already published is below that cursor, and
-- its notification is what tells the relay to look back for it.
CREATE OR REPLACE FUNCTION trading.outbox_notify() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('gordon_outbox', NEW.producer || ':' || NEW.id);
    RETURN NULL;
END
$$;
