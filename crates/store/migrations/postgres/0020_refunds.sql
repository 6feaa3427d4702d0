-- 退费 a parent's request to have the unconsumed part of an order back: the institution agrees or refuses with a
-- reason within the region's window (silence agrees); a refusal may be escalated to the competent regulator, who
-- decides. An agreed or upheld refund becomes a bank instruction by the original route. One open request per order.
CREATE TABLE refunds (
    id TEXT PRIMARY KEY,
    order_id TEXT NOT NULL REFERENCES orders (id),
    institution_id TEXT NOT NULL REFERENCES institutions (id),
    parent_id TEXT NOT NULL REFERENCES accounts (id),
    lessons_taken BIGINT NOT NULL CHECK (lessons_taken >= 0),
    amount_fen BIGINT NOT NULL CHECK (amount_fen > 0),
    reason TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('requested', 'agreed', 'refused', 'escalated', 'upheld', 'dismissed')),
    answer_by BIGINT NOT NULL,
    answer_reason TEXT,
    decided_by TEXT,
    decided_at BIGINT,
    instruction_id TEXT REFERENCES bank_instructions (id),
    created_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX refunds_one_open_per_order ON refunds (order_id) WHERE status IN ('requested', 'refused', 'escalated');
CREATE INDEX refunds_due ON refunds (status, answer_by);
CREATE INDEX refunds_by_institution ON refunds (institution_id, created_at);
-- An order is closed when its refund is agreed: no more lessons are taken on it.
ALTER TABLE orders ADD COLUMN closed_at BIGINT;
