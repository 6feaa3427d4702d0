-- no-transaction
-- 数字人民币智能合约 e-CNY smart-contract supervision: the money stays locked in the parent's wallet and the
-- wallet operator releases it per lesson on the platform's instruction — the same messages and ledger as custody.
-- SQLite cannot change a CHECK in place: the table is rebuilt under its name, the way SQLite's documentation
-- prescribes (foreign keys off outside the transaction, checked before it commits). Foreign keys from orders and
-- the bank tables name the table, so they resolve to the rebuilt one.
PRAGMA foreign_keys = OFF;
BEGIN;
CREATE TABLE supervised_accounts_rebuilt (
    id TEXT PRIMARY KEY,
    institution_id TEXT NOT NULL REFERENCES institutions (id),
    bank_id TEXT NOT NULL,
    account_no TEXT NOT NULL,
    mode TEXT NOT NULL CHECK (mode IN ('custody', 'risk_deposit', 'ecny')),
    status TEXT NOT NULL CHECK (status IN ('pending', 'confirmed')),
    requested_at BIGINT NOT NULL,
    confirmed_at BIGINT,
    confirmed_by TEXT,
    reported_balance_fen BIGINT,
    reported_at BIGINT,
    reconciled_at BIGINT,
    UNIQUE (bank_id, account_no)
);
INSERT INTO supervised_accounts_rebuilt
    SELECT id, institution_id, bank_id, account_no, mode, status, requested_at, confirmed_at, confirmed_by,
           reported_balance_fen, reported_at, reconciled_at
    FROM supervised_accounts;
DROP TABLE supervised_accounts;
ALTER TABLE supervised_accounts_rebuilt RENAME TO supervised_accounts;
CREATE INDEX supervised_accounts_by_institution ON supervised_accounts (institution_id);
PRAGMA foreign_key_check;
COMMIT;
PRAGMA foreign_keys = ON;
