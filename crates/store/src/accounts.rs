//! Accounts and sign-in tokens.

use crate::insert::{AnyQuery, InsertRow};
use crate::{Reader, StoreError, WriteTx};
use sqlx::AssertSqlSafe;

crate::repository!(
    /// 账号 accounts, their sessions, tokens and sign-in failures.
    Accounts,
    accounts
);

pub(crate) const ACCOUNT_COLUMNS: &str = "id, kind, username, phone_sealed, phone_index, display_name, password_hash, \
     totp_secret_sealed, last_totp_step, institution_id, staff_role, regulator_role, region_code, bank_id, \
     failed_logins, slowed_until, disabled, must_change_password, created_at, updated_at, school_id";
const TOKEN_COLUMNS: &str =
    "token_hash, account_id, kind, family, created_at, expires_at, revoked_at";

/// An account as stored. Personal data and secrets are sealed or hashed before they get here.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct AccountRow {
    pub id: String,
    /// `parent`, `staff`, `regulator`, `bank_operator` or `school`.
    pub kind: String,
    pub username: Option<String>,
    pub phone_sealed: Option<String>,
    pub phone_index: Option<String>,
    pub display_name: String,
    pub password_hash: Option<String>,
    pub totp_secret_sealed: Option<String>,
    pub last_totp_step: Option<i64>,
    pub institution_id: Option<String>,
    pub staff_role: Option<String>,
    pub regulator_role: Option<String>,
    pub region_code: Option<String>,
    pub bank_id: Option<String>,
    /// Failed sign-ins in a row, from any source.
    pub failed_logins: i64,
    /// No sign-in attempt is taken before this time (the delay after failures from any source).
    pub slowed_until: Option<i64>,
    pub disabled: i64,
    /// 1 while the account holds a temporary password set by an administrator.
    pub must_change_password: i64,
    pub created_at: i64,
    pub updated_at: i64,
    /// The school a `school` account belongs to.
    pub school_id: Option<String>,
}

/// Which accounts an administrator lists.
#[derive(Clone, Copy, Debug)]
pub enum AccountScope<'a> {
    /// Regulators and school accounts whose region code starts with this prefix (`""`: all).
    RegulatorsAndSchoolsUnder(&'a str),
    /// The staff of one institution.
    StaffOf(&'a str),
    BankOperators,
}

/// A bearer token (only its hash).
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct TokenRow {
    pub token_hash: String,
    pub account_id: String,
    /// `access` or `refresh`.
    pub kind: String,
    pub family: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub revoked_at: Option<i64>,
}

impl InsertRow for AccountRow {
    const TABLE: &'static str = "accounts";
    const COLUMNS: &'static str = ACCOUNT_COLUMNS;
    fn bind<'q>(&self, q: AnyQuery<'q>) -> AnyQuery<'q> {
        q.bind(self.id.clone())
            .bind(self.kind.clone())
            .bind(self.username.clone())
            .bind(self.phone_sealed.clone())
            .bind(self.phone_index.clone())
            .bind(self.display_name.clone())
            .bind(self.password_hash.clone())
            .bind(self.totp_secret_sealed.clone())
            .bind(self.last_totp_step)
            .bind(self.institution_id.clone())
            .bind(self.staff_role.clone())
            .bind(self.regulator_role.clone())
            .bind(self.region_code.clone())
            .bind(self.bank_id.clone())
            .bind(self.failed_logins)
            .bind(self.slowed_until)
            .bind(self.disabled)
            .bind(self.must_change_password)
            .bind(self.created_at)
            .bind(self.updated_at)
            .bind(self.school_id.clone())
    }
}

impl InsertRow for TokenRow {
    const TABLE: &'static str = "auth_tokens";
    const COLUMNS: &'static str = TOKEN_COLUMNS;
    fn bind<'q>(&self, q: AnyQuery<'q>) -> AnyQuery<'q> {
        q.bind(self.token_hash.clone())
            .bind(self.account_id.clone())
            .bind(self.kind.clone())
            .bind(self.family.clone())
            .bind(self.created_at)
            .bind(self.expires_at)
            .bind(self.revoked_at)
    }
}

impl Accounts<&Reader<'_>> {
    pub async fn account(&self, id: &str) -> Result<Option<AccountRow>, StoreError> {
        let sql = format!("SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE id = $1");
        Ok(sqlx::query_as(AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(&self.store.pool)
            .await?)
    }

    /// One page of the accounts in `scope`, by username, and how many there are in all.
    pub async fn managed_accounts(
        &self,
        scope: AccountScope<'_>,
        limit: u32,
        offset: u64,
    ) -> Result<crate::PageRows<AccountRow>, StoreError> {
        let (filter, value) = match scope {
            AccountScope::RegulatorsAndSchoolsUnder(prefix) => (
                "kind IN ('regulator', 'school') AND region_code LIKE $1",
                format!("{prefix}%"),
            ),
            AccountScope::StaffOf(institution) => (
                "kind = 'staff' AND institution_id = $1",
                institution.to_owned(),
            ),
            AccountScope::BankOperators => ("kind = 'bank_operator' AND $1 = ''", String::new()),
        };
        let sql = format!(
            "SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE {filter} ORDER BY username LIMIT $2 OFFSET $3"
        );
        let rows = sqlx::query_as(AssertSqlSafe(sql))
            .bind(value.clone())
            .bind(i64::from(limit))
            .bind(offset as i64)
            .fetch_all(&self.store.pool)
            .await?;
        let count = format!("SELECT COUNT(*) FROM accounts WHERE {filter}");
        let (total,): (i64,) = sqlx::query_as(AssertSqlSafe(count))
            .bind(value)
            .fetch_one(&self.store.pool)
            .await?;
        Ok(crate::PageRows { rows, total })
    }

    pub async fn account_count(&self) -> Result<i64, StoreError> {
        let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM accounts")
            .fetch_one(&self.store.pool)
            .await?;
        Ok(n)
    }

    /// A live (not revoked, not expired at `now`) token by its hash.
    pub async fn live_token(
        &self,
        token_hash: &str,
        now: i64,
    ) -> Result<Option<TokenRow>, StoreError> {
        let sql = format!(
            "SELECT {TOKEN_COLUMNS} FROM auth_tokens WHERE token_hash = $1 AND revoked_at IS NULL AND expires_at > $2"
        );
        Ok(sqlx::query_as(AssertSqlSafe(sql))
            .bind(token_hash)
            .bind(now)
            .fetch_optional(&self.store.pool)
            .await?)
    }
}

impl Accounts<&mut WriteTx> {
    pub async fn insert_accounts(&mut self, rows: &[AccountRow]) -> Result<(), StoreError> {
        self.insert(rows).await
    }

    pub async fn insert_tokens(&mut self, rows: &[TokenRow]) -> Result<(), StoreError> {
        self.insert(rows).await
    }

    pub async fn account_by_username(
        &mut self,
        username: &str,
    ) -> Result<Option<AccountRow>, StoreError> {
        let sql = format!("SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE username = $1");
        Ok(sqlx::query_as(AssertSqlSafe(sql))
            .bind(username)
            .fetch_optional(&mut *self.tx)
            .await?)
    }

    /// A successful sign-in: the failure count starts again, the TOTP step used is kept.
    pub async fn record_sign_in(
        &mut self,
        id: &str,
        last_totp_step: Option<i64>,
        now: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE accounts SET failed_logins = 0, slowed_until = NULL, last_totp_step = $2, updated_at = $3 \
             WHERE id = $1",
        )
        .bind(id)
        .bind(last_totp_step)
        .bind(now)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    /// One more failed sign-in of the account from anywhere, counted in the database (two at once both
    /// count); the count starts again when the last delay ran out more than `forget_after_ms` ago. Returns
    /// the failures in a row.
    pub async fn count_account_failure(
        &mut self,
        id: &str,
        now: i64,
        forget_after_ms: i64,
    ) -> Result<i64, StoreError> {
        Ok(sqlx::query_scalar(
            "UPDATE accounts SET failed_logins = CASE WHEN slowed_until IS NOT NULL AND slowed_until < $2 - $3 \
             THEN 1 ELSE failed_logins + 1 END, updated_at = $2 WHERE id = $1 RETURNING failed_logins",
        )
        .bind(id)
        .bind(now)
        .bind(forget_after_ms)
        .fetch_one(&mut *self.tx)
        .await?)
    }

    /// No sign-in attempt of the account is taken before `until`.
    pub async fn slow_account(&mut self, id: &str, until: i64) -> Result<(), StoreError> {
        sqlx::query("UPDATE accounts SET slowed_until = $2 WHERE id = $1")
            .bind(id)
            .bind(until)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    /// Until when `source` is locked out of the account, if it is.
    pub async fn source_locked_until(
        &mut self,
        account_id: &str,
        source: &str,
    ) -> Result<Option<i64>, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT locked_until FROM sign_in_failures WHERE account_id = $1 AND source = $2",
        )
        .bind(account_id)
        .bind(source)
        .fetch_optional(&mut *self.tx)
        .await?
        .flatten())
    }

    /// One more failed sign-in of the account from `source`, counted in the database; a lock that has run
    /// out starts the count again. Returns the failures from this source.
    pub async fn count_source_failure(
        &mut self,
        account_id: &str,
        source: &str,
        now: i64,
    ) -> Result<i64, StoreError> {
        Ok(sqlx::query_scalar(
            "INSERT INTO sign_in_failures (account_id, source, failures, last_failed_at, locked_until) \
             VALUES ($1, $2, 1, $3, NULL) \
             ON CONFLICT (account_id, source) DO UPDATE SET \
               failures = CASE WHEN sign_in_failures.locked_until <= $3 THEN 1 \
                               ELSE sign_in_failures.failures + 1 END, \
               locked_until = CASE WHEN sign_in_failures.locked_until <= $3 THEN NULL \
                                   ELSE sign_in_failures.locked_until END, \
               last_failed_at = $3 \
             RETURNING failures",
        )
        .bind(account_id)
        .bind(source)
        .bind(now)
        .fetch_one(&mut *self.tx)
        .await?)
    }

    /// Locks `source` out of the account until `until`.
    pub async fn lock_source(
        &mut self,
        account_id: &str,
        source: &str,
        until: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE sign_in_failures SET locked_until = $3 WHERE account_id = $1 AND source = $2",
        )
        .bind(account_id)
        .bind(source)
        .bind(until)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    /// The source signed in: its failures are forgotten (other sources' are not).
    pub async fn forget_source_failures(
        &mut self,
        account_id: &str,
        source: &str,
    ) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM sign_in_failures WHERE account_id = $1 AND source = $2")
            .bind(account_id)
            .bind(source)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    /// How many sources have failed to sign in to the account since `since`.
    pub async fn sources_failing_since(
        &mut self,
        account_id: &str,
        since: i64,
    ) -> Result<i64, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT COUNT(*) FROM sign_in_failures WHERE account_id = $1 AND last_failed_at >= $2",
        )
        .bind(account_id)
        .bind(since)
        .fetch_one(&mut *self.tx)
        .await?)
    }

    /// An account by id, inside this transaction.
    pub async fn account_for_update(&mut self, id: &str) -> Result<Option<AccountRow>, StoreError> {
        let sql = format!("SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE id = $1");
        Ok(sqlx::query_as(AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(&mut *self.tx)
            .await?)
    }

    /// Disables or re-enables an account; re-enabling also lifts a lockout.
    pub async fn set_account_disabled(
        &mut self,
        id: &str,
        disabled: bool,
        now: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE accounts SET disabled = $2, failed_logins = 0, slowed_until = NULL, updated_at = $3 \
             WHERE id = $1",
        )
        .bind(id)
        .bind(i64::from(disabled))
        .bind(now)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    /// Stores a new password hash; `temporary` marks one the person must replace at next sign-in.
    pub async fn set_password(
        &mut self,
        id: &str,
        password_hash: &str,
        temporary: bool,
        now: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE accounts SET password_hash = $2, must_change_password = $3, updated_at = $4 WHERE id = $1",
        )
        .bind(id)
        .bind(password_hash)
        .bind(i64::from(temporary))
        .bind(now)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    /// Ends every token and browser session of an account (disabled, or its password changed).
    pub async fn revoke_everything_of(
        &mut self,
        account_id: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        for sql in [
            "UPDATE auth_tokens SET revoked_at = $2 WHERE account_id = $1 AND revoked_at IS NULL",
            "UPDATE web_sessions SET revoked_at = $2 WHERE account_id = $1 AND revoked_at IS NULL",
        ] {
            sqlx::query(sql)
                .bind(account_id)
                .bind(now)
                .execute(&mut *self.tx)
                .await?;
        }
        Ok(())
    }

    /// A token by hash, whatever its state, inside this transaction.
    pub async fn token(&mut self, token_hash: &str) -> Result<Option<TokenRow>, StoreError> {
        let sql = format!("SELECT {TOKEN_COLUMNS} FROM auth_tokens WHERE token_hash = $1");
        Ok(sqlx::query_as(AssertSqlSafe(sql))
            .bind(token_hash)
            .fetch_optional(&mut *self.tx)
            .await?)
    }

    /// Revokes every token of a sign-in; returns how many were live.
    pub async fn revoke_token_family(&mut self, family: &str, now: i64) -> Result<u64, StoreError> {
        let done = sqlx::query(
            "UPDATE auth_tokens SET revoked_at = $2 WHERE family = $1 AND revoked_at IS NULL",
        )
        .bind(family)
        .bind(now)
        .execute(&mut *self.tx)
        .await?;
        Ok(done.rows_affected())
    }

    /// Marks one token spent (a refresh token is good for one refresh).
    pub async fn revoke_token(&mut self, token_hash: &str, now: i64) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE auth_tokens SET revoked_at = $2 WHERE token_hash = $1 AND revoked_at IS NULL",
        )
        .bind(token_hash)
        .bind(now)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }
}

/// A browser session (only hashes of its secrets).
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct SessionRow {
    pub token_hash: String,
    pub account_id: String,
    pub created_at: i64,
    pub last_seen_at: i64,
    pub idle_timeout_ms: i64,
    pub expires_at: i64,
    pub revoked_at: Option<i64>,
}

const SESSION_COLUMNS: &str =
    "token_hash, account_id, created_at, last_seen_at, idle_timeout_ms, expires_at, revoked_at";

impl InsertRow for SessionRow {
    const TABLE: &'static str = "web_sessions";
    const COLUMNS: &'static str = SESSION_COLUMNS;
    fn bind<'q>(&self, q: AnyQuery<'q>) -> AnyQuery<'q> {
        q.bind(self.token_hash.clone())
            .bind(self.account_id.clone())
            .bind(self.created_at)
            .bind(self.last_seen_at)
            .bind(self.idle_timeout_ms)
            .bind(self.expires_at)
            .bind(self.revoked_at)
    }
}

impl Accounts<&Reader<'_>> {
    /// A session that is neither revoked, nor past its absolute end, nor idle too long at `now`.
    pub async fn live_session(
        &self,
        token_hash: &str,
        now: i64,
    ) -> Result<Option<SessionRow>, StoreError> {
        let sql = format!(
            "SELECT {SESSION_COLUMNS} FROM web_sessions WHERE token_hash = $1 AND revoked_at IS NULL \
             AND expires_at > $2 AND last_seen_at + idle_timeout_ms > $2"
        );
        Ok(sqlx::query_as(AssertSqlSafe(sql))
            .bind(token_hash)
            .bind(now)
            .fetch_optional(&self.store.pool)
            .await?)
    }
}

impl Accounts<&mut WriteTx> {
    pub async fn insert_session(&mut self, row: &SessionRow) -> Result<(), StoreError> {
        self.insert(std::slice::from_ref(row)).await
    }

    pub async fn touch_session(&mut self, token_hash: &str, now: i64) -> Result<(), StoreError> {
        sqlx::query("UPDATE web_sessions SET last_seen_at = $2 WHERE token_hash = $1")
            .bind(token_hash)
            .bind(now)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    pub async fn revoke_session(&mut self, token_hash: &str, now: i64) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE web_sessions SET revoked_at = $2 WHERE token_hash = $1 AND revoked_at IS NULL",
        )
        .bind(token_hash)
        .bind(now)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }
}
