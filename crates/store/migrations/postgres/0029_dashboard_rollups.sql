-- 监管看板 rollups: the dashboards read these, never the raw orders. Every event adds to its county's row and to
-- the rows of the prefecture, province and nation above it (`level` 3, 2, 1, 0), so any region's figures are an
-- exact-key read. The rows above the county are split into shards (by institution) so concurrent payments across
-- a province or the nation do not queue on one row; a read sums the shards.
CREATE TABLE money_rollups (
    region_code TEXT NOT NULL,
    level BIGINT NOT NULL,
    day TEXT NOT NULL,
    shard BIGINT NOT NULL,
    orders_paid BIGINT NOT NULL DEFAULT 0,
    collected_fen BIGINT NOT NULL DEFAULT 0,
    released_fen BIGINT NOT NULL DEFAULT 0,
    refunded_fen BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (region_code, day, shard)
);
CREATE INDEX money_rollups_by_level ON money_rollups (level, region_code);

-- Institutions by region (every level), list status and teaching mode, kept by a trigger on every insert and change.
CREATE TABLE institution_rollups (
    region_code TEXT NOT NULL,
    level BIGINT NOT NULL,
    list_status TEXT NOT NULL,
    mode TEXT NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (region_code, list_status, mode)
);

CREATE FUNCTION region_levels(code TEXT) RETURNS TABLE (level_code TEXT, level BIGINT) AS $$
    SELECT DISTINCT c, CAST(CASE WHEN c = '000000' THEN 0 WHEN substr(c, 3) = '0000' THEN 1 WHEN substr(c, 5) = '00' THEN 2 ELSE 3 END AS BIGINT)
    FROM (VALUES (code), (substr(code, 1, 4) || '00'), (substr(code, 1, 2) || '0000'), ('000000')) AS v (c)
$$ LANGUAGE sql IMMUTABLE;

CREATE FUNCTION institutions_rollup() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        IF OLD.region_code = NEW.region_code AND OLD.list_status = NEW.list_status AND OLD.mode = NEW.mode THEN
            RETURN NEW;
        END IF;
        UPDATE institution_rollups SET n = n - 1
        WHERE list_status = OLD.list_status AND mode = OLD.mode
          AND region_code IN (SELECT level_code FROM region_levels(OLD.region_code));
    END IF;
    INSERT INTO institution_rollups (region_code, level, list_status, mode, n)
    SELECT level_code, level, NEW.list_status, NEW.mode, 1 FROM region_levels(NEW.region_code)
    ON CONFLICT (region_code, list_status, mode) DO UPDATE SET n = institution_rollups.n + 1;
    RETURN NEW;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER institutions_rollup AFTER INSERT OR UPDATE ON institutions
    FOR EACH ROW EXECUTE FUNCTION institutions_rollup();

-- Figures of data that existed before (or was bulk-loaded): `xiaowai rollups rebuild`, run on open when empty.
