-- 预留 what an order's instructions that have not failed add up to (pending, acknowledged and executed). An
-- instruction reserves its amount with a conditional update, and the CHECK holds the bound even against a
-- write that forgot to: releases + refunds + instructed-but-not-executed never exceed what the order paid,
-- whatever the interleaving of confirmations, refunds and timers at READ COMMITTED.
ALTER TABLE orders ADD COLUMN instructed_fen BIGINT NOT NULL DEFAULT 0;
UPDATE orders SET instructed_fen = LEAST(amount_fen, COALESCE((SELECT SUM(i.amount_fen) FROM bank_instructions i
    WHERE i.order_id = orders.id AND i.status <> 'failed'), 0));
ALTER TABLE orders ADD CONSTRAINT orders_instructed_within_paid
    CHECK (instructed_fen >= 0 AND instructed_fen <= amount_fen);

-- An instruction is executed by one outflow: a second outflow naming it is money nobody instructed.
CREATE UNIQUE INDEX bank_movements_one_per_instruction ON bank_movements (instruction_id)
    WHERE matched = 'matched';
