//! 评价 reviews: stars on several dimensions and a text, from parents with at least one confirmed lesson at the
//! institution. The public aggregate weighs each review by the confirmed lessons behind it, so a family that
//! took thirty lessons counts for more than one that took one.

use serde::{Deserialize, Serialize};

/// Stars, 1 to 5, per dimension.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Ratings {
    /// 教学质量
    pub teaching: u8,
    /// 教学环境
    pub environment: u8,
    /// 服务态度
    pub service: u8,
    /// 性价比
    pub value: u8,
}

impl Ratings {
    pub fn valid(&self) -> bool {
        [self.teaching, self.environment, self.service, self.value]
            .iter()
            .all(|s| (1..=5).contains(s))
    }
}

/// Words a review may not contain (abuse, and the contact details and advertising a review must not carry).
/// A deliberately small list: a region can extend it; the point is that the check exists and is tested.
pub const BLOCKED_WORDS: &[&str] = &[
    "傻逼",
    "垃圾机构",
    "骗子",
    "去死",
    "加微信",
    "加V",
    "代写",
    "刷单",
    "返现",
    "赌博",
    "色情",
];

/// The blocked words in `text`, if any.
pub fn blocked_words(text: &str) -> Vec<&'static str> {
    let lower = text.to_lowercase();
    BLOCKED_WORDS
        .iter()
        .copied()
        .filter(|w| lower.contains(&w.to_lowercase()))
        .collect()
}

/// The weighted mean per dimension, in hundredths of a star (4.25 stars = 425), over `(ratings, weight)`;
/// `None` without weight.
pub fn weighted_average(reviews: &[(Ratings, u32)]) -> Option<[u32; 4]> {
    let total: u64 = reviews.iter().map(|(_, w)| u64::from(*w)).sum();
    if total == 0 {
        return None;
    }
    let mut out = [0u32; 4];
    for (k, slot) in out.iter_mut().enumerate() {
        let sum: u64 = reviews
            .iter()
            .map(|(r, w)| {
                let stars = [r.teaching, r.environment, r.service, r.value][k];
                u64::from(stars) * u64::from(*w) * 100
            })
            .sum();
        *slot = u32::try_from((sum + total / 2) / total).unwrap_or(u32::MAX);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(s: u8) -> Ratings {
        Ratings {
            teaching: s,
            environment: s,
            service: s,
            value: s,
        }
    }

    #[test]
    fn more_confirmed_lessons_weigh_more() {
        // One family with 30 lessons gives 5 stars, one with 1 lesson gives 1 star: (5×30 + 1×1) / 31 = 4.87.
        assert_eq!(weighted_average(&[(r(5), 30), (r(1), 1)]), Some([487; 4]));
        assert_eq!(weighted_average(&[(r(3), 2), (r(4), 2)]), Some([350; 4]));
        assert_eq!(weighted_average(&[]), None);
        assert_eq!(weighted_average(&[(r(5), 0)]), None);
    }

    #[test]
    fn stars_and_words_are_checked() {
        assert!(r(5).valid());
        assert!(!r(0).valid());
        assert!(!r(6).valid());
        assert_eq!(blocked_words("老师很好，有问题加微信 abc"), vec!["加微信"]);
        assert_eq!(
            blocked_words("加v详聊"),
            vec!["加V"],
            "case does not hide a word"
        );
        assert!(blocked_words("老师耐心，孩子进步很大").is_empty());
    }
}
