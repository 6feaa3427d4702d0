//! Authorize before you look (issue 21): a regulator that is not over the institution is refused (403)
//! whatever the state of what it asks about, so the answer tells it nothing about that state.

use super::money_flow::{shop, supervisor_outside};
use app::complaints::{ComplaintAnswer, ComplaintRulingRequest, NewComplaint};
use app::refunds::{RefundAnswer, RefundRequest};
use app::{Actor, ErrorCode};
use domain::access::StaffRole;

/// A supervisor of another province than the competent regulator's.
fn stranger_to(competent: &Actor) -> Actor {
    match competent {
        Actor::Regulator { region, .. } => supervisor_outside(region.as_str()),
        _ => unreachable!("the competent authority is a regulator"),
    }
}

#[tokio::test]
async fn a_regulator_of_another_region_is_refused_a_complaint_in_every_state() {
    let s = shop().await;
    let order = s.order().await;
    s.pay(&order, "PAY-REGION-1").await;
    let parent = s.parent_actor();
    let admin = s.staff(StaffRole::Admin).await;
    let competent = s.competent_supervisor().await;
    let elsewhere = stranger_to(&competent);
    let ruling = ComplaintRulingRequest {
        outcome: "dismissed".into(),
        ruling: "经核查，投诉事项不成立".into(),
        money_action: "none".into(),
    };
    let refused = |id: String| {
        let (app, elsewhere, ruling) = (s.t.app.clone(), elsewhere.clone(), ruling.clone());
        async move {
            app.service()
                .rule_on_complaint(&elsewhere, &id, &ruling)
                .await
                .unwrap_err()
                .code
        }
    };
    let new = NewComplaint {
        institution_id: s.institution_id.clone(),
        order_id: Some(order.line.id.clone()),
        category: "teaching_quality".into(),
        body: "老师连续三次迟到".into(),
    };
    let c =
        s.t.app
            .service()
            .file_complaint(&parent, &new, &[])
            .await
            .unwrap();
    assert_eq!(c.status, domain::ComplaintStatus::WithInstitution);
    assert_eq!(
        refused(c.id.clone()).await,
        ErrorCode::Forbidden,
        "with the institution"
    );
    let answer = ComplaintAnswer {
        answer: "已调整排课".into(),
    };
    s.t.app
        .service()
        .answer_complaint(&admin, &c.id, &answer)
        .await
        .unwrap();
    assert_eq!(
        refused(c.id.clone()).await,
        ErrorCode::Forbidden,
        "answered"
    );
    s.t.app
        .service()
        .escalate_complaint(&parent, &c.id)
        .await
        .unwrap();
    assert_eq!(
        refused(c.id.clone()).await,
        ErrorCode::Forbidden,
        "escalated"
    );
    s.t.app
        .service()
        .rule_on_complaint(&competent, &c.id, &ruling)
        .await
        .unwrap();
    assert_eq!(
        refused(c.id.clone()).await,
        ErrorCode::Forbidden,
        "ruled on"
    );
    // The competent regulator itself hears about the state.
    assert_eq!(
        s.t.app
            .service()
            .rule_on_complaint(&competent, &c.id, &ruling)
            .await
            .unwrap_err()
            .code,
        ErrorCode::Conflict
    );
}

#[tokio::test]
async fn a_regulator_of_another_region_is_refused_a_refund_not_yet_escalated() {
    let s = shop().await;
    let order = s.order().await;
    s.pay(&order, "PAY-REGION-2").await;
    let parent = s.parent_actor();
    let refund =
        s.t.app
            .money()
            .request_refund(
                &parent,
                &order.line.id,
                &RefundRequest {
                    reason: "孩子转学".into(),
                },
            )
            .await
            .unwrap();
    let elsewhere = stranger_to(&s.competent_supervisor().await);
    let answer = RefundAnswer {
        agree: true,
        reason: "同意".into(),
    };
    assert_eq!(
        s.t.app
            .money()
            .rule_on_refund(&elsewhere, &refund.id, &answer)
            .await
            .unwrap_err()
            .code,
        ErrorCode::Forbidden
    );
}
