-- 财务报表 an institution's financial statements for a period ('2026' a year, '2026-Q3' a quarter, '2026-09' a
-- month), filed with the document they summarise. A restatement is filed again for the same period: every
-- filing stays, the newest is the one in force.
CREATE TABLE financial_statements (
    id TEXT PRIMARY KEY,
    institution_id TEXT NOT NULL REFERENCES institutions (id),
    period TEXT NOT NULL,
    revenue_fen BIGINT NOT NULL CHECK (revenue_fen >= 0),
    expenses_fen BIGINT NOT NULL CHECK (expenses_fen >= 0),
    net_assets_fen BIGINT NOT NULL,
    -- 预收学费 prepaid fees received and not yet earned, a liability.
    prepaid_fen BIGINT NOT NULL CHECK (prepaid_fen >= 0),
    document_id TEXT NOT NULL REFERENCES documents (id),
    filed_by TEXT NOT NULL,
    filed_at BIGINT NOT NULL
);
CREATE INDEX financial_statements_by_institution ON financial_statements (institution_id, filed_at);
