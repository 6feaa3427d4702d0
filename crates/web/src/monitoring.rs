//! 重点监测 over HTTP: a regulator's per-institution monitoring views as JSON, pages, CSV and XLSX; the
//! institution files its financial statements and records staff who left. Rules are `app::monitoring`'s.

use crate::WebState;
use crate::auth_api::Bearer;
use crate::error::{ApiError, PageError, Problem, form_outcome};
use crate::extract::{ApiQuery, PageQuery};
use crate::session_pages::PageSession;
use app::field_label;
use app::monitoring::{
    Cell, ColumnKind, FOCUS, FinancialStatementView, MonitoringTable, NewFinancialStatement,
};
use app::staff::StaffMemberView;
use app::{AppError, ErrorCode};
use askama::Template;
use askama_web::WebTemplate;
use axum::Json;
use axum::body::Bytes;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{Multipart, Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use domain::Fen;
use domain::access::Permission;
use serde::Deserialize;

fn export_failed(e: impl std::fmt::Display) -> AppError {
    AppError::internal(format!("export: {e}"))
}

/// CSV, UTF-8 with a byte-order mark so that spreadsheet programs read the Chinese headers right.
fn csv_bytes(table: &MonitoringTable) -> Result<Vec<u8>, AppError> {
    let mut out = csv::Writer::from_writer(b"\xEF\xBB\xBF".to_vec());
    out.write_record(table.columns.iter().map(|c| c.label))
        .map_err(export_failed)?;
    for row in &table.rows {
        out.write_record(
            row.iter()
                .zip(&table.columns)
                .map(|(cell, col)| cell.display(col.kind)),
        )
        .map_err(export_failed)?;
    }
    out.into_inner().map_err(export_failed)
}

/// XLSX with typed cells: amounts and counts are numbers a regulator can sum. A spreadsheet stores every
/// number as a double; an amount goes in as its exact yuan decimal, as if typed, shown with two decimals.
fn xlsx_bytes(table: &MonitoringTable) -> Result<Vec<u8>, AppError> {
    use rust_xlsxwriter::{Format, Workbook};
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    sheet.set_name(table.title).map_err(export_failed)?;
    let bold = Format::new().set_bold();
    let money = Format::new().set_num_format("#,##0.00");
    for (c, col) in table.columns.iter().enumerate() {
        let c = u16::try_from(c).map_err(export_failed)?;
        sheet
            .write_string_with_format(0, c, col.label, &bold)
            .map_err(export_failed)?;
        sheet.set_column_width(c, 16).map_err(export_failed)?;
    }
    for (r, row) in table.rows.iter().enumerate() {
        let r = u32::try_from(r + 1).map_err(export_failed)?;
        for (c, (cell, col)) in row.iter().zip(&table.columns).enumerate() {
            let c = u16::try_from(c).map_err(export_failed)?;
            match (cell, col.kind) {
                (Cell::Number(fen), ColumnKind::Fen) => {
                    let yuan: f64 = Fen::new(*fen).to_string().parse().map_err(export_failed)?;
                    sheet.write_number_with_format(r, c, yuan, &money)
                }
                (Cell::Number(n), _) => sheet.write_number(r, c, *n as f64),
                (Cell::Text(t), _) => sheet.write_string(r, c, t),
            }
            .map_err(export_failed)?;
        }
    }
    book.save_to_buffer().map_err(export_failed)
}

/// The table as a download.
fn export_response(table: &MonitoringTable, format: &str) -> Result<Response, AppError> {
    let (bytes, content_type) = match format {
        "csv" => (csv_bytes(table)?, "text/csv; charset=utf-8"),
        _ => (
            xlsx_bytes(table)?,
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ),
    };
    let disposition = format!(
        "attachment; filename=\"monitoring-{}-{}.{format}\"",
        table.focus, table.institution_id
    );
    Ok((
        [
            (header::CONTENT_TYPE, content_type.to_owned()),
            (header::CONTENT_DISPOSITION, disposition),
            (header::CACHE_CONTROL, "private, no-store".to_owned()),
        ],
        bytes,
    )
        .into_response())
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(default)]
pub struct MonitoringQuery {
    /// `json` (the default), `csv` or `xlsx`; an export is written to the audit log.
    format: Option<String>,
}

/// One monitoring focus item of an institution (`statements`, `staff`, `orders`, `movements`, `changes`),
/// newest first and at most 10,000 rows, for the regulators over its region.
#[utoipa::path(
    get,
    path = "/api/v1/regulator/institutions/{id}/monitoring/{focus}",
    security(("bearer" = [])),
    params(("id" = String, Path), ("focus" = String, Path), MonitoringQuery),
    responses(
        (status = 200, body = MonitoringTable, description = "JSON, or the CSV / XLSX file"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn monitoring(
    State(s): State<WebState>,
    bearer: Bearer,
    Path((id, focus)): Path<(String, String)>,
    ApiQuery(q): ApiQuery<MonitoringQuery>,
) -> Result<Response, ApiError> {
    s.app
        .require(&bearer.actor, Permission::ViewInstitutionPrivate)
        .await?;
    let format = q.format.unwrap_or_else(|| "json".into());
    if format == "json" {
        return Ok(Json(
            s.app
                .supervision()
                .monitoring_table(&bearer.actor, &id, &focus)
                .await?,
        )
        .into_response());
    }
    let table = s
        .app
        .supervision()
        .monitoring_export(&bearer.actor, &id, &focus, &format)
        .await?;
    Ok(export_response(&table, &format)?)
}

/// 财务报表: file the institution's statements for a period; the document (PDF, JPEG or PNG, at most
/// 10 MB) is the body, the figures (fen) and its file name the query.
#[utoipa::path(
    post,
    path = "/api/v1/institution/financial-statements",
    security(("bearer" = [])),
    params(NewFinancialStatement),
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    responses(
        (status = 201, body = FinancialStatementView),
        (status = 415, description = "document_rejected", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn file_statement(
    State(s): State<WebState>,
    bearer: Bearer,
    ApiQuery(statement): ApiQuery<NewFinancialStatement>,
    bytes: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<(StatusCode, Json<FinancialStatementView>), ApiError> {
    s.app
        .require(&bearer.actor, Permission::EditOwnFiling)
        .await?;
    let bytes = crate::error::document(bytes)?;
    let filed = s
        .app
        .supervision()
        .file_financial_statement(&bearer.actor, &statement, &bytes)
        .await?;
    Ok((StatusCode::CREATED, Json(filed)))
}

/// The institution's filed statements, newest first.
#[utoipa::path(
    get,
    path = "/api/v1/institution/financial-statements",
    security(("bearer" = [])),
    responses((status = 200, body = Vec<FinancialStatementView>))
)]
pub async fn statements(
    State(s): State<WebState>,
    bearer: Bearer,
) -> Result<Json<Vec<FinancialStatementView>>, ApiError> {
    Ok(Json(
        s.app
            .supervision()
            .my_financial_statements(&bearer.actor)
            .await?,
    ))
}

/// 离职: a staff member left the institution; the register keeps them with the date.
#[utoipa::path(
    post,
    path = "/api/v1/institution/staff-members/{id}/left",
    security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = StaffMemberView), (status = 404, body = Problem, content_type = "application/problem+json"))
)]
pub async fn staff_left(
    State(s): State<WebState>,
    bearer: Bearer,
    Path(id): Path<String>,
) -> Result<Json<StaffMemberView>, ApiError> {
    Ok(Json(s.app.registry().staff_left(&bearer.actor, &id).await?))
}

#[derive(Template, WebTemplate)]
#[template(path = "monitoring.html")]
pub(crate) struct MonitoringPage {
    table: MonitoringTable,
    focus: &'static [(&'static str, &'static str)],
}

impl MonitoringPage {
    fn cell(&self, cell: &Cell, column: &usize) -> String {
        self.table
            .columns
            .get(*column)
            .map_or_else(String::new, |c| cell.display(c.kind))
    }

    fn numeric(&self, column: &usize) -> bool {
        self.table
            .columns
            .get(*column)
            .is_some_and(|c| c.kind != ColumnKind::Text)
    }
}

#[derive(Default, Deserialize)]
#[serde(default)]
pub(crate) struct FocusQuery {
    focus: Option<String>,
    format: Option<String>,
}

pub(crate) async fn monitoring_page(
    State(s): State<WebState>,
    PageSession(session): PageSession,
    Path(id): Path<String>,
    PageQuery(q): PageQuery<FocusQuery>,
) -> Result<MonitoringPage, PageError> {
    s.app
        .require(&session.actor, Permission::ViewInstitutionPrivate)
        .await?;
    let focus = q.focus.unwrap_or_else(|| "orders".into());
    Ok(MonitoringPage {
        table: s
            .app
            .supervision()
            .monitoring_table(&session.actor, &id, &focus)
            .await?,
        focus: FOCUS,
    })
}

pub(crate) async fn monitoring_export(
    State(s): State<WebState>,
    PageSession(session): PageSession,
    Path(id): Path<String>,
    PageQuery(q): PageQuery<FocusQuery>,
) -> Result<Response, PageError> {
    s.app
        .require(&session.actor, Permission::ViewInstitutionPrivate)
        .await?;
    let format = q.format.unwrap_or_default();
    let focus = q.focus.unwrap_or_default();
    let table = s
        .app
        .supervision()
        .monitoring_export(&session.actor, &id, &focus, &format)
        .await?;
    Ok(export_response(&table, &format)?)
}

#[derive(Template, WebTemplate)]
#[template(path = "statements.html")]
pub(crate) struct StatementsPage {
    statements: Vec<FinancialStatementView>,
    csrf: String,
    notice: Option<&'static str>,
    error: Option<String>,
}

impl StatementsPage {
    fn yuan(&self, fen: &i64) -> String {
        domain::money::yuan(*fen)
    }
}

async fn statements_page(
    s: &WebState,
    session: app::sessions::ActiveSession,
    notice: Option<&'static str>,
    error: Option<String>,
) -> Result<StatementsPage, PageError> {
    Ok(StatementsPage {
        statements: s
            .app
            .supervision()
            .my_financial_statements(&session.actor)
            .await?,
        csrf: session.csrf,
        notice,
        error,
    })
}

pub(crate) async fn statements_view(
    State(s): State<WebState>,
    PageSession(session): PageSession,
) -> Result<StatementsPage, PageError> {
    s.app
        .require(&session.actor, Permission::EditOwnFiling)
        .await?;
    statements_page(&s, session, None, None).await
}

/// Multipart: `csrf`, `period`, the four figures in yuan, and `file`.
pub(crate) async fn file_statement_form(
    State(s): State<WebState>,
    session: PageSession,
    multipart: Result<Multipart, MultipartRejection>,
) -> Response {
    // Who may file comes before reading what is filed.
    if let Err(e) = s
        .app
        .require(&session.0.actor, Permission::EditOwnFiling)
        .await
    {
        return PageError(e).into_response();
    }
    let bad = |detail: String| PageError(crate::error::unreadable_upload(detail));
    let mut multipart = match multipart {
        Ok(m) => m,
        Err(e) => return bad(e.body_text()).into_response(),
    };
    let mut fields = std::collections::HashMap::new();
    let mut file = None;
    loop {
        match multipart.next_field().await {
            Ok(Some(field)) => {
                let name = field.name().unwrap_or_default().to_owned();
                let filename = field.file_name().map(str::to_owned);
                let Ok(bytes) = field.bytes().await else {
                    return bad("unreadable upload".into()).into_response();
                };
                if name == "file" {
                    file = Some((filename.unwrap_or_else(|| "statement".into()), bytes));
                } else {
                    fields.insert(name, String::from_utf8_lossy(&bytes).into_owned());
                }
            }
            Ok(None) => break,
            Err(e) => return bad(e.body_text()).into_response(),
        }
    }
    let field = |name: &str| fields.get(name).cloned().unwrap_or_default();
    if let Err(r) = session.check_csrf(&s, &field("csrf")) {
        return r.into_response();
    }
    let PageSession(session) = session;
    let (filename, bytes) = file.unwrap_or_default();
    let outcome = async {
        let fen = |name: &str| {
            Fen::parse_yuan(&field(name)).map(Fen::get).ok_or_else(|| {
                AppError::new(
                    ErrorCode::InvalidParameter,
                    format!("{}：以元为单位，最多两位小数", field_label(name)),
                    format!("{name}: yuan, at most two decimal places"),
                )
                .on(name)
            })
        };
        let statement = NewFinancialStatement {
            period: field("period"),
            revenue_fen: fen("revenue")?,
            expenses_fen: fen("expenses")?,
            net_assets_fen: fen("net_assets")?,
            prepaid_fen: fen("prepaid")?,
            filename,
        };
        s.app
            .supervision()
            .file_financial_statement(&session.actor, &statement, &bytes)
            .await
    }
    .await;
    let o = match form_outcome(outcome, StatusCode::CREATED, "财务报表已报送。") {
        Ok(o) => o,
        Err(r) => return r.into_response(),
    };
    match statements_page(&s, session, o.notice, o.error).await {
        Ok(page) => (o.status, page).into_response(),
        Err(e) => e.into_response(),
    }
}
