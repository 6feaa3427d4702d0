-- 安全策略: sign-in and session rules set by the national security administrator. Every change is a new
-- version; the highest version is in force; none before the first change means the built-in defaults.
CREATE TABLE security_policies (
    version BIGINT PRIMARY KEY,
    -- The policy as canonical JSON (see app::security).
    policy TEXT NOT NULL,
    reason TEXT NOT NULL,
    set_by TEXT NOT NULL,
    set_at BIGINT NOT NULL
);
CREATE TRIGGER security_policies_append_only BEFORE UPDATE OR DELETE ON security_policies
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER security_policies_no_truncate BEFORE TRUNCATE ON security_policies
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();

-- What an audit administrator of a region reads: entries by or about the accounts of its subtree.
CREATE INDEX audit_log_by_actor ON audit_log (actor, seq);
