//! 银行服务质量 the banks' service-quality report (DOMAIN.md §5: the platform periodically publishes a report
//! on each fund-supervision bank): per bank and month, how fast it carried out the platform's instructions
//! (p50 / p95 from instruction to the bank's result), how many failed or came late, how soon it reported the
//! movements on supervised accounts, and how many reconciliation breaks its accounts showed. Public, read from
//! the records as they are; the current month is marked provisional.

use crate::supervision::Supervision;
use crate::{AppError, ErrorCode};
use domain::InstructionStatus;
use serde::Serialize;

/// An instruction is late when the bank's result comes more than a day after it was sent (or has not come).
pub const LATE_INSTRUCTION_MS: i64 = 24 * 3_600_000;
/// A movement is reported late when the bank tells the platform more than an hour after the money moved.
pub const LATE_REPORT_MS: i64 = 3_600_000;

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct BankQualityReport {
    pub bank_id: String,
    /// `YYYY-MM`, China time.
    pub period: String,
    /// The month has not ended: the figures will still change.
    pub provisional: bool,
    pub instructions: usize,
    pub executed: usize,
    pub failed: usize,
    /// Results more than a day after the instruction, or none yet a day after it.
    pub late: usize,
    /// From instruction to the bank's result, executed ones, in ms.
    pub latency_p50_ms: Option<i64>,
    pub latency_p95_ms: Option<i64>,
    pub movements_reported: usize,
    pub report_delay_p50_ms: Option<i64>,
    pub report_delay_p95_ms: Option<i64>,
    /// Reported more than an hour after the money moved.
    pub reported_late: usize,
    pub reconciliation_breaks: i64,
}

/// The nearest-rank percentile of sorted values.
fn percentile(sorted: &[i64], p: usize) -> Option<i64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (p * sorted.len()).div_ceil(100).clamp(1, sorted.len());
    Some(sorted[rank - 1])
}

/// A month's bounds in unix ms, China time: `2026-11` → [1 Nov 00:00, 1 Dec 00:00).
fn month_bounds(period: &str) -> Option<(i64, i64)> {
    let first =
        chrono::NaiveDate::parse_from_str(&format!("{}-01", period.trim()), "%Y-%m-%d").ok()?;
    let next = first.checked_add_months(chrono::Months::new(1))?;
    let ms = |d: chrono::NaiveDate| {
        d.and_hms_opt(0, 0, 0)?
            .and_local_timezone(domain::time::china_offset())
            .single()
            .map(|t| t.timestamp_millis())
    };
    Some((ms(first)?, ms(next)?))
}

impl<'a> Supervision<'a> {
    /// This month, China time (`YYYY-MM`).
    pub fn current_period(self) -> String {
        self.clock.now().china_date().format("%Y-%m").to_string()
    }

    /// Every bank's report for a month (`YYYY-MM`, not in the future).
    pub async fn bank_quality(self, period: &str) -> Result<Vec<BankQualityReport>, AppError> {
        let bad = || {
            AppError::new(
                ErrorCode::InvalidParameter,
                "月份：格式应为 YYYY-MM，且不能晚于本月",
                "period: a month YYYY-MM, not in the future",
            )
            .on("period")
        };
        let (from, to) = month_bounds(period).ok_or_else(bad)?;
        let now = self.clock.now().millis();
        if from > now {
            return Err(bad());
        }
        let until = to.min(now);
        let read = self.store.read();
        let mut out = Vec::new();
        for bank_id in read.quality().bank_ids().await? {
            let instructions = read.quality().instruction_times(&bank_id, from, to).await?;
            let mut latencies: Vec<i64> = instructions
                .iter()
                .filter(|i| i.status == InstructionStatus::Executed)
                .filter_map(|i| i.finished_at.map(|f| f - i.created_at))
                .collect();
            latencies.sort_unstable();
            let late = instructions
                .iter()
                .filter(|i| match i.finished_at {
                    Some(f) => f - i.created_at > LATE_INSTRUCTION_MS,
                    None => until - i.created_at > LATE_INSTRUCTION_MS,
                })
                .count();
            let mut delays = read
                .quality()
                .movement_report_delays(&bank_id, from, to)
                .await?;
            delays.sort_unstable();
            out.push(BankQualityReport {
                period: period.trim().to_owned(),
                provisional: to > now,
                instructions: instructions.len(),
                executed: latencies.len(),
                failed: instructions
                    .iter()
                    .filter(|i| i.status == InstructionStatus::Failed)
                    .count(),
                late,
                latency_p50_ms: percentile(&latencies, 50),
                latency_p95_ms: percentile(&latencies, 95),
                movements_reported: delays.len(),
                report_delay_p50_ms: percentile(&delays, 50),
                report_delay_p95_ms: percentile(&delays, 95),
                reported_late: delays.iter().filter(|d| **d > LATE_REPORT_MS).count(),
                reconciliation_breaks: read
                    .quality()
                    .reconciliation_breaks(&bank_id, from, to)
                    .await?,
                bank_id,
            });
        }
        Ok(out)
    }
}

/// A duration for people: `850 毫秒`, `12.5 秒`, `3.2 小时`.
pub fn duration_label(ms: i64) -> String {
    // A display only: the report's figures stay integer milliseconds.
    if ms < 1_000 {
        format!("{ms} 毫秒")
    } else if ms < 60_000 {
        format!("{:.1} 秒", ms as f64 / 1_000.0)
    } else if ms < 3_600_000 {
        format!("{:.1} 分钟", ms as f64 / 60_000.0)
    } else {
        format!("{:.1} 小时", ms as f64 / 3_600_000.0)
    }
}

/// The month before, `YYYY-MM`.
pub fn previous_period(period: &str) -> Option<String> {
    let first =
        chrono::NaiveDate::parse_from_str(&format!("{}-01", period.trim()), "%Y-%m-%d").ok()?;
    Some(
        first
            .checked_sub_months(chrono::Months::new(1))?
            .format("%Y-%m")
            .to_string(),
    )
}

/// The period's display, e.g. `2026年11月`.
pub fn period_label(period: &str) -> String {
    match period.split_once('-') {
        Some((y, m)) => format!("{y}年{}月", m.trim_start_matches('0')),
        None => period.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::Timestamp;

    #[test]
    fn percentiles_take_the_nearest_rank_and_months_their_china_bounds() {
        assert_eq!(percentile(&[], 50), None);
        assert_eq!(percentile(&[7], 95), Some(7));
        let v: Vec<i64> = (1..=100).collect();
        assert_eq!(
            (percentile(&v, 50), percentile(&v, 95)),
            (Some(50), Some(95))
        );
        let (from, to) = month_bounds("2026-11").unwrap();
        assert_eq!(to - from, 30 * 86_400_000);
        assert_eq!(
            Timestamp::from_millis(from).china_display(),
            "2026-11-01 00:00"
        );
        assert!(month_bounds("2026-13").is_none() && month_bounds("11-2026").is_none());
        assert_eq!(period_label("2026-03"), "2026年3月");
        assert_eq!(duration_label(12_500), "12.5 秒");
    }
}
