-- 系统接入 webhooks: the platform tells an integrator what happened at the institutions that authorised it. Events
-- are read from the audit log (the dispatcher's cursor says how far), so an event exists only if its command
-- committed; each becomes one delivery per integrator, retried with backoff, each attempt logged.
CREATE TABLE webhook_endpoints (
    integrator_id TEXT PRIMARY KEY REFERENCES integrators (id),
    url TEXT NOT NULL,
    updated_by TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- One row: the last audit entry the dispatcher has turned into deliveries. It starts at the log's end, so an
-- upgrade sends no history.
CREATE TABLE webhook_cursor (
    id BIGINT PRIMARY KEY CHECK (id = 1),
    after_seq BIGINT NOT NULL
);
INSERT INTO webhook_cursor (id, after_seq) SELECT 1, COALESCE(MAX(seq), 0) FROM audit_log;

CREATE TABLE webhook_deliveries (
    id TEXT PRIMARY KEY,
    integrator_id TEXT NOT NULL REFERENCES integrators (id),
    -- The audit entry the event was read from.
    event_seq BIGINT NOT NULL,
    event_type TEXT NOT NULL,
    institution_id TEXT NOT NULL REFERENCES institutions (id),
    payload TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    attempts BIGINT NOT NULL,
    -- When to try next; NULL once delivered or given up.
    next_attempt_at BIGINT,
    delivered_at BIGINT,
    last_status BIGINT,
    last_error TEXT,
    UNIQUE (integrator_id, event_seq)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at);
CREATE INDEX webhook_deliveries_of ON webhook_deliveries (integrator_id, created_at);

CREATE TABLE webhook_attempts (
    delivery_id TEXT NOT NULL REFERENCES webhook_deliveries (id),
    attempt BIGINT NOT NULL,
    at BIGINT NOT NULL,
    -- The receiver's HTTP status; NULL when it did not answer.
    status BIGINT,
    error TEXT,
    duration_ms BIGINT NOT NULL,
    PRIMARY KEY (delivery_id, attempt)
);
