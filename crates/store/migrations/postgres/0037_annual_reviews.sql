-- 年检年审: the regulator's annual review result per institution and year, citing the year's platform data.
-- Recorded once; licence renewal cites it.
CREATE TABLE annual_reviews (
    institution_id TEXT NOT NULL REFERENCES institutions (id),
    year BIGINT NOT NULL,
    result TEXT NOT NULL CHECK (result IN ('pass', 'conditional', 'fail')),
    remarks TEXT NOT NULL,
    reviewed_by TEXT NOT NULL,
    reviewed_at BIGINT NOT NULL,
    PRIMARY KEY (institution_id, year)
);
