-- The bank's own time of a payment (its notice's `paid_at`, or the statement line's): a balance the bank reports
-- as of an earlier moment did not hold that payment yet, so reconciliation compares like with like.
ALTER TABLE orders ADD COLUMN bank_paid_at BIGINT;
CREATE INDEX orders_paid_by_account ON orders (supervised_account_id, bank_paid_at);
