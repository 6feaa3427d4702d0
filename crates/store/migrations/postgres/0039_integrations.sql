-- 系统接入 integrators: a technology provider's system (a tutoring SaaS, say) registered by the platform's service
-- team with a signing key, and the institutions that authorise it, each for some operations. A grant is revoked,
-- never deleted; at most one is live per integrator and institution.
CREATE TABLE integrators (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    contact TEXT NOT NULL,
    key_id TEXT NOT NULL UNIQUE REFERENCES api_clients (key_id),
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE integration_grants (
    id TEXT PRIMARY KEY,
    integrator_id TEXT NOT NULL REFERENCES integrators (id),
    institution_id TEXT NOT NULL REFERENCES institutions (id),
    -- Comma-separated: courses, orders, attendance, service.
    scopes TEXT NOT NULL,
    granted_by TEXT NOT NULL,
    granted_at BIGINT NOT NULL,
    revoked_by TEXT,
    revoked_at BIGINT
);
CREATE UNIQUE INDEX integration_grants_live ON integration_grants (integrator_id, institution_id)
    WHERE revoked_at IS NULL;
CREATE INDEX integration_grants_by_institution ON integration_grants (institution_id, granted_at);
