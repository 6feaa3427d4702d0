-- The outflow index holds outflows only: inflows are most movements, and every index entry is a page written
-- on each bank report. The risk model's query names `direction = 'out'`, which this index's condition matches.
DROP INDEX bank_movements_outflows;
CREATE INDEX bank_movements_outflows ON bank_movements (supervised_account_id, occurred_at, amount_fen)
    WHERE direction = 'out';
