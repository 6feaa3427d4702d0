use super::*;
use app::policy::PolicyChange;
use domain::access::RegulatorRole;
use domain::policy::PolicyOverride;

/// A supervisor of `region` (its own level: national, province, prefecture or county).
pub(super) fn supervisor(region: &str) -> Actor {
    Actor::Regulator {
        account_id: format!("sup-{region}"),
        region: domain::RegionCode::parse(region).unwrap(),
        role: RegulatorRole::Supervisor,
    }
}

#[tokio::test]
async fn each_level_sets_its_own_policy_and_the_lineage_applies_in_order() {
    let t = TestApp::empty().await;
    let national = PolicyChange {
        policy: PolicyOverride {
            max_fen_per_purchase: Some(300_000),
            ..PolicyOverride::default()
        },
        reason: "全国统一调整".into(),
    };
    t.app
        .registry()
        .set_region_policy(&supervisor("000000"), &national)
        .await
        .unwrap();
    let beijing = PolicyChange {
        policy: PolicyOverride {
            confirmation_working_days: Some(10),
            ..PolicyOverride::default()
        },
        reason: "北京市规定".into(),
    };
    t.app
        .registry()
        .set_region_policy(&supervisor("110000"), &beijing)
        .await
        .unwrap();

    let haidian = t.app.registry().region_policy("110108").await.unwrap();
    assert_eq!(
        (
            haidian.policy.max_fen_per_purchase,
            haidian.policy.confirmation_working_days
        ),
        (300_000, 10)
    );
    assert_eq!(
        haidian.policy.max_lessons_per_purchase, 60,
        "the default where nobody set one"
    );
    assert_eq!(haidian.set_by_levels.len(), 2);
    let shanghai = t.app.registry().region_policy("310104").await.unwrap();
    assert_eq!(
        (
            shanghai.policy.max_fen_per_purchase,
            shanghai.policy.confirmation_working_days
        ),
        (300_000, 15),
        "Beijing's rule stays in Beijing"
    );

    let mut wild = beijing.clone();
    wild.policy.confirmation_working_days = Some(0);
    assert_eq!(
        t.app
            .registry()
            .set_region_policy(&supervisor("110000"), &wild)
            .await
            .unwrap_err()
            .code,
        ErrorCode::InvalidParameter
    );
    let reviewer = Actor::Regulator {
        account_id: "rev".into(),
        region: domain::RegionCode::parse("110000").unwrap(),
        role: RegulatorRole::Reviewer,
    };
    assert_eq!(
        t.app
            .registry()
            .set_region_policy(&reviewer, &beijing)
            .await
            .unwrap_err()
            .code,
        ErrorCode::Forbidden
    );
    let trail = t
        .app
        .store()
        .read()
        .audit_entries_about("region:110000", 5)
        .await
        .unwrap();
    assert_eq!(trail[0].body.action, "region_policy.changed");
}

#[tokio::test]
async fn a_county_cannot_loosen_a_national_rule_but_may_tighten_it() {
    let t = TestApp::empty().await;
    let change = |lessons| PolicyChange {
        policy: PolicyOverride {
            max_lessons_per_purchase: Some(lessons),
            ..PolicyOverride::default()
        },
        reason: "海淀区规定".into(),
    };
    let refused = t
        .app
        .registry()
        .set_region_policy(&supervisor("110108"), &change(80))
        .await
        .unwrap_err();
    assert_eq!(refused.code, ErrorCode::PolicyLoosened);
    assert!(
        refused.detail.zh.contains("上级规定为60课时"),
        "names the national value: {}",
        refused.detail
    );
    assert_eq!(
        t.app
            .registry()
            .region_policy("110108")
            .await
            .unwrap()
            .policy
            .max_lessons_per_purchase,
        60,
        "nothing changed"
    );
    // Beijing tightens to 48: Haidian may go lower still, not back to the national 60.
    t.app
        .registry()
        .set_region_policy(&supervisor("110000"), &change(48))
        .await
        .unwrap();
    let refused = t
        .app
        .registry()
        .set_region_policy(&supervisor("110108"), &change(60))
        .await
        .unwrap_err();
    assert!(
        refused.detail.zh.contains("上级规定为48课时"),
        "{}",
        refused.detail
    );
    t.app
        .registry()
        .set_region_policy(&supervisor("110108"), &change(40))
        .await
        .unwrap();
    assert_eq!(
        t.app
            .registry()
            .region_policy("110108")
            .await
            .unwrap()
            .policy
            .max_lessons_per_purchase,
        40
    );
    // The national level loosening its own rule is the national level's to decide.
    t.app
        .registry()
        .set_region_policy(&supervisor("000000"), &change(72))
        .await
        .unwrap();
}
