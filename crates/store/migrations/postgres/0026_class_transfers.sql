-- 转班 an order's remaining lessons moved to another class (course) of the same institution at the same price per
-- lesson, so what is consumed and refunded is unchanged. The order points at the new course; the history stays.
CREATE TABLE class_transfers (
    id TEXT PRIMARY KEY,
    order_id TEXT NOT NULL REFERENCES orders (id),
    from_course_id TEXT NOT NULL REFERENCES courses (id),
    to_course_id TEXT NOT NULL REFERENCES courses (id),
    lessons_remaining BIGINT NOT NULL CHECK (lessons_remaining > 0),
    transferred_by TEXT NOT NULL,
    transferred_at BIGINT NOT NULL
);
CREATE INDEX class_transfers_by_order ON class_transfers (order_id, transferred_at);
