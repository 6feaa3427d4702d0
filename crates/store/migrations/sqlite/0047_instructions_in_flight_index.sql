-- What a supervised account must hold subtracts its instructions in flight on every movement report: those few
-- rows, by account.
CREATE INDEX bank_instructions_in_flight ON bank_instructions (supervised_account_id)
    WHERE status IN ('pending', 'acknowledged');
