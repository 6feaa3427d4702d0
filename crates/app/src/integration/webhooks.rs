//! 系统接入 webhooks: what happened at an institution, told to each integrator it authorised.
//!
//! Events are read from the audit log after the dispatcher's cursor, so only committed commands become
//! events, in the order they committed. Each event becomes one delivery per integrator whose live grant
//! covers it and that has set a webhook URL. A delivery is a `POST` signed exactly as the platform signs bank
//! instructions (`X-Xiaowai-Key`, `-Timestamp`, `-Nonce`, `-Signature` over the canonical request, with the
//! integrator's own secret), its id as `Idempotency-Key`; any answer but 2xx is retried with backoff
//! ([`webhook_backoff_ms`]) up to [`WEBHOOK_MAX_ATTEMPTS`] times. The integrator reads every attempt and may
//! replay a delivery.

use crate::bank::DELIVERY_LEASE_MS;
use crate::events::{self, PublicEvent};
use crate::integration::Integration;
use crate::{Actor, AppError, ErrorCode, evidence};
use domain::Action;
use domain::access::IntegrationScope;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::HashMap;
use store::{GrantRow, WebhookAttemptRow, WebhookDeliveryRow, WebhookEndpointRow};

/// Deliveries sent side by side at most.
const WEBHOOK_BATCH: i64 = 100;
const WEBHOOK_BATCH_LEN: usize = WEBHOOK_BATCH as usize;

/// A delivery is given up after this many failed attempts (the integrator may still replay it).
pub const WEBHOOK_MAX_ATTEMPTS: i64 = 10;

/// Backoff after the n-th failed attempt: 30 s, 1 min, 2 min … at most an hour (ten attempts span about
/// three hours).
pub fn webhook_backoff_ms(attempts: i64) -> i64 {
    let doubling = 30_000_i64.saturating_mul(1_i64 << attempts.clamp(0, 20));
    doubling.min(3_600_000)
}

/// One kind of event: the audit action it is read from, the scopes any of which lets an integrator receive it
/// (none: every authorised integrator), and its body: the typed public part of the entry's payload
/// (`crate::events`), whose type the integrator sees.
struct EventKind {
    action: Action,
    event_type: &'static str,
    scopes: &'static [IntegrationScope],
    body: fn(&str) -> Option<serde_json::Value>,
}

use IntegrationScope::{Attendance, Orders, Service};

const fn kind<E: PublicEvent>(action: Action, scopes: &'static [IntegrationScope]) -> EventKind {
    EventKind {
        action,
        event_type: E::TYPE,
        scopes,
        body: events::body_of::<E>,
    }
}

const EVENT_KINDS: &[EventKind] = &[
    kind::<events::OrderPaid>(Action::OrderPaid, &[Orders]),
    kind::<events::LessonConfirmed>(Action::LessonConfirmed, &[Attendance, Orders]),
    kind::<events::LessonDisputed>(Action::LessonDisputed, &[Attendance, Orders]),
    kind::<events::RefundRequested>(Action::RefundRequested, &[Service, Orders]),
    kind::<events::RefundAgreed>(Action::RefundAgreed, &[Service, Orders]),
    // A regulator upholding an escalated refund agrees it for the institution.
    kind::<events::RefundAgreed>(Action::RefundUpheld, &[Service, Orders]),
    kind::<events::ComplaintOpened>(Action::ComplaintFiled, &[Service]),
    kind::<events::WarningRaised>(Action::WarningRaised, &[]),
];

/// `PUT /api/v1/integration/webhook`.
#[derive(Clone, Debug, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(default)]
pub struct WebhookEndpoint {
    /// `https://…` (or `http://` for a sandbox on the same machine), at most 500 characters.
    pub url: String,
}

/// `POST /api/v1/integration/webhook/test`.
#[derive(Clone, Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct WebhookTest {
    /// Sign the ping with a wrong key: a conforming receiver refuses it.
    pub forged: bool,
}

/// What the receiver answered a test ping.
#[derive(Clone, Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct WebhookTestResult {
    pub forged: bool,
    /// The receiver's HTTP status; none when it did not answer.
    pub status: Option<u16>,
    pub error: Option<String>,
    /// 2xx.
    pub accepted: bool,
}

#[derive(Clone, Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct WebhookAttemptView {
    pub attempt: i64,
    pub at: i64,
    pub status: Option<i64>,
    pub error: Option<String>,
    pub duration_ms: i64,
}

/// One delivery in the integrator's log.
#[derive(Clone, Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct WebhookDeliveryView {
    pub id: String,
    pub event_id: i64,
    pub event_type: String,
    pub institution_id: String,
    /// `pending` (due again), `delivered` or `failed` (given up).
    pub state: String,
    pub attempts: i64,
    pub next_attempt_at: Option<i64>,
    pub delivered_at: Option<i64>,
    pub last_status: Option<i64>,
    pub last_error: Option<String>,
    #[schema(value_type = Object)]
    pub payload: serde_json::Value,
    pub attempt_log: Vec<WebhookAttemptView>,
}

impl<'a> Integration<'a> {
    /// The integrator sets where its events go.
    pub async fn set_webhook_endpoint(
        self,
        actor: &Actor,
        endpoint: &WebhookEndpoint,
    ) -> Result<WebhookEndpoint, AppError> {
        let integrator = self.integrator_of(actor).await?;
        let url = endpoint.url.trim();
        crate::egress::check_url("url", url, self.local_egress)?;
        let now = self.clock.now().millis();
        let mut tx = self.store.begin_write().await?;
        tx.webhooks()
            .set_webhook_endpoint(&WebhookEndpointRow {
                integrator_id: integrator.id.clone(),
                url: url.to_owned(),
                updated_by: actor.audit_name(),
                updated_at: now,
            })
            .await?;
        tx.append_audit(vec![evidence::record(
            &actor.audit_name(),
            now,
            Action::WebhookSet,
            format!("integrator:{}", integrator.id),
            json!({"url": url}),
        )])
        .await?;
        tx.commit().await?;
        Ok(WebhookEndpoint {
            url: url.to_owned(),
        })
    }

    /// The integrator's webhook URL, if set.
    pub async fn webhook_endpoint(self, actor: &Actor) -> Result<WebhookEndpoint, AppError> {
        let integrator = self.integrator_of(actor).await?;
        let row = self
            .store
            .read()
            .webhooks()
            .webhook_endpoint(&integrator.id)
            .await?
            .ok_or_else(|| AppError::not_found("尚未设置回调地址", "no webhook URL set"))?;
        Ok(WebhookEndpoint { url: row.url })
    }

    /// Turns the audit entries after the cursor into deliveries, 500 entries a transaction until the log's
    /// end; returns how many deliveries were made. Entries and cursor move together, so none is lost or
    /// doubled. An integrator receives the events that happened while it was authorised and had a URL.
    pub async fn dispatch_webhook_events(self) -> Result<usize, AppError> {
        let mut made = 0;
        loop {
            match self.dispatch_webhook_batch().await? {
                Some(n) => made += n,
                None => return Ok(made),
            }
        }
    }

    /// One batch; `None` at the log's end (or when another dispatcher took the batch).
    async fn dispatch_webhook_batch(self) -> Result<Option<usize>, AppError> {
        let read = self.store.read();
        let from = read.webhooks().webhook_cursor().await?;
        let entries = read.audit_entries_after(from, 500).await?;
        let Some(to) = entries.last().map(|e| e.seq) else {
            return Ok(None);
        };
        let now = self.clock.now().millis();
        let mut rows = Vec::new();
        // Asked once per batch, not once per entry: a batch of payments is many entries of few institutions.
        let mut grants: HashMap<String, Vec<GrantRow>> = HashMap::new();
        let mut endpoints: HashMap<String, Option<WebhookEndpointRow>> = HashMap::new();
        for entry in &entries {
            let Some(kind) = EVENT_KINDS
                .iter()
                .find(|k| k.action.as_str() == entry.body.action)
            else {
                continue;
            };
            let Some(institution_id) = entry.body.subject.strip_prefix("institution:") else {
                continue;
            };
            let Some(data) = (kind.body)(&entry.body.payload) else {
                tracing::warn!(
                    seq = entry.seq,
                    action = kind.action.as_str(),
                    "an audit entry without its event's body"
                );
                continue;
            };
            if !grants.contains_key(institution_id) {
                let of = read
                    .integrations()
                    .grants_of_institution(institution_id)
                    .await?;
                grants.insert(institution_id.to_owned(), of);
            }
            for grant in &grants[institution_id] {
                let scopes = crate::integrations::scopes_of(grant);
                let covered =
                    kind.scopes.is_empty() || kind.scopes.iter().any(|s| scopes.contains(s));
                if grant.revoked_at.is_some() || !covered || entry.body.at_ms < grant.granted_at {
                    continue;
                }
                if !endpoints.contains_key(&grant.integrator_id) {
                    let endpoint = read
                        .webhooks()
                        .webhook_endpoint(&grant.integrator_id)
                        .await?;
                    endpoints.insert(grant.integrator_id.clone(), endpoint);
                }
                match &endpoints[&grant.integrator_id] {
                    Some(endpoint) if entry.body.at_ms >= endpoint.updated_at => {}
                    _ => continue,
                }
                let id = uuid::Uuid::now_v7().to_string();
                let payload = json!({
                    "id": id, "event_id": entry.seq, "type": kind.event_type,
                    "institution_id": institution_id, "occurred_at": entry.body.at_ms, "data": data,
                });
                rows.push(WebhookDeliveryRow {
                    id,
                    integrator_id: grant.integrator_id.clone(),
                    event_seq: entry.seq,
                    event_type: kind.event_type.to_owned(),
                    institution_id: institution_id.to_owned(),
                    payload: payload.to_string(),
                    created_at: now,
                    attempts: 0,
                    next_attempt_at: Some(now),
                    delivered_at: None,
                    last_status: None,
                    last_error: None,
                });
            }
        }
        let mut tx = self.store.begin_write().await?;
        tx.webhooks().insert_webhook_deliveries(&rows).await?;
        if !tx.webhooks().advance_webhook_cursor(from, to).await? {
            // Another dispatcher took this batch; dropping the transaction keeps nothing.
            return Ok(None);
        }
        tx.commit().await?;
        Ok(Some(rows.len()))
    }

    /// Sends due deliveries once, a batch side by side (a slow receiver delays only its own deliveries);
    /// returns how many the receivers acknowledged.
    pub async fn deliver_due_webhooks(self) -> Result<usize, AppError> {
        Ok(self.deliver_webhook_batch().await?.1)
    }

    /// One batch of due deliveries, claimed for this server first (so another server sends other ones): (how
    /// many were due, how many were acknowledged).
    async fn deliver_webhook_batch(self) -> Result<(usize, usize), AppError> {
        let now = self.clock.now().millis();
        let mut claim = self.store.begin_write().await?;
        let due = claim
            .webhooks()
            .claim_due_webhook_deliveries(now, now + DELIVERY_LEASE_MS, WEBHOOK_BATCH)
            .await?;
        claim.commit().await?;
        let attempted = due.len();
        let mut sending = tokio::task::JoinSet::new();
        for delivery in due {
            let app = self.app.clone();
            sending.spawn(async move { app.integration().deliver_webhook(delivery).await });
        }
        let mut acknowledged = 0;
        while let Some(done) = sending.join_next().await {
            if done.map_err(|e| AppError::internal(e.to_string()))?? {
                acknowledged += 1;
            }
        }
        Ok((attempted, acknowledged))
    }

    /// One attempt at one delivery, logged with where the delivery stands after it; true if acknowledged.
    async fn deliver_webhook(self, delivery: WebhookDeliveryRow) -> Result<bool, AppError> {
        let started = std::time::Instant::now();
        let outcome = self.send_webhook(&delivery, false).await;
        let at = self.clock.now().millis();
        let attempt = delivery.attempts.saturating_add(1);
        let (status, error) = match &outcome {
            Ok(status) if (200..300).contains(status) => (Some(i64::from(*status)), None),
            Ok(status) => (
                Some(i64::from(*status)),
                Some(format!("the receiver answered {status}")),
            ),
            Err(e) => (None, Some(e.clone())),
        };
        let delivered = error.is_none();
        let next = if delivered || attempt >= WEBHOOK_MAX_ATTEMPTS {
            None
        } else {
            Some(at.saturating_add(webhook_backoff_ms(delivery.attempts)))
        };
        let row = WebhookAttemptRow {
            delivery_id: delivery.id.clone(),
            attempt,
            at,
            status,
            error,
            duration_ms: i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX),
        };
        let mut tx = self.store.begin_write().await?;
        tx.webhooks()
            .record_webhook_attempt(&row, delivered.then_some(at), next)
            .await?;
        tx.commit().await?;
        Ok(delivered)
    }

    /// One turn of the webhook job of `xiaowai serve`: turns new events into deliveries and sends everything
    /// due, a batch at a time, until nothing is.
    pub async fn dispatch_and_deliver_webhooks(self) -> Result<(), AppError> {
        loop {
            self.dispatch_webhook_events().await?;
            let (attempted, _) = self.deliver_webhook_batch().await?;
            // A full batch: more may be due, and new events may have come meanwhile.
            if attempted < WEBHOOK_BATCH_LEN {
                return Ok(());
            }
        }
    }

    /// Posts a delivery to its integrator's URL, signed with the integrator's secret (`forged`: with a
    /// wrong one); the receiver's status, or why there was none.
    async fn send_webhook(
        self,
        delivery: &WebhookDeliveryRow,
        forged: bool,
    ) -> Result<u16, String> {
        let read = self.store.read();
        let endpoint = read
            .webhooks()
            .webhook_endpoint(&delivery.integrator_id)
            .await
            .map_err(|e| e.to_string())?
            .ok_or("the integrator has set no webhook URL")?;
        let client = read
            .clients()
            .api_client_of("integrator", &delivery.integrator_id)
            .await
            .map_err(|e| e.to_string())?
            .ok_or("the integrator has no API key")?;
        let secret = if forged {
            "forged-by-the-conformance-kit".to_owned()
        } else {
            self.keys
                .open(crate::vault::field::API_SECRET, &client.secret_sealed)
                .map_err(|e| e.to_string())?
        };
        let response = self
            .post_signed(
                &self.webhook_http,
                &endpoint.url,
                &client.key_id,
                &secret,
                delivery.payload.as_bytes(),
                &delivery.id,
                &[("x-xiaowai-event", delivery.event_type.as_str())],
            )
            .await?;
        Ok(response.status().as_u16())
    }

    /// Sends a `ping` to the integrator's URL now, signed properly or (`forged`) not; nothing is kept.
    pub async fn test_webhook(
        self,
        actor: &Actor,
        test: &WebhookTest,
    ) -> Result<WebhookTestResult, AppError> {
        let integrator = self.integrator_of(actor).await?;
        let now = self.clock.now().millis();
        let id = uuid::Uuid::now_v7().to_string();
        let ping = WebhookDeliveryRow {
            payload:
                json!({"id": id, "event_id": 0, "type": "ping", "occurred_at": now, "data": {}})
                    .to_string(),
            id,
            integrator_id: integrator.id,
            event_seq: 0,
            event_type: "ping".into(),
            institution_id: String::new(),
            created_at: now,
            attempts: 0,
            next_attempt_at: None,
            delivered_at: None,
            last_status: None,
            last_error: None,
        };
        let outcome = self.send_webhook(&ping, test.forged).await;
        Ok(WebhookTestResult {
            forged: test.forged,
            accepted: matches!(outcome, Ok(s) if (200..300).contains(&s)),
            status: outcome.as_ref().ok().copied(),
            error: outcome.err(),
        })
    }

    /// The integrator's deliveries, newest first, 100 a page (`before`: an event id to page back from).
    pub async fn webhook_deliveries(
        self,
        actor: &Actor,
        before: Option<i64>,
    ) -> Result<Vec<WebhookDeliveryView>, AppError> {
        let integrator = self.integrator_of(actor).await?;
        let read = self.store.read();
        let mut out = Vec::new();
        for row in read
            .webhooks()
            .webhook_deliveries_of(&integrator.id, before, 100)
            .await?
        {
            let attempts = read.webhooks().webhook_attempts(&row.id).await?;
            out.push(delivery_view(row, attempts));
        }
        Ok(out)
    }

    /// Makes a delivered or given-up delivery due now (a pending one is due already: 409).
    pub async fn replay_webhook(
        self,
        actor: &Actor,
        delivery_id: &str,
    ) -> Result<WebhookDeliveryView, AppError> {
        let integrator = self.integrator_of(actor).await?;
        let read = self.store.read();
        let delivery = read
            .webhooks()
            .webhook_delivery(delivery_id.trim())
            .await?
            .filter(|d| d.integrator_id == integrator.id)
            .ok_or_else(|| AppError::not_found("您没有这次推送", "no such delivery of yours"))?;
        let now = self.clock.now().millis();
        let mut tx = self.store.begin_write().await?;
        if !tx
            .webhooks()
            .replay_webhook_delivery(&delivery.id, now)
            .await?
        {
            return Err(AppError::new(
                ErrorCode::Conflict,
                "该推送已在等待下一次重试",
                "the delivery is waiting for its next attempt already",
            ));
        }
        tx.append_audit(vec![evidence::record(
            &actor.audit_name(),
            now,
            Action::WebhookReplayed,
            format!("integrator:{}", integrator.id),
            json!({"delivery": delivery.id, "event_id": delivery.event_seq}),
        )])
        .await?;
        tx.commit().await?;
        let row = read
            .webhooks()
            .webhook_delivery(&delivery.id)
            .await?
            .ok_or_else(|| AppError::internal("replayed delivery missing"))?;
        let attempts = read.webhooks().webhook_attempts(&row.id).await?;
        Ok(delivery_view(row, attempts))
    }

    /// Posts `body` to `url` signed with `key_id`/`secret` the way clients sign requests to the platform;
    /// `idempotency_key` lets the receiver recognise a repeat.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn post_signed(
        self,
        client: &reqwest::Client,
        url: &str,
        key_id: &str,
        secret: &str,
        body: &[u8],
        idempotency_key: &str,
        extra_headers: &[(&str, &str)],
    ) -> Result<reqwest::Response, String> {
        let url = reqwest::Url::parse(url).map_err(|e| e.to_string())?;
        crate::egress::check_before_sending(&url, self.local_egress)?;
        let path_and_query = match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_owned(),
        };
        let timestamp = self.clock.now().millis();
        let nonce = uuid::Uuid::new_v4().simple().to_string();
        let crypto = self.store.crypto();
        let canonical = crate::signing::canonical_request(
            crypto,
            "POST",
            &path_and_query,
            body,
            timestamp,
            &nonce,
        );
        let signature = crate::signing::sign(crypto, secret.as_bytes(), &canonical);
        let mut request = client
            .post(url)
            .header("content-type", "application/json")
            .header("x-xiaowai-key", key_id)
            .header("x-xiaowai-timestamp", timestamp.to_string())
            .header("x-xiaowai-nonce", nonce)
            .header("x-xiaowai-signature", signature)
            .header("idempotency-key", idempotency_key);
        for (name, value) in extra_headers {
            request = request.header(*name, *value);
        }
        request
            .body(body.to_vec())
            .send()
            .await
            .map_err(|e| format!("delivery: {e}"))
    }
}

fn delivery_view(row: WebhookDeliveryRow, attempts: Vec<WebhookAttemptRow>) -> WebhookDeliveryView {
    let state = if row.next_attempt_at.is_some() {
        "pending"
    } else if row.last_error.is_none() && row.delivered_at.is_some() {
        "delivered"
    } else {
        "failed"
    };
    WebhookDeliveryView {
        state: state.to_owned(),
        payload: serde_json::from_str(&row.payload).unwrap_or_default(),
        attempt_log: attempts
            .into_iter()
            .map(|a| WebhookAttemptView {
                attempt: a.attempt,
                at: a.at,
                status: a.status,
                error: a.error,
                duration_ms: a.duration_ms,
            })
            .collect(),
        id: row.id,
        event_id: row.event_seq,
        event_type: row.event_type,
        institution_id: row.institution_id,
        attempts: row.attempts,
        next_attempt_at: row.next_attempt_at,
        delivered_at: row.delivered_at,
        last_status: row.last_status,
        last_error: row.last_error,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_thirty_seconds_to_an_hour() {
        assert_eq!(webhook_backoff_ms(0), 30_000);
        assert_eq!(webhook_backoff_ms(1), 60_000);
        assert_eq!(webhook_backoff_ms(6), 1_920_000);
        assert_eq!(webhook_backoff_ms(7), 3_600_000);
        assert_eq!(webhook_backoff_ms(60), 3_600_000);
    }
}
