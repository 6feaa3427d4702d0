-- Accounts and sign-in tokens. Personal data is sealed (see app::vault): *_sealed columns hold ciphertext,
-- *_index columns a keyed blind index for exact lookup. Secrets are stored only as hashes.

CREATE TABLE accounts (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('parent', 'staff', 'regulator', 'bank_operator')),
    -- Staff, regulators and bank operators sign in by username.
    username TEXT UNIQUE,
    -- Parents sign in by phone number.
    phone_sealed TEXT,
    phone_index TEXT UNIQUE,
    display_name TEXT NOT NULL,
    password_hash TEXT,
    totp_secret_sealed TEXT,
    -- The last TOTP time step accepted, so a code cannot be used twice.
    last_totp_step BIGINT,
    institution_id TEXT REFERENCES institutions (id),
    staff_role TEXT CHECK (staff_role IN ('admin', 'operator', 'teacher')),
    regulator_role TEXT CHECK (regulator_role IN ('reviewer', 'supervisor', 'system_admin', 'security_admin', 'audit_admin')),
    -- A region of the table, or 000000 for the national level (checked by the application).
    region_code TEXT,
    bank_id TEXT,
    failed_logins BIGINT NOT NULL DEFAULT 0,
    locked_until BIGINT,
    disabled BIGINT NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    CHECK (kind <> 'parent' OR phone_index IS NOT NULL),
    CHECK (kind = 'parent' OR username IS NOT NULL),
    CHECK (kind <> 'staff' OR (institution_id IS NOT NULL AND staff_role IS NOT NULL)),
    CHECK (kind <> 'regulator' OR (region_code IS NOT NULL AND regulator_role IS NOT NULL))
);
CREATE INDEX accounts_by_region ON accounts (region_code);

-- Bearer tokens and browser sessions: only a hash of each secret is kept.
CREATE TABLE auth_tokens (
    token_hash TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts (id),
    kind TEXT NOT NULL CHECK (kind IN ('access', 'refresh')),
    -- Tokens issued by one sign-in share a family; signing out or reusing a spent refresh token revokes it.
    family TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    revoked_at BIGINT
);
CREATE INDEX auth_tokens_by_family ON auth_tokens (family);
