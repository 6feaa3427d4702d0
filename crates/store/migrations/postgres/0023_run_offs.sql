-- 清退 run-off: when an institution closes or is removed, one regulator action freezes all its releases and
-- refunds every family's unconsumed fees; this row records that it started, by whom and why.
CREATE TABLE run_offs (
    institution_id TEXT PRIMARY KEY REFERENCES institutions (id),
    reason TEXT NOT NULL,
    started_by TEXT NOT NULL,
    started_at BIGINT NOT NULL
);
CREATE TRIGGER run_offs_append_only BEFORE UPDATE OR DELETE ON run_offs
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
