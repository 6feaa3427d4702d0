//! `example-integrator load`: the integration API under load, as a provider's adapter drives it. Three
//! phases, each `concurrency` requests at a time: course syncs (signed POSTs under idempotency keys, the
//! region's policy checked), orders for the demo parent, then the bank pays every order and the adapter's
//! receiver times each `order.paid` webhook from the bank's acknowledgement to its arrival. Prints JSON.

use anyhow::{Result, bail};
use example_integrator::{Adapter, Client, Receiver, ReceiverOptions};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;

#[derive(clap::Args)]
pub struct LoadArgs {
    #[command(flatten)]
    client: crate::ClientArgs,
    #[arg(long)]
    institution: String,
    #[arg(long)]
    bank_key_id: String,
    #[arg(long)]
    bank_secret: String,
    #[arg(long, default_value = "6222020200112345678")]
    account_no: String,
    #[arg(long, default_value = "13800000001")]
    parent_phone: String,
    #[arg(long, default_value = "11010820150301001X")]
    child_id_card: String,
    /// Requests per phase.
    #[arg(long, default_value_t = 1000)]
    requests: usize,
    #[arg(long, default_value_t = 16)]
    concurrency: usize,
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1].as_secs_f64() * 1000.0
}

fn summary(mut took: Vec<Duration>, wall: Duration) -> Value {
    took.sort_unstable();
    json!({
        "requests": took.len(),
        "per_second": (took.len() as f64 / wall.as_secs_f64() * 10.0).round() / 10.0,
        "p50_ms": (percentile(&took, 50.0) * 10.0).round() / 10.0,
        "p99_ms": (percentile(&took, 99.0) * 10.0).round() / 10.0,
        "max_ms": (percentile(&took, 100.0) * 10.0).round() / 10.0,
    })
}

/// Runs `n` calls of `one`, `concurrency` at a time; every call must succeed. Answers each call's result
/// and duration, and the wall time.
async fn phase<F, Fut, T>(
    n: usize,
    concurrency: usize,
    one: F,
) -> Result<(Vec<(T, Duration)>, Duration)>
where
    F: Fn(usize) -> Fut,
    Fut: Future<Output = Result<T>> + Send + 'static,
    T: Send + 'static,
{
    let gate = Arc::new(Semaphore::new(concurrency));
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(n);
    for i in 0..n {
        let permit = gate.clone().acquire_owned().await?;
        let call = one(i);
        tasks.push(tokio::spawn(async move {
            let t = Instant::now();
            let out = call.await;
            drop(permit);
            out.map(|v| (v, t.elapsed()))
        }));
    }
    let mut results = Vec::with_capacity(n);
    for task in tasks {
        results.push(task.await??);
    }
    Ok((results, started.elapsed()))
}

pub async fn run(args: LoadArgs) -> Result<()> {
    let c = &args.client;
    let client = Client::new(&c.platform, &c.key_id, &c.secret);
    let adapter = Arc::new(Adapter {
        client: client.clone(),
        institution_id: args.institution.clone(),
    });
    let (_receiver, url, mut events) = Receiver::start(
        ReceiverOptions {
            key_id: c.key_id.clone(),
            secret: c.secret.clone(),
            verify_signatures: true,
            fail_first: 0,
        },
        "127.0.0.1:0",
    )
    .await?;
    adapter.register_webhook(&url).await?;

    let (synced, sync_wall) = phase(args.requests, args.concurrency, |i| {
        let adapter = adapter.clone();
        async move { adapter.sync_course(&format!("压测课程 {i}")).await }
    })
    .await?;
    let course_id = synced[0].0.clone();

    let (ordered, order_wall) = phase(args.requests, args.concurrency, |_| {
        let adapter = adapter.clone();
        let (course, phone, id_card) = (
            course_id.clone(),
            args.parent_phone.clone(),
            args.child_id_card.clone(),
        );
        async move { adapter.order_for_parent(&course, &phone, &id_card).await }
    })
    .await?;
    let amount = example_integrator::COURSE_TOTAL_FEN;

    // The bank pays each order; the adapter's receiver notes when each order.paid arrives.
    let bank = Arc::new(Client::new(
        &c.platform,
        &args.bank_key_id,
        &args.bank_secret,
    ));
    let acknowledged: Arc<std::sync::Mutex<HashMap<String, Instant>>> = Arc::default();
    let orders: Vec<(String, String)> = ordered
        .iter()
        .map(|((id, no), _)| (id.clone(), no.clone()))
        .collect();
    let expected = orders.len();
    // Every webhook within a minute of the first payment, or the report says how many came.
    let collector = tokio::spawn(async move {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        let mut arrived = HashMap::new();
        while arrived.len() < expected {
            match tokio::time::timeout_at(deadline, events.recv()).await {
                Ok(Some(event)) => {
                    if event["type"] == "order.paid"
                        && let Some(order) = event["data"]["order"].as_str()
                    {
                        arrived.insert(order.to_owned(), Instant::now());
                    }
                }
                _ => break,
            }
        }
        arrived
    });
    let (_, pay_wall) = phase(orders.len(), args.concurrency, |i| {
        let (bank, acknowledged) = (bank.clone(), acknowledged.clone());
        let (order_id, order_no) = orders[i].clone();
        let account_no = args.account_no.clone();
        async move {
            let notice = json!({"order_no": order_no, "account_no": account_no, "amount_fen": amount,
                                "bank_ref": format!("LOAD-{order_no}"),
                                "paid_at": chrono::Utc::now().timestamp_millis()});
            bank.mutate(reqwest::Method::POST, "/api/v1/bank/payments", &notice).await?;
            acknowledged.lock().expect("lock").insert(order_id, Instant::now());
            Ok(())
        }
    })
    .await?;
    let arrived = collector.await?;
    let acknowledged = acknowledged.lock().expect("lock").clone();
    let mut latencies: Vec<Duration> = acknowledged
        .iter()
        .filter_map(|(order, ack)| {
            arrived
                .get(order)
                .map(|at| at.saturating_duration_since(*ack))
        })
        .collect();
    if latencies.is_empty() {
        bail!("no webhook arrived");
    }
    latencies.sort_unstable();
    let report = json!({
        "requests_per_phase": args.requests,
        "concurrency": args.concurrency,
        "course_sync": summary(synced.into_iter().map(|(_, d)| d).collect(), sync_wall),
        "order_for_parent": summary(ordered.into_iter().map(|(_, d)| d).collect(), order_wall),
        "bank_payments_per_second": (orders.len() as f64 / pay_wall.as_secs_f64() * 10.0).round() / 10.0,
        "webhook": {
            "delivered": latencies.len(),
            "of": orders.len(),
            "p50_ms": (percentile(&latencies, 50.0) * 10.0).round() / 10.0,
            "p99_ms": (percentile(&latencies, 99.0) * 10.0).round() / 10.0,
            "max_ms": (percentile(&latencies, 100.0) * 10.0).round() / 10.0,
        },
    });
    println!("{report}");
    Ok(())
}
