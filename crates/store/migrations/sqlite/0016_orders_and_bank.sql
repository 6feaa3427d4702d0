-- 订单 a parent's purchase of a course for a child, with its e-contract (domain::contract) as canonical JSON
-- and the contract's SM3 digest. An order is paid only when its bank says so (payment_ref is the bank's
-- reference, recorded once).
CREATE TABLE orders (
    id TEXT PRIMARY KEY,
    order_no TEXT NOT NULL UNIQUE,
    institution_id TEXT NOT NULL REFERENCES institutions (id),
    course_id TEXT NOT NULL REFERENCES courses (id),
    parent_id TEXT NOT NULL REFERENCES accounts (id),
    child_id TEXT NOT NULL REFERENCES children (id),
    supervised_account_id TEXT NOT NULL REFERENCES supervised_accounts (id),
    lessons BIGINT NOT NULL CHECK (lessons > 0),
    amount_fen BIGINT NOT NULL CHECK (amount_fen > 0),
    contract_json TEXT NOT NULL,
    contract_digest TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('awaiting_payment', 'paid', 'cancelled')),
    created_at BIGINT NOT NULL,
    paid_at BIGINT,
    payment_ref TEXT UNIQUE,
    CHECK ((status = 'paid') = (payment_ref IS NOT NULL))
);
CREATE INDEX orders_by_parent ON orders (parent_id, created_at);
CREATE INDEX orders_by_institution ON orders (institution_id, created_at);
CREATE INDEX orders_by_account ON orders (supervised_account_id, status);

-- Where each bank takes instructions and offers parents its checkout page (set by the bank through the API).
CREATE TABLE bank_endpoints (
    bank_id TEXT PRIMARY KEY,
    instruction_url TEXT NOT NULL,
    checkout_url TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- 幂等 what each API client's mutation answered, by its Idempotency-Key: a repeat gets the first answer, a
-- different request under a used key is refused.
CREATE TABLE idempotent_requests (
    client_key_id TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    request_digest TEXT NOT NULL,
    status BIGINT NOT NULL,
    response_json TEXT NOT NULL,
    recorded_at BIGINT NOT NULL,
    PRIMARY KEY (client_key_id, idempotency_key)
);

-- 银行指令 the platform's instructions to a bank (release a lesson's fee, refund), delivered with retries until
-- acknowledged, then executed or failed by the bank.
CREATE TABLE bank_instructions (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('release', 'refund')),
    order_id TEXT NOT NULL REFERENCES orders (id),
    supervised_account_id TEXT NOT NULL REFERENCES supervised_accounts (id),
    bank_id TEXT NOT NULL,
    amount_fen BIGINT NOT NULL CHECK (amount_fen > 0),
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
CREATE INDEX bank_instructions_due ON bank_instructions (status, next_attempt_at);
CREATE INDEX bank_instructions_by_order ON bank_instructions (order_id);

-- 动账 every movement a bank reported on a supervised account; an outflow names the instruction it executes.
-- matched: inflow, matched (an outflow of an instruction) or unmatched (an outflow nobody instructed).
CREATE TABLE bank_movements (
    id TEXT PRIMARY KEY,
    supervised_account_id TEXT NOT NULL REFERENCES supervised_accounts (id),
    bank_ref TEXT NOT NULL,
    direction TEXT NOT NULL CHECK (direction IN ('in', 'out')),
    amount_fen BIGINT NOT NULL CHECK (amount_fen > 0),
    balance_after_fen BIGINT NOT NULL,
    occurred_at BIGINT NOT NULL,
    instruction_id TEXT,
    order_no TEXT,
    matched TEXT NOT NULL CHECK (matched IN ('inflow', 'matched', 'unmatched')),
    received_at BIGINT NOT NULL,
    UNIQUE (supervised_account_id, bank_ref)
);
CREATE INDEX bank_movements_by_account ON bank_movements (supervised_account_id, occurred_at);

-- 对账单 a bank's daily statement per supervised account.
CREATE TABLE bank_statements (
    supervised_account_id TEXT NOT NULL REFERENCES supervised_accounts (id),
    statement_date TEXT NOT NULL,
    opening_fen BIGINT NOT NULL,
    closing_fen BIGINT NOT NULL,
    inflow_fen BIGINT NOT NULL CHECK (inflow_fen >= 0),
    outflow_fen BIGINT NOT NULL CHECK (outflow_fen >= 0),
    movement_count BIGINT NOT NULL CHECK (movement_count >= 0),
    received_at BIGINT NOT NULL,
    PRIMARY KEY (supervised_account_id, statement_date)
);

-- 风险事件 what reconciliation found (stored now, consumed by the risk engine).
CREATE TABLE risk_events (
    id TEXT PRIMARY KEY,
    institution_id TEXT NOT NULL REFERENCES institutions (id),
    supervised_account_id TEXT REFERENCES supervised_accounts (id),
    kind TEXT NOT NULL CHECK (kind IN ('unmatched_outflow', 'balance_shortfall', 'missing_statement', 'deposit_shortfall', 'statement_mismatch')),
    level TEXT NOT NULL CHECK (level IN ('yellow', 'orange', 'red')),
    detail_json TEXT NOT NULL,
    raised_at BIGINT NOT NULL
);
CREATE INDEX risk_events_by_institution ON risk_events (institution_id, raised_at);
CREATE INDEX risk_events_by_time ON risk_events (raised_at);

-- The bank-side balance as last reported (by the bank's own time), and when the platform last found the
-- account reconciled (reported balance covers what is owed, every outflow instructed).
ALTER TABLE supervised_accounts ADD COLUMN reported_balance_fen BIGINT;
ALTER TABLE supervised_accounts ADD COLUMN reported_at BIGINT;
ALTER TABLE supervised_accounts ADD COLUMN reconciled_at BIGINT;

CREATE TRIGGER bank_movements_no_update BEFORE UPDATE ON bank_movements
BEGIN SELECT RAISE(ABORT, 'append_only: bank_movements rows cannot be changed'); END;
CREATE TRIGGER bank_movements_no_delete BEFORE DELETE ON bank_movements
BEGIN SELECT RAISE(ABORT, 'append_only: bank_movements rows cannot be deleted'); END;
CREATE TRIGGER risk_events_no_delete BEFORE DELETE ON risk_events
BEGIN SELECT RAISE(ABORT, 'append_only: risk_events rows cannot be deleted'); END;
CREATE INDEX ledger_accounts_by_owner ON ledger_accounts (owner, kind);
