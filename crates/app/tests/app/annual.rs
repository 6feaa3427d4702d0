use super::money_flow::shop;
use super::region_policy::supervisor;
use app::ErrorCode;
use app::annual::AnnualReviewRequest;

#[tokio::test]
async fn a_year_in_figures_and_its_review_recorded_once() {
    let s = shop().await;
    let region = s.competent_region().await;
    let sup = supervisor(region.as_str());
    let id = s.institution_id.clone();
    let year = s.t.app.supervision().current_year();
    let before =
        s.t.app
            .supervision()
            .annual_report(&sup, &id, year)
            .await
            .unwrap();
    let figure = |r: &app::annual::AnnualReport, label: &str| {
        r.figures.iter().find(|f| f.label == label).unwrap().value
    };
    let (_, paid) = s.paid_and_deposited().await;
    let after =
        s.t.app
            .supervision()
            .annual_report(&sup, &id, year)
            .await
            .unwrap();
    assert_eq!(
        figure(&after, "支付订单数"),
        figure(&before, "支付订单数") + 1
    );
    assert_eq!(
        figure(&after, "预收学费（进入监管）"),
        figure(&before, "预收学费（进入监管）") + paid
    );
    assert!(after.provisional && after.review.is_none());
    let last_year =
        s.t.app
            .supervision()
            .annual_report(&sup, &id, year - 1)
            .await
            .unwrap();
    assert_eq!(
        figure(&last_year, "支付订单数"),
        0,
        "last year saw none of it"
    );
    assert_eq!(
        s.t.app
            .supervision()
            .annual_report(&sup, &id, year + 1)
            .await
            .unwrap_err()
            .code,
        ErrorCode::InvalidParameter
    );
    // The review: a result of the three, once; the staff hear of it.
    let mut req = AnnualReviewRequest {
        result: "excellent".into(),
        remarks: "资金监管规范".into(),
    };
    assert_eq!(
        s.t.app
            .supervision()
            .record_annual_review(&sup, &id, year, &req)
            .await
            .unwrap_err()
            .code,
        ErrorCode::InvalidParameter
    );
    req.result = "pass".into();
    let reviewed =
        s.t.app
            .supervision()
            .record_annual_review(&sup, &id, year, &req)
            .await
            .unwrap();
    assert_eq!(reviewed.review.unwrap().result_label, "合格");
    assert_eq!(
        s.t.app
            .supervision()
            .record_annual_review(&sup, &id, year, &req)
            .await
            .unwrap_err()
            .code,
        ErrorCode::Conflict
    );
    assert_eq!(
        s.t.app
            .supervision()
            .annual_report(&s.parent_actor(), &id, year)
            .await
            .unwrap_err()
            .code,
        ErrorCode::Forbidden
    );
}
