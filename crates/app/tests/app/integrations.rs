use super::money_flow::shop;
use app::integrations::{GrantRevocation, NewGrant, NewIntegrator};
use app::{Actor, ErrorCode};
use domain::access::{IntegrationScope, RegulatorRole, StaffRole};

fn admin(region: &str) -> Actor {
    Actor::Regulator {
        account_id: format!("admin-{region}"),
        region: domain::RegionCode::parse(region).unwrap(),
        role: RegulatorRole::SystemAdmin,
    }
}

fn course(lessons: u32) -> app::courses::NewCourse {
    app::courses::NewCourse {
        name: "春季创意美术".into(),
        category: "arts".into(),
        mode: "offline".into(),
        grades: "一至三年级".into(),
        lessons,
        minutes_per_lesson: 60,
        class_size: 10,
        price_per_lesson_fen: 12_000,
        first_lesson: "2027-03-01".into(),
        last_lesson: "2027-05-31".into(),
        preferential_total_fen: None,
        schedule: None,
    }
}

#[tokio::test]
async fn an_integrator_acts_only_where_authorised_and_a_revocation_stops_it_at_once() {
    let s = shop().await;
    let app = &s.t.app;
    let new = NewIntegrator {
        name: "某某教务SaaS".into(),
        contact: "张工 13900000001".into(),
    };
    // Only the national system administrator registers integrators; names are unique.
    assert_eq!(
        app.integration()
            .register_integrator(&admin("110000"), &new)
            .await
            .unwrap_err()
            .code,
        ErrorCode::Forbidden
    );
    let credentials = app
        .integration()
        .register_integrator(&admin("000000"), &new)
        .await
        .unwrap();
    assert_eq!(credentials.secret.len(), 64);
    assert_eq!(
        app.integration()
            .register_integrator(&admin("000000"), &new)
            .await
            .unwrap_err()
            .code,
        ErrorCode::Conflict
    );
    let integrator = Actor::ApiClient {
        key_id: credentials.key_id.clone(),
        owner_kind: "integrator".into(),
        owner_id: credentials.integrator_id.clone(),
    };
    // Nothing is authorised yet.
    assert_eq!(
        app.integration()
            .acting_for(&integrator, &s.institution_id, IntegrationScope::Courses)
            .await
            .unwrap_err()
            .code,
        ErrorCode::Forbidden
    );
    // The institution's admin authorises courses only; bad or no scopes are refused, twice is 409.
    let institution_admin = s.staff(StaffRole::Admin).await;
    let grant = |scopes: &[&str]| NewGrant {
        integrator_id: credentials.integrator_id.clone(),
        scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
    };
    for bad in [&["payments"][..], &[][..]] {
        assert_eq!(
            app.integration()
                .grant_integration(&institution_admin, &grant(bad))
                .await
                .unwrap_err()
                .code,
            ErrorCode::InvalidParameter
        );
    }
    assert_eq!(
        app.integration()
            .grant_integration(&s.staff(StaffRole::Operator).await, &grant(&["courses"]))
            .await
            .unwrap_err()
            .code,
        ErrorCode::Forbidden,
        "only the admin authorises"
    );
    let granted = app
        .integration()
        .grant_integration(&institution_admin, &grant(&["courses", "courses"]))
        .await
        .unwrap();
    assert_eq!(granted.scopes, vec!["courses"]);
    assert_eq!(
        app.integration()
            .grant_integration(&institution_admin, &grant(&["orders"]))
            .await
            .unwrap_err()
            .code,
        ErrorCode::Conflict
    );
    let mine = app
        .integration()
        .integrator_grants(&integrator)
        .await
        .unwrap();
    assert_eq!(mine.len(), 1);
    assert_eq!(mine[0].institution_id, s.institution_id);
    // Another institution, another scope: refused.
    let other = super::first_institution_other_than(app, &s.institution_id).await;
    assert_eq!(
        app.integration()
            .acting_for(&integrator, &other, IntegrationScope::Courses)
            .await
            .unwrap_err()
            .code,
        ErrorCode::Forbidden
    );
    assert_eq!(
        app.integration()
            .acting_for(&integrator, &s.institution_id, IntegrationScope::Attendance)
            .await
            .unwrap_err()
            .code,
        ErrorCode::Forbidden
    );
    // Within its grant it acts as the operator: the same policy check as the direct path.
    let acting = app
        .integration()
        .acting_for(&integrator, &s.institution_id, IntegrationScope::Courses)
        .await
        .unwrap();
    assert!(
        app.registry()
            .publish_course(&acting, &course(12))
            .await
            .is_ok()
    );
    let direct = app
        .registry()
        .publish_course(&s.staff(StaffRole::Operator).await, &course(61))
        .await
        .unwrap_err();
    let through = app
        .registry()
        .publish_course(&acting, &course(61))
        .await
        .unwrap_err();
    assert_eq!(direct.code, ErrorCode::PolicyViolation);
    assert_eq!((through.code, through.detail), (direct.code, direct.detail));
    // Revoked with a reason: the very next request is refused.
    assert!(
        app.integration()
            .revoke_integration(
                &institution_admin,
                &granted.id,
                &GrantRevocation { reason: " ".into() }
            )
            .await
            .is_err()
    );
    let revoked = app
        .integration()
        .revoke_integration(
            &institution_admin,
            &granted.id,
            &GrantRevocation {
                reason: "更换教务系统".into(),
            },
        )
        .await
        .unwrap();
    assert!(!revoked.live);
    assert_eq!(
        app.integration()
            .acting_for(&integrator, &s.institution_id, IntegrationScope::Courses)
            .await
            .unwrap_err()
            .code,
        ErrorCode::Forbidden
    );
    assert!(
        app.integration()
            .integrator_grants(&integrator)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        app.integration()
            .revoke_integration(
                &institution_admin,
                &granted.id,
                &GrantRevocation {
                    reason: "再次撤销".into()
                }
            )
            .await
            .unwrap_err()
            .code,
        ErrorCode::Conflict
    );
    // Authorised again, with other scopes; the history keeps both.
    app.integration()
        .grant_integration(&institution_admin, &grant(&["attendance"]))
        .await
        .unwrap();
    let history = app
        .integration()
        .institution_grants(&institution_admin)
        .await
        .unwrap();
    assert_eq!(
        history
            .iter()
            .filter(|g| g.integrator_id == credentials.integrator_id)
            .count(),
        2
    );
    // A bank's key is not an integrator's.
    assert_eq!(
        app.integration()
            .integrator_grants(&s.bank)
            .await
            .unwrap_err()
            .code,
        ErrorCode::Forbidden
    );
}
