-- 抽检 spot checks, 行政处罚 penalties and 信用 credit (DOMAIN.md §5).

-- A regulator's campaign: its share of the region's institutions, drawn per stratum from the recorded seed, so
-- anyone can draw the same sample again.
CREATE TABLE spot_check_campaigns (
    id TEXT PRIMARY KEY,
    region_code TEXT NOT NULL REFERENCES regions (code),
    name TEXT NOT NULL,
    share_percent BIGINT NOT NULL CHECK (share_percent BETWEEN 1 AND 100),
    strata TEXT NOT NULL,
    seed BIGINT NOT NULL CHECK (seed >= 0),
    population BIGINT NOT NULL CHECK (population >= 0),
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX spot_check_campaigns_by_region ON spot_check_campaigns (region_code, created_at);

-- One drawn institution, its checker, and the findings against the five focus items once recorded.
CREATE TABLE spot_checks (
    id TEXT PRIMARY KEY,
    campaign_id TEXT NOT NULL REFERENCES spot_check_campaigns (id),
    institution_id TEXT NOT NULL REFERENCES institutions (id),
    stratum TEXT NOT NULL,
    checker_id TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('assigned', 'recorded')),
    findings_json TEXT,
    finding_count BIGINT NOT NULL DEFAULT 0 CHECK (finding_count BETWEEN 0 AND 5),
    recorded_by TEXT,
    recorded_at BIGINT,
    UNIQUE (campaign_id, institution_id)
);
CREATE INDEX spot_checks_by_institution ON spot_checks (institution_id, recorded_at);
CREATE INDEX spot_checks_by_checker ON spot_checks (checker_id, status);

CREATE TABLE spot_check_evidence (
    spot_check_id TEXT NOT NULL REFERENCES spot_checks (id),
    document_id TEXT NOT NULL REFERENCES documents (id),
    PRIMARY KEY (spot_check_id, document_id)
);

-- 行政处罚决定 (MOE Order No. 53). A decision is never changed or deleted: a correction is another decision.
CREATE TABLE penalties (
    id TEXT PRIMARY KEY,
    institution_id TEXT NOT NULL REFERENCES institutions (id),
    kind TEXT NOT NULL CHECK (kind IN ('warning', 'public_criticism', 'fine', 'confiscation', 'stop_enrolling',
                                       'stop_operating', 'licence_revocation', 'trade_ban')),
    decision_no TEXT NOT NULL UNIQUE,
    decided_on TEXT NOT NULL,
    amount_fen BIGINT CHECK (amount_fen IS NULL OR amount_fen > 0),
    legal_basis TEXT NOT NULL,
    facts TEXT NOT NULL,
    in_force_until TEXT,
    published BIGINT NOT NULL CHECK (published IN (0, 1)),
    region_code TEXT NOT NULL,
    decided_by TEXT NOT NULL,
    recorded_at BIGINT NOT NULL
);
CREATE INDEX penalties_by_institution ON penalties (institution_id, decided_on);
CREATE TRIGGER penalties_no_update BEFORE UPDATE ON penalties
BEGIN SELECT RAISE(ABORT, 'append_only: penalties rows cannot be changed'); END;
CREATE TRIGGER penalties_no_delete BEFORE DELETE ON penalties
BEGIN SELECT RAISE(ABORT, 'append_only: penalties rows cannot be deleted'); END;

-- The credit model's versions (national), and each year's published ratings.
CREATE TABLE credit_models (
    version BIGINT PRIMARY KEY,
    model_json TEXT NOT NULL,
    reason TEXT NOT NULL,
    set_by TEXT NOT NULL,
    set_at BIGINT NOT NULL
);
CREATE TABLE credit_ratings (
    institution_id TEXT NOT NULL REFERENCES institutions (id),
    year BIGINT NOT NULL,
    score BIGINT NOT NULL CHECK (score BETWEEN 0 AND 100),
    grade TEXT NOT NULL CHECK (grade IN ('A', 'B', 'C', 'D')),
    breakdown_json TEXT NOT NULL,
    model_version BIGINT NOT NULL,
    published_by TEXT NOT NULL,
    published_at BIGINT NOT NULL,
    PRIMARY KEY (institution_id, year)
);

-- Published penalties are public notices of their own kind. SQLite cannot change a CHECK: the table is copied.
CREATE TABLE notices_with_penalties (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('announcement', 'black_list', 'public_warning', 'removal', 'penalty')),
    institution_id TEXT REFERENCES institutions (id),
    region_code TEXT NOT NULL,
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    published_at BIGINT NOT NULL,
    until_at BIGINT
);
INSERT INTO notices_with_penalties (id, kind, institution_id, region_code, title, body, published_at, until_at)
SELECT id, kind, institution_id, region_code, title, body, published_at, until_at FROM notices;
DROP TABLE notices;
ALTER TABLE notices_with_penalties RENAME TO notices;
CREATE INDEX notices_by_time ON notices (published_at, id);
