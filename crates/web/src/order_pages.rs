//! The pages of the money: a parent's buy page, order page (the e-contract, its digest, the refund preview,
//! the way to the bank's checkout) and order list; an institution's and a regulator's view of orders, supervised
//! accounts, movements and risk events. Rules and scope are `app::orders`' and `app::bank`'s.

use crate::WebState;
use crate::error::PageError;
use crate::session_pages::PageSession;
use app::bank::InstitutionMoney;
use app::orders::{NewOrder, OrderDetail, OrderLine};
use app::parents::ChildView;
use app::views::{CourseView, InstitutionDetail};
use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use domain::access::Permission;
use serde::Deserialize;

#[derive(Template, WebTemplate)]
#[template(path = "buy.html")]
pub(crate) struct BuyPage {
    institution: InstitutionDetail,
    course: CourseView,
    children: Vec<ChildView>,
    csrf: String,
    error: Option<String>,
}

pub(crate) async fn buy_page(
    State(s): State<WebState>,
    PageSession(session): PageSession,
    Path(id): Path<String>,
) -> Result<BuyPage, PageError> {
    let (institution, course) = s.app.money().course_on_sale(&id).await?;
    Ok(BuyPage {
        institution,
        course,
        children: s.app.identity().my_children(&session.actor).await?,
        csrf: session.csrf,
        error: None,
    })
}

#[derive(Deserialize)]
pub(crate) struct BuyForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    child_id: String,
}

/// Places the order and shows its contract; a refusal (not white-listed, a rule broken) stays on the page.
pub(crate) async fn buy(
    State(s): State<WebState>,
    session: PageSession,
    Path(id): Path<String>,
    Form(form): Form<BuyForm>,
) -> Result<Response, PageError> {
    session.check_csrf(&s, &form.csrf)?;
    let PageSession(session) = session;
    let new = NewOrder {
        course_id: id.clone(),
        child_id: form.child_id,
    };
    match s.app.money().place_order(&session.actor, &new).await {
        Ok(order) => Ok(Redirect::to(&format!("/orders/{}", order.line.id)).into_response()),
        Err(e) if matches!(e.code.status(), 400 | 409 | 422) => {
            let (institution, course) = s.app.money().course_on_sale(&id).await?;
            let page = BuyPage {
                institution,
                course,
                children: s.app.identity().my_children(&session.actor).await?,
                csrf: session.csrf,
                error: Some(crate::error::in_chinese(&e)),
            };
            Ok((crate::error::status_of(e.code), page).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "order.html")]
pub(crate) struct OrderPage {
    o: OrderDetail,
    lessons: Vec<app::lessons::LessonView>,
    refunds: Vec<app::refunds::RefundView>,
    /// 请假 days of leave.
    leaves: Vec<app::lessons::LeaveView>,
    /// Today, China time (the earliest day leave may be asked for).
    today: String,
    /// 转班 done, and the classes the order may move to.
    transfers: Vec<app::orders::ClassTransferView>,
    transfer_options: Vec<CourseView>,
    /// Who is looking: `parent` (answers lessons, asks refunds), `staff` (answers refunds), `regulator`.
    viewer: &'static str,
    /// The parent may ask for the rest back: paid, open, and no request being decided.
    can_request_refund: bool,
    /// The parent may review the institution (a confirmed lesson, no review yet).
    can_review: bool,
    csrf: String,
    per_lesson: String,
    /// "原价 ¥3000.00，优惠 ¥300.00（老学员九折）" when the price paid is below the list price.
    discount: Option<String>,
    mode_label: &'static str,
    /// The bank's checkout, returning here (for the parent, while the order awaits payment).
    pay_url: Option<String>,
}

/// This site's own address as the browser used it, for the bank to send the parent back to.
fn own_origin(headers: &HeaderMap) -> Option<String> {
    let host = headers.get("host")?.to_str().ok()?;
    let scheme = match headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
    {
        Some("https") => "https",
        _ => "http",
    };
    Some(format!("{scheme}://{host}"))
}

fn query_value(v: &str) -> String {
    v.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

pub(crate) async fn order_page(
    State(s): State<WebState>,
    PageSession(session): PageSession,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<OrderPage, PageError> {
    let o = s.app.money().order_for(&session.actor, &id).await?;
    let pay_url = match (&session.actor, &o.checkout_url, own_origin(&headers)) {
        (app::Actor::Parent { .. }, Some(checkout), Some(origin)) => Some(format!(
            "{checkout}&return_url={}",
            query_value(&format!("{origin}/orders/{}", o.line.id))
        )),
        _ => None,
    };
    let refunds = s
        .app
        .money()
        .refunds_of_order(&session.actor, &o.line.id)
        .await?;
    let (transfers, transfer_options) = s
        .app
        .money()
        .class_transfers(&session.actor, &o.line.id)
        .await?;
    Ok(OrderPage {
        can_review: s
            .app
            .service()
            .may_review(&session.actor, &o.line.id)
            .await?,
        can_request_refund: app::refunds::may_request_refund(&session.actor, &o, &refunds),
        lessons: s
            .app
            .money()
            .lessons_of_order(&session.actor, &o.line.id)
            .await?,
        leaves: s
            .app
            .money()
            .leaves_of_order(&session.actor, &o.line.id)
            .await?,
        today: s.app.clock().now().china_date().to_string(),
        transfers,
        transfer_options,
        refunds,
        viewer: match session.actor {
            app::Actor::Parent { .. } => "parent",
            app::Actor::Staff { .. } => "staff",
            app::Actor::Regulator { .. } => "regulator",
            _ => "",
        },
        csrf: session.csrf.clone(),
        per_lesson: domain::money::yuan(o.contract.price.price_per_lesson_fen),
        discount: o.contract.price.discount.as_ref().map(|d| {
            format!(
                "原价 {}，优惠 {}（{}）",
                domain::money::yuan(d.list_total_fen),
                domain::money::yuan(d.discount_fen),
                d.reason
            )
        }),
        mode_label: match o.contract.supervision.mode.as_str() {
            "custody" => "银行托管",
            "risk_deposit" => "风险保证金",
            _ => "数字人民币智能合约",
        },
        o,
        pay_url,
    })
}

#[derive(Template, WebTemplate)]
#[template(path = "orders.html")]
pub(crate) struct OrdersPage {
    orders: Vec<OrderLine>,
}

pub(crate) async fn my_orders(
    State(s): State<WebState>,
    PageSession(session): PageSession,
) -> Result<OrdersPage, PageError> {
    Ok(OrdersPage {
        orders: s.app.money().my_orders(&session.actor).await?,
    })
}

#[derive(Template, WebTemplate)]
#[template(path = "money.html")]
pub(crate) struct MoneyPage {
    institution_name: Option<String>,
    /// The institution's own staff take attendance here (a CSRF token for the form); regulators only read.
    attendance_csrf: Option<String>,
    money: InstitutionMoney,
    orders: Vec<OrderLine>,
    /// 清退 once started, and its progress.
    run_off: Option<app::run_off::RunOffView>,
    /// A supervisor may start the run-off here (a CSRF token for the form).
    run_off_csrf: Option<String>,
    /// 课程咨询 how fast the institution answers parents.
    response_times: app::consultations::ResponseTimes,
}

/// The staff's institution: orders, supervised accounts, movements, risk events.
pub(crate) async fn institution_money(
    State(s): State<WebState>,
    PageSession(session): PageSession,
) -> Result<MoneyPage, PageError> {
    let id = s.app.own_institution(&session.actor).await?;
    Ok(MoneyPage {
        institution_name: None,
        attendance_csrf: Some(session.csrf.clone()),
        money: s.app.money().institution_money(&session.actor, &id).await?,
        orders: s
            .app
            .money()
            .institution_orders(&session.actor, &id)
            .await?,
        run_off: s.app.money().run_off(&session.actor, &id).await?,
        run_off_csrf: None,
        response_times: s.app.service().response_times(&session.actor, &id).await?,
    })
}

/// The same for a regulator over the institution.
pub(crate) async fn regulator_money(
    State(s): State<WebState>,
    PageSession(session): PageSession,
    Path(id): Path<String>,
) -> Result<MoneyPage, PageError> {
    s.app
        .require(&session.actor, Permission::ViewInstitutionPrivate)
        .await?;
    let money = s.app.money().institution_money(&session.actor, &id).await?;
    Ok(MoneyPage {
        institution_name: Some(s.app.registry().institution_detail(&id).await?.summary.name),
        attendance_csrf: None,
        orders: s
            .app
            .money()
            .institution_orders(&session.actor, &id)
            .await?,
        run_off: s.app.money().run_off(&session.actor, &id).await?,
        response_times: s.app.service().response_times(&session.actor, &id).await?,
        run_off_csrf: session
            .actor
            .has(Permission::SuperviseInstitution)
            .then(|| session.csrf.clone()),
        money,
    })
}

/// 清退 started from the regulator's money page.
pub(crate) async fn start_run_off(
    State(s): State<WebState>,
    session: PageSession,
    Path(id): Path<String>,
    Form(form): Form<LessonForm>,
) -> Result<Response, PageError> {
    session
        .authorize(&s, &form.csrf, Permission::SuperviseInstitution)
        .await?;
    let req = app::run_off::RunOffRequest {
        reason: form.reason,
    };
    s.app
        .money()
        .start_run_off(&session.0.actor, &id, &req)
        .await?;
    Ok(Redirect::to(&format!("/regulator/institutions/{id}/money")).into_response())
}

#[derive(Deserialize)]
pub(crate) struct LessonForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    evidence: String,
    #[serde(default)]
    date: String,
}

#[derive(Deserialize)]
pub(crate) struct TransferForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    course_id: String,
}

/// 转班 from the order page.
pub(crate) async fn transfer_class(
    State(s): State<WebState>,
    session: PageSession,
    Path(id): Path<String>,
    Form(form): Form<TransferForm>,
) -> Result<Response, PageError> {
    session.check_csrf(&s, &form.csrf)?;
    let req = app::orders::ClassTransferRequest {
        course_id: form.course_id,
    };
    s.app
        .money()
        .transfer_class(&session.0.actor, &id, &req)
        .await?;
    Ok(Redirect::to(&format!("/orders/{id}")).into_response())
}

/// 请假 from the order page.
pub(crate) async fn request_leave(
    State(s): State<WebState>,
    session: PageSession,
    Path(id): Path<String>,
    Form(form): Form<LessonForm>,
) -> Result<Response, PageError> {
    session.check_csrf(&s, &form.csrf)?;
    let req = app::lessons::LeaveRequest {
        date: form.date,
        reason: form.reason,
    };
    s.app
        .money()
        .request_leave(&session.0.actor, &id, &req)
        .await?;
    Ok(Redirect::to(&format!("/orders/{id}")).into_response())
}

/// The parent confirms a lesson from the order page and returns to it.
pub(crate) async fn confirm_lesson(
    State(s): State<WebState>,
    session: PageSession,
    Path(id): Path<String>,
    Form(form): Form<LessonForm>,
) -> Result<Response, PageError> {
    session.check_csrf(&s, &form.csrf)?;
    let lesson = s.app.money().confirm_lesson(&session.0.actor, &id).await?;
    Ok(Redirect::to(&format!("/orders/{}", lesson.order_id)).into_response())
}

/// The parent disputes a lesson, with a reason, and returns to the order page.
pub(crate) async fn dispute_lesson(
    State(s): State<WebState>,
    session: PageSession,
    Path(id): Path<String>,
    Form(form): Form<LessonForm>,
) -> Result<Response, PageError> {
    session.check_csrf(&s, &form.csrf)?;
    let dispute = app::lessons::Dispute {
        reason: form.reason,
    };
    let lesson = s
        .app
        .money()
        .dispute_lesson(&session.0.actor, &id, &dispute)
        .await?;
    Ok(Redirect::to(&format!("/orders/{}", lesson.order_id)).into_response())
}

/// 点名 from the institution's money page.
pub(crate) async fn take_attendance(
    State(s): State<WebState>,
    session: PageSession,
    Path(id): Path<String>,
    Form(form): Form<LessonForm>,
) -> Result<Response, PageError> {
    session
        .authorize(&s, &form.csrf, Permission::TakeAttendance)
        .await?;
    let attendance = app::lessons::Attendance {
        evidence: form.evidence,
    };
    s.app
        .money()
        .take_attendance(&session.0.actor, &id, &attendance)
        .await?;
    Ok(Redirect::to("/institution/money").into_response())
}

#[derive(Deserialize)]
pub(crate) struct DiscountForm {
    #[serde(default)]
    csrf: String,
    /// Yuan as typed, e.g. `2700` or `2700.00`.
    #[serde(default)]
    total_yuan: String,
    #[serde(default)]
    reason: String,
}

/// 优惠: the institution sets the price of an order awaiting payment, from its money page.
pub(crate) async fn discount_order(
    State(s): State<WebState>,
    session: PageSession,
    Path(id): Path<String>,
    Form(form): Form<DiscountForm>,
) -> Result<Response, PageError> {
    session
        .authorize(&s, &form.csrf, Permission::ManageCourses)
        .await?;
    let total = domain::Fen::parse_yuan(&form.total_yuan).ok_or_else(|| {
        app::AppError::invalid(
            "优惠价请填写金额，如 2700 或 2700.00",
            "total_yuan: an amount in yuan such as 2700 or 2700.00",
        )
        .on("total_yuan")
    })?;
    let discount = app::orders::OrderDiscount {
        total_fen: total.get(),
        reason: form.reason,
    };
    s.app
        .money()
        .discount_order(&session.0.actor, &id, &discount)
        .await?;
    Ok(Redirect::to("/institution/money").into_response())
}

/// The parent asks for the rest of the order back, from the order page.
pub(crate) async fn request_refund(
    State(s): State<WebState>,
    session: PageSession,
    Path(id): Path<String>,
    Form(form): Form<LessonForm>,
) -> Result<Response, PageError> {
    session.check_csrf(&s, &form.csrf)?;
    let req = app::refunds::RefundRequest {
        reason: form.reason,
    };
    let refund = s
        .app
        .money()
        .request_refund(&session.0.actor, &id, &req)
        .await?;
    Ok(Redirect::to(&format!("/orders/{}", refund.order_id)).into_response())
}

/// The parent takes a refused refund to the regulator.
pub(crate) async fn escalate_refund(
    State(s): State<WebState>,
    session: PageSession,
    Path(id): Path<String>,
    Form(form): Form<LessonForm>,
) -> Result<Response, PageError> {
    session.check_csrf(&s, &form.csrf)?;
    let refund = s.app.money().escalate_refund(&session.0.actor, &id).await?;
    Ok(Redirect::to(&format!("/orders/{}", refund.order_id)).into_response())
}

#[derive(Deserialize)]
pub(crate) struct DecisionForm {
    #[serde(default)]
    csrf: String,
    /// `yes` or `no`.
    #[serde(default)]
    agree: String,
    #[serde(default)]
    reason: String,
}

/// The institution answers a refund request on the order page.
pub(crate) async fn answer_refund(
    State(s): State<WebState>,
    session: PageSession,
    Path(id): Path<String>,
    Form(form): Form<DecisionForm>,
) -> Result<Response, PageError> {
    session
        .authorize(&s, &form.csrf, Permission::HandleCustomerCases)
        .await?;
    let answer = app::refunds::RefundAnswer {
        agree: form.agree == "yes",
        reason: form.reason,
    };
    let refund = s
        .app
        .money()
        .answer_refund(&session.0.actor, &id, &answer)
        .await?;
    Ok(Redirect::to(&format!("/orders/{}", refund.order_id)).into_response())
}

/// The competent regulator rules on an escalated refund on the order page.
pub(crate) async fn rule_on_refund(
    State(s): State<WebState>,
    session: PageSession,
    Path(id): Path<String>,
    Form(form): Form<DecisionForm>,
) -> Result<Response, PageError> {
    session
        .authorize(&s, &form.csrf, Permission::SuperviseInstitution)
        .await?;
    let ruling = app::refunds::RefundAnswer {
        agree: form.agree == "yes",
        reason: form.reason,
    };
    let refund = s
        .app
        .money()
        .rule_on_refund(&session.0.actor, &id, &ruling)
        .await?;
    Ok(Redirect::to(&format!("/orders/{}", refund.order_id)).into_response())
}

#[derive(Deserialize)]
pub(crate) struct ReviewForm {
    #[serde(default)]
    csrf: String,
    // Missing stars parse as 0 so the form always reaches the handler's checks (0 stars is refused there).
    #[serde(default)]
    teaching: u8,
    #[serde(default)]
    environment: u8,
    #[serde(default)]
    service: u8,
    #[serde(default)]
    value: u8,
    #[serde(default)]
    text: String,
}

/// The parent reviews the institution from the order page; a refusal (blocked words) is a friendly page.
pub(crate) async fn post_review(
    State(s): State<WebState>,
    session: PageSession,
    Path(id): Path<String>,
    Form(form): Form<ReviewForm>,
) -> Result<Response, PageError> {
    session.check_csrf(&s, &form.csrf)?;
    let review = app::reviews::NewReview {
        ratings: domain::review::Ratings {
            teaching: form.teaching,
            environment: form.environment,
            service: form.service,
            value: form.value,
        },
        text: form.text,
    };
    s.app
        .service()
        .post_review(&session.0.actor, &id, &review)
        .await?;
    Ok(Redirect::to(&format!("/orders/{id}")).into_response())
}

#[derive(Template, WebTemplate)]
#[template(path = "todo.html")]
pub(crate) struct TodoPage {
    todo: app::todo::ParentTodo,
}

/// 待办: the parent end's first page.
pub(crate) async fn todo(
    State(s): State<WebState>,
    PageSession(session): PageSession,
) -> Result<TodoPage, PageError> {
    Ok(TodoPage {
        todo: s.app.service().parent_todo(&session.actor).await?,
    })
}
