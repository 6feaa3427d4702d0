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
CREATE TRIGGER region_policies_append_only BEFORE UPDATE OR DELETE ON region_policies
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER region_policies_no_truncate BEFORE TRUNCATE ON region_policies
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();
