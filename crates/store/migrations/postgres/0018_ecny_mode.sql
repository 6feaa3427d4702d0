-- 数字人民币智能合约 e-CNY smart-contract supervision: the money stays locked in the parent's wallet and the
-- wallet operator releases it per lesson on the platform's instruction — the same messages and ledger as custody.
ALTER TABLE supervised_accounts DROP CONSTRAINT supervised_accounts_mode_check;
ALTER TABLE supervised_accounts ADD CONSTRAINT supervised_accounts_mode_check
    CHECK (mode IN ('custody', 'risk_deposit', 'ecny'));
