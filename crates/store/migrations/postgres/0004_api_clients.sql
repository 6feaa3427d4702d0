-- API clients (banks, integrators) sign every request with HMAC over its method, path, body digest,
-- timestamp and nonce. The secret is sealed (the server must recompute signatures, so it cannot be a
-- one-way hash); nonces seen within the replay window are kept to refuse replays.

CREATE TABLE api_clients (
    key_id TEXT PRIMARY KEY,
    secret_sealed TEXT NOT NULL,
    owner_kind TEXT NOT NULL CHECK (owner_kind IN ('bank', 'integrator')),
    owner_id TEXT NOT NULL,
    disabled BIGINT NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
    created_at BIGINT NOT NULL
);

CREATE TABLE api_nonces (
    key_id TEXT NOT NULL REFERENCES api_clients (key_id),
    nonce TEXT NOT NULL,
    seen_at BIGINT NOT NULL,
    PRIMARY KEY (key_id, nonce)
);
CREATE INDEX api_nonces_by_time ON api_nonces (seen_at);
