use super::money_flow::{shop, window_closes};
use app::complaints::{ComplaintAnswer, ComplaintRulingRequest, EvidenceFile, NewComplaint};
use app::lessons::Attendance;
use app::{Actor, ErrorCode};
use domain::access::StaffRole;

/// The smallest file `infer` reads as PNG.
fn png() -> Vec<u8> {
    let mut b = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    b.resize(64, 0);
    b
}

fn complaint(s: &super::money_flow::Shop, order_id: &str) -> NewComplaint {
    NewComplaint {
        institution_id: s.institution_id.clone(),
        order_id: Some(order_id.to_owned()),
        category: "teaching_quality".into(),
        body: "老师连续三次迟到，课程内容与宣传不符".into(),
    }
}

#[tokio::test]
async fn a_complaint_goes_to_the_institution_then_the_competent_regulator_who_orders_the_refund() {
    let s = shop().await;
    let order = s.order().await;
    let paid = order.line.amount_fen;
    s.pay(&order, "PAY-C1").await;
    s.attend(&order.line.id).await;
    let admin = s.staff(StaffRole::Admin).await;
    let parent = s.parent_actor();
    let new = complaint(&s, &order.line.id);

    // A renamed executable as evidence, a missing text, another family's order: refused, nothing kept.
    let exe = EvidenceFile {
        filename: "证据.png".into(),
        bytes: b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0".to_vec(),
    };
    let refused =
        s.t.app
            .service()
            .file_complaint(&parent, &new, &[exe])
            .await;
    assert_eq!(refused.unwrap_err().code, ErrorCode::DocumentRejected);
    let empty = NewComplaint {
        body: "  ".into(),
        ..complaint(&s, &order.line.id)
    };
    assert_eq!(
        s.t.app
            .service()
            .file_complaint(&parent, &empty, &[])
            .await
            .unwrap_err()
            .code,
        ErrorCode::FieldTooLong
    );
    let stranger = Actor::Parent {
        account_id: "another-family".into(),
    };
    assert_eq!(
        s.t.app
            .service()
            .file_complaint(&stranger, &new, &[])
            .await
            .unwrap_err()
            .code,
        ErrorCode::NotFound
    );
    assert!(
        s.t.app
            .service()
            .complaints_for(&parent)
            .await
            .unwrap()
            .is_empty()
    );

    let evidence = EvidenceFile {
        filename: "迟到记录.png".into(),
        bytes: png(),
    };
    let c =
        s.t.app
            .service()
            .file_complaint(&parent, &new, &[evidence])
            .await
            .unwrap();
    assert_eq!(c.status, domain::ComplaintStatus::WithInstitution);
    assert_eq!(c.evidence.len(), 1);
    assert!(c.complaint_no.starts_with("TS20261126"));
    assert!(
        !c.may_escalate,
        "the institution has its 5 working days first"
    );
    assert_eq!(
        s.t.app
            .service()
            .escalate_complaint(&parent, &c.id)
            .await
            .unwrap_err()
            .code,
        ErrorCode::Conflict
    );
    // The institution's staff see it, with the evidence, in their inbox and list.
    let inbox = s.t.app.service().my_notifications(&admin).await.unwrap();
    assert!(inbox.iter().any(|n| n.title == "收到家长投诉"), "{inbox:?}");
    assert_eq!(
        s.t.app
            .service()
            .complaints_for(&admin)
            .await
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        s.t.app
            .service()
            .complaint_for(&stranger, &c.id)
            .await
            .unwrap_err()
            .code,
        ErrorCode::NotFound,
        "another family's complaint does not exist for them"
    );

    let answer = ComplaintAnswer {
        answer: "已与老师沟通，调整排课".into(),
    };
    let answered =
        s.t.app
            .service()
            .answer_complaint(&admin, &c.id, &answer)
            .await
            .unwrap();
    assert_eq!(answered.status, domain::ComplaintStatus::Answered);
    assert_eq!(
        s.t.app
            .service()
            .answer_complaint(&admin, &c.id, &answer)
            .await
            .unwrap_err()
            .code,
        ErrorCode::Conflict,
        "answered once"
    );
    let escalated =
        s.t.app
            .service()
            .escalate_complaint(&parent, &c.id)
            .await
            .unwrap();
    assert_eq!(escalated.status, domain::ComplaintStatus::Escalated);
    let supervisor = s.competent_supervisor().await;
    assert_eq!(
        escalated.regulator_region.as_deref(),
        match &supervisor {
            Actor::Regulator { region, .. } => Some(region.as_str()),
            _ => None,
        },
        "the competent region"
    );
    assert_eq!(
        s.t.app
            .service()
            .complaints_for(&supervisor)
            .await
            .unwrap()
            .len(),
        1
    );

    let ruling = ComplaintRulingRequest {
        outcome: "penalised".into(),
        ruling: "查实虚假宣传，责令退还未上课时费用".into(),
        money_action: "refund".into(),
    };
    let elsewhere =
        super::money_flow::supervisor_outside(escalated.regulator_region.as_deref().unwrap());
    assert_eq!(
        s.t.app
            .service()
            .rule_on_complaint(&elsewhere, &c.id, &ruling)
            .await
            .unwrap_err()
            .code,
        ErrorCode::Forbidden
    );
    let bad = ComplaintRulingRequest {
        money_action: "confiscate".into(),
        ..ruling.clone()
    };
    assert_eq!(
        s.t.app
            .service()
            .rule_on_complaint(&supervisor, &c.id, &bad)
            .await
            .unwrap_err()
            .code,
        ErrorCode::InvalidParameter
    );
    let resolved =
        s.t.app
            .service()
            .rule_on_complaint(&supervisor, &c.id, &ruling)
            .await
            .unwrap();
    assert_eq!(
        (resolved.status.as_str(), resolved.outcome.as_deref()),
        ("resolved", Some("penalised"))
    );
    assert_eq!(
        s.t.app
            .service()
            .rule_on_complaint(&supervisor, &c.id, &ruling)
            .await
            .unwrap_err()
            .code,
        ErrorCode::Conflict
    );

    // The ordered refund: the untaken lessons at the price paid, instructed by the original route.
    let refunds =
        s.t.app
            .money()
            .refunds_of_order(&parent, &order.line.id)
            .await
            .unwrap();
    let expected =
        domain::contract::refund_after(domain::Fen::new(paid), order.contract.price.lessons, 1)
            .unwrap()
            .get();
    assert_eq!(
        (
            refunds.len(),
            refunds[0].status.as_str(),
            refunds[0].amount_fen
        ),
        (1, "upheld", expected)
    );
    assert!(
        s.t.app
            .money()
            .order_for(&parent, &order.line.id)
            .await
            .unwrap()
            .closed
    );

    let figures =
        s.t.app
            .service()
            .complaint_figures(&s.institution_id)
            .await
            .unwrap();
    assert_eq!(
        (figures.received, figures.closed, figures.escalated),
        (1, 1, 1)
    );
    // The parent hears of it by text message once the worker runs.
    s.t.app.service().send_queued_sms().await.unwrap();
    let text = s.t.sms.last_to("13700000009").unwrap();
    assert!(text.contains("投诉处理结果"), "{text}");
}

#[tokio::test]
async fn silence_past_the_deadline_lets_the_parent_escalate_and_a_freeze_holds_the_fees() {
    let s = shop().await;
    let order = s.order().await;
    s.pay(&order, "PAY-C2").await;
    let parent = s.parent_actor();
    let c =
        s.t.app
            .service()
            .file_complaint(&parent, &complaint(&s, &order.line.id), &[])
            .await
            .unwrap();
    s.t.clock
        .set(domain::Timestamp::from_millis(window_closes(5) - 1));
    assert!(
        !s.t.app
            .service()
            .complaint_for(&parent, &c.id)
            .await
            .unwrap()
            .institution_overdue
    );
    s.t.clock
        .set(domain::Timestamp::from_millis(window_closes(5)));
    let overdue =
        s.t.app
            .service()
            .complaint_for(&parent, &c.id)
            .await
            .unwrap();
    assert!(overdue.institution_overdue && overdue.may_escalate);
    s.t.app
        .service()
        .escalate_complaint(&parent, &c.id)
        .await
        .unwrap();

    let supervisor = s.competent_supervisor().await;
    let freeze = ComplaintRulingRequest {
        outcome: "mediated".into(),
        ruling: "调查期间冻结资金划转".into(),
        money_action: "freeze".into(),
    };
    s.t.app
        .service()
        .rule_on_complaint(&supervisor, &c.id, &freeze)
        .await
        .unwrap();

    // A lesson taken and confirmed on a frozen order: confirmed, its fee held in escrow.
    let lesson = s.attend(&order.line.id).await;
    let confirmed =
        s.t.app
            .money()
            .confirm_lesson(&parent, &lesson.id)
            .await
            .unwrap();
    assert_eq!(confirmed.status, domain::LessonStatus::Confirmed);
    assert_eq!(confirmed.release_status, None, "nothing instructed");
    let line = s.line(&order.line.id).await;
    assert_eq!(
        (line.escrow_fen, line.released_fen),
        (order.line.amount_fen, 0)
    );
}

/// The four refusals the issue names, each leaving the order, its lessons, refunds and the ledger as they
/// were.
#[tokio::test]
async fn bad_money_requests_get_clear_errors_and_change_nothing() {
    let s = shop().await;
    let order = s.order().await;
    let paid = order.line.amount_fen;
    s.pay(&order, "PAY-C3").await;
    let parent = s.parent_actor();
    let admin = s.staff(StaffRole::Admin).await;
    let attend = Attendance {
        evidence: "点名".into(),
    };
    let lesson =
        s.t.app
            .money()
            .take_attendance(&admin, &order.line.id, &attend)
            .await
            .unwrap();
    let snapshot = || async {
        let line = s.line(&order.line.id).await;
        let lessons =
            s.t.app
                .money()
                .lessons_of_order(&parent, &order.line.id)
                .await
                .unwrap();
        let refunds =
            s.t.app
                .money()
                .refunds_of_order(&parent, &order.line.id)
                .await
                .unwrap();
        let ledger =
            s.t.app
                .store()
                .read()
                .ledger()
                .ledger_recount()
                .await
                .unwrap();
        (
            (line.escrow_fen, line.released_fen, line.refunded_fen),
            lessons.iter().map(|l| l.status).collect::<Vec<_>>(),
            refunds.len(),
            ledger.transfers,
        )
    };
    let before = snapshot().await;

    // A refund larger than what remains in escrow.
    let system = Actor::System { name: "test" };
    assert_eq!(
        s.t.app
            .money()
            .instruct_bank(&system, "refund", &order.line.id, paid + 1)
            .await
            .unwrap_err()
            .code,
        ErrorCode::InsufficientFunds
    );
    // Another family confirming this family's lesson.
    let stranger = Actor::Parent {
        account_id: "another-family".into(),
    };
    assert_eq!(
        s.t.app
            .money()
            .confirm_lesson(&stranger, &lesson.id)
            .await
            .unwrap_err()
            .code,
        ErrorCode::NotFound
    );
    // A review with no confirmed lesson yet.
    let review = app::reviews::NewReview {
        ratings: domain::review::Ratings {
            teaching: 5,
            environment: 5,
            service: 5,
            value: 5,
        },
        text: "很好".into(),
    };
    assert_eq!(
        s.t.app
            .service()
            .post_review(&parent, &order.line.id, &review)
            .await
            .unwrap_err()
            .code,
        ErrorCode::ReviewNeedsConfirmedLesson
    );
    assert_eq!(snapshot().await, before, "nothing changed");

    // A closed order: the rest refunded, then every further step refused.
    let ask = app::refunds::RefundRequest {
        reason: "搬家".into(),
    };
    let refund =
        s.t.app
            .money()
            .request_refund(&parent, &order.line.id, &ask)
            .await
            .unwrap();
    let agree = app::refunds::RefundAnswer {
        agree: true,
        reason: String::new(),
    };
    s.t.app
        .money()
        .answer_refund(&admin, &refund.id, &agree)
        .await
        .unwrap();
    let closed = snapshot().await;
    assert_eq!(
        s.t.app
            .money()
            .take_attendance(&admin, &order.line.id, &attend)
            .await
            .unwrap_err()
            .code,
        ErrorCode::Conflict
    );
    assert_eq!(
        s.t.app
            .money()
            .request_refund(&parent, &order.line.id, &ask)
            .await
            .unwrap_err()
            .code,
        ErrorCode::Conflict
    );
    assert_eq!(
        s.t.app
            .money()
            .answer_refund(&admin, &refund.id, &agree)
            .await
            .unwrap_err()
            .code,
        ErrorCode::Conflict
    );
    assert_eq!(
        snapshot().await,
        closed,
        "nothing changed on the closed order"
    );
}
