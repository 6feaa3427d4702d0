//! The money worker of `xiaowai serve`.

use crate::App;

impl App {
    /// The money worker of `xiaowai serve`: every half second it publishes overdue risk warnings, confirms
    /// lessons whose window has closed, gathers the days' held releases into batches and delivers due
    /// instructions; hourly it sweeps the risk indicators; once a day after 06:00 China time it raises missing
    /// statements for the day before and sends that day's warning digest.
    pub async fn run_money_worker(self) {
        let mut tick = tokio::time::interval(std::time::Duration::from_millis(500));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut swept: Option<chrono::NaiveDate> = None;
        let mut risk_swept_at: Option<i64> = None;
        loop {
            tick.tick().await;
            // The risk sweep reads every institution: hourly by the platform's clock (a test clock moved
            // forward sweeps at once); overdue warnings are published on every tick.
            let now_ms = self.clock.now().millis();
            if risk_swept_at.is_none_or(|at| now_ms - at >= 3_600_000) {
                let started = std::time::Instant::now();
                match self.sweep_risks().await {
                    Ok(raised) => {
                        risk_swept_at = Some(now_ms);
                        tracing::info!(
                            raised,
                            ms = started.elapsed().as_millis() as u64,
                            "risk sweep finished"
                        );
                    }
                    Err(e) => tracing::warn!(error = %e, "sweeping risk indicators"),
                }
            }
            if let Err(e) = self.publish_overdue_warnings().await {
                tracing::warn!(error = %e, "publishing overdue risk warnings");
            }
            if let Err(e) = self.auto_confirm_due().await {
                tracing::warn!(error = %e, "confirming lessons whose window closed");
            }
            if let Err(e) = self.auto_agree_due().await {
                tracing::warn!(error = %e, "agreeing refunds the institution left unanswered");
            }
            if let Err(e) = self.form_release_batches().await {
                tracing::warn!(error = %e, "forming the daily release batches");
            }
            if let Err(e) = self.deliver_due_instructions().await {
                tracing::warn!(error = %e, "delivering bank instructions");
            }
            if let Err(e) = self.raise_unsettled_instructions().await {
                tracing::warn!(error = %e, "raising instructions the bank left without a result");
            }
            if let Err(e) = self.send_queued_sms().await {
                tracing::warn!(error = %e, "sending text messages");
            }
            let now = self.clock.now();
            let today = now.china_date();
            let after_six = now
                .to_datetime()
                .with_timezone(&domain::time::china_offset())
                .time()
                >= chrono::NaiveTime::from_hms_opt(6, 0, 0).unwrap_or_default();
            if after_six
                && swept != Some(today)
                && let Some(yesterday) = today.pred_opt()
            {
                match self.check_statements(yesterday).await {
                    Ok(_) => {
                        swept = Some(today);
                        if let Err(e) = self.send_warning_digest(yesterday).await {
                            tracing::warn!(error = %e, "sending the daily warning digest");
                        }
                    }
                    Err(e) => tracing::warn!(error = %e, "checking bank statements"),
                }
            }
        }
    }
}
