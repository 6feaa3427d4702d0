use super::money_flow::shop;
use app::lessons::{Attendance, Dispute};
use app::testing::TEST_NOW;
use app::{Actor, ErrorCode};

#[tokio::test]
async fn confirmed_lessons_release_their_fee_silence_confirms_only_with_evidence_and_a_dispute_freezes_one_fee()
 {
    let s = shop().await;
    let order = s.order().await;
    let paid = order.line.amount_fen;
    let t0 = TEST_NOW.millis();
    let teacher = s.staff(domain::access::StaffRole::Teacher).await;
    let take = |evidence: &str| {
        let a = Attendance {
            evidence: evidence.into(),
        };
        let (app, teacher, id) = (&s.t.app, &teacher, order.line.id.clone());
        async move { app.money().take_attendance(teacher, &id, &a).await }
    };
    assert_eq!(
        take("点名").await.unwrap_err().code,
        ErrorCode::Conflict,
        "not paid yet"
    );
    s.pay(&order, "PAY-1").await;
    s.movement("MV-IN", "in", paid, paid, t0, None)
        .await
        .unwrap();

    let first = take("点名表 2026-11-26").await.unwrap();
    let second = take("签到照片").await.unwrap();
    let third = take("").await.unwrap();
    let fourth = take("刷卡记录").await.unwrap();
    assert_eq!((first.lesson_no, fourth.lesson_no), (1, 4));
    assert_eq!(first.status, domain::LessonStatus::AwaitingConfirmation);
    let inbox =
        s.t.app
            .service()
            .my_notifications(&s.parent_actor())
            .await
            .unwrap();
    assert!(inbox[0].body.contains("第4课"), "{}", inbox[0].body);

    let confirmed =
        s.t.app
            .money()
            .confirm_lesson(&s.parent_actor(), &first.id)
            .await
            .unwrap();
    assert_eq!(
        (confirmed.status.as_str(), confirmed.release_status),
        (
            "confirmed",
            Some(domain::instruction::ReleaseProgress::Pending)
        )
    );
    assert_eq!(
        s.t.app
            .money()
            .confirm_lesson(&s.parent_actor(), &first.id)
            .await
            .unwrap_err()
            .code,
        ErrorCode::Conflict,
        "answered once"
    );
    let dispute = Dispute {
        reason: "孩子当天请假，未上课".into(),
    };
    let disputed =
        s.t.app
            .money()
            .dispute_lesson(&s.parent_actor(), &second.id, &dispute)
            .await
            .unwrap();
    assert_eq!(disputed.status, domain::LessonStatus::Disputed);
    let stranger = Actor::Parent {
        account_id: "another-family".into(),
    };
    assert_eq!(
        s.t.app
            .money()
            .confirm_lesson(&stranger, &third.id)
            .await
            .unwrap_err()
            .code,
        ErrorCode::NotFound,
        "another family's lesson"
    );

    // The window: 15 working days after the lesson, to the end of that day, China time.
    let boundary = super::money_flow::window_closes(15);
    s.t.clock.set(domain::Timestamp::from_millis(boundary - 1));
    assert_eq!(
        s.t.app.money().auto_confirm_due().await.unwrap(),
        0,
        "not a moment early"
    );
    s.t.clock.set(domain::Timestamp::from_millis(boundary));
    assert_eq!(s.t.app.money().auto_confirm_due().await.unwrap(), 2);
    let lessons =
        s.t.app
            .money()
            .lessons_of_order(&s.parent_actor(), &order.line.id)
            .await
            .unwrap();
    let states: Vec<&str> = lessons.iter().map(|l| l.status.as_str()).collect();
    assert_eq!(
        states,
        ["confirmed", "disputed", "needs_review", "auto_confirmed"]
    );

    // The bank executes both releases; the disputed and unproven lessons' fees stay in escrow.
    let mut released = 0;
    for (k, lesson) in [&lessons[0], &lessons[3]].into_iter().enumerate() {
        let row =
            s.t.app
                .store()
                .read()
                .lessons()
                .lesson(&lesson.id)
                .await
                .unwrap()
                .unwrap();
        let instruction = row.release_instruction_id.unwrap();
        released += lesson.fee_fen;
        s.movement(
            &format!("MV-OUT-{k}"),
            "out",
            lesson.fee_fen,
            paid - released,
            boundary + k as i64,
            Some(&instruction),
        )
        .await
        .unwrap();
    }
    let line = s.line(&order.line.id).await;
    assert_eq!(
        (line.escrow_fen, line.released_fen),
        (paid - released, released)
    );
    assert_eq!(
        line.escrow_fen + line.released_fen + line.refunded_fen,
        paid
    );
    assert!(
        s.t.app
            .store()
            .read()
            .bank()
            .risk_events(Some(&s.institution_id), 10)
            .await
            .unwrap()
            .is_empty(),
        "every outflow was instructed and the balance covers the escrow"
    );
    assert_eq!(
        s.t.app
            .money()
            .take_attendance(&s.parent_actor(), &order.line.id, &Attendance::default())
            .await
            .unwrap_err()
            .code,
        ErrorCode::Forbidden
    );
}
