-- 资金监管账户 an institution's supervised account at a bank (custody 托管 or risk deposit 风险保证金). The
-- institution asks; the bank confirms through its API; only then can the institution be white-listed.
CREATE TABLE supervised_accounts (
    id TEXT PRIMARY KEY,
    institution_id TEXT NOT NULL REFERENCES institutions (id),
    bank_id TEXT NOT NULL,
    account_no TEXT NOT NULL,
    mode TEXT NOT NULL CHECK (mode IN ('custody', 'risk_deposit')),
    status TEXT NOT NULL CHECK (status IN ('pending', 'confirmed')),
    requested_at BIGINT NOT NULL,
    confirmed_at BIGINT,
    confirmed_by TEXT,
    UNIQUE (bank_id, account_no)
);
CREATE INDEX supervised_accounts_by_institution ON supervised_accounts (institution_id);
