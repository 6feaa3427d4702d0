-- 站内信 a simple inbox: what the platform tells one account (a removal, later orders and refunds).
CREATE TABLE notifications (
    id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts (id),
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    read_at BIGINT
);
CREATE INDEX notifications_by_account ON notifications (account_id, created_at);

-- A notice published for a period (公示期) ends then; without one it stands.
ALTER TABLE notices ADD COLUMN until_at BIGINT;
