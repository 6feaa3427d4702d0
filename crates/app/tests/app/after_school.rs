use super::region_policy::supervisor;
use app::after_school::{NewAfterSchoolList, NewCandidate};
use app::testing::TestApp;
use app::{Actor, ErrorCode};
use domain::access::RegulatorRole;

#[tokio::test]
async fn candidates_are_compared_and_an_expired_licence_is_flagged() {
    let t = TestApp::with_demo(2400).await;
    let haidian = supervisor("110108");
    let mut new = NewAfterSchoolList {
        name: "海淀区课后服务非学科类机构名单".into(),
        school_year: "2026-2028".into(),
    };
    assert_eq!(
        t.app
            .supervision()
            .create_after_school_list(&haidian, &new)
            .await
            .unwrap_err()
            .code,
        ErrorCode::InvalidParameter
    );
    new.school_year = "2026-2027".into();
    let list = t
        .app
        .supervision()
        .create_after_school_list(&haidian, &new)
        .await
        .unwrap();
    // The demo neighbour whose licence expires in 20 days, a subject-training institution, one off the white
    // list.
    t.app.supervision().sweep_risks().await.unwrap();
    let warnings = t.app.supervision().warnings_for(&haidian, 0).await.unwrap();
    let licensed = warnings
        .iter()
        .find(|w| w.indicator == "licence_expiry")
        .unwrap()
        .institution_id
        .clone();
    let population = t
        .app
        .store()
        .read()
        .inspection()
        .spot_check_population("110108")
        .await
        .unwrap();
    let subject = population
        .iter()
        .find(|r| r.categories.split(',').any(|c| c == "subject") && r.id != licensed)
        .unwrap()
        .id
        .clone();
    let mut after = String::new();
    let black = 'scan: loop {
        let batch = t
            .app
            .store()
            .read()
            .registry()
            .institutions_after(&after, 500)
            .await
            .unwrap();
        after = batch.last().unwrap().id.clone();
        for i in batch {
            if i.region_code == "110108"
                && i.list_status != domain::ListStatus::White
                && i.registry_state == domain::RegistryState::Listed
            {
                break 'scan i.id;
            }
        }
    };
    for id in [&licensed, &subject, &black] {
        t.app
            .supervision()
            .add_after_school_candidate(
                &haidian,
                &list.id,
                &NewCandidate {
                    institution_id: id.clone(),
                },
            )
            .await
            .unwrap();
    }
    let flags = |view: &app::after_school::AfterSchoolListView, id: &str| -> Vec<&'static str> {
        view.candidates
            .iter()
            .find(|c| c.institution_id == id)
            .unwrap()
            .flags
            .iter()
            .map(|f| f.code)
            .collect()
    };
    let view = t
        .app
        .supervision()
        .after_school_list(&haidian, &list.id)
        .await
        .unwrap();
    assert!(
        flags(&view, &licensed).contains(&"licence_expiring"),
        "{:?}",
        flags(&view, &licensed)
    );
    assert!(!flags(&view, &licensed).contains(&"licence_expired"));
    assert!(flags(&view, &subject).contains(&"subject_training"));
    assert!(flags(&view, &black).contains(&"not_white_listed"));
    // Twenty-one days later the licence has expired: the list says so.
    t.clock.advance_millis(21 * 86_400_000);
    let view = t
        .app
        .supervision()
        .after_school_list(&haidian, &list.id)
        .await
        .unwrap();
    assert!(
        flags(&view, &licensed).contains(&"licence_expired"),
        "{:?}",
        flags(&view, &licensed)
    );
    // Ranked: fewer problems do not matter, only none; within a group the higher credit first.
    let keys: Vec<(bool, i32)> = view
        .candidates
        .iter()
        .map(|c| (!c.flags.is_empty(), -c.credit_score))
        .collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted);
    // Refused: twice, outside the region, by a reviewer.
    let again = NewCandidate {
        institution_id: subject.clone(),
    };
    assert_eq!(
        t.app
            .supervision()
            .add_after_school_candidate(&haidian, &list.id, &again)
            .await
            .unwrap_err()
            .code,
        ErrorCode::Conflict
    );
    let chaoyang = t
        .app
        .store()
        .read()
        .inspection()
        .spot_check_population("110105")
        .await
        .unwrap()[0]
        .id
        .clone();
    assert_eq!(
        t.app
            .supervision()
            .add_after_school_candidate(
                &haidian,
                &list.id,
                &NewCandidate {
                    institution_id: chaoyang
                }
            )
            .await
            .unwrap_err()
            .code,
        ErrorCode::NotFound
    );
    let reviewer = Actor::Regulator {
        account_id: "rev".into(),
        region: domain::RegionCode::parse("110108").unwrap(),
        role: RegulatorRole::Reviewer,
    };
    assert_eq!(
        t.app
            .supervision()
            .add_after_school_candidate(&reviewer, &list.id, &again)
            .await
            .unwrap_err()
            .code,
        ErrorCode::Forbidden
    );
    // The demo's list and this one.
    assert_eq!(
        t.app
            .supervision()
            .after_school_lists(&haidian)
            .await
            .unwrap()
            .len(),
        2
    );
}

/// The demo school (海淀区中关村第一小学) as its account acts.
async fn demo_school(t: &TestApp) -> Actor {
    let mut tx = t.app.store().begin_write().await.unwrap();
    let row = tx
        .accounts()
        .account_by_username(app::demo::DEMO_SCHOOL_USERNAME)
        .await
        .unwrap()
        .unwrap();
    Actor::School {
        account_id: row.id,
        school_id: row.school_id.unwrap(),
        region: domain::RegionCode::parse(&row.region_code.unwrap()).unwrap(),
    }
}

#[tokio::test]
async fn a_school_chooses_an_unflagged_candidate_from_the_lists_covering_it() {
    let t = TestApp::with_demo(2400).await;
    let school = demo_school(&t).await;
    let Actor::School { school_id, .. } = &school else {
        unreachable!()
    };
    // The lists of its county and its city, not another county's.
    let year = |name: &str| NewAfterSchoolList {
        name: name.into(),
        school_year: "2026-2027".into(),
    };
    let beijing = t
        .app
        .supervision()
        .create_after_school_list(&supervisor("110000"), &year("北京市课后服务机构名单"))
        .await
        .unwrap();
    let chaoyang = t
        .app
        .supervision()
        .create_after_school_list(&supervisor("110105"), &year("朝阳区课后服务机构名单"))
        .await
        .unwrap();
    let lists = t
        .app
        .supervision()
        .school_after_school_lists(&school)
        .await
        .unwrap();
    let names: Vec<&str> = lists.iter().map(|l| l.name.as_str()).collect();
    assert_eq!(names.len(), 2, "{names:?}");
    assert!(names.contains(&"北京市课后服务机构名单"));
    assert!(!names.contains(&"朝阳区课后服务机构名单"));
    assert_eq!(
        t.app
            .supervision()
            .school_after_school_list(&school, &chaoyang.id)
            .await
            .unwrap_err()
            .code,
        ErrorCode::NotFound
    );
    assert!(
        t.app
            .supervision()
            .school_after_school_list(&school, &beijing.id)
            .await
            .unwrap()
            .candidates
            .is_empty()
    );
    // The demo's Haidian list: one candidate whose teacher a reviewer vetted, others flagged.
    let demo = lists
        .iter()
        .find(|l| l.region_code == "110108")
        .unwrap()
        .id
        .clone();
    let view = t
        .app
        .supervision()
        .school_after_school_list(&school, &demo)
        .await
        .unwrap();
    let chosen = view
        .candidates
        .iter()
        .find(|c| c.selectable && c.flags.is_empty())
        .expect("the demo list has an unflagged candidate")
        .institution_id
        .clone();
    let barred = view
        .candidates
        .iter()
        .find(|c| !c.selectable)
        .expect("the demo list has a flagged candidate");
    assert!(!barred.flags.is_empty());
    let choose = |institution_id: &str, note: &str| app::after_school::NewChoice {
        institution_id: institution_id.into(),
        note: note.into(),
    };
    let refused = t
        .app
        .supervision()
        .choose_after_school(&school, &demo, &choose(&barred.institution_id, ""))
        .await
        .unwrap_err();
    assert_eq!(refused.code, ErrorCode::CandidateFlagged);
    for f in barred.flags.iter().filter(|f| f.code != "licence_expiring") {
        assert!(refused.detail.en.contains(f.code), "{}", refused.detail);
    }
    let long = "美".repeat(201);
    assert_eq!(
        t.app
            .supervision()
            .choose_after_school(&school, &demo, &choose(&chosen, &long))
            .await
            .unwrap_err()
            .code,
        ErrorCode::FieldTooLong
    );
    assert!(
        t.app
            .store()
            .read()
            .after_school()
            .after_school_choices(&demo)
            .await
            .unwrap()
            .is_empty(),
        "a refused choice keeps nothing"
    );
    // Only schools choose.
    assert_eq!(
        t.app
            .supervision()
            .choose_after_school(&supervisor("110108"), &demo, &choose(&chosen, ""))
            .await
            .unwrap_err()
            .code,
        ErrorCode::Forbidden
    );
    let view = t
        .app
        .supervision()
        .choose_after_school(&school, &demo, &choose(&chosen, "周三下午 三年级 美术社团"))
        .await
        .unwrap();
    let mine = |v: &app::after_school::AfterSchoolListView| -> Vec<String> {
        v.candidates
            .iter()
            .filter(|c| !c.choices.is_empty())
            .map(|c| c.institution_id.clone())
            .collect()
    };
    assert_eq!(mine(&view), vec![chosen.clone()]);
    assert_eq!(
        t.app
            .supervision()
            .choose_after_school(&school, &demo, &choose(&chosen, ""))
            .await
            .unwrap_err()
            .code,
        ErrorCode::Conflict
    );
    // The supervisor sees which school chose what, and for what.
    let regulator_view = t
        .app
        .supervision()
        .after_school_list(&supervisor("110108"), &demo)
        .await
        .unwrap();
    let c = regulator_view
        .candidates
        .iter()
        .find(|c| c.institution_id == chosen)
        .unwrap();
    assert_eq!(c.choices.len(), 1);
    assert_eq!(c.choices[0].school_name, "北京市海淀区中关村第一小学");
    assert_eq!(c.choices[0].note, "周三下午 三年级 美术社团");
    assert_eq!(&c.choices[0].school_id, school_id);
    // Withdrawn with a reason, then chosen again.
    let withdraw = |reason: &str| app::after_school::ChoiceWithdrawal {
        reason: reason.into(),
    };
    assert!(
        t.app
            .supervision()
            .withdraw_after_school_choice(&school, &demo, &chosen, &withdraw(" "))
            .await
            .is_err()
    );
    let view = t
        .app
        .supervision()
        .withdraw_after_school_choice(&school, &demo, &chosen, &withdraw("课程时间调整"))
        .await
        .unwrap();
    assert!(mine(&view).is_empty());
    assert_eq!(
        t.app
            .supervision()
            .withdraw_after_school_choice(&school, &demo, &chosen, &withdraw("再次撤回"))
            .await
            .unwrap_err()
            .code,
        ErrorCode::NotFound
    );
    let view = t
        .app
        .supervision()
        .choose_after_school(&school, &demo, &choose(&chosen, "周五下午 足球"))
        .await
        .unwrap();
    assert_eq!(mine(&view), vec![chosen.clone()]);
    let rows = t
        .app
        .store()
        .read()
        .after_school()
        .after_school_choices(&demo)
        .await
        .unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].note, "周五下午 足球");
    assert!(rows[0].withdrawn_at.is_none());
}

#[tokio::test]
async fn a_regions_system_administrator_creates_school_accounts_in_its_subtree() {
    let t = TestApp::with_demo(200).await;
    let admin = |region: &str, role: RegulatorRole| Actor::Regulator {
        account_id: format!("admin-{region}"),
        region: domain::RegionCode::parse(region).unwrap(),
        role,
    };
    let beijing = admin("110000", RegulatorRole::SystemAdmin);
    let request =
        |username: &str, region: &str, school: &str| app::admin::NewSchoolAccountRequest {
            username: username.into(),
            display_name: "教务处".into(),
            password: "a-temporary-password".into(),
            region_code: region.into(),
            school_name: school.into(),
        };
    let demo = demo_school(&t).await;
    let Actor::School { school_id, .. } = &demo else {
        unreachable!()
    };
    // A second account of the demo school joins it; a new name is a new school.
    let second = t
        .app
        .identity()
        .create_school_account(
            &beijing,
            &request("zgc.second", "110108", "北京市海淀区中关村第一小学"),
        )
        .await
        .unwrap();
    let other = t
        .app
        .identity()
        .create_school_account(
            &beijing,
            &request("cy.school", "110105", "北京市朝阳区实验小学"),
        )
        .await
        .unwrap();
    let read = t.app.store().read();
    let second = read
        .accounts()
        .account(&second.account_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(second.kind, "school");
    assert_eq!(second.school_id.as_ref(), Some(school_id));
    assert_eq!(second.must_change_password, 1, "a person set the password");
    let other = read
        .accounts()
        .account(&other.account_id)
        .await
        .unwrap()
        .unwrap();
    assert_ne!(other.school_id.as_ref(), Some(school_id));
    assert!(
        read.after_school()
            .school(other.school_id.as_deref().unwrap())
            .await
            .unwrap()
            .is_some_and(|s| s.name == "北京市朝阳区实验小学" && s.region_code == "110105")
    );
    // Refused, with nothing kept: outside the subtree, the national code, a blank name, a supervisor.
    let before = read.accounts().account_count().await.unwrap();
    for (actor, req, code) in [
        (
            &beijing,
            request("sh.school", "310104", "上海市徐汇区小学"),
            ErrorCode::Forbidden,
        ),
        (
            &beijing,
            request("nat.school", "000000", "全国小学"),
            ErrorCode::UnknownRegion,
        ),
        (
            &beijing,
            request("blank.school", "110108", " "),
            ErrorCode::FieldTooLong,
        ),
        (
            &admin("110108", RegulatorRole::Supervisor),
            request("sup.school", "110108", "海淀小学"),
            ErrorCode::Forbidden,
        ),
    ] {
        let e = t
            .app
            .identity()
            .create_school_account(actor, &req)
            .await
            .unwrap_err();
        assert_eq!(e.code, code, "{}", req.username);
    }
    assert_eq!(read.accounts().account_count().await.unwrap(), before);
    assert!(
        read.after_school()
            .school_by_name("310104", "上海市徐汇区小学")
            .await
            .unwrap()
            .is_none()
    );
}
