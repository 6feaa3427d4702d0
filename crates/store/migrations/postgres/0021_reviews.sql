-- 评价 one review per order, by its parent, after at least one confirmed lesson; weighed by the confirmed lessons
-- behind it. Never deleted: a regulator hides one with a reason (and an audit entry); the institution may reply.
CREATE TABLE reviews (
    id TEXT PRIMARY KEY,
    institution_id TEXT NOT NULL REFERENCES institutions (id),
    order_id TEXT NOT NULL UNIQUE REFERENCES orders (id),
    parent_id TEXT NOT NULL REFERENCES accounts (id),
    teaching BIGINT NOT NULL CHECK (teaching BETWEEN 1 AND 5),
    environment BIGINT NOT NULL CHECK (environment BETWEEN 1 AND 5),
    service BIGINT NOT NULL CHECK (service BETWEEN 1 AND 5),
    value_for_money BIGINT NOT NULL CHECK (value_for_money BETWEEN 1 AND 5),
    body TEXT NOT NULL,
    weight BIGINT NOT NULL CHECK (weight > 0),
    created_at BIGINT NOT NULL,
    reply TEXT,
    replied_at BIGINT,
    hidden_reason TEXT,
    hidden_by TEXT,
    hidden_at BIGINT
);
CREATE INDEX reviews_by_institution ON reviews (institution_id, created_at);
CREATE TRIGGER reviews_no_delete BEFORE DELETE ON reviews
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
