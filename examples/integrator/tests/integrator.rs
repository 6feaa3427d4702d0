//! The example adapter against a real platform: the platform runs in-process over a fresh database
//! (SQLite, or PostgreSQL when `XIAOWAI_TEST_DATABASE_URL` is set) and the example program beside it as its
//! own process; they talk only over HTTP. The adapter publishes a course, orders it for a parent who pays
//! through the bank, reports attendance when told the order is paid, and receives the confirmation — its
//! receiver being down for the first delivery, which the platform retries after its backoff.

use app::Actor;
use app::demo::{DEMO_ACCOUNT_NO, DEMO_INTEGRATOR_KEY_ID, DEMO_INTEGRATOR_SECRET};
use app::parents::NewChild;
use app::testing::TestApp;
use serde_json::Value;
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader, Lines};
use tokio::process::ChildStdout;

const PHONE: &str = "13700000031";
const CHILD_ID_CARD: &str = "110108201506060039";

async fn next_line(lines: &mut Lines<BufReader<ChildStdout>>) -> Value {
    let line = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
        .await
        .expect("the example prints within 30 s")
        .unwrap()
        .expect("the example is running");
    serde_json::from_str(&line).unwrap_or_else(|_| panic!("a JSON line: {line}"))
}

#[tokio::test]
async fn the_example_adapter_syncs_orders_reports_attendance_and_receives_retried_webhooks() {
    let t = TestApp::with_demo(3).await;
    // The example signs with the real time: the platform's clock must agree within the replay window.
    let real_now = || {
        domain::Timestamp::from_millis(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_millis() as i64,
        )
    };
    t.clock.set(real_now());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let platform = format!("http://{}", listener.local_addr().unwrap());
    let router = web::router(t.app.clone());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });

    // The parent signs up on the parent end and adds the child: the adapter knows only phone and ID card.
    let parent = t.parent(PHONE).await;
    let child = NewChild {
        name: "钱小雨".into(),
        gender: "female".into(),
        id_card: CHILD_ID_CARD.into(),
        school: "海淀实验小学".into(),
        grade: "小学二年级".into(),
    };
    t.app.identity().add_child(&parent, &child).await.unwrap();
    let mut tx = t.app.store().begin_write().await.unwrap();
    let admin = tx
        .accounts()
        .account_by_username("inst.admin")
        .await
        .unwrap()
        .unwrap();
    drop(tx);
    let institution_id = admin.institution_id.unwrap();
    let as_integrator = t.demo_integrator().await;

    let mut example = tokio::process::Command::new(env!("CARGO_BIN_EXE_example-integrator"))
        .args([
            "run",
            "--platform",
            &platform,
            "--key-id",
            DEMO_INTEGRATOR_KEY_ID,
            "--secret",
            DEMO_INTEGRATOR_SECRET,
            "--institution",
            &institution_id,
            "--parent-phone",
            PHONE,
            "--child-id-card",
            CHILD_ID_CARD,
            "--fail-first",
            "1",
        ])
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(example.stdout.take().unwrap()).lines();
    assert_eq!(next_line(&mut lines).await["step"], "receiving");
    assert_eq!(next_line(&mut lines).await["step"], "webhook_registered");
    let synced = next_line(&mut lines).await;
    assert_eq!(synced["step"], "course_synced", "{synced}");
    let course_id = synced["course_id"].as_str().unwrap().to_owned();
    let ordered = next_line(&mut lines).await;
    assert_eq!(ordered["step"], "order_created", "{ordered}");
    let order_id = ordered["order_id"].as_str().unwrap().to_owned();

    // The order is the parent's: on the parent end, awaiting payment, for the synced course; the parent was told.
    let detail = t.app.money().order_for(&parent, &order_id).await.unwrap();
    assert_eq!(detail.line.status.as_str(), "awaiting_payment");
    assert_eq!(detail.contract.course.course_id, course_id);
    assert_eq!(detail.line.amount_fen, example_integrator::COURSE_TOTAL_FEN);
    let inbox = t.app.service().my_notifications(&parent).await.unwrap();
    assert!(inbox.iter().any(|n| n.title == "机构为您下单"), "{inbox:?}");

    // The parent pays through the bank; the platform tells the adapter. Its receiver is down the first time.
    let bank = Actor::ApiClient {
        key_id: app::demo::DEMO_BANK_KEY_ID.into(),
        owner_kind: "bank".into(),
        owner_id: "demo-bank".into(),
    };
    t.app
        .money()
        .record_payment(
            &bank,
            &app::bank::PaymentNotice {
                order_no: detail.line.order_no.clone(),
                account_no: DEMO_ACCOUNT_NO.into(),
                amount_fen: detail.line.amount_fen,
                bank_ref: "EXAMPLE-PAY-1".into(),
                paid_at: t.app.clock().now().millis(),
            },
        )
        .await
        .unwrap();
    assert_eq!(
        t.app.integration().dispatch_webhook_events().await.unwrap(),
        1,
        "one event for the one integrator"
    );
    assert_eq!(
        t.app.integration().deliver_due_webhooks().await.unwrap(),
        0,
        "the receiver is down"
    );
    let log = t
        .app
        .integration()
        .webhook_deliveries(&as_integrator, None)
        .await
        .unwrap();
    assert_eq!(log.len(), 1);
    assert_eq!(
        (log[0].event_type.as_str(), log[0].state.as_str()),
        ("order.paid", "pending")
    );
    assert_eq!(log[0].last_status, Some(503));
    assert_eq!(log[0].payload["data"]["order"], order_id.as_str());
    assert_eq!(
        t.app.integration().deliver_due_webhooks().await.unwrap(),
        0,
        "not due again before its backoff"
    );
    t.clock.advance_millis(app::webhooks::webhook_backoff_ms(0));
    assert_eq!(
        t.app.integration().deliver_due_webhooks().await.unwrap(),
        1,
        "delivered once the receiver is back"
    );
    let log = t
        .app
        .integration()
        .webhook_deliveries(&as_integrator, None)
        .await
        .unwrap();
    assert_eq!(log[0].state, "delivered");
    let statuses: Vec<Option<i64>> = log[0].attempt_log.iter().map(|a| a.status).collect();
    assert_eq!(statuses, [Some(503), Some(204)]);

    let paid = next_line(&mut lines).await;
    assert_eq!(paid["event"]["type"], "order.paid", "{paid}");
    assert_eq!(
        paid["event"]["data"]["amount_fen"],
        example_integrator::COURSE_TOTAL_FEN
    );
    let reported = next_line(&mut lines).await;
    assert_eq!(reported["step"], "attendance_reported", "{reported}");
    assert_eq!(reported["lesson_no"], 1);

    // The parent confirms the lesson on the parent end; the adapter hears of it.
    let to_confirm = t.app.money().lessons_to_confirm(&parent).await.unwrap();
    assert_eq!(to_confirm.len(), 1);
    t.app
        .money()
        .confirm_lesson(&parent, &to_confirm[0].id)
        .await
        .unwrap();
    t.app.integration().dispatch_webhook_events().await.unwrap();
    assert_eq!(t.app.integration().deliver_due_webhooks().await.unwrap(), 1);
    let confirmed = next_line(&mut lines).await;
    assert_eq!(
        confirmed["event"]["type"], "lesson.confirmed",
        "{confirmed}"
    );
    assert_eq!(confirmed["event"]["data"]["order"], order_id.as_str());
    assert_eq!(
        confirmed["event"]["institution_id"],
        institution_id.as_str()
    );

    // A replay is delivered again; the adapter acknowledges it and keeps the event once.
    let replayed = t
        .app
        .integration()
        .replay_webhook(&as_integrator, &log[0].id)
        .await
        .unwrap();
    assert_eq!(replayed.state, "pending");
    assert_eq!(t.app.integration().deliver_due_webhooks().await.unwrap(), 1);
    let log = t
        .app
        .integration()
        .webhook_deliveries(&as_integrator, None)
        .await
        .unwrap();
    let paid_log = log.iter().find(|d| d.event_type == "order.paid").unwrap();
    assert_eq!(paid_log.attempt_log.len(), 3);
    assert_eq!(paid_log.state, "delivered");

    // The institution revokes the adapter: the next event is not sent to it.
    let admin_actor = Actor::Staff {
        account_id: admin.id.clone(),
        institution_id: institution_id.clone(),
        role: domain::access::StaffRole::Admin,
    };
    let grant = t
        .app
        .integration()
        .institution_grants(&admin_actor)
        .await
        .unwrap()
        .into_iter()
        .find(|g| g.live)
        .unwrap();
    t.app
        .integration()
        .revoke_integration(
            &admin_actor,
            &grant.id,
            &app::integrations::GrantRevocation {
                reason: "换用其他系统".into(),
            },
        )
        .await
        .unwrap();
    t.app
        .money()
        .request_refund(
            &parent,
            &order_id,
            &app::refunds::RefundRequest {
                reason: "孩子课业安排有变".into(),
            },
        )
        .await
        .unwrap();
    assert_eq!(
        t.app.integration().dispatch_webhook_events().await.unwrap(),
        0,
        "no delivery after the revocation"
    );
}
