//! Every person's name and phone the platform stores is sealed (issue 21): an integrator's contact too,
//! including one an older version stored in the clear.

use super::money_flow::shop;
use domain::access::StaffRole;

const DEMO_CONTACT_PHONE: &str = "13800000009";

async fn stored_contacts(t: &app::testing::TestApp) -> Vec<String> {
    sqlx::query_scalar("SELECT contact_sealed FROM integrators ORDER BY id")
        .fetch_all(t.app.store().pool_for_tests())
        .await
        .unwrap()
}

#[tokio::test]
async fn an_integrators_contact_is_sealed_at_rest_and_read_by_the_institutions_admin() {
    let mut s = shop().await;
    let stored = stored_contacts(&s.t).await;
    assert!(!stored.is_empty());
    assert!(
        stored.iter().all(|c| !c.contains(DEMO_CONTACT_PHONE)),
        "{stored:?}"
    );
    let admin = s.staff(StaffRole::Admin).await;
    let choices =
        s.t.app
            .integration()
            .integrators_to_authorise(&admin)
            .await
            .unwrap();
    assert!(
        choices
            .iter()
            .any(|c| c.contact.contains(DEMO_CONTACT_PHONE)),
        "the admin reads the contact it is to call"
    );

    // A contact an older version left in the clear is sealed when the application opens again.
    sqlx::query("UPDATE integrators SET contact_sealed = '旧版本联系人 13900000077'")
        .execute(s.t.app.store().pool_for_tests())
        .await
        .unwrap();
    s.t.restart().await;
    let stored = stored_contacts(&s.t).await;
    assert!(
        stored.iter().all(|c| !c.contains("13900000077")),
        "{stored:?}"
    );
    let choices =
        s.t.app
            .integration()
            .integrators_to_authorise(&admin)
            .await
            .unwrap();
    assert!(
        choices
            .iter()
            .all(|c| c.contact == "旧版本联系人 13900000077")
    );
}
