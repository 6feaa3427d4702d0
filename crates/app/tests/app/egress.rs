//! Outgoing requests under the egress policy: a bank's instruction endpoint (as an integrator's webhook) may
//! not point the platform at its own network, and nothing follows a redirect.

use super::money_flow::shop;
use app::bank::EndpointRegistration;
use app::{Actor, ErrorCode};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

fn endpoint(instruction_url: &str) -> EndpointRegistration {
    EndpointRegistration {
        instruction_url: instruction_url.into(),
        checkout_url: "https://bank.example.com/checkout".into(),
    }
}

#[tokio::test]
async fn a_bank_endpoint_on_a_special_purpose_address_is_refused_in_production() {
    let s = shop().await;
    let production = s.t.app.clone().with_local_egress(false).unwrap();
    for url in [
        "http://127.0.0.1:8090/instructions",
        "http://10.0.0.8/instructions",
        "http://100.100.100.200/latest/meta-data",
        "http://169.254.169.254/latest/meta-data",
        "http://198.18.0.1/instructions",
        "http://240.0.0.1/instructions",
        "http://[64:ff9b::a9fe:a9fe]/instructions",
        "http://[::ffff:10.0.0.1]/instructions",
        "http://[2002:a9fe:a9fe::1]/instructions",
        "http://[fec0::1]/instructions",
        "http://localhost:8090/instructions",
        "gopher://bank.example.com/instructions",
    ] {
        let refused = production
            .money()
            .register_bank_endpoint(&s.bank_actor(), &endpoint(url))
            .await
            .expect_err(url);
        assert_eq!(refused.code, ErrorCode::InvalidParameter, "{url}");
        assert!(
            refused.detail.en.starts_with("instruction_url:"),
            "{url}: {}",
            refused.detail
        );
    }
    production
        .money()
        .register_bank_endpoint(
            &s.bank_actor(),
            &endpoint("https://bank.example.com/instructions"),
        )
        .await
        .expect("a public name is kept; what it resolves to is checked at every request");
}

#[tokio::test]
async fn an_instruction_is_not_sent_to_a_stored_local_address_nor_after_a_redirect() {
    let s = shop().await;
    let order = s.order().await;
    s.pay(&order, "PAY-EGRESS").await;
    // A bank endpoint that redirects to another local server, which counts what reaches it.
    let reached = Arc::new(AtomicUsize::new(0));
    let counted = reached.clone();
    let inside = axum::Router::new().fallback(move || {
        let counted = counted.clone();
        async move {
            counted.fetch_add(1, Ordering::SeqCst);
            axum::http::StatusCode::ACCEPTED
        }
    });
    let inside_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let inside_url = format!("http://{}/admin", inside_listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(inside_listener, inside).await.unwrap() });
    let asked = Arc::new(AtomicUsize::new(0));
    let asked_here = asked.clone();
    let redirecting = axum::Router::new().fallback(move || {
        let to = inside_url.clone();
        asked_here.fetch_add(1, Ordering::SeqCst);
        async move { axum::response::Redirect::temporary(&to) }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, redirecting).await.unwrap() });
    s.t.app
        .money()
        .register_bank_endpoint(&s.bank_actor(), &endpoint(&format!("{base}/instructions")))
        .await
        .unwrap();
    let system = Actor::System { name: "test" };
    s.t.app
        .money()
        .instruct_bank(&system, "release", &order.line.id, 100)
        .await
        .unwrap();
    // Even where local addresses are allowed (the sandbox), a redirect is an unsuccessful answer.
    assert_eq!(s.t.app.money().deliver_due_instructions().await.unwrap(), 0);
    assert_eq!(
        asked.load(Ordering::SeqCst),
        1,
        "the bank's address was called"
    );
    assert_eq!(
        reached.load(Ordering::SeqCst),
        0,
        "the redirect was not followed"
    );
    // In production the stored loopback address is refused before anything is sent.
    let production = s.t.app.clone().with_local_egress(false).unwrap();
    s.t.clock.advance_millis(10 * 60_000);
    assert_eq!(
        production.money().deliver_due_instructions().await.unwrap(),
        0
    );
    assert_eq!(
        asked.load(Ordering::SeqCst),
        1,
        "nothing sent to the loopback address"
    );
    // Where local addresses are allowed the same instruction is sent again at its next attempt.
    s.t.clock.advance_millis(10 * 60_000);
    assert_eq!(s.t.app.money().deliver_due_instructions().await.unwrap(), 0);
    assert_eq!(asked.load(Ordering::SeqCst), 2);
    assert_eq!(reached.load(Ordering::SeqCst), 0);
}
