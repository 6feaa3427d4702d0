-- 信息报备 an institution's filed information, by version. The newest version may be a draft the
-- institution edits; a submitted version is frozen and goes to the competent regulator, who approves it or
-- rejects it with a reason per field; a rejected filing is corrected in a new version. All versions stay.
CREATE TABLE filings (
    institution_id TEXT NOT NULL REFERENCES institutions (id),
    version BIGINT NOT NULL CHECK (version > 0),
    kind TEXT NOT NULL CHECK (kind IN ('onboarding', 'change')),
    status TEXT NOT NULL CHECK (status IN ('draft', 'submitted', 'approved', 'rejected')),
    -- The filing as JSON (see app::filing).
    data TEXT NOT NULL,
    -- Set at submission: the county of the premises (offline) or the province (online).
    competent_region TEXT,
    submitted_at BIGINT,
    decided_at BIGINT,
    decided_by TEXT,
    -- On rejection: {"field path": "reason", ...} as JSON.
    field_reasons TEXT,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (institution_id, version)
);
CREATE INDEX filings_queue ON filings (status, competent_region, submitted_at);

-- Documents filed with the information; the bytes live in the object store under storage_key.
CREATE TABLE documents (
    id TEXT PRIMARY KEY,
    institution_id TEXT NOT NULL REFERENCES institutions (id),
    kind TEXT NOT NULL,
    filename TEXT NOT NULL,
    content_type TEXT NOT NULL CHECK (content_type IN ('application/pdf', 'image/jpeg', 'image/png')),
    size BIGINT NOT NULL CHECK (size > 0),
    digest TEXT NOT NULL,
    storage_key TEXT NOT NULL UNIQUE,
    uploaded_by TEXT NOT NULL,
    uploaded_at BIGINT NOT NULL
);
CREATE INDEX documents_by_institution ON documents (institution_id, kind, uploaded_at);
