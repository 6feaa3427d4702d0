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

-- Institutions by region (every level), list status and teaching mode, kept by triggers on every insert and change.
CREATE TABLE institution_rollups (
    region_code TEXT NOT NULL,
    level BIGINT NOT NULL,
    list_status TEXT NOT NULL,
    mode TEXT NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (region_code, list_status, mode)
);

CREATE TRIGGER institutions_rollup_insert AFTER INSERT ON institutions
BEGIN
    INSERT INTO institution_rollups (region_code, level, list_status, mode, n)
    SELECT code, CASE WHEN code = '000000' THEN 0 WHEN substr(code, 3) = '0000' THEN 1 WHEN substr(code, 5) = '00' THEN 2 ELSE 3 END, NEW.list_status, NEW.mode, 1
    FROM (SELECT NEW.region_code AS code UNION SELECT substr(NEW.region_code, 1, 4) || '00'
          UNION SELECT substr(NEW.region_code, 1, 2) || '0000' UNION SELECT '000000') AS levels
    WHERE true
    ON CONFLICT (region_code, list_status, mode) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER institutions_rollup_update AFTER UPDATE OF region_code, list_status, mode ON institutions
WHEN OLD.region_code <> NEW.region_code OR OLD.list_status <> NEW.list_status OR OLD.mode <> NEW.mode
BEGIN
    UPDATE institution_rollups SET n = n - 1
    WHERE list_status = OLD.list_status AND mode = OLD.mode AND region_code IN (OLD.region_code,
        substr(OLD.region_code, 1, 4) || '00', substr(OLD.region_code, 1, 2) || '0000', '000000');
    INSERT INTO institution_rollups (region_code, level, list_status, mode, n)
    SELECT code, CASE WHEN code = '000000' THEN 0 WHEN substr(code, 3) = '0000' THEN 1 WHEN substr(code, 5) = '00' THEN 2 ELSE 3 END, NEW.list_status, NEW.mode, 1
    FROM (SELECT NEW.region_code AS code UNION SELECT substr(NEW.region_code, 1, 4) || '00'
          UNION SELECT substr(NEW.region_code, 1, 2) || '0000' UNION SELECT '000000') AS levels
    WHERE true
    ON CONFLICT (region_code, list_status, mode) DO UPDATE SET n = n + 1;
END;

-- Figures of data that existed before (or was bulk-loaded): `xiaowai rollups rebuild`, run on open when empty.
