-- Backtests run by gordon-manager: each run reports how far it has got and, when it fails,
-- why; an operator may cancel one; the run remembers who asked for it.
ALTER TABLE trading.runs ADD COLUMN progress integer NOT NULL DEFAULT 0 CHECK (progress BETWEEN 0 AND 100);
ALTER TABLE trading.runs ADD COLUMN error text CHECK (length(error) <= 2000);
ALTER TABLE trading.runs ADD COLUMN requested_by text CHECK (length(requested_by) BETWEEN 1 AND 128);
ALTER TABLE trading.runs DROP CONSTRAINT runs_status_check;
ALTER TABLE trading.runs ADD CONSTRAINT runs_status_check
    CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled'));

-- A view lists the columns its table had when it was made: remade with the new ones.
CREATE OR REPLACE VIEW trading.v_runs AS SELECT * FROM trading.runs;

GRANT UPDATE (progress, error) ON trading.runs TO gordon_manager;
