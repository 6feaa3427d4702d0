-- Confirmed supervised accounts by region (every level), kept by a trigger as banks confirm accounts.
CREATE TABLE account_rollups (
    region_code TEXT PRIMARY KEY,
    level BIGINT NOT NULL,
    confirmed BIGINT NOT NULL
);

CREATE FUNCTION supervised_accounts_rollup() RETURNS trigger AS $$
BEGIN
    IF NEW.status <> 'confirmed' OR (TG_OP = 'UPDATE' AND OLD.status = 'confirmed') THEN
        RETURN NEW;
    END IF;
    INSERT INTO account_rollups (region_code, level, confirmed)
    SELECT level_code, level, 1
    FROM region_levels((SELECT region_code FROM institutions WHERE id = NEW.institution_id))
    ON CONFLICT (region_code) DO UPDATE SET confirmed = account_rollups.confirmed + 1;
    RETURN NEW;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER supervised_accounts_rollup AFTER INSERT OR UPDATE OF status ON supervised_accounts
    FOR EACH ROW EXECUTE FUNCTION supervised_accounts_rollup();

-- Accounts confirmed before this table existed are counted on open (store: rebuild when missing).
