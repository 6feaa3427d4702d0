//! 后台任务 the background work of `xiaowai serve`: one task per job, each on its own interval, so a slow job
//! (the risk sweep reads every institution) never delays another (a bank instruction, a webhook). Jobs that
//! take rows claim them first (`WriteTx::claim_due_instructions`, `claim_due_webhook_deliveries`), so two
//! servers on one database never deliver the same row; the timers move each record by a conditional state
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

/// Every job of a server that runs on each tick of its interval.
const JOBS: &[Job] = &[
    job("delivering bank instructions", 500, |app| {
        Box::pin(async { app.deliver_due_instructions().await.map(drop) })
    }),
    job("delivering webhooks", 200, |app| {
        Box::pin(async { app.dispatch_and_deliver_webhooks().await })
    }),
    job("publishing overdue risk warnings", 500, |app| {
        Box::pin(async { app.publish_overdue_warnings().await.map(drop) })
    }),
    job("confirming lessons whose window closed", 500, |app| {
        Box::pin(async { app.auto_confirm_due().await.map(drop) })
    }),
    job(
        "agreeing refunds the institution left unanswered",
        500,
        |app| Box::pin(async { app.auto_agree_due().await.map(drop) }),
    ),
    job("forming the daily release batches", 500, |app| {
        Box::pin(async { app.form_release_batches().await.map(drop) })
    }),
    job(
        "raising instructions the bank left without a result",
        1_000,
        |app| Box::pin(async { app.raise_unsettled_instructions().await.map(drop) }),
    ),
    job("sending text messages", 500, |app| {
        Box::pin(async { app.send_queued_sms().await.map(drop) })
    }),
];

impl App {
    /// Starts every background job of `xiaowai serve` on its own task; they run until the process ends.
    pub fn spawn_workers(&self) -> Vec<JoinHandle<()>> {
        let mut tasks: Vec<JoinHandle<()>> = JOBS
            .iter()
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
            .collect();
        tasks.push(tokio::spawn(self.clone().sweep_risks_hourly()));
        tasks.push(tokio::spawn(self.clone().check_statements_daily()));
        tasks
    }

    /// The risk sweep reads every institution: hourly by the platform's clock (a test clock moved forward
    /// sweeps at once), on a task of its own so that it delays nothing else.
    async fn sweep_risks_hourly(self) {
        let mut tick = every(Duration::from_secs(1));
        let mut swept_at: Option<i64> = None;
        loop {
            tick.tick().await;
            let now_ms = self.clock.now().millis();
            if swept_at.is_some_and(|at| now_ms - at < 3_600_000) {
                continue;
            }
            let started = std::time::Instant::now();
            match self.sweep_risks().await {
                Ok(raised) => {
                    swept_at = Some(now_ms);
                    tracing::info!(
                        raised,
                        ms = started.elapsed().as_millis() as u64,
                        "risk sweep finished"
                    );
                }
                Err(e) => tracing::warn!(error = %e, "sweeping risk indicators"),
            }
        }
    }

    /// Once a day after 06:00 China time: raises the statements missing for the day before, then sends that
    /// day's warning digest.
    async fn check_statements_daily(self) {
        let mut tick = every(Duration::from_secs(1));
        let mut checked: Option<chrono::NaiveDate> = None;
        loop {
            tick.tick().await;
            let now = self.clock.now();
            let today = now.china_date();
            let after_six = now
                .to_datetime()
                .with_timezone(&domain::time::china_offset())
                .time()
                >= chrono::NaiveTime::from_hms_opt(6, 0, 0).unwrap_or_default();
            let Some(yesterday) = today.pred_opt() else {
                continue;
            };
            if !after_six || checked == Some(today) {
                continue;
            }
            match self.check_statements(yesterday).await {
                Ok(_) => {
                    checked = Some(today);
                    if let Err(e) = self.send_warning_digest(yesterday).await {
                        tracing::warn!(error = %e, "sending the daily warning digest");
                    }
                }
                Err(e) => tracing::warn!(error = %e, "checking bank statements"),
            }
        }
    }
}

/// A ticker that waits out a slow run instead of catching up with a burst.
fn every(period: Duration) -> tokio::time::Interval {
    let mut tick = tokio::time::interval(period);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tick
}
