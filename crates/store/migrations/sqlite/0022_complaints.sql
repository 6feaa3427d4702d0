-- 投诉 complaints: a parent's complaint about an institution (with evidence documents), first to the institution's
-- customer service, then — if the parent does not accept the answer or none came in time — to the competent
-- regulator, who records an outcome and may act on the money of the order behind it. Never deleted.
CREATE TABLE complaints (
    id TEXT PRIMARY KEY,
    complaint_no TEXT NOT NULL UNIQUE,
    institution_id TEXT NOT NULL REFERENCES institutions (id),
    parent_id TEXT NOT NULL REFERENCES accounts (id),
    order_id TEXT REFERENCES orders (id),
    category TEXT NOT NULL CHECK (category IN ('refund', 'teaching_quality', 'safety', 'false_advertising', 'other')),
    body TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('with_institution', 'answered', 'accepted', 'escalated', 'resolved')),
    created_at BIGINT NOT NULL,
    answer_by BIGINT NOT NULL,
    answer TEXT,
    answered_at BIGINT,
    escalated_at BIGINT,
    regulator_region TEXT,
    ruling_by BIGINT,
    outcome TEXT CHECK (outcome IN ('mediated', 'penalised', 'dismissed')),
    ruling TEXT,
    money_action TEXT CHECK (money_action IN ('none', 'freeze', 'refund')),
    resolved_by TEXT,
    closed_at BIGINT
);
CREATE INDEX complaints_by_institution ON complaints (institution_id, created_at);
CREATE INDEX complaints_by_parent ON complaints (parent_id, created_at);
CREATE INDEX complaints_by_regulator ON complaints (regulator_region, status);

CREATE TABLE complaint_documents (
    complaint_id TEXT NOT NULL REFERENCES complaints (id),
    document_id TEXT NOT NULL REFERENCES documents (id),
    PRIMARY KEY (complaint_id, document_id)
);

-- A regulator's freeze (a complaint's money action, or a run-off): confirmed lessons' fees are held, not released.
ALTER TABLE orders ADD COLUMN frozen_at BIGINT;
ALTER TABLE orders ADD COLUMN frozen_reason TEXT;

CREATE TRIGGER complaints_no_delete BEFORE DELETE ON complaints
BEGIN SELECT RAISE(ABORT, 'append_only: complaints are never deleted'); END;

-- Text messages for key events, written with the event and sent by the worker through the pluggable sender.
CREATE TABLE sms_outbox (
    id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts (id),
    body TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    sent_at BIGINT,
    last_error TEXT
);
CREATE INDEX sms_outbox_unsent ON sms_outbox (sent_at, created_at);
