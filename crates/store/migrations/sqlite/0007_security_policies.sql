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
CREATE TRIGGER security_policies_no_update BEFORE UPDATE ON security_policies
BEGIN SELECT RAISE(ABORT, 'append_only: security_policies rows cannot be changed'); END;
CREATE TRIGGER security_policies_no_delete BEFORE DELETE ON security_policies
BEGIN SELECT RAISE(ABORT, 'append_only: security_policies rows cannot be deleted'); END;

-- What an audit administrator of a region reads: entries by or about the accounts of its subtree.
CREATE INDEX audit_log_by_actor ON audit_log (actor, seq);
