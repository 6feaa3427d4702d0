-- 区域政策 what a region sets over its parents' policy (DOMAIN.md §3), by version; the highest version of each
-- region is in force. Append-only: a change is a new version with its reason.
CREATE TABLE region_policies (
    region_code TEXT NOT NULL,
    version BIGINT NOT NULL CHECK (version > 0),
    -- The override as JSON (see domain::policy::PolicyOverride).
    policy TEXT NOT NULL,
    reason TEXT NOT NULL,
    set_by TEXT NOT NULL,
    set_at BIGINT NOT NULL,
    PRIMARY KEY (region_code, version)
);
CREATE TRIGGER region_policies_no_update BEFORE UPDATE ON region_policies
BEGIN SELECT RAISE(ABORT, 'append_only: region_policies rows cannot be changed'); END;
CREATE TRIGGER region_policies_no_delete BEFORE DELETE ON region_policies
BEGIN SELECT RAISE(ABORT, 'append_only: region_policies rows cannot be deleted'); END;
