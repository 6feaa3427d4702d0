-- 账本 the money ledger (ledger::posting): accounts with posted totals and balance flags, and immutable,
-- idempotent transfers. The database checks what the code checks: no account with the flag may owe, and no
-- transfer changes or disappears.
CREATE TABLE ledger_accounts (
    id TEXT PRIMARY KEY,
    -- order_escrow, institution_released, refund_destination or bank_clearing.
    kind TEXT NOT NULL CHECK (kind IN ('order_escrow', 'institution_released', 'refund_destination', 'bank_clearing')),
    owner TEXT NOT NULL,
    debits_must_not_exceed_credits BIGINT NOT NULL CHECK (debits_must_not_exceed_credits IN (0, 1)),
    debits_posted BIGINT NOT NULL DEFAULT 0 CHECK (debits_posted >= 0),
    credits_posted BIGINT NOT NULL DEFAULT 0 CHECK (credits_posted >= 0),
    CHECK (debits_must_not_exceed_credits = 0 OR debits_posted <= credits_posted)
);

CREATE TABLE ledger_transfers (
    -- The idempotency key.
    id TEXT PRIMARY KEY,
    debit_account TEXT NOT NULL REFERENCES ledger_accounts (id),
    credit_account TEXT NOT NULL REFERENCES ledger_accounts (id),
    amount BIGINT NOT NULL CHECK (amount > 0),
    code BIGINT NOT NULL,
    posted_at BIGINT NOT NULL,
    CHECK (debit_account <> credit_account)
);
CREATE INDEX ledger_transfers_by_debit ON ledger_transfers (debit_account, posted_at);
CREATE INDEX ledger_transfers_by_credit ON ledger_transfers (credit_account, posted_at);
CREATE TRIGGER ledger_transfers_no_update BEFORE UPDATE ON ledger_transfers
BEGIN SELECT RAISE(ABORT, 'append_only: ledger_transfers rows cannot be changed'); END;
CREATE TRIGGER ledger_transfers_no_delete BEFORE DELETE ON ledger_transfers
BEGIN SELECT RAISE(ABORT, 'append_only: ledger_transfers rows cannot be deleted'); END;
