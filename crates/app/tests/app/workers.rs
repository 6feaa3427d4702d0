//! Background work on several servers (issue 22, step 7): every job that takes rows claims them first, so two
//! servers on one database never send the same webhook or text message (bank instructions: `money_invariants`).

use super::money_flow::shop;
use app::testing::TestApp;
use std::sync::{Arc, Mutex};

/// Two servers deliver each webhook once: a batch of due deliveries is claimed before it is sent.
#[tokio::test]
async fn two_nodes_deliver_each_webhook_once() {
    let s = shop().await;
    let received: Arc<Mutex<Vec<String>>> = Arc::default();
    let seen = received.clone();
    let router = axum::Router::new().route(
        "/hooks",
        axum::routing::post(move |body: axum::body::Bytes| {
            let seen = seen.clone();
            async move {
                let sent: serde_json::Value = serde_json::from_slice(&body).unwrap();
                seen.lock()
                    .unwrap()
                    .push(sent["id"].as_str().unwrap().to_owned());
                // A slow receiver: the other node looks for due deliveries while these are in flight.
                tokio::time::sleep(std::time::Duration::from_millis(300)).await;
                axum::http::StatusCode::OK
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    let integrator = s.t.demo_integrator().await;
    let endpoint = app::webhooks::WebhookEndpoint {
        url: format!("{base}/hooks"),
    };
    s.t.app
        .integration()
        .set_webhook_endpoint(&integrator, &endpoint)
        .await
        .unwrap();
    s.t.clock.advance_millis(1_000);
    let (order, _) = s.paid_and_deposited().await;
    for _ in 0..4 {
        let lesson = s.attend(&order.line.id).await;
        s.t.app
            .money()
            .confirm_lesson(&s.parent_actor(), &lesson.id)
            .await
            .unwrap();
    }
    s.t.app
        .integration()
        .dispatch_webhook_events()
        .await
        .unwrap();
    let due =
        s.t.app
            .integration()
            .webhook_deliveries(&integrator, None)
            .await
            .unwrap()
            .len();
    assert!(due >= 5, "order.paid and four lesson.confirmed: {due}");
    let other = s.t.another_node().await;
    let here = s.t.app.integration().deliver_due_webhooks();
    let there = async {
        // Once this node's claim is committed and its requests are in flight.
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        other.integration().deliver_due_webhooks().await
    };
    let (here, there) = tokio::join!(here, there);
    assert_eq!(
        here.unwrap() + there.unwrap(),
        due,
        "every delivery acknowledged once"
    );
    let mut received = received.lock().unwrap().clone();
    assert_eq!(received.len(), due, "each sent once: {received:?}");
    received.sort();
    received.dedup();
    assert_eq!(received.len(), due);
}

/// Two servers send each queued text message once: the messages are claimed before they are sent.
#[tokio::test]
async fn two_nodes_send_each_text_message_once() {
    let t = TestApp::empty().await;
    let parent = t.parent("13700000007").await;
    let app::Actor::Parent { account_id } = &parent else {
        panic!("a parent")
    };
    let texts: Vec<store::SmsRow> = (0..8)
        .map(|n| store::SmsRow {
            id: uuid::Uuid::now_v7().to_string(),
            account_id: account_id.clone(),
            body: format!("【校外培训监管平台】第{n}条通知"),
            created_at: app::testing::TEST_NOW.millis(),
            attempts: 0,
            sent_at: None,
            last_error: None,
        })
        .collect();
    let mut tx = t.app.store().begin_write().await.unwrap();
    tx.inbox().insert_sms(&texts).await.unwrap();
    tx.commit().await.unwrap();
    let before = t.sms.sent_to("13700000007").len();
    let other = t.another_node().await;
    let (here, there) = tokio::join!(
        t.app.service().send_queued_sms(),
        other.service().send_queued_sms()
    );
    assert_eq!(
        here.unwrap() + there.unwrap(),
        8,
        "every message taken once"
    );
    let sent = t.sms.sent_to("13700000007");
    assert_eq!(sent.len() - before, 8, "each sent once: {sent:?}");
    assert_eq!(
        t.app.service().send_queued_sms().await.unwrap(),
        0,
        "nothing left"
    );
}

/// The hourly risk sweep and the daily statement check run once per period across servers: the period is
/// taken by one of them, and is due again an hour (a day) later by the platform's clock.
#[tokio::test]
async fn two_nodes_run_each_periodic_job_once_per_period() {
    let t = TestApp::empty().await;
    let other = t.another_node().await;
    let (here, there) = tokio::join!(t.app.sweep_risks_if_due(), other.sweep_risks_if_due());
    let swept = [here.unwrap(), there.unwrap()];
    assert_eq!(
        swept.iter().flatten().count(),
        1,
        "one server swept: {swept:?}"
    );
    assert_eq!(t.app.sweep_risks_if_due().await.unwrap(), None);
    assert_eq!(other.sweep_risks_if_due().await.unwrap(), None);
    t.clock.advance_millis(3_600_000);
    assert!(
        other.sweep_risks_if_due().await.unwrap().is_some(),
        "due again an hour later"
    );

    // 09:00 China time: yesterday's statements are checked once, then not before 06:00 tomorrow.
    let (here, there) = tokio::join!(
        t.app.check_statements_if_due(),
        other.check_statements_if_due()
    );
    let checked = [here.unwrap(), there.unwrap()];
    assert_eq!(checked.iter().flatten().count(), 1, "{checked:?}");
    t.clock.advance_millis(19 * 3_600_000);
    assert_eq!(
        t.app.check_statements_if_due().await.unwrap(),
        None,
        "05:00 the next day"
    );
    t.clock.advance_millis(2 * 3_600_000);
    assert!(
        t.app.check_statements_if_due().await.unwrap().is_some(),
        "07:00 the next day"
    );
}
