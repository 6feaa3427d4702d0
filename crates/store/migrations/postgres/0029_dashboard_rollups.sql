-- 监管看板 rollups: the dashboards read these, never the raw orders. Kept per county (the leaf region) and per
-- China day, so concurrent payments contend on their county's row only; a prefecture, province or the nation is
-- the sum of its counties' rows, read by a range on the code's prefix.
CREATE TABLE money_rollups (
    region_code TEXT NOT NULL,
    day TEXT NOT NULL,
    orders_paid BIGINT NOT NULL DEFAULT 0,
    collected_fen BIGINT NOT NULL DEFAULT 0,
    released_fen BIGINT NOT NULL DEFAULT 0,
    refunded_fen BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (region_code, day)
);

-- Institutions by county, list status and teaching mode, kept by a trigger on every insert and change.
CREATE TABLE institution_rollups (
    region_code TEXT NOT NULL,
    list_status TEXT NOT NULL,
    mode TEXT NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (region_code, list_status, mode)
);

CREATE FUNCTION institutions_rollup() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        IF OLD.region_code = NEW.region_code AND OLD.list_status = NEW.list_status AND OLD.mode = NEW.mode THEN
            RETURN NEW;
        END IF;
        UPDATE institution_rollups SET n = n - 1
        WHERE region_code = OLD.region_code AND list_status = OLD.list_status AND mode = OLD.mode;
    END IF;
    INSERT INTO institution_rollups (region_code, list_status, mode, n)
    VALUES (NEW.region_code, NEW.list_status, NEW.mode, 1)
    ON CONFLICT (region_code, list_status, mode) DO UPDATE SET n = institution_rollups.n + 1;
    RETURN NEW;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER institutions_rollup AFTER INSERT OR UPDATE ON institutions
    FOR EACH ROW EXECUTE FUNCTION institutions_rollup();

-- What the platform held before the rollups existed.
INSERT INTO institution_rollups (region_code, list_status, mode, n)
SELECT region_code, list_status, mode, COUNT(*) FROM institutions GROUP BY region_code, list_status, mode;

INSERT INTO money_rollups (region_code, day, orders_paid, collected_fen)
SELECT i.region_code, to_char(to_timestamp(o.paid_at / 1000.0) AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD'),
       COUNT(*), CAST(SUM(o.amount_fen) AS BIGINT)
FROM orders o JOIN institutions i ON i.id = o.institution_id
WHERE o.paid_at IS NOT NULL
GROUP BY 1, 2;

INSERT INTO money_rollups (region_code, day, released_fen, refunded_fen)
SELECT i.region_code, to_char(to_timestamp(b.finished_at / 1000.0) AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD'),
       CAST(SUM(CASE WHEN b.kind = 'release' THEN b.amount_fen ELSE 0 END) AS BIGINT),
       CAST(SUM(CASE WHEN b.kind = 'refund' THEN b.amount_fen ELSE 0 END) AS BIGINT)
FROM bank_instructions b JOIN orders o ON o.id = b.order_id JOIN institutions i ON i.id = o.institution_id
WHERE b.status = 'executed'
GROUP BY 1, 2
ON CONFLICT (region_code, day) DO UPDATE SET released_fen = money_rollups.released_fen + excluded.released_fen,
    refunded_fen = money_rollups.refunded_fen + excluded.refunded_fen;
