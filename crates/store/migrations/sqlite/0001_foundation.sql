-- Foundation: reference data, the registry, public notices and the append-only audit log.
-- Times are BIGINT unix milliseconds UTC, money BIGINT fen, ids TEXT (UUIDv7): the same on both backends.

CREATE TABLE meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- 行政区划 GB/T 2260, loaded from data/regions.tsv by the store after migrations.
CREATE TABLE regions (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    display_name TEXT NOT NULL,
    level BIGINT NOT NULL CHECK (level BETWEEN 1 AND 3),
    parent_code TEXT REFERENCES regions (code),
    placeholder BIGINT NOT NULL DEFAULT 0 CHECK (placeholder IN (0, 1))
);
CREATE INDEX regions_by_parent ON regions (parent_code, code);

-- 培训机构
CREATE TABLE institutions (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    credit_code TEXT NOT NULL UNIQUE,
    licence_no TEXT,
    region_code TEXT NOT NULL REFERENCES regions (code),
    address TEXT NOT NULL,
    mode TEXT NOT NULL CHECK (mode IN ('online', 'offline')),
    categories TEXT NOT NULL,
    intro TEXT NOT NULL DEFAULT '',
    list_status TEXT NOT NULL CHECK (list_status IN ('white', 'grey', 'black')),
    list_reason TEXT NOT NULL,
    list_changed_at BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX institutions_by_region ON institutions (region_code);
CREATE INDEX institutions_by_list ON institutions (list_status, list_changed_at, id);
CREATE INDEX institutions_by_update ON institutions (updated_at);

-- 名单变更: every move between lists, append-only.
CREATE TABLE list_changes (
    id TEXT PRIMARY KEY,
    institution_id TEXT NOT NULL REFERENCES institutions (id),
    from_status TEXT CHECK (from_status IN ('white', 'grey', 'black')),
    to_status TEXT NOT NULL CHECK (to_status IN ('white', 'grey', 'black')),
    reason TEXT NOT NULL,
    actor TEXT NOT NULL,
    at BIGINT NOT NULL
);
CREATE INDEX list_changes_by_institution ON list_changes (institution_id, at);

-- 课程 (the policy rules and the sale arrive with the purchase issue).
CREATE TABLE courses (
    id TEXT PRIMARY KEY,
    institution_id TEXT NOT NULL REFERENCES institutions (id),
    name TEXT NOT NULL,
    category TEXT NOT NULL CHECK (category IN ('subject', 'sports', 'arts', 'practice', 'technology')),
    mode TEXT NOT NULL CHECK (mode IN ('online', 'offline')),
    grades TEXT NOT NULL,
    lessons BIGINT NOT NULL CHECK (lessons > 0),
    minutes_per_lesson BIGINT NOT NULL CHECK (minutes_per_lesson > 0),
    class_size BIGINT NOT NULL CHECK (class_size > 0),
    price_per_lesson_fen BIGINT NOT NULL CHECK (price_per_lesson_fen >= 0),
    created_at BIGINT NOT NULL
);
CREATE INDEX courses_by_institution ON courses (institution_id);

-- 公示 / 公开提示 public notices.
CREATE TABLE notices (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('announcement', 'black_list', 'public_warning', 'removal')),
    institution_id TEXT REFERENCES institutions (id),
    region_code TEXT NOT NULL,
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    published_at BIGINT NOT NULL
);
CREATE INDEX notices_by_time ON notices (published_at, id);

-- 审计日志: hash-chained, append-only (the triggers below refuse UPDATE and DELETE).
CREATE TABLE audit_log (
    seq BIGINT PRIMARY KEY,
    at BIGINT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    subject TEXT NOT NULL,
    schema_version BIGINT NOT NULL,
    payload TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    entry_hash TEXT NOT NULL
);
CREATE INDEX audit_log_by_subject ON audit_log (subject, seq);

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'append_only: audit_log rows cannot be changed'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'append_only: audit_log rows cannot be deleted'); END;
CREATE TRIGGER list_changes_no_update BEFORE UPDATE ON list_changes
BEGIN SELECT RAISE(ABORT, 'append_only: list_changes rows cannot be changed'); END;
CREATE TRIGGER list_changes_no_delete BEFORE DELETE ON list_changes
BEGIN SELECT RAISE(ABORT, 'append_only: list_changes rows cannot be deleted'); END;
