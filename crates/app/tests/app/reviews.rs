use super::money_flow::shop;
use app::lessons::Attendance;
use app::reviews::{NewReview, ReviewNote};
use app::{Actor, ErrorCode};
use domain::access::StaffRole;
use domain::review::Ratings;

fn stars(s: u8) -> Ratings {
    Ratings {
        teaching: s,
        environment: s,
        service: s,
        value: s,
    }
}

#[tokio::test]
async fn a_review_needs_a_confirmed_lesson_and_is_hidden_never_deleted() {
    let s = shop().await;
    let teacher = s.staff(StaffRole::Teacher).await;
    let admin = s.staff(StaffRole::Admin).await;
    let parent = s.parent_actor();
    // Two orders: one with two confirmed lessons, one with one.
    let mut orders = Vec::new();
    for (k, lessons) in [2, 1].into_iter().enumerate() {
        let order = s.order().await;
        s.pay(&order, &format!("PAY-{k}")).await;
        for _ in 0..lessons {
            let lesson =
                s.t.app
                    .money()
                    .take_attendance(
                        &teacher,
                        &order.line.id,
                        &Attendance {
                            evidence: "点名".into(),
                        },
                    )
                    .await
                    .unwrap();
            s.t.app
                .money()
                .confirm_lesson(&parent, &lesson.id)
                .await
                .unwrap();
        }
        orders.push(order);
    }
    let review = |stars_given: u8, text: &str| NewReview {
        ratings: stars(stars_given),
        text: text.into(),
    };

    let unconfirmed = s.order().await;
    s.pay(&unconfirmed, "PAY-X").await;
    assert_eq!(
        s.t.app
            .service()
            .post_review(&parent, &unconfirmed.line.id, &review(5, "很好"))
            .await
            .unwrap_err()
            .code,
        ErrorCode::ReviewNeedsConfirmedLesson
    );
    assert_eq!(
        s.t.app
            .service()
            .post_review(&parent, &orders[0].line.id, &review(5, "不错，详情加微信"))
            .await
            .unwrap_err()
            .code,
        ErrorCode::BlockedWords
    );
    assert_eq!(
        s.t.app
            .service()
            .post_review(&parent, &orders[0].line.id, &review(6, "很好"))
            .await
            .unwrap_err()
            .code,
        ErrorCode::InvalidParameter
    );
    let stranger = Actor::Parent {
        account_id: "another-family".into(),
    };
    assert_eq!(
        s.t.app
            .service()
            .post_review(&stranger, &orders[0].line.id, &review(1, "差"))
            .await
            .unwrap_err()
            .code,
        ErrorCode::NotFound
    );
    let first =
        s.t.app
            .service()
            .post_review(
                &parent,
                &orders[0].line.id,
                &review(5, "老师耐心，孩子进步很大"),
            )
            .await
            .unwrap();
    assert_eq!(first.weight, 2, "two confirmed lessons");
    assert_eq!(
        s.t.app
            .service()
            .post_review(&parent, &orders[0].line.id, &review(1, "改主意了"))
            .await
            .unwrap_err()
            .code,
        ErrorCode::Conflict,
        "one review per order"
    );
    let second =
        s.t.app
            .service()
            .post_review(&parent, &orders[1].line.id, &review(2, "教室有点挤"))
            .await
            .unwrap();
    assert_eq!(second.weight, 1);
    let public =
        s.t.app
            .service()
            .public_reviews(&s.institution_id)
            .await
            .unwrap();
    // (5×2 + 2×1) / 3 = 4.00
    assert_eq!(
        (public.count, public.averages.clone().unwrap()[0].as_str()),
        (2, "4.00")
    );

    let reply = ReviewNote {
        text: "感谢认可，我们会继续努力".into(),
    };
    assert_eq!(
        s.t.app
            .service()
            .reply_review(&admin, &first.id, &reply)
            .await
            .unwrap()
            .reply
            .as_deref(),
        Some("感谢认可，我们会继续努力")
    );
    assert_eq!(
        s.t.app
            .service()
            .reply_review(&admin, &first.id, &reply)
            .await
            .unwrap_err()
            .code,
        ErrorCode::Conflict
    );

    let institution =
        s.t.app
            .store()
            .read()
            .registry()
            .institution(&s.institution_id)
            .await
            .unwrap()
            .unwrap();
    let elsewhere = super::money_flow::supervisor_outside(&institution.region_code);
    let why = ReviewNote {
        text: "经核实为同行恶意评价".into(),
    };
    assert_eq!(
        s.t.app
            .service()
            .hide_review(&elsewhere, &second.id, &why)
            .await
            .unwrap_err()
            .code,
        ErrorCode::Forbidden
    );
    let national = Actor::Regulator {
        account_id: "moe".into(),
        region: domain::RegionCode::NATIONAL,
        role: domain::access::RegulatorRole::Supervisor,
    };
    s.t.app
        .service()
        .hide_review(&national, &second.id, &why)
        .await
        .unwrap();
    let public =
        s.t.app
            .service()
            .public_reviews(&s.institution_id)
            .await
            .unwrap();
    assert_eq!(
        (public.count, public.averages.unwrap()[0].as_str()),
        (1, "5.00")
    );
    assert!(
        sqlx::query("DELETE FROM reviews")
            .execute(s.t.app.store().pool_for_tests())
            .await
            .is_err(),
        "reviews are never deleted"
    );
}
