-- Two more reconciliation events: a bank reference reused for a different message (red), and an instruction
-- the bank acknowledged but never answered (orange).
ALTER TABLE risk_events DROP CONSTRAINT risk_events_kind_check;
ALTER TABLE risk_events ADD CONSTRAINT risk_events_kind_check CHECK (kind IN ('unmatched_outflow',
    'balance_shortfall', 'missing_statement', 'deposit_shortfall', 'statement_mismatch', 'reference_reused',
    'instruction_unsettled'));
