//! 年检年审 the year's annual inspection data of an institution, with its review; as JSON, CSV, PDF and a page.
//! Figures and rules are `app::annual`'s.

use crate::WebState;
use crate::auth_api::Bearer;
use crate::error::{ApiError, PageError, form_outcome};
use crate::extract::{ApiJson, ApiQuery, PageQuery};
use crate::inspection::csv_attachment;
use crate::session_pages::PageSession;
use app::annual::{AnnualReport, AnnualReviewRequest, RESULTS};
use app::{AppError, ErrorCode};
use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use domain::access::Permission;
use serde::Deserialize;

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(default)]
pub struct FormatQuery {
    /// `json` (the default), `csv` or `pdf`.
    pub format: String,
}

/// An institution's year — orders, funds, lessons, complaints, penalties, spot checks, risk — and the annual
/// review result; `?format=csv` for a spreadsheet, `?format=pdf` for a document (503 `pdf_unavailable` on a
/// server without a CJK font).
#[utoipa::path(get, path = "/api/v1/regulator/institutions/{id}/annual/{year}", security(("bearer" = [])),
    params(("id" = String, Path), ("year" = i64, Path), FormatQuery),
    responses((status = 200, body = AnnualReport)))]
pub async fn annual(
    State(s): State<WebState>,
    bearer: Bearer,
    Path((id, year)): Path<(String, String)>,
    ApiQuery(q): ApiQuery<FormatQuery>,
) -> Result<Response, ApiError> {
    s.app
        .require(&bearer.actor, Permission::ViewInstitutionPrivate)
        .await?;
    let year = year
        .parse()
        .map_err(|_| AppError::invalid("年度：格式如 2026", "year: e.g. 2026").on("year"))?;
    let report = s
        .app
        .supervision()
        .annual_report(&bearer.actor, &id, year)
        .await?;
    match q.format.as_str() {
        "" | "json" => Ok(Json(report).into_response()),
        "csv" => Ok(annual_csv(&report)?),
        "pdf" => Ok(annual_pdf(&s, &report)?),
        _ => Err(
            AppError::invalid("格式：须为 JSON、CSV 或 PDF", "format: json, csv or pdf")
                .on("format")
                .into(),
        ),
    }
}

/// A supervisor records the year's annual review result (once).
#[utoipa::path(post, path = "/api/v1/regulator/institutions/{id}/annual/{year}/review", security(("bearer" = [])),
    params(("id" = String, Path), ("year" = i64, Path)), request_body = AnnualReviewRequest,
    responses((status = 201, body = AnnualReport)))]
pub async fn annual_review(
    State(s): State<WebState>,
    bearer: Bearer,
    Path((id, year)): Path<(String, String)>,
    ApiJson(b): ApiJson<AnnualReviewRequest>,
) -> Result<(StatusCode, Json<AnnualReport>), ApiError> {
    s.app
        .require(&bearer.actor, Permission::SuperviseInstitution)
        .await?;
    let year = year
        .parse()
        .map_err(|_| AppError::invalid("年度：格式如 2026", "year: e.g. 2026").on("year"))?;
    let report = s
        .app
        .supervision()
        .record_annual_review(&bearer.actor, &id, year, &b)
        .await?;
    Ok((StatusCode::CREATED, Json(report)))
}

fn annual_csv(r: &AnnualReport) -> Result<Response, AppError> {
    csv_attachment(&format!("annual-{}-{}.csv", r.credit_code, r.year), |out| {
        out.write_record(["类别", "项目", "数值", "显示"])?;
        let year = r.year.to_string();
        for (label, value) in [
            ("机构名称", r.institution_name.as_str()),
            ("统一社会信用代码", &r.credit_code),
            ("办学许可证号", r.licence_no.as_deref().unwrap_or("")),
            ("所在地区", &r.region_name),
            ("年度", &year),
        ] {
            out.write_record(["机构", label, value, value])?;
        }
        let score = r.credit_score_now.to_string();
        let credit = format!("{} 分（{} 级）", r.credit_score_now, r.credit_grade_now);
        out.write_record(["信用", "当前信用分", &score, &credit])?;
        for f in &r.figures {
            out.write_record([f.section, f.label, &f.value.to_string(), &f.display])?;
        }
        for p in &r.penalties {
            let detail = format!("{}（{}）{}", p.kind_label, p.decision_no, p.facts);
            let amount = p.amount_fen.unwrap_or(0).to_string();
            out.write_record(["行政处罚", p.decided_on.as_str(), &amount, &detail])?;
        }
        for k in &r.spot_checks {
            let count = k.finding_count.to_string();
            out.write_record(["抽检", k.campaign_name.as_str(), &count, k.status_label])?;
        }
        if let Some(v) = &r.review {
            out.write_record(["年检结论", v.result_label, "", v.remarks.as_str()])?;
        }
        Ok(())
    })
}

/// The annual data as a PDF document: the same content as the printable page.
fn annual_pdf(s: &WebState, r: &AnnualReport) -> Result<Response, AppError> {
    use crate::pdf::Line;
    let row = |label: &str, value: &str| Line::Row(label.to_owned(), value.to_owned());
    let mut lines = vec![
        row("统一社会信用代码", &r.credit_code),
        row("办学许可证号", r.licence_no.as_deref().unwrap_or("无")),
        row("所在地区", &r.region_name),
        row(
            "当前信用",
            &format!("{} 分（{} 级）", r.credit_score_now, r.credit_grade_now),
        ),
    ];
    if r.provisional {
        lines.push(Line::Text("本年度尚未结束，数据截至当前。".into()));
    }
    // Sections in the order they first appear, each with all its figures.
    let mut sections: Vec<&str> = Vec::new();
    for f in &r.figures {
        if !sections.contains(&f.section) {
            sections.push(f.section);
        }
    }
    for section in sections {
        lines.push(Line::Heading(section.to_owned()));
        for f in r.figures.iter().filter(|f| f.section == section) {
            lines.push(row(f.label, &f.display));
        }
    }
    lines.push(Line::Heading("行政处罚".into()));
    if r.penalties.is_empty() {
        lines.push(Line::Text("本年度无行政处罚。".into()));
    }
    for p in &r.penalties {
        let amount = p.amount_display.as_deref().unwrap_or("");
        lines.push(Line::Text(format!(
            "{} {}{amount}（{}）：{}",
            p.decided_on, p.kind_label, p.decision_no, p.facts
        )));
    }
    lines.push(Line::Heading("抽检".into()));
    if r.spot_checks.is_empty() {
        lines.push(Line::Text("本年度无抽检记录。".into()));
    }
    for k in &r.spot_checks {
        lines.push(row(
            &k.campaign_name,
            &format!("{}（{} 项问题）", k.status_label, k.finding_count),
        ));
    }
    lines.push(Line::Heading("年检结论".into()));
    lines.push(match &r.review {
        Some(v) => Line::Text(format!(
            "{}：{}（{}，{}）",
            v.result_label, v.remarks, v.reviewed_by, v.reviewed_at_display
        )),
        None => Line::Text("尚未记录。".into()),
    });
    let title = format!("{} · {} 年度年检年审数据", r.institution_name, r.year);
    let bytes = crate::pdf::render(
        &s.pdf_font,
        &title,
        "全国校外教育培训监管与服务综合平台",
        &lines,
    )
    .ok_or_else(|| {
        AppError::new(
            ErrorCode::PdfUnavailable,
            "服务器未配置中文字体",
            "no CJK font is configured",
        )
    })?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/pdf".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!(
                    "attachment; filename=\"annual-{}-{}.pdf\"",
                    r.credit_code, r.year
                ),
            ),
        ],
        bytes,
    )
        .into_response())
}

#[derive(Template, WebTemplate)]
#[template(path = "annual.html")]
pub(crate) struct AnnualPage {
    r: AnnualReport,
    results: &'static [(&'static str, &'static str)],
    csrf: String,
    error: Option<String>,
}

pub(crate) async fn annual_page(
    State(s): State<WebState>,
    PageSession(session): PageSession,
    Path((id, year)): Path<(String, String)>,
    PageQuery(q): PageQuery<FormatQuery>,
) -> Result<Response, PageError> {
    s.app
        .require(&session.actor, Permission::ViewInstitutionPrivate)
        .await?;
    let year = year
        .parse()
        .map_err(|_| AppError::invalid("年度：格式如 2026", "year: e.g. 2026").on("year"))?;
    let report = s
        .app
        .supervision()
        .annual_report(&session.actor, &id, year)
        .await?;
    match q.format.as_str() {
        "csv" => return Ok(annual_csv(&report)?),
        "pdf" => return Ok(annual_pdf(&s, &report)?),
        _ => {}
    }
    Ok(AnnualPage {
        r: report,
        results: &RESULTS,
        csrf: session.csrf,
        error: None,
    }
    .into_response())
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct AnnualReviewForm {
    csrf: String,
    result: String,
    remarks: String,
}

pub(crate) async fn annual_review_form(
    State(s): State<WebState>,
    session: PageSession,
    Path((id, year)): Path<(String, String)>,
    Form(form): Form<AnnualReviewForm>,
) -> Result<Response, PageError> {
    session
        .authorize(&s, &form.csrf, Permission::SuperviseInstitution)
        .await?;
    let PageSession(session) = session;
    let year: i64 = year
        .parse()
        .map_err(|_| AppError::invalid("年度：格式如 2026", "year: e.g. 2026").on("year"))?;
    let req = AnnualReviewRequest {
        result: form.result,
        remarks: form.remarks,
    };
    match s
        .app
        .supervision()
        .record_annual_review(&session.actor, &id, year, &req)
        .await
    {
        Ok(_) => Ok(
            Redirect::to(&format!("/regulator/institutions/{id}/annual/{year}")).into_response(),
        ),
        Err(e) => {
            let o = form_outcome::<()>(Err(e), StatusCode::OK, "")?;
            let page = AnnualPage {
                r: s.app
                    .supervision()
                    .annual_report(&session.actor, &id, year)
                    .await?,
                results: &RESULTS,
                csrf: session.csrf,
                error: o.error,
            };
            Ok((o.status, page).into_response())
        }
    }
}
