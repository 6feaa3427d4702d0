//! 银行服务质量 the banks' monthly service-quality report, for anyone. Figures are `app::bank_quality`'s.

use crate::WebState;
use crate::error::{ApiError, PageError};
use crate::extract::{ApiQuery, PageQuery};
use app::AppError;
use app::bank_quality::BankQualityReport;
use askama::Template;
use askama_web::WebTemplate;
use axum::Json;
use axum::extract::State;
use serde::Deserialize;

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(default)]
pub struct PeriodQuery {
    /// `YYYY-MM` (China time); this month when left out.
    pub period: String,
}

/// Every fund-supervision bank's service quality in a month: instruction latency, failed and late
/// instructions, movement-report timeliness, reconciliation breaks. Public.
#[utoipa::path(get, path = "/api/v1/public/bank-quality", params(PeriodQuery),
    responses((status = 200, body = Vec<BankQualityReport>)))]
pub async fn bank_quality(
    State(s): State<WebState>,
    ApiQuery(q): ApiQuery<PeriodQuery>,
) -> Result<Json<Vec<BankQualityReport>>, ApiError> {
    let period = period_of(&s, q)?;
    Ok(Json(s.app.supervision().bank_quality(&period).await?))
}

fn period_of(s: &WebState, q: PeriodQuery) -> Result<String, AppError> {
    let period = q.period;
    Ok(if period.trim().is_empty() {
        s.app.supervision().current_period()
    } else {
        period.trim().to_owned()
    })
}

#[derive(Template, WebTemplate)]
#[template(path = "bank_quality.html")]
pub(crate) struct BankQualityPage {
    period: String,
    period_label: String,
    previous: String,
    reports: Vec<BankQualityReport>,
}

impl BankQualityPage {
    fn duration(&self, ms: &Option<i64>) -> String {
        ms.map_or_else(|| "—".to_owned(), app::bank_quality::duration_label)
    }
}

pub(crate) async fn bank_quality_page(
    State(s): State<WebState>,
    PageQuery(q): PageQuery<PeriodQuery>,
) -> Result<BankQualityPage, PageError> {
    let period = period_of(&s, q)?;
    let reports = s.app.supervision().bank_quality(&period).await?;
    let previous = app::bank_quality::previous_period(&period).unwrap_or_default();
    Ok(BankQualityPage {
        period_label: app::bank_quality::period_label(&period),
        period,
        previous,
        reports,
    })
}
