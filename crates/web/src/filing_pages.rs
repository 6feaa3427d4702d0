//! The institution end's sign-up and filing pages, and the reviewer's queue and decision pages.

use crate::WebState;
use crate::error::{PageError, form_outcome};
use crate::extract::PageQuery;
use crate::session_pages::PageSession;
use app::onboarding::{DOCUMENT_KINDS, Decision, FilingView, QueueItem, SignUp};
use app::views::Page;
use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{Multipart, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use domain::filing::{FIELDS, Filing, StaffEntry};
use serde::Deserialize;

/// Field paths with their Chinese names, for the reviewer's reject form.
fn field_choices() -> Vec<(&'static str, &'static str)> {
    FIELDS.to_vec()
}

#[derive(Template, WebTemplate)]
#[template(path = "join.html")]
pub(crate) struct JoinPage {
    form: JoinForm,
    error: Option<String>,
    done: bool,
}

#[derive(Clone, Default, Deserialize)]
#[serde(default)]
pub(crate) struct JoinForm {
    name: String,
    credit_code: String,
    mode: String,
    region_code: String,
    address: String,
    categories: String,
    admin_username: String,
    admin_display_name: String,
    #[serde(skip_serializing)]
    admin_password: String,
}

pub(crate) async fn join_page() -> JoinPage {
    JoinPage {
        form: JoinForm {
            mode: "offline".into(),
            ..JoinForm::default()
        },
        error: None,
        done: false,
    }
}

/// The sign-up form. No session exists yet, so no CSRF token either: the form only creates an
/// application (not public, not signed in), and the sign-in quota limits how often.
pub(crate) async fn join(State(s): State<WebState>, Form(form): Form<JoinForm>) -> Response {
    let req = SignUp {
        name: form.name.clone(),
        credit_code: form.credit_code.clone(),
        mode: form.mode.clone(),
        region_code: form.region_code.clone(),
        address: form.address.clone(),
        categories: crate::pages::list_field(&form.categories),
        admin_username: form.admin_username.clone(),
        admin_display_name: form.admin_display_name.clone(),
        admin_password: form.admin_password.clone(),
    };
    match s.app.registry().sign_up(&req).await {
        Ok(_) => (
            StatusCode::CREATED,
            JoinPage {
                form,
                error: None,
                done: true,
            },
        )
            .into_response(),
        Err(e) if e.code.status() < 500 => (
            crate::error::status_of(e.code),
            JoinPage {
                form: JoinForm {
                    admin_password: String::new(),
                    ..form
                },
                error: Some(crate::error::in_chinese(&e)),
                done: false,
            },
        )
            .into_response(),
        Err(e) => PageError(e).into_response(),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "filing.html")]
pub(crate) struct FilingPage {
    filing: FilingView,
    accounts: Vec<app::funds::SupervisedAccountView>,
    staff_lines: String,
    csrf: String,
    kinds: Vec<(&'static str, &'static str)>,
    notice: Option<&'static str>,
    error: Option<String>,
}

fn staff_lines(staff: &[StaffEntry]) -> String {
    staff
        .iter()
        .map(|s| {
            format!(
                "{},{},{},{}",
                s.name,
                s.role,
                if s.subject_teacher { "是" } else { "否" },
                s.teacher_cert_no
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

async fn filing_page(
    s: &WebState,
    session: app::sessions::ActiveSession,
    notice: Option<&'static str>,
    error: Option<String>,
) -> Result<FilingPage, PageError> {
    let filing = s.app.registry().my_filing(&session.actor).await?;
    Ok(FilingPage {
        accounts: s.app.money().my_supervised_accounts(&session.actor).await?,
        staff_lines: staff_lines(&filing.data.organisation.staff),
        filing,
        csrf: session.csrf,
        kinds: DOCUMENT_KINDS.to_vec(),
        notice,
        error,
    })
}

pub(crate) async fn filing(
    State(s): State<WebState>,
    PageSession(session): PageSession,
) -> Result<FilingPage, PageError> {
    filing_page(&s, session, None, None).await
}

/// The filing form, flat: one input per field, and the staff as lines of
/// `姓名,teaching|research|other,是|否,教师资格证号`.
#[derive(Default, Deserialize)]
#[serde(default)]
pub(crate) struct FilingForm {
    csrf: String,
    name: String,
    legal_representative: String,
    school_licence_no: String,
    school_licence_expires: String,
    legal_person_cert_no: String,
    legal_person_cert_expires: String,
    address: String,
    tenure: String,
    lease_expires: String,
    health_cert_no: String,
    health_cert_expires: String,
    fire_cert_no: String,
    fire_cert_expires: String,
    party_building: String,
    training_materials: String,
    staff: String,
    courses_summary: String,
    bank_name: String,
    payment_channels: String,
    notes: String,
}

impl FilingForm {
    fn into_filing(self) -> Filing {
        let staff = self
            .staff
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|line| {
                let mut parts = line.split([',', '，']).map(str::trim);
                StaffEntry {
                    name: parts.next().unwrap_or_default().to_owned(),
                    role: parts.next().unwrap_or_default().to_owned(),
                    subject_teacher: parts.next() == Some("是"),
                    teacher_cert_no: parts.next().unwrap_or_default().to_owned(),
                }
            })
            .collect();
        let mut f = Filing::default();
        f.basic.name = self.name;
        f.basic.legal_representative = self.legal_representative;
        f.licence.school_licence_no = self.school_licence_no;
        f.licence.school_licence_expires = self.school_licence_expires;
        f.licence.legal_person_cert_no = self.legal_person_cert_no;
        f.licence.legal_person_cert_expires = self.legal_person_cert_expires;
        f.premises.address = self.address;
        f.premises.tenure = self.tenure;
        f.premises.lease_expires = self.lease_expires;
        f.premises.health_cert_no = self.health_cert_no;
        f.premises.health_cert_expires = self.health_cert_expires;
        f.premises.fire_cert_no = self.fire_cert_no;
        f.premises.fire_cert_expires = self.fire_cert_expires;
        f.organisation.party_building = self.party_building;
        f.organisation.training_materials = self.training_materials;
        f.organisation.staff = staff;
        f.courses.summary = self.courses_summary;
        f.funds.bank_name = self.bank_name;
        f.funds.payment_channels = self.payment_channels;
        f.other.notes = self.notes;
        f
    }
}

/// Shows the filing page again with the outcome of an action.
async fn after<T>(
    s: &WebState,
    session: app::sessions::ActiveSession,
    outcome: Result<T, app::AppError>,
    done: &'static str,
) -> Response {
    let o = match form_outcome(outcome, StatusCode::OK, done) {
        Ok(o) => o,
        Err(r) => return r.into_response(),
    };
    match filing_page(s, session, o.notice, o.error).await {
        Ok(page) => (o.status, page).into_response(),
        Err(e) => e.into_response(),
    }
}

pub(crate) async fn save(
    State(s): State<WebState>,
    session: PageSession,
    Form(form): Form<FilingForm>,
) -> Response {
    if let Err(r) = session.check_csrf(&s, &form.csrf) {
        return r.into_response();
    }
    let PageSession(session) = session;
    let outcome = s
        .app
        .registry()
        .save_filing(&session.actor, &form.into_filing())
        .await;
    after(&s, session, outcome, "草稿已保存。").await
}

#[derive(Deserialize)]
pub(crate) struct CsrfOnly {
    #[serde(default)]
    csrf: String,
}

pub(crate) async fn submit(
    State(s): State<WebState>,
    session: PageSession,
    Form(form): Form<CsrfOnly>,
) -> Response {
    if let Err(r) = session.check_csrf(&s, &form.csrf) {
        return r.into_response();
    }
    let PageSession(session) = session;
    let outcome = s.app.registry().submit_filing(&session.actor).await;
    after(&s, session, outcome, "已提交，等待主管部门审核。").await
}

/// A multipart upload: `csrf`, `kind` and `file`.
pub(crate) async fn upload(
    State(s): State<WebState>,
    session: PageSession,
    multipart: Result<Multipart, MultipartRejection>,
) -> Response {
    // Who may upload comes before reading what is uploaded.
    if let Err(e) = s
        .app
        .require(&session.0.actor, domain::access::Permission::EditOwnFiling)
        .await
    {
        return PageError(e).into_response();
    }
    let mut multipart = match multipart {
        Ok(m) => m,
        Err(e) => {
            return PageError(crate::error::unreadable_upload(e.body_text())).into_response();
        }
    };
    let (mut csrf, mut kind, mut file) = (String::new(), String::new(), None);
    loop {
        match multipart.next_field().await {
            Ok(Some(field)) => {
                let name = field.name().unwrap_or_default().to_owned();
                let filename = field.file_name().map(str::to_owned);
                let Ok(bytes) = field.bytes().await else {
                    return PageError(crate::error::unreadable_upload("unreadable upload"))
                        .into_response();
                };
                match name.as_str() {
                    "csrf" => csrf = String::from_utf8_lossy(&bytes).into_owned(),
                    "kind" => kind = String::from_utf8_lossy(&bytes).into_owned(),
                    "file" => file = Some((filename.unwrap_or_else(|| "document".into()), bytes)),
                    _ => {}
                }
            }
            Ok(None) => break,
            Err(e) => {
                return PageError(crate::error::unreadable_upload(e.body_text())).into_response();
            }
        }
    }
    if let Err(r) = session.check_csrf(&s, &csrf) {
        return r.into_response();
    }
    let PageSession(session) = session;
    let (filename, bytes) = file.unwrap_or_default();
    let outcome = s
        .app
        .registry()
        .upload_document(&session.actor, &kind, &filename, &bytes)
        .await;
    after(&s, session, outcome, "材料已上传。").await
}

/// A filed document's bytes (the institution's staff; regulators over its region).
pub(crate) async fn document(
    State(s): State<WebState>,
    PageSession(session): PageSession,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let (view, bytes) = s.app.registry().document(&session.actor, &id).await?;
    Ok(crate::filing_api::document_response(&view, bytes))
}

#[derive(Template, WebTemplate)]
#[template(path = "reviews.html")]
pub(crate) struct ReviewsPage {
    queue: Page<QueueItem>,
}

#[derive(Deserialize)]
pub(crate) struct ReviewsQuery {
    kind: Option<String>,
    page: Option<i64>,
}

pub(crate) async fn reviews(
    State(s): State<WebState>,
    PageSession(session): PageSession,
    PageQuery(q): PageQuery<ReviewsQuery>,
) -> Result<ReviewsPage, PageError> {
    let paging = domain::Paging::new(q.page, None).map_err(app::AppError::from)?;
    Ok(ReviewsPage {
        queue: s
            .app
            .registry()
            .review_queue(&session.actor, q.kind.as_deref(), paging)
            .await?,
    })
}

#[derive(Template, WebTemplate)]
#[template(path = "review.html")]
pub(crate) struct ReviewPage {
    filing: FilingView,
    csrf: String,
    fields: Vec<(&'static str, &'static str)>,
    notice: Option<&'static str>,
    error: Option<String>,
}

async fn review_page(
    s: &WebState,
    session: app::sessions::ActiveSession,
    id: &str,
    notice: Option<&'static str>,
    error: Option<String>,
) -> Result<ReviewPage, PageError> {
    Ok(ReviewPage {
        filing: s
            .app
            .registry()
            .filing_for_review(&session.actor, id)
            .await?,
        csrf: session.csrf,
        fields: field_choices(),
        notice,
        error,
    })
}

pub(crate) async fn review(
    State(s): State<WebState>,
    PageSession(session): PageSession,
    Path(id): Path<String>,
) -> Result<ReviewPage, PageError> {
    review_page(&s, session, &id, None, None).await
}

/// Approve, or reject naming up to three fields with their reasons.
#[derive(Default, Deserialize)]
#[serde(default)]
pub(crate) struct DecisionForm {
    csrf: String,
    decision: String,
    field1: String,
    reason1: String,
    field2: String,
    reason2: String,
    field3: String,
    reason3: String,
}

pub(crate) async fn decide(
    State(s): State<WebState>,
    session: PageSession,
    Path(id): Path<String>,
    Form(form): Form<DecisionForm>,
) -> Response {
    if let Err(r) = session
        .authorize(&s, &form.csrf, domain::access::Permission::ReviewFiling)
        .await
    {
        return r.into_response();
    }
    let PageSession(session) = session;
    let field_reasons = [
        (form.field1, form.reason1),
        (form.field2, form.reason2),
        (form.field3, form.reason3),
    ]
    .into_iter()
    .filter(|(f, _)| !f.is_empty())
    .collect();
    let decision = Decision {
        approve: form.decision == "approve",
        field_reasons,
    };
    let done = if decision.approve {
        "已审核通过，机构已列入名录（资金监管确认前为灰名单）。"
    } else {
        "已退回，机构将按所列原因修改后重新提交。"
    };
    let result = s
        .app
        .registry()
        .decide_filing(&session.actor, &id, &decision)
        .await;
    let o = match form_outcome(result, StatusCode::OK, done) {
        Ok(o) => o,
        Err(r) => return r.into_response(),
    };
    match review_page(&s, session, &id, o.notice, o.error).await {
        Ok(page) => (o.status, page).into_response(),
        Err(e) => e.into_response(),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "staff.html")]
pub(crate) struct StaffPage {
    staff: Vec<app::staff::StaffMemberView>,
    /// The filed record checks (id, file name) a hire can cite.
    record_checks: Vec<(String, String)>,
    csrf: String,
    notice: Option<&'static str>,
    error: Option<String>,
}

async fn staff_page(
    s: &WebState,
    session: app::sessions::ActiveSession,
    notice: Option<&'static str>,
    error: Option<String>,
) -> Result<StaffPage, PageError> {
    let staff = s.app.registry().staff_register(&session.actor).await?;
    let record_checks = s
        .app
        .registry()
        .my_filing(&session.actor)
        .await?
        .documents
        .into_iter()
        .filter(|d| d.kind == "record_check")
        .map(|d| (d.id, d.filename))
        .collect();
    Ok(StaffPage {
        staff,
        record_checks,
        csrf: session.csrf,
        notice,
        error,
    })
}

pub(crate) async fn staff(
    State(s): State<WebState>,
    PageSession(session): PageSession,
) -> Result<StaffPage, PageError> {
    staff_page(&s, session, None, None).await
}

#[derive(Default, Deserialize)]
#[serde(default)]
pub(crate) struct HireForm {
    csrf: String,
    name: String,
    id_card: String,
    role: String,
    subject_teacher: Option<String>,
    teacher_cert_no: String,
    serving_school_teacher: Option<String>,
    record_check_document: String,
}

pub(crate) async fn hire(
    State(s): State<WebState>,
    session: PageSession,
    Form(form): Form<HireForm>,
) -> Response {
    if let Err(r) = session.check_csrf(&s, &form.csrf) {
        return r.into_response();
    }
    let PageSession(session) = session;
    let hire = app::staff::Hire {
        name: form.name,
        id_card: form.id_card,
        role: form.role,
        subject_teacher: form.subject_teacher.is_some(),
        teacher_cert_no: form.teacher_cert_no,
        serving_school_teacher: form.serving_school_teacher.is_some(),
        record_check_document: form.record_check_document,
    };
    let result = s.app.registry().hire_staff(&session.actor, &hire).await;
    let done = "已登记聘用，入职查询待主管部门确认。";
    let o = match form_outcome(result, StatusCode::CREATED, done) {
        Ok(o) => o,
        Err(r) => return r.into_response(),
    };
    match staff_page(&s, session, o.notice, o.error).await {
        Ok(page) => (o.status, page).into_response(),
        Err(e) => e.into_response(),
    }
}

/// 离职: the admin records that a staff member left.
pub(crate) async fn staff_left(
    State(s): State<WebState>,
    session: PageSession,
    Path(id): Path<String>,
    Form(form): Form<CsrfOnly>,
) -> Response {
    if let Err(r) = session.check_csrf(&s, &form.csrf) {
        return r.into_response();
    }
    let PageSession(session) = session;
    let result = s.app.registry().staff_left(&session.actor, &id).await;
    let o = match form_outcome(result, StatusCode::OK, "已登记离职。") {
        Ok(o) => o,
        Err(r) => return r.into_response(),
    };
    match staff_page(&s, session, o.notice, o.error).await {
        Ok(page) => (o.status, page).into_response(),
        Err(e) => e.into_response(),
    }
}

#[derive(Default, Deserialize)]
#[serde(default)]
pub(crate) struct BindForm {
    csrf: String,
    bank_id: String,
    account_no: String,
    mode: String,
}

/// The admin asks its bank to confirm a supervised account.
pub(crate) async fn bind_account(
    State(s): State<WebState>,
    session: PageSession,
    Form(form): Form<BindForm>,
) -> Response {
    if let Err(r) = session.check_csrf(&s, &form.csrf) {
        return r.into_response();
    }
    let PageSession(session) = session;
    let req = app::funds::BindRequest {
        bank_id: form.bank_id,
        account_no: form.account_no,
        mode: form.mode,
    };
    let outcome = s
        .app
        .money()
        .request_supervised_account(&session.actor, &req)
        .await;
    after(&s, session, outcome, "已提交银行确认。").await
}
