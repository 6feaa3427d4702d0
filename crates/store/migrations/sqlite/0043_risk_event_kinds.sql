-- no-transaction
-- Two more reconciliation events: a bank reference reused for a different message (red), and an instruction
-- the bank acknowledged but never answered (orange). SQLite cannot change a CHECK in place: the table is
-- rebuilt under its name, as 0018 did for supervised accounts.
PRAGMA foreign_keys = OFF;
BEGIN;
CREATE TABLE risk_events_rebuilt (
    id TEXT PRIMARY KEY,
    institution_id TEXT NOT NULL REFERENCES institutions (id),
    supervised_account_id TEXT REFERENCES supervised_accounts (id),
    kind TEXT NOT NULL CHECK (kind IN ('unmatched_outflow', 'balance_shortfall', 'missing_statement', 'deposit_shortfall',
        'statement_mismatch', 'reference_reused', 'instruction_unsettled')),
    level TEXT NOT NULL CHECK (level IN ('yellow', 'orange', 'red')),
    detail_json TEXT NOT NULL,
    raised_at BIGINT NOT NULL
);
INSERT INTO risk_events_rebuilt
    SELECT id, institution_id, supervised_account_id, kind, level, detail_json, raised_at FROM risk_events;
DROP TABLE risk_events;
ALTER TABLE risk_events_rebuilt RENAME TO risk_events;
CREATE INDEX risk_events_by_institution ON risk_events (institution_id, raised_at);
CREATE INDEX risk_events_by_time ON risk_events (raised_at);
PRAGMA foreign_key_check;
COMMIT;
PRAGMA foreign_keys = ON;
