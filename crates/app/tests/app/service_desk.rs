use app::service_desk::{NewTicket, TicketAssignment, TicketReply};
use app::testing::TestApp;
use app::{Actor, ErrorCode};
use domain::access::{RegulatorRole, StaffRole};

async fn account(t: &TestApp, username: &str) -> store::AccountRow {
    let mut tx = t.app.store().begin_write().await.unwrap();
    tx.accounts()
        .account_by_username(username)
        .await
        .unwrap()
        .unwrap()
}

async fn regulator(t: &TestApp, username: &str) -> Actor {
    let a = account(t, username).await;
    Actor::Regulator {
        region: domain::RegionCode::parse(a.region_code.as_deref().unwrap()).unwrap(),
        role: RegulatorRole::parse(a.regulator_role.as_deref().unwrap()).unwrap(),
        account_id: a.id,
    }
}

fn ticket(kind: &str, tier: &str, subject: &str) -> NewTicket {
    NewTicket {
        kind: kind.into(),
        tier: tier.into(),
        subject: subject.into(),
        body: "详细描述".into(),
    }
}

#[tokio::test]
async fn tickets_reach_the_right_desk_and_its_figures_follow_the_clock() {
    let t = TestApp::with_demo(6).await;
    let app = &t.app;
    let admin = account(&t, "inst.admin").await;
    let staff = Actor::Staff {
        account_id: admin.id.clone(),
        institution_id: admin.institution_id.clone().unwrap(),
        role: StaffRole::Admin,
    };
    let operator = account(&t, "bank.operator").await;
    let bank = Actor::BankOperator {
        account_id: operator.id.clone(),
        bank_id: operator.bank_id.clone().unwrap(),
    };
    let integrator = t.demo_integrator().await;
    let service = regulator(&t, "moe.admin").await;
    // The county regulators of the demo institution's region, and of another county.
    let county_code = app
        .store()
        .read()
        .registry()
        .institution(admin.institution_id.as_deref().unwrap())
        .await
        .unwrap()
        .unwrap()
        .region_code;
    let county_reviewer = |code: &str| Actor::Regulator {
        account_id: format!("reviewer-{code}"),
        region: domain::RegionCode::parse(code).unwrap(),
        role: RegulatorRole::Reviewer,
    };
    let haidian = county_reviewer(&county_code);
    let elsewhere = if county_code == "110105" {
        "110108"
    } else {
        "110105"
    };
    let chaoyang = county_reviewer(elsewhere);
    let ineligible = regulator(&t, "haidian.reviewer").await;
    let beijing_admin = regulator(&t, "beijing.admin").await;
    let parent = Actor::Parent {
        account_id: "someone".into(),
    };

    // Bad input is refused and nothing is kept; parents do not open tickets.
    for (bad, code) in [
        (
            ticket("billing", "normal", "标题"),
            ErrorCode::InvalidParameter,
        ),
        (
            ticket("technical", "p0", "标题"),
            ErrorCode::InvalidParameter,
        ),
        (ticket("technical", "normal", " "), ErrorCode::FieldTooLong),
    ] {
        assert_eq!(
            app.service()
                .open_ticket(&staff, &bad)
                .await
                .unwrap_err()
                .code,
            code
        );
    }
    assert!(app.service().tickets(&staff).await.unwrap().is_empty());
    assert_eq!(
        app.service()
            .open_ticket(&parent, &ticket("technical", "normal", "x"))
            .await
            .unwrap_err()
            .code,
        ErrorCode::Forbidden
    );

    let outage = app
        .service()
        .open_ticket(&integrator, &ticket("technical", "urgent", "推送全部失败"))
        .await
        .unwrap();
    assert_eq!(
        (outage.status.as_str(), outage.opener_kind.as_str()),
        ("open", "integrator")
    );
    assert_eq!(outage.messages.len(), 1);
    let question = app
        .service()
        .open_ticket(
            &staff,
            &ticket("policy", "normal", "寒假班可提前多久收费？"),
        )
        .await
        .unwrap();
    assert_eq!(
        question.region_code, county_code,
        "a policy question goes to the institution's county"
    );
    let slow = app
        .service()
        .open_ticket(&bank, &ticket("technical", "high", "对账单推送偶发超时"))
        .await
        .unwrap();

    // Each desk sees its own queue; openers see their own tickets; others are refused or find nothing.
    let subjects = |v: Vec<app::service_desk::TicketView>| {
        v.into_iter().map(|t| t.subject).collect::<Vec<_>>()
    };
    assert_eq!(
        subjects(app.service().tickets(&service).await.unwrap()),
        ["对账单推送偶发超时", "推送全部失败"]
    );
    assert_eq!(
        subjects(app.service().tickets(&haidian).await.unwrap()),
        ["寒假班可提前多久收费？"]
    );
    assert!(app.service().tickets(&chaoyang).await.unwrap().is_empty());
    assert_eq!(
        subjects(app.service().tickets(&staff).await.unwrap()),
        ["寒假班可提前多久收费？"]
    );
    assert_eq!(
        app.service()
            .tickets(&beijing_admin)
            .await
            .unwrap_err()
            .code,
        ErrorCode::Forbidden
    );
    assert_eq!(
        app.service()
            .ticket(&chaoyang, &question.id)
            .await
            .unwrap_err()
            .code,
        ErrorCode::NotFound
    );
    assert_eq!(
        app.service()
            .ticket(&staff, &outage.id)
            .await
            .unwrap_err()
            .code,
        ErrorCode::NotFound
    );
    assert_eq!(
        app.service()
            .ticket(&service, &question.id)
            .await
            .unwrap_err()
            .code,
        ErrorCode::NotFound
    );

    // The service team answers the outage in 30 minutes: in time for the urgent tier (1 h).
    t.clock.advance_millis(30 * 60_000);
    let answered = app
        .service()
        .reply_to_ticket(
            &service,
            &outage.id,
            &TicketReply {
                body: "已定位：证书过期，已更换".into(),
            },
        )
        .await
        .unwrap();
    assert_eq!(answered.status, domain::TicketStatus::Answered);
    assert!(answered.messages[1].from_desk);
    // The integrator writes back: the ticket is open again, the first answer's time kept.
    let back = app
        .service()
        .reply_to_ticket(
            &integrator,
            &outage.id,
            &TicketReply {
                body: "仍有少量失败".into(),
            },
        )
        .await
        .unwrap();
    assert_eq!(back.status, domain::TicketStatus::Open);
    assert!(back.first_response_display.is_some());

    // Assignment: to an account that may answer (the service team itself), not to a county reviewer.
    let assigned = app
        .service()
        .assign_ticket(
            &service,
            &outage.id,
            &TicketAssignment {
                assignee_id: service.account_id().unwrap().into(),
            },
        )
        .await
        .unwrap();
    assert_eq!(assigned.assignee_id.as_deref(), service.account_id());
    assert_eq!(
        app.service()
            .assign_ticket(
                &service,
                &outage.id,
                &TicketAssignment {
                    assignee_id: ineligible.account_id().unwrap().into()
                }
            )
            .await
            .unwrap_err()
            .code,
        ErrorCode::InvalidParameter
    );
    assert_eq!(
        app.service()
            .assign_ticket(
                &integrator,
                &outage.id,
                &TicketAssignment {
                    assignee_id: String::new()
                }
            )
            .await
            .unwrap_err()
            .code,
        ErrorCode::Forbidden
    );

    // Two hours in: the high-tier ticket (4 h) is not overdue yet; five hours in it is.
    t.clock.advance_millis(90 * 60_000);
    let figures = app.service().desk_figures(&service).await.unwrap();
    let tier = |f: &[app::service_desk::DeskFigures], name: &str| {
        f.iter().find(|x| x.tier == name).unwrap().clone()
    };
    let urgent = tier(&figures, "urgent");
    assert_eq!(
        (urgent.opened, urgent.answered, urgent.answered_in_time),
        (1, 1, 1)
    );
    assert_eq!(urgent.median_response_minutes, Some(30));
    assert_eq!(tier(&figures, "high").overdue, 0);
    t.clock.advance_millis(3 * 3_600_000);
    let figures = app.service().desk_figures(&service).await.unwrap();
    assert_eq!(tier(&figures, "high").overdue, 1);
    assert!(app.service().ticket(&bank, &slow.id).await.unwrap().overdue);
    assert_eq!(
        app.service().desk_figures(&staff).await.unwrap_err().code,
        ErrorCode::Forbidden
    );

    // Haidian answers the policy question within its day; the institution resolves it.
    let reply = app
        .service()
        .reply_to_ticket(
            &haidian,
            &question.id,
            &TicketReply {
                body: "最早可在开课前 3 个月内收取".into(),
            },
        )
        .await
        .unwrap();
    assert_eq!(reply.status, domain::TicketStatus::Answered);
    let inbox = app.service().my_notifications(&staff).await.unwrap();
    assert!(
        inbox
            .iter()
            .any(|n| n.title == "服务保障工单已答复" && n.body.contains(&question.ticket_no)),
        "the institution's admin is told"
    );
    let figures = app.service().desk_figures(&haidian).await.unwrap();
    assert_eq!(tier(&figures, "normal").answered_in_time, 1);
    let resolved = app
        .service()
        .resolve_ticket(&staff, &question.id)
        .await
        .unwrap();
    assert_eq!(resolved.status, domain::TicketStatus::Resolved);
    assert_eq!(
        app.service()
            .resolve_ticket(&staff, &question.id)
            .await
            .unwrap_err()
            .code,
        ErrorCode::Conflict
    );
    assert_eq!(
        app.service()
            .reply_to_ticket(
                &staff,
                &question.id,
                &TicketReply {
                    body: "还有一个问题".into()
                }
            )
            .await
            .unwrap_err()
            .code,
        ErrorCode::Conflict
    );
    let figures = app.service().desk_figures(&haidian).await.unwrap();
    assert_eq!(
        (
            tier(&figures, "normal").resolved,
            tier(&figures, "normal").resolved_in_time
        ),
        (1, 1)
    );

    // Every step is in the audit log.
    let audited = app
        .store()
        .read()
        .audit_entries_after(0, 1_000_000)
        .await
        .unwrap();
    let count = |action: &str| audited.iter().filter(|e| e.body.action == action).count();
    assert_eq!(count("service.ticket_opened"), 3);
    assert_eq!(count("service.ticket_replied"), 3);
    assert_eq!(count("service.ticket_assigned"), 1);
    assert_eq!(count("service.ticket_resolved"), 1);
}
