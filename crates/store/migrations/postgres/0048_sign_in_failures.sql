-- Failed sign-ins are counted per account and source (a keyed digest of the client's address, never the
-- address): enough failures from one source lock that source out of that account; failures from anywhere only
-- slow the account down for a while (`slowed_until`, an exponential delay), so a guesser cannot lock the owner
-- out by failing on purpose.
ALTER TABLE accounts RENAME COLUMN locked_until TO slowed_until;

CREATE TABLE sign_in_failures (
    account_id TEXT NOT NULL REFERENCES accounts (id),
    source TEXT NOT NULL,
    failures BIGINT NOT NULL,
    last_failed_at BIGINT NOT NULL,
    locked_until BIGINT,
    PRIMARY KEY (account_id, source)
);
