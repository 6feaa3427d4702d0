-- 优惠价 a course may be sold below its list price (price per lesson × lessons): what a purchase then pays, the
-- price actually paid on which every lesson fee, release and refund is computed (法释〔2025〕4号).
ALTER TABLE courses ADD COLUMN preferential_total_fen BIGINT
    CHECK (preferential_total_fen IS NULL OR preferential_total_fen > 0);
