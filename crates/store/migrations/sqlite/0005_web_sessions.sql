-- Browser sessions: only a hash of the cookie's secret is stored (the CSRF token is derived from it).
CREATE TABLE web_sessions (
    token_hash TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts (id),
    created_at BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    -- Inactivity after which the session ends (30 minutes for regulators and bank operators).
    idle_timeout_ms BIGINT NOT NULL,
    -- The absolute end, however active the session.
    expires_at BIGINT NOT NULL,
    revoked_at BIGINT
);
CREATE INDEX web_sessions_by_account ON web_sessions (account_id);
