-- An account created by an administrator carries a temporary password that the person must replace at
-- first sign-in (graded protection: initial credentials are not kept).
ALTER TABLE accounts ADD COLUMN must_change_password BIGINT NOT NULL DEFAULT 0 CHECK (must_change_password IN (0, 1));
