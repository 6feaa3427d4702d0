//! 从严不从宽: a lower level may make the national rules stricter, never looser — what an override would
//! loosen, named with the numbers in force and asked.

use super::{NATIONAL_MAX_FLOAT_UP_PERCENT, PolicyOverride, RegionPolicy, yuan};

/// A rule a lower level tried to make looser than the level above it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Loosening {
    pub rule: &'static str,
    /// The rule as the level above sets it, and as asked, in words.
    pub in_force: String,
    pub asked: String,
}

impl Loosening {
    pub fn message_en(&self) -> String {
        format!(
            "{}: a lower level may only make the rule stricter (in force above: {}; asked: {})",
            self.rule, self.in_force, self.asked
        )
    }

    pub fn message_zh(&self) -> String {
        format!(
            "{}：上级规定为{}，下级只能从严，不得放宽为{}",
            rule_label(self.rule),
            self.in_force,
            self.asked
        )
    }
}

fn rule_label(rule: &str) -> &'static str {
    match rule {
        "max_lessons_per_purchase" => "单次收费课时上限",
        "max_months_per_purchase" => "单次收费时间跨度上限",
        "max_fen_per_purchase" => "单次收费金额上限",
        "max_days_before_start" => "开课前最早收费天数",
        "online_max_minutes" => "线上每课时时长上限",
        "online_min_break_minutes" => "线上课间休息下限",
        "online_latest_end_minute" => "线上课程最晚结束时间",
        "offline_latest_end_minute" => "线下课程最晚结束时间",
        "subject_on_rest_days" => "休息日、节假日和寒暑假开展学科类培训",
        "guidance_prices" => "政府指导价",
        _ => "政策规定",
    }
}

fn clock(minute: u32) -> String {
    format!("{:02}:{:02}", minute / 60, minute % 60)
}

impl PolicyOverride {
    /// The national rules this override would make looser than `above` (the policy in force at the level
    /// above): a province, prefecture or county may make them stricter, never looser. Empty: it may be set.
    pub fn loosenings(&self, above: &RegionPolicy) -> Vec<Loosening> {
        let mut found = Vec::new();
        let mut looser = |rule: &'static str, in_force: String, asked: String| {
            found.push(Loosening {
                rule,
                in_force,
                asked,
            });
        };
        if let Some(v) = self.max_lessons_per_purchase
            && v > above.max_lessons_per_purchase
        {
            looser(
                "max_lessons_per_purchase",
                format!("{}课时", above.max_lessons_per_purchase),
                format!("{v}课时"),
            );
        }
        if let Some(v) = self.max_months_per_purchase
            && v > above.max_months_per_purchase
        {
            looser(
                "max_months_per_purchase",
                format!("{}个月", above.max_months_per_purchase),
                format!("{v}个月"),
            );
        }
        if let Some(v) = self.max_fen_per_purchase
            && v > above.max_fen_per_purchase
        {
            looser(
                "max_fen_per_purchase",
                yuan(above.max_fen_per_purchase),
                yuan(v),
            );
        }
        if let Some(v) = self.max_days_before_start
            && above.max_days_before_start > 0
            && (v == 0 || v > above.max_days_before_start)
        {
            looser(
                "max_days_before_start",
                format!("开课前{}天内", above.max_days_before_start),
                if v == 0 {
                    "不限".to_owned()
                } else {
                    format!("开课前{v}天内")
                },
            );
        }
        if let Some(v) = self.online_max_minutes
            && v > above.online_max_minutes
        {
            looser(
                "online_max_minutes",
                format!("{}分钟", above.online_max_minutes),
                format!("{v}分钟"),
            );
        }
        if let Some(v) = self.online_min_break_minutes
            && v < above.online_min_break_minutes
        {
            looser(
                "online_min_break_minutes",
                format!("{}分钟", above.online_min_break_minutes),
                format!("{v}分钟"),
            );
        }
        if let Some(v) = self.online_latest_end_minute
            && v > above.online_latest_end_minute
        {
            looser(
                "online_latest_end_minute",
                clock(above.online_latest_end_minute),
                clock(v),
            );
        }
        if let Some(v) = self.offline_latest_end_minute
            && v > above.offline_latest_end_minute
        {
            looser(
                "offline_latest_end_minute",
                clock(above.offline_latest_end_minute),
                clock(v),
            );
        }
        if self.subject_on_rest_days == Some(true) && !above.subject_on_rest_days {
            looser("subject_on_rest_days", "不得开展".into(), "允许".into());
        }
        if let Some(mine) = self.guidance_prices {
            let float_cap = above
                .guidance_prices
                .map_or(NATIONAL_MAX_FLOAT_UP_PERCENT, |p| p.float_up_percent);
            if mine.float_up_percent > float_cap {
                looser(
                    "guidance_prices",
                    format!("上浮不超过{float_cap}%"),
                    format!("上浮{}%", mine.float_up_percent),
                );
            }
            if let Some(theirs) = above.guidance_prices {
                let bands = ["10人以下", "10至35人", "35人以上"];
                for (mode, mine, theirs) in [
                    ("线上", mine.online_fen, theirs.online_fen),
                    ("线下", mine.offline_fen, theirs.offline_fen),
                ] {
                    for i in 0..3 {
                        if mine[i] > theirs[i] {
                            looser(
                                "guidance_prices",
                                format!("{mode}{}班每人每课时{}", bands[i], yuan(theirs[i])),
                                yuan(mine[i]),
                            );
                        }
                    }
                }
            }
        }
        found
    }
}
