//! 风险预警模型 the risk-warning model (DOMAIN.md §5): indicators over an institution's money and conduct, each
//! with yellow / orange / red thresholds and a weight. The model is data — national defaults that authorised
//! regulators edit, provinces adjusting within bounds — and every warning keeps the model version that fired it.
//! Evaluating is a pure function of the model and an indicator's value, so the engine is cheap to run per event.

use serde::{Deserialize, Serialize};

/// 预警等级.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    Yellow,
    Orange,
    Red,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Yellow => "yellow",
            Level::Orange => "orange",
            Level::Red => "red",
        }
    }

    pub fn parse(s: &str) -> Option<Level> {
        match s {
            "yellow" => Some(Level::Yellow),
            "orange" => Some(Level::Orange),
            "red" => Some(Level::Red),
            _ => None,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Level::Yellow => "黄色",
            Level::Orange => "橙色",
            Level::Red => "红色",
        }
    }

    /// Points toward an institution's risk score.
    fn points(self) -> u32 {
        match self {
            Level::Yellow => 1,
            Level::Orange => 2,
            Level::Red => 3,
        }
    }
}

/// What the platform watches. Each indicator's value is an integer in the unit its doc names.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Indicator {
    /// 余额覆盖率: supervised balance ÷ escrow owed, in percent (lower is worse).
    BalanceCoverage,
    /// 未经指令流出: fen that left a supervised account without the platform's instruction.
    UnmatchedOutflow,
    /// 单笔大额流出: one outflow as a percentage of the balance before it (Guangdong: 10%).
    LargeOutflow,
    /// 当日累计提取: fen withdrawn from the institution's supervised accounts this China day (Hangzhou).
    DailyWithdrawals,
    /// 当周累计提取: fen withdrawn in the last seven days.
    WeeklyWithdrawals,
    /// 销售激增: sales of the last seven days as a percentage of the weekly average of the 28 days before.
    SalesSurge,
    /// 退费申请激增: refund requests in the last seven days.
    RefundSurge,
    /// 投诉激增: complaints in the last 30 days.
    ComplaintSpike,
    /// 跑路迹象: days since the last confirmed lesson while escrow remains.
    DormantEscrow,
    /// 证照到期: days until the licence expires (lower is worse; negative: expired).
    LicenceExpiry,
    /// 人员流失: staff who left in the last 90 days, as a percentage of those on the register.
    StaffChurn,
    /// 抽检发现问题: focus items a spot check found wanting (evaluated when the check is recorded).
    SpotCheckFindings,
}

impl Indicator {
    pub const ALL: [Indicator; 12] = [
        Indicator::BalanceCoverage,
        Indicator::UnmatchedOutflow,
        Indicator::LargeOutflow,
        Indicator::DailyWithdrawals,
        Indicator::WeeklyWithdrawals,
        Indicator::SalesSurge,
        Indicator::RefundSurge,
        Indicator::ComplaintSpike,
        Indicator::DormantEscrow,
        Indicator::LicenceExpiry,
        Indicator::StaffChurn,
        Indicator::SpotCheckFindings,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Indicator::BalanceCoverage => "balance_coverage",
            Indicator::UnmatchedOutflow => "unmatched_outflow",
            Indicator::LargeOutflow => "large_outflow",
            Indicator::DailyWithdrawals => "daily_withdrawals",
            Indicator::WeeklyWithdrawals => "weekly_withdrawals",
            Indicator::SalesSurge => "sales_surge",
            Indicator::RefundSurge => "refund_surge",
            Indicator::ComplaintSpike => "complaint_spike",
            Indicator::DormantEscrow => "dormant_escrow",
            Indicator::LicenceExpiry => "licence_expiry",
            Indicator::StaffChurn => "staff_churn",
            Indicator::SpotCheckFindings => "spot_check_findings",
        }
    }

    pub fn parse(s: &str) -> Option<Indicator> {
        Indicator::ALL.into_iter().find(|i| i.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            Indicator::BalanceCoverage => "监管余额不足以覆盖应托管资金",
            Indicator::UnmatchedOutflow => "监管账户出现未经平台指令的资金流出",
            Indicator::LargeOutflow => "单笔流出占账户余额比例过高",
            Indicator::DailyWithdrawals => "当日累计提取金额过高",
            Indicator::WeeklyWithdrawals => "近七日累计提取金额过高",
            Indicator::SalesSurge => "近期销售额异常激增",
            Indicator::RefundSurge => "退费申请激增",
            Indicator::ComplaintSpike => "投诉激增",
            Indicator::DormantEscrow => "长期无课时确认但仍有预收资金",
            Indicator::LicenceExpiry => "办学许可证即将到期或已过期",
            Indicator::StaffChurn => "从业人员流失率过高",
            Indicator::SpotCheckFindings => "抽检发现问题",
        }
    }

    /// The unit of the indicator's value and thresholds, for people editing the model.
    pub fn unit(self) -> &'static str {
        match self {
            Indicator::BalanceCoverage
            | Indicator::LargeOutflow
            | Indicator::SalesSurge
            | Indicator::StaffChurn => "%",
            Indicator::UnmatchedOutflow
            | Indicator::DailyWithdrawals
            | Indicator::WeeklyWithdrawals => "分",
            Indicator::RefundSurge | Indicator::ComplaintSpike => "件",
            Indicator::DormantEscrow | Indicator::LicenceExpiry => "天",
            Indicator::SpotCheckFindings => "项",
        }
    }

    /// Whether a smaller value is the riskier one.
    pub fn lower_is_worse(self) -> bool {
        matches!(self, Indicator::BalanceCoverage | Indicator::LicenceExpiry)
    }
}

/// One indicator's thresholds and weight. For "higher is worse" indicators a level fires when the value reaches
/// its threshold; for "lower is worse" ones when the value falls to it or below.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Rule {
    pub yellow: i64,
    pub orange: i64,
    pub red: i64,
    /// Weight of this indicator in the institution's risk score (0 ignores it).
    pub weight: u32,
}

/// The model: a rule per indicator, how long a warned institution has to rectify, and the minimum sales base
/// below which a surge is noise.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RiskModel {
    pub rules: std::collections::BTreeMap<Indicator, Rule>,
    /// 整改期限 working days from the reminder to the deadline.
    pub rectification_working_days: u32,
    /// A sales surge counts only once the last seven days' sales reach this many fen.
    pub sales_surge_min_fen: i64,
}

impl Default for RiskModel {
    /// National defaults, from the local schemes DOMAIN.md §5 cites where there is one.
    fn default() -> Self {
        let rule = |yellow, orange, red, weight| Rule {
            yellow,
            orange,
            red,
            weight,
        };
        let rules = [
            (Indicator::BalanceCoverage, rule(100, 90, 80, 5)),
            (Indicator::UnmatchedOutflow, rule(1, 1, 1, 5)),
            (Indicator::LargeOutflow, rule(10, 30, 50, 3)),
            (
                Indicator::DailyWithdrawals,
                rule(5_000_000, 10_000_000, 20_000_000, 2),
            ),
            (
                Indicator::WeeklyWithdrawals,
                rule(20_000_000, 40_000_000, 80_000_000, 2),
            ),
            (Indicator::SalesSurge, rule(200, 300, 500, 2)),
            (Indicator::RefundSurge, rule(5, 10, 20, 3)),
            (Indicator::ComplaintSpike, rule(3, 5, 10, 3)),
            (Indicator::DormantEscrow, rule(14, 30, 60, 4)),
            (Indicator::LicenceExpiry, rule(30, 7, 0, 2)),
            (Indicator::StaffChurn, rule(30, 50, 70, 1)),
            (Indicator::SpotCheckFindings, rule(1, 2, 3, 2)),
        ]
        .into_iter()
        .collect();
        RiskModel {
            rules,
            rectification_working_days: 5,
            sales_surge_min_fen: 1_000_000,
        }
    }
}

/// An indicator that fired: its level, the value and the threshold it crossed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Firing {
    pub indicator: Indicator,
    pub level: Level,
    pub value: i64,
    pub threshold: i64,
}

impl RiskModel {
    /// The level `value` reaches on `indicator`, the highest that applies; `None` below every threshold (or
    /// when the model has no rule for it).
    pub fn evaluate(&self, indicator: Indicator, value: i64) -> Option<Firing> {
        let rule = self.rules.get(&indicator)?;
        // Coverage fires strictly below its threshold: an account that covers its escrow exactly is sound.
        let reached = |threshold: i64| match indicator {
            Indicator::BalanceCoverage => value < threshold,
            _ if indicator.lower_is_worse() => value <= threshold,
            _ => value >= threshold,
        };
        [
            (Level::Red, rule.red),
            (Level::Orange, rule.orange),
            (Level::Yellow, rule.yellow),
        ]
        .into_iter()
        .find(|(_, t)| reached(*t))
        .map(|(level, threshold)| Firing {
            indicator,
            level,
            value,
            threshold,
        })
    }

    /// An institution's risk score, 0–100: the weighted share of the worst possible levels its firings reach.
    pub fn score(&self, firings: &[Firing]) -> u32 {
        let total: u32 = self
            .rules
            .values()
            .map(|r| r.weight * Level::Red.points())
            .sum();
        if total == 0 {
            return 0;
        }
        let reached: u32 = firings
            .iter()
            .map(|f| self.rules.get(&f.indicator).map_or(0, |r| r.weight) * f.level.points())
            .sum();
        (reached * 100 / total).min(100)
    }

    /// Is the model coherent? Every indicator has a rule whose levels are ordered (yellow first to fire), and
    /// the rectification window is 1–60 working days.
    pub fn check(&self) -> Result<(), String> {
        for indicator in Indicator::ALL {
            let Some(r) = self.rules.get(&indicator) else {
                return Err(format!("{}: no rule", indicator.as_str()));
            };
            let ordered = if indicator.lower_is_worse() {
                r.yellow >= r.orange && r.orange >= r.red
            } else {
                r.yellow <= r.orange && r.orange <= r.red
            };
            if !ordered {
                return Err(format!(
                    "{}: thresholds must escalate from yellow to orange to red",
                    indicator.as_str()
                ));
            }
            if r.weight > 10 {
                return Err(format!("{}: weight 0 to 10", indicator.as_str()));
            }
        }
        if !(1..=60).contains(&self.rectification_working_days) {
            return Err("rectification_working_days: 1 to 60".into());
        }
        if self.sales_surge_min_fen < 0 {
            return Err("sales_surge_min_fen: not negative".into());
        }
        Ok(())
    }

    /// A province's model must stay within bounds of the national one: each threshold between half and twice
    /// the national value (coverage and licence thresholds within ±50 points/days, since they sit near zero or
    /// one hundred), so a province tunes the model to its market without switching a warning off.
    pub fn within_bounds_of(&self, national: &RiskModel) -> Result<(), String> {
        self.check()?;
        for (indicator, n) in &national.rules {
            let Some(p) = self.rules.get(indicator) else {
                continue;
            };
            for (name, pv, nv) in [
                ("yellow", p.yellow, n.yellow),
                ("orange", p.orange, n.orange),
                ("red", p.red, n.red),
            ] {
                let ok = if indicator.lower_is_worse() {
                    (pv - nv).abs() <= 50
                } else {
                    pv >= nv / 2 && pv <= nv.saturating_mul(2) && pv > 0
                };
                if !ok {
                    return Err(format!(
                        "{}.{name}: {pv} is outside the bounds the national model allows around {nv}",
                        indicator.as_str()
                    ));
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model() -> RiskModel {
        RiskModel::default()
    }

    /// Each indicator fires at its thresholds and stays silent just short of the first.
    #[test]
    fn every_indicator_fires_at_its_threshold_and_is_silent_below() {
        let m = model();
        m.check().unwrap();
        for indicator in Indicator::ALL {
            let r = m.rules[&indicator];
            let (silent, yellow, red) = match indicator {
                Indicator::BalanceCoverage => (r.yellow, r.yellow - 1, r.red - 1),
                Indicator::LicenceExpiry => (r.yellow + 1, r.yellow, r.red),
                _ => (r.yellow - 1, r.yellow, r.red),
            };
            assert_eq!(m.evaluate(indicator, silent), None, "{indicator:?} silent");
            let y = m.evaluate(indicator, yellow).unwrap();
            // Unmatched outflow has one threshold for all levels: any amount is red at once.
            let expected = if indicator == Indicator::UnmatchedOutflow {
                Level::Red
            } else {
                Level::Yellow
            };
            assert_eq!(y.level, expected, "{indicator:?} at yellow");
            assert_eq!(
                m.evaluate(indicator, red).unwrap().level,
                Level::Red,
                "{indicator:?} at red"
            );
        }
    }

    #[test]
    fn examples_of_the_named_schemes() {
        let m = model();
        // Guangdong: one outflow above 10% of the balance.
        assert_eq!(m.evaluate(Indicator::LargeOutflow, 9), None);
        assert_eq!(
            m.evaluate(Indicator::LargeOutflow, 12).unwrap().level,
            Level::Yellow
        );
        // A balance covering the escrow exactly is sound; 85% is orange.
        assert_eq!(m.evaluate(Indicator::BalanceCoverage, 100), None);
        assert_eq!(
            m.evaluate(Indicator::BalanceCoverage, 85).unwrap().level,
            Level::Orange
        );
        // An expired licence is red.
        assert_eq!(
            m.evaluate(Indicator::LicenceExpiry, -3).unwrap().level,
            Level::Red
        );
        // Forty-five days without a confirmed lesson while escrow remains: orange.
        let f = m.evaluate(Indicator::DormantEscrow, 45).unwrap();
        assert_eq!((f.level, f.threshold), (Level::Orange, 30));
    }

    #[test]
    fn editing_a_threshold_changes_the_outcome() {
        let mut m = model();
        assert_eq!(m.evaluate(Indicator::RefundSurge, 4), None);
        m.rules.get_mut(&Indicator::RefundSurge).unwrap().yellow = 3;
        assert_eq!(
            m.evaluate(Indicator::RefundSurge, 4).unwrap().level,
            Level::Yellow
        );
    }

    #[test]
    fn the_score_weighs_levels_and_stays_within_a_hundred() {
        let m = model();
        assert_eq!(m.score(&[]), 0);
        let all_red: Vec<Firing> = Indicator::ALL
            .into_iter()
            .map(|i| Firing {
                indicator: i,
                level: Level::Red,
                value: 0,
                threshold: 0,
            })
            .collect();
        assert_eq!(m.score(&all_red), 100);
        let one = m.evaluate(Indicator::UnmatchedOutflow, 100).unwrap();
        let small = m.evaluate(Indicator::StaffChurn, 30).unwrap();
        assert!(m.score(&[one]) > m.score(&[small]));
    }

    #[test]
    fn incoherent_or_out_of_bounds_models_are_refused() {
        let national = model();
        let mut m = model();
        m.rules.get_mut(&Indicator::RefundSurge).unwrap().orange = 50;
        assert!(m.check().unwrap_err().contains("escalate"));
        let mut m = model();
        m.rules.get_mut(&Indicator::LargeOutflow).unwrap().yellow = 4;
        assert!(
            m.within_bounds_of(&national)
                .unwrap_err()
                .contains("large_outflow.yellow")
        );
        let mut m = model();
        m.rules.get_mut(&Indicator::LargeOutflow).unwrap().yellow = 6;
        m.within_bounds_of(&national).unwrap();
        let mut m = model();
        m.rules.remove(&Indicator::StaffChurn);
        assert!(m.check().is_err());
    }
}
