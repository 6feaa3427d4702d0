-- 学校 schools choose after-school providers from their regions' lists (课后服务). A school is a simple
-- account kind: its accounts belong to one school of one region, created by the region's system administrator.
CREATE TABLE schools (
    id TEXT PRIMARY KEY,
    region_code TEXT NOT NULL REFERENCES regions (code),
    name TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (region_code, name)
);
ALTER TABLE accounts ADD COLUMN school_id TEXT REFERENCES schools (id);
ALTER TABLE accounts DROP CONSTRAINT accounts_kind_check;
ALTER TABLE accounts ADD CONSTRAINT accounts_kind_check
    CHECK (kind IN ('parent', 'staff', 'regulator', 'bank_operator', 'school'));
ALTER TABLE accounts ADD CONSTRAINT accounts_school_check
    CHECK (kind <> 'school' OR (school_id IS NOT NULL AND region_code IS NOT NULL));
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
