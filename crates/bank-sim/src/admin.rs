//! What a test drives the simulated bank with: its mode, its clock, a rogue outflow, statements, its accounts.

use crate::books::{Booking, Outgoing};
use crate::{Bank, CLOCK_OFFSET_MS, Mode, china_date, now_ms};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

pub(crate) async fn set_mode(State(bank): State<Bank>, Json(mode): Json<Mode>) -> Json<Mode> {
    *bank.mode.lock().expect("mode lock") = mode;
    Json(mode)
}

#[derive(Deserialize)]
pub(crate) struct ClockMove {
    advance_ms: i64,
}

pub(crate) async fn move_clock(Json(m): Json<ClockMove>) -> Response {
    if m.advance_ms <= 0 {
        return (
            StatusCode::UNPROCESSABLE_ENTITY,
            Json(json!({"error": "the clock only moves forward"})),
        )
            .into_response();
    }
    CLOCK_OFFSET_MS.fetch_add(m.advance_ms, std::sync::atomic::Ordering::SeqCst);
    Json(json!({"now_ms": now_ms()})).into_response()
}

#[derive(Deserialize)]
pub(crate) struct RogueOutflow {
    account_no: String,
    amount_fen: i64,
}

/// Money leaves a supervised account without any instruction from the platform (what a run-away owner
/// with a complicit clerk would do); the bank still reports the movement, as it must.
pub(crate) async fn rogue_outflow(
    State(bank): State<Bank>,
    Json(r): Json<RogueOutflow>,
) -> Response {
    let booked = async {
        let mut tx = bank.books.begin().await?;
        let now = tx.booking_time(&r.account_no, now_ms()).await?;
        let day = china_date(now);
        let bank_ref = tx.reference("MV", &day).await?;
        let line = Booking {
            account_no: &r.account_no,
            direction: "out",
            amount_fen: r.amount_fen,
            occurred_at: now,
            day: &day,
            order_no: None,
            instruction_id: None,
            payment_ref: None,
        };
        let after = match (r.amount_fen > 0).then_some(()) {
            Some(()) => tx.book(&line, &bank_ref).await?,
            None => None,
        };
        let Some(after) = after else {
            return anyhow::Ok(None);
        };
        let answers = bank
            .send_and_answer(tx, vec![Bank::movement(&line, &bank_ref, after)])
            .await?;
        anyhow::Ok(Some((after, answers)))
    }
    .await;
    match booked {
        Ok(Some((balance, answers))) => {
            Json(json!({"balance_after_fen": balance, "platform": answers.into_iter().map(|(_, v)| v).collect::<Vec<_>>()}))
                .into_response()
        }
        Ok(None) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            Json(json!({"error": "insufficient balance"})),
        )
            .into_response(),
        Err(e) => {
            eprintln!("bank-sim: {e:#}");
            StatusCode::SERVICE_UNAVAILABLE.into_response()
        }
    }
}

#[derive(Deserialize)]
pub(crate) struct StatementRequest {
    date: Option<String>,
}

/// Sends each account's daily statement for a date (default today, China time), with its lines.
pub(crate) async fn statements(
    State(bank): State<Bank>,
    Json(r): Json<StatementRequest>,
) -> Response {
    let date = r.date.unwrap_or_else(|| china_date(now_ms()));
    let queued = async {
        let statements = bank.books.statements(&date).await?;
        let messages: Vec<Outgoing> = statements
            .into_iter()
            .map(|st| Outgoing {
                method: "POST",
                path: "/api/v1/bank/statements".into(),
                idempotency_key: format!(
                    "statement-{}-{date}",
                    st["account_no"].as_str().unwrap_or_default()
                ),
                body: st,
            })
            .collect();
        let tx = bank.books.begin().await?;
        bank.send_and_answer(tx, messages).await
    }
    .await;
    let answers = match queued {
        Ok(answers) => answers,
        Err(e) => {
            eprintln!("bank-sim: {e:#}");
            return StatusCode::SERVICE_UNAVAILABLE.into_response();
        }
    };
    Json(json!({"date": date, "platform": answers.into_iter().map(|(_, v)| v).collect::<Vec<_>>()}))
        .into_response()
}

pub(crate) async fn accounts(State(bank): State<Bank>) -> Response {
    match bank.books.balances().await {
        Ok(b) => Json(b).into_response(),
        Err(e) => {
            eprintln!("bank-sim: {e:#}");
            StatusCode::SERVICE_UNAVAILABLE.into_response()
        }
    }
}
