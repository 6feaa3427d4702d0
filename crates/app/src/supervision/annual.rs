//! 年检年审 annual inspection data (DOMAIN.md §5: annual inspection and licence renewal use platform data as
//! evidence): per institution and year — orders, funds, lessons, complaints, penalties, spot checks and risk
//! history — for regulators over it and its own staff, as a printable page and CSV; a supervisor records the
//! annual review result once, which licence renewal can cite.

use crate::penalties::PenaltyView;
use crate::spot_checks::SpotCheckView;
use crate::supervision::Supervision;
use crate::{Actor, AppError, ErrorCode, evidence};
use domain::Action;
use domain::Timestamp;
use domain::access::Permission;
use serde::{Deserialize, Serialize};
use serde_json::json;
use store::AnnualReviewRow;

/// Annual review results.
pub const RESULTS: [(&str, &str); 3] = [
    ("pass", "合格"),
    ("conditional", "基本合格（限期整改）"),
    ("fail", "不合格"),
];

/// `POST /api/v1/regulator/institutions/{id}/annual/{year}/review`.
#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
pub struct AnnualReviewRequest {
    /// `pass`, `conditional` or `fail`.
    pub result: String,
    pub remarks: String,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct AnnualReviewView {
    pub result: String,
    pub result_label: &'static str,
    pub remarks: String,
    pub reviewed_by: String,
    pub reviewed_at_display: String,
}

/// One figure of the year: a label, the value (fen for money) and how it reads.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Figure {
    pub section: &'static str,
    pub label: &'static str,
    pub value: i64,
    pub display: String,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct AnnualReport {
    pub institution_id: String,
    pub institution_name: String,
    pub credit_code: String,
    pub licence_no: Option<String>,
    pub region_name: String,
    pub year: i64,
    /// The year has not ended: the figures will still change.
    pub provisional: bool,
    pub figures: Vec<Figure>,
    pub penalties: Vec<PenaltyView>,
    pub spot_checks: Vec<SpotCheckView>,
    pub credit_score_now: i32,
    pub credit_grade_now: String,
    pub review: Option<AnnualReviewView>,
}

fn result_label(result: &str) -> &'static str {
    RESULTS
        .iter()
        .find(|(k, _)| *k == result)
        .map_or("", |(_, l)| *l)
}

/// The China year's bounds in unix ms.
fn year_bounds(year: i64) -> Option<(i64, i64)> {
    let start = |y: i64| {
        chrono::NaiveDate::from_ymd_opt(i32::try_from(y).ok()?, 1, 1)?
            .and_hms_opt(0, 0, 0)?
            .and_local_timezone(domain::time::china_offset())
            .single()
            .map(|t| t.timestamp_millis())
    };
    Some((start(year)?, start(year + 1)?))
}

impl<'a> Supervision<'a> {
    /// An institution's year, for its staff and regulators over it.
    pub async fn annual_report(
        self,
        actor: &Actor,
        institution_id: &str,
        year: i64,
    ) -> Result<AnnualReport, AppError> {
        let institution = self.registry().institution_row(institution_id).await?;
        self.registry()
            .require_sight_of(actor, &institution)
            .await?;
        let this_year = self.current_year();
        let (from, to) = year_bounds(year)
            .filter(|_| (2021..=this_year).contains(&year))
            .ok_or_else(|| {
                AppError::new(
                    ErrorCode::InvalidParameter,
                    format!("年度：2021至{this_year}"),
                    format!("year: 2021 to {this_year}"),
                )
            })?;
        let read = self.store.read();
        let f = read
            .annual()
            .annual_figures(&institution.id, from, to)
            .await?;
        let count = |section, label, value: i64| Figure {
            section,
            label,
            value,
            display: value.to_string(),
        };
        let money = |section, label, value: i64| Figure {
            section,
            label,
            value,
            display: domain::money::yuan(value),
        };
        let figures = vec![
            count("订单", "支付订单数", f.orders_paid),
            money("资金", "预收学费（进入监管）", f.paid_fen),
            money("资金", "按课消划转机构", f.released_fen),
            money("资金", "退还家长", f.refunded_fen),
            count("订单", "退费申请", f.refunds_requested),
            count("课消", "确认课时", f.lessons_confirmed),
            count("课消", "有异议课时", f.lessons_disputed),
            count("投诉", "收到投诉", f.complaints),
            count("投诉", "查实投诉", f.complaints_upheld),
            count("风险", "黄色预警", f.warnings_yellow),
            count("风险", "橙色预警", f.warnings_orange),
            count("风险", "红色预警", f.warnings_red),
            count("风险", "公开提示", f.public_warnings),
            count("风险", "未经指令的资金流出", f.unmatched_outflows),
        ];
        let in_year = |date: &str| date.starts_with(&format!("{year}-"));
        let penalties = self
            .penalties_of(actor, &institution.id)
            .await?
            .into_iter()
            .filter(|p| in_year(&p.decided_on))
            .collect();
        let spot_checks = self
            .spot_checks_of(actor, &institution.id)
            .await?
            .into_iter()
            .filter(|k| k.recorded_at_display.as_deref().is_some_and(in_year))
            .collect();
        let (_, _, rating) = self.rating_now(&institution.id).await?;
        let review = read
            .annual()
            .annual_review(&institution.id, year)
            .await?
            .map(|r| AnnualReviewView {
                result_label: result_label(&r.result),
                result: r.result,
                remarks: r.remarks,
                reviewed_by: r.reviewed_by,
                reviewed_at_display: Timestamp::from_millis(r.reviewed_at).china_display(),
            });
        Ok(AnnualReport {
            region_name: self
                .regions
                .full_name(&domain::RegionCode::parse(&institution.region_code)?),
            institution_id: institution.id,
            institution_name: institution.name,
            credit_code: institution.credit_code,
            licence_no: institution.licence_no,
            year,
            provisional: to > self.clock.now().millis(),
            figures,
            penalties,
            spot_checks,
            credit_score_now: rating.score,
            credit_grade_now: rating.grade.as_str().to_owned(),
            review,
        })
    }

    /// A supervisor over the institution records the year's annual review result, once.
    pub async fn record_annual_review(
        self,
        actor: &Actor,
        institution_id: &str,
        year: i64,
        req: &AnnualReviewRequest,
    ) -> Result<AnnualReport, AppError> {
        let institution = self
            .institution_for_regulator(actor, institution_id, Permission::SuperviseInstitution)
            .await?;
        if result_label(req.result.trim()).is_empty() {
            return Err(AppError::new(
                ErrorCode::InvalidParameter,
                "检查结论：须为合格、限期整改或不合格",
                "result: pass, conditional or fail",
            )
            .on("result"));
        }
        if !(2021..=self.current_year()).contains(&year) {
            return Err(AppError::new(
                ErrorCode::InvalidParameter,
                "年度：不能晚于今年",
                "year: not in the future",
            )
            .on("year"));
        }
        let remarks = crate::error::required_text("remarks", &req.remarks, 1000)?;
        let now = self.clock.now().millis();
        let row = AnnualReviewRow {
            institution_id: institution.id.clone(),
            year,
            result: req.result.trim().to_owned(),
            remarks,
            reviewed_by: actor.audit_name(),
            reviewed_at: now,
        };
        let mut tx = self.store.begin_write().await?;
        tx.annual()
            .insert_annual_review(&row)
            .await
            .map_err(|e| match e {
                store::StoreError::Conflict(_) => AppError::new(
                    ErrorCode::Conflict,
                    format!("{year}年度的年检结果已经登记"),
                    format!("the {year} annual review was recorded already"),
                ),
                other => other.into(),
            })?;
        tx.append_audit(vec![evidence::record(
            &actor.audit_name(),
            now,
            Action::AnnualReviewRecorded,
            format!("institution:{}", institution.id),
            json!({"year": year, "result": row.result, "remarks": row.remarks}),
        )])
        .await?;
        let staff = tx.inbox().staff_accounts_of(&institution.id).await?;
        self.service()
            .notify_in(
                &mut tx,
                &staff,
                &format!("{year} 年度年检结果：{}", result_label(&row.result)),
                &row.remarks,
                now,
            )
            .await?;
        tx.commit().await?;
        self.annual_report(actor, &institution.id, year).await
    }
}
