-- A backend whose client has gone notices within seconds. A service gives up a statement that
-- hangs (its deadline closes the connection), or is killed; without this check its backend
-- went on waiting for the lock it was queued on, holding every lock it had taken (an order's
-- row, a redelivered event's claim in processed_events) until that wait ended, which held the
-- retry, and a flatten behind it, as long as the first wait lasted.
DO $$
BEGIN
    EXECUTE format('ALTER DATABASE %I SET client_connection_check_interval = %L', current_database(), '2s');
END $$;
