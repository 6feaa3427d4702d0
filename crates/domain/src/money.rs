use serde::{Deserialize, Serialize};
use std::fmt;

/// 分 fen: money in the smallest unit of the yuan. Never a float; all arithmetic is checked.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Fen(i64);

impl Fen {
    pub const ZERO: Fen = Fen(0);

    pub const fn new(fen: i64) -> Fen {
        Fen(fen)
    }

    /// Whole yuan, checked.
    pub fn yuan(yuan: i64) -> Option<Fen> {
        yuan.checked_mul(100).map(Fen)
    }

    /// Yuan as people type them: `1234`, `1234.5`, `-0.05` (at most two decimals, no separators), checked.
    pub fn parse_yuan(s: &str) -> Option<Fen> {
        let s = s.trim();
        let (negative, digits) = match s.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, s),
        };
        let (whole, cents) = digits.split_once('.').unwrap_or((digits, "00"));
        let all_digits = |t: &str| t.bytes().all(|b| b.is_ascii_digit());
        if whole.is_empty()
            || cents.is_empty()
            || cents.len() > 2
            || !all_digits(whole)
            || !all_digits(cents)
        {
            return None;
        }
        let cents: i64 = format!("{cents:0<2}").parse().ok()?;
        let fen = whole
            .parse::<i64>()
            .ok()?
            .checked_mul(100)?
            .checked_add(cents)?;
        Some(Fen(if negative { -fen } else { fen }))
    }

    pub const fn get(self) -> i64 {
        self.0
    }

    pub fn checked_add(self, other: Fen) -> Option<Fen> {
        self.0.checked_add(other.0).map(Fen)
    }

    pub fn checked_sub(self, other: Fen) -> Option<Fen> {
        self.0.checked_sub(other.0).map(Fen)
    }

    pub fn checked_mul(self, times: i64) -> Option<Fen> {
        self.0.checked_mul(times).map(Fen)
    }
}

/// The range an amount of one kind must fall in. Every amount the platform takes has one, documented in
/// `docs/api.md`: far above anything real, far below where a sum of them could overflow `i64`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Bound {
    pub min: i64,
    pub max: i64,
}

impl Bound {
    /// `fen` as money when it is within the bound; otherwise an error naming `field` and the bound.
    pub fn check(self, field: &'static str, fen: i64) -> Result<Fen, crate::DomainError> {
        if (self.min..=self.max).contains(&fen) {
            Ok(Fen(fen))
        } else {
            Err(crate::DomainError::AmountOutOfRange {
                field,
                min: self.min,
                max: self.max,
                got: fen,
            })
        }
    }
}

/// A course's price of one lesson: at most ¥100,000.
pub const LESSON_PRICE: Bound = Bound {
    min: 0,
    max: 10_000_000,
};
/// What one order costs (a course's preferential total, an institution's discounted price): at most
/// ¥1,000,000 — far above any prepayment rule (¥5,000 or three months in most regions).
pub const ORDER_TOTAL: Bound = Bound {
    min: 0,
    max: 100_000_000,
};
/// A fine or a confiscation (《校外培训行政处罚暂行办法》): at least one fen, at most ¥1,000,000,000.
pub const PENALTY: Bound = Bound {
    min: 1,
    max: 100_000_000_000,
};
/// One bank movement, payment or statement line: at least one fen, at most ¥10,000,000,000.
pub const BANK_AMOUNT: Bound = Bound {
    min: 1,
    max: 1_000_000_000_000,
};
/// A supervised account's balance, or a day's total on its statement: within ±¥1,000,000,000,000 (a
/// negative balance is a bank's report the platform must still see).
pub const ACCOUNT_BALANCE: Bound = Bound {
    min: -100_000_000_000_000,
    max: 100_000_000_000_000,
};
/// A figure of an institution's annual financial statement (revenue, expenses, prepaid, net assets; net
/// assets may be negative): within ±¥1,000,000,000,000.
pub const STATEMENT_FIGURE: Bound = ACCOUNT_BALANCE;

/// Renders as yuan with two decimals, e.g. `¥1,234.50` is written `1234.50`.
impl fmt::Display for Fen {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        write!(f, "{sign}{}.{:02}", abs / 100, abs % 100)
    }
}

/// An amount as people read it: yuan with two decimals, `¥1755.00`.
pub fn yuan(fen: i64) -> String {
    format!("¥{}", Fen::new(fen))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yuan_reads_as_people_write_it() {
        assert_eq!(yuan(175_500), "¥1755.00");
        assert_eq!(yuan(5), "¥0.05");
        assert_eq!(yuan(-5), "¥-0.05");
    }
    use proptest::prelude::*;

    #[test]
    fn parses_yuan_as_people_type_them() {
        let fen = |s| Fen::parse_yuan(s).map(Fen::get);
        assert_eq!(fen("1234"), Some(123_400));
        assert_eq!(fen("1234.5"), Some(123_450));
        assert_eq!(fen(" 0.05 "), Some(5));
        assert_eq!(fen("-12.30"), Some(-1_230));
        for bad in [
            "",
            ".5",
            "1.",
            "1.234",
            "1,234",
            "abc",
            "1e3",
            "--1",
            "92233720368547758.08",
        ] {
            assert_eq!(fen(bad), None, "{bad}");
        }
        proptest!(|(n in -1_000_000_000_000i64..1_000_000_000_000)| {
            prop_assert_eq!(Fen::parse_yuan(&Fen::new(n).to_string()), Some(Fen::new(n)));
        });
    }

    #[test]
    fn displays_as_yuan_with_two_decimals() {
        assert_eq!(Fen::new(123_450).to_string(), "1234.50");
        assert_eq!(Fen::new(-5).to_string(), "-0.05");
        assert_eq!(Fen::new(i64::MIN).to_string(), "-92233720368547758.08");
    }

    #[test]
    fn overflow_is_none_not_a_wrap() {
        assert_eq!(Fen::new(i64::MAX).checked_add(Fen::new(1)), None);
        assert_eq!(Fen::yuan(i64::MAX / 10), None);
    }

    proptest! {
        #[test]
        fn add_then_sub_round_trips(a in -1_000_000_000_000i64..1_000_000_000_000, b in -1_000_000_000_000i64..1_000_000_000_000) {
            let sum = Fen::new(a).checked_add(Fen::new(b)).unwrap();
            prop_assert_eq!(sum.checked_sub(Fen::new(b)), Some(Fen::new(a)));
        }
    }
}
