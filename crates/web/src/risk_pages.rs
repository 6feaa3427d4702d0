//! 风险预警 pages: the regulator's console (live over server-sent events) with lift / escalate, and the
//! institution's list with its rectification answers. Rules are `app::risk`'s.

use crate::WebState;
use crate::error::PageError;
use crate::session_pages::PageSession;
use app::risk::{WarningAnswer, WarningDecision, WarningView};
use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Redirect, Response};
use domain::access::Permission;
use serde::Deserialize;
use std::collections::HashSet;
use std::convert::Infallible;
use std::time::Duration;

#[derive(Template, WebTemplate)]
#[template(path = "warnings.html")]
pub(crate) struct WarningsPage {
    warnings: Vec<WarningView>,
    /// `regulator` or `staff`.
    viewer: &'static str,
    /// The newest warning's time: the live stream continues from there.
    since: i64,
    csrf: String,
}

async fn page(
    s: &WebState,
    session: app::sessions::ActiveSession,
    viewer: &'static str,
) -> Result<WarningsPage, PageError> {
    let warnings = s.app.supervision().warnings_for(&session.actor, 0).await?;
    Ok(WarningsPage {
        since: warnings.first().map_or(0, |w| w.raised_at),
        warnings,
        viewer,
        csrf: session.csrf,
    })
}

pub(crate) async fn console(
    State(s): State<WebState>,
    PageSession(session): PageSession,
) -> Result<WarningsPage, PageError> {
    s.app
        .require(&session.actor, Permission::SuperviseInstitution)
        .await?;
    page(&s, session, "regulator").await
}

pub(crate) async fn institution(
    State(s): State<WebState>,
    PageSession(session): PageSession,
) -> Result<WarningsPage, PageError> {
    if !matches!(session.actor, app::Actor::Staff { .. }) {
        s.app
            .require(&session.actor, Permission::HandleCustomerCases)
            .await?;
    }
    page(&s, session, "staff").await
}

#[derive(Deserialize, Default)]
pub(crate) struct Since {
    #[serde(default)]
    since: i64,
}

/// How often the stream looks for new warnings: well inside the one second a red warning has to arrive.
const POLL: Duration = Duration::from_millis(250);

/// New warnings in the regulator's region as server-sent events (`event: warning`, the warning as JSON). It
/// reads the database, so every app server streams every warning whichever server raised it.
pub(crate) async fn stream(
    State(s): State<WebState>,
    PageSession(session): PageSession,
    Query(q): Query<Since>,
) -> Result<Response, PageError> {
    // Refused (and audited) before the stream opens.
    s.app
        .require(&session.actor, Permission::SuperviseInstitution)
        .await?;
    struct Cursor {
        app: app::App,
        actor: app::Actor,
        since: i64,
        sent: HashSet<String>,
        queue: Vec<WarningView>,
    }
    let cursor = Cursor {
        app: s.app.clone(),
        actor: session.actor,
        since: q.since,
        sent: HashSet::new(),
        queue: Vec::new(),
    };
    let events = futures_util::stream::unfold(cursor, |mut c| async move {
        loop {
            if let Some(w) = c.queue.pop() {
                let data = serde_json::to_string(&w).unwrap_or_default();
                let event = Event::default().event("warning").data(data);
                return Some((Ok::<_, Infallible>(event), c));
            }
            tokio::time::sleep(POLL).await;
            // Warnings at the same millisecond as the last one seen are read again and skipped by id.
            let found = c
                .app
                .supervision()
                .warnings_for(&c.actor, c.since - 1)
                .await
                .unwrap_or_default();
            if let Some(newest) = found.first() {
                c.since = c.since.max(newest.raised_at);
            }
            // Newest first from the store; the queue pops from its end, so the oldest goes out first.
            c.queue = found
                .into_iter()
                .filter(|w| c.sent.insert(w.id.clone()))
                .collect();
        }
    });
    Ok(Sse::new(events)
        .keep_alive(KeepAlive::default())
        .into_response())
}

#[derive(Deserialize, Default)]
pub(crate) struct StepForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    explanation: String,
    #[serde(default)]
    decision: String,
    #[serde(default)]
    reason: String,
}

pub(crate) async fn answer(
    State(s): State<WebState>,
    session: PageSession,
    Path(id): Path<String>,
    Form(form): Form<StepForm>,
) -> Result<Response, PageError> {
    session
        .authorize(&s, &form.csrf, Permission::HandleCustomerCases)
        .await?;
    let answer = WarningAnswer {
        explanation: form.explanation,
    };
    s.app
        .supervision()
        .answer_warning(&session.0.actor, &id, &answer)
        .await?;
    Ok(Redirect::to("/institution/warnings").into_response())
}

pub(crate) async fn decide(
    State(s): State<WebState>,
    session: PageSession,
    Path(id): Path<String>,
    Form(form): Form<StepForm>,
) -> Result<Response, PageError> {
    session
        .authorize(&s, &form.csrf, Permission::SuperviseInstitution)
        .await?;
    let decision = WarningDecision {
        decision: form.decision,
        reason: form.reason,
    };
    s.app
        .supervision()
        .decide_warning(&session.0.actor, &id, &decision)
        .await?;
    Ok(Redirect::to("/regulator/warnings").into_response())
}

#[derive(Deserialize, Default)]
pub(crate) struct DashboardQuery {
    #[serde(default)]
    region: String,
    #[serde(default)]
    days: Option<u32>,
}

#[derive(Template, WebTemplate)]
#[template(path = "dashboard.html")]
pub(crate) struct DashboardPage {
    d: app::dashboard::Dashboard,
    /// The figures for the charts, as JSON safe inside a `<script type="application/json">` element.
    json: String,
}

impl DashboardPage {
    fn yuan(&self, fen: &i64) -> String {
        domain::money::yuan(*fen)
    }

    /// `2026-11` of a month's first day.
    fn month<'a>(&self, day: &'a str) -> &'a str {
        day.get(..7).unwrap_or(day)
    }
}

/// 监管看板 for the regulator's region or a region under it.
pub(crate) async fn dashboard(
    State(s): State<WebState>,
    PageSession(session): PageSession,
    Query(q): Query<DashboardQuery>,
) -> Result<DashboardPage, PageError> {
    let d = s
        .app
        .supervision()
        .dashboard(&session.actor, Some(&q.region), q.days.unwrap_or(30))
        .await?;
    let json = serde_json::to_string(&d)
        .unwrap_or_default()
        .replace("</", "<\\/");
    Ok(DashboardPage { d, json })
}
