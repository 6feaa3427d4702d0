-- 请假 a parent's leave for one day of an order's classes: no lesson of that order is taken (consumed) that day.
CREATE TABLE leave_requests (
    id TEXT PRIMARY KEY,
    order_id TEXT NOT NULL REFERENCES orders (id),
    institution_id TEXT NOT NULL REFERENCES institutions (id),
    on_date TEXT NOT NULL,
    reason TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (order_id, on_date)
);
