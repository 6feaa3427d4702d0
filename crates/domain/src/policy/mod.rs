//! 区域政策 the policy numbers a region applies (DOMAIN.md §3), as data: national defaults, then each level of
//! the region's lineage (province → prefecture → county) overriding what it sets. And the course rules those
//! numbers imply — each violation names the rule and the numbers, in Chinese for the person who must fix it.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

mod course;
mod loosening;

pub use course::{CourseTerms, RuleViolation, check_collection_time, check_course};
pub use loosening::Loosening;

/// Government guidance price (政府指导价): base fen per person per standard lesson, by class-size band
/// (<10, 10–35, >35), for subject training; a course may exceed it by at most `float_up_percent`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct GuidancePrices {
    pub online_fen: [i64; 3],
    pub offline_fen: [i64; 3],
    pub float_up_percent: u32,
}

/// 寒暑假 a school vacation of the region (`YYYY-MM-DD`, both days included): no subject training.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Vacation {
    pub name: String,
    #[schema(value_type = String)]
    pub from: NaiveDate,
    #[schema(value_type = String)]
    pub to: NaiveDate,
}

/// The policy in force in a region.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RegionPolicy {
    /// 单次收费 caps: lesson hours, months of teaching span, and fen.
    pub max_lessons_per_purchase: u32,
    pub max_months_per_purchase: u32,
    pub max_fen_per_purchase: i64,
    /// 提前收费 at most this many days before the first lesson (0: no such rule; Beijing, Jiangsu, Chengdu: 30).
    pub max_days_before_start: u32,
    pub online_max_minutes: u32,
    pub online_min_break_minutes: u32,
    /// Latest end of a lesson, minutes after midnight (21:00 online, 20:30 offline).
    pub online_latest_end_minute: u32,
    pub offline_latest_end_minute: u32,
    /// Subject training on weekends, holidays and vacations (national rule: no).
    pub subject_on_rest_days: bool,
    /// The region's school vacations.
    pub vacations: Vec<Vacation>,
    /// Standard lesson lengths the guidance price is set for.
    pub standard_online_minutes: u32,
    pub standard_offline_minutes: u32,
    pub guidance_prices: Option<GuidancePrices>,
    /// 消课 confirmation and refund-response windows, in working days.
    pub confirmation_working_days: u32,
    pub refund_response_working_days: u32,
    /// 投诉 working days the institution has to answer a complaint, and the competent regulator to rule on an
    /// escalated one.
    pub complaint_response_working_days: u32,
    pub complaint_ruling_working_days: u32,
    /// Release confirmed lessons' fees in one instruction per supervised account per day (at the day's end)
    /// instead of one per lesson at once.
    pub daily_release_batch: bool,
    /// 退费时限: working days to pay a refund back, asked before the course starts (full) and after (pro rata).
    pub refund_before_start_working_days: u32,
    pub refund_after_start_working_days: u32,
    /// Supervision modes allowed: `custody`, `risk_deposit`, `ecny`.
    pub allowed_modes: Vec<String>,
    /// Risk deposit: percent of outstanding prepaid fees, with a floor in fen.
    pub risk_deposit_percent: u32,
    pub risk_deposit_floor_fen: i64,
}

impl Default for RegionPolicy {
    fn default() -> Self {
        RegionPolicy {
            max_lessons_per_purchase: 60,
            max_months_per_purchase: 3,
            max_fen_per_purchase: 500_000,
            max_days_before_start: 0,
            online_max_minutes: 30,
            online_min_break_minutes: 10,
            online_latest_end_minute: 21 * 60,
            offline_latest_end_minute: 20 * 60 + 30,
            subject_on_rest_days: false,
            vacations: Vec::new(),
            standard_online_minutes: 30,
            standard_offline_minutes: 45,
            guidance_prices: None,
            confirmation_working_days: 15,
            refund_response_working_days: 5,
            complaint_response_working_days: 5,
            complaint_ruling_working_days: 15,
            daily_release_batch: false,
            refund_before_start_working_days: 5,
            refund_after_start_working_days: 15,
            allowed_modes: vec!["custody".into(), "risk_deposit".into(), "ecny".into()],
            risk_deposit_percent: 20,
            risk_deposit_floor_fen: 0,
        }
    }
}

/// What one level of the lineage sets; anything absent is inherited.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct PolicyOverride {
    pub max_lessons_per_purchase: Option<u32>,
    pub max_months_per_purchase: Option<u32>,
    pub max_fen_per_purchase: Option<i64>,
    pub max_days_before_start: Option<u32>,
    pub online_max_minutes: Option<u32>,
    pub online_min_break_minutes: Option<u32>,
    pub online_latest_end_minute: Option<u32>,
    pub offline_latest_end_minute: Option<u32>,
    pub subject_on_rest_days: Option<bool>,
    pub vacations: Option<Vec<Vacation>>,
    pub guidance_prices: Option<GuidancePrices>,
    pub confirmation_working_days: Option<u32>,
    pub refund_response_working_days: Option<u32>,
    pub complaint_response_working_days: Option<u32>,
    pub complaint_ruling_working_days: Option<u32>,
    pub daily_release_batch: Option<bool>,
    pub refund_before_start_working_days: Option<u32>,
    pub refund_after_start_working_days: Option<u32>,
    pub allowed_modes: Option<Vec<String>>,
    pub risk_deposit_percent: Option<u32>,
    pub risk_deposit_floor_fen: Option<i64>,
}

/// The most a guidance price may float up, nationally (教育部等, 2021): 10%.
pub const NATIONAL_MAX_FLOAT_UP_PERCENT: u32 = 10;

impl RegionPolicy {
    /// The policy in force: the national defaults with the national level's override applied as it stands,
    /// then each lower level's (province, prefecture, county, in lineage order) — which may make a national
    /// rule stricter, never looser: whatever an override would loosen stays as the level above set it. The
    /// region's own choices (windows, modes, vacations, the risk deposit) are taken as they are.
    pub fn effective<'a>(
        national: Option<&PolicyOverride>,
        lower: impl IntoIterator<Item = &'a PolicyOverride>,
    ) -> RegionPolicy {
        let mut p = RegionPolicy::default();
        if let Some(o) = national {
            p.apply(o);
        }
        for o in lower {
            let above = p.clone();
            p.apply(o);
            p.keep_within(&above);
        }
        p
    }

    fn apply(&mut self, o: &PolicyOverride) {
        let p = self;
        macro_rules! take {
            ($($f:ident),*) => { $( if let Some(v) = o.$f.clone() { p.$f = v; } )* };
        }
        take!(
            max_lessons_per_purchase,
            max_months_per_purchase,
            max_fen_per_purchase,
            max_days_before_start,
            online_max_minutes,
            online_min_break_minutes,
            online_latest_end_minute,
            offline_latest_end_minute,
            subject_on_rest_days,
            vacations,
            confirmation_working_days,
            refund_response_working_days,
            complaint_response_working_days,
            complaint_ruling_working_days,
            daily_release_batch,
            refund_before_start_working_days,
            refund_after_start_working_days,
            allowed_modes,
            risk_deposit_percent,
            risk_deposit_floor_fen
        );
        if o.guidance_prices.is_some() {
            p.guidance_prices = o.guidance_prices;
        }
    }

    /// Puts back, rule by rule, whatever is looser than `above`.
    fn keep_within(&mut self, above: &RegionPolicy) {
        self.max_lessons_per_purchase = self
            .max_lessons_per_purchase
            .min(above.max_lessons_per_purchase);
        self.max_months_per_purchase = self
            .max_months_per_purchase
            .min(above.max_months_per_purchase);
        self.max_fen_per_purchase = self.max_fen_per_purchase.min(above.max_fen_per_purchase);
        if above.max_days_before_start > 0 {
            self.max_days_before_start = match self.max_days_before_start {
                0 => above.max_days_before_start,
                d => d.min(above.max_days_before_start),
            };
        }
        self.online_max_minutes = self.online_max_minutes.min(above.online_max_minutes);
        self.online_min_break_minutes = self
            .online_min_break_minutes
            .max(above.online_min_break_minutes);
        self.online_latest_end_minute = self
            .online_latest_end_minute
            .min(above.online_latest_end_minute);
        self.offline_latest_end_minute = self
            .offline_latest_end_minute
            .min(above.offline_latest_end_minute);
        self.subject_on_rest_days &= above.subject_on_rest_days;
        self.guidance_prices = match (self.guidance_prices, above.guidance_prices) {
            (Some(mine), Some(theirs)) => Some(GuidancePrices {
                online_fen: std::array::from_fn(|i| mine.online_fen[i].min(theirs.online_fen[i])),
                offline_fen: std::array::from_fn(|i| {
                    mine.offline_fen[i].min(theirs.offline_fen[i])
                }),
                float_up_percent: mine.float_up_percent.min(theirs.float_up_percent),
            }),
            (Some(mine), None) => Some(GuidancePrices {
                float_up_percent: mine.float_up_percent.min(NATIONAL_MAX_FLOAT_UP_PERCENT),
                ..mine
            }),
            (None, theirs) => theirs,
        };
    }
}

/// An amount as the rules read it: `5000元`, `88.01元`.
fn yuan(fen: i64) -> String {
    if fen % 100 == 0 {
        format!("{}元", fen / 100)
    } else {
        format!("{}.{:02}元", fen / 100, fen % 100)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Category, TeachingMode};

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn course() -> CourseTerms {
        CourseTerms {
            category: Category::Subject,
            mode: TeachingMode::Offline,
            lessons: 40,
            minutes_per_lesson: 45,
            class_size: 20,
            price_per_lesson_fen: 8_000,
            first_lesson: day("2027-03-01"),
            last_lesson: day("2027-05-31"),
        }
    }

    fn beijing() -> RegionPolicy {
        // Beijing's guidance price: up to 80 yuan per person per lesson.
        let province = PolicyOverride {
            guidance_prices: Some(GuidancePrices {
                online_fen: [8_000, 8_000, 8_000],
                offline_fen: [8_000, 8_000, 8_000],
                float_up_percent: 10,
            }),
            ..PolicyOverride::default()
        };
        RegionPolicy::effective(None, [&province])
    }

    #[test]
    fn each_broken_rule_is_named_with_its_numbers() {
        let p = beijing();
        assert!(check_course(&p, &course()).is_empty(), "within every rule");

        let mut c = course();
        c.lessons = 61;
        c.price_per_lesson_fen = 5_000;
        let broken = check_course(&p, &c);
        assert_eq!(broken.len(), 1);
        assert_eq!(
            broken[0].message_zh(),
            "单次收费不得超过60课时，本课程为61课时"
        );

        let mut c = course();
        c.lessons = 1;
        c.category = Category::Arts;
        c.price_per_lesson_fen = 500_100;
        assert_eq!(
            check_course(&p, &c)[0].message_zh(),
            "单次收费不得超过5000元，本课程为5001元"
        );

        let mut c = course();
        c.last_lesson = day("2027-07-01");
        let broken = check_course(&p, &c);
        assert_eq!(broken[0].rule(), "max_months_per_purchase");
        assert_eq!(
            broken[0].message_zh(),
            "单次收费时间跨度不得超过3个月，本课程为2027-03-01至2027-07-01"
        );
        let mut c = course();
        c.last_lesson = day("2027-06-01");
        assert!(
            check_course(&p, &c).is_empty(),
            "exactly three months is allowed"
        );

        let mut c = course();
        c.price_per_lesson_fen = 8_801;
        let broken = check_course(&p, &c);
        assert_eq!(
            broken[0].message_zh(),
            "学科类课程收费不得超过政府指导价上浮上限（每人每课时88元），本课程为88.01元"
        );
        c.price_per_lesson_fen = 8_800;
        assert!(
            check_course(&p, &c).is_empty(),
            "80 yuan + 10% is the ceiling"
        );
        c.category = Category::Sports;
        c.price_per_lesson_fen = 9_000;
        assert!(
            check_course(&p, &c).is_empty(),
            "guidance prices bind subject training only"
        );

        let mut c = course();
        c.mode = TeachingMode::Online;
        c.minutes_per_lesson = 40;
        let rules: Vec<_> = check_course(&p, &c)
            .iter()
            .map(RuleViolation::rule)
            .collect();
        assert!(rules.contains(&"online_max_minutes"), "{rules:?}");
    }

    #[test]
    fn lower_levels_override_what_they_set_and_inherit_the_rest() {
        let province = PolicyOverride {
            max_fen_per_purchase: Some(300_000),
            confirmation_working_days: Some(10),
            ..PolicyOverride::default()
        };
        let county = PolicyOverride {
            confirmation_working_days: Some(7),
            ..PolicyOverride::default()
        };
        let p = RegionPolicy::effective(None, [&province, &county]);
        assert_eq!(p.max_fen_per_purchase, 300_000);
        assert_eq!(
            p.confirmation_working_days, 7,
            "the county has the last word on what it sets"
        );
        assert_eq!(
            p.max_lessons_per_purchase, 60,
            "inherited from the national defaults"
        );
        assert_eq!(RegionPolicy::effective(None, []), RegionPolicy::default());
    }

    #[test]
    fn a_lower_level_may_tighten_a_national_rule_never_loosen_it() {
        let national = RegionPolicy::default();
        let county = PolicyOverride {
            max_lessons_per_purchase: Some(80),
            online_min_break_minutes: Some(5),
            offline_latest_end_minute: Some(21 * 60),
            subject_on_rest_days: Some(true),
            ..PolicyOverride::default()
        };
        let refused = county.loosenings(&national);
        let rules: Vec<&str> = refused.iter().map(|l| l.rule).collect();
        assert_eq!(
            rules,
            [
                "max_lessons_per_purchase",
                "online_min_break_minutes",
                "offline_latest_end_minute",
                "subject_on_rest_days"
            ]
        );
        assert_eq!(
            refused[0].message_zh(),
            "单次收费课时上限：上级规定为60课时，下级只能从严，不得放宽为80课时"
        );
        // Stored anyway (written before this rule, or by hand), it is not in force.
        let p = RegionPolicy::effective(None, [&county]);
        assert_eq!(p.max_lessons_per_purchase, 60);
        assert_eq!(p.online_min_break_minutes, 10);
        assert_eq!(p.offline_latest_end_minute, 20 * 60 + 30);
        assert!(!p.subject_on_rest_days);

        let stricter = PolicyOverride {
            max_lessons_per_purchase: Some(40),
            max_fen_per_purchase: Some(300_000),
            max_days_before_start: Some(30),
            ..PolicyOverride::default()
        };
        assert!(stricter.loosenings(&national).is_empty());
        let p = RegionPolicy::effective(None, [&stricter]);
        assert_eq!(
            (
                p.max_lessons_per_purchase,
                p.max_fen_per_purchase,
                p.max_days_before_start
            ),
            (40, 300_000, 30)
        );
        // Below a province that set 30 days, "no such rule" (0) or 60 days would loosen it.
        let below = |days| PolicyOverride {
            max_days_before_start: Some(days),
            ..PolicyOverride::default()
        };
        let province = RegionPolicy::effective(None, [&stricter]);
        assert_eq!(below(0).loosenings(&province).len(), 1);
        assert_eq!(below(60).loosenings(&province).len(), 1);
        assert!(below(20).loosenings(&province).is_empty());
        // The national level itself sets what it likes.
        let national_change = PolicyOverride {
            max_lessons_per_purchase: Some(72),
            ..PolicyOverride::default()
        };
        assert_eq!(
            RegionPolicy::effective(Some(&national_change), []).max_lessons_per_purchase,
            72
        );
    }

    #[test]
    fn guidance_prices_below_a_province_may_only_fall_and_float_less() {
        let province = beijing();
        let county = PolicyOverride {
            guidance_prices: Some(GuidancePrices {
                online_fen: [8_000, 9_000, 8_000],
                offline_fen: [7_000, 7_000, 7_000],
                float_up_percent: 15,
            }),
            ..PolicyOverride::default()
        };
        let refused = county.loosenings(&province);
        assert_eq!(refused.len(), 2, "{refused:?}");
        assert!(refused[0].message_zh().contains("上浮不超过10%"));
        assert!(
            refused[1]
                .message_zh()
                .contains("线上10至35人班每人每课时80元")
        );
        let p = RegionPolicy::effective(None, [&province_override(), &county]);
        let g = p.guidance_prices.unwrap();
        assert_eq!(
            (g.online_fen, g.offline_fen, g.float_up_percent),
            ([8_000, 8_000, 8_000], [7_000, 7_000, 7_000], 10)
        );
    }

    fn province_override() -> PolicyOverride {
        PolicyOverride {
            guidance_prices: Some(GuidancePrices {
                online_fen: [8_000, 8_000, 8_000],
                offline_fen: [8_000, 8_000, 8_000],
                float_up_percent: 10,
            }),
            ..PolicyOverride::default()
        }
    }

    #[test]
    fn collecting_too_long_before_the_first_lesson_is_refused_where_the_region_says_so() {
        let mut p = RegionPolicy::default();
        assert_eq!(
            check_collection_time(&p, day("2027-03-01"), day("2026-11-26")),
            None,
            "off by default"
        );
        p.max_days_before_start = 30;
        let early = check_collection_time(&p, day("2027-03-01"), day("2027-01-29")).unwrap();
        assert_eq!(
            early.message_zh(),
            "开课前30天以上不得收费，本课程2027-03-01开课"
        );
        assert_eq!(
            check_collection_time(&p, day("2027-03-01"), day("2027-01-30")),
            None
        );
    }
}
