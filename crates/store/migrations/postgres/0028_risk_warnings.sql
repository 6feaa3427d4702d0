-- 风险预警模型 the versions of the risk-warning model (domain::risk::RiskModel as JSON). `region_code` is
-- '000000' for the national model or a province's code for its adjustment; the newest version of a region
-- applies. Version numbers are global and only grow, so a warning's `model_version` names one row for good
-- (0: the built-in defaults, before anyone edited the model).
CREATE TABLE risk_models (
    version BIGINT PRIMARY KEY,
    region_code TEXT NOT NULL,
    model_json TEXT NOT NULL,
    reason TEXT NOT NULL,
    set_by TEXT NOT NULL,
    set_at BIGINT NOT NULL
);
CREATE INDEX risk_models_by_region ON risk_models (region_code, version);

-- 风险预警 what the model raised, with the inputs that fired it, and its rectification workflow:
-- open → answered (the institution explains) → lifted, or escalated by the regulator; an open or escalated
-- warning past `rectify_by` is published (公开提示) and the institution moves to the grey list.
CREATE TABLE risk_warnings (
    id TEXT PRIMARY KEY,
    institution_id TEXT NOT NULL REFERENCES institutions (id),
    region_code TEXT NOT NULL,
    indicator TEXT NOT NULL,
    level TEXT NOT NULL CHECK (level IN ('yellow', 'orange', 'red')),
    model_version BIGINT NOT NULL,
    inputs_json TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('open', 'answered', 'lifted', 'escalated', 'published')),
    raised_at BIGINT NOT NULL,
    rectify_by BIGINT NOT NULL,
    answer TEXT,
    answered_at BIGINT,
    decided_by TEXT,
    decided_at BIGINT,
    decision_reason TEXT,
    published_at BIGINT
);
CREATE INDEX risk_warnings_by_region ON risk_warnings (region_code, raised_at);
CREATE INDEX risk_warnings_by_institution ON risk_warnings (institution_id, indicator, status);
CREATE INDEX risk_warnings_due ON risk_warnings (status, rectify_by);

-- 银行风险评分 a bank's own risk score for an institution, shown beside the platform's.
CREATE TABLE bank_risk_scores (
    institution_id TEXT NOT NULL REFERENCES institutions (id),
    bank_id TEXT NOT NULL,
    score BIGINT NOT NULL CHECK (score BETWEEN 0 AND 100),
    note TEXT NOT NULL,
    reported_at BIGINT NOT NULL,
    PRIMARY KEY (institution_id, bank_id)
);

-- 人员流失 when a staff member left the institution (NULL: still on the register).
ALTER TABLE staff_members ADD COLUMN left_at BIGINT;
