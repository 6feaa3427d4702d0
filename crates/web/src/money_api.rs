//! Orders, lessons, refunds and reviews over HTTP. Rules and scope are `app::orders`', `app::lessons`',
//! `app::refunds`' and `app::reviews`'.

use crate::WebState;
use crate::auth_api::Bearer;
use crate::error::{ApiError, Problem};
use crate::extract::ApiJson;
use app::bank::InstitutionMoney;
use app::lessons::{Attendance, Dispute, LessonView};
use app::orders::{NewOrder, OrderDetail, OrderDiscount, OrderLine};
use app::refunds::{RefundAnswer, RefundRequest, RefundView};
use app::reviews::{NewReview, PublicReviews, ReviewNote, ReviewView};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use domain::access::Permission;

/// A parent orders a course for a linked child; the answer carries the e-contract, its digest, the refund
/// preview and the bank's checkout link.
#[utoipa::path(
    post,
    path = "/api/v1/parent/orders",
    security(("bearer" = [])),
    request_body = NewOrder,
    responses(
        (status = 201, body = OrderDetail),
        (status = 422, description = "not_white_listed, no_supervised_account, policy_violation", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn place_order(
    State(s): State<WebState>,
    bearer: Bearer,
    ApiJson(b): ApiJson<NewOrder>,
) -> Result<(StatusCode, Json<OrderDetail>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(s.app.money().place_order(&bearer.actor, &b).await?),
    ))
}

/// The signed-in parent's orders.
#[utoipa::path(
    get,
    path = "/api/v1/parent/orders",
    security(("bearer" = [])),
    responses((status = 200, body = Vec<OrderLine>))
)]
pub async fn my_orders(
    State(s): State<WebState>,
    bearer: Bearer,
) -> Result<Json<Vec<OrderLine>>, ApiError> {
    Ok(Json(s.app.money().my_orders(&bearer.actor).await?))
}

/// One order: its parent, the institution's staff, or a regulator over the institution.
#[utoipa::path(
    get,
    path = "/api/v1/orders/{id}",
    security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = OrderDetail))
)]
pub async fn order(
    State(s): State<WebState>,
    bearer: Bearer,
    Path(id): Path<String>,
) -> Result<Json<OrderDetail>, ApiError> {
    Ok(Json(s.app.money().order_for(&bearer.actor, &id).await?))
}

/// The staff's institution's orders.
#[utoipa::path(
    get,
    path = "/api/v1/institution/orders",
    security(("bearer" = [])),
    responses((status = 200, body = Vec<OrderLine>))
)]
pub async fn institution_orders(
    State(s): State<WebState>,
    bearer: Bearer,
) -> Result<Json<Vec<OrderLine>>, ApiError> {
    let id = s.app.own_institution(&bearer.actor).await?;
    Ok(Json(
        s.app.money().institution_orders(&bearer.actor, &id).await?,
    ))
}

/// The staff's institution's money: supervised accounts, escrow owed, movements, risk events.
#[utoipa::path(
    get,
    path = "/api/v1/institution/money",
    security(("bearer" = [])),
    responses((status = 200, body = InstitutionMoney))
)]
pub async fn institution_money(
    State(s): State<WebState>,
    bearer: Bearer,
) -> Result<Json<InstitutionMoney>, ApiError> {
    let id = s.app.own_institution(&bearer.actor).await?;
    Ok(Json(
        s.app.money().institution_money(&bearer.actor, &id).await?,
    ))
}

/// An institution's orders, for a regulator over it.
#[utoipa::path(
    get,
    path = "/api/v1/regulator/institutions/{id}/orders",
    security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = Vec<OrderLine>))
)]
pub async fn regulator_orders(
    State(s): State<WebState>,
    bearer: Bearer,
    Path(id): Path<String>,
) -> Result<Json<Vec<OrderLine>>, ApiError> {
    s.app
        .require(&bearer.actor, Permission::ViewInstitutionPrivate)
        .await?;
    Ok(Json(
        s.app.money().institution_orders(&bearer.actor, &id).await?,
    ))
}

/// An institution's fund flows, for a regulator over it.
#[utoipa::path(
    get,
    path = "/api/v1/regulator/institutions/{id}/money",
    security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = InstitutionMoney))
)]
pub async fn regulator_money(
    State(s): State<WebState>,
    bearer: Bearer,
    Path(id): Path<String>,
) -> Result<Json<InstitutionMoney>, ApiError> {
    s.app
        .require(&bearer.actor, Permission::ViewInstitutionPrivate)
        .await?;
    Ok(Json(
        s.app.money().institution_money(&bearer.actor, &id).await?,
    ))
}

/// 点名: the institution takes attendance for a paid order's next lesson (admin, operator or teacher).
#[utoipa::path(
    post,
    path = "/api/v1/institution/orders/{id}/attendance",
    security(("bearer" = [])),
    params(("id" = String, Path)),
    request_body = Attendance,
    responses(
        (status = 201, body = LessonView),
        (status = 409, description = "the order is not paid, or all its lessons are taken", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn take_attendance(
    State(s): State<WebState>,
    bearer: Bearer,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<Attendance>,
) -> Result<(StatusCode, Json<LessonView>), ApiError> {
    s.app
        .require(&bearer.actor, Permission::TakeAttendance)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(
            s.app
                .money()
                .take_attendance(&bearer.actor, &id, &b)
                .await?,
        ),
    ))
}

/// 优惠: the price an order awaiting payment is to be paid at (admin or operator). The contract is written again
/// with the list price, the discount and its reason; every lesson fee and refund follows the price paid.
#[utoipa::path(
    post,
    path = "/api/v1/institution/orders/{id}/discount",
    security(("bearer" = [])),
    params(("id" = String, Path)),
    request_body = OrderDiscount,
    responses(
        (status = 200, body = OrderDetail),
        (status = 400, description = "total_fen not above zero or above the list price", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "no such order of the institution", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "the order is paid already", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn discount_order(
    State(s): State<WebState>,
    bearer: Bearer,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<OrderDiscount>,
) -> Result<Json<OrderDetail>, ApiError> {
    s.app
        .require(&bearer.actor, Permission::ManageCourses)
        .await?;
    Ok(Json(
        s.app.money().discount_order(&bearer.actor, &id, &b).await?,
    ))
}

/// An order's lessons and their state (its parent, the institution's staff, regulators over it).
#[utoipa::path(
    get,
    path = "/api/v1/orders/{id}/lessons",
    security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = Vec<LessonView>))
)]
pub async fn order_lessons(
    State(s): State<WebState>,
    bearer: Bearer,
    Path(id): Path<String>,
) -> Result<Json<Vec<LessonView>>, ApiError> {
    Ok(Json(
        s.app.money().lessons_of_order(&bearer.actor, &id).await?,
    ))
}

/// The parent's lessons waiting for an answer.
#[utoipa::path(
    get,
    path = "/api/v1/parent/lessons",
    security(("bearer" = [])),
    responses((status = 200, body = Vec<LessonView>))
)]
pub async fn lessons_to_confirm(
    State(s): State<WebState>,
    bearer: Bearer,
) -> Result<Json<Vec<LessonView>>, ApiError> {
    Ok(Json(s.app.money().lessons_to_confirm(&bearer.actor).await?))
}

/// The parent confirms a lesson; its fee is instructed for release to the institution.
#[utoipa::path(
    post,
    path = "/api/v1/parent/lessons/{id}/confirm",
    security(("bearer" = [])),
    params(("id" = String, Path)),
    responses(
        (status = 200, body = LessonView),
        (status = 404, description = "not a lesson of yours", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "already answered", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn confirm_lesson(
    State(s): State<WebState>,
    bearer: Bearer,
    Path(id): Path<String>,
) -> Result<Json<LessonView>, ApiError> {
    Ok(Json(
        s.app.money().confirm_lesson(&bearer.actor, &id).await?,
    ))
}

/// The parent disputes a lesson; that lesson's fee stays in escrow.
#[utoipa::path(
    post,
    path = "/api/v1/parent/lessons/{id}/dispute",
    security(("bearer" = [])),
    params(("id" = String, Path)),
    request_body = Dispute,
    responses((status = 200, body = LessonView))
)]
pub async fn dispute_lesson(
    State(s): State<WebState>,
    bearer: Bearer,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<Dispute>,
) -> Result<Json<LessonView>, ApiError> {
    Ok(Json(
        s.app.money().dispute_lesson(&bearer.actor, &id, &b).await?,
    ))
}

/// 退费: the parent asks for the untaken lessons back (at the price paid, as the refund preview showed).
#[utoipa::path(
    post,
    path = "/api/v1/parent/orders/{id}/refund",
    security(("bearer" = [])),
    params(("id" = String, Path)),
    request_body = RefundRequest,
    responses(
        (status = 201, body = RefundView),
        (status = 409, description = "not paid, closed, a request already open, or nothing left to refund", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn request_refund(
    State(s): State<WebState>,
    bearer: Bearer,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<RefundRequest>,
) -> Result<(StatusCode, Json<RefundView>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(s.app.money().request_refund(&bearer.actor, &id, &b).await?),
    ))
}

/// An order's refund requests.
#[utoipa::path(
    get,
    path = "/api/v1/orders/{id}/refunds",
    security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = Vec<RefundView>))
)]
pub async fn order_refunds(
    State(s): State<WebState>,
    bearer: Bearer,
    Path(id): Path<String>,
) -> Result<Json<Vec<RefundView>>, ApiError> {
    Ok(Json(
        s.app.money().refunds_of_order(&bearer.actor, &id).await?,
    ))
}

/// The institution agrees (the refund is instructed at once) or refuses with a reason; silence past the
/// window agrees.
#[utoipa::path(
    post,
    path = "/api/v1/institution/refunds/{id}/answer",
    security(("bearer" = [])),
    params(("id" = String, Path)),
    request_body = RefundAnswer,
    responses((status = 200, body = RefundView))
)]
pub async fn answer_refund(
    State(s): State<WebState>,
    bearer: Bearer,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<RefundAnswer>,
) -> Result<Json<RefundView>, ApiError> {
    s.app
        .require(&bearer.actor, Permission::HandleCustomerCases)
        .await?;
    Ok(Json(
        s.app.money().answer_refund(&bearer.actor, &id, &b).await?,
    ))
}

/// The parent takes a refused refund to the competent regulator.
#[utoipa::path(
    post,
    path = "/api/v1/parent/refunds/{id}/escalate",
    security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = RefundView))
)]
pub async fn escalate_refund(
    State(s): State<WebState>,
    bearer: Bearer,
    Path(id): Path<String>,
) -> Result<Json<RefundView>, ApiError> {
    Ok(Json(
        s.app.money().escalate_refund(&bearer.actor, &id).await?,
    ))
}

/// The competent regulator upholds (`"agree": true`, the refund is instructed) or dismisses an escalated refund.
#[utoipa::path(
    post,
    path = "/api/v1/regulator/refunds/{id}/ruling",
    security(("bearer" = [])),
    params(("id" = String, Path)),
    request_body = RefundAnswer,
    responses((status = 200, body = RefundView))
)]
pub async fn rule_on_refund(
    State(s): State<WebState>,
    bearer: Bearer,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<RefundAnswer>,
) -> Result<Json<RefundView>, ApiError> {
    s.app
        .require(&bearer.actor, Permission::SuperviseInstitution)
        .await?;
    Ok(Json(
        s.app.money().rule_on_refund(&bearer.actor, &id, &b).await?,
    ))
}

/// 评价: the parent reviews the institution of an order with a confirmed lesson (once per order).
#[utoipa::path(
    post,
    path = "/api/v1/parent/orders/{id}/review",
    security(("bearer" = [])),
    params(("id" = String, Path)),
    request_body = NewReview,
    responses(
        (status = 201, body = ReviewView),
        (status = 422, description = "review_needs_confirmed_lesson, blocked_words", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn post_review(
    State(s): State<WebState>,
    bearer: Bearer,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<NewReview>,
) -> Result<(StatusCode, Json<ReviewView>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(s.app.service().post_review(&bearer.actor, &id, &b).await?),
    ))
}

/// The institution replies to a review, once.
#[utoipa::path(
    post,
    path = "/api/v1/institution/reviews/{id}/reply",
    security(("bearer" = [])),
    params(("id" = String, Path)),
    request_body = ReviewNote,
    responses((status = 200, body = ReviewView))
)]
pub async fn reply_review(
    State(s): State<WebState>,
    bearer: Bearer,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<ReviewNote>,
) -> Result<Json<ReviewView>, ApiError> {
    s.app
        .require(&bearer.actor, Permission::HandleCustomerCases)
        .await?;
    Ok(Json(
        s.app.service().reply_review(&bearer.actor, &id, &b).await?,
    ))
}

/// A regulator over the institution hides a review with a reason (it is kept, and audited).
#[utoipa::path(
    post,
    path = "/api/v1/regulator/institution-reviews/{id}/hide",
    security(("bearer" = [])),
    params(("id" = String, Path)),
    request_body = ReviewNote,
    responses((status = 204))
)]
pub async fn hide_review(
    State(s): State<WebState>,
    bearer: Bearer,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<ReviewNote>,
) -> Result<StatusCode, ApiError> {
    s.app
        .require(&bearer.actor, Permission::SuperviseInstitution)
        .await?;
    s.app.service().hide_review(&bearer.actor, &id, &b).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// An institution's visible reviews and their averages, weighted by the confirmed lessons behind each.
#[utoipa::path(
    get,
    path = "/api/v1/public/institutions/{id}/reviews",
    params(("id" = String, Path)),
    responses((status = 200, body = PublicReviews))
)]
pub async fn public_reviews(
    State(s): State<WebState>,
    Path(id): Path<String>,
) -> Result<Json<PublicReviews>, ApiError> {
    Ok(Json(s.app.service().public_reviews(&id).await?))
}

/// 请假: a day off an order's classes; no lesson of the order is taken that day.
#[utoipa::path(
    post,
    path = "/api/v1/parent/orders/{id}/leave",
    security(("bearer" = [])),
    params(("id" = String, Path)),
    request_body = app::lessons::LeaveRequest,
    responses((status = 201, body = app::lessons::LeaveView))
)]
pub async fn request_leave(
    State(s): State<WebState>,
    bearer: Bearer,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<app::lessons::LeaveRequest>,
) -> Result<(StatusCode, Json<app::lessons::LeaveView>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(s.app.money().request_leave(&bearer.actor, &id, &b).await?),
    ))
}

/// 转班: the order's remaining lessons move to another class of the same institution at the same price per lesson.
#[utoipa::path(
    post,
    path = "/api/v1/parent/orders/{id}/transfer",
    security(("bearer" = [])),
    params(("id" = String, Path)),
    request_body = app::orders::ClassTransferRequest,
    responses((status = 200, body = app::orders::ClassTransferView))
)]
pub async fn transfer_class(
    State(s): State<WebState>,
    bearer: Bearer,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<app::orders::ClassTransferRequest>,
) -> Result<Json<app::orders::ClassTransferView>, ApiError> {
    Ok(Json(
        s.app.money().transfer_class(&bearer.actor, &id, &b).await?,
    ))
}
