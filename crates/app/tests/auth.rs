//! Sign-in, tokens and account administration over a real database.

use app::admin::{NewAccount, NewAccountKind};
use app::auth::PasswordLogin;
use app::testing::TestApp;
use app::{Actor, ErrorCode};
use domain::RegionCode;
use domain::access::{RegulatorRole, StaffRole};

const SECRET: &[u8] = b"totp-secret-of-test1";
const PASSWORD: &str = "correct horse battery";

fn login(username: &str, password: &str, totp: Option<String>) -> PasswordLogin {
    PasswordLogin {
        username: username.into(),
        password: password.into(),
        totp,
        new_password: None,
        source: "198.51.100.7".into(),
    }
}

fn rc(s: &str) -> RegionCode {
    RegionCode::parse(s).unwrap()
}

fn regulator(username: &str, region: &str, role: RegulatorRole) -> NewAccount {
    NewAccount {
        username: username.into(),
        display_name: "审核员".into(),
        password: PASSWORD.into(),
        kind: NewAccountKind::Regulator {
            region: rc(region),
            role,
            totp_secret: SECRET.to_vec(),
        },
    }
}

fn code_now(t: &TestApp) -> String {
    ledger::totp::code_at(SECRET, (t.app.clock().now().millis() / 1000) as u64, 6)
}

async fn staff_app() -> (TestApp, String) {
    let t = TestApp::with_demo(5).await;
    let institution = t
        .app
        .store()
        .read()
        .registry()
        .institutions_after("", 1)
        .await
        .unwrap()[0]
        .id
        .clone();
    let account = NewAccount {
        username: "teacher.li".into(),
        display_name: "李老师".into(),
        password: PASSWORD.into(),
        kind: NewAccountKind::Staff {
            institution_id: institution.clone(),
            role: StaffRole::Teacher,
        },
    };
    t.app
        .identity()
        .create_account(&Actor::System { name: "test" }, account)
        .await
        .unwrap();
    (t, institution)
}

#[tokio::test]
async fn staff_sign_in_gives_tokens_that_resolve_to_the_actor() {
    let (t, institution) = staff_app().await;
    let pair = t
        .app
        .identity()
        .login(&login("teacher.li", PASSWORD, None))
        .await
        .unwrap();
    assert_eq!(pair.expires_in, 900);
    let actor = t
        .app
        .identity()
        .authenticate(&pair.access_token)
        .await
        .unwrap();
    assert!(
        matches!(&actor, Actor::Staff { institution_id, role: StaffRole::Teacher, .. } if *institution_id == institution)
    );
    assert_eq!(
        t.app.identity().me(&actor).await.unwrap().display_name,
        "李老师"
    );
    assert_eq!(
        t.app
            .identity()
            .authenticate("xwa_made-up")
            .await
            .unwrap_err()
            .code,
        ErrorCode::Unauthenticated
    );
    // Access tokens expire.
    t.clock.advance_millis(15 * 60_000);
    assert_eq!(
        t.app
            .identity()
            .authenticate(&pair.access_token)
            .await
            .unwrap_err()
            .code,
        ErrorCode::Unauthenticated
    );
}

#[tokio::test]
async fn the_sixth_attempt_after_five_wrong_passwords_is_locked_out_for_fifteen_minutes() {
    let (t, _) = staff_app().await;
    for attempt in 1..=5 {
        // Each failure slows the account down; the guesser waits it out.
        t.clock.advance_millis(app::auth::MAX_SIGN_IN_DELAY_MS);
        let err = t
            .app
            .identity()
            .login(&login("teacher.li", "wrong password!", None))
            .await
            .unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidCredentials, "attempt {attempt}");
    }
    let locked = t
        .app
        .identity()
        .login(&login("teacher.li", PASSWORD, None))
        .await
        .unwrap_err();
    assert_eq!(
        locked.code,
        ErrorCode::AccountLocked,
        "even the right password waits"
    );
    t.clock.advance_millis(14 * 60_000);
    assert_eq!(
        t.app
            .identity()
            .login(&login("teacher.li", PASSWORD, None))
            .await
            .unwrap_err()
            .code,
        ErrorCode::AccountLocked
    );
    t.clock.advance_millis(60_000);
    assert!(
        t.app
            .identity()
            .login(&login("teacher.li", PASSWORD, None))
            .await
            .is_ok()
    );
    // Unknown usernames answer exactly like wrong passwords.
    assert_eq!(
        t.app
            .identity()
            .login(&login("nobody", PASSWORD, None))
            .await
            .unwrap_err()
            .code,
        ErrorCode::InvalidCredentials
    );
}

/// Guesses from many sources (a password spray against one account) lock each source out of the account,
/// never the owner: the owner waits out the account's delay and signs in from its own source, and the
/// security administrator is told.
#[tokio::test]
async fn guesses_from_many_sources_lock_each_one_out_but_not_the_owner() {
    let (t, _) = staff_app().await;
    let from = |source: &str, password: &str| PasswordLogin {
        source: source.into(),
        ..login("teacher.li", password, None)
    };
    let attackers = ["203.0.113.1", "203.0.113.2", "203.0.113.3"];
    let mut wait: u64 = 0;
    for round in 1..=5 {
        for source in attackers {
            t.clock.advance_millis(wait as i64 * 1000);
            let guess = t
                .app
                .identity()
                .login(&from(source, "wrong password!"))
                .await
                .unwrap_err();
            assert_eq!(
                guess.code,
                ErrorCode::InvalidCredentials,
                "{source} round {round}"
            );
            wait = guess
                .retry_after_secs
                .expect("a failure says how long the account waits");
            if round == 5 {
                let locked = t
                    .app
                    .identity()
                    .login(&from(source, PASSWORD))
                    .await
                    .unwrap_err();
                assert_eq!(
                    locked.code,
                    ErrorCode::AccountLocked,
                    "{source} is locked out, even with the right password"
                );
                assert!(locked.retry_after_secs.is_some());
            }
        }
    }
    // Right after a guess the account is slowed down for everyone, and the refusal says how long.
    let owner = "192.0.2.10";
    let slowed = t
        .app
        .identity()
        .login(&from(owner, PASSWORD))
        .await
        .unwrap_err();
    assert_eq!(slowed.code, ErrorCode::TooManyRequests);
    let wait = slowed.retry_after_secs.unwrap();
    assert!(
        wait * 1000 <= app::auth::MAX_SIGN_IN_DELAY_MS as u64,
        "{wait} s"
    );
    t.clock.advance_millis(wait as i64 * 1000);
    t.app
        .identity()
        .login(&from(owner, PASSWORD))
        .await
        .expect("the owner signs in from its own source after the delay");
    assert_eq!(
        t.app
            .identity()
            .login(&from(attackers[2], PASSWORD))
            .await
            .unwrap_err()
            .code,
        ErrorCode::AccountLocked,
        "the owner's sign-in does not unlock the guessers"
    );
    // The national security administrator was told once, by name of the account, not by address.
    let mut tx = t.app.store().begin_write().await.unwrap();
    let security = tx
        .accounts()
        .account_by_username("moe.security")
        .await
        .unwrap()
        .expect("the demo's national security administrator");
    drop(tx);
    let told: Vec<_> = t
        .app
        .store()
        .read()
        .inbox()
        .notifications_of(&security.id, 10)
        .await
        .unwrap()
        .into_iter()
        .filter(|n| n.title.contains("攻击"))
        .collect();
    assert_eq!(told.len(), 1, "{told:?}");
    assert!(told[0].body.contains("teacher.li"), "{}", told[0].body);
    assert!(!told[0].body.contains("203.0.113"), "{}", told[0].body);
}

#[tokio::test]
async fn regulators_need_a_fresh_totp_code() {
    let t = TestApp::empty().await;
    t.app
        .identity()
        .create_account(
            &Actor::System { name: "test" },
            regulator("reviewer.haidian", "110108", RegulatorRole::Reviewer),
        )
        .await
        .unwrap();
    let no_code = t
        .app
        .identity()
        .login(&login("reviewer.haidian", PASSWORD, None))
        .await
        .unwrap_err();
    assert_eq!(no_code.code, ErrorCode::TotpRequired);
    let wrong = t
        .app
        .identity()
        .login(&login("reviewer.haidian", PASSWORD, Some("000000".into())))
        .await
        .unwrap_err();
    assert_eq!(wrong.code, ErrorCode::TotpInvalid);
    let pair = t
        .app
        .identity()
        .login(&login("reviewer.haidian", PASSWORD, Some(code_now(&t))))
        .await
        .unwrap();
    let actor = t
        .app
        .identity()
        .authenticate(&pair.access_token)
        .await
        .unwrap();
    assert!(
        matches!(actor, Actor::Regulator { role: RegulatorRole::Reviewer, region, .. } if region == rc("110108"))
    );
    // The same code cannot be used again, even within its 30 seconds.
    let replay = t
        .app
        .identity()
        .login(&login("reviewer.haidian", PASSWORD, Some(code_now(&t))))
        .await
        .unwrap_err();
    assert_eq!(replay.code, ErrorCode::TotpInvalid);
    t.clock.advance_millis(30_000);
    assert!(
        t.app
            .identity()
            .login(&login("reviewer.haidian", PASSWORD, Some(code_now(&t))))
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn a_refresh_token_works_once_and_its_reuse_revokes_the_sign_in() {
    let (t, _) = staff_app().await;
    let first = t
        .app
        .identity()
        .login(&login("teacher.li", PASSWORD, None))
        .await
        .unwrap();
    let second = t
        .app
        .identity()
        .refresh(&first.refresh_token)
        .await
        .unwrap();
    assert!(
        t.app
            .identity()
            .authenticate(&second.access_token)
            .await
            .is_ok()
    );
    // Replaying the spent refresh token is treated as theft: the whole sign-in is revoked.
    assert_eq!(
        t.app
            .identity()
            .refresh(&first.refresh_token)
            .await
            .unwrap_err()
            .code,
        ErrorCode::Unauthenticated
    );
    assert_eq!(
        t.app
            .identity()
            .authenticate(&second.access_token)
            .await
            .unwrap_err()
            .code,
        ErrorCode::Unauthenticated
    );
    assert_eq!(
        t.app
            .identity()
            .refresh(&second.refresh_token)
            .await
            .unwrap_err()
            .code,
        ErrorCode::Unauthenticated
    );
}

#[tokio::test]
async fn signing_out_revokes_the_tokens() {
    let (t, _) = staff_app().await;
    let pair = t
        .app
        .identity()
        .login(&login("teacher.li", PASSWORD, None))
        .await
        .unwrap();
    t.app.identity().logout(&pair.access_token).await.unwrap();
    assert_eq!(
        t.app
            .identity()
            .authenticate(&pair.access_token)
            .await
            .unwrap_err()
            .code,
        ErrorCode::Unauthenticated
    );
    assert_eq!(
        t.app
            .identity()
            .refresh(&pair.refresh_token)
            .await
            .unwrap_err()
            .code,
        ErrorCode::Unauthenticated
    );
    assert_eq!(
        t.app
            .identity()
            .logout(&pair.access_token)
            .await
            .unwrap_err()
            .code,
        ErrorCode::Unauthenticated
    );
}

#[tokio::test]
async fn administrators_create_accounts_only_in_their_subtree_and_only_the_system_admin() {
    let t = TestApp::empty().await;
    let system = Actor::System { name: "test" };
    let admin_id = t
        .app
        .identity()
        .create_account(
            &system,
            regulator("admin.haidian", "110108", RegulatorRole::SystemAdmin),
        )
        .await
        .unwrap();
    let admin = Actor::Regulator {
        account_id: admin_id,
        region: rc("110108"),
        role: RegulatorRole::SystemAdmin,
    };
    assert!(
        t.app
            .identity()
            .create_account(
                &admin,
                regulator("reviewer.hd", "110108", RegulatorRole::Reviewer)
            )
            .await
            .is_ok()
    );
    let sibling = t
        .app
        .identity()
        .create_account(
            &admin,
            regulator("reviewer.cy", "110105", RegulatorRole::Reviewer),
        )
        .await
        .unwrap_err();
    assert_eq!(
        sibling.code,
        ErrorCode::Forbidden,
        "Haidian's admin cannot create a Chaoyang account"
    );
    let above = t
        .app
        .identity()
        .create_account(
            &admin,
            regulator("reviewer.bj", "110000", RegulatorRole::Reviewer),
        )
        .await
        .unwrap_err();
    assert_eq!(above.code, ErrorCode::Forbidden);
    for role in [
        RegulatorRole::AuditAdmin,
        RegulatorRole::SecurityAdmin,
        RegulatorRole::Reviewer,
    ] {
        let other = Actor::Regulator {
            account_id: "x".into(),
            region: rc("110108"),
            role,
        };
        let err = t
            .app
            .identity()
            .create_account(
                &other,
                regulator("someone.new", "110108", RegulatorRole::Reviewer),
            )
            .await
            .unwrap_err();
        assert_eq!(
            err.code,
            ErrorCode::Forbidden,
            "{role:?} must not manage accounts"
        );
    }
    let dup = t
        .app
        .identity()
        .create_account(
            &system,
            regulator("reviewer.hd", "110108", RegulatorRole::Reviewer),
        )
        .await
        .unwrap_err();
    assert_eq!(dup.code, ErrorCode::Conflict);
    for (username, password, code) in [
        ("X", PASSWORD, ErrorCode::InvalidParameter),
        ("ok.name", "short", ErrorCode::WeakPassword),
    ] {
        let mut bad = regulator(username, "110108", RegulatorRole::Reviewer);
        bad.password = password.into();
        assert_eq!(
            t.app
                .identity()
                .create_account(&system, bad)
                .await
                .unwrap_err()
                .code,
            code
        );
    }
}

/// A Haidian system administrator and the actor it acts as.
async fn haidian_admin(t: &TestApp) -> Actor {
    let account_id = t
        .app
        .identity()
        .create_account(
            &Actor::System { name: "test" },
            regulator("admin.haidian", "110108", RegulatorRole::SystemAdmin),
        )
        .await
        .unwrap();
    Actor::Regulator {
        account_id,
        region: rc("110108"),
        role: RegulatorRole::SystemAdmin,
    }
}

#[tokio::test]
async fn an_account_made_by_an_administrator_replaces_its_temporary_password_at_first_sign_in() {
    let t = TestApp::empty().await;
    let admin = haidian_admin(&t).await;
    t.app
        .identity()
        .create_account(
            &admin,
            regulator("reviewer.new", "110108", RegulatorRole::Reviewer),
        )
        .await
        .unwrap();
    let code = code_now(&t);
    let first = t
        .app
        .identity()
        .login(&login("reviewer.new", PASSWORD, Some(code.clone())))
        .await
        .unwrap_err();
    assert_eq!(first.code, ErrorCode::PasswordChangeRequired);
    // The same code works again with the new password: nothing was spent by the refusal.
    let mut with_new = login("reviewer.new", PASSWORD, Some(code.clone()));
    with_new.new_password = Some(PASSWORD.into());
    assert_eq!(
        t.app.identity().login(&with_new).await.unwrap_err().code,
        ErrorCode::WeakPassword,
        "the temporary password cannot be kept"
    );
    with_new.new_password = Some("a brand new passphrase".into());
    let pair = t.app.identity().login(&with_new).await.unwrap();
    assert_eq!(pair.actor.role.as_deref(), Some("reviewer"));
    t.clock.advance_millis(30_000);
    assert_eq!(
        t.app
            .identity()
            .login(&login("reviewer.new", PASSWORD, Some(code_now(&t))))
            .await
            .unwrap_err()
            .code,
        ErrorCode::InvalidCredentials,
        "the temporary password is gone"
    );
    t.clock.advance_millis(30_000);
    t.app
        .identity()
        .login(&login(
            "reviewer.new",
            "a brand new passphrase",
            Some(code_now(&t)),
        ))
        .await
        .unwrap();
    let actions: Vec<String> = t
        .app
        .store()
        .read()
        .audit_entries_about(&format!("account:{}", pair.actor.account_id), 20)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.body.action)
        .collect();
    assert!(
        actions.contains(&"account.password_changed".to_owned()),
        "{actions:?}"
    );

    // Changing one's own password needs the current one.
    let me = t
        .app
        .identity()
        .authenticate(&pair.access_token)
        .await
        .unwrap();
    let wrong = app::auth::ChangePassword {
        current_password: PASSWORD.into(),
        new_password: "another passphrase!".into(),
    };
    assert_eq!(
        t.app
            .identity()
            .change_password(&me, &wrong)
            .await
            .unwrap_err()
            .code,
        ErrorCode::InvalidCredentials
    );
    let right = app::auth::ChangePassword {
        current_password: "a brand new passphrase".into(),
        new_password: "another passphrase!".into(),
    };
    t.app.identity().change_password(&me, &right).await.unwrap();
}

#[tokio::test]
async fn administrators_disable_and_enable_only_the_accounts_they_manage() {
    let t = TestApp::empty().await;
    let system = Actor::System { name: "test" };
    let admin = haidian_admin(&t).await;
    let reviewer = t
        .app
        .identity()
        .create_account(
            &system,
            regulator("reviewer.hd", "110108", RegulatorRole::Reviewer),
        )
        .await
        .unwrap();
    let chaoyang = t
        .app
        .identity()
        .create_account(
            &system,
            regulator("reviewer.cy", "110105", RegulatorRole::Reviewer),
        )
        .await
        .unwrap();
    let pair = t
        .app
        .identity()
        .login(&login("reviewer.hd", PASSWORD, Some(code_now(&t))))
        .await
        .unwrap();
    let why = app::admin::AccountChange {
        reason: "离岗".into(),
    };
    let disabled = t
        .app
        .identity()
        .set_account_enabled(&admin, &reviewer, false, &why)
        .await
        .unwrap();
    assert_eq!(disabled.status, "disabled");
    assert_eq!(
        t.app
            .identity()
            .authenticate(&pair.access_token)
            .await
            .unwrap_err()
            .code,
        ErrorCode::Unauthenticated,
        "disabling ends the account's tokens at once"
    );
    t.clock.advance_millis(30_000);
    assert_eq!(
        t.app
            .identity()
            .login(&login("reviewer.hd", PASSWORD, Some(code_now(&t))))
            .await
            .unwrap_err()
            .code,
        ErrorCode::InvalidCredentials
    );
    // Locked out by failures, then re-enabled: the lock is lifted too.
    t.app
        .identity()
        .set_account_enabled(&admin, &reviewer, true, &why)
        .await
        .unwrap();
    for _ in 0..5 {
        let _ = t
            .app
            .identity()
            .login(&login("reviewer.hd", "wrong password!", None))
            .await;
    }
    let page = t
        .app
        .identity()
        .managed_accounts(&admin, false, domain::Paging::new(None, None).unwrap())
        .await
        .unwrap();
    let status = |u: &str| {
        page.items
            .iter()
            .find(|a| a.username == u)
            .map(|a| a.status)
    };
    assert_eq!(status("reviewer.hd"), Some("locked"));
    assert_eq!(
        status("reviewer.cy"),
        None,
        "Chaoyang is not Haidian's to list"
    );
    t.app
        .identity()
        .set_account_enabled(&admin, &reviewer, true, &why)
        .await
        .unwrap();
    t.clock.advance_millis(30_000);
    t.app
        .identity()
        .login(&login("reviewer.hd", PASSWORD, Some(code_now(&t))))
        .await
        .unwrap();

    let outside = t
        .app
        .identity()
        .set_account_enabled(&admin, &chaoyang, false, &why)
        .await
        .unwrap_err();
    assert_eq!(outside.code, ErrorCode::Forbidden);
    let no_reason = app::admin::AccountChange { reason: " ".into() };
    assert_eq!(
        t.app
            .identity()
            .set_account_enabled(&admin, &reviewer, false, &no_reason)
            .await
            .unwrap_err()
            .code,
        ErrorCode::FieldTooLong
    );
    let own_id = admin.account_id().unwrap().to_owned();
    assert_eq!(
        t.app
            .identity()
            .set_account_enabled(&admin, &own_id, false, &why)
            .await
            .unwrap_err()
            .code,
        ErrorCode::Forbidden,
        "nobody disables themselves"
    );
}

#[tokio::test]
async fn bank_operators_are_made_nationally_and_staff_by_their_own_institution() {
    let t = TestApp::with_demo(20).await;
    let national = Actor::Regulator {
        account_id: "n".into(),
        region: RegionCode::NATIONAL,
        role: RegulatorRole::SystemAdmin,
    };
    let province = Actor::Regulator {
        account_id: "p".into(),
        region: rc("110000"),
        role: RegulatorRole::SystemAdmin,
    };
    let operator = app::admin::NewBankOperatorRequest {
        username: "bank2.operator".into(),
        display_name: "第二银行操作员".into(),
        password: PASSWORD.into(),
        bank_id: "bank-2".into(),
    };
    assert_eq!(
        t.app
            .identity()
            .create_bank_operator(&province, &operator)
            .await
            .unwrap_err()
            .code,
        ErrorCode::Forbidden
    );
    let created = t
        .app
        .identity()
        .create_bank_operator(&national, &operator)
        .await
        .unwrap();
    assert!(
        created
            .totp_enrolment_uri
            .is_some_and(|u| u.starts_with("otpauth://totp/"))
    );

    let staff_admin = t
        .app
        .identity()
        .authenticate(&staff_token(&t, "inst.admin").await)
        .await
        .unwrap();
    let teacher = app::admin::NewStaffRequest {
        username: "teacher.new".into(),
        display_name: "新教师".into(),
        password: PASSWORD.into(),
        role: "teacher".into(),
    };
    let created = t
        .app
        .identity()
        .create_staff(&staff_admin, &teacher)
        .await
        .unwrap();
    assert!(created.totp_enrolment_uri.is_none());
    let staff = t
        .app
        .identity()
        .managed_accounts(
            &staff_admin,
            false,
            domain::Paging::new(None, None).unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(staff.total, 4, "the three demo staff and the new teacher");
    assert!(staff.items.iter().all(|a| a.kind == "staff"));
    let operator_actor = t
        .app
        .identity()
        .authenticate(&staff_token(&t, "inst.operator").await)
        .await
        .unwrap();
    let mut another = teacher.clone();
    another.username = "teacher.two".into();
    assert_eq!(
        t.app
            .identity()
            .create_staff(&operator_actor, &another)
            .await
            .unwrap_err()
            .code,
        ErrorCode::Forbidden,
        "an operator is not the institution's admin"
    );
    assert_eq!(
        t.app
            .identity()
            .create_staff(&national, &another)
            .await
            .unwrap_err()
            .code,
        ErrorCode::Forbidden,
        "a regulator does not make institution staff"
    );
}

async fn staff_token(t: &TestApp, username: &str) -> String {
    t.app
        .identity()
        .login(&login(username, app::demo::DEMO_PASSWORD, None))
        .await
        .unwrap()
        .access_token
}

#[tokio::test]
async fn sign_ins_leave_evidence_without_secrets() {
    let (t, _) = staff_app().await;
    let _ = t
        .app
        .identity()
        .login(&login("teacher.li", "wrong password!", None))
        .await;
    let pair = t
        .app
        .identity()
        .login(&login("teacher.li", PASSWORD, None))
        .await
        .unwrap();
    let entries = t
        .app
        .store()
        .read()
        .audit_entries_after(0, 100_000)
        .await
        .unwrap();
    let actions: Vec<&str> = entries.iter().map(|e| e.body.action.as_str()).collect();
    assert!(
        actions.contains(&"account.created")
            && actions.contains(&"auth.sign_in_failed")
            && actions.contains(&"auth.signed_in")
    );
    for e in &entries {
        for secret in [
            "wrong password!",
            PASSWORD,
            pair.access_token.as_str(),
            pair.refresh_token.as_str(),
        ] {
            assert!(
                !e.body.payload.contains(secret),
                "{} leaks a secret",
                e.body.action
            );
        }
    }
}

#[tokio::test]
async fn demo_accounts_exist_only_in_demo_databases_and_sign_in() {
    let empty = TestApp::empty().await;
    assert_eq!(
        empty
            .app
            .store()
            .read()
            .accounts()
            .account_count()
            .await
            .unwrap(),
        0,
        "no accounts without --demo"
    );

    let t = TestApp::with_demo(40).await;
    let code = ledger::totp::code_at(
        app::demo::DEMO_TOTP_SECRET,
        (t.app.clock().now().millis() / 1000) as u64,
        6,
    );
    let pair = t
        .app
        .identity()
        .login(&login(
            "haidian.reviewer",
            app::demo::DEMO_PASSWORD,
            Some(code),
        ))
        .await
        .unwrap();
    assert_eq!(pair.actor.region_code.as_deref(), Some("110108"));
    let staff = t
        .app
        .identity()
        .login(&login("inst.teacher", app::demo::DEMO_PASSWORD, None))
        .await
        .unwrap();
    assert!(matches!(
        t.app
            .identity()
            .authenticate(&staff.access_token)
            .await
            .unwrap(),
        Actor::Staff {
            role: StaffRole::Teacher,
            ..
        }
    ));
    let moe = t
        .app
        .identity()
        .login(&login("moe.supervisor", app::demo::DEMO_PASSWORD, None))
        .await
        .unwrap_err();
    assert_eq!(moe.code, ErrorCode::TotpRequired);
}

fn sms_code(t: &TestApp, phone: &str) -> String {
    let text = t.sms.last_to(phone).expect("a message was sent");
    let after = text
        .split("验证码 ")
        .nth(1)
        .expect("the message names the code");
    after.chars().take(6).collect()
}

fn child(name: &str, id_card: &str) -> app::parents::NewChild {
    app::parents::NewChild {
        name: name.into(),
        gender: "female".into(),
        id_card: id_card.into(),
        school: "海淀实验小学".into(),
        grade: "三年级".into(),
    }
}

#[tokio::test]
async fn parents_sign_in_with_a_code_that_works_once_and_expires() {
    use app::parents::PhoneLogin;
    let t = TestApp::empty().await;
    assert_eq!(
        t.app
            .identity()
            .request_login_code("1380000000")
            .await
            .unwrap_err()
            .code,
        ErrorCode::InvalidPhone
    );
    t.app
        .identity()
        .request_login_code("138 0000 0002")
        .await
        .unwrap();
    assert_eq!(
        t.app
            .identity()
            .request_login_code("13800000002")
            .await
            .unwrap_err()
            .code,
        ErrorCode::TooManyRequests,
        "one a minute"
    );
    let code = sms_code(&t, "13800000002");
    assert_eq!(code.len(), 6);
    let wrong = PhoneLogin {
        phone: "13800000002".into(),
        code: "000000".into(),
    };
    assert_eq!(
        t.app
            .identity()
            .login_with_code(&wrong)
            .await
            .unwrap_err()
            .code,
        ErrorCode::InvalidCode
    );
    let right = PhoneLogin {
        phone: "13800000002".into(),
        code: code.clone(),
    };
    let pair = t.app.identity().login_with_code(&right).await.unwrap();
    assert_eq!(pair.actor.kind, "parent");
    assert_eq!(
        pair.actor.display_name, "家长138****0002",
        "the number is shown masked"
    );
    assert_eq!(
        t.app
            .identity()
            .login_with_code(&right)
            .await
            .unwrap_err()
            .code,
        ErrorCode::InvalidCode,
        "a code works once"
    );
    // A second sign-in finds the same account through the blind index.
    t.clock.advance_millis(60_000);
    t.app
        .identity()
        .request_login_code("13800000002")
        .await
        .unwrap();
    let again = t
        .app
        .identity()
        .login_with_code(&PhoneLogin {
            phone: "13800000002".into(),
            code: sms_code(&t, "13800000002"),
        })
        .await
        .unwrap();
    assert_eq!(again.actor.account_id, pair.actor.account_id);
    // Codes expire after five minutes.
    t.clock.advance_millis(60_000);
    t.app
        .identity()
        .request_login_code("13800000002")
        .await
        .unwrap();
    let late = PhoneLogin {
        phone: "13800000002".into(),
        code: sms_code(&t, "13800000002"),
    };
    t.clock.advance_millis(5 * 60_000);
    assert_eq!(
        t.app
            .identity()
            .login_with_code(&late)
            .await
            .unwrap_err()
            .code,
        ErrorCode::InvalidCode
    );
}

#[tokio::test]
async fn five_wrong_codes_spend_the_code() {
    use app::parents::PhoneLogin;
    let t = TestApp::empty().await;
    t.app
        .identity()
        .request_login_code("13900000003")
        .await
        .unwrap();
    let code = sms_code(&t, "13900000003");
    for _ in 0..5 {
        let _ = t
            .app
            .identity()
            .login_with_code(&PhoneLogin {
                phone: "13900000003".into(),
                code: "999999".into(),
            })
            .await;
    }
    let err = t
        .app
        .identity()
        .login_with_code(&PhoneLogin {
            phone: "13900000003".into(),
            code,
        })
        .await
        .unwrap_err();
    assert_eq!(
        err.code,
        ErrorCode::InvalidCode,
        "guessing is capped per code"
    );
}

#[tokio::test]
async fn children_are_validated_stored_sealed_and_shown_masked() {
    let t = TestApp::empty().await;
    let parent = app::Actor::Parent {
        account_id: create_parent(&t).await,
    };
    assert_eq!(
        t.app
            .identity()
            .add_child(&parent, &child("李小花", "110105201203150028"))
            .await
            .unwrap_err()
            .code,
        ErrorCode::InvalidIdCard,
        "bad check digit"
    );
    assert_eq!(
        t.app
            .identity()
            .add_child(&parent, &child("", "11010820150301001X"))
            .await
            .unwrap_err()
            .code,
        ErrorCode::InvalidName
    );
    let mut long_school = child("李小花", "11010820150301001X");
    long_school.school = "校".repeat(101);
    assert_eq!(
        t.app
            .identity()
            .add_child(&parent, &long_school)
            .await
            .unwrap_err()
            .code,
        ErrorCode::FieldTooLong
    );
    let view = t
        .app
        .identity()
        .add_child(&parent, &child("李小花", "11010820150301001X"))
        .await
        .unwrap();
    assert_eq!(
        (view.name_masked.as_str(), view.id_card_masked.as_str()),
        ("李*花", "1101**********001X")
    );
    assert_eq!(
        t.app.identity().my_children(&parent).await.unwrap(),
        vec![view.clone()]
    );
    let stored = t
        .app
        .store()
        .read()
        .parents()
        .child(&view.id)
        .await
        .unwrap()
        .unwrap();
    assert!(
        !stored.name_sealed.contains("李小花")
            && !stored.id_card_sealed.contains("11010820150301001X")
    );
    let staff = app::Actor::Staff {
        account_id: "s".into(),
        institution_id: "i".into(),
        role: StaffRole::Admin,
    };
    assert_eq!(
        t.app
            .identity()
            .add_child(&staff, &child("李小花", "11010820150301001X"))
            .await
            .unwrap_err()
            .code,
        ErrorCode::Forbidden
    );
}

async fn create_parent(t: &TestApp) -> String {
    t.app
        .identity()
        .request_login_code("13700000004")
        .await
        .unwrap();
    let code = sms_code(t, "13700000004");
    t.app
        .identity()
        .login_with_code(&app::parents::PhoneLogin {
            phone: "13700000004".into(),
            code,
        })
        .await
        .unwrap()
        .actor
        .account_id
}

#[tokio::test]
async fn reveals_need_the_right_and_a_reason_and_are_logged() {
    use app::parents::ChildField;
    let t = TestApp::empty().await;
    let parent = app::Actor::Parent {
        account_id: create_parent(&t).await,
    };
    let view = t
        .app
        .identity()
        .add_child(&parent, &child("李小花", "11010820150301001X"))
        .await
        .unwrap();
    assert_eq!(
        t.app
            .identity()
            .reveal_child(&parent, &view.id, ChildField::IdCard, "核对报名信息")
            .await
            .unwrap(),
        "11010820150301001X"
    );
    assert_eq!(
        t.app
            .identity()
            .reveal_child(&parent, &view.id, ChildField::Name, "  ")
            .await
            .unwrap_err()
            .code,
        ErrorCode::FieldTooLong,
        "a reason is required"
    );
    let reviewer = app::Actor::Regulator {
        account_id: "r".into(),
        region: rc("110108"),
        role: RegulatorRole::Reviewer,
    };
    assert_eq!(
        t.app
            .identity()
            .reveal_child(&reviewer, &view.id, ChildField::Name, "查看")
            .await
            .unwrap_err()
            .code,
        ErrorCode::Forbidden
    );
    let stranger = app::Actor::Parent {
        account_id: "someone-else".into(),
    };
    assert_eq!(
        t.app
            .identity()
            .reveal_child(&stranger, &view.id, ChildField::Name, "查看")
            .await
            .unwrap_err()
            .code,
        ErrorCode::Forbidden
    );
    let supervisor = app::Actor::Regulator {
        account_id: "sup".into(),
        region: rc("110108"),
        role: RegulatorRole::Supervisor,
    };
    // No regulator path until cases (complaints, refund disputes) bind a child to a region.
    assert_eq!(
        t.app
            .identity()
            .reveal_child(&supervisor, &view.id, ChildField::Name, "投诉核查 2026-118")
            .await
            .unwrap_err()
            .code,
        ErrorCode::Forbidden
    );
    let log = t
        .app
        .store()
        .read()
        .parents()
        .pii_access_log(10)
        .await
        .unwrap();
    assert_eq!(log.len(), 1, "only the successful reveal");
    assert_eq!(
        (log[0].reason.as_str(), log[0].field.as_str()),
        ("核对报名信息", "child.id_card")
    );
    assert!(log[0].actor.starts_with("parent:"));
    // Each refusal is evidence too.
    let denials = t
        .app
        .store()
        .read()
        .audit_entries_about(&format!("child:{}", view.id), 10)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.body.action == "auth.permission_denied")
        .count();
    assert_eq!(denials, 3);
}

#[tokio::test]
async fn signed_requests_verify_once_within_five_minutes() {
    use app::signing::{SignedRequest, canonical_request, sign};
    let t = TestApp::empty().await;
    let (key_id, secret) = t
        .app
        .integration()
        .create_api_client(&Actor::System { name: "test" }, "bank", "demo-bank")
        .await
        .unwrap();
    let crypto = ledger::SmSuite;
    let now = t.app.clock().now().millis();
    let body = br#"{"amount_fen":120000}"#;
    let signed = |ts: i64, nonce: &str, body: &[u8], secret: &str| {
        sign(
            &crypto,
            secret.as_bytes(),
            &canonical_request(
                &crypto,
                "POST",
                "/api/v1/bank/movements?batch=1",
                body,
                ts,
                nonce,
            ),
        )
    };
    let request =
        |ts: i64, nonce: &'static str, body: &'static [u8], sig: String| (ts, nonce, body, sig);
    let verify = |(ts, nonce, body, sig): (i64, &'static str, &'static [u8], String)| {
        let key_id = key_id.clone();
        let app = t.app.clone();
        async move {
            app.integration()
                .verify_signed(&SignedRequest {
                    key_id: &key_id,
                    method: "POST",
                    path_and_query: "/api/v1/bank/movements?batch=1",
                    body,
                    timestamp_ms: ts,
                    nonce,
                    signature: &sig,
                })
                .await
        }
    };
    let good = request(
        now,
        "nonce-0000000001",
        body,
        signed(now, "nonce-0000000001", body, &secret),
    );
    let actor = verify(good.clone()).await.unwrap();
    assert!(
        matches!(&actor, Actor::ApiClient { owner_kind, owner_id, .. } if owner_kind == "bank" && owner_id == "demo-bank")
    );
    assert_eq!(
        verify(good).await.unwrap_err().code,
        ErrorCode::ReplayedRequest,
        "the same request twice"
    );

    let stale_ts = now - 6 * 60_000;
    let stale = request(
        stale_ts,
        "nonce-0000000002",
        body,
        signed(stale_ts, "nonce-0000000002", body, &secret),
    );
    assert_eq!(
        verify(stale).await.unwrap_err().code,
        ErrorCode::StaleRequest
    );

    let tampered = request(
        now,
        "nonce-0000000003",
        br#"{"amount_fen":999999}"#,
        signed(now, "nonce-0000000003", body, &secret),
    );
    assert_eq!(
        verify(tampered).await.unwrap_err().code,
        ErrorCode::InvalidSignature,
        "the body is covered"
    );
    let wrong_secret = request(
        now,
        "nonce-0000000004",
        body,
        signed(now, "nonce-0000000004", body, "not the secret"),
    );
    assert_eq!(
        verify(wrong_secret).await.unwrap_err().code,
        ErrorCode::InvalidSignature
    );
    let short_nonce = request(now, "abc", body, signed(now, "abc", body, &secret));
    assert_eq!(
        verify(short_nonce).await.unwrap_err().code,
        ErrorCode::InvalidSignature
    );

    // Within the window, a fresh nonce is fine; a refused (tampered) request did not spend its nonce.
    t.clock.advance_millis(4 * 60_000);
    let later = t.app.clock().now().millis();
    assert!(
        verify(request(
            later,
            "nonce-0000000003",
            body,
            signed(later, "nonce-0000000003", body, &secret)
        ))
        .await
        .is_ok()
    );
    assert_eq!(
        t.app
            .integration()
            .create_api_client(&Actor::Public, "bank", "x")
            .await
            .unwrap_err()
            .code,
        ErrorCode::Forbidden
    );
}

#[tokio::test]
async fn a_parent_may_set_a_password_and_sign_in_with_the_phone_number() {
    let t = TestApp::empty().await;
    let parent = Actor::Parent {
        account_id: create_parent(&t).await,
    };
    let phone = "13700000004";
    assert_eq!(
        t.app
            .identity()
            .login(&login(phone, "no password yet!", None))
            .await
            .unwrap_err()
            .code,
        ErrorCode::InvalidCredentials,
        "a parent without a password signs in by SMS only"
    );
    let first = app::auth::ChangePassword {
        current_password: String::new(),
        new_password: "family passphrase".into(),
    };
    t.app
        .identity()
        .change_password(&parent, &first)
        .await
        .unwrap();
    let pair = t
        .app
        .identity()
        .login(&login(phone, "family passphrase", None))
        .await
        .unwrap();
    assert_eq!(pair.actor.kind, "parent");
    assert_eq!(pair.actor.account_id, parent.account_id().unwrap());
    // From now on the current password is needed to change it.
    let again = app::auth::ChangePassword {
        current_password: String::new(),
        new_password: "another passphrase".into(),
    };
    assert_eq!(
        t.app
            .identity()
            .change_password(&parent, &again)
            .await
            .unwrap_err()
            .code,
        ErrorCode::InvalidCredentials
    );
}

#[tokio::test]
async fn the_national_security_administrator_sets_the_lockout_and_others_only_read_it() {
    use app::security::{SecurityPolicy, SecurityPolicyChange};
    let t = TestApp::empty().await;
    let system = Actor::System { name: "test" };
    t.app
        .identity()
        .create_account(
            &system,
            regulator("reviewer.hd", "110108", RegulatorRole::Reviewer),
        )
        .await
        .unwrap();
    let security = |region: &str| Actor::Regulator {
        account_id: format!("sec-{region}"),
        region: rc(region),
        role: RegulatorRole::SecurityAdmin,
    };
    let national = security("000000");
    let beijing = security("110000");
    let stricter = SecurityPolicyChange {
        policy: SecurityPolicy {
            max_failures: 3,
            ..SecurityPolicy::default()
        },
        reason: "等保测评整改".into(),
    };
    assert_eq!(
        t.app
            .identity()
            .set_security_policy(&beijing, &stricter)
            .await
            .unwrap_err()
            .code,
        ErrorCode::Forbidden,
        "a province reads the policy but does not set it"
    );
    assert_eq!(
        t.app
            .identity()
            .security_policy(&beijing)
            .await
            .unwrap()
            .version,
        0
    );
    let auditor = Actor::Regulator {
        account_id: "aud".into(),
        region: RegionCode::NATIONAL,
        role: RegulatorRole::AuditAdmin,
    };
    assert_eq!(
        t.app
            .identity()
            .security_policy(&auditor)
            .await
            .unwrap_err()
            .code,
        ErrorCode::Forbidden,
        "the audit administrator does not manage policies"
    );
    let mut weak = stricter.clone();
    weak.policy.privileged_idle_minutes = 60;
    let refused = t
        .app
        .identity()
        .set_security_policy(&national, &weak)
        .await
        .unwrap_err();
    assert_eq!(refused.code, ErrorCode::InvalidParameter);
    assert!(
        refused.detail.en.contains("privileged_idle_minutes"),
        "{}",
        refused.detail
    );

    let set = t
        .app
        .identity()
        .set_security_policy(&national, &stricter)
        .await
        .unwrap();
    assert_eq!((set.version, set.policy.max_failures), (1, 3));
    for _ in 0..2 {
        t.clock.advance_millis(app::auth::MAX_SIGN_IN_DELAY_MS);
        let _ = t
            .app
            .identity()
            .login(&login("reviewer.hd", "wrong password!", None))
            .await;
    }
    t.clock.advance_millis(app::auth::MAX_SIGN_IN_DELAY_MS);
    assert_eq!(
        t.app
            .identity()
            .login(&login("reviewer.hd", "wrong password!", None))
            .await
            .unwrap_err()
            .code,
        ErrorCode::InvalidCredentials
    );
    assert_eq!(
        t.app
            .identity()
            .login(&login("reviewer.hd", PASSWORD, Some(code_now(&t))))
            .await
            .unwrap_err()
            .code,
        ErrorCode::AccountLocked,
        "the third failure locked the account under the new policy"
    );
    let trail = t
        .app
        .store()
        .read()
        .audit_entries_about("security_policy", 5)
        .await
        .unwrap();
    assert_eq!(trail[0].body.action, "security_policy.changed");
}

#[tokio::test]
async fn audit_administrators_read_their_subtree_and_the_national_one_reads_everything() {
    use app::parents::ChildField;
    let t = TestApp::empty().await;
    let system = Actor::System { name: "test" };
    for (username, region) in [("reviewer.hd", "110108"), ("reviewer.sh", "310104")] {
        t.app
            .identity()
            .create_account(
                &system,
                regulator(username, region, RegulatorRole::Reviewer),
            )
            .await
            .unwrap();
        let _ = t
            .app
            .identity()
            .login(&login(username, "wrong password!", None))
            .await;
    }
    let parent = Actor::Parent {
        account_id: create_parent(&t).await,
    };
    let child = t
        .app
        .identity()
        .add_child(&parent, &child("李小花", "11010820150301001X"))
        .await
        .unwrap();
    t.app
        .identity()
        .reveal_child(&parent, &child.id, ChildField::Name, "核对")
        .await
        .unwrap();
    let auditor = |region: &str| Actor::Regulator {
        account_id: format!("aud-{region}"),
        region: rc(region),
        role: RegulatorRole::AuditAdmin,
    };
    let beijing = t
        .app
        .supervision()
        .audit_log(&auditor("110000"), None)
        .await
        .unwrap();
    let actions: Vec<&str> = beijing.entries.iter().map(|e| e.action.as_str()).collect();
    assert!(actions.contains(&"auth.sign_in_failed"), "{actions:?}");
    assert!(actions.contains(&"account.created"));
    let failed = beijing
        .entries
        .iter()
        .find(|e| e.action == "auth.sign_in_failed")
        .unwrap();
    assert_eq!(failed.action_label, "登录失败", "the log reads in Chinese");
    assert!(
        !actions.contains(&"pii.revealed") && beijing.entries.len() == 2,
        "Beijing sees only its reviewer's entries: {actions:?}"
    );
    let national = t
        .app
        .supervision()
        .audit_log(&auditor("000000"), None)
        .await
        .unwrap();
    assert!(national.entries.len() > beijing.entries.len());
    assert!(
        national.entries.windows(2).all(|w| w[0].seq > w[1].seq),
        "newest first"
    );

    let paging = domain::Paging::new(None, None).unwrap();
    let reveals = t
        .app
        .supervision()
        .pii_access_log(&auditor("000000"), paging)
        .await
        .unwrap();
    assert_eq!(reveals.total, 1);
    assert_eq!(reveals.items[0].reason, "核对");
    assert_eq!(
        t.app
            .supervision()
            .pii_access_log(&auditor("110000"), paging)
            .await
            .unwrap()
            .total,
        0
    );
    let supervisor = Actor::Regulator {
        account_id: "sup".into(),
        region: RegionCode::NATIONAL,
        role: RegulatorRole::Supervisor,
    };
    assert_eq!(
        t.app
            .supervision()
            .audit_log(&supervisor, None)
            .await
            .unwrap_err()
            .code,
        ErrorCode::Forbidden,
        "only the audit administrator reads the logs"
    );
}
