//! The benchmark driver: the demo parent places orders through the parent API (setup, timed separately),
//! then the bank pays them all through the bank API — signed requests with idempotency keys, `concurrency`
//! at a time — and the driver reports orders paid per second and latency percentiles as JSON.

use crate::BankIdentity;
use anyhow::{Context, Result, bail};
use clap::Args;
use serde_json::{Value, json};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;

#[derive(Args, Debug)]
pub struct LoadArgs {
    #[command(flatten)]
    identity: BankIdentity,
    /// The platform's data directory: the demo parent's sign-in code is read from its dev-sms.log.
    #[arg(long)]
    data_dir: PathBuf,
    /// The demo parent's phone number.
    #[arg(long, default_value = "13800000001")]
    phone: String,
    /// A course of the institution that owns `account_no`.
    #[arg(long)]
    course_id: String,
    /// The supervised account the orders are paid into.
    #[arg(long, default_value = "6222020200112345678")]
    account_no: String,
    #[arg(long, default_value_t = 2000)]
    orders: usize,
    #[arg(long, default_value_t = 32)]
    concurrency: usize,
    /// Payment notices per request: 1 uses `POST /api/v1/bank/payments`, more `…/payments/batch`.
    #[arg(long, default_value_t = 1)]
    batch: usize,
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1].as_secs_f64() * 1000.0
}

async fn parent_token(http: &reqwest::Client, args: &LoadArgs) -> Result<String> {
    let base = &args.identity.platform;
    let sent = http
        .post(format!("{base}/api/v1/auth/sms-code"))
        .json(&json!({"phone": args.phone}))
        .send()
        .await?;
    if !sent.status().is_success() {
        bail!("sms-code: {} {}", sent.status(), sent.text().await?);
    }
    let log = std::fs::read_to_string(args.data_dir.join("dev-sms.log"))
        .context("reading dev-sms.log in the platform's data directory")?;
    let code: String = log
        .lines()
        .last()
        .and_then(|l| l.split("验证码 ").nth(1))
        .map(|rest| rest.chars().take(6).collect())
        .context("no code in dev-sms.log")?;
    let pair: Value = http
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({"phone": args.phone, "code": code}))
        .send()
        .await?
        .json()
        .await?;
    pair["access_token"]
        .as_str()
        .map(str::to_owned)
        .with_context(|| format!("login: {pair}"))
}

/// Runs `n` jobs, `concurrency` at a time; returns each job's latency and whether it succeeded.
async fn run_all<F, Fut>(n: usize, concurrency: usize, job: F) -> Vec<(Duration, Result<Value>)>
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Value>> + Send,
{
    let gate = Arc::new(Semaphore::new(concurrency.max(1)));
    let job = Arc::new(job);
    let mut handles = Vec::with_capacity(n);
    for i in 0..n {
        let gate = gate.clone();
        let job = job.clone();
        handles.push(tokio::spawn(async move {
            let _permit = gate.acquire_owned().await.expect("semaphore open");
            let started = Instant::now();
            let outcome = job(i).await;
            (started.elapsed(), outcome)
        }));
    }
    let mut out = Vec::with_capacity(n);
    for h in handles {
        out.push(h.await.expect("job task"));
    }
    out
}

fn summary(phase: &str, results: &[(Duration, Result<Value>)], elapsed: Duration) -> Value {
    let count: u64 = results
        .iter()
        .filter_map(|(_, r)| r.as_ref().ok())
        .map(|v| v["count"].as_u64().unwrap_or(1))
        .sum();
    let mut ok: Vec<Duration> = results
        .iter()
        .filter(|(_, r)| r.is_ok())
        .map(|(d, _)| *d)
        .collect();
    ok.sort();
    let failures: Vec<String> = results
        .iter()
        .filter_map(|(_, r)| r.as_ref().err().map(|e| format!("{e:#}")))
        .take(3)
        .collect();
    json!({
        "phase": phase,
        "ok": count,
        "requests": results.len(),
        "failed_requests": results.len() - ok.len(),
        "first_failures": failures,
        "seconds": elapsed.as_secs_f64(),
        "per_second": count as f64 / elapsed.as_secs_f64(),
        "p50_ms": percentile(&ok, 50.0),
        "p95_ms": percentile(&ok, 95.0),
        "p99_ms": percentile(&ok, 99.0),
    })
}

pub async fn run(args: LoadArgs) -> Result<()> {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .pool_max_idle_per_host(args.concurrency)
        .build()?;
    let base = args.identity.platform.clone();
    let token = parent_token(&http, &args).await?;
    let children: Value = http
        .get(format!("{base}/api/v1/me/children"))
        .bearer_auth(&token)
        .send()
        .await?
        .json()
        .await?;
    let child = children[0]["id"]
        .as_str()
        .with_context(|| format!("the parent has no child: {children}"))?
        .to_owned();

    // Setup: place the orders (the e-contract of each is built and digested here).
    let started = Instant::now();
    let (h, course, t) = (http.clone(), args.course_id.clone(), token.clone());
    let placed = run_all(args.orders, args.concurrency, move |_| {
        let (h, course, child, t, base) = (
            h.clone(),
            course.clone(),
            child.clone(),
            t.clone(),
            base.clone(),
        );
        async move {
            let r = h
                .post(format!("{base}/api/v1/parent/orders"))
                .bearer_auth(t)
                .json(&json!({"course_id": course, "child_id": child}))
                .send()
                .await?;
            let status = r.status();
            let v: Value = r.json().await?;
            if status != 201 {
                bail!("order: {status} {v}");
            }
            Ok(v)
        }
    })
    .await;
    let placing = summary("place_order", &placed, started.elapsed());
    let orders: Vec<(String, i64)> = placed
        .iter()
        .filter_map(|(_, r)| r.as_ref().ok())
        .map(|v| {
            (
                v["order_no"].as_str().unwrap_or_default().to_owned(),
                v["amount_fen"].as_i64().unwrap_or(0),
            )
        })
        .collect();

    // Measured: every order paid through the bank API, `batch` notices per request.
    let batches: Vec<Vec<(String, i64)>> = orders
        .chunks(args.batch.max(1))
        .map(<[_]>::to_vec)
        .collect();
    let batches = Arc::new(batches);
    let started = Instant::now();
    let (h, identity, account) = (http.clone(), args.identity.clone(), args.account_no.clone());
    let single = args.batch <= 1;
    let paid = run_all(batches.len(), args.concurrency, move |i| {
        let (h, identity, account, batches) = (h.clone(), identity.clone(), account.clone(), batches.clone());
        async move {
            let notices: Vec<Value> = batches[i]
                .iter()
                .map(|(order_no, amount)| {
                    json!({"order_no": order_no, "account_no": account, "amount_fen": amount,
                           "bank_ref": format!("LOAD{}", uuid::Uuid::new_v4().simple()), "paid_at": crate::now_ms()})
                })
                .collect();
            let key = format!("load-{}", uuid::Uuid::new_v4().simple());
            let (path, body) = if single {
                ("/api/v1/bank/payments", notices[0].clone())
            } else {
                ("/api/v1/bank/payments/batch", json!({"payments": notices}))
            };
            let (status, v) = identity.send(&h, reqwest::Method::POST, path, &body, &key).await?;
            let answers = if single { vec![v.clone()] } else { v.as_array().cloned().unwrap_or_default() };
            let paid = answers.iter().filter(|a| a["status"] == "paid").count();
            if status != 200 || paid != notices.len() {
                bail!("payment: {status} {v}");
            }
            Ok(json!({"count": paid}))
        }
    })
    .await;
    let paying = summary("pay_order", &paid, started.elapsed());
    println!(
        "{}",
        serde_json::to_string_pretty(&json!({
            "orders": args.orders, "concurrency": args.concurrency, "batch": args.batch,
            "place": placing, "pay": paying,
        }))?
    );
    Ok(())
}

#[derive(Args, Debug)]
pub struct MovementLoadArgs {
    #[command(flatten)]
    identity: BankIdentity,
    /// A file with one supervised account number (confirmed at this bank) per line.
    #[arg(long)]
    accounts: PathBuf,
    #[arg(long, default_value_t = 50_000)]
    movements: usize,
    /// Movements per request: 1 uses `POST /api/v1/bank/movements`, more `…/movements/batch`.
    #[arg(long, default_value_t = 100)]
    batch: usize,
    #[arg(long, default_value_t = 4)]
    concurrency: usize,
    /// Every n-th movement of an account is an outflow the platform never instructed; the rest are inflows.
    #[arg(long, default_value_t = 10)]
    outflow_every: usize,
    /// The balance the simulation starts each account from (fen).
    #[arg(long, default_value_t = 10_000_000)]
    opening_balance_fen: i64,
}

/// Benchmark of the risk engine's event path: bank movements spread over many accounts, each evaluated by
/// the risk model in its report's transaction. Reports movements accepted per second as JSON.
pub async fn run_movements(args: MovementLoadArgs) -> Result<()> {
    let accounts: Vec<String> = std::fs::read_to_string(&args.accounts)
        .with_context(|| format!("reading {}", args.accounts.display()))?
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect();
    if accounts.is_empty() {
        bail!("no accounts in {}", args.accounts.display());
    }
    // The movements as the bank books them: round-robin over the accounts, balances kept per account.
    let run = uuid::Uuid::new_v4().simple().to_string();
    let start = crate::now_ms();
    let mut balances = vec![args.opening_balance_fen; accounts.len()];
    let movements: Vec<Value> = (0..args.movements)
        .map(|i| {
            let a = i % accounts.len();
            let nth = i / accounts.len() + 1;
            let (direction, amount) = if nth.is_multiple_of(args.outflow_every.max(1)) {
                ("out", 2_000)
            } else {
                ("in", 10_000)
            };
            balances[a] += if direction == "in" { amount } else { -amount };
            json!({"account_no": accounts[a], "bank_ref": format!("RL{run}-{i}"), "direction": direction,
                   "amount_fen": amount, "balance_after_fen": balances[a],
                   "occurred_at": start + i as i64})
        })
        .collect();
    let outflows = movements.iter().filter(|m| m["direction"] == "out").count();
    let batches: Arc<Vec<Vec<Value>>> = Arc::new(
        movements
            .chunks(args.batch.max(1))
            .map(<[_]>::to_vec)
            .collect(),
    );
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .pool_max_idle_per_host(args.concurrency)
        .build()?;
    let single = args.batch <= 1;
    let identity = args.identity.clone();
    let started = Instant::now();
    let results = run_all(batches.len(), args.concurrency, move |i| {
        let (h, identity, batches) = (http.clone(), identity.clone(), batches.clone());
        async move {
            let key = format!("load-{}", uuid::Uuid::new_v4().simple());
            let (path, body) = if single {
                ("/api/v1/bank/movements", batches[i][0].clone())
            } else {
                (
                    "/api/v1/bank/movements/batch",
                    json!({"movements": batches[i]}),
                )
            };
            let (status, v) = identity
                .send(&h, reqwest::Method::POST, path, &body, &key)
                .await?;
            let answers = if single {
                vec![v.clone()]
            } else {
                v.as_array().cloned().unwrap_or_default()
            };
            let accepted = answers
                .iter()
                .filter(|a| a["matched"].is_string() && a["duplicate"] == false)
                .count();
            if status != 200 || accepted != batches[i].len() {
                bail!("movements: {status} {v}");
            }
            Ok(json!({"count": accepted}))
        }
    })
    .await;
    let moving = summary("movements", &results, started.elapsed());
    println!(
        "{}",
        serde_json::to_string_pretty(&json!({
            "movements": args.movements, "accounts": accounts.len(), "outflows": outflows,
            "batch": args.batch, "concurrency": args.concurrency, "report": moving,
        }))?
    );
    Ok(())
}
