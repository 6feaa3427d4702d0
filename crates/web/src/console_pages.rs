//! The regulator end's pages: the console with the institutions of the regulator's region, an
//! institution's audit trail, and account administration (also for an institution's admin). Who may see
//! what is decided in `app`; a refusal is a friendly 403 page.

use crate::WebState;
use crate::error::{PageError, form_outcome};
use crate::extract::PageQuery;
use crate::pages::Pager;
use crate::session_pages::PageSession;
use app::admin::{
    AccountChange, AccountSummary, CreatedAccount, NewRegulatorRequest, NewSchoolAccountRequest,
    NewStaffRequest,
};
use app::auth::ActorView;
use app::oversight::{AuditEntryView, AuditLogPage, PiiAccessView, RegulatorOverview};
use app::registry::RawSearch;
use app::security::{SecurityPolicy, SecurityPolicyChange, SecurityPolicyView};
use app::views::{InstitutionDetail, Page};
use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use domain::access::{Permission, RegulatorRole, StaffRole, role_label};
use serde::Deserialize;

#[derive(Template, WebTemplate)]
#[template(path = "regulator.html")]
pub(crate) struct RegulatorPage {
    view: ActorView,
    overview: RegulatorOverview,
    q: String,
    pager: Pager,
    csrf: String,
    supervises: bool,
}

pub(crate) async fn console(
    State(s): State<WebState>,
    PageSession(session): PageSession,
    PageQuery(raw): PageQuery<RawSearch>,
) -> Result<RegulatorPage, PageError> {
    let overview = s
        .app
        .supervision()
        .regulator_overview(&session.actor, &raw)
        .await?;
    let q = raw.q.unwrap_or_default();
    let region = raw.region.unwrap_or_default();
    let pager = Pager::new(
        "/regulator",
        &overview.institutions,
        &[("q", &q), ("region", &region)],
    );
    Ok(RegulatorPage {
        supervises: session.actor.has(Permission::SuperviseInstitution),
        csrf: session.csrf,
        view: session.view,
        overview,
        q,
        pager,
    })
}

#[derive(Template, WebTemplate)]
#[template(path = "regulator_institution.html")]
pub(crate) struct InstitutionPage {
    institution: InstitutionDetail,
    trail: Vec<AuditEntryView>,
    staff: Vec<app::staff::StaffMemberView>,
    csrf: String,
    /// Supervisors act here (list moves, removal); reviewers only read.
    supervises: bool,
    notice: Option<&'static str>,
    error: Option<String>,
}

async fn institution_page(
    s: &WebState,
    session: app::sessions::ActiveSession,
    id: &str,
    notice: Option<&'static str>,
    error: Option<String>,
) -> Result<InstitutionPage, PageError> {
    // The trail checks the region first; only then is anything about the institution read.
    let trail = s
        .app
        .supervision()
        .institution_audit_trail(&session.actor, id)
        .await?;
    Ok(InstitutionPage {
        institution: s.app.registry().institution_detail(id).await?,
        staff: s
            .app
            .registry()
            .staff_for_regulator(&session.actor, id)
            .await?,
        trail,
        supervises: session.actor.has(Permission::SuperviseInstitution),
        csrf: session.csrf,
        notice,
        error,
    })
}

pub(crate) async fn institution(
    State(s): State<WebState>,
    PageSession(session): PageSession,
    Path(id): Path<String>,
) -> Result<InstitutionPage, PageError> {
    institution_page(&s, session, &id, None, None).await
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct SupervisionForm {
    csrf: String,
    to: String,
    reason: String,
    decision_no: String,
    decided_on: String,
    publish: Option<String>,
}

/// Shows the institution again with the outcome of a supervisor's action.
async fn after_action(
    s: &WebState,
    session: PageSession,
    id: &str,
    form_csrf: &str,
    done: &'static str,
    action: impl std::future::Future<Output = Result<(), app::AppError>>,
) -> Response {
    if let Err(r) = session.check_csrf(s, form_csrf) {
        return r.into_response();
    }
    let PageSession(session) = session;
    let o = match form_outcome(action.await, StatusCode::OK, done) {
        Ok(o) => o,
        Err(r) => return r.into_response(),
    };
    match institution_page(s, session, id, o.notice, o.error).await {
        Ok(page) => (o.status, page).into_response(),
        Err(e) => e.into_response(),
    }
}

pub(crate) async fn move_to_list(
    State(s): State<WebState>,
    session: PageSession,
    Path(id): Path<String>,
    Form(form): Form<SupervisionForm>,
) -> Response {
    let req = app::supervision::ListMove {
        to: form.to,
        reason: form.reason,
    };
    let actor = session.0.actor.clone();
    let action = async {
        s.app
            .require(&actor, Permission::SuperviseInstitution)
            .await?;
        s.app.supervision().move_to_list(&actor, &id, &req).await
    };
    after_action(
        &s,
        session,
        &id,
        &form.csrf,
        "名单已调整，公众页面已同步更新。",
        action,
    )
    .await
}

pub(crate) async fn remove(
    State(s): State<WebState>,
    session: PageSession,
    Path(id): Path<String>,
    Form(form): Form<SupervisionForm>,
) -> Response {
    let req = app::supervision::Removal {
        reason: form.reason,
        decision_no: form.decision_no,
        decided_on: form.decided_on,
        publish: form.publish.is_some(),
    };
    let actor = session.0.actor.clone();
    let action = async {
        s.app
            .require(&actor, Permission::SuperviseInstitution)
            .await?;
        s.app
            .supervision()
            .remove_institution(&actor, &id, &req)
            .await
    };
    after_action(
        &s,
        session,
        &id,
        &form.csrf,
        "机构已撤除，码牌已撤销。",
        action,
    )
    .await
}

#[derive(Template, WebTemplate)]
#[template(path = "accounts.html")]
pub(crate) struct AccountsPage {
    pager: Pager,
    view: ActorView,
    csrf: String,
    accounts: Page<AccountSummary>,
    /// (value, 中文) for the role selector.
    regulator_roles: Vec<(&'static str, &'static str)>,
    staff_roles: Vec<(&'static str, &'static str)>,
    created: Option<(String, CreatedAccount)>,
    error: Option<&'static str>,
}

#[derive(Deserialize)]
pub(crate) struct AccountsQuery {
    page: Option<i64>,
}

async fn accounts_page(
    s: &WebState,
    session: app::sessions::ActiveSession,
    page: Option<i64>,
    created: Option<(String, CreatedAccount)>,
    error: Option<&'static str>,
) -> Result<AccountsPage, PageError> {
    let paging = domain::Paging::new(page, Some(50)).map_err(app::AppError::from)?;
    let accounts = s
        .app
        .identity()
        .managed_accounts(&session.actor, false, paging)
        .await?;
    Ok(AccountsPage {
        pager: Pager::new("/admin/accounts", &accounts, &[]),
        accounts,
        view: session.view,
        csrf: session.csrf,
        regulator_roles: RegulatorRole::ALL
            .map(|r| (r.as_str(), role_label(r.as_str())))
            .to_vec(),
        staff_roles: StaffRole::ALL
            .map(|r| (r.as_str(), role_label(r.as_str())))
            .to_vec(),
        created,
        error,
    })
}

pub(crate) async fn accounts(
    State(s): State<WebState>,
    PageSession(session): PageSession,
    PageQuery(q): PageQuery<AccountsQuery>,
) -> Result<AccountsPage, PageError> {
    accounts_page(&s, session, q.page, None, None).await
}

#[derive(Deserialize)]
pub(crate) struct NewAccountForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    username: String,
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    region_code: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    school_name: String,
}

/// Creates a regulator (for a regulator's system administrator) or a staff account (for an institution's
/// admin), then shows the list with the new account's authenticator enrolment, once.
pub(crate) async fn create_account(
    State(s): State<WebState>,
    session: PageSession,
    Form(form): Form<NewAccountForm>,
) -> Response {
    if let Err(r) = session
        .authorize(&s, &form.csrf, Permission::ManageAccounts)
        .await
    {
        return r.into_response();
    }
    let PageSession(session) = session;
    let outcome = if session.view.kind == "regulator" && form.role == "school" {
        let req = NewSchoolAccountRequest {
            username: form.username.clone(),
            display_name: form.display_name,
            password: form.password,
            region_code: form.region_code,
            school_name: form.school_name,
        };
        s.app
            .identity()
            .create_school_account(&session.actor, &req)
            .await
    } else if session.view.kind == "staff" {
        let req = NewStaffRequest {
            username: form.username.clone(),
            display_name: form.display_name,
            password: form.password,
            role: form.role,
        };
        s.app.identity().create_staff(&session.actor, &req).await
    } else {
        let req = NewRegulatorRequest {
            username: form.username.clone(),
            display_name: form.display_name,
            password: form.password,
            region_code: form.region_code,
            role: form.role,
        };
        s.app
            .identity()
            .create_regulator(&session.actor, &req)
            .await
    };
    let (status, created, error) = match outcome {
        Ok(created) => (StatusCode::CREATED, Some((form.username, created)), None),
        Err(e) if matches!(e.code.status(), 400 | 409 | 422) => (
            crate::error::status_of(e.code),
            None,
            Some(e.code.message_zh()),
        ),
        Err(e) => return PageError(e).into_response(),
    };
    match accounts_page(&s, session, None, created, error).await {
        Ok(page) => (status, page).into_response(),
        Err(e) => e.into_response(),
    }
}

#[derive(Deserialize)]
pub(crate) struct ChangeForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    reason: String,
}

async fn set_enabled(
    s: WebState,
    session: PageSession,
    id: String,
    enabled: bool,
    form: ChangeForm,
) -> Response {
    if let Err(r) = session.check_csrf(&s, &form.csrf) {
        return r.into_response();
    }
    let PageSession(session) = session;
    let change = AccountChange {
        reason: form.reason,
    };
    match s
        .app
        .identity()
        .set_account_enabled(&session.actor, &id, enabled, &change)
        .await
    {
        Ok(_) => Redirect::to("/admin/accounts").into_response(),
        Err(e) if e.code.status() == 400 => {
            match accounts_page(&s, session, None, None, Some(e.code.message_zh())).await {
                Ok(page) => (StatusCode::BAD_REQUEST, page).into_response(),
                Err(e) => e.into_response(),
            }
        }
        Err(e) => PageError(e).into_response(),
    }
}

pub(crate) async fn disable(
    State(s): State<WebState>,
    session: PageSession,
    Path(id): Path<String>,
    Form(form): Form<ChangeForm>,
) -> Response {
    set_enabled(s, session, id, false, form).await
}

pub(crate) async fn enable(
    State(s): State<WebState>,
    session: PageSession,
    Path(id): Path<String>,
    Form(form): Form<ChangeForm>,
) -> Response {
    set_enabled(s, session, id, true, form).await
}

#[derive(Template, WebTemplate)]
#[template(path = "security.html")]
pub(crate) struct SecurityPage {
    view: ActorView,
    csrf: String,
    current: SecurityPolicyView,
    notice: Option<&'static str>,
    error: Option<String>,
}

async fn security_page(
    s: &WebState,
    session: app::sessions::ActiveSession,
    notice: Option<&'static str>,
    error: Option<String>,
) -> Result<SecurityPage, PageError> {
    Ok(SecurityPage {
        current: s.app.identity().security_policy(&session.actor).await?,
        view: session.view,
        csrf: session.csrf,
        notice,
        error,
    })
}

pub(crate) async fn security(
    State(s): State<WebState>,
    PageSession(session): PageSession,
) -> Result<SecurityPage, PageError> {
    security_page(&s, session, None, None).await
}

/// Missing numbers read as 0, which the policy's bounds refuse with a clear message.
#[derive(Default, Deserialize)]
#[serde(default)]
pub(crate) struct SecurityForm {
    csrf: String,
    max_failures: i64,
    lockout_minutes: i64,
    privileged_idle_minutes: i64,
    idle_minutes: i64,
    session_hours: i64,
    reason: String,
}

pub(crate) async fn set_security(
    State(s): State<WebState>,
    session: PageSession,
    Form(form): Form<SecurityForm>,
) -> Response {
    if let Err(r) = session.check_csrf(&s, &form.csrf) {
        return r.into_response();
    }
    let PageSession(session) = session;
    let change = SecurityPolicyChange {
        policy: SecurityPolicy {
            max_failures: form.max_failures,
            lockout_minutes: form.lockout_minutes,
            privileged_idle_minutes: form.privileged_idle_minutes,
            idle_minutes: form.idle_minutes,
            session_hours: form.session_hours,
        },
        reason: form.reason,
    };
    let result = s
        .app
        .identity()
        .set_security_policy(&session.actor, &change)
        .await;
    let o = match form_outcome(result, StatusCode::OK, "安全策略已更新。") {
        Ok(o) => o,
        Err(r) => return r.into_response(),
    };
    match security_page(&s, session, o.notice, o.error).await {
        Ok(page) => (o.status, page).into_response(),
        Err(e) => e.into_response(),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "audit.html")]
pub(crate) struct AuditPage {
    view: ActorView,
    log: AuditLogPage,
    reveals: Page<PiiAccessView>,
}

#[derive(Deserialize)]
pub(crate) struct AuditPageQuery {
    before: Option<i64>,
}

pub(crate) async fn audit(
    State(s): State<WebState>,
    PageSession(session): PageSession,
    PageQuery(q): PageQuery<AuditPageQuery>,
) -> Result<AuditPage, PageError> {
    let log = s
        .app
        .supervision()
        .audit_log(&session.actor, q.before)
        .await?;
    let first = domain::Paging::new(None, Some(20)).map_err(app::AppError::from)?;
    Ok(AuditPage {
        reveals: s
            .app
            .supervision()
            .pii_access_log(&session.actor, first)
            .await?,
        view: session.view,
        log,
    })
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct UnlicensedForm {
    csrf: String,
    name: String,
    address: String,
    region_code: String,
    mode: String,
    categories: String,
    credit_code: String,
    reason: String,
}

/// A supervisor records an unlicensed institution found in the field; the new record opens.
pub(crate) async fn record_unlicensed(
    State(s): State<WebState>,
    session: PageSession,
    Form(form): Form<UnlicensedForm>,
) -> Response {
    if let Err(r) = session
        .authorize(&s, &form.csrf, Permission::SuperviseInstitution)
        .await
    {
        return r.into_response();
    }
    let PageSession(session) = session;
    let finding = app::supervision::UnlicensedFinding {
        name: form.name,
        address: form.address,
        region_code: form.region_code,
        mode: form.mode,
        categories: crate::pages::list_field(&form.categories),
        credit_code: Some(form.credit_code),
        reason: form.reason,
    };
    match s
        .app
        .supervision()
        .record_unlicensed(&session.actor, &finding)
        .await
    {
        Ok(id) => Redirect::to(&format!("/regulator/institutions/{id}")).into_response(),
        Err(e) => PageError(e).into_response(),
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct RecordCheckForm {
    csrf: String,
    institution: String,
}

/// A regulator confirms a staff member's pre-hire record check, back on the institution's page.
pub(crate) async fn confirm_record_check(
    State(s): State<WebState>,
    session: PageSession,
    Path(staff_id): Path<String>,
    Form(form): Form<RecordCheckForm>,
) -> Response {
    if let Err(r) = session.check_csrf(&s, &form.csrf) {
        return r.into_response();
    }
    let PageSession(session) = session;
    let actor = session.actor.clone();
    let action = async {
        s.app
            .require(&actor, Permission::ViewInstitutionPrivate)
            .await?;
        s.app
            .registry()
            .confirm_record_check(&actor, &staff_id)
            .await
            .map(|_| ())
    };
    let id = domain::InstitutionId::parse(&form.institution)
        .map(|i| i.to_string())
        .unwrap_or_default();
    after_action(
        &s,
        PageSession(session),
        &id,
        &form.csrf,
        "入职查询已确认。",
        action,
    )
    .await
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct BlacklistForm {
    csrf: String,
    name: String,
    id_card: String,
    reason: String,
}

/// A supervisor lists a practitioner on the black list from the console.
pub(crate) async fn blacklist_practitioner(
    State(s): State<WebState>,
    session: PageSession,
    Form(form): Form<BlacklistForm>,
) -> Response {
    if let Err(r) = session
        .authorize(&s, &form.csrf, Permission::SuperviseInstitution)
        .await
    {
        return r.into_response();
    }
    let PageSession(session) = session;
    let entry = app::staff::BlacklistEntry {
        name: form.name,
        id_card: form.id_card,
        reason: form.reason,
    };
    match s
        .app
        .registry()
        .blacklist_practitioner(&session.actor, &entry)
        .await
    {
        Ok(()) => Redirect::to("/regulator?listed=practitioner").into_response(),
        Err(e) => PageError(e).into_response(),
    }
}
