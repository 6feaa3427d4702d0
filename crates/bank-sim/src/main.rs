//! bank-sim: a simulated supervising bank. It holds supervised accounts, offers parents a checkout page,
//! executes the platform's instructions and reports every movement — talking to the platform only through
//! the public bank API in `docs/api.md` (HMAC-SM3 signed requests, an Idempotency-Key on every mutation),
//! exactly as a real bank's system would. It can be told to misbehave (duplicate, delay, reorder or drop its
//! messages, or move money nobody instructed) so tests and demos can show what the platform does then.
//!
//! Its books live in its own SQLite file (`--data`): balances, every line, the instructions received, the
//! reference counter and an outbox of messages to the platform, written together, so a bank killed at any
//! moment loses nothing, sends every notice until the platform answers it, and never reuses a reference.
//!
//! `bank-sim serve` runs the bank; `bank-sim load` is the benchmark driver (orders paid per second).

mod admin;
mod books;
mod checkout;
mod load;

use anyhow::{Context, Result, bail};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use books::{Booking, Books, Message, Outgoing};
use clap::{Args, Parser, Subcommand};
use hmac::{Hmac, KeyInit, Mac};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sm3::{Digest, Sm3};
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Parser, Debug)]
#[command(name = "bank-sim", about = "A simulated supervising bank for xiaowai")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run the bank: checkout page, instruction endpoint, movement reports.
    Serve(ServeArgs),
    /// Benchmark: place orders as the demo parent, then pay them through the bank API and measure.
    Load(load::LoadArgs),
    /// Benchmark: report movements on many supervised accounts, each evaluated by the risk model, and measure.
    LoadMovements(load::MovementLoadArgs),
}

/// How the bank reaches the platform.
#[derive(Args, Debug, Clone)]
pub struct BankIdentity {
    /// The platform's base URL.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    platform: String,
    /// The bank's API key id and secret on the platform (the demo's are documented in the README).
    #[arg(long, default_value = "xwk_demo_bank")]
    key_id: String,
    #[arg(long, default_value = "demo-bank-secret-0123456789abcdef")]
    secret: String,
}

#[derive(Args, Debug)]
struct ServeArgs {
    #[command(flatten)]
    identity: BankIdentity,
    /// Where the bank listens (port 0 picks a free one; the address is printed).
    #[arg(long, default_value = "127.0.0.1:8090")]
    listen: String,
    /// The bank's books (balances, lines, instructions, reference counter, outbox): a SQLite file that
    /// survives restarts. Delete it to start a fresh bank beside a fresh platform.
    #[arg(long, default_value = "bank-sim.sqlite3")]
    data: std::path::PathBuf,
    /// Play an e-CNY wallet operator: the parent's money stays locked in the wallet's smart contract and is
    /// released per lesson on the platform's instruction (the same API messages as custody).
    #[arg(long)]
    wallet: bool,
}

/// Misbehaviour, set through `POST /admin/mode` (kept in memory: a restart behaves).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default)]
struct Mode {
    /// Send every message twice (the second under a new idempotency key, as a buggy bank would).
    duplicate: bool,
    /// Hold every new message this long before sending it.
    delay_ms: u64,
    /// Send what is waiting latest first.
    reorder: bool,
    /// Lose messages: they leave the outbox unsent (the daily statement's lines settle them).
    drop: bool,
    /// Send nothing for now: messages wait in the outbox (as when the platform is unreachable) and go out
    /// once this is lifted — or after a restart.
    pause: bool,
}

#[derive(Clone)]
struct Bank {
    identity: BankIdentity,
    http: reqwest::Client,
    books: Books,
    mode: Arc<Mutex<Mode>>,
    wallet: bool,
}

type HmacSm3 = Hmac<Sm3>;

/// The string both sides sign (docs/api.md): METHOD, path and query, hex SM3 of the body, timestamp, nonce.
pub fn canonical(method: &str, path_and_query: &str, body: &[u8], ts: i64, nonce: &str) -> String {
    format!(
        "{method}\n{path_and_query}\n{}\n{ts}\n{nonce}",
        hex::encode(Sm3::digest(body))
    )
}

pub fn signature(secret: &str, canonical: &str) -> String {
    let mut mac = <HmacSm3 as KeyInit>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(canonical.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// How far this bank's clock runs ahead of the wall clock: a test that moves the platform's clock
/// (`serve --test-clock`) moves the bank's by the same amount (`POST /admin/clock`), so signatures stay fresh.
static CLOCK_OFFSET_MS: std::sync::atomic::AtomicI64 = std::sync::atomic::AtomicI64::new(0);

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
        + CLOCK_OFFSET_MS.load(std::sync::atomic::Ordering::SeqCst)
}

fn china_date(ms: i64) -> String {
    let offset = chrono::FixedOffset::east_opt(8 * 3600).expect("UTC+8");
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|d| d.with_timezone(&offset).date_naive().to_string())
        .unwrap_or_default()
}

impl BankIdentity {
    /// Sends one signed request once: the platform's answer, or why none came.
    pub async fn send_once(
        &self,
        http: &reqwest::Client,
        method: reqwest::Method,
        path: &str,
        body: &Value,
        idempotency_key: &str,
    ) -> Result<(StatusCode, Value)> {
        let bytes = serde_json::to_vec(body)?;
        let ts = now_ms();
        let nonce = uuid::Uuid::new_v4().simple().to_string();
        let sig = signature(
            &self.secret,
            &canonical(method.as_str(), path, &bytes, ts, &nonce),
        );
        let r = http
            .request(method, format!("{}{path}", self.platform))
            .header("content-type", "application/json")
            .header("x-xiaowai-key", &self.key_id)
            .header("x-xiaowai-timestamp", ts.to_string())
            .header("x-xiaowai-nonce", nonce)
            .header("x-xiaowai-signature", sig)
            .header("idempotency-key", idempotency_key)
            .body(bytes)
            .send()
            .await?;
        let status = StatusCode::from_u16(r.status().as_u16())?;
        let value = r.json::<Value>().await.unwrap_or(Value::Null);
        Ok((status, value))
    }

    /// Sends one signed request; retries a transport failure or a 5xx with the same idempotency key.
    pub async fn send(
        &self,
        http: &reqwest::Client,
        method: reqwest::Method,
        path: &str,
        body: &Value,
        idempotency_key: &str,
    ) -> Result<(StatusCode, Value)> {
        let bytes = serde_json::to_vec(body)?;
        let mut last = String::new();
        for attempt in 0..5u32 {
            if attempt > 0 {
                tokio::time::sleep(Duration::from_millis(200 * u64::from(attempt))).await;
            }
            let ts = now_ms();
            let nonce = uuid::Uuid::new_v4().simple().to_string();
            let sig = signature(
                &self.secret,
                &canonical(method.as_str(), path, &bytes, ts, &nonce),
            );
            let sent = http
                .request(method.clone(), format!("{}{path}", self.platform))
                .header("content-type", "application/json")
                .header("x-xiaowai-key", &self.key_id)
                .header("x-xiaowai-timestamp", ts.to_string())
                .header("x-xiaowai-nonce", nonce)
                .header("x-xiaowai-signature", sig)
                .header("idempotency-key", idempotency_key)
                .body(bytes.clone())
                .send()
                .await;
            match sent {
                Ok(r) if r.status().is_server_error() => last = format!("{}", r.status()),
                Ok(r) => {
                    let status = StatusCode::from_u16(r.status().as_u16())?;
                    let value = r.json::<Value>().await.unwrap_or(Value::Null);
                    return Ok((status, value));
                }
                Err(e) => last = e.to_string(),
            }
        }
        bail!("{path}: gave up after 5 attempts: {last}")
    }
}

/// How long a sender's claim on an outbox message holds before another sender may take it.
const CLAIM_MS: i64 = 30_000;

/// Retrying a message the platform did not answer: 1 s, 2 s, 4 s … at most a minute.
fn retry_after_ms(attempts: i64) -> i64 {
    1000 * (1i64 << attempts.clamp(0, 6))
}

impl Bank {
    /// A movement report, as the outbox keeps it.
    fn movement(line: &Booking<'_>, bank_ref: &str, balance_after: i64) -> Outgoing {
        Outgoing {
            method: "POST",
            path: "/api/v1/bank/movements".into(),
            idempotency_key: format!("movement-{bank_ref}"),
            body: json!({
                "account_no": line.account_no, "bank_ref": bank_ref, "direction": line.direction,
                "amount_fen": line.amount_fen, "balance_after_fen": balance_after,
                "occurred_at": line.occurred_at, "instruction_id": line.instruction_id,
                "order_no": line.order_no,
            }),
        }
    }

    /// When new messages may go, under the mode: now, or after the delay.
    fn send_at(&self) -> i64 {
        let delay = self.mode.lock().expect("mode lock").delay_ms;
        now_ms() + i64::try_from(delay).unwrap_or(0)
    }

    /// Sends what the outbox holds due now, under the current mode; returns the platform's answers. A message
    /// the platform answered (anything but a 5xx) leaves the outbox; one it did not answer is tried again
    /// later, for ever, by the sender task — restarts included.
    async fn deliver(&self) -> Vec<(StatusCode, Value)> {
        let mode = *self.mode.lock().expect("mode lock");
        if mode.pause {
            return Vec::new();
        }
        let mut due = match self.books.due_messages(now_ms(), CLAIM_MS, 200).await {
            Ok(due) => due,
            Err(e) => {
                eprintln!("bank-sim: reading the outbox: {e:#}");
                return Vec::new();
            }
        };
        if mode.reorder {
            due.reverse();
        }
        let mut answers = Vec::new();
        for m in due {
            answers.extend(self.deliver_one(&m, mode).await);
        }
        answers
    }

    /// Sends one claimed outbox message: the platform's answer, or `None` (dropped under the mode, or to be
    /// tried again later).
    async fn deliver_one(&self, m: &Message, mode: Mode) -> Option<(StatusCode, Value)> {
        if mode.drop {
            let _ = self.books.delivered(m.seq).await;
            return None;
        }
        let method =
            reqwest::Method::from_bytes(m.method.as_bytes()).unwrap_or(reqwest::Method::POST);
        let sent = self
            .identity
            .send_once(
                &self.http,
                method.clone(),
                &m.path,
                &m.body,
                &m.idempotency_key,
            )
            .await;
        match sent {
            Ok((status, body)) if !status.is_server_error() => {
                if let Err(e) = self.books.delivered(m.seq).await {
                    eprintln!("bank-sim: {e:#}");
                }
                if mode.duplicate {
                    let again = uuid::Uuid::new_v4().to_string();
                    let _ = self
                        .identity
                        .send_once(&self.http, method, &m.path, &m.body, &again)
                        .await;
                }
                Some((status, body))
            }
            other => {
                if let Err(e) = &other {
                    eprintln!("bank-sim: {}: {e:#}", m.path);
                }
                let _ = self
                    .books
                    .retry_later(m.seq, now_ms() + retry_after_ms(m.attempts))
                    .await;
                None
            }
        }
    }

    /// Queues messages in `tx` and commits it; returns the platform's answers to exactly these messages. Under
    /// the plain mode they are queued claimed by this call and sent by it at once, so the sender task cannot
    /// answer them first (it takes them only if the claim expires: a crash here loses nothing); under any
    /// other mode they go the usual way, and the answers are whatever went out now.
    async fn send_and_answer(
        &self,
        mut tx: books::Tx<'_>,
        messages: Vec<Outgoing>,
    ) -> Result<Vec<(StatusCode, Value)>> {
        let mode = *self.mode.lock().expect("mode lock");
        if mode != Mode::default() {
            tx.send(&messages, self.send_at()).await?;
            tx.commit().await?;
            return Ok(self.deliver().await);
        }
        let seqs = tx.send(&messages, now_ms() + CLAIM_MS).await?;
        tx.commit().await?;
        let mut answers = Vec::new();
        for (seq, m) in seqs.into_iter().zip(messages) {
            let claimed = Message {
                seq,
                method: m.method.to_owned(),
                path: m.path,
                body: m.body,
                idempotency_key: m.idempotency_key,
                attempts: 0,
            };
            answers.extend(self.deliver_one(&claimed, mode).await);
        }
        Ok(answers)
    }

    /// The sender: every half second, what is due goes out (retries, delayed messages, and whatever a
    /// restart found in the outbox); instructions received and not executed are executed.
    async fn run_background(self) {
        let mut tick = tokio::time::interval(Duration::from_millis(500));
        loop {
            tick.tick().await;
            self.execute_waiting().await;
            self.deliver().await;
        }
    }

    /// Executes every instruction received and not executed yet, oldest first.
    async fn execute_waiting(&self) {
        match self.books.waiting_instructions().await {
            Ok(waiting) => {
                for (id, body) in waiting {
                    if let Err(e) = self.execute(&id, &body).await {
                        eprintln!("bank-sim: executing {id}: {e:#}");
                    }
                }
            }
            Err(e) => eprintln!("bank-sim: {e:#}"),
        }
    }

    /// Executes one received instruction (once: a second attempt finds it done), paying out of the account
    /// when it holds enough, failing it otherwise; the movement and the result go into the outbox in the same
    /// transaction.
    async fn execute(&self, id: &str, body: &Value) -> Result<()> {
        let account_no = body["account_no"].as_str().unwrap_or_default().to_owned();
        let amount = body["amount_fen"].as_i64().unwrap_or(0);
        let kind = body["kind"].as_str().unwrap_or("release").to_owned();
        let mut tx = self.books.begin().await?;
        let now = tx.booking_time(&account_no, now_ms()).await?;
        let day = china_date(now);
        let bank_ref = tx.reference("MV", &day).await?;
        let line = Booking {
            account_no: &account_no,
            direction: "out",
            amount_fen: amount,
            occurred_at: now,
            day: &day,
            order_no: None,
            instruction_id: Some(id),
            payment_ref: None,
        };
        let booked = if amount > 0 {
            tx.book(&line, &bank_ref).await?
        } else {
            None
        };
        let (status, result, mut messages) = match booked {
            Some(after) => (
                "executed",
                json!({"status": "executed", "bank_ref": bank_ref}),
                vec![Self::movement(&line, &bank_ref, after)],
            ),
            None => (
                "failed",
                json!({"status": "failed", "reason": format!("{kind}余额不足")}),
                Vec::new(),
            ),
        };
        if !tx.finish_instruction(id, status, &result).await? {
            return Ok(());
        }
        messages.push(Outgoing {
            method: "POST",
            path: format!("/api/v1/bank/instructions/{id}/result"),
            idempotency_key: format!("result-{id}"),
            body: result,
        });
        tx.send(&messages, self.send_at()).await?;
        tx.commit().await?;
        self.deliver().await;
        Ok(())
    }
}

/// The platform's instruction (signed with this bank's key). A new one is recorded and acknowledged (202),
/// then executed; one asked again is answered with its result when the bank has one (200), acknowledged
/// again otherwise — never executed twice.
async fn instruction(
    State(bank): State<Bank>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let h = |n: &str| {
        headers
            .get(n)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned()
    };
    let ts: i64 = h("x-xiaowai-timestamp").parse().unwrap_or(0);
    let nonce = h("x-xiaowai-nonce");
    let expected = signature(
        &bank.identity.secret,
        &canonical("POST", "/instructions", &body, ts, &nonce),
    );
    let unsigned = || {
        (
            StatusCode::UNAUTHORIZED,
            Json(json!({"code": "invalid_signature"})),
        )
            .into_response()
    };
    if h("x-xiaowai-signature") != expected || (now_ms() - ts).abs() > 5 * 60_000 {
        return unsigned();
    }
    let unavailable = |e: anyhow::Error| {
        eprintln!("bank-sim: {e:#}");
        StatusCode::SERVICE_UNAVAILABLE.into_response()
    };
    match bank.books.first_use_of_nonce(&nonce, now_ms()).await {
        Ok(true) => {}
        Ok(false) => return unsigned(),
        Err(e) => return unavailable(e),
    }
    let Ok(ins) = serde_json::from_slice::<Value>(&body) else {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"code": "invalid_parameter"})),
        )
            .into_response();
    };
    let Some(id) = ins["instruction_id"].as_str().map(str::to_owned) else {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"code": "invalid_parameter"})),
        )
            .into_response();
    };
    match bank.books.instruction(&id).await {
        Ok(Some(Some(result))) => return (StatusCode::OK, Json(result)).into_response(),
        Ok(Some(None)) => {
            return (StatusCode::ACCEPTED, Json(json!({"acknowledged": true}))).into_response();
        }
        Ok(None) => {}
        Err(e) => return unavailable(e),
    }
    let received = async {
        let mut tx = bank.books.begin().await?;
        tx.receive_instruction(&id, &ins, now_ms()).await?;
        tx.commit().await
    }
    .await;
    if let Err(e) = received {
        return unavailable(e);
    }
    let executor = bank.clone();
    tokio::spawn(async move {
        if let Err(e) = executor.execute(&id, &ins).await {
            eprintln!("bank-sim: executing {id}: {e:#}");
        }
    });
    (StatusCode::ACCEPTED, Json(json!({"acknowledged": true}))).into_response()
}

async fn serve(args: ServeArgs) -> Result<()> {
    let listener = tokio::net::TcpListener::bind(&args.listen)
        .await
        .with_context(|| format!("listening on {}", args.listen))?;
    let base = format!("http://{}", listener.local_addr()?);
    let bank = Bank {
        identity: args.identity,
        http: reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()?,
        books: Books::open(&args.data).await?,
        mode: Arc::default(),
        wallet: args.wallet,
    };
    let app = Router::new()
        .route(
            "/checkout",
            get(checkout::checkout_page).post(checkout::checkout_pay),
        )
        .route("/instructions", post(instruction))
        .route("/admin/mode", post(admin::set_mode))
        .route("/admin/clock", post(admin::move_clock))
        .route("/admin/rogue-outflow", post(admin::rogue_outflow))
        .route("/admin/statements", post(admin::statements))
        .route("/admin/accounts", get(admin::accounts))
        .route("/healthz", get(|| async { "ok" }))
        .with_state(bank.clone());
    let server = tokio::spawn(async move { axum::serve(listener, app).await });
    // Tell the platform where instructions and parents go (retried until the platform is up).
    let registration = json!({"instruction_url": format!("{base}/instructions"), "checkout_url": format!("{base}/checkout")});
    let mut registered = false;
    for _ in 0..60 {
        match bank
            .identity
            .send(
                &bank.http,
                reqwest::Method::PUT,
                "/api/v1/bank/endpoint",
                &registration,
                &uuid::Uuid::new_v4().to_string(),
            )
            .await
        {
            Ok((status, _)) if status.is_success() => {
                registered = true;
                break;
            }
            Ok((status, body)) => bail!("the platform refused the endpoint: {status} {body}"),
            Err(_) => tokio::time::sleep(Duration::from_millis(500)).await,
        }
    }
    if !registered {
        bail!("the platform at {} did not answer", bank.identity.platform);
    }
    println!("bank-sim listening on {base}");
    // What a restart found in the outbox, and whatever comes later, goes out from here.
    tokio::spawn(bank.clone().run_background());
    server.await??;
    Ok(())
}

#[tokio::main]
async fn main() -> Result<()> {
    match Cli::parse().command {
        Command::Serve(args) => serve(args).await,
        Command::Load(args) => load::run(args).await,
        Command::LoadMovements(args) => load::run_movements(args).await,
    }
}
