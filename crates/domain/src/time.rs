use chrono::{DateTime, FixedOffset, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

/// A point in time as unix milliseconds UTC: the one representation stored on both backends.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Timestamp(i64);

/// China Standard Time, UTC+8, in which every policy date (a working day, a deadline) is reckoned.
pub fn china_offset() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).expect("UTC+8 is a valid offset")
}

impl Timestamp {
    pub const fn from_millis(ms: i64) -> Timestamp {
        Timestamp(ms)
    }

    pub const fn millis(self) -> i64 {
        self.0
    }

    pub fn from_datetime(dt: DateTime<Utc>) -> Timestamp {
        Timestamp(dt.timestamp_millis())
    }

    pub fn to_datetime(self) -> DateTime<Utc> {
        DateTime::from_timestamp_millis(self.0).unwrap_or_default()
    }

    /// The calendar date of this instant in China.
    pub fn china_date(self) -> NaiveDate {
        self.to_datetime()
            .with_timezone(&china_offset())
            .date_naive()
    }

    /// `2026-11-26 13:05` in China time, for pages.
    pub fn china_display(self) -> String {
        self.to_datetime()
            .with_timezone(&china_offset())
            .format("%Y-%m-%d %H:%M")
            .to_string()
    }

    pub fn plus_millis(self, ms: i64) -> Timestamp {
        Timestamp(self.0.saturating_add(ms))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn china_date_rolls_over_at_utc_sixteen() {
        // 2026-11-26T15:59:59Z is 23:59:59 in Beijing; one second later it is the 27th there.
        let before = Timestamp::from_millis(1_795_708_799_000);
        assert_eq!(
            before.china_date(),
            NaiveDate::from_ymd_opt(2026, 11, 26).unwrap()
        );
        assert_eq!(
            before.plus_millis(1000).china_date(),
            NaiveDate::from_ymd_opt(2026, 11, 27).unwrap()
        );
    }
}
