//! The course rules the policy numbers imply: each violation names the rule and its numbers.

use super::{RegionPolicy, yuan};
use crate::{Category, TeachingMode};
use chrono::{Months, NaiveDate};

/// What a course sells, as the rules see it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CourseTerms {
    pub category: Category,
    pub mode: TeachingMode,
    pub lessons: u32,
    pub minutes_per_lesson: u32,
    pub class_size: u32,
    pub price_per_lesson_fen: i64,
    pub first_lesson: NaiveDate,
    pub last_lesson: NaiveDate,
}

/// A broken rule, with its numbers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RuleViolation {
    TooManyLessons {
        max: u32,
        got: u32,
    },
    TooExpensive {
        max_fen: i64,
        got_fen: Option<i64>,
    },
    SpanTooLong {
        max_months: u32,
        first: NaiveDate,
        last: NaiveDate,
    },
    OnlineLessonTooLong {
        max: u32,
        got: u32,
    },
    AboveGuidancePrice {
        ceiling_fen: i64,
        got_fen: i64,
    },
    CollectedTooEarly {
        max_days: u32,
        first: NaiveDate,
    },
}

impl RuleViolation {
    /// A stable name of the rule.
    pub fn rule(&self) -> &'static str {
        match self {
            RuleViolation::TooManyLessons { .. } => "max_lessons_per_purchase",
            RuleViolation::TooExpensive { .. } => "max_fen_per_purchase",
            RuleViolation::SpanTooLong { .. } => "max_months_per_purchase",
            RuleViolation::OnlineLessonTooLong { .. } => "online_max_minutes",
            RuleViolation::AboveGuidancePrice { .. } => "guidance_price",
            RuleViolation::CollectedTooEarly { .. } => "max_days_before_start",
        }
    }

    /// The rule and the numbers in English, for an API client's log.
    pub fn message_en(&self) -> String {
        match self {
            RuleViolation::TooManyLessons { max, got } => {
                format!("one payment covers at most {max} lessons; this course has {got}")
            }
            RuleViolation::TooExpensive { max_fen, got_fen } => match got_fen {
                Some(got) => {
                    format!("one payment is at most {max_fen} fen; this course costs {got} fen")
                }
                None => {
                    format!("one payment is at most {max_fen} fen; this course's total overflows")
                }
            },
            RuleViolation::SpanTooLong {
                max_months,
                first,
                last,
            } => format!(
                "one payment spans at most {max_months} months; this course runs {first} to {last}"
            ),
            RuleViolation::OnlineLessonTooLong { max, got } => {
                format!("an online lesson lasts at most {max} minutes; this course's last {got}")
            }
            RuleViolation::AboveGuidancePrice {
                ceiling_fen,
                got_fen,
            } => format!(
                "a subject course costs at most the guidance price's ceiling ({ceiling_fen} fen per pupil and lesson); this one costs {got_fen} fen"
            ),
            RuleViolation::CollectedTooEarly { max_days, first } => {
                format!(
                    "no payment is taken more than {max_days} days before the first lesson; this course starts {first}"
                )
            }
        }
    }

    /// The rule and the numbers, for the person who must change the course.
    pub fn message_zh(&self) -> String {
        match self {
            RuleViolation::TooManyLessons { max, got } => {
                format!("单次收费不得超过{max}课时，本课程为{got}课时")
            }
            RuleViolation::TooExpensive { max_fen, got_fen } => match got_fen {
                Some(got) => format!("单次收费不得超过{}，本课程为{}", yuan(*max_fen), yuan(*got)),
                None => format!(
                    "单次收费不得超过{}，本课程总价超出可计算范围",
                    yuan(*max_fen)
                ),
            },
            RuleViolation::SpanTooLong {
                max_months,
                first,
                last,
            } => {
                format!("单次收费时间跨度不得超过{max_months}个月，本课程为{first}至{last}")
            }
            RuleViolation::OnlineLessonTooLong { max, got } => {
                format!("线上课程每课时不得超过{max}分钟，本课程为{got}分钟")
            }
            RuleViolation::AboveGuidancePrice {
                ceiling_fen,
                got_fen,
            } => format!(
                "学科类课程收费不得超过政府指导价上浮上限（每人每课时{}），本课程为{}",
                yuan(*ceiling_fen),
                yuan(*got_fen)
            ),
            RuleViolation::CollectedTooEarly { max_days, first } => {
                format!("开课前{max_days}天以上不得收费，本课程{first}开课")
            }
        }
    }
}

/// 提前收费: may a course starting on `first` be paid for `today`?
pub fn check_collection_time(
    policy: &RegionPolicy,
    first: NaiveDate,
    today: NaiveDate,
) -> Option<RuleViolation> {
    let max_days = policy.max_days_before_start;
    let earliest = first.checked_sub_days(chrono::Days::new(u64::from(max_days)))?;
    (max_days > 0 && today < earliest)
        .then_some(RuleViolation::CollectedTooEarly { max_days, first })
}

/// The class-size band of the guidance price: <10, 10–35, >35.
fn band(class_size: u32) -> usize {
    match class_size {
        0..=9 => 0,
        10..=35 => 1,
        _ => 2,
    }
}

/// Every rule the course breaks under `policy` (empty: it may be sold).
pub fn check_course(policy: &RegionPolicy, t: &CourseTerms) -> Vec<RuleViolation> {
    let mut broken = Vec::new();
    if t.lessons > policy.max_lessons_per_purchase {
        broken.push(RuleViolation::TooManyLessons {
            max: policy.max_lessons_per_purchase,
            got: t.lessons,
        });
    }
    let total = t.price_per_lesson_fen.checked_mul(i64::from(t.lessons));
    if total.is_none_or(|fen| fen > policy.max_fen_per_purchase) {
        broken.push(RuleViolation::TooExpensive {
            max_fen: policy.max_fen_per_purchase,
            got_fen: total,
        });
    }
    let latest = t
        .first_lesson
        .checked_add_months(Months::new(policy.max_months_per_purchase));
    if latest.is_none_or(|latest| t.last_lesson > latest) {
        broken.push(RuleViolation::SpanTooLong {
            max_months: policy.max_months_per_purchase,
            first: t.first_lesson,
            last: t.last_lesson,
        });
    }
    if t.mode == TeachingMode::Online && t.minutes_per_lesson > policy.online_max_minutes {
        broken.push(RuleViolation::OnlineLessonTooLong {
            max: policy.online_max_minutes,
            got: t.minutes_per_lesson,
        });
    }
    if let (Category::Subject, Some(prices)) = (t.category, policy.guidance_prices) {
        let (base, standard) = match t.mode {
            TeachingMode::Online => (
                prices.online_fen[band(t.class_size)],
                policy.standard_online_minutes,
            ),
            TeachingMode::Offline => (
                prices.offline_fen[band(t.class_size)],
                policy.standard_offline_minutes,
            ),
        };
        // Pro-rated to the lesson's length, plus the allowed float, rounded down to the fen.
        let ceiling = i128::from(base)
            * i128::from(t.minutes_per_lesson)
            * i128::from(100 + prices.float_up_percent)
            / (i128::from(standard.max(1)) * 100);
        let ceiling = i64::try_from(ceiling).unwrap_or(i64::MAX);
        if t.price_per_lesson_fen > ceiling {
            broken.push(RuleViolation::AboveGuidancePrice {
                ceiling_fen: ceiling,
                got_fen: t.price_per_lesson_fen,
            });
        }
    }
    broken
}
