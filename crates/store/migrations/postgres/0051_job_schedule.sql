-- 定时任务 periodic jobs (the hourly risk sweep, the daily statement check) run once per period across all the
-- servers on this database: a server takes a job by moving its `due_at` to the end of a lease (one conditional
-- UPDATE), runs it, then sets `due_at` to the next period; a server that dies mid-run leaves the lease to lapse.
CREATE TABLE job_schedule (
    name TEXT PRIMARY KEY,
    due_at BIGINT NOT NULL,
    last_run_at BIGINT,
    last_error TEXT
);
