//! Prepaid money cannot leave twice: the bounds held by the database under concurrency (run on PostgreSQL
//! too), the door a run-off or black-listing closes, bank messages settled to the end, and references that
//! cannot be reused for other content.

use super::money_flow::{Shop, shop};
use app::bank::PaymentResult;
use app::bank::{DailyStatement, InstructionResult, MovementReport, PaymentNotice, StatementEntry};
use app::demo::DEMO_ACCOUNT_NO;
use app::lessons::Attendance;
use app::refunds::{RefundAnswer, RefundRequest};
use app::testing::TEST_NOW;
use app::{Actor, ErrorCode};
use domain::access::StaffRole;
use domain::{InstructionStatus, OrderStatus};
use std::sync::{Arc, Mutex};

/// Every instruction of the order that has not failed, added up.
async fn instructed(s: &Shop, order_id: &str) -> i64 {
    s.t.app
        .store()
        .read()
        .instructions()
        .instructions_of_order(order_id)
        .await
        .unwrap()
        .iter()
        .filter(|i| i.status != InstructionStatus::Failed)
        .map(|i| i.amount_fen)
        .sum()
}

async fn assert_money_holds(s: &Shop, order_id: &str) {
    let broken = app::ledger_check::verify_orders(s.t.app.store(), &[order_id.to_owned()])
        .await
        .unwrap();
    assert!(broken.is_empty(), "{broken:?}");
}

fn agree() -> RefundAnswer {
    RefundAnswer {
        agree: true,
        reason: String::new(),
    }
}

#[tokio::test]
async fn confirming_a_lesson_while_the_refund_is_agreed_never_instructs_more_than_was_paid() {
    let s = shop().await;
    let parent = s.parent_actor();
    let admin = s.staff(StaffRole::Admin).await;
    let attendance = Attendance {
        evidence: "点名".into(),
    };
    let request = RefundRequest {
        reason: "孩子不想学了".into(),
    };
    let yes = agree();
    for round in 0..12 {
        let order = s.order().await;
        let paid = order.line.amount_fen;
        s.pay(&order, &format!("PAY-RACE-{round}")).await;
        let first = s.attend(&order.line.id).await;
        s.t.app
            .money()
            .confirm_lesson(&parent, &first.id)
            .await
            .unwrap();
        // The institution records lesson 2 while the parent asks for the rest back ...
        let (second, refund) = tokio::join!(
            s.t.app
                .money()
                .take_attendance(&admin, &order.line.id, &attendance),
            s.t.app
                .money()
                .request_refund(&parent, &order.line.id, &request),
        );
        let refund = refund.expect("the parent may always ask for the rest back");
        match second {
            Ok(lesson) => {
                assert_eq!(
                    refund.lessons_taken, 2,
                    "a refund asked after lesson 2 counts it"
                );
                // ... then confirms lesson 2 while the institution agrees: both stand, to the fen.
                let (confirmed, agreed) = tokio::join!(
                    s.t.app.money().confirm_lesson(&parent, &lesson.id),
                    s.t.app.money().answer_refund(&admin, &refund.id, &yes),
                );
                confirmed.expect("lesson 2 is released");
                agreed.expect("the refund of the rest is agreed");
            }
            Err(e) => {
                assert_eq!(
                    e.code,
                    ErrorCode::Conflict,
                    "no lesson while a refund is decided"
                );
                assert_eq!(refund.lessons_taken, 1);
                s.t.app
                    .money()
                    .answer_refund(&admin, &refund.id, &agree())
                    .await
                    .expect("the refund of the rest is agreed");
            }
        }
        assert_eq!(
            instructed(&s, &order.line.id).await,
            paid,
            "round {round}: released and refunded add up to what was paid, never more"
        );
        assert_money_holds(&s, &order.line.id).await;
    }
    let report = app::ledger_check::verify_money(s.t.app.store())
        .await
        .unwrap();
    assert!(report.violations.is_empty(), "{:?}", report.violations);
}

#[tokio::test]
async fn the_database_refuses_an_instruction_beyond_what_the_order_paid() {
    let s = shop().await;
    let (order, paid) = s.paid_and_deposited().await;
    let system = Actor::System { name: "test" };
    s.t.app
        .money()
        .instruct_bank(&system, "release", &order.line.id, paid - 100)
        .await
        .unwrap();
    let over =
        s.t.app
            .money()
            .instruct_bank(&system, "refund", &order.line.id, 101)
            .await
            .unwrap_err();
    assert_eq!(over.code, ErrorCode::InsufficientFunds);
    s.t.app
        .money()
        .instruct_bank(&system, "refund", &order.line.id, 100)
        .await
        .unwrap();
    assert_eq!(instructed(&s, &order.line.id).await, paid);
    // Even a write that skips the reservation cannot raise the bound past the payment: a CHECK holds it.
    let raw = sqlx::query("UPDATE orders SET instructed_fen = amount_fen + 1 WHERE id = $1")
        .bind(order.line.id.clone())
        .execute(s.t.app.store().pool_for_tests())
        .await;
    assert!(raw.is_err(), "the database holds instructed ≤ paid");
}

#[tokio::test]
async fn after_a_run_off_no_order_is_placed_and_money_that_arrives_goes_straight_back() {
    let s = shop().await;
    let waiting = s.order().await;
    let supervisor = s.competent_supervisor().await;
    s.t.app
        .money()
        .start_run_off(
            &supervisor,
            &s.institution_id,
            &app::run_off::RunOffRequest {
                reason: "机构停业".into(),
            },
        )
        .await
        .unwrap();
    assert_eq!(
        s.try_order().await.unwrap_err().code,
        ErrorCode::RunOffStarted
    );

    // The parent had paid at the bank's checkout before hearing of it: the money is at the bank.
    let ack = s.pay(&waiting, "PAY-AFTER-RUN-OFF").await;
    assert_eq!(ack.status, PaymentResult::Refunding);
    let instruction = ack.refund_instruction_id.expect("a refund instruction");
    let view =
        s.t.app
            .money()
            .instruction_view(&instruction)
            .await
            .unwrap();
    assert_eq!(
        (view.kind.as_str(), view.amount_fen),
        ("refund", waiting.line.amount_fen),
        "all of it, by the original route"
    );
    let detail =
        s.t.app
            .money()
            .order_for(&s.parent_actor(), &waiting.line.id)
            .await
            .unwrap();
    assert!(detail.closed, "no lesson is taken on it");
    let told =
        s.t.app
            .service()
            .my_notifications(&s.parent_actor())
            .await
            .unwrap();
    assert!(
        told.iter().any(|n| n.body.contains("原路全额退回")),
        "the parent is told: {told:?}"
    );
    // The bank sending the same notice again hears the same answer.
    let again = s.pay(&waiting, "PAY-AFTER-RUN-OFF").await;
    assert!(again.duplicate);
    assert_eq!(again.status, PaymentResult::Refunding);
    assert_eq!(
        again.refund_instruction_id.as_deref(),
        Some(instruction.as_str())
    );
    assert_eq!(
        instructed(&s, &waiting.line.id).await,
        waiting.line.amount_fen
    );
    assert_money_holds(&s, &waiting.line.id).await;
}

#[tokio::test]
async fn an_order_placed_before_a_black_listing_and_paid_after_it_is_refunded() {
    let s = shop().await;
    let waiting = s.order().await;
    let supervisor = s.competent_supervisor().await;
    s.t.app
        .supervision()
        .move_to_list(
            &supervisor,
            &s.institution_id,
            &app::supervision::ListMove {
                to: "black".into(),
                reason: "违规收费".into(),
            },
        )
        .await
        .unwrap();
    assert_eq!(
        s.try_order().await.unwrap_err().code,
        ErrorCode::NotWhiteListed
    );
    let ack = s.pay(&waiting, "PAY-AFTER-BLACK").await;
    assert_eq!(ack.status, PaymentResult::Refunding);
    let refunds =
        s.t.app
            .money()
            .refunds_of_order(&s.parent_actor(), &waiting.line.id)
            .await
            .unwrap();
    assert_eq!(refunds.len(), 1);
    assert_eq!(refunds[0].amount_fen, waiting.line.amount_fen);
    assert_money_holds(&s, &waiting.line.id).await;
}

/// A bank's instruction endpoint on a loopback port: it acknowledges every instruction and, once `answer` is
/// set, answers an instruction it has already seen with that result (what a bank does when asked again).
struct BankEndpoint {
    received: Arc<Mutex<Vec<String>>>,
    answer: Arc<Mutex<Option<serde_json::Value>>>,
}

async fn bank_endpoint(s: &Shop) -> BankEndpoint {
    let received: Arc<Mutex<Vec<String>>> = Arc::default();
    let answer: Arc<Mutex<Option<serde_json::Value>>> = Arc::default();
    let (seen, answers) = (received.clone(), answer.clone());
    let router = axum::Router::new().route(
        "/instructions",
        axum::routing::post(move |body: axum::body::Bytes| {
            let (seen, answers) = (seen.clone(), answers.clone());
            async move {
                let sent: serde_json::Value = serde_json::from_slice(&body).unwrap();
                let id = sent["instruction_id"].as_str().unwrap().to_owned();
                let mut seen = seen.lock().unwrap();
                let before = seen.contains(&id);
                seen.push(id);
                match answers.lock().unwrap().clone() {
                    Some(result) if before => {
                        (axum::http::StatusCode::OK, axum::Json(result)).into_response()
                    }
                    _ => axum::http::StatusCode::ACCEPTED.into_response(),
                }
            }
        }),
    );
    use axum::response::IntoResponse;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    s.t.app
        .money()
        .register_bank_endpoint(
            &s.bank_actor(),
            &app::bank::EndpointRegistration {
                instruction_url: format!("{base}/instructions"),
                checkout_url: format!("{base}/checkout"),
            },
        )
        .await
        .unwrap();
    BankEndpoint { received, answer }
}

/// A paid order with one confirmed lesson whose release instruction the bank has acknowledged.
async fn acknowledged_release(s: &Shop) -> (app::orders::OrderDetail, String) {
    let (order, _) = s.paid_and_deposited().await;
    let lesson = s.attend(&order.line.id).await;
    let confirmed =
        s.t.app
            .money()
            .confirm_lesson(&s.parent_actor(), &lesson.id)
            .await
            .unwrap();
    assert_eq!(s.t.app.money().deliver_due_instructions().await.unwrap(), 1);
    let instruction =
        s.t.app
            .store()
            .read()
            .lessons()
            .lesson(&confirmed.id)
            .await
            .unwrap()
            .unwrap()
            .release_instruction_id
            .unwrap();
    let view =
        s.t.app
            .money()
            .instruction_view(&instruction)
            .await
            .unwrap();
    assert_eq!(view.status, InstructionStatus::Acknowledged);
    (order, instruction)
}

/// Two servers on one database deliver each due instruction once: a delivery claims its rows before it sends
/// them, so the other node takes others or none (on PostgreSQL the two run at once).
#[tokio::test]
async fn two_nodes_deliver_each_due_instruction_once() {
    let s = shop().await;
    let bank = bank_endpoint(&s).await;
    let (order, _) = s.paid_and_deposited().await;
    for _ in 0..6 {
        let lesson = s.attend(&order.line.id).await;
        s.t.app
            .money()
            .confirm_lesson(&s.parent_actor(), &lesson.id)
            .await
            .unwrap();
    }
    let other = s.t.another_node().await;
    let (here, there) = tokio::join!(
        s.t.app.money().deliver_due_instructions(),
        other.money().deliver_due_instructions()
    );
    assert_eq!(
        here.unwrap() + there.unwrap(),
        6,
        "every release acknowledged"
    );
    let mut received = bank.received.lock().unwrap().clone();
    assert_eq!(received.len(), 6, "each sent once: {received:?}");
    received.sort();
    received.dedup();
    assert_eq!(received.len(), 6, "six different instructions");
    // Nothing is due again until the bank is to be asked for the results.
    assert_eq!(other.money().deliver_due_instructions().await.unwrap(), 0);
}

#[tokio::test]
async fn an_acknowledged_instruction_without_a_result_is_asked_again_and_the_answer_settles_it() {
    let s = shop().await;
    let bank = bank_endpoint(&s).await;
    let (order, instruction) = acknowledged_release(&s).await;
    // The result message is lost. The bank answers the same instruction id with its result.
    *bank.answer.lock().unwrap() = Some(serde_json::json!({
        "status": "executed", "bank_ref": "MV-ANSWERED-AGAIN"
    }));
    s.t.clock.advance_millis(9 * 60_000);
    s.t.app.money().deliver_due_instructions().await.unwrap();
    assert_eq!(
        bank.received.lock().unwrap().len(),
        1,
        "not asked before ten minutes"
    );
    s.t.clock.advance_millis(60_000);
    s.t.app.money().deliver_due_instructions().await.unwrap();
    assert_eq!(
        bank.received.lock().unwrap().as_slice(),
        [instruction.clone(), instruction.clone()],
        "asked again under the same id"
    );
    let view =
        s.t.app
            .money()
            .instruction_view(&instruction)
            .await
            .unwrap();
    assert_eq!(
        (view.status.as_str(), view.bank_ref.as_deref()),
        ("executed", Some("MV-ANSWERED-AGAIN"))
    );
    assert!(s.escrow(&order.line.id).await < order.line.amount_fen);
    assert_money_holds(&s, &order.line.id).await;
}

#[tokio::test]
async fn an_instruction_the_bank_never_answers_reaches_the_regulator_after_a_day() {
    let s = shop().await;
    // A supervisor of the region competent for the institution, to be told.
    let competent = s.competent_region().await;
    let account_id =
        s.t.app
            .identity()
            .create_account(
                &Actor::System { name: "test" },
                app::admin::NewAccount {
                    username: "competent.supervisor".into(),
                    display_name: "主管监管员".into(),
                    password: "competent-supervisor-2026".into(),
                    kind: app::admin::NewAccountKind::Regulator {
                        region: competent,
                        role: domain::access::RegulatorRole::Supervisor,
                        totp_secret: b"12345678901234567890".to_vec(),
                    },
                },
            )
            .await
            .unwrap();
    let competent_regulator = Actor::Regulator {
        account_id,
        region: competent,
        role: domain::access::RegulatorRole::Supervisor,
    };
    let bank = bank_endpoint(&s).await;
    let (_, instruction) = acknowledged_release(&s).await;
    for _ in 0..23 {
        s.t.clock.advance_millis(3_600_000);
        s.t.app.money().deliver_due_instructions().await.unwrap();
    }
    assert_eq!(
        s.t.app
            .money()
            .raise_unsettled_instructions()
            .await
            .unwrap(),
        0
    );
    assert!(
        bank.received.lock().unwrap().len() >= 3,
        "asked again on the schedule meanwhile"
    );
    s.t.clock.advance_millis(2 * 3_600_000);
    assert_eq!(
        s.t.app
            .money()
            .raise_unsettled_instructions()
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        s.t.app
            .money()
            .raise_unsettled_instructions()
            .await
            .unwrap(),
        0,
        "raised once"
    );
    assert!(
        s.risks()
            .await
            .contains(&"instruction_unsettled".to_owned())
    );
    let told =
        s.t.app
            .service()
            .my_notifications(&competent_regulator)
            .await
            .unwrap();
    assert!(
        told.iter().any(|n| n.body.contains("未回复")),
        "the competent regulator is told: {told:?}"
    );
    let view =
        s.t.app
            .money()
            .instruction_view(&instruction)
            .await
            .unwrap();
    assert_eq!(
        view.status,
        InstructionStatus::Acknowledged,
        "raised, not guessed"
    );
}

fn statement_line(
    bank_ref: &str,
    direction: &str,
    amount: i64,
    balance_after: i64,
) -> StatementEntry {
    StatementEntry {
        bank_ref: bank_ref.into(),
        direction: direction.into(),
        amount_fen: amount,
        balance_after_fen: balance_after,
        occurred_at: TEST_NOW.millis() + 60_000,
        instruction_id: None,
        order_no: None,
        payment_ref: None,
    }
}

#[tokio::test]
async fn the_daily_statement_settles_a_payment_and_an_execution_whose_messages_were_dropped() {
    let s = shop().await;
    let _bank = bank_endpoint(&s).await;
    // An instruction executed by the bank, whose movement report and result were both lost.
    let (released, instruction) = acknowledged_release(&s).await;
    let fee =
        s.t.app
            .money()
            .instruction_view(&instruction)
            .await
            .unwrap()
            .amount_fen;
    // A payment the bank took, whose payment notice and movement report were both lost.
    let unpaid = s.order().await;
    let amount = unpaid.line.amount_fen;
    let opening = released.line.amount_fen;
    let mut paid_in = statement_line("MV-DROPPED-IN", "in", amount, opening + amount);
    paid_in.order_no = Some(unpaid.line.order_no.clone());
    paid_in.payment_ref = Some("PAY-DROPPED".into());
    let mut paid_out = statement_line("MV-DROPPED-OUT", "out", fee, opening + amount - fee);
    paid_out.instruction_id = Some(instruction.clone());
    let statement = DailyStatement {
        account_no: DEMO_ACCOUNT_NO.into(),
        date: TEST_NOW.china_date().to_string(),
        opening_fen: 0,
        closing_fen: opening + amount - fee,
        inflow_fen: opening + amount,
        outflow_fen: fee,
        movement_count: 3,
        entries: vec![paid_in, paid_out],
    };
    let ack =
        s.t.app
            .money()
            .record_statement(&s.bank_actor(), &statement)
            .await
            .unwrap();
    assert_eq!(
        (ack.movements_recorded, ack.payments_reconciled),
        (2, 1),
        "{ack:?}"
    );
    assert!(ack.refused.is_empty(), "{ack:?}");
    let line = s.line(&unpaid.line.id).await;
    assert_eq!((line.status.as_str(), line.escrow_fen), ("paid", amount));
    let view =
        s.t.app
            .money()
            .instruction_view(&instruction)
            .await
            .unwrap();
    assert_eq!(view.status, InstructionStatus::Executed);
    // The late payment notice, if it comes, is the same payment.
    let late = s.pay(&unpaid, "PAY-DROPPED").await;
    assert!(late.duplicate);
    // The same statement again changes nothing.
    let again =
        s.t.app
            .money()
            .record_statement(&s.bank_actor(), &statement)
            .await
            .unwrap();
    assert!(again.duplicate);
    assert_eq!(
        (again.movements_recorded, again.payments_reconciled),
        (0, 0)
    );
    let paid_entry =
        s.t.app
            .store()
            .read()
            .audit_entries_after(0, 100_000)
            .await
            .unwrap()
            .into_iter()
            .find(|e| e.body.action == "order.paid" && e.body.payload.contains(&unpaid.line.id))
            .expect("the payment's evidence");
    assert!(
        paid_entry
            .body
            .payload
            .contains(r#""reconciled_from":"statement""#),
        "{}",
        paid_entry.body.payload
    );
    assert_money_holds(&s, &unpaid.line.id).await;
    assert_money_holds(&s, &released.line.id).await;
}

#[tokio::test]
async fn a_reused_bank_reference_with_other_content_is_a_conflict_and_a_red_event() {
    let s = shop().await;
    let (first, paid) = s.paid_and_deposited().await;
    let second = s.order().await;

    // A payment notice under the first payment's reference, for another order.
    let reused = PaymentNotice {
        order_no: second.line.order_no.clone(),
        account_no: DEMO_ACCOUNT_NO.into(),
        amount_fen: second.line.amount_fen,
        bank_ref: "PAY-1".into(),
        paid_at: TEST_NOW.millis(),
    };
    let refused =
        s.t.app
            .money()
            .record_payment(&s.bank_actor(), &reused)
            .await
            .unwrap_err();
    assert_eq!(refused.code, ErrorCode::BankRefReused, "{}", refused.detail);
    assert_eq!(refused.code.status(), 409);
    for sql in ["UNIQUE", "constraint", "orders.", "INSERT", "duplicate key"] {
        assert!(
            !refused.detail.en.contains(sql),
            "no SQL text: {}",
            refused.detail
        );
    }
    assert_eq!(
        s.line(&second.line.id).await.status,
        OrderStatus::AwaitingPayment
    );

    // A movement report under an inflow's reference, as an outflow of another amount.
    let twisted = MovementReport {
        account_no: DEMO_ACCOUNT_NO.into(),
        bank_ref: "MV-IN".into(),
        direction: "out".into(),
        amount_fen: 12_345,
        balance_after_fen: paid - 12_345,
        occurred_at: TEST_NOW.millis() + 1,
        instruction_id: None,
        order_no: None,
    };
    let refused =
        s.t.app
            .money()
            .record_movement(&s.bank_actor(), &twisted)
            .await
            .unwrap_err();
    assert_eq!(refused.code, ErrorCode::BankRefReused);
    let events =
        s.t.app
            .store()
            .read()
            .bank()
            .risk_events(Some(&s.institution_id), 50)
            .await
            .unwrap();
    let reused: Vec<_> = events
        .iter()
        .filter(|e| e.kind == "reference_reused")
        .collect();
    assert_eq!(reused.len(), 2, "one red event per refused message");
    assert!(reused.iter().all(|e| e.level == "red"));

    // The same report again, unchanged, is still a duplicate.
    let same = s
        .movement("MV-IN", "in", paid, paid, TEST_NOW.millis(), None)
        .await
        .unwrap();
    assert!(same.duplicate);
    assert_money_holds(&s, &first.line.id).await;
}

#[tokio::test]
async fn a_second_outflow_naming_an_executed_instruction_is_money_nobody_instructed() {
    let s = shop().await;
    let (order, paid) = s.paid_and_deposited().await;
    let system = Actor::System { name: "test" };
    let ins =
        s.t.app
            .money()
            .instruct_bank(&system, "refund", &order.line.id, 1_000)
            .await
            .unwrap();
    let first = s
        .movement(
            "MV-OUT-1",
            "out",
            1_000,
            paid - 1_000,
            TEST_NOW.millis() + 1,
            Some(&ins.instruction_id),
        )
        .await
        .unwrap();
    assert_eq!(first.matched, "matched");
    let second = s
        .movement(
            "MV-OUT-2",
            "out",
            1_000,
            paid - 2_000,
            TEST_NOW.millis() + 2,
            Some(&ins.instruction_id),
        )
        .await
        .unwrap();
    assert_eq!(second.matched, "unmatched");
    assert!(second.risk_events.contains(&"unmatched_outflow".to_owned()));
    s.t.app
        .money()
        .record_instruction_result(
            &s.bank_actor(),
            &ins.instruction_id,
            &InstructionResult {
                status: "executed".into(),
                bank_ref: Some("MV-OUT-1".into()),
                reason: None,
            },
        )
        .await
        .unwrap();
    let report = app::ledger_check::verify_money(s.t.app.store())
        .await
        .unwrap();
    assert!(report.violations.is_empty(), "{:?}", report.violations);
}

/// Indicators of the warnings raised for the institution after `since`.
async fn warnings_since(s: &Shop, since: i64) -> Vec<String> {
    s.t.app
        .store()
        .read()
        .warnings()
        .list(None, Some(&s.institution_id), since, 100)
        .await
        .unwrap()
        .into_iter()
        .map(|w| format!("{}.{}", w.indicator, w.level))
        .collect()
}

/// A confirmed lesson's release instruction.
async fn released_lesson(s: &Shop, order_id: &str) -> app::bank::InstructionView {
    let lesson = s.attend(order_id).await;
    s.t.app
        .money()
        .confirm_lesson(&s.parent_actor(), &lesson.id)
        .await
        .unwrap();
    let id =
        s.t.app
            .store()
            .read()
            .lessons()
            .lesson(&lesson.id)
            .await
            .unwrap()
            .unwrap()
            .release_instruction_id
            .unwrap();
    s.t.app.money().instruction_view(&id).await.unwrap()
}

#[tokio::test]
async fn instructions_executed_close_together_and_reported_out_of_order_raise_nothing() {
    let s = shop().await;
    let (order, paid) = s.paid_and_deposited().await;
    let since = TEST_NOW.millis() - 1;
    let first = released_lesson(&s, &order.line.id).await;
    let second = released_lesson(&s, &order.line.id).await;
    // The bank executes both, then reports the second before the first.
    let after_both = paid - first.amount_fen - second.amount_fen;
    let second_report = s
        .movement(
            "MV-SECOND",
            "out",
            second.amount_fen,
            after_both,
            TEST_NOW.millis() + 2_000,
            Some(&second.instruction_id),
        )
        .await
        .unwrap();
    assert!(
        second_report.risk_events.is_empty(),
        "the first release was executed, only not reported yet: {:?}",
        second_report.risk_events
    );
    s.movement(
        "MV-FIRST",
        "out",
        first.amount_fen,
        paid - first.amount_fen,
        TEST_NOW.millis() + 1_000,
        Some(&first.instruction_id),
    )
    .await
    .unwrap();
    assert!(s.risks().await.is_empty(), "{:?}", s.risks().await);
    assert!(
        warnings_since(&s, since).await.is_empty(),
        "{:?}",
        warnings_since(&s, since).await
    );
}

#[tokio::test]
async fn a_refund_the_platform_instructed_is_no_large_outflow_and_one_it_did_not_is() {
    let s = shop().await;
    let (order, paid) = s.paid_and_deposited().await;
    let since = TEST_NOW.millis() - 1;
    let refund =
        s.t.app
            .money()
            .request_refund(
                &s.parent_actor(),
                &order.line.id,
                &RefundRequest {
                    reason: "搬家".into(),
                },
            )
            .await
            .unwrap();
    let admin = s.staff(StaffRole::Admin).await;
    let agreed =
        s.t.app
            .money()
            .answer_refund(&admin, &refund.id, &agree())
            .await
            .unwrap();
    let instruction =
        s.t.app
            .store()
            .read()
            .refunds()
            .refund(&agreed.id)
            .await
            .unwrap()
            .unwrap()
            .instruction_id
            .unwrap();
    // All of the account's money leaves, on the platform's own instruction.
    let report = s
        .movement(
            "MV-REFUND",
            "out",
            paid,
            0,
            TEST_NOW.millis() + 1_000,
            Some(&instruction),
        )
        .await
        .unwrap();
    assert_eq!(report.matched, "matched");
    assert!(report.risk_events.is_empty(), "{:?}", report.risk_events);
    assert!(
        warnings_since(&s, since).await.is_empty(),
        "{:?}",
        warnings_since(&s, since).await
    );

    // The same money leaving without an instruction is what the indicators are for.
    let other = s.order().await;
    s.pay(&other, "PAY-2").await;
    s.movement(
        "MV-IN-2",
        "in",
        other.line.amount_fen,
        other.line.amount_fen,
        TEST_NOW.millis() + 2_000,
        None,
    )
    .await
    .unwrap();
    let rogue = s
        .movement(
            "MV-ROGUE",
            "out",
            other.line.amount_fen,
            0,
            TEST_NOW.millis() + 3_000,
            None,
        )
        .await
        .unwrap();
    assert_eq!(rogue.matched, "unmatched");
    let raised = warnings_since(&s, since).await;
    assert!(
        raised.iter().any(|w| w.starts_with("large_outflow")),
        "{raised:?}"
    );
    assert!(
        raised.iter().any(|w| w.starts_with("unmatched_outflow")),
        "{raised:?}"
    );
}

/// A course of the demo institution listed at ¥150 × 20 lessons (¥3,000), with a preferential price when given.
async fn course_at_150(s: &Shop, preferential: Option<i64>) -> String {
    let institution =
        s.t.app
            .store()
            .read()
            .registry()
            .institution(&s.institution_id)
            .await
            .unwrap()
            .unwrap();
    let today = TEST_NOW.china_date();
    s.t.app
        .registry()
        .publish_course(
            &s.staff(StaffRole::Admin).await,
            &app::courses::NewCourse {
                name: "创意美术（20课时）".into(),
                category: "arts".into(),
                mode: institution.mode.clone(),
                grades: "小学".into(),
                lessons: 20,
                minutes_per_lesson: if institution.mode == "online" { 30 } else { 45 },
                class_size: 10,
                price_per_lesson_fen: 15_000,
                first_lesson: (today + chrono::Days::new(7)).to_string(),
                last_lesson: (today + chrono::Days::new(70)).to_string(),
                preferential_total_fen: preferential,
                schedule: None,
            },
        )
        .await
        .unwrap()
}

async fn order_of(s: &Shop, course_id: &str) -> app::orders::OrderDetail {
    let children =
        s.t.app
            .identity()
            .my_children(&s.parent_actor())
            .await
            .unwrap();
    s.t.app
        .money()
        .place_order(
            &s.parent_actor(),
            &app::orders::NewOrder {
                course_id: course_id.to_owned(),
                child_id: children[0].id.clone(),
            },
        )
        .await
        .unwrap()
}

/// Pays the order, takes `taken` lessons and asks for the rest back: the refund's amount.
async fn refund_after_lessons(s: &Shop, order: &app::orders::OrderDetail, taken: usize) -> i64 {
    s.pay(order, &format!("PAY-{}", order.line.order_no)).await;
    for _ in 0..taken {
        s.attend(&order.line.id).await;
    }
    s.t.app
        .money()
        .request_refund(
            &s.parent_actor(),
            &order.line.id,
            &RefundRequest {
                reason: "不再学习".into(),
            },
        )
        .await
        .unwrap()
        .amount_fen
}

#[tokio::test]
async fn a_course_sold_at_a_preferential_price_refunds_on_the_price_paid() {
    let s = shop().await;
    let course = course_at_150(&s, Some(270_000)).await;
    let order = order_of(&s, &course).await;
    assert_eq!(order.line.amount_fen, 270_000);
    let price = &order.contract.price;
    let discount = price
        .discount
        .as_ref()
        .expect("the contract names the discount");
    assert_eq!(
        (
            price.total_fen,
            discount.list_total_fen,
            discount.discount_fen
        ),
        (270_000, 300_000, 30_000)
    );
    assert_eq!(order.refund_preview[7].refund_fen, 175_500);
    assert_eq!(
        refund_after_lessons(&s, &order, 7).await,
        175_500,
        "¥1,755.00"
    );
    // A price above the list price is no preferential price.
    let refused = s
        .t
        .app
        .registry()
        .publish_course(
            &s.staff(StaffRole::Admin).await,
            &app::courses::NewCourse {
                preferential_total_fen: Some(300_001),
                ..serde_json::from_value(serde_json::json!({
                    "name": "x", "category": "arts", "mode": "offline", "grades": "小学", "lessons": 20,
                    "minutes_per_lesson": 45, "class_size": 10, "price_per_lesson_fen": 15000,
                    "first_lesson": "2026-12-10", "last_lesson": "2027-01-10"
                }))
                .unwrap()
            },
        )
        .await
        .unwrap_err();
    assert_eq!(refused.code, ErrorCode::InvalidParameter);
}

#[tokio::test]
async fn an_order_discounted_before_payment_is_paid_and_refunded_at_its_new_price() {
    let s = shop().await;
    let _bank = bank_endpoint(&s).await;
    let course = course_at_150(&s, None).await;
    let order = order_of(&s, &course).await;
    assert_eq!(order.line.amount_fen, 300_000);
    assert!(order.contract.price.discount.is_none());
    let admin = s.staff(StaffRole::Admin).await;
    let discount = |fen: i64| app::orders::OrderDiscount {
        total_fen: fen,
        reason: "老学员九折".into(),
    };
    let above =
        s.t.app
            .money()
            .discount_order(&admin, &order.line.id, &discount(300_001))
            .await
            .unwrap_err();
    assert_eq!(above.code, ErrorCode::InvalidParameter);
    let teacher = s.staff(StaffRole::Teacher).await;
    assert_eq!(
        s.t.app
            .money()
            .discount_order(&teacher, &order.line.id, &discount(270_000))
            .await
            .unwrap_err()
            .code,
        ErrorCode::Forbidden
    );
    let discounted =
        s.t.app
            .money()
            .discount_order(&admin, &order.line.id, &discount(270_000))
            .await
            .unwrap();
    assert_eq!(discounted.line.amount_fen, 270_000);
    let d = discounted.contract.price.discount.as_ref().unwrap();
    assert_eq!((d.discount_fen, d.reason.as_str()), (30_000, "老学员九折"));
    assert_ne!(discounted.contract_digest, order.contract_digest);
    let digest = hex::encode(ledger::Crypto::hash(
        &ledger::SmSuite,
        &[ledger::canonical_json(&serde_json::to_value(&discounted.contract).unwrap()).as_bytes()],
    ));
    assert_eq!(
        discounted.contract_digest, digest,
        "the digest is the new contract's"
    );
    assert!(
        discounted
            .checkout_url
            .as_deref()
            .is_some_and(|u| u.contains("amount_fen=270000")),
        "the parent pays the new price"
    );
    let told =
        s.t.app
            .service()
            .my_notifications(&s.parent_actor())
            .await
            .unwrap();
    assert!(
        told.iter().any(|n| n.body.contains("请核对后再支付")),
        "{told:?}"
    );
    // A payment at the old price does not fit the order any more.
    let stale = PaymentNotice {
        order_no: order.line.order_no.clone(),
        account_no: DEMO_ACCOUNT_NO.into(),
        amount_fen: 300_000,
        bank_ref: "PAY-OLD-PRICE".into(),
        paid_at: TEST_NOW.millis(),
    };
    assert_eq!(
        s.t.app
            .money()
            .record_payment(&s.bank_actor(), &stale)
            .await
            .unwrap_err()
            .code,
        ErrorCode::AmountMismatch
    );
    assert_eq!(refund_after_lessons(&s, &discounted, 7).await, 175_500);
    assert_eq!(
        s.t.app
            .money()
            .discount_order(&admin, &order.line.id, &discount(200_000))
            .await
            .unwrap_err()
            .code,
        ErrorCode::Conflict,
        "the price is set before payment"
    );
    assert_money_holds(&s, &order.line.id).await;
}

#[tokio::test]
async fn a_balance_reported_before_a_later_payment_arrived_is_compared_without_it() {
    let s = shop().await;
    let first = s.order().await;
    let second = s.order().await;
    let (a, b) = (first.line.amount_fen, second.line.amount_fen);
    let since = TEST_NOW.millis() - 1;
    // The bank takes two payments, at t and t + 1; both notices arrive before the first movement report.
    for (order, at, bank_ref) in [(&first, 0, "PAY-T0"), (&second, 1, "PAY-T1")] {
        let notice = PaymentNotice {
            order_no: order.line.order_no.clone(),
            account_no: DEMO_ACCOUNT_NO.into(),
            amount_fen: order.line.amount_fen,
            bank_ref: bank_ref.into(),
            paid_at: TEST_NOW.millis() + at,
        };
        s.t.app
            .money()
            .record_payment(&s.bank_actor(), &notice)
            .await
            .unwrap();
    }
    // The report of the first inflow says what the account held at t: the first payment only.
    let early = s
        .movement("MV-T0", "in", a, a, TEST_NOW.millis(), None)
        .await
        .unwrap();
    assert!(early.risk_events.is_empty(), "{:?}", early.risk_events);
    let late = s
        .movement("MV-T1", "in", b, a + b, TEST_NOW.millis() + 1, None)
        .await
        .unwrap();
    assert!(late.risk_events.is_empty(), "{:?}", late.risk_events);
    assert!(
        warnings_since(&s, since).await.is_empty(),
        "{:?}",
        warnings_since(&s, since).await
    );
    // A balance that really falls short as of its moment is still caught.
    let short = s
        .movement(
            "MV-T2",
            "out",
            100,
            a + b - 100,
            TEST_NOW.millis() + 2,
            None,
        )
        .await
        .unwrap();
    assert!(
        short.risk_events.contains(&"balance_shortfall".to_owned()),
        "{:?}",
        short.risk_events
    );
}

#[tokio::test]
async fn payments_and_releases_of_one_institution_at_once_all_go_through() {
    let s = shop().await;
    // Four paid orders with a confirmed lesson each: four releases for the bank to execute.
    let mut releases = Vec::new();
    let mut paid_so_far = 0;
    for i in 0..4 {
        let order = s.order().await;
        s.pay(&order, &format!("PAY-EARLIER-{i}")).await;
        paid_so_far += order.line.amount_fen;
        releases.push(released_lesson(&s, &order.line.id).await);
    }
    let mut orders = Vec::new();
    for _ in 0..8 {
        orders.push(s.order().await);
    }
    // A bank with many connections: eight payment notices and the four releases' movement reports at the
    // same moment. Each payment holds the institution against a black-listing, each report updates the
    // same figures; none may deadlock another.
    let (paid, moved) = pay_and_report_at_once(&s, &orders, &releases, paid_so_far).await;
    for answer in paid {
        assert_eq!(
            answer.expect("every payment is recorded").status,
            PaymentResult::Paid
        );
    }
    for answer in moved {
        assert_eq!(answer.expect("every report is recorded").matched, "matched");
    }
    let report = app::ledger_check::verify_money(s.t.app.store())
        .await
        .unwrap();
    assert!(report.violations.is_empty(), "{:?}", report.violations);
}

#[tokio::test]
async fn an_execution_reported_and_answered_at_the_same_moment_raises_nothing() {
    let s = shop().await;
    let bank = s.bank_actor();
    for round in 0..6 {
        let order = s.order().await;
        let paid = order.line.amount_fen;
        s.pay(&order, &format!("PAY-BOTH-{round}")).await;
        let before = s.escrow_total().await;
        // The bank took the money (its balance holds every order's escrow), then refunds this order.
        let refund =
            s.t.app
                .money()
                .request_refund(
                    &s.parent_actor(),
                    &order.line.id,
                    &RefundRequest {
                        reason: "不学了".into(),
                    },
                )
                .await
                .unwrap();
        let admin = s.staff(StaffRole::Admin).await;
        s.t.app
            .money()
            .answer_refund(&admin, &refund.id, &agree())
            .await
            .unwrap();
        let instruction =
            s.t.app
                .store()
                .read()
                .refunds()
                .refund(&refund.id)
                .await
                .unwrap()
                .unwrap()
                .instruction_id
                .unwrap();
        let at = TEST_NOW.millis() + 1_000 * (round + 1);
        let report = MovementReport {
            account_no: DEMO_ACCOUNT_NO.into(),
            bank_ref: format!("MV-BOTH-{round}"),
            direction: "out".into(),
            amount_fen: paid,
            balance_after_fen: before - paid,
            occurred_at: at,
            instruction_id: Some(instruction.clone()),
            order_no: None,
        };
        let result = InstructionResult {
            status: "executed".into(),
            bank_ref: Some(format!("MV-BOTH-{round}")),
            reason: None,
        };
        let (moved, answered) = tokio::join!(
            s.t.app.money().record_movement(&bank, &report),
            s.t.app
                .money()
                .record_instruction_result(&bank, &instruction, &result),
        );
        answered.unwrap();
        let moved = moved.unwrap();
        assert!(
            moved.risk_events.is_empty(),
            "round {round}: {:?}",
            moved.risk_events
        );
    }
}

#[tokio::test]
async fn a_payment_arriving_while_a_release_is_reported_raises_nothing() {
    let s = shop().await;
    let bank = s.bank_actor();
    for round in 0..12 {
        let order = s.order().await;
        s.pay(&order, &format!("PAY-RELEASED-{round}")).await;
        let release = released_lesson(&s, &order.line.id).await;
        let later = s.order().await;
        // The bank executed the release (its balance: everything held less the lesson fee), then took another
        // parent's payment; the report of the first and the notice of the second arrive at the same moment.
        let at = TEST_NOW.millis() + 10_000 * (round + 1);
        let report = MovementReport {
            account_no: DEMO_ACCOUNT_NO.into(),
            bank_ref: format!("MV-RELEASED-{round}"),
            direction: "out".into(),
            amount_fen: release.amount_fen,
            balance_after_fen: s.escrow_total().await - release.amount_fen,
            occurred_at: at,
            instruction_id: Some(release.instruction_id.clone()),
            order_no: None,
        };
        let notice = PaymentNotice {
            order_no: later.line.order_no.clone(),
            account_no: DEMO_ACCOUNT_NO.into(),
            amount_fen: later.line.amount_fen,
            bank_ref: format!("PAY-LATER-{round}"),
            paid_at: at + 5_000,
        };
        let (moved, paid) = tokio::join!(
            s.t.app.money().record_movement(&bank, &report),
            s.t.app.money().record_payment(&bank, &notice),
        );
        assert_eq!(paid.unwrap().status, PaymentResult::Paid);
        let moved = moved.unwrap();
        assert_eq!(moved.matched, "matched");
        assert!(
            moved.risk_events.is_empty(),
            "round {round}: {:?}",
            moved.risk_events
        );
    }
}

#[tokio::test]
async fn money_sent_back_on_arrival_and_releases_reported_at_once_all_go_through() {
    let s = shop().await;
    // Releases the bank has executed, and orders whose parents are at the bank's checkout.
    let mut releases = Vec::new();
    let mut held = 0;
    for i in 0..4 {
        let order = s.order().await;
        s.pay(&order, &format!("PAY-BEFORE-{i}")).await;
        held += order.line.amount_fen;
        releases.push(released_lesson(&s, &order.line.id).await);
    }
    let mut waiting = Vec::new();
    for _ in 0..8 {
        waiting.push(s.order().await);
    }
    let supervisor = s.competent_supervisor().await;
    s.t.app
        .money()
        .start_run_off(
            &supervisor,
            &s.institution_id,
            &app::run_off::RunOffRequest {
                reason: "机构停业".into(),
            },
        )
        .await
        .unwrap();
    // Every payment that arrives now is instructed straight back on the same account whose reports the bank
    // sends at the same moment; both add to the county's figures. Neither may deadlock the other.
    let (paid, moved) = pay_and_report_at_once(&s, &waiting, &releases, held).await;
    for answer in paid {
        assert_eq!(
            answer.expect("every payment is recorded").status,
            PaymentResult::Refunding
        );
    }
    for answer in moved {
        answer.expect("every report is recorded");
    }
    let report = app::ledger_check::verify_money(s.t.app.store())
        .await
        .unwrap();
    assert!(report.violations.is_empty(), "{:?}", report.violations);
}

/// A bank with many connections: a payment notice for each of `orders` and the movement report of each of
/// `releases` (executed one after another from `balance`), all sent at the same moment.
async fn pay_and_report_at_once(
    s: &Shop,
    orders: &[app::orders::OrderDetail],
    releases: &[app::bank::InstructionView],
    balance: i64,
) -> (
    Vec<Result<app::bank::PaymentAck, app::AppError>>,
    Vec<Result<app::bank::MovementAck, app::AppError>>,
) {
    let notices: Vec<PaymentNotice> = orders
        .iter()
        .enumerate()
        .map(|(i, o)| PaymentNotice {
            order_no: o.line.order_no.clone(),
            account_no: DEMO_ACCOUNT_NO.into(),
            amount_fen: o.line.amount_fen,
            bank_ref: format!("PAY-AT-ONCE-{i}"),
            paid_at: TEST_NOW.millis() + 100 + i as i64,
        })
        .collect();
    let mut balance = balance;
    let reports: Vec<MovementReport> = releases
        .iter()
        .enumerate()
        .map(|(i, r)| {
            balance -= r.amount_fen;
            MovementReport {
                account_no: DEMO_ACCOUNT_NO.into(),
                bank_ref: format!("MV-RELEASE-{i}"),
                direction: "out".into(),
                amount_fen: r.amount_fen,
                balance_after_fen: balance,
                occurred_at: TEST_NOW.millis() + 10 + i as i64,
                instruction_id: Some(r.instruction_id.clone()),
                order_no: None,
            }
        })
        .collect();
    let bank = s.bank_actor();
    tokio::join!(
        futures_util::future::join_all(
            notices
                .iter()
                .map(|n| s.t.app.money().record_payment(&bank, n))
        ),
        futures_util::future::join_all(
            reports
                .iter()
                .map(|m| s.t.app.money().record_movement(&bank, m))
        ),
    )
}
