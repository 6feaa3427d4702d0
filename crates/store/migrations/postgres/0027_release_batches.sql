-- 批量划转 a region may release confirmed lessons' fees once a day per supervised account instead of one
-- instruction per lesson. Each lesson's release is still its own row in bank_instructions (it reserves that
-- order's escrow and posts its own ledger transfer); `batch_date` holds it back from delivery until the day's
-- batch is formed the next morning, and `batch_id` names the one instruction the bank receives for the day.
-- No uniqueness per account and day: a release whose transaction committed after the day's batch was formed
-- goes into a small batch of its own rather than being lost.
CREATE TABLE release_batches (
    id TEXT PRIMARY KEY,
    supervised_account_id TEXT NOT NULL REFERENCES supervised_accounts (id),
    bank_id TEXT NOT NULL,
    business_date TEXT NOT NULL,
    amount_fen BIGINT NOT NULL CHECK (amount_fen > 0),
    item_count BIGINT NOT NULL CHECK (item_count > 0),
    status TEXT NOT NULL CHECK (status IN ('pending', 'acknowledged', 'executed', 'failed')),
    attempts BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    last_error TEXT,
    created_at BIGINT NOT NULL,
    acknowledged_at BIGINT,
    finished_at BIGINT,
    bank_ref TEXT,
    failure_reason TEXT
);
CREATE INDEX release_batches_due ON release_batches (status, next_attempt_at);
CREATE INDEX release_batches_by_account ON release_batches (supervised_account_id, business_date);

ALTER TABLE bank_instructions ADD COLUMN batch_date TEXT;
ALTER TABLE bank_instructions ADD COLUMN batch_id TEXT REFERENCES release_batches (id);
CREATE INDEX bank_instructions_to_batch ON bank_instructions (batch_date) WHERE batch_id IS NULL;
CREATE INDEX bank_instructions_by_batch ON bank_instructions (batch_id);
