//! 抽检, 行政处罚 and 信用 over HTTP: spot-check campaigns and their results, penalty decisions, credit
//! breakdowns, yearly publication and the export for the national credit system. Rules are the app's
//! (`app::spot_checks`, `app::penalties`, `app::credit`); this module reads requests and renders pages.

use crate::WebState;
use crate::auth_api::Bearer;
use crate::error::{ApiError, PageError, form_outcome, status_of};
use crate::extract::{ApiJson, ApiQuery, PageQuery};
use crate::session_pages::PageSession;
use app::credit::{CreditExportRow, CreditModelChange, CreditModelView, CreditView};
use app::penalties::{NewPenalty, PenaltyView};
use app::spot_checks::{
    CHECKLIST, CampaignView, EvidenceFile, Finding, NewCampaign, STRATA, SpotCheckResult,
    SpotCheckView,
};
use app::{AppError, ErrorCode};
use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::Json;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{Multipart, Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use domain::access::Permission;
use domain::penalty::PenaltyKind;
use serde::Deserialize;

// ---- API ----

/// A supervisor draws a spot-check campaign over its region.
#[utoipa::path(post, path = "/api/v1/regulator/spot-checks", security(("bearer" = [])),
    request_body = NewCampaign, responses((status = 201, body = CampaignView)))]
pub async fn create_campaign(
    State(s): State<WebState>,
    bearer: Bearer,
    ApiJson(b): ApiJson<NewCampaign>,
) -> Result<(StatusCode, Json<CampaignView>), ApiError> {
    s.app
        .require(&bearer.actor, Permission::SuperviseInstitution)
        .await?;
    let campaign = s
        .app
        .supervision()
        .create_spot_check_campaign(&bearer.actor, &b)
        .await?;
    Ok((StatusCode::CREATED, Json(campaign)))
}

/// The campaigns of the caller's region, newest first.
#[utoipa::path(get, path = "/api/v1/regulator/spot-checks", security(("bearer" = [])),
    responses((status = 200, body = Vec<CampaignView>)))]
pub async fn campaigns(
    State(s): State<WebState>,
    bearer: Bearer,
) -> Result<Json<Vec<CampaignView>>, ApiError> {
    Ok(Json(
        s.app
            .supervision()
            .spot_check_campaigns(&bearer.actor)
            .await?,
    ))
}

/// A campaign with its drawn institutions, their checkers and results.
#[utoipa::path(get, path = "/api/v1/regulator/spot-checks/{id}", security(("bearer" = [])),
    params(("id" = String, Path)), responses((status = 200, body = CampaignView)))]
pub async fn campaign(
    State(s): State<WebState>,
    bearer: Bearer,
    Path(id): Path<String>,
) -> Result<Json<CampaignView>, ApiError> {
    Ok(Json(
        s.app
            .supervision()
            .spot_check_campaign(&bearer.actor, &id)
            .await?,
    ))
}

/// The checker records a finding for each of the five focus items (evidence files: the page's form).
#[utoipa::path(post, path = "/api/v1/regulator/spot-check-items/{id}/result", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = SpotCheckResult,
    responses((status = 200, body = SpotCheckView)))]
pub async fn record_result(
    State(s): State<WebState>,
    bearer: Bearer,
    Path(id): Path<String>,
    ApiJson(result): ApiJson<SpotCheckResult>,
) -> Result<Json<SpotCheckView>, ApiError> {
    s.app.supervising_region(&bearer.actor).await?;
    Ok(Json(
        s.app
            .supervision()
            .record_spot_check(&bearer.actor, &id, &result, &[])
            .await?,
    ))
}

/// A penalty decision on an institution of the supervisor's region, with its effect.
#[utoipa::path(post, path = "/api/v1/regulator/institutions/{id}/penalties", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = NewPenalty,
    responses((status = 201, body = PenaltyView)))]
pub async fn record_penalty(
    State(s): State<WebState>,
    bearer: Bearer,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<NewPenalty>,
) -> Result<(StatusCode, Json<PenaltyView>), ApiError> {
    s.app
        .require(&bearer.actor, Permission::SuperviseInstitution)
        .await?;
    let penalty = s
        .app
        .supervision()
        .record_penalty(&bearer.actor, &id, &b)
        .await?;
    Ok((StatusCode::CREATED, Json(penalty)))
}

/// An institution's credit now with its breakdown: for its staff and regulators over it.
#[utoipa::path(get, path = "/api/v1/institutions/{id}/credit", security(("bearer" = [])),
    params(("id" = String, Path)), responses((status = 200, body = CreditView)))]
pub async fn credit(
    State(s): State<WebState>,
    bearer: Bearer,
    Path(id): Path<String>,
) -> Result<Json<CreditView>, ApiError> {
    Ok(Json(
        s.app.supervision().credit_of(&bearer.actor, &id).await?,
    ))
}

/// The credit model in force.
#[utoipa::path(get, path = "/api/v1/regulator/credit-model", security(("bearer" = [])),
    responses((status = 200, body = CreditModelView)))]
pub async fn credit_model(
    State(s): State<WebState>,
    bearer: Bearer,
) -> Result<Json<CreditModelView>, ApiError> {
    s.app
        .require(&bearer.actor, Permission::SuperviseInstitution)
        .await?;
    Ok(Json(s.app.supervision().credit_model().await?))
}

/// The national supervisor sets a new credit model version.
#[utoipa::path(put, path = "/api/v1/regulator/credit-model", security(("bearer" = [])),
    request_body = CreditModelChange, responses((status = 200, body = CreditModelView)))]
pub async fn set_credit_model(
    State(s): State<WebState>,
    bearer: Bearer,
    ApiJson(b): ApiJson<CreditModelChange>,
) -> Result<Json<CreditModelView>, ApiError> {
    s.app
        .require(&bearer.actor, Permission::SuperviseInstitution)
        .await?;
    Ok(Json(
        s.app
            .supervision()
            .set_credit_model(&bearer.actor, &b)
            .await?,
    ))
}

#[derive(Debug, Deserialize, utoipa::ToSchema, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Year {
    pub year: i64,
}

/// Publishes a year's ratings of every institution in the supervisor's region.
#[utoipa::path(post, path = "/api/v1/regulator/credit/publications", security(("bearer" = [])),
    request_body = Year, responses((status = 201, description = "{\"published\": n}")))]
pub async fn publish(
    State(s): State<WebState>,
    bearer: Bearer,
    ApiJson(b): ApiJson<Year>,
) -> Result<(StatusCode, Json<serde_json::Value>), ApiError> {
    s.app
        .require(&bearer.actor, Permission::SuperviseInstitution)
        .await?;
    let n = s
        .app
        .supervision()
        .publish_credit_ratings(&bearer.actor, b.year)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(serde_json::json!({"published": n})),
    ))
}

/// A year's published ratings as CSV for the national credit system (docs/credit-export.md); audited.
#[utoipa::path(get, path = "/api/v1/regulator/credit/export", security(("bearer" = [])),
    params(Year), responses((status = 200, content_type = "text/csv", description = "docs/credit-export.md")))]
pub async fn export(
    State(s): State<WebState>,
    bearer: Bearer,
    ApiQuery(q): ApiQuery<Year>,
) -> Result<Response, ApiError> {
    s.app
        .require(&bearer.actor, Permission::SuperviseInstitution)
        .await?;
    let year = q.year;
    Ok(csv_response(
        &s.app
            .supervision()
            .credit_export(&bearer.actor, year)
            .await?,
        year,
    )?)
}

/// The export's columns, in order (docs/credit-export.md).
const EXPORT_HEADER: [&str; 10] = [
    "统一社会信用代码",
    "机构名称",
    "行政区划代码",
    "评价年度",
    "信用分",
    "信用等级",
    "等级含义",
    "模型版本",
    "发布日期",
    "扣分明细",
];

/// A CSV attachment: UTF-8 with a byte-order mark (spreadsheet programs read the Chinese headers), the rows
/// written by `write`.
pub(crate) fn csv_attachment(
    filename: &str,
    write: impl FnOnce(&mut csv::Writer<Vec<u8>>) -> csv::Result<()>,
) -> Result<Response, AppError> {
    let mut out = csv::Writer::from_writer(b"\xEF\xBB\xBF".to_vec());
    write(&mut out).map_err(|e| AppError::internal(e.to_string()))?;
    let bytes = out
        .into_inner()
        .map_err(|e| AppError::internal(e.to_string()))?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{filename}\""),
            ),
        ],
        bytes,
    )
        .into_response())
}

fn csv_response(rows: &[CreditExportRow], year: i64) -> Result<Response, AppError> {
    csv_attachment(&format!("credit-{year}.csv"), |out| {
        out.write_record(EXPORT_HEADER)?;
        for r in rows {
            out.write_record([
                r.credit_code.as_str(),
                &r.name,
                &r.region_code,
                &r.year.to_string(),
                &r.score.to_string(),
                &r.grade,
                r.grade_label,
                &r.model_version.to_string(),
                &r.published_on,
                &r.breakdown,
            ])?;
        }
        Ok(())
    })
}

// ---- pages ----

#[derive(Template, WebTemplate)]
#[template(path = "spot_checks.html")]
pub(crate) struct CampaignsPage {
    campaigns: Vec<CampaignView>,
    strata: &'static [(&'static str, &'static str)],
    csrf: String,
    error: Option<String>,
}

pub(crate) async fn campaigns_page(
    State(s): State<WebState>,
    PageSession(session): PageSession,
) -> Result<CampaignsPage, PageError> {
    s.app
        .require(&session.actor, Permission::SuperviseInstitution)
        .await?;
    Ok(CampaignsPage {
        campaigns: s
            .app
            .supervision()
            .spot_check_campaigns(&session.actor)
            .await?,
        strata: &STRATA,
        csrf: session.csrf,
        error: None,
    })
}

/// The form's fields; `strata` may repeat (one checkbox each).
#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct CampaignForm {
    csrf: String,
    name: String,
    share_percent: String,
    #[serde(default)]
    seed: String,
    #[serde(default)]
    mode: Option<String>,
    #[serde(default)]
    category: Option<String>,
    #[serde(default)]
    risk: Option<String>,
}

pub(crate) async fn create_campaign_form(
    State(s): State<WebState>,
    session: PageSession,
    Form(form): Form<CampaignForm>,
) -> Result<Response, PageError> {
    session
        .authorize(&s, &form.csrf, Permission::SuperviseInstitution)
        .await?;
    let PageSession(session) = session;
    let created = async {
        let new = NewCampaign {
            name: form.name,
            share_percent: form.share_percent.trim().parse().map_err(|_| {
                AppError::invalid("比例：1至100", "share_percent: 1 to 100").on("share_percent")
            })?,
            strata: [
                ("mode", &form.mode),
                ("category", &form.category),
                ("risk", &form.risk),
            ]
            .into_iter()
            .filter(|(_, on)| on.is_some())
            .map(|(k, _)| k.to_owned())
            .collect(),
            seed: match form.seed.trim() {
                "" => None,
                s => Some(s.parse().map_err(|_| {
                    AppError::invalid("随机种子：须为整数", "seed: a whole number").on("seed")
                })?),
            },
        };
        s.app
            .supervision()
            .create_spot_check_campaign(&session.actor, &new)
            .await
    }
    .await;
    match created {
        Ok(c) => Ok(Redirect::to(&format!("/regulator/spot-checks/{}", c.id)).into_response()),
        Err(e) => {
            let o = form_outcome::<()>(Err(e), StatusCode::OK, "")?;
            let page = CampaignsPage {
                campaigns: s
                    .app
                    .supervision()
                    .spot_check_campaigns(&session.actor)
                    .await?,
                strata: &STRATA,
                csrf: session.csrf,
                error: o.error,
            };
            Ok((o.status, page).into_response())
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "spot_check_campaign.html")]
pub(crate) struct CampaignPage {
    c: CampaignView,
}

pub(crate) async fn campaign_page(
    State(s): State<WebState>,
    PageSession(session): PageSession,
    Path(id): Path<String>,
) -> Result<CampaignPage, PageError> {
    Ok(CampaignPage {
        c: s.app
            .supervision()
            .spot_check_campaign(&session.actor, &id)
            .await?,
    })
}

#[derive(Template, WebTemplate)]
#[template(path = "spot_check.html")]
pub(crate) struct CheckPage {
    k: SpotCheckView,
    checklist: &'static [(&'static str, &'static str)],
    csrf: String,
    error: Option<String>,
}

pub(crate) async fn check_page(
    State(s): State<WebState>,
    PageSession(session): PageSession,
    Path(id): Path<String>,
) -> Result<CheckPage, PageError> {
    Ok(CheckPage {
        k: s.app.supervision().spot_check(&session.actor, &id).await?,
        checklist: &CHECKLIST,
        csrf: session.csrf,
        error: None,
    })
}

/// Multipart: `csrf`, per focus item `<item>` (`ok` or `issue`) and `<item>_note`, up to three `evidence`
/// files. A refusal stays on the form with the reason.
pub(crate) async fn record_form(
    State(s): State<WebState>,
    session: PageSession,
    Path(id): Path<String>,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Response, PageError> {
    // Who may record comes before reading what is recorded.
    s.app.supervising_region(&session.0.actor).await?;
    let mut multipart = multipart.map_err(|e| crate::error::unreadable_upload(e.body_text()))?;
    let mut fields = std::collections::HashMap::new();
    let mut files = Vec::new();
    while let Some(field) = multipart
        .next_field()
        .await
        .map_err(|e| crate::error::unreadable_upload(e.body_text()))?
    {
        let name = field.name().unwrap_or_default().to_owned();
        let filename = field.file_name().map(str::to_owned);
        let bytes = field
            .bytes()
            .await
            .map_err(|_| crate::error::unreadable_upload("unreadable upload"))?;
        if name == "evidence" {
            // A file input left empty still sends a part, with no name and no bytes.
            if !bytes.is_empty() {
                files.push(EvidenceFile {
                    filename: filename.unwrap_or_else(|| "evidence".into()),
                    bytes: bytes.to_vec(),
                });
            }
        } else {
            fields.insert(name, String::from_utf8_lossy(&bytes).into_owned());
        }
    }
    let field = |name: &str| fields.get(name).cloned().unwrap_or_default();
    session.check_csrf(&s, &field("csrf"))?;
    let PageSession(session) = session;
    let result = SpotCheckResult {
        findings: CHECKLIST
            .iter()
            .map(|(key, _)| Finding {
                item: (*key).to_owned(),
                ok: field(key) != "issue",
                note: field(&format!("{key}_note")),
            })
            .collect(),
    };
    match s
        .app
        .supervision()
        .record_spot_check(&session.actor, &id, &result, &files)
        .await
    {
        Ok(k) => {
            Ok(Redirect::to(&format!("/regulator/spot-checks/{}", k.campaign_id)).into_response())
        }
        Err(e) if matches!(e.code.status(), 400 | 409 | 413 | 415 | 422) => {
            let page = CheckPage {
                k: s.app.supervision().spot_check(&session.actor, &id).await?,
                checklist: &CHECKLIST,
                csrf: session.csrf,
                error: Some(crate::error::in_chinese(&e)),
            };
            Ok((status_of(e.code), page).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "credit.html")]
pub(crate) struct CreditPage {
    c: CreditView,
    penalties: Vec<PenaltyView>,
    checks: Vec<SpotCheckView>,
    /// `regulator` (with the penalty form) or `staff`.
    viewer: &'static str,
    /// This year, for the link to its annual inspection data.
    year: i64,
    kinds: Vec<(&'static str, &'static str)>,
    csrf: String,
    notice: Option<&'static str>,
    error: Option<String>,
}

async fn credit_page(
    s: &WebState,
    session: app::sessions::ActiveSession,
    institution_id: &str,
    viewer: &'static str,
    notice: Option<&'static str>,
    error: Option<String>,
) -> Result<CreditPage, PageError> {
    Ok(CreditPage {
        c: s.app
            .supervision()
            .credit_of(&session.actor, institution_id)
            .await?,
        penalties: s
            .app
            .supervision()
            .penalties_of(&session.actor, institution_id)
            .await?,
        checks: s
            .app
            .supervision()
            .spot_checks_of(&session.actor, institution_id)
            .await?,
        viewer,
        year: s.app.supervision().current_year(),
        kinds: PenaltyKind::ALL
            .iter()
            .map(|k| (k.as_str(), k.label()))
            .collect(),
        csrf: session.csrf,
        notice,
        error,
    })
}

pub(crate) async fn regulator_credit_page(
    State(s): State<WebState>,
    PageSession(session): PageSession,
    Path(id): Path<String>,
) -> Result<CreditPage, PageError> {
    s.app
        .require(&session.actor, Permission::ViewInstitutionPrivate)
        .await?;
    credit_page(&s, session, &id, "regulator", None, None).await
}

pub(crate) async fn institution_credit_page(
    State(s): State<WebState>,
    PageSession(session): PageSession,
) -> Result<CreditPage, PageError> {
    let app::Actor::Staff { institution_id, .. } = &session.actor else {
        return Err(AppError::new(
            ErrorCode::Forbidden,
            "仅限本机构工作人员",
            "the institution's staff only",
        )
        .into());
    };
    let id = institution_id.clone();
    credit_page(&s, session, &id, "staff", None, None).await
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct PenaltyForm {
    csrf: String,
    kind: String,
    decision_no: String,
    decided_on: String,
    #[serde(default)]
    amount_yuan: String,
    legal_basis: String,
    facts: String,
    #[serde(default)]
    in_force_until: String,
    #[serde(default)]
    publish: Option<String>,
}

pub(crate) async fn penalty_form(
    State(s): State<WebState>,
    session: PageSession,
    Path(id): Path<String>,
    Form(form): Form<PenaltyForm>,
) -> Result<Response, PageError> {
    session
        .authorize(&s, &form.csrf, Permission::SuperviseInstitution)
        .await?;
    let PageSession(session) = session;
    let outcome = async {
        let amount_fen = match form.amount_yuan.trim() {
            "" => None,
            y => Some(
                domain::Fen::parse_yuan(y)
                    .map(domain::Fen::get)
                    .ok_or_else(|| {
                        AppError::invalid(
                            "金额：以元为单位，最多两位小数",
                            "amount: yuan, at most two decimal places",
                        )
                        .on("amount")
                    })?,
            ),
        };
        let new = NewPenalty {
            kind: form.kind,
            decision_no: form.decision_no,
            decided_on: form.decided_on,
            amount_fen,
            legal_basis: form.legal_basis,
            facts: form.facts,
            in_force_until: Some(form.in_force_until).filter(|u| !u.trim().is_empty()),
            publish: Some(form.publish.is_some()),
        };
        s.app
            .supervision()
            .record_penalty(&session.actor, &id, &new)
            .await
    }
    .await;
    let o = form_outcome(outcome, StatusCode::CREATED, "处罚决定已记录。")?;
    let page = credit_page(&s, session, &id, "regulator", o.notice, o.error).await?;
    Ok((o.status, page).into_response())
}

#[derive(Template, WebTemplate)]
#[template(path = "credit_admin.html")]
pub(crate) struct CreditAdminPage {
    model: CreditModelView,
    year: i64,
    csrf: String,
    notice: Option<String>,
    error: Option<String>,
}

async fn credit_admin(
    s: &WebState,
    session: app::sessions::ActiveSession,
    notice: Option<String>,
    error: Option<String>,
) -> Result<CreditAdminPage, PageError> {
    Ok(CreditAdminPage {
        model: s.app.supervision().credit_model().await?,
        year: s.app.supervision().current_year(),
        csrf: session.csrf,
        notice,
        error,
    })
}

pub(crate) async fn credit_admin_page(
    State(s): State<WebState>,
    PageSession(session): PageSession,
) -> Result<CreditAdminPage, PageError> {
    s.app
        .require(&session.actor, Permission::SuperviseInstitution)
        .await?;
    credit_admin(&s, session, None, None).await
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct PublishForm {
    csrf: String,
    year: String,
}

pub(crate) async fn publish_form(
    State(s): State<WebState>,
    session: PageSession,
    Form(form): Form<PublishForm>,
) -> Result<Response, PageError> {
    session
        .authorize(&s, &form.csrf, Permission::SuperviseInstitution)
        .await?;
    let PageSession(session) = session;
    let published = match form.year.trim().parse::<i64>() {
        Ok(year) => {
            s.app
                .supervision()
                .publish_credit_ratings(&session.actor, year)
                .await
        }
        Err(_) => {
            Err(AppError::invalid("年度：格式如 2026", "year: a year such as 2026").on("year"))
        }
    };
    let (status, notice, error) = match published {
        Ok(n) => (
            StatusCode::CREATED,
            Some(format!("已公布 {n} 家机构的年度信用评价结果。")),
            None,
        ),
        Err(e) if matches!(e.code.status(), 400 | 409 | 422) => {
            (status_of(e.code), None, Some(crate::error::in_chinese(&e)))
        }
        Err(e) => return Err(e.into()),
    };
    Ok((status, credit_admin(&s, session, notice, error).await?).into_response())
}

pub(crate) async fn export_page(
    State(s): State<WebState>,
    PageSession(session): PageSession,
    PageQuery(q): PageQuery<Year>,
) -> Result<Response, PageError> {
    s.app
        .require(&session.actor, Permission::SuperviseInstitution)
        .await?;
    let year = q.year;
    Ok(csv_response(
        &s.app
            .supervision()
            .credit_export(&session.actor, year)
            .await?,
        year,
    )?)
}
