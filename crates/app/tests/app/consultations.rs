use super::money_flow::shop;
use app::consultations::NewConsultation;
use app::{Actor, ErrorCode};
use domain::access::StaffRole;

#[tokio::test]
async fn a_parent_asks_the_institution_answers_and_regulators_see_how_fast() {
    let s = shop().await;
    let parent = s.parent_actor();
    let new = NewConsultation {
        institution_id: s.institution_id.clone(),
        topic: "四年级数学班".into(),
        body: "周末有班吗？".into(),
    };
    let empty = NewConsultation {
        body: " ".into(),
        ..new.clone()
    };
    assert_eq!(
        s.t.app
            .service()
            .ask_institution(&parent, &empty)
            .await
            .unwrap_err()
            .code,
        ErrorCode::FieldTooLong
    );
    let thread =
        s.t.app
            .service()
            .ask_institution(&parent, &new)
            .await
            .unwrap();
    assert!(!thread.answered);
    let stranger = Actor::Parent {
        account_id: "another-family".into(),
    };
    assert_eq!(
        s.t.app
            .service()
            .consultation_for(&stranger, &thread.id)
            .await
            .unwrap_err()
            .code,
        ErrorCode::NotFound
    );

    // The institution answers 90 minutes later, then again: the first answer is what is measured.
    let service = s.staff(StaffRole::Admin).await;
    s.t.clock.advance_millis(90 * 60_000);
    s.t.app
        .service()
        .reply_consultation(&service, &thread.id, "周六上午有")
        .await
        .unwrap();
    s.t.clock.advance_millis(60 * 60_000);
    let answered =
        s.t.app
            .service()
            .reply_consultation(&service, &thread.id, "可预约试听")
            .await
            .unwrap();
    assert!(answered.answered);
    assert_eq!(answered.messages.len(), 3);
    assert_eq!(
        s.t.app
            .service()
            .consultations_for(&service)
            .await
            .unwrap()
            .len(),
        1,
        "the institution's threads"
    );

    let region =
        s.t.app
            .store()
            .read()
            .registry()
            .institution(&s.institution_id)
            .await
            .unwrap()
            .unwrap()
            .region_code;
    let regulator = Actor::Regulator {
        account_id: "r".into(),
        region: domain::RegionCode::parse(&region).unwrap(),
        role: domain::access::RegulatorRole::Supervisor,
    };
    let times =
        s.t.app
            .service()
            .response_times(&regulator, &s.institution_id)
            .await
            .unwrap();
    assert_eq!(
        (times.threads, times.answered, times.median_minutes),
        (1, 1, Some(90))
    );
    let elsewhere = super::money_flow::supervisor_outside(&region);
    assert_eq!(
        s.t.app
            .service()
            .response_times(&elsewhere, &s.institution_id)
            .await
            .unwrap_err()
            .code,
        ErrorCode::Forbidden
    );
}
