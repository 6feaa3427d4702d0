-- no-transaction
-- 学校 schools choose after-school providers from their regions' lists (课后服务). A school is a simple
-- account kind: its accounts belong to one school of one region, created by the region's system
-- administrator. SQLite cannot change the CHECK on accounts.kind in place, so the table is rebuilt under its
-- name as in 0018: foreign keys off outside the transaction, checked before it commits; the tokens, orders,
-- refunds and reviews that reference accounts name the table and resolve to the rebuilt one.
PRAGMA foreign_keys = OFF;
BEGIN;
CREATE TABLE schools (
    id TEXT PRIMARY KEY,
    region_code TEXT NOT NULL REFERENCES regions (code),
    name TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (region_code, name)
);
CREATE TABLE accounts_rebuilt (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('parent', 'staff', 'regulator', 'bank_operator', 'school')),
    username TEXT UNIQUE,
    phone_sealed TEXT,
    phone_index TEXT UNIQUE,
    display_name TEXT NOT NULL,
    password_hash TEXT,
    totp_secret_sealed TEXT,
    last_totp_step BIGINT,
    institution_id TEXT REFERENCES institutions (id),
    staff_role TEXT CHECK (staff_role IN ('admin', 'operator', 'teacher')),
    regulator_role TEXT CHECK (regulator_role IN ('reviewer', 'supervisor', 'system_admin', 'security_admin', 'audit_admin')),
    region_code TEXT,
    bank_id TEXT,
    failed_logins BIGINT NOT NULL DEFAULT 0,
    locked_until BIGINT,
    disabled BIGINT NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    must_change_password BIGINT NOT NULL DEFAULT 0 CHECK (must_change_password IN (0, 1)),
    school_id TEXT REFERENCES schools (id),
    CHECK (kind <> 'parent' OR phone_index IS NOT NULL),
    CHECK (kind = 'parent' OR username IS NOT NULL),
    CHECK (kind <> 'staff' OR (institution_id IS NOT NULL AND staff_role IS NOT NULL)),
    CHECK (kind <> 'regulator' OR (region_code IS NOT NULL AND regulator_role IS NOT NULL)),
    CHECK (kind <> 'school' OR (school_id IS NOT NULL AND region_code IS NOT NULL))
);
INSERT INTO accounts_rebuilt
    SELECT id, kind, username, phone_sealed, phone_index, display_name, password_hash, totp_secret_sealed,
           last_totp_step, institution_id, staff_role, regulator_role, region_code, bank_id, failed_logins,
           locked_until, disabled, created_at, updated_at, must_change_password, NULL
    FROM accounts;
DROP TABLE accounts;
ALTER TABLE accounts_rebuilt RENAME TO accounts;
CREATE INDEX accounts_by_region ON accounts (region_code);
CREATE INDEX accounts_by_school ON accounts (school_id);
-- A school's choice of a candidate on a list; withdrawing keeps the row (the audit log keeps each step).
CREATE TABLE after_school_choices (
    list_id TEXT NOT NULL,
    institution_id TEXT NOT NULL,
    school_id TEXT NOT NULL REFERENCES schools (id),
    note TEXT NOT NULL,
    chosen_by TEXT NOT NULL,
    chosen_at BIGINT NOT NULL,
    withdrawn_by TEXT,
    withdrawn_at BIGINT,
    PRIMARY KEY (list_id, institution_id, school_id),
    FOREIGN KEY (list_id, institution_id) REFERENCES after_school_candidates (list_id, institution_id)
);
CREATE INDEX after_school_choices_by_school ON after_school_choices (school_id);
PRAGMA foreign_key_check;
COMMIT;
PRAGMA foreign_keys = ON;
