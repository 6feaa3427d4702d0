-- 清退 run-off: when an institution closes or is removed, one regulator action freezes all its releases and
-- refunds every family's unconsumed fees; this row records that it started, by whom and why.
CREATE TABLE run_offs (
    institution_id TEXT PRIMARY KEY REFERENCES institutions (id),
    reason TEXT NOT NULL,
    started_by TEXT NOT NULL,
    started_at BIGINT NOT NULL
);
CREATE TRIGGER run_offs_no_update BEFORE UPDATE ON run_offs
BEGIN SELECT RAISE(ABORT, 'append_only: run_offs rows cannot be changed'); END;
CREATE TRIGGER run_offs_no_delete BEFORE DELETE ON run_offs
BEGIN SELECT RAISE(ABORT, 'append_only: run_offs rows cannot be deleted'); END;
