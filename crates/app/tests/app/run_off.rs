use super::money_flow::{shop, supervisor_outside};
use app::ErrorCode;
use app::run_off::RunOffRequest;
use domain::access::StaffRole;

#[tokio::test]
async fn one_action_freezes_releases_and_refunds_every_family_tracked_to_completion() {
    let s = shop().await;
    let (a, b) = (s.order().await, s.order().await);
    s.pay(&a, "PAY-RA").await;
    s.pay(&b, "PAY-RB").await;
    let admin = s.staff(StaffRole::Admin).await;
    let lesson = s.attend(&a.line.id).await;
    let competent = s.competent_region().await;
    let supervisor = s.competent_supervisor().await;
    let req = RunOffRequest {
        reason: "机构停业".into(),
    };
    assert_eq!(
        s.t.app
            .money()
            .start_run_off(
                &supervisor_outside(competent.as_str()),
                &s.institution_id,
                &req
            )
            .await
            .unwrap_err()
            .code,
        ErrorCode::Forbidden
    );
    assert!(
        s.t.app
            .money()
            .run_off(&supervisor, &s.institution_id)
            .await
            .unwrap()
            .is_none()
    );

    let started =
        s.t.app
            .money()
            .start_run_off(&supervisor, &s.institution_id, &req)
            .await
            .unwrap();
    let untaken = |o: &app::orders::OrderDetail, taken| {
        domain::contract::refund_after(
            domain::Fen::new(o.line.amount_fen),
            o.contract.price.lessons,
            taken,
        )
        .unwrap()
        .get()
    };
    assert_eq!(
        (
            started.refunds,
            started.refunds_fen,
            started.executed,
            started.complete
        ),
        (2, untaken(&a, 1) + untaken(&b, 0), 0, false)
    );
    assert_eq!(
        s.t.app
            .money()
            .start_run_off(&supervisor, &s.institution_id, &req)
            .await
            .unwrap_err()
            .code,
        ErrorCode::Conflict,
        "once"
    );
    // Both orders closed to new lessons; the taken lesson's fee, confirmed now, stays frozen in escrow.
    for o in [&a, &b] {
        assert!(
            s.t.app
                .money()
                .order_for(&s.parent_actor(), &o.line.id)
                .await
                .unwrap()
                .closed
        );
    }
    let confirmed =
        s.t.app
            .money()
            .confirm_lesson(&s.parent_actor(), &lesson.id)
            .await
            .unwrap();
    assert_eq!(confirmed.release_status, None);

    // The bank executes one refund: the progress follows, until both are back.
    for (n, o) in [&b, &a].into_iter().enumerate() {
        let refund =
            s.t.app
                .store()
                .read()
                .refunds()
                .refunds_of_order(&o.line.id)
                .await
                .unwrap()
                .remove(0);
        s.movement(
            &format!("MV-RO-{n}"),
            "out",
            refund.amount_fen,
            0,
            app::testing::TEST_NOW.millis(),
            refund.instruction_id.as_deref(),
        )
        .await
        .unwrap();
        let progress =
            s.t.app
                .money()
                .run_off(&supervisor, &s.institution_id)
                .await
                .unwrap()
                .unwrap();
        assert_eq!(progress.executed, n as i64 + 1);
    }
    let done =
        s.t.app
            .money()
            .run_off(&admin, &s.institution_id)
            .await
            .unwrap()
            .unwrap();
    assert!(done.complete && done.executed_fen == done.refunds_fen);
    let inbox =
        s.t.app
            .service()
            .my_notifications(&s.parent_actor())
            .await
            .unwrap();
    assert!(inbox.iter().any(|n| n.title.contains("清退")), "{inbox:?}");
}
