use super::money_flow::shop;
use super::region_policy::supervisor;
use app::ErrorCode;
use app::testing::TEST_NOW;

#[tokio::test]
async fn open_complaints_with_their_deadlines_and_the_weekly_and_monthly_trends() {
    let s = shop().await;
    let (order, paid) = s.paid_and_deposited().await;
    let national = supervisor("000000");
    let d =
        s.t.app
            .supervision()
            .dashboard(&national, None, 7)
            .await
            .unwrap();
    assert_eq!((d.weekly.len(), d.monthly.len()), (12, 12));
    assert_eq!(d.weekly.last().unwrap().collected_fen, paid);
    assert_eq!(d.monthly.last().unwrap().collected_fen, paid);
    assert_eq!(d.monthly.last().unwrap().day, "2026-11-01");
    assert_eq!(
        d.weekly.last().unwrap().day,
        "2026-11-23",
        "the Monday of TEST_NOW's week"
    );
    assert_eq!(d.weekly.iter().map(|w| w.collected_fen).sum::<i64>(), paid);
    assert_eq!(d.complaints.with_institution, 0);

    let complaint = app::complaints::NewComplaint {
        institution_id: s.institution_id.clone(),
        order_id: Some(order.line.id.clone()),
        category: "teaching_quality".into(),
        body: "老师连续三次迟到".into(),
    };
    s.t.app
        .service()
        .file_complaint(&s.parent_actor(), &complaint, &[])
        .await
        .unwrap();
    let d =
        s.t.app
            .supervision()
            .dashboard(&national, None, 7)
            .await
            .unwrap();
    assert_eq!(
        (
            d.complaints.with_institution,
            d.complaints.institution_overdue
        ),
        (1, 0)
    );
    // Ten days later the institution's five working days have passed without an answer.
    s.t.clock.advance_millis(10 * 86_400_000);
    let d =
        s.t.app
            .supervision()
            .dashboard(&national, None, 7)
            .await
            .unwrap();
    assert_eq!(
        (
            d.complaints.with_institution,
            d.complaints.institution_overdue
        ),
        (1, 1)
    );
    let elsewhere =
        s.t.app
            .supervision()
            .dashboard(&supervisor("440000"), None, 7)
            .await
            .unwrap();
    assert_eq!(
        elsewhere.complaints.with_institution, 0,
        "another province's"
    );
}

#[tokio::test]
async fn payments_releases_and_refunds_roll_up_to_every_level_and_drill_down() {
    let s = shop().await;
    let national = supervisor("000000");
    let before =
        s.t.app
            .supervision()
            .dashboard(&national, None, 30)
            .await
            .unwrap();
    assert_eq!(before.money.collected_fen, 0);
    assert_eq!(
        before.institutions.total,
        s.t.app
            .store()
            .read()
            .registry()
            .institution_count()
            .await
            .unwrap()
    );
    assert_eq!(before.trend.len(), 30);

    let (order, paid) = s.paid_and_deposited().await;
    let t0 = TEST_NOW.millis();
    let lesson = s.attend(&order.line.id).await;
    s.t.app
        .money()
        .confirm_lesson(&s.parent_actor(), &lesson.id)
        .await
        .unwrap();
    let instruction =
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
    s.movement(
        "MV-OUT",
        "out",
        lesson.fee_fen,
        paid - lesson.fee_fen,
        t0 + 1,
        Some(&instruction),
    )
    .await
    .unwrap();

    let institution =
        s.t.app
            .store()
            .read()
            .registry()
            .institution(&s.institution_id)
            .await
            .unwrap()
            .unwrap();
    let county = institution.region_code.clone();
    let province = format!("{}0000", &county[..2]);
    for region in [None, Some(province.as_str()), Some(county.as_str())] {
        let d =
            s.t.app
                .supervision()
                .dashboard(&national, region, 7)
                .await
                .unwrap();
        assert_eq!(
            (
                d.money.orders_paid,
                d.money.collected_fen,
                d.money.released_fen,
                d.money.escrow_fen
            ),
            (1, paid, lesson.fee_fen, paid - lesson.fee_fen),
            "{region:?}"
        );
        let today = d.trend.last().unwrap();
        assert_eq!(
            (today.day.clone(), today.collected_fen),
            (TEST_NOW.china_date().to_string(), paid)
        );
    }
    // Rebuilding the rollups from the orders and instructions (as on opening older data) gives the same.
    let kept =
        s.t.app
            .supervision()
            .dashboard(&national, Some(&province), 7)
            .await
            .unwrap();
    let mut tx = s.t.app.store().begin_write().await.unwrap();
    tx.dashboard().rebuild_dashboard_rollups().await.unwrap();
    tx.commit().await.unwrap();
    let rebuilt =
        s.t.app
            .supervision()
            .dashboard(&national, Some(&province), 7)
            .await
            .unwrap();
    assert!(
        kept.institutions.supervised >= 1,
        "the demo account is confirmed"
    );
    assert_eq!(
        (
            rebuilt.money.collected_fen,
            rebuilt.money.released_fen,
            rebuilt.institutions.total,
            rebuilt.institutions.supervised
        ),
        (
            kept.money.collected_fen,
            kept.money.released_fen,
            kept.institutions.total,
            kept.institutions.supervised
        )
    );
    // The nation drills down to the province that holds the money, and only to it.
    let d =
        s.t.app
            .supervision()
            .dashboard(&national, None, 7)
            .await
            .unwrap();
    let holding: Vec<&str> = d
        .children
        .iter()
        .filter(|c| c.money.collected_fen > 0)
        .map(|c| c.region.code.as_str())
        .collect();
    assert_eq!(holding, [province.as_str()]);
    let elsewhere = if province == "110000" {
        "310000"
    } else {
        "110000"
    };
    assert_eq!(
        s.t.app
            .supervision()
            .dashboard(&national, Some(elsewhere), 7)
            .await
            .unwrap()
            .money
            .collected_fen,
        0
    );
    // A regulator sees its own subtree only; bad periods are refused.
    assert_eq!(
        s.t.app
            .supervision()
            .dashboard(&supervisor(elsewhere), Some(&province), 7)
            .await
            .unwrap_err()
            .code,
        ErrorCode::Forbidden
    );
    assert_eq!(
        s.t.app
            .supervision()
            .dashboard(&national, None, 0)
            .await
            .unwrap_err()
            .code,
        ErrorCode::InvalidParameter
    );
    assert_eq!(
        s.t.app
            .supervision()
            .dashboard(&s.parent_actor(), None, 7)
            .await
            .unwrap_err()
            .code,
        ErrorCode::Forbidden
    );
}
