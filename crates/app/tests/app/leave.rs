use super::money_flow::shop;
use app::lessons::{Attendance, LeaveRequest};
use app::testing::TEST_NOW;
use app::{Actor, ErrorCode};
use domain::access::StaffRole;

#[tokio::test]
async fn on_a_day_of_leave_no_lesson_of_the_order_is_taken() {
    let s = shop().await;
    let order = s.order().await;
    s.pay(&order, "PAY-L").await;
    let parent = s.parent_actor();
    let today = TEST_NOW.china_date();
    let ask = |date: chrono::NaiveDate| LeaveRequest {
        date: date.to_string(),
        reason: "孩子发烧".into(),
    };
    assert_eq!(
        s.t.app
            .money()
            .request_leave(&parent, &order.line.id, &ask(today.pred_opt().unwrap()))
            .await
            .unwrap_err()
            .code,
        ErrorCode::InvalidParameter,
        "not backdated"
    );
    let stranger = Actor::Parent {
        account_id: "another-family".into(),
    };
    assert_eq!(
        s.t.app
            .money()
            .request_leave(&stranger, &order.line.id, &ask(today))
            .await
            .unwrap_err()
            .code,
        ErrorCode::NotFound
    );
    s.t.app
        .money()
        .request_leave(&parent, &order.line.id, &ask(today))
        .await
        .unwrap();
    assert_eq!(
        s.t.app
            .money()
            .request_leave(&parent, &order.line.id, &ask(today))
            .await
            .unwrap_err()
            .code,
        ErrorCode::Conflict,
        "one leave per day"
    );
    let admin = s.staff(StaffRole::Admin).await;
    let attend = Attendance {
        evidence: "点名".into(),
    };
    assert_eq!(
        s.t.app
            .money()
            .take_attendance(&admin, &order.line.id, &attend)
            .await
            .unwrap_err()
            .code,
        ErrorCode::Conflict
    );
    assert!(
        s.t.app
            .money()
            .lessons_of_order(&parent, &order.line.id)
            .await
            .unwrap()
            .is_empty()
    );
    // The next day the class goes on.
    s.t.clock.advance_millis(86_400_000);
    s.t.app
        .money()
        .take_attendance(&admin, &order.line.id, &attend)
        .await
        .unwrap();
    assert_eq!(
        s.t.app
            .money()
            .leaves_of_order(&admin, &order.line.id)
            .await
            .unwrap()
            .len(),
        1
    );
}
