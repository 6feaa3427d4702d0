//! 信用 credit: a score of 0–100 and a grade per institution, with the breakdown that explains it.
//!
//! No national grade scheme is published; the defaults follow the local example in DOMAIN.md §5 (Taixing 2023):
//! a base of 90 of 100 and grades A 守信 / B 基本守信 / C 失信 / D 严重失信. The score is the base plus every
//! item's points (deductions negative), clamped to 0–100; every number is part of a [`CreditModel`] that the
//! national supervisor may change.

use serde::{Deserialize, Serialize};

/// A credit grade.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema,
)]
pub enum Grade {
    A,
    B,
    C,
    D,
}

impl Grade {
    pub fn as_str(self) -> &'static str {
        match self {
            Grade::A => "A",
            Grade::B => "B",
            Grade::C => "C",
            Grade::D => "D",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Grade::A => "守信",
            Grade::B => "基本守信",
            Grade::C => "失信",
            Grade::D => "严重失信",
        }
    }
}

/// The numbers of the credit model. Points are deducted (or, for a passed spot check, added) per item.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CreditModel {
    pub base: i32,
    /// Lowest score of grades A, B and C; below `c_from` is D.
    pub a_from: i32,
    pub b_from: i32,
    pub c_from: i32,
    /// No confirmed supervised account (资金监管未覆盖).
    pub no_fund_supervision: i32,
    /// Per started 10 % of the last year's lessons that parents disputed or never confirmed in time.
    pub per_10_percent_late_or_disputed: i32,
    /// No approved filing; the approved filing older than a year; the school licence expired.
    pub no_approved_filing: i32,
    pub stale_filing: i32,
    pub licence_expired: i32,
    /// Per penalty in the last three years, by kind (MOE Order No. 53).
    pub penalty_warning: i32,
    pub penalty_fine: i32,
    pub penalty_stop_enrolling: i32,
    pub penalty_stop_operating: i32,
    pub penalty_licence_revoked: i32,
    /// Per complaint in the last year found true by the regulator (查实) and per mediated one.
    pub complaint_upheld: i32,
    pub complaint_mediated: i32,
    /// Per failed item of a spot check in the last year; per spot check passed clean.
    pub spot_check_finding: i32,
    pub spot_check_passed: i32,
    /// Per risk warning raised in the last year, by level, and per public warning (公开提示).
    pub warning_yellow: i32,
    pub warning_orange: i32,
    pub warning_red: i32,
    pub public_warning: i32,
}

impl Default for CreditModel {
    fn default() -> Self {
        CreditModel {
            base: 90,
            a_from: 90,
            b_from: 75,
            c_from: 60,
            no_fund_supervision: -15,
            per_10_percent_late_or_disputed: -1,
            no_approved_filing: -5,
            stale_filing: -2,
            licence_expired: -10,
            penalty_warning: -3,
            penalty_fine: -10,
            penalty_stop_enrolling: -20,
            penalty_stop_operating: -30,
            penalty_licence_revoked: -90,
            complaint_upheld: -3,
            complaint_mediated: -1,
            spot_check_finding: -2,
            spot_check_passed: 2,
            warning_yellow: -1,
            warning_orange: -2,
            warning_red: -4,
            public_warning: -5,
        }
    }
}

impl CreditModel {
    /// Bands must descend within 0–100 and the base lie within them; deductions must not add, nor bonuses take.
    pub fn check(&self) -> Result<(), String> {
        if !(0 <= self.c_from
            && self.c_from < self.b_from
            && self.b_from < self.a_from
            && self.a_from <= 100)
        {
            return Err("grades: 0 ≤ c_from < b_from < a_from ≤ 100".into());
        }
        if !(0..=100).contains(&self.base) {
            return Err("base: 0 to 100".into());
        }
        let deductions = [
            self.no_fund_supervision,
            self.per_10_percent_late_or_disputed,
            self.no_approved_filing,
            self.stale_filing,
            self.licence_expired,
            self.penalty_warning,
            self.penalty_fine,
            self.penalty_stop_enrolling,
            self.penalty_stop_operating,
            self.penalty_licence_revoked,
            self.complaint_upheld,
            self.complaint_mediated,
            self.spot_check_finding,
            self.warning_yellow,
            self.warning_orange,
            self.warning_red,
            self.public_warning,
        ];
        if deductions.iter().any(|d| !(-100..=0).contains(d)) {
            return Err("deductions: -100 to 0".into());
        }
        if !(0..=100).contains(&self.spot_check_passed) {
            return Err("spot_check_passed: 0 to 100".into());
        }
        Ok(())
    }

    pub fn grade(&self, score: i32) -> Grade {
        if score >= self.a_from {
            Grade::A
        } else if score >= self.b_from {
            Grade::B
        } else if score >= self.c_from {
            Grade::C
        } else {
            Grade::D
        }
    }

    /// The score, grade and breakdown of an institution's facts.
    pub fn rate(&self, f: &CreditFacts) -> CreditRating {
        let mut items = Vec::new();
        let mut item = |key: &'static str, label: &'static str, count: u32, per: i32| {
            if count > 0 && per != 0 {
                let points = i32::try_from(count).unwrap_or(i32::MAX).saturating_mul(per);
                items.push(CreditItem {
                    key,
                    label,
                    count,
                    points,
                });
            }
        };
        item(
            "no_fund_supervision",
            "未开立并确认资金监管账户",
            u32::from(!f.fund_supervised),
            self.no_fund_supervision,
        );
        item(
            "lessons_late_or_disputed",
            "课消未及时确认或有异议（每 10%）",
            f.lessons_late_or_disputed_percent.div_ceil(10),
            self.per_10_percent_late_or_disputed,
        );
        item(
            "no_approved_filing",
            "无审核通过的备案信息",
            u32::from(!f.filing_approved),
            self.no_approved_filing,
        );
        item(
            "stale_filing",
            "备案信息超过一年未更新",
            u32::from(f.filing_approved && f.filing_stale),
            self.stale_filing,
        );
        item(
            "licence_expired",
            "办学许可证已过期",
            u32::from(f.licence_expired),
            self.licence_expired,
        );
        item(
            "penalty_warning",
            "行政处罚：警告、通报批评",
            f.penalties_warning,
            self.penalty_warning,
        );
        item(
            "penalty_fine",
            "行政处罚：罚款、没收",
            f.penalties_fine,
            self.penalty_fine,
        );
        item(
            "penalty_stop_enrolling",
            "行政处罚：责令停止招生",
            f.penalties_stop_enrolling,
            self.penalty_stop_enrolling,
        );
        item(
            "penalty_stop_operating",
            "行政处罚：责令停止办学、限制从业",
            f.penalties_stop_operating,
            self.penalty_stop_operating,
        );
        item(
            "penalty_licence_revoked",
            "行政处罚：吊销许可证件",
            f.penalties_licence_revoked,
            self.penalty_licence_revoked,
        );
        item(
            "complaint_upheld",
            "投诉经查属实",
            f.complaints_upheld,
            self.complaint_upheld,
        );
        item(
            "complaint_mediated",
            "投诉经调解结案",
            f.complaints_mediated,
            self.complaint_mediated,
        );
        item(
            "spot_check_finding",
            "抽检发现问题（每项）",
            f.spot_check_findings,
            self.spot_check_finding,
        );
        item(
            "spot_check_passed",
            "抽检全部合格",
            f.spot_checks_passed,
            self.spot_check_passed,
        );
        item(
            "warning_yellow",
            "黄色风险预警",
            f.warnings_yellow,
            self.warning_yellow,
        );
        item(
            "warning_orange",
            "橙色风险预警",
            f.warnings_orange,
            self.warning_orange,
        );
        item(
            "warning_red",
            "红色风险预警",
            f.warnings_red,
            self.warning_red,
        );
        item(
            "public_warning",
            "风险公开提示",
            f.public_warnings,
            self.public_warning,
        );
        let total = items
            .iter()
            .fold(self.base, |sum, i| sum.saturating_add(i.points));
        let score = total.clamp(0, 100);
        CreditRating {
            base: self.base,
            items,
            score,
            grade: self.grade(score),
        }
    }
}

/// What the platform knows about an institution, as the credit model reads it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CreditFacts {
    pub fund_supervised: bool,
    pub lessons_late_or_disputed_percent: u32,
    pub filing_approved: bool,
    pub filing_stale: bool,
    pub licence_expired: bool,
    pub penalties_warning: u32,
    pub penalties_fine: u32,
    pub penalties_stop_enrolling: u32,
    pub penalties_stop_operating: u32,
    pub penalties_licence_revoked: u32,
    pub complaints_upheld: u32,
    pub complaints_mediated: u32,
    pub spot_check_findings: u32,
    pub spot_checks_passed: u32,
    pub warnings_yellow: u32,
    pub warnings_orange: u32,
    pub warnings_red: u32,
    pub public_warnings: u32,
}

/// One line of the breakdown: what, how many, and the points it moved.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CreditItem {
    pub key: &'static str,
    pub label: &'static str,
    pub count: u32,
    pub points: i32,
}

/// A rating: the base, each item, the clamped score and its grade.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct CreditRating {
    pub base: i32,
    pub items: Vec<CreditItem>,
    pub score: i32,
    pub grade: Grade,
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn clean() -> CreditFacts {
        CreditFacts {
            fund_supervised: true,
            filing_approved: true,
            ..CreditFacts::default()
        }
    }

    #[test]
    fn a_clean_institution_keeps_the_base_and_each_input_moves_the_score() {
        let m = CreditModel::default();
        let r = m.rate(&clean());
        assert_eq!((r.score, r.grade, r.items.len()), (90, Grade::A, 0));
        let with = |edit: fn(&mut CreditFacts)| {
            let mut f = clean();
            edit(&mut f);
            m.rate(&f).score
        };
        assert_eq!(with(|f| f.fund_supervised = false), 75);
        assert_eq!(
            with(|f| f.lessons_late_or_disputed_percent = 11),
            88,
            "two started tenths"
        );
        assert_eq!(with(|f| f.filing_approved = false), 85);
        assert_eq!(with(|f| f.licence_expired = true), 80);
        assert_eq!(with(|f| f.penalties_fine = 1), 80);
        assert_eq!(with(|f| f.penalties_licence_revoked = 1), 0);
        assert_eq!(with(|f| f.complaints_upheld = 2), 84);
        assert_eq!(with(|f| f.spot_check_findings = 2), 86);
        assert_eq!(with(|f| f.spot_checks_passed = 1), 92);
        assert_eq!(with(|f| f.warnings_red = 1), 86);
        assert_eq!(with(|f| f.spot_checks_passed = 10), 100, "clamped at 100");
    }

    #[test]
    fn bands_grade_the_score_and_are_configurable() {
        let mut m = CreditModel::default();
        assert_eq!(
            [95, 90, 89, 75, 74, 60, 59, 0].map(|s| m.grade(s)),
            [
                Grade::A,
                Grade::A,
                Grade::B,
                Grade::B,
                Grade::C,
                Grade::C,
                Grade::D,
                Grade::D
            ]
        );
        m.a_from = 95;
        assert_eq!(m.grade(90), Grade::B);
        assert!(m.check().is_ok());
        m.b_from = 96;
        assert!(m.check().is_err());
        let m = CreditModel {
            warning_red: 4,
            ..CreditModel::default()
        };
        assert!(m.check().is_err(), "a warning cannot add points");
    }

    proptest! {
        #[test]
        fn the_breakdown_adds_up_to_the_score(
            supervised: bool, approved: bool, stale: bool, expired: bool, late in 0u32..=100,
            counts in proptest::collection::vec(0u32..5, 13),
        ) {
            let f = CreditFacts {
                fund_supervised: supervised, filing_approved: approved, filing_stale: stale, licence_expired: expired,
                lessons_late_or_disputed_percent: late,
                penalties_warning: counts[0], penalties_fine: counts[1], penalties_stop_enrolling: counts[2],
                penalties_stop_operating: counts[3], penalties_licence_revoked: counts[4],
                complaints_upheld: counts[5], complaints_mediated: counts[6], spot_check_findings: counts[7],
                spot_checks_passed: counts[8], warnings_yellow: counts[9], warnings_orange: counts[10],
                warnings_red: counts[11], public_warnings: counts[12],
            };
            let m = CreditModel::default();
            let r = m.rate(&f);
            let sum = r.base + r.items.iter().map(|i| i.points).sum::<i32>();
            prop_assert_eq!(r.score, sum.clamp(0, 100));
            prop_assert_eq!(r.grade, m.grade(r.score));
            prop_assert!(r.items.iter().all(|i| i.count > 0 && i.points != 0));
        }
    }
}
