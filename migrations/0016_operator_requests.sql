-- What an operator asked of gordon-risk through gordon-manager (gordonctl over the manager's
-- Unix socket, or the console): halt, resume, flatten, pause or resume one bot. Only
-- gordon-risk changes the halt latch and writes the risk audit trail, so the manager
-- records the request, with who asked (the socket's peer credentials) and why, and risk
-- carries it out within a second, in one transaction with its audit row and the commands
-- it publishes, and says what came of it.
CREATE TABLE trading.operator_requests (
    id           bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    action       text        NOT NULL CHECK (action IN ('halt', 'resume', 'flatten', 'pause_bot', 'resume_bot')),
    target       text        NOT NULL DEFAULT 'all' CHECK (length(target) BETWEEN 1 AND 64),
    reason       text        NOT NULL CHECK (length(reason) BETWEEN 1 AND 500),
    requested_by text        NOT NULL CHECK (length(requested_by) BETWEEN 1 AND 128),
    requested_at timestamptz NOT NULL DEFAULT now(),
    handled_at   timestamptz,
    outcome      text,
    CHECK ((action IN ('pause_bot', 'resume_bot')) = (target <> 'all')),
    CHECK ((handled_at IS NULL) = (outcome IS NULL))
);
CREATE INDEX operator_requests_pending ON trading.operator_requests (id) WHERE handled_at IS NULL;

-- The manager files requests and reads what came of them (SELECT also for RETURNING);
-- risk reads them and writes only when and how each was handled.
GRANT SELECT, INSERT ON trading.operator_requests TO gordon_manager;
GRANT SELECT, UPDATE (handled_at, outcome) ON trading.operator_requests TO gordon_risk;

-- The manager's status screen shows what risk remembers (the breakers standing tripped,
-- the thresholds, the equity peak) and the audit trail, read-only.
CREATE VIEW trading.v_risk_state AS SELECT * FROM trading.risk_state;
CREATE VIEW trading.v_risk_audit_log AS SELECT * FROM trading.risk_audit_log;
GRANT SELECT ON trading.v_risk_state, trading.v_risk_audit_log TO gordon_manager;
