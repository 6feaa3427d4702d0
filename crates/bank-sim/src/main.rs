//! bank-sim: a simulated supervising bank. It holds supervised accounts, offers parents a checkout page,
//! executes the platform's instructions and reports every movement — talking to the platform only through
//! the public bank API in `docs/api.md` (HMAC-SM3 signed requests, an Idempotency-Key on every mutation),
//! exactly as a real bank's system would. It can be told to misbehave (duplicate, delay, reorder or drop its
//! messages, or move money nobody instructed) so tests and demos can show what the platform does then.
//!
//! `bank-sim serve` runs the bank; `bank-sim load` is the benchmark driver (orders paid per second).

mod load;

use anyhow::{Context, Result, bail};
use axum::extract::{Form, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use clap::{Args, Parser, Subcommand};
use hmac::{Hmac, KeyInit, Mac};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sm3::{Digest, Sm3};
use std::collections::{HashMap, HashSet};
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
    /// Play an e-CNY wallet operator: the parent's money stays locked in the wallet's smart contract and is
    /// released per lesson on the platform's instruction (the same API messages as custody).
    #[arg(long)]
    wallet: bool,
}

/// Misbehaviour, set through `POST /admin/mode`.
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize)]
#[serde(default)]
struct Mode {
    /// Send every message twice (the second under a new idempotency key, as a buggy bank would).
    duplicate: bool,
    /// Hold every message this long before sending it.
    delay_ms: u64,
    /// Hold each message until the next one, then send the later one first.
    reorder: bool,
    /// Never send messages.
    drop: bool,
}

/// One message to the platform.
#[derive(Clone, Debug)]
struct Message {
    method: reqwest::Method,
    path: String,
    body: Value,
    idempotency_key: String,
}

#[derive(Default)]
struct Ledger {
    balances: HashMap<String, i64>,
    /// Per account: (China date, direction, amount) of every movement.
    movements: HashMap<String, Vec<(String, &'static str, i64)>>,
    seen_nonces: HashSet<String>,
    executed: HashSet<String>,
    held: Option<Message>,
    sequence: u64,
}

#[derive(Clone)]
struct Bank {
    identity: BankIdentity,
    http: reqwest::Client,
    ledger: Arc<Mutex<Ledger>>,
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

impl Bank {
    fn next_ref(&self, prefix: &str) -> String {
        let mut l = self.ledger.lock().expect("ledger lock");
        l.sequence += 1;
        format!(
            "{prefix}{}{:08}",
            china_date(now_ms()).replace('-', ""),
            l.sequence
        )
    }

    /// Applies a movement to the bank's own books; `None` when an outflow would overdraw.
    fn book(&self, account_no: &str, direction: &'static str, amount: i64) -> Option<i64> {
        let mut l = self.ledger.lock().expect("ledger lock");
        let balance = l.balances.entry(account_no.to_owned()).or_insert(0);
        let after = if direction == "in" {
            balance.checked_add(amount)?
        } else {
            balance.checked_sub(amount).filter(|b| *b >= 0)?
        };
        *balance = after;
        l.movements.entry(account_no.to_owned()).or_default().push((
            china_date(now_ms()),
            direction,
            amount,
        ));
        Some(after)
    }

    /// Sends messages under the current mode; returns the platform's answers (none when held or dropped).
    async fn deliver(&self, messages: Vec<Message>) -> Vec<(StatusCode, Value)> {
        let mode = *self.mode.lock().expect("mode lock");
        if mode.drop {
            return Vec::new();
        }
        let mut queue = Vec::new();
        for m in messages {
            if mode.reorder {
                let held = self
                    .ledger
                    .lock()
                    .expect("ledger lock")
                    .held
                    .replace(m.clone());
                if let Some(earlier) = held {
                    self.ledger.lock().expect("ledger lock").held = None;
                    queue.push(m);
                    queue.push(earlier);
                }
            } else {
                queue.push(m.clone());
                if mode.duplicate {
                    queue.push(Message {
                        idempotency_key: uuid::Uuid::new_v4().to_string(),
                        ..m
                    });
                }
            }
        }
        if mode.delay_ms > 0 {
            let bank = self.clone();
            tokio::spawn(async move {
                tokio::time::sleep(Duration::from_millis(mode.delay_ms)).await;
                bank.send_all(queue).await;
            });
            return Vec::new();
        }
        self.send_all(queue).await
    }

    async fn send_all(&self, queue: Vec<Message>) -> Vec<(StatusCode, Value)> {
        let mut answers = Vec::new();
        for m in queue {
            match self
                .identity
                .send(&self.http, m.method, &m.path, &m.body, &m.idempotency_key)
                .await
            {
                Ok(a) => answers.push(a),
                Err(e) => eprintln!("bank-sim: {e:#}"),
            }
        }
        answers
    }

    fn movement(
        &self,
        account_no: &str,
        direction: &'static str,
        amount: i64,
        balance_after: i64,
        instruction_id: Option<&str>,
        order_no: Option<&str>,
    ) -> Message {
        let bank_ref = self.next_ref("MV");
        Message {
            method: reqwest::Method::POST,
            path: "/api/v1/bank/movements".into(),
            idempotency_key: format!("movement-{bank_ref}"),
            body: json!({
                "account_no": account_no, "bank_ref": bank_ref, "direction": direction,
                "amount_fen": amount, "balance_after_fen": balance_after, "occurred_at": now_ms(),
                "instruction_id": instruction_id, "order_no": order_no,
            }),
        }
    }
}

#[derive(Deserialize)]
struct Checkout {
    order_no: String,
    amount_fen: i64,
    account_no: String,
    return_url: Option<String>,
}

fn page(title: &str, body: &str) -> Html<String> {
    Html(format!(
        r#"<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>{title}</title>
<style>body{{font-family:sans-serif;max-width:28rem;margin:2rem auto;padding:0 1rem;color:#1f2933}}
.card{{border:1px solid #d9e2ec;border-radius:8px;padding:1rem 1.25rem}}dt{{color:#627d98}}dd{{margin:0 0 .6rem}}
button{{background:#c0392b;color:#fff;border:0;border-radius:6px;padding:.7rem 1.2rem;font-size:1rem;width:100%}}
.note{{color:#627d98;font-size:.85rem}}</style></head><body><h1>{title}</h1>{body}</body></html>"#
    ))
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn yuan(fen: i64) -> String {
    format!("¥{}.{:02}", fen / 100, (fen % 100).abs())
}

/// The checkout page a parent reaches from the platform's order page.
async fn checkout_page(State(bank): State<Bank>, Query(c): Query<Checkout>) -> Html<String> {
    let back = c.return_url.clone().unwrap_or_default();
    let (title, account_label, note) = if bank.wallet {
        (
            "数字人民币钱包支付（模拟）",
            "智能合约（资金锁定在您的钱包中）",
            "这是演示用的模拟数字人民币钱包：款项锁定在您的钱包里，按课消指令逐课释放给机构。",
        )
    } else {
        (
            "模拟银行收银台",
            "收款账户（资金监管账户）",
            "这是演示用的模拟银行：款项进入机构的资金监管账户，由平台按课消指令划转。",
        )
    };
    page(
        title,
        &format!(
            r#"<div class="card"><dl><dt>订单号</dt><dd id="order-no">{}</dd><dt>支付金额</dt><dd id="amount">{}</dd>
<dt>{account_label}</dt><dd>{}</dd></dl>
<form method="post" action="/checkout">
<input type="hidden" name="order_no" value="{}"><input type="hidden" name="amount_fen" value="{}">
<input type="hidden" name="account_no" value="{}"><input type="hidden" name="return_url" value="{}">
<button type="submit" id="pay">确认支付</button></form></div>
<p class="note">{note}</p>"#,
            escape(&c.order_no),
            yuan(c.amount_fen),
            escape(&c.account_no),
            escape(&c.order_no),
            c.amount_fen,
            escape(&c.account_no),
            escape(&back),
        ),
    )
}

/// The parent pays: the money enters the supervised account; the bank notifies the platform and reports
/// the movement, then sends the parent back to the platform.
async fn checkout_pay(State(bank): State<Bank>, Form(c): Form<Checkout>) -> Response {
    if c.amount_fen <= 0 {
        return (StatusCode::BAD_REQUEST, page("支付失败", "<p>金额无效</p>")).into_response();
    }
    let Some(balance) = bank.book(&c.account_no, "in", c.amount_fen) else {
        return (
            StatusCode::BAD_REQUEST,
            page("支付失败", "<p>账户金额溢出</p>"),
        )
            .into_response();
    };
    let bank_ref = bank.next_ref("PAY");
    let payment = Message {
        method: reqwest::Method::POST,
        path: "/api/v1/bank/payments".into(),
        idempotency_key: format!("payment-{bank_ref}"),
        body: json!({
            "order_no": c.order_no, "account_no": c.account_no, "amount_fen": c.amount_fen,
            "bank_ref": bank_ref, "paid_at": now_ms(),
        }),
    };
    let movement = bank.movement(
        &c.account_no,
        "in",
        c.amount_fen,
        balance,
        None,
        Some(&c.order_no),
    );
    bank.deliver(vec![payment, movement]).await;
    match c
        .return_url
        .filter(|u| u.starts_with(&bank.identity.platform))
    {
        Some(url) => Redirect::to(&url).into_response(),
        None => page(
            "支付成功",
            &format!("<p>已支付 {}。</p>", yuan(c.amount_fen)),
        )
        .into_response(),
    }
}

#[derive(Deserialize)]
struct Instruction {
    instruction_id: String,
    kind: String,
    account_no: String,
    amount_fen: i64,
}

/// The platform's instruction (signed with this bank's key): acknowledged at once, executed right after.
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
    let fresh = (now_ms() - ts).abs() <= 5 * 60_000
        && bank
            .ledger
            .lock()
            .expect("ledger lock")
            .seen_nonces
            .insert(nonce);
    if h("x-xiaowai-signature") != expected || !fresh {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({"code": "invalid_signature"})),
        )
            .into_response();
    }
    let Ok(ins) = serde_json::from_slice::<Instruction>(&body) else {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"code": "invalid_parameter"})),
        )
            .into_response();
    };
    let first = bank
        .ledger
        .lock()
        .expect("ledger lock")
        .executed
        .insert(ins.instruction_id.clone());
    if first {
        let bank = bank.clone();
        tokio::spawn(async move { execute(bank, ins).await });
    }
    (StatusCode::ACCEPTED, Json(json!({"acknowledged": true}))).into_response()
}

async fn execute(bank: Bank, ins: Instruction) {
    let result_path = format!("/api/v1/bank/instructions/{}/result", ins.instruction_id);
    let mut messages = Vec::new();
    let result = match bank.book(&ins.account_no, "out", ins.amount_fen) {
        Some(balance) => {
            let movement = bank.movement(
                &ins.account_no,
                "out",
                ins.amount_fen,
                balance,
                Some(&ins.instruction_id),
                None,
            );
            let bank_ref = movement.body["bank_ref"].clone();
            messages.push(movement);
            json!({"status": "executed", "bank_ref": bank_ref})
        }
        None => json!({"status": "failed", "reason": format!("{}余额不足", ins.kind)}),
    };
    messages.push(Message {
        method: reqwest::Method::POST,
        path: result_path,
        idempotency_key: format!("result-{}", ins.instruction_id),
        body: result,
    });
    bank.deliver(messages).await;
}

async fn set_mode(State(bank): State<Bank>, Json(mode): Json<Mode>) -> Json<Mode> {
    *bank.mode.lock().expect("mode lock") = mode;
    Json(mode)
}

#[derive(Deserialize)]
struct ClockMove {
    advance_ms: i64,
}

async fn move_clock(Json(m): Json<ClockMove>) -> Response {
    if m.advance_ms <= 0 {
        return (
            StatusCode::UNPROCESSABLE_ENTITY,
            Json(json!({"error": "the clock only moves forward"})),
        )
            .into_response();
    }
    CLOCK_OFFSET_MS.fetch_add(m.advance_ms, std::sync::atomic::Ordering::SeqCst);
    Json(json!({"now_ms": now_ms()})).into_response()
}

#[derive(Deserialize)]
struct RogueOutflow {
    account_no: String,
    amount_fen: i64,
}

/// Money leaves a supervised account without any instruction from the platform (what a run-away owner
/// with a complicit clerk would do); the bank still reports the movement, as it must.
async fn rogue_outflow(State(bank): State<Bank>, Json(r): Json<RogueOutflow>) -> Response {
    let Some(balance) = bank.book(&r.account_no, "out", r.amount_fen) else {
        return (
            StatusCode::UNPROCESSABLE_ENTITY,
            Json(json!({"error": "insufficient balance"})),
        )
            .into_response();
    };
    let message = bank.movement(&r.account_no, "out", r.amount_fen, balance, None, None);
    let answers = bank.deliver(vec![message]).await;
    Json(json!({"balance_after_fen": balance, "platform": answers.into_iter().map(|(_, v)| v).collect::<Vec<_>>()}))
        .into_response()
}

#[derive(Deserialize)]
struct StatementRequest {
    date: Option<String>,
}

/// Sends each account's daily statement for a date (default today, China time).
async fn statements(State(bank): State<Bank>, Json(r): Json<StatementRequest>) -> Json<Value> {
    let date = r.date.unwrap_or_else(|| china_date(now_ms()));
    let messages: Vec<Message> = {
        let l = bank.ledger.lock().expect("ledger lock");
        l.balances
            .iter()
            .map(|(account_no, balance)| {
                let moves = l.movements.get(account_no).map(Vec::as_slice).unwrap_or(&[]);
                let sum = |dir: &str, day: Option<&str>| -> i64 {
                    moves
                        .iter()
                        .filter(|(d, m, _)| *m == dir && day.is_none_or(|day| d.as_str() == day))
                        .map(|(_, _, a)| a)
                        .sum()
                };
                let later_in: i64 = moves.iter().filter(|(d, m, _)| *m == "in" && *d > date).map(|(_, _, a)| a).sum();
                let later_out: i64 = moves.iter().filter(|(d, m, _)| *m == "out" && *d > date).map(|(_, _, a)| a).sum();
                let closing = balance - later_in + later_out;
                let (inflow, outflow) = (sum("in", Some(&date)), sum("out", Some(&date)));
                let count = moves.iter().filter(|(d, _, _)| *d == date).count();
                Message {
                    method: reqwest::Method::POST,
                    path: "/api/v1/bank/statements".into(),
                    idempotency_key: format!("statement-{account_no}-{date}"),
                    body: json!({
                        "account_no": account_no, "date": date, "opening_fen": closing - inflow + outflow,
                        "closing_fen": closing, "inflow_fen": inflow, "outflow_fen": outflow, "movement_count": count,
                    }),
                }
            })
            .collect()
    };
    let answers = bank.deliver(messages).await;
    Json(json!({"date": date, "platform": answers.into_iter().map(|(_, v)| v).collect::<Vec<_>>()}))
}

async fn accounts(State(bank): State<Bank>) -> Json<Value> {
    Json(json!(bank.ledger.lock().expect("ledger lock").balances))
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
        ledger: Arc::default(),
        mode: Arc::default(),
        wallet: args.wallet,
    };
    let app = Router::new()
        .route("/checkout", get(checkout_page).post(checkout_pay))
        .route("/instructions", post(instruction))
        .route("/admin/mode", post(set_mode))
        .route("/admin/clock", post(move_clock))
        .route("/admin/rogue-outflow", post(rogue_outflow))
        .route("/admin/statements", post(statements))
        .route("/admin/accounts", get(accounts))
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
