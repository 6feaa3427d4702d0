//! 后台任务 the background work of `xiaowai serve`: one task per job, each on its own interval, so a slow job
//! (the risk sweep reads every institution) never delays another (a bank instruction, a webhook). Jobs that
//! take rows claim them first (`store::Instructions::claim_due_instructions`, `claim_due_webhook_deliveries`), so two
//! servers on one database never deliver the same row; the hourly risk sweep and the daily statement check
//! run once per period across servers (`job_schedule`); the timers move each record by a conditional state
//! change, so a second server running them changes nothing twice.

use crate::{App, AppError};
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;
use tokio::task::JoinHandle;

type Step = for<'a> fn(&'a App) -> Pin<Box<dyn Future<Output = Result<(), AppError>> + Send + 'a>>;

/// A job: what it does (for the log), how often, and one run of it.
struct Job {
    name: &'static str,
    every: Duration,
    run: Step,
}

const fn job(name: &'static str, every_ms: u64, run: Step) -> Job {
    Job {
        name,
        every: Duration::from_millis(every_ms),
        run,
    }
}

/// Every job of a server, run on each tick of its interval. The hourly and daily ones look at each tick whether
/// their period is due across all servers (`job_schedule`), so one server runs each period.
const JOBS: &[Job] = &[
    job("sweeping risk indicators hourly", 1_000, |app| {
        Box::pin(async { app.sweep_risks_if_due().await.map(drop) })
    }),
    job(
        "checking yesterday's bank statements after 06:00",
        1_000,
        |app| Box::pin(async { app.check_statements_if_due().await.map(drop) }),
    ),
    job("delivering bank instructions", 500, |app| {
        Box::pin(async { app.money().deliver_due_instructions().await.map(drop) })
    }),
    job("delivering webhooks", 200, |app| {
        Box::pin(async { app.integration().dispatch_and_deliver_webhooks().await })
    }),
    job("publishing overdue risk warnings", 500, |app| {
        Box::pin(async { app.supervision().publish_overdue_warnings().await.map(drop) })
    }),
    job("confirming lessons whose window closed", 500, |app| {
        Box::pin(async { app.money().auto_confirm_due().await.map(drop) })
    }),
    job(
        "agreeing refunds the institution left unanswered",
        500,
        |app| Box::pin(async { app.money().auto_agree_due().await.map(drop) }),
    ),
    job("forming the daily release batches", 500, |app| {
        Box::pin(async { app.money().form_release_batches().await.map(drop) })
    }),
    job(
        "raising instructions the bank left without a result",
        1_000,
        |app| Box::pin(async { app.money().raise_unsettled_instructions().await.map(drop) }),
    ),
    job("sending text messages", 500, |app| {
        Box::pin(async { app.service().send_queued_sms().await.map(drop) })
    }),
];

impl App {
    /// Starts every background job of `xiaowai serve` on its own task; they run until the process ends.
    pub fn spawn_workers(&self) -> Vec<JoinHandle<()>> {
        JOBS.iter()
            .map(|job| {
                let app = self.clone();
                tokio::spawn(async move {
                    let mut tick = every(job.every);
                    loop {
                        tick.tick().await;
                        if let Err(e) = (job.run)(&app).await {
                            tracing::warn!(error = %e, job = job.name, "background job failed");
                        }
                    }
                })
            })
            .collect()
    }

    /// Runs the periodic job `name` if it is due across all servers (first use: due at `first_due`): takes
    /// it (a lease of [`JOB_LEASE_MS`]), runs it, and schedules it at `next_due` — or, if it failed, again at
    /// once. `None` when it is not due or another server has it.
    async fn run_periodic<T, Run>(
        &self,
        name: &str,
        first_due: i64,
        next_due: i64,
        run: Run,
    ) -> Result<Option<T>, AppError>
    where
        Run: Future<Output = Result<T, AppError>>,
    {
        let now = self.clock.now().millis();
        let mut tx = self.store.begin_write().await?;
        let taken = tx
            .take_due_job(name, now, first_due, now + JOB_LEASE_MS)
            .await?;
        tx.commit().await?;
        if !taken {
            return Ok(None);
        }
        let outcome = run.await;
        let (next, error) = match &outcome {
            Ok(_) => (next_due, None),
            Err(e) => (now, Some(e.to_string())),
        };
        let mut tx = self.store.begin_write().await?;
        tx.finish_job(name, now, next, error.as_deref()).await?;
        tx.commit().await?;
        outcome.map(Some)
    }

    /// 风险扫描 the risk sweep reads every institution: once per hour of the platform's clock across all
    /// servers (a test clock moved forward sweeps at once). How many warnings it raised, or `None` when it
    /// was not due or not this server's turn.
    pub async fn sweep_risks_if_due(&self) -> Result<Option<usize>, AppError> {
        let now = self.clock.now().millis();
        let started = std::time::Instant::now();
        let raised = self
            .run_periodic(
                "risk_sweep",
                now,
                now + HOUR_MS,
                self.supervision().sweep_risks(),
            )
            .await?;
        if let Some(raised) = raised {
            tracing::info!(
                raised,
                ms = started.elapsed().as_millis() as u64,
                "risk sweep finished"
            );
        }
        Ok(raised)
    }

    /// Once a day after 06:00 China time, across all servers: raises the statements missing for the day
    /// before, then sends that day's warning digest. How many statements were missing, or `None`.
    pub async fn check_statements_if_due(&self) -> Result<Option<usize>, AppError> {
        let today = self.clock.now().china_date();
        let (Some(yesterday), Some(tomorrow)) = (today.pred_opt(), today.succ_opt()) else {
            return Ok(None);
        };
        let check = async {
            let missing = self.money().check_statements(yesterday).await?;
            if let Err(e) = self.supervision().send_warning_digest(yesterday).await {
                tracing::warn!(error = %e, "sending the daily warning digest");
            }
            Ok(missing)
        };
        self.run_periodic(
            "statement_check",
            six_oclock(today),
            six_oclock(tomorrow),
            check,
        )
        .await
    }
}

/// How long a server holds a periodic job it took before another may take it: longer than a sweep runs.
const JOB_LEASE_MS: i64 = 15 * 60_000;
const HOUR_MS: i64 = 3_600_000;

/// 06:00 China time on `date`, in unix ms.
fn six_oclock(date: chrono::NaiveDate) -> i64 {
    let six = date.and_hms_opt(6, 0, 0).unwrap_or_default();
    six.and_local_timezone(domain::time::china_offset())
        .single()
        .map_or(0, |t| t.timestamp_millis())
}

/// A ticker that waits out a slow run instead of catching up with a burst.
fn every(period: Duration) -> tokio::time::Interval {
    let mut tick = tokio::time::interval(period);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tick
}
