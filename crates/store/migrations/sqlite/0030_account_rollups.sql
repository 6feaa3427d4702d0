-- Confirmed supervised accounts by region (every level), kept by triggers as banks confirm accounts.
CREATE TABLE account_rollups (
    region_code TEXT PRIMARY KEY,
    level BIGINT NOT NULL,
    confirmed BIGINT NOT NULL
);

CREATE TRIGGER supervised_accounts_rollup_insert AFTER INSERT ON supervised_accounts
WHEN NEW.status = 'confirmed'
BEGIN
    INSERT INTO account_rollups (region_code, level, confirmed)
    SELECT code, CASE WHEN code = '000000' THEN 0 WHEN substr(code, 3) = '0000' THEN 1 WHEN substr(code, 5) = '00' THEN 2 ELSE 3 END, 1
    FROM (SELECT i.region_code AS code FROM institutions i WHERE i.id = NEW.institution_id
          UNION SELECT substr(i.region_code, 1, 4) || '00' FROM institutions i WHERE i.id = NEW.institution_id
          UNION SELECT substr(i.region_code, 1, 2) || '0000' FROM institutions i WHERE i.id = NEW.institution_id
          UNION SELECT '000000') AS levels
    WHERE true
    ON CONFLICT (region_code) DO UPDATE SET confirmed = confirmed + 1;
END;

CREATE TRIGGER supervised_accounts_rollup_confirm AFTER UPDATE OF status ON supervised_accounts
WHEN OLD.status <> 'confirmed' AND NEW.status = 'confirmed'
BEGIN
    INSERT INTO account_rollups (region_code, level, confirmed)
    SELECT code, CASE WHEN code = '000000' THEN 0 WHEN substr(code, 3) = '0000' THEN 1 WHEN substr(code, 5) = '00' THEN 2 ELSE 3 END, 1
    FROM (SELECT i.region_code AS code FROM institutions i WHERE i.id = NEW.institution_id
          UNION SELECT substr(i.region_code, 1, 4) || '00' FROM institutions i WHERE i.id = NEW.institution_id
          UNION SELECT substr(i.region_code, 1, 2) || '0000' FROM institutions i WHERE i.id = NEW.institution_id
          UNION SELECT '000000') AS levels
    WHERE true
    ON CONFLICT (region_code) DO UPDATE SET confirmed = confirmed + 1;
END;

-- Accounts confirmed before this table existed are counted on open (store: rebuild when missing).
