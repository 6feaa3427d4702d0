//! The bank API over HTTP: banks report payments, movements, instruction results and statements with signed
//! requests, each mutation under an `Idempotency-Key` (a repeat gets the first answer). Rules and reconciliation
//! are `app::bank`'s.

use crate::WebState;
use crate::auth_api::{BankSigned, Signed};
use crate::error::{ApiError, Problem, rejected};
use app::bank::{
    DailyStatement, EndpointRegistration, InstructionResult, InstructionView, MovementAck,
    MovementBatch, MovementOutcome, MovementReport, PaymentAck, PaymentBatch, PaymentNotice,
    PaymentOutcome, StatementAck,
};
use app::{Actor, ErrorCode};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// Runs a bank's mutation once per `Idempotency-Key`: the body is parsed after the signature verified, a
/// repeat of the same request returns the stored answer, a different request under the key is refused.
pub(crate) async fn once<T, R, F>(
    s: &WebState,
    headers: &HeaderMap,
    signed: &Signed,
    command: impl FnOnce(Actor, T) -> F,
) -> Result<Response, ApiError>
where
    T: DeserializeOwned,
    R: Serialize,
    F: Future<Output = Result<R, app::AppError>>,
{
    let key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|k| (1..=64).contains(&k.len()))
        .ok_or_else(|| {
            ApiError::new(
                ErrorCode::IdempotencyKeyRequired,
                "变更请求须携带 Idempotency-Key 请求头",
                "Idempotency-Key",
            )
        })?
        .to_owned();
    if let Some((status, answer)) = s
        .app
        .money()
        .idempotent_replay(&signed.actor, &key, &signed.body)
        .await?
    {
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
        return Ok((status, [("idempotent-replayed", "true")], Json(answer)).into_response());
    }
    let request: T = serde_json::from_slice(&signed.body)
        .map_err(|e| rejected(StatusCode::BAD_REQUEST, e.to_string()))?;
    let answer = serde_json::to_value(command(signed.actor.clone(), request).await?)
        .map_err(|e| ApiError(app::AppError::internal(e.to_string())))?;
    s.app
        .money()
        .remember_answer(&signed.actor, &key, &signed.body, 200, &answer)
        .await?;
    Ok(Json(answer).into_response())
}

/// The bank says where it takes instructions and where parents pay (its checkout page).
#[utoipa::path(
    put,
    path = "/api/v1/bank/endpoint",
    request_body = EndpointRegistration,
    params(("Idempotency-Key" = String, Header)),
    responses(
        (status = 200, body = EndpointRegistration),
        (status = 401, description = "invalid_signature, stale_request or replayed_request", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn set_endpoint(
    State(s): State<WebState>,
    headers: HeaderMap,
    BankSigned(signed): BankSigned,
) -> Result<Response, ApiError> {
    let app = s.app.clone();
    once(
        &s,
        &headers,
        &signed,
        |actor, req: EndpointRegistration| async move {
            app.money().register_bank_endpoint(&actor, &req).await
        },
    )
    .await
}

/// 支付通知: a parent paid an order into its supervised account. The order turns paid only now.
#[utoipa::path(
    post,
    path = "/api/v1/bank/payments",
    request_body = PaymentNotice,
    params(("Idempotency-Key" = String, Header)),
    responses(
        (status = 200, body = PaymentAck),
        (status = 409, description = "already_paid: another payment paid this order; return this one", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "amount_mismatch, idempotency_key_reused", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn payment(
    State(s): State<WebState>,
    headers: HeaderMap,
    BankSigned(signed): BankSigned,
) -> Result<Response, ApiError> {
    let app = s.app.clone();
    once(
        &s,
        &headers,
        &signed,
        |actor, req: PaymentNotice| async move { app.money().record_payment(&actor, &req).await },
    )
    .await
}

/// Payment notifications in a batch (up to 500, one transaction): each notice is answered on its own,
/// `{"result": "ok", …PaymentAck}` or `{"result": "refused", "order_no", "code", "detail"}`.
#[utoipa::path(
    post,
    path = "/api/v1/bank/payments/batch",
    request_body = PaymentBatch,
    params(("Idempotency-Key" = String, Header)),
    responses((status = 200, body = Vec<PaymentOutcome>))
)]
pub async fn payment_batch(
    State(s): State<WebState>,
    headers: HeaderMap,
    BankSigned(signed): BankSigned,
) -> Result<Response, ApiError> {
    let app = s.app.clone();
    once(
        &s,
        &headers,
        &signed,
        |actor, req: PaymentBatch| async move { app.money().record_payments(&actor, &req).await },
    )
    .await
}

/// A bank's own risk score (0–100) for the institution behind one of its supervised accounts, shown beside
/// the platform's.
#[utoipa::path(
    post,
    path = "/api/v1/bank/risk-scores",
    request_body = app::risk::BankRiskScore,
    params(("Idempotency-Key" = String, Header)),
    responses((status = 200, body = app::risk::RiskScores))
)]
pub async fn bank_risk_score(
    State(s): State<WebState>,
    headers: HeaderMap,
    BankSigned(signed): BankSigned,
) -> Result<Response, ApiError> {
    let app = s.app.clone();
    once(
        &s,
        &headers,
        &signed,
        |actor, req: app::risk::BankRiskScore| async move {
            app.supervision().record_bank_risk_score(&actor, &req).await
        },
    )
    .await
}

/// 动账: a movement on a supervised account. Outflows must name the instruction they execute; one that
/// does not raises an `unmatched_outflow` risk event before this answer is sent.
#[utoipa::path(
    post,
    path = "/api/v1/bank/movements",
    request_body = MovementReport,
    params(("Idempotency-Key" = String, Header)),
    responses((status = 200, body = MovementAck))
)]
pub async fn movement(
    State(s): State<WebState>,
    headers: HeaderMap,
    BankSigned(signed): BankSigned,
) -> Result<Response, ApiError> {
    let app = s.app.clone();
    once(
        &s,
        &headers,
        &signed,
        |actor, req: MovementReport| async move { app.money().record_movement(&actor, &req).await },
    )
    .await
}

/// Movements in a batch (up to 500, one transaction, in the order the bank booked them): each is answered
/// on its own, `{"result": "ok", …MovementAck}` or `{"result": "refused", "bank_ref", "code", "detail"}`,
/// and each is evaluated by the risk model as if sent alone.
#[utoipa::path(
    post,
    path = "/api/v1/bank/movements/batch",
    request_body = MovementBatch,
    params(("Idempotency-Key" = String, Header)),
    responses((status = 200, body = Vec<MovementOutcome>))
)]
pub async fn movement_batch(
    State(s): State<WebState>,
    headers: HeaderMap,
    BankSigned(signed): BankSigned,
) -> Result<Response, ApiError> {
    let app = s.app.clone();
    once(
        &s,
        &headers,
        &signed,
        |actor, req: MovementBatch| async move { app.money().record_movements(&actor, &req).await },
    )
    .await
}

/// An instruction's result: `executed` moves the platform's ledger, `failed` leaves the escrow.
#[utoipa::path(
    post,
    path = "/api/v1/bank/instructions/{id}/result",
    params(("id" = String, Path), ("Idempotency-Key" = String, Header)),
    request_body = InstructionResult,
    responses((status = 200, body = InstructionView))
)]
pub async fn instruction_result(
    State(s): State<WebState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    BankSigned(signed): BankSigned,
) -> Result<Response, ApiError> {
    let app = s.app.clone();
    once(
        &s,
        &headers,
        &signed,
        |actor, req: InstructionResult| async move {
            app.money()
                .record_instruction_result(&actor, &id, &req)
                .await
        },
    )
    .await
}

/// 日对账单: a supervised account's day.
#[utoipa::path(
    post,
    path = "/api/v1/bank/statements",
    request_body = DailyStatement,
    params(("Idempotency-Key" = String, Header)),
    responses(
        (status = 200, body = StatementAck),
        (status = 422, description = "amount_mismatch: opening + inflow − outflow ≠ closing", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn statement(
    State(s): State<WebState>,
    headers: HeaderMap,
    BankSigned(signed): BankSigned,
) -> Result<Response, ApiError> {
    let app = s.app.clone();
    once(
        &s,
        &headers,
        &signed,
        |actor, req: DailyStatement| async move { app.money().record_statement(&actor, &req).await },
    )
    .await
}
