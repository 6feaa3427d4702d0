-- 消课 each attended lesson of an order: taken by the institution (点名, with or without evidence), then confirmed
-- or disputed by the parent, or confirmed automatically when the window passes — only with evidence; without it
-- the lesson goes to review. A confirmed lesson's fee is released through a bank instruction.
CREATE TABLE lessons (
    id TEXT PRIMARY KEY,
    order_id TEXT NOT NULL REFERENCES orders (id),
    institution_id TEXT NOT NULL REFERENCES institutions (id),
    parent_id TEXT NOT NULL REFERENCES accounts (id),
    lesson_no BIGINT NOT NULL CHECK (lesson_no > 0),
    attended_on TEXT NOT NULL,
    taken_by TEXT NOT NULL,
    evidence TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('awaiting_confirmation', 'confirmed', 'auto_confirmed', 'disputed', 'needs_review')),
    confirm_by BIGINT NOT NULL,
    fee_fen BIGINT NOT NULL CHECK (fee_fen >= 0),
    decided_at BIGINT,
    dispute_reason TEXT,
    release_instruction_id TEXT REFERENCES bank_instructions (id),
    created_at BIGINT NOT NULL,
    UNIQUE (order_id, lesson_no)
);
CREATE INDEX lessons_due ON lessons (status, confirm_by);
CREATE INDEX lessons_by_parent ON lessons (parent_id, status);
