-- The risk model sums an institution's outflows of the day and the week at every outflow it is told of: this
-- index answers that from the index alone, without reading the movements' rows or their inflows.
CREATE INDEX bank_movements_outflows ON bank_movements (supervised_account_id, direction, occurred_at, amount_fen);
