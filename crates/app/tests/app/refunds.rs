use super::money_flow::shop;
use app::lessons::Attendance;
use app::refunds::{RefundAnswer, RefundRequest};
use app::testing::TEST_NOW;
use app::{Actor, ErrorCode};

#[tokio::test]
async fn silence_agrees_the_bank_refunds_the_untaken_lessons_and_the_order_closes() {
    let s = shop().await;
    let order = s.order().await;
    let paid = order.line.amount_fen;
    let lessons = order.contract.price.lessons;
    s.pay(&order, "PAY-1").await;
    let t0 = TEST_NOW.millis();
    s.movement("MV-IN", "in", paid, paid, t0, None)
        .await
        .unwrap();
    let admin = s.staff(domain::access::StaffRole::Admin).await;
    let attend = Attendance {
        evidence: "点名".into(),
    };
    s.t.app
        .money()
        .take_attendance(&admin, &order.line.id, &attend)
        .await
        .unwrap();

    let ask = RefundRequest {
        reason: "孩子转学".into(),
    };
    let stranger = Actor::Parent {
        account_id: "another-family".into(),
    };
    assert_eq!(
        s.t.app
            .money()
            .request_refund(&stranger, &order.line.id, &ask)
            .await
            .unwrap_err()
            .code,
        ErrorCode::NotFound
    );
    let refund =
        s.t.app
            .money()
            .request_refund(&s.parent_actor(), &order.line.id, &ask)
            .await
            .unwrap();
    let expected = domain::contract::refund_after(domain::Fen::new(paid), lessons, 1)
        .unwrap()
        .get();
    assert_eq!(
        refund.amount_fen, expected,
        "the untaken lessons at the price paid"
    );
    assert_eq!(
        refund.amount_fen, order.refund_preview[1].refund_fen,
        "what the preview promised"
    );
    assert_eq!(
        s.t.app
            .money()
            .request_refund(&s.parent_actor(), &order.line.id, &ask)
            .await
            .unwrap_err()
            .code,
        ErrorCode::Conflict,
        "one open request per order"
    );
    assert_eq!(
        s.t.app
            .money()
            .take_attendance(&admin, &order.line.id, &attend)
            .await
            .unwrap_err()
            .code,
        ErrorCode::Conflict,
        "no lessons while a refund is decided"
    );

    // Five working days of silence (a Thursday request: the window ends with the next Thursday).
    assert_eq!(s.t.app.money().auto_agree_due().await.unwrap(), 0);
    let boundary = super::money_flow::window_closes(5);
    s.t.clock.set(domain::Timestamp::from_millis(boundary - 1));
    assert_eq!(s.t.app.money().auto_agree_due().await.unwrap(), 0);
    s.t.clock.set(domain::Timestamp::from_millis(boundary));
    assert_eq!(s.t.app.money().auto_agree_due().await.unwrap(), 1);
    let views =
        s.t.app
            .money()
            .refunds_of_order(&s.parent_actor(), &order.line.id)
            .await
            .unwrap();
    assert_eq!(
        (views[0].status.as_str(), views[0].instruction_status),
        ("agreed", Some(domain::InstructionStatus::Pending))
    );

    // The bank refunds by the original route; the ledger moves the escrow to the refund destination.
    let row =
        s.t.app
            .store()
            .read()
            .refunds()
            .refunds_of_order(&order.line.id)
            .await
            .unwrap()
            .remove(0);
    let instruction = row.instruction_id.unwrap();
    s.movement(
        "MV-REFUND",
        "out",
        expected,
        paid - expected,
        boundary,
        Some(&instruction),
    )
    .await
    .unwrap();
    let line = s.line(&order.line.id).await;
    assert_eq!(
        (line.refunded_fen, line.escrow_fen),
        (expected, paid - expected)
    );
    assert_eq!(
        line.escrow_fen + line.released_fen + line.refunded_fen,
        paid
    );
    // Closed: no more lessons, no second refund; the taken lesson's fee still awaits its confirmation.
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
            .request_refund(&s.parent_actor(), &order.line.id, &ask)
            .await
            .unwrap_err()
            .code,
        ErrorCode::Conflict
    );
}

#[tokio::test]
async fn a_refused_refund_goes_to_the_competent_regulator_who_decides() {
    let s = shop().await;
    let order = s.order().await;
    s.pay(&order, "PAY-1").await;
    let admin = s.staff(domain::access::StaffRole::Admin).await;
    let ask = RefundRequest {
        reason: "课程与宣传不符".into(),
    };
    let refund =
        s.t.app
            .money()
            .request_refund(&s.parent_actor(), &order.line.id, &ask)
            .await
            .unwrap();
    assert_eq!(
        refund.amount_fen, order.line.amount_fen,
        "nothing taken: everything back"
    );
    let bare = RefundAnswer {
        agree: false,
        reason: String::new(),
    };
    assert_eq!(
        s.t.app
            .money()
            .answer_refund(&admin, &refund.id, &bare)
            .await
            .unwrap_err()
            .code,
        ErrorCode::FieldTooLong,
        "a refusal needs its reason"
    );
    let refuse = RefundAnswer {
        agree: false,
        reason: "已过全额退费期".into(),
    };
    let refused =
        s.t.app
            .money()
            .answer_refund(&admin, &refund.id, &refuse)
            .await
            .unwrap();
    assert_eq!(refused.status, domain::RefundStatus::Refused);
    let escalated =
        s.t.app
            .money()
            .escalate_refund(&s.parent_actor(), &refund.id)
            .await
            .unwrap();
    assert_eq!(escalated.status, domain::RefundStatus::Escalated);

    let competent = s.competent_region().await;
    let elsewhere = super::money_flow::supervisor_outside(competent.as_str());
    let uphold = RefundAnswer {
        agree: true,
        reason: "宣传内容与实际课程不符".into(),
    };
    assert_eq!(
        s.t.app
            .money()
            .rule_on_refund(&elsewhere, &refund.id, &uphold)
            .await
            .unwrap_err()
            .code,
        ErrorCode::Forbidden
    );
    let regulator = s.competent_supervisor().await;
    let upheld =
        s.t.app
            .money()
            .rule_on_refund(&regulator, &refund.id, &uphold)
            .await
            .unwrap();
    assert_eq!(
        (upheld.status.as_str(), upheld.instruction_status),
        ("upheld", Some(domain::InstructionStatus::Pending))
    );
    assert_eq!(
        s.t.app
            .money()
            .rule_on_refund(&regulator, &refund.id, &uphold)
            .await
            .unwrap_err()
            .code,
        ErrorCode::Conflict,
        "decided once"
    );
}
