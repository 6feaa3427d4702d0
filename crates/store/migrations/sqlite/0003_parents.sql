-- Parents' sign-in codes, children, and the personal-data access log.

-- One-time sign-in codes sent by SMS: only a hash of the code is kept.
CREATE TABLE login_codes (
    id TEXT PRIMARY KEY,
    phone_index TEXT NOT NULL,
    code_hash TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    used_at BIGINT
);
CREATE INDEX login_codes_by_phone ON login_codes (phone_index, created_at);

-- 学生: a parent's linked child. Name and ID-card number are sealed; the ID card has a blind index.
CREATE TABLE children (
    id TEXT PRIMARY KEY,
    parent_id TEXT NOT NULL REFERENCES accounts (id),
    name_sealed TEXT NOT NULL,
    gender TEXT NOT NULL CHECK (gender IN ('female', 'male')),
    id_card_sealed TEXT NOT NULL,
    id_card_index TEXT NOT NULL UNIQUE,
    school TEXT NOT NULL,
    grade TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX children_by_parent ON children (parent_id);

-- 个人信息访问日志: every plain-text reveal of personal data, append-only.
CREATE TABLE pii_access_log (
    id TEXT PRIMARY KEY,
    actor TEXT NOT NULL,
    subject TEXT NOT NULL,
    field TEXT NOT NULL,
    reason TEXT NOT NULL,
    at BIGINT NOT NULL
);
CREATE INDEX pii_access_log_by_subject ON pii_access_log (subject, at);

CREATE TRIGGER pii_access_log_no_update BEFORE UPDATE ON pii_access_log
BEGIN SELECT RAISE(ABORT, 'append_only: pii_access_log rows cannot be changed'); END;
CREATE TRIGGER pii_access_log_no_delete BEFORE DELETE ON pii_access_log
BEGIN SELECT RAISE(ABORT, 'append_only: pii_access_log rows cannot be deleted'); END;
