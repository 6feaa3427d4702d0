//! 工作日历: working days under China's statutory holidays and adjusted working days (调休).

use crate::DomainError;
use chrono::{Datelike, NaiveDate, Weekday};
use std::collections::{BTreeMap, BTreeSet};

/// The vendored calendar (`data/holidays.tsv`), compiled in so the binary needs no data files.
const CHINA_HOLIDAYS_TSV: &str = include_str!("../../../data/holidays.tsv");

/// How a dated exception changes an ordinary week.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DayException {
    pub working: bool,
    pub name: String,
    /// Where the date comes from; `provisional` means the year's State Council notice is not vendored yet.
    pub source: String,
}

/// A calendar of working days: Monday–Friday, minus holidays, plus adjusted working weekend days.
/// Regions may later layer their own exceptions on top (the type is data, not code).
#[derive(Clone, Debug, Default)]
pub struct WorkingDayCalendar {
    exceptions: BTreeMap<NaiveDate, DayException>,
}

impl WorkingDayCalendar {
    /// The national calendar vendored with the platform.
    pub fn china() -> WorkingDayCalendar {
        Self::parse_tsv(CHINA_HOLIDAYS_TSV).expect("vendored holiday data parses (tested)")
    }

    /// Lines `date<TAB>holiday|workday<TAB>name<TAB>source`; `#` starts a comment.
    pub fn parse_tsv(text: &str) -> Result<WorkingDayCalendar, DomainError> {
        let mut exceptions = BTreeMap::new();
        for (i, line) in text.lines().enumerate() {
            let bad = |reason: &str| DomainError::InvalidCalendar {
                line: i + 1,
                reason: reason.to_owned(),
            };
            if line.starts_with('#') || line.trim().is_empty() {
                continue;
            }
            let cols: Vec<&str> = line.split('\t').collect();
            let [date, kind, name, source] = cols[..] else {
                return Err(bad("four tab-separated columns expected"));
            };
            let date = NaiveDate::parse_from_str(date, "%Y-%m-%d").map_err(|_| bad("bad date"))?;
            let working = match kind {
                "holiday" => false,
                "workday" => true,
                _ => return Err(bad("kind must be holiday or workday")),
            };
            let exception = DayException {
                working,
                name: name.to_owned(),
                source: source.to_owned(),
            };
            if exceptions.insert(date, exception).is_some() {
                return Err(bad("date listed twice"));
            }
        }
        Ok(WorkingDayCalendar { exceptions })
    }

    pub fn is_working_day(&self, date: NaiveDate) -> bool {
        match self.exceptions.get(&date) {
            Some(e) => e.working,
            None => !matches!(date.weekday(), Weekday::Sat | Weekday::Sun),
        }
    }

    pub fn exception(&self, date: NaiveDate) -> Option<&DayException> {
        self.exceptions.get(&date)
    }

    /// The date `n` working days after `date` (not counting `date` itself): the deadline of a rule such
    /// as "no answer within 15 working days". `n == 0` returns `date`.
    pub fn add_working_days(&self, date: NaiveDate, n: u32) -> NaiveDate {
        let mut d = date;
        let mut left = n;
        while left > 0 {
            d = d.succ_opt().expect("dates stay far from chrono's limits");
            if self.is_working_day(d) {
                left -= 1;
            }
        }
        d
    }

    /// Working days in `(from, to]`: how many have passed since `from` by the end of `to`.
    pub fn working_days_between(&self, from: NaiveDate, to: NaiveDate) -> u32 {
        from.iter_days()
            .skip(1)
            .take_while(|d| *d <= to)
            .filter(|d| self.is_working_day(*d))
            .count() as u32
    }

    /// Years whose dates are provisional (statutory days only, 调休 not yet vendored).
    pub fn provisional_years(&self) -> BTreeSet<i32> {
        self.exceptions
            .iter()
            .filter(|(_, e)| e.source == "provisional")
            .map(|(d, _)| d.year())
            .collect()
    }

    /// Years the calendar has any data for.
    pub fn years(&self) -> BTreeSet<i32> {
        self.exceptions.keys().map(|d| d.year()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn vendored_data_covers_2025_to_2027() {
        let cal = WorkingDayCalendar::china();
        assert_eq!(
            cal.years().into_iter().collect::<Vec<_>>(),
            vec![2025, 2026, 2027]
        );
        assert_eq!(
            cal.provisional_years().into_iter().collect::<Vec<_>>(),
            vec![2027]
        );
    }

    #[test]
    fn spring_festival_2026_and_its_adjusted_saturdays() {
        let cal = WorkingDayCalendar::china();
        assert!(
            !cal.is_working_day(d(2026, 2, 16)),
            "a Monday inside the Spring Festival break"
        );
        assert!(
            cal.is_working_day(d(2026, 2, 14)),
            "Saturday 14 Feb 2026 is an adjusted working day"
        );
        assert!(cal.is_working_day(d(2026, 2, 28)));
        assert!(
            !cal.is_working_day(d(2026, 2, 21)),
            "an ordinary Saturday inside the break"
        );
        assert!(
            cal.is_working_day(d(2026, 1, 4)),
            "Sunday 4 Jan 2026 works for 元旦"
        );
    }

    #[test]
    fn fifteen_working_days_across_national_day_2025() {
        let cal = WorkingDayCalendar::china();
        // From Friday 26 Sep 2025: 28 Sep (Sun) works, 29–30 Sep work, 1–8 Oct off, 9–10 Oct, 11 Oct (Sat) works.
        // Working days: 28,29,30 Sep; 9,10,11,13,14,15,16,17,20,21,22,23 Oct → 15th is 23 Oct.
        assert_eq!(cal.add_working_days(d(2025, 9, 26), 15), d(2025, 10, 23));
        assert_eq!(
            cal.working_days_between(d(2025, 9, 26), d(2025, 10, 23)),
            15
        );
        assert_eq!(
            cal.working_days_between(d(2025, 9, 26), d(2025, 10, 22)),
            14
        );
    }

    #[test]
    fn bad_lines_are_reported_with_their_number() {
        let err = WorkingDayCalendar::parse_tsv(
            "# c\n2026-01-01\tholiday\t元旦\tx\n2026-13-01\tholiday\tx\tx\n",
        )
        .unwrap_err();
        assert_eq!(
            err,
            DomainError::InvalidCalendar {
                line: 3,
                reason: "bad date".into()
            }
        );
        assert!(WorkingDayCalendar::parse_tsv("2026-01-01\toff\tx\tx\n").is_err());
        assert!(
            WorkingDayCalendar::parse_tsv("2026-01-01\tholiday\tx\tx\n2026-01-01\tholiday\tx\tx\n")
                .is_err()
        );
    }

    proptest! {
        #[test]
        fn adding_n_working_days_lands_on_a_working_day_n_days_away(
            offset in 0i64..1000, n in 1u32..40
        ) {
            let cal = WorkingDayCalendar::china();
            let start = d(2025, 1, 1) + chrono::Duration::days(offset);
            let end = cal.add_working_days(start, n);
            prop_assert!(cal.is_working_day(end));
            prop_assert_eq!(cal.working_days_between(start, end), n);
        }
    }
}
