-- 课后服务 after-school service lists: a regulator's list of non-subject institutions for the schools of its
-- region. What the platform knows about each candidate (licence, list, categories, staff) is compared when the
-- list is read, so a flag follows the facts.
CREATE TABLE after_school_lists (
    id TEXT PRIMARY KEY,
    region_code TEXT NOT NULL REFERENCES regions (code),
    name TEXT NOT NULL,
    school_year TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX after_school_lists_by_region ON after_school_lists (region_code, created_at);

CREATE TABLE after_school_candidates (
    list_id TEXT NOT NULL REFERENCES after_school_lists (id),
    institution_id TEXT NOT NULL REFERENCES institutions (id),
    added_by TEXT NOT NULL,
    added_at BIGINT NOT NULL,
    PRIMARY KEY (list_id, institution_id)
);

-- The banks' service-quality reports read each bank's instructions by creation time.
CREATE INDEX bank_instructions_by_bank ON bank_instructions (bank_id, created_at);
CREATE INDEX release_batches_by_bank ON release_batches (bank_id, created_at);
