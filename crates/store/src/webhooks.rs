//! 系统接入 webhooks: integrators' endpoints, the dispatcher's cursor over the audit log, and each delivery with
//! its attempts.

use crate::claims::Claim;
use crate::insert::{AnyQuery, InsertRow};
use crate::{Reader, StoreError, WriteTx};
use sqlx::AssertSqlSafe;

crate::repository!(
    /// 事件推送 webhook endpoints, deliveries and attempts.
    Webhooks,
    webhooks
);

#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct WebhookEndpointRow {
    pub integrator_id: String,
    pub url: String,
    pub updated_by: String,
    pub updated_at: i64,
}

/// One event for one integrator, and where its delivery stands.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct WebhookDeliveryRow {
    pub id: String,
    pub integrator_id: String,
    pub event_seq: i64,
    pub event_type: String,
    pub institution_id: String,
    pub payload: String,
    pub created_at: i64,
    pub attempts: i64,
    pub next_attempt_at: Option<i64>,
    pub delivered_at: Option<i64>,
    pub last_status: Option<i64>,
    pub last_error: Option<String>,
}

const DELIVERY_COLUMNS: &str = "id, integrator_id, event_seq, event_type, institution_id, payload, created_at, \
     attempts, next_attempt_at, delivered_at, last_status, last_error";

impl InsertRow for WebhookDeliveryRow {
    const TABLE: &'static str = "webhook_deliveries";
    const COLUMNS: &'static str = DELIVERY_COLUMNS;
    // The dispatcher may read an entry twice after a crash between its batches: one delivery per event.
    const ON_CONFLICT: &'static str = " ON CONFLICT (integrator_id, event_seq) DO NOTHING";
    fn bind<'q>(&self, q: AnyQuery<'q>) -> AnyQuery<'q> {
        q.bind(self.id.clone())
            .bind(self.integrator_id.clone())
            .bind(self.event_seq)
            .bind(self.event_type.clone())
            .bind(self.institution_id.clone())
            .bind(self.payload.clone())
            .bind(self.created_at)
            .bind(self.attempts)
            .bind(self.next_attempt_at)
            .bind(self.delivered_at)
            .bind(self.last_status)
            .bind(self.last_error.clone())
    }
}

/// One try at delivering, as the receiver answered it.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct WebhookAttemptRow {
    pub delivery_id: String,
    pub attempt: i64,
    pub at: i64,
    pub status: Option<i64>,
    pub error: Option<String>,
    pub duration_ms: i64,
}

const ATTEMPT_COLUMNS: &str = "delivery_id, attempt, at, status, error, duration_ms";

impl InsertRow for WebhookAttemptRow {
    const TABLE: &'static str = "webhook_attempts";
    const COLUMNS: &'static str = ATTEMPT_COLUMNS;
    fn bind<'q>(&self, q: AnyQuery<'q>) -> AnyQuery<'q> {
        q.bind(self.delivery_id.clone())
            .bind(self.attempt)
            .bind(self.at)
            .bind(self.status)
            .bind(self.error.clone())
            .bind(self.duration_ms)
    }
}

impl Webhooks<&Reader<'_>> {
    pub async fn webhook_endpoint(
        &self,
        integrator_id: &str,
    ) -> Result<Option<WebhookEndpointRow>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT integrator_id, url, updated_by, updated_at FROM webhook_endpoints WHERE integrator_id = $1",
        )
        .bind(integrator_id)
        .fetch_optional(&self.store.pool)
        .await?)
    }

    /// The last audit entry turned into deliveries.
    pub async fn webhook_cursor(&self) -> Result<i64, StoreError> {
        let (seq,): (i64,) = sqlx::query_as("SELECT after_seq FROM webhook_cursor WHERE id = 1")
            .fetch_one(&self.store.pool)
            .await?;
        Ok(seq)
    }

    /// An integrator's deliveries, newest first; `before_seq` pages back.
    pub async fn webhook_deliveries_of(
        &self,
        integrator_id: &str,
        before_seq: Option<i64>,
        limit: i64,
    ) -> Result<Vec<WebhookDeliveryRow>, StoreError> {
        Ok(sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries WHERE integrator_id = $1 AND event_seq < $2 \
             ORDER BY event_seq DESC LIMIT $3"
        )))
        .bind(integrator_id)
        .bind(before_seq.unwrap_or(i64::MAX))
        .bind(limit)
        .fetch_all(&self.store.pool)
        .await?)
    }

    pub async fn webhook_delivery(
        &self,
        id: &str,
    ) -> Result<Option<WebhookDeliveryRow>, StoreError> {
        Ok(sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries WHERE id = $1"
        )))
        .bind(id)
        .fetch_optional(&self.store.pool)
        .await?)
    }

    pub async fn webhook_attempts(
        &self,
        delivery_id: &str,
    ) -> Result<Vec<WebhookAttemptRow>, StoreError> {
        Ok(sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {ATTEMPT_COLUMNS} FROM webhook_attempts WHERE delivery_id = $1 ORDER BY attempt"
        )))
        .bind(delivery_id)
        .fetch_all(&self.store.pool)
        .await?)
    }

    /// An integrator's deliveries by state: (delivered, waiting for a first try, retrying after a failure,
    /// given up).
    pub async fn webhook_delivery_counts(
        &self,
        integrator_id: &str,
    ) -> Result<(i64, i64, i64, i64), StoreError> {
        Ok(sqlx::query_as(
            "SELECT \
               CAST(COALESCE(SUM(CASE WHEN next_attempt_at IS NULL AND last_error IS NULL AND delivered_at IS NOT NULL THEN 1 ELSE 0 END), 0) AS BIGINT), \
               CAST(COALESCE(SUM(CASE WHEN next_attempt_at IS NOT NULL AND last_error IS NULL THEN 1 ELSE 0 END), 0) AS BIGINT), \
               CAST(COALESCE(SUM(CASE WHEN next_attempt_at IS NOT NULL AND last_error IS NOT NULL THEN 1 ELSE 0 END), 0) AS BIGINT), \
               CAST(COALESCE(SUM(CASE WHEN next_attempt_at IS NULL AND last_error IS NOT NULL THEN 1 ELSE 0 END), 0) AS BIGINT) \
             FROM webhook_deliveries WHERE integrator_id = $1",
        )
        .bind(integrator_id)
        .fetch_one(&self.store.pool)
        .await?)
    }

    /// How many audit entries `actor` wrote with each of `actions` (the conformance kit's evidence of use).
    pub async fn audit_actions_by(&self, actor: &str) -> Result<Vec<(String, i64)>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT action, CAST(COUNT(*) AS BIGINT) FROM audit_log WHERE actor = $1 GROUP BY action ORDER BY action",
        )
        .bind(actor)
        .fetch_all(&self.store.pool)
        .await?)
    }
}

impl Webhooks<&mut WriteTx> {
    /// Claims up to `limit` deliveries due at `now` for this server until `lease_until` (`crate::claims`):
    /// the attempt's outcome sets the next attempt for real. Oldest event first.
    pub async fn claim_due_webhook_deliveries(
        &mut self,
        now: i64,
        lease_until: i64,
        limit: i64,
    ) -> Result<Vec<WebhookDeliveryRow>, StoreError> {
        let claim = Claim {
            table: "webhook_deliveries",
            lease_column: "next_attempt_at",
            due: "next_attempt_at IS NOT NULL AND next_attempt_at <= $2",
            order: "next_attempt_at, event_seq",
            columns: DELIVERY_COLUMNS,
        };
        let mut claimed: Vec<WebhookDeliveryRow> =
            self.claim(claim, now, lease_until, limit, &[]).await?;
        claimed.sort_by_key(|d| d.event_seq);
        Ok(claimed)
    }

    /// Sets (or replaces) an integrator's webhook URL.
    pub async fn set_webhook_endpoint(
        &mut self,
        row: &WebhookEndpointRow,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO webhook_endpoints (integrator_id, url, updated_by, updated_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (integrator_id) DO UPDATE SET url = excluded.url, updated_by = excluded.updated_by, \
             updated_at = excluded.updated_at",
        )
        .bind(row.integrator_id.clone())
        .bind(row.url.clone())
        .bind(row.updated_by.clone())
        .bind(row.updated_at)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    /// Moves the cursor from `from` to `to`; false when another dispatcher moved it first (nothing is kept).
    pub async fn advance_webhook_cursor(&mut self, from: i64, to: i64) -> Result<bool, StoreError> {
        let done =
            sqlx::query("UPDATE webhook_cursor SET after_seq = $2 WHERE id = 1 AND after_seq = $1")
                .bind(from)
                .bind(to)
                .execute(&mut *self.tx)
                .await?;
        Ok(done.rows_affected() == 1)
    }

    pub async fn insert_webhook_deliveries(
        &mut self,
        rows: &[WebhookDeliveryRow],
    ) -> Result<(), StoreError> {
        self.insert(rows).await
    }

    /// Logs one attempt and where the delivery stands after it: delivered, due again at `next`, or given up
    /// (both `None`).
    pub async fn record_webhook_attempt(
        &mut self,
        attempt: &WebhookAttemptRow,
        delivered_at: Option<i64>,
        next_attempt_at: Option<i64>,
    ) -> Result<(), StoreError> {
        self.insert(std::slice::from_ref(attempt)).await?;
        sqlx::query(
            "UPDATE webhook_deliveries SET attempts = $2, next_attempt_at = $3, \
             delivered_at = COALESCE($4, delivered_at), last_status = $5, last_error = $6 WHERE id = $1",
        )
        .bind(attempt.delivery_id.clone())
        .bind(attempt.attempt)
        .bind(next_attempt_at)
        .bind(delivered_at)
        .bind(attempt.status)
        .bind(attempt.error.clone())
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    /// Makes a delivery due now again (the integrator's replay); false when it is already waiting.
    pub async fn replay_webhook_delivery(
        &mut self,
        id: &str,
        now: i64,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE webhook_deliveries SET next_attempt_at = $2 WHERE id = $1 AND next_attempt_at IS NULL",
        )
        .bind(id)
        .bind(now)
        .execute(&mut *self.tx)
        .await?;
        Ok(done.rows_affected() == 1)
    }
}
