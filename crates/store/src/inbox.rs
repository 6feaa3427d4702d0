//! The inbox.

use crate::claims::Claim;
use crate::insert::{AnyQuery, InsertRow};
use crate::{Reader, StoreError, WriteTx};
use sqlx::AssertSqlSafe;

crate::repository!(
    /// 站内信与短信 notifications and text messages.
    Inbox,
    inbox
);

#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct NotificationRow {
    pub id: String,
    pub account_id: String,
    pub title: String,
    pub body: String,
    pub created_at: i64,
    pub read_at: Option<i64>,
}

const COLUMNS: &str = "id, account_id, title, body, created_at, read_at";

impl InsertRow for NotificationRow {
    const TABLE: &'static str = "notifications";
    const COLUMNS: &'static str = COLUMNS;
    fn bind<'q>(&self, q: AnyQuery<'q>) -> AnyQuery<'q> {
        q.bind(self.id.clone())
            .bind(self.account_id.clone())
            .bind(self.title.clone())
            .bind(self.body.clone())
            .bind(self.created_at)
            .bind(self.read_at)
    }
}

impl Inbox<&Reader<'_>> {
    /// An account's newest notifications.
    pub async fn notifications_of(
        &self,
        account_id: &str,
        limit: i64,
    ) -> Result<Vec<NotificationRow>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM notifications WHERE account_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2"
        );
        Ok(sqlx::query_as(AssertSqlSafe(sql))
            .bind(account_id)
            .bind(limit)
            .fetch_all(&self.store.pool)
            .await?)
    }
}

impl Inbox<&mut WriteTx> {
    pub async fn insert_notifications(
        &mut self,
        rows: &[NotificationRow],
    ) -> Result<(), StoreError> {
        self.insert(rows).await
    }

    /// Ids of the accounts of an institution's staff.
    pub async fn staff_accounts_of(
        &mut self,
        institution_id: &str,
    ) -> Result<Vec<String>, StoreError> {
        let rows: Vec<(String,)> = sqlx::query_as(
            "SELECT id FROM accounts WHERE kind = 'staff' AND institution_id = $1 ORDER BY id",
        )
        .bind(institution_id)
        .fetch_all(&mut *self.tx)
        .await?;
        Ok(rows.into_iter().map(|(id,)| id).collect())
    }

    /// Ids of the regulator accounts of exactly this region.
    /// The reviewers and supervisors of a region (who may be assigned spot checks), by id.
    pub async fn checkers_of(&mut self, region_code: &str) -> Result<Vec<String>, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT id FROM accounts WHERE kind = 'regulator' AND region_code = $1 \
             AND regulator_role IN ('reviewer', 'supervisor') AND disabled = 0 ORDER BY id",
        )
        .bind(region_code)
        .fetch_all(&mut *self.tx)
        .await?)
    }

    /// The enabled security administrators (安全管理员): id and region.
    pub async fn security_admins(&mut self) -> Result<Vec<(String, String)>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT id, region_code FROM accounts WHERE kind = 'regulator' \
             AND regulator_role = 'security_admin' AND disabled = 0 AND region_code IS NOT NULL ORDER BY id",
        )
        .fetch_all(&mut *self.tx)
        .await?)
    }

    pub async fn regulator_accounts_of(
        &mut self,
        region_code: &str,
    ) -> Result<Vec<String>, StoreError> {
        let rows: Vec<(String,)> = sqlx::query_as(
            "SELECT id FROM accounts WHERE kind = 'regulator' AND region_code = $1 ORDER BY id",
        )
        .bind(region_code)
        .fetch_all(&mut *self.tx)
        .await?;
        Ok(rows.into_iter().map(|(id,)| id).collect())
    }
}

/// A text message waiting for the sender (or sent).
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct SmsRow {
    pub id: String,
    pub account_id: String,
    pub body: String,
    pub created_at: i64,
    pub attempts: i64,
    pub sent_at: Option<i64>,
    pub last_error: Option<String>,
}

const SMS_COLUMNS: &str = "id, account_id, body, created_at, attempts, sent_at, last_error";

impl InsertRow for SmsRow {
    const TABLE: &'static str = "sms_outbox";
    const COLUMNS: &'static str = SMS_COLUMNS;
    fn bind<'q>(&self, q: AnyQuery<'q>) -> AnyQuery<'q> {
        q.bind(self.id.clone())
            .bind(self.account_id.clone())
            .bind(self.body.clone())
            .bind(self.created_at)
            .bind(self.attempts)
            .bind(self.sent_at)
            .bind(self.last_error.clone())
    }
}

impl Inbox<&Reader<'_>> {
    /// The messages queued for an account, newest first.
    pub async fn sms_of(&self, account_id: &str) -> Result<Vec<SmsRow>, StoreError> {
        let sql = format!(
            "SELECT {SMS_COLUMNS} FROM sms_outbox WHERE account_id = $1 ORDER BY created_at DESC, id DESC LIMIT 100"
        );
        Ok(sqlx::query_as(AssertSqlSafe(sql))
            .bind(account_id)
            .fetch_all(&self.store.pool)
            .await?)
    }
}

impl Inbox<&mut WriteTx> {
    pub async fn insert_sms(&mut self, rows: &[SmsRow]) -> Result<(), StoreError> {
        self.insert(rows).await
    }

    /// Records one attempt: sent (no error) or failed with `error`.
    /// Claims up to `limit` unsent messages with fewer than `max_attempts` attempts for this server until
    /// `lease_until` (`crate::claims`); recording the attempt ends the claim. Oldest first.
    pub async fn claim_unsent_sms(
        &mut self,
        now: i64,
        lease_until: i64,
        max_attempts: i64,
        limit: i64,
    ) -> Result<Vec<SmsRow>, StoreError> {
        let claim = Claim {
            table: "sms_outbox",
            lease_column: "claimed_until",
            due: "sent_at IS NULL AND attempts < $4 AND (claimed_until IS NULL OR claimed_until <= $2)",
            order: "created_at, id",
            columns: SMS_COLUMNS,
        };
        let mut claimed: Vec<SmsRow> = self
            .claim(claim, now, lease_until, limit, &[max_attempts])
            .await?;
        claimed.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
        Ok(claimed)
    }

    /// One attempt at a message: sent, or failed with `error` (its claim ends, so the next turn tries again).
    pub async fn sms_attempted(
        &mut self,
        id: &str,
        at: i64,
        error: Option<&str>,
    ) -> Result<(), StoreError> {
        let q = match error {
            None => sqlx::query(
                "UPDATE sms_outbox SET attempts = attempts + 1, sent_at = $2, claimed_until = NULL \
                 WHERE id = $1 AND sent_at IS NULL",
            )
            .bind(id)
            .bind(at),
            Some(e) => sqlx::query(
                "UPDATE sms_outbox SET attempts = attempts + 1, last_error = $2, claimed_until = NULL \
                 WHERE id = $1 AND sent_at IS NULL",
            )
            .bind(id)
            .bind(e),
        };
        q.execute(&mut *self.tx).await?;
        Ok(())
    }
}
