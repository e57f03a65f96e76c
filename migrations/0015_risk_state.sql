-- gordon-risk's memory across restarts, one row: the highest equity seen and the UTC day's
-- opening equity (a drawdown or a day's loss must not be forgotten because the service
-- restarted), the breakers standing tripped (a restart must not trip them, halt and flatten
-- again), and the thresholds it last ran with (a change of one is audited).
CREATE TABLE trading.risk_state (
    id                 boolean     PRIMARY KEY DEFAULT true CHECK (id),
    peak_equity        numeric     CHECK (peak_equity >= 0),
    day                bigint,     -- days since the epoch, UTC
    day_opening_equity numeric     CHECK (day_opening_equity >= 0),
    tripped            text[]      NOT NULL DEFAULT '{}',
    limits             jsonb       NOT NULL DEFAULT '{}'::jsonb,
    updated_at         timestamptz NOT NULL DEFAULT now()
);
INSERT INTO trading.risk_state DEFAULT VALUES;
GRANT SELECT, UPDATE (peak_equity, day, day_opening_equity, tripped, limits, updated_at) ON trading.risk_state TO gordon_risk;

-- A threshold changed between two runs of gordon-risk.
ALTER TABLE trading.risk_audit_log DROP CONSTRAINT risk_audit_log_action_check;
ALTER TABLE trading.risk_audit_log ADD CONSTRAINT risk_audit_log_action_check
    CHECK (action IN ('halt', 'resume', 'flatten', 'pause_bot', 'resume_bot', 'breaker_tripped', 'breaker_reset', 'limits_changed'));
