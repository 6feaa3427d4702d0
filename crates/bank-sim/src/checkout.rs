//! 收银台 the parents' checkout page: the bank takes the payment and notifies the platform.

use crate::books::{Booking, Outgoing};
use crate::{Bank, china_date, now_ms};
use axum::extract::{Form, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;
use serde_json::json;

#[derive(Deserialize)]
pub(crate) struct Checkout {
    order_no: String,
    amount_fen: i64,
    account_no: String,
    return_url: Option<String>,
}

fn page(title: &str, body: &str) -> Html<String> {
    Html(format!(
        r#"<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>{title}</title>
<style>body{{font-family:sans-serif;max-width:28rem;margin:2rem auto;padding:0 1rem;color:#1f2933}}
.card{{border:1px solid #d9e2ec;border-radius:8px;padding:1rem 1.25rem}}dt{{color:#627d98}}dd{{margin:0 0 .6rem}}
button{{background:#c0392b;color:#fff;border:0;border-radius:6px;padding:.7rem 1.2rem;font-size:1rem;width:100%}}
.note{{color:#627d98;font-size:.85rem}}</style></head><body><h1>{title}</h1>{body}</body></html>"#
    ))
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn yuan(fen: i64) -> String {
    format!("¥{}.{:02}", fen / 100, (fen % 100).abs())
}

/// The checkout page a parent reaches from the platform's order page.
pub(crate) async fn checkout_page(
    State(bank): State<Bank>,
    Query(c): Query<Checkout>,
) -> Html<String> {
    let back = c.return_url.clone().unwrap_or_default();
    let (title, account_label, note) = if bank.wallet {
        (
            "数字人民币钱包支付（模拟）",
            "智能合约（资金锁定在您的钱包中）",
            "这是演示用的模拟数字人民币钱包：款项锁定在您的钱包里，按课消指令逐课释放给机构。",
        )
    } else {
        (
            "模拟银行收银台",
            "收款账户（资金监管账户）",
            "这是演示用的模拟银行：款项进入机构的资金监管账户，由平台按课消指令划转。",
        )
    };
    page(
        title,
        &format!(
            r#"<div class="card"><dl><dt>订单号</dt><dd id="order-no">{}</dd><dt>支付金额</dt><dd id="amount">{}</dd>
<dt>{account_label}</dt><dd>{}</dd></dl>
<form method="post" action="/checkout">
<input type="hidden" name="order_no" value="{}"><input type="hidden" name="amount_fen" value="{}">
<input type="hidden" name="account_no" value="{}"><input type="hidden" name="return_url" value="{}">
<button type="submit" id="pay">确认支付</button></form></div>
<p class="note">{note}</p>"#,
            escape(&c.order_no),
            yuan(c.amount_fen),
            escape(&c.account_no),
            escape(&c.order_no),
            c.amount_fen,
            escape(&c.account_no),
            escape(&back),
        ),
    )
}

/// The parent pays: the money enters the supervised account, and the payment notice and the movement report
/// go into the outbox in the same transaction; the bank sends them, then sends the parent back.
pub(crate) async fn checkout_pay(State(bank): State<Bank>, Form(c): Form<Checkout>) -> Response {
    let failed = |why: &str| {
        (
            StatusCode::BAD_REQUEST,
            page("支付失败", &format!("<p>{why}</p>")),
        )
            .into_response()
    };
    if c.amount_fen <= 0 {
        return failed("金额无效");
    }
    let booked = async {
        let mut tx = bank.books.begin().await?;
        let now = tx.booking_time(&c.account_no, now_ms()).await?;
        let day = china_date(now);
        let pay_ref = tx.reference("PAY", &day).await?;
        let move_ref = tx.reference("MV", &day).await?;
        let line = Booking {
            account_no: &c.account_no,
            direction: "in",
            amount_fen: c.amount_fen,
            occurred_at: now,
            day: &day,
            order_no: Some(&c.order_no),
            instruction_id: None,
            payment_ref: Some(&pay_ref),
        };
        let Some(after) = tx.book(&line, &move_ref).await? else {
            return Ok(false);
        };
        let payment = Outgoing {
            method: "POST",
            path: "/api/v1/bank/payments".into(),
            idempotency_key: format!("payment-{pay_ref}"),
            body: json!({
                "order_no": c.order_no, "account_no": c.account_no, "amount_fen": c.amount_fen,
                "bank_ref": pay_ref, "paid_at": now,
            }),
        };
        let movement = Bank::movement(&line, &move_ref, after);
        tx.send(&[payment, movement], bank.send_at()).await?;
        tx.commit().await?;
        anyhow::Ok(true)
    }
    .await;
    match booked {
        Ok(true) => {}
        Ok(false) => return failed("账户金额溢出"),
        Err(e) => {
            eprintln!("bank-sim: {e:#}");
            return failed("银行系统暂时不可用");
        }
    }
    bank.deliver().await;
    match c
        .return_url
        .filter(|u| u.starts_with(&bank.identity.platform))
    {
        Some(url) => Redirect::to(&url).into_response(),
        None => page(
            "支付成功",
            &format!("<p>已支付 {}。</p>", yuan(c.amount_fen)),
        )
        .into_response(),
    }
}
