-- The withdrawal indicators count only outflows the platform did not instruct (its own releases and refunds
-- are not withdrawals); the outflow index holds exactly those, in the same words the risk model's query uses.
DROP INDEX bank_movements_outflows;
CREATE INDEX bank_movements_outflows ON bank_movements (supervised_account_id, occurred_at, amount_fen)
    WHERE direction = 'out' AND matched <> 'matched';
