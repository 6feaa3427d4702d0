//! An example adapter of a tutoring system (a provider's "教务SaaS") to xiaowai's open API (docs/api.md,
//! "System integration"). It is what a provider writes, using only HTTP, JSON, SM3 and HMAC:
//!
//! - [`Client`] signs each request with the provider's key id and secret and sends each mutation under an
//!   `Idempotency-Key` (retrying with the same key is safe);
//! - [`Receiver`] takes the platform's webhooks at `POST /webhooks`, checks each signature and timestamp,
//!   refuses what does not verify, and keeps each event once (a replayed delivery is acknowledged again but
//!   not kept twice);
//! - [`Adapter`] is the provider's side of the flow: publish a course, order it for a parent, and report
//!   attendance once the parent has paid.

use anyhow::{Context, Result, bail};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::routing::{get, post};
use hmac::{Hmac, KeyInit, Mac};
use serde_json::{Value, json};
use sm3::{Digest, Sm3};
use std::sync::{Arc, Mutex};

type HmacSm3 = Hmac<Sm3>;

/// Requests and webhooks older or newer than this are refused (the platform's own window).
const WINDOW_MS: i64 = 5 * 60_000;

/// The string both sides sign: METHOD, path and query, hex SM3 of the body, timestamp, nonce.
pub fn canonical(method: &str, path_and_query: &str, body: &[u8], ts: i64, nonce: &str) -> String {
    format!(
        "{method}\n{path_and_query}\n{}\n{ts}\n{nonce}",
        hex::encode(Sm3::digest(body))
    )
}

fn mac(secret: &str) -> HmacSm3 {
    <HmacSm3 as KeyInit>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length")
}

pub fn signature(secret: &str, canonical: &str) -> String {
    let mut m = mac(secret);
    m.update(canonical.as_bytes());
    hex::encode(m.finalize().into_bytes())
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// The provider's credentials at one platform.
#[derive(Clone, Debug)]
pub struct Client {
    pub platform: String,
    pub key_id: String,
    pub secret: String,
    http: reqwest::Client,
}

impl Client {
    pub fn new(platform: &str, key_id: &str, secret: &str) -> Client {
        Client {
            platform: platform.trim_end_matches('/').to_owned(),
            key_id: key_id.to_owned(),
            secret: secret.to_owned(),
            http: reqwest::Client::new(),
        }
    }

    /// One signed request; `idempotency_key` for mutations. Answers the status and the JSON body (or the
    /// text as a JSON string).
    pub async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
        idempotency_key: Option<&str>,
    ) -> Result<(u16, Value)> {
        let bytes = match body {
            Some(b) => serde_json::to_vec(b)?,
            None => Vec::new(),
        };
        let ts = now_ms();
        let nonce = uuid::Uuid::new_v4().simple().to_string();
        let sig = signature(
            &self.secret,
            &canonical(method.as_str(), path, &bytes, ts, &nonce),
        );
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.platform))
            .header("x-xiaowai-key", &self.key_id)
            .header("x-xiaowai-timestamp", ts.to_string())
            .header("x-xiaowai-nonce", nonce)
            .header("x-xiaowai-signature", sig);
        if body.is_some() {
            request = request.header("content-type", "application/json");
        }
        if let Some(key) = idempotency_key {
            request = request.header("idempotency-key", key);
        }
        let response = request.body(bytes).send().await.context("sending")?;
        let status = response.status().as_u16();
        let text = response.text().await?;
        let value = serde_json::from_str(&text).unwrap_or(Value::String(text));
        Ok((status, value))
    }

    /// A mutation that must succeed: a fresh idempotency key, the answer's body.
    pub async fn mutate(&self, method: reqwest::Method, path: &str, body: &Value) -> Result<Value> {
        let key = uuid::Uuid::new_v4().simple().to_string();
        let (status, answer) = self.send(method, path, Some(body), Some(&key)).await?;
        if !(200..300).contains(&status) {
            bail!("{path} answered {status}: {answer}");
        }
        Ok(answer)
    }
}

/// How the receiver behaves; the defaults are the correct ones.
#[derive(Clone, Debug)]
pub struct ReceiverOptions {
    pub key_id: String,
    pub secret: String,
    /// `false` makes a deliberately broken adapter that takes anything (the conformance kit fails it).
    pub verify_signatures: bool,
    /// Answer 503 to the first this-many valid deliveries, as during an outage.
    pub fail_first: usize,
}

#[derive(Default)]
struct Received {
    events: Vec<Value>,
    seen_deliveries: Vec<String>,
    refused: usize,
    failed_on_purpose: usize,
}

/// The webhook receiver: `POST /webhooks` takes deliveries, `GET /events` lists what was kept.
#[derive(Clone)]
pub struct Receiver {
    options: Arc<ReceiverOptions>,
    received: Arc<Mutex<Received>>,
    /// Each kept event is also sent here (the program prints them).
    tx: tokio::sync::mpsc::UnboundedSender<Value>,
}

impl Receiver {
    /// Serves on `listen` (port 0: any); answers the URL to register and a stream of kept events.
    pub async fn start(
        options: ReceiverOptions,
        listen: &str,
    ) -> Result<(
        Receiver,
        String,
        tokio::sync::mpsc::UnboundedReceiver<Value>,
    )> {
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        let receiver = Receiver {
            options: Arc::new(options),
            received: Arc::default(),
            tx,
        };
        let app = axum::Router::new()
            .route("/webhooks", post(take))
            .route("/events", get(events))
            .with_state(receiver.clone());
        let listener = tokio::net::TcpListener::bind(listen).await?;
        let url = format!("http://{}/webhooks", listener.local_addr()?);
        tokio::spawn(async move { axum::serve(listener, app).await });
        Ok((receiver, url, rx))
    }

    /// The events kept so far, in arrival order.
    pub fn events(&self) -> Vec<Value> {
        self.received.lock().expect("lock").events.clone()
    }

    /// Deliveries refused for a bad signature, key or timestamp.
    pub fn refused(&self) -> usize {
        self.received.lock().expect("lock").refused
    }

    fn verified(&self, uri: &Uri, headers: &HeaderMap, body: &[u8]) -> bool {
        let header = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
        };
        let ts: i64 = header("x-xiaowai-timestamp").parse().unwrap_or(0);
        if header("x-xiaowai-key") != self.options.key_id || (now_ms() - ts).abs() > WINDOW_MS {
            return false;
        }
        let path = uri.path_and_query().map_or("/", |p| p.as_str());
        let Ok(given) = hex::decode(header("x-xiaowai-signature")) else {
            return false;
        };
        let mut m = mac(&self.options.secret);
        m.update(canonical("POST", path, body, ts, header("x-xiaowai-nonce")).as_bytes());
        m.verify_slice(&given).is_ok()
    }
}

async fn take(State(r): State<Receiver>, uri: Uri, headers: HeaderMap, body: Bytes) -> StatusCode {
    if r.options.verify_signatures && !r.verified(&uri, &headers, &body) {
        r.received.lock().expect("lock").refused += 1;
        return StatusCode::UNAUTHORIZED;
    }
    let Ok(event) = serde_json::from_slice::<Value>(&body) else {
        return StatusCode::BAD_REQUEST;
    };
    let delivery = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let mut received = r.received.lock().expect("lock");
    if received.failed_on_purpose < r.options.fail_first && event["type"] != "ping" {
        received.failed_on_purpose += 1;
        return StatusCode::SERVICE_UNAVAILABLE;
    }
    if event["type"] != "ping" && !received.seen_deliveries.contains(&delivery) {
        received.seen_deliveries.push(delivery);
        received.events.push(event.clone());
        let _ = r.tx.send(event);
    }
    StatusCode::NO_CONTENT
}

async fn events(State(r): State<Receiver>) -> axum::Json<Vec<Value>> {
    axum::Json(r.events())
}

/// The lessons of the course the example publishes, and what it costs in all (fen).
pub const COURSE_LESSONS: i64 = 10;
pub const COURSE_TOTAL_FEN: i64 = 120_000;

/// The provider's side of the flow for one institution.
pub struct Adapter {
    pub client: Client,
    pub institution_id: String,
}

impl Adapter {
    fn base(&self) -> String {
        format!("/api/v1/integration/institutions/{}", self.institution_id)
    }

    /// Tells the platform where webhooks go.
    pub async fn register_webhook(&self, url: &str) -> Result<()> {
        self.client
            .mutate(
                reqwest::Method::PUT,
                "/api/v1/integration/webhook",
                &json!({"url": url}),
            )
            .await?;
        Ok(())
    }

    /// Publishes a ten-lesson arts course at ¥120 a lesson starting tomorrow (China time); answers its id.
    pub async fn sync_course(&self, name: &str) -> Result<String> {
        let today = chrono::Utc::now()
            .with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).expect("UTC+8"))
            .date_naive();
        let course = json!({
            "name": name, "category": "arts", "mode": "offline", "grades": "一至三年级",
            "lessons": COURSE_LESSONS, "minutes_per_lesson": 60, "class_size": 10,
            "price_per_lesson_fen": COURSE_TOTAL_FEN / COURSE_LESSONS,
            "first_lesson": (today + chrono::Days::new(1)).to_string(),
            "last_lesson": (today + chrono::Days::new(70)).to_string(),
        });
        let answer = self
            .client
            .mutate(
                reqwest::Method::POST,
                &format!("{}/courses", self.base()),
                &course,
            )
            .await?;
        answer["course_id"]
            .as_str()
            .map(str::to_owned)
            .context("course_id")
    }

    /// Orders the course for a parent (who then pays through the bank); answers the order's id and number.
    pub async fn order_for_parent(
        &self,
        course_id: &str,
        parent_phone: &str,
        child_id_card: &str,
    ) -> Result<(String, String)> {
        let answer = self
            .client
            .mutate(
                reqwest::Method::POST,
                &format!("{}/orders", self.base()),
                &json!({"course_id": course_id, "parent_phone": parent_phone, "child_id_card": child_id_card}),
            )
            .await?;
        Ok((
            answer["id"].as_str().context("order id")?.to_owned(),
            answer["order_no"].as_str().context("order_no")?.to_owned(),
        ))
    }

    /// Reports the child present at the order's next lesson; answers the lesson's number.
    pub async fn report_attendance(&self, order_id: &str, evidence: &str) -> Result<i64> {
        let answer = self
            .client
            .mutate(
                reqwest::Method::POST,
                &format!("{}/orders/{order_id}/attendance", self.base()),
                &json!({"evidence": evidence}),
            )
            .await?;
        answer["lesson_no"].as_i64().context("lesson_no")
    }
}
