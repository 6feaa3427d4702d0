use super::money_flow::shop;
use app::ErrorCode;
use app::orders::ClassTransferRequest;
use domain::access::StaffRole;

#[tokio::test]
async fn the_rest_of_an_order_moves_to_a_class_at_the_same_price_and_nothing_else_changes() {
    let s = shop().await;
    let order = s.order().await;
    s.pay(&order, "PAY-T").await;
    let admin = s.staff(StaffRole::Admin).await;
    let lesson = s.attend(&order.line.id).await;
    let current =
        s.t.app
            .store()
            .read()
            .orders()
            .order(&order.line.id)
            .await
            .unwrap()
            .unwrap()
            .course_id;
    let current =
        s.t.app
            .store()
            .read()
            .registry()
            .course(&current)
            .await
            .unwrap()
            .unwrap();
    let today = app::testing::TEST_NOW.china_date();
    let new_class = |name: &str, price: i64| app::courses::NewCourse {
        name: name.into(),
        category: current.category.clone(),
        mode: current.mode.clone(),
        grades: current.grades.clone(),
        lessons: u32::try_from(current.lessons).unwrap(),
        minutes_per_lesson: u32::try_from(current.minutes_per_lesson).unwrap(),
        class_size: u32::try_from(current.class_size).unwrap(),
        price_per_lesson_fen: price,
        first_lesson: (today + chrono::Days::new(1)).to_string(),
        last_lesson: (today + chrono::Days::new(60)).to_string(),
        preferential_total_fen: None,
        schedule: None,
    };
    let dearer =
        s.t.app
            .registry()
            .publish_course(
                &admin,
                &new_class("周末班（加价）", current.price_per_lesson_fen + 100),
            )
            .await
            .unwrap();
    let same =
        s.t.app
            .registry()
            .publish_course(&admin, &new_class("周末班", current.price_per_lesson_fen))
            .await
            .unwrap();
    let parent = s.parent_actor();
    let to = |id: &str| ClassTransferRequest {
        course_id: id.to_owned(),
    };
    assert_eq!(
        s.t.app
            .money()
            .transfer_class(&parent, &order.line.id, &to(&dearer))
            .await
            .unwrap_err()
            .code,
        ErrorCode::PolicyViolation,
        "another price per lesson would change what was paid for"
    );
    let before = s.line(&order.line.id).await;
    let moved =
        s.t.app
            .money()
            .transfer_class(&parent, &order.line.id, &to(&same))
            .await
            .unwrap();
    assert_eq!(
        (moved.to_course.as_str(), moved.lessons_remaining),
        ("周末班", order.line.lessons - 1)
    );
    let after = s.line(&order.line.id).await;
    assert_eq!(after.course_name, "周末班");
    assert_eq!(
        (after.amount_fen, after.escrow_fen, after.lessons),
        (before.amount_fen, before.escrow_fen, before.lessons),
        "the money is as it was"
    );
    // The lesson taken before the move still confirms and releases its fee as the contract set it.
    let confirmed =
        s.t.app
            .money()
            .confirm_lesson(&parent, &lesson.id)
            .await
            .unwrap();
    assert_eq!(confirmed.fee_fen, lesson.fee_fen);
    let (history, _) =
        s.t.app
            .money()
            .class_transfers(&admin, &order.line.id)
            .await
            .unwrap();
    assert_eq!(history.len(), 1);
}
