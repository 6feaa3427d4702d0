//! bank-sim against a real platform: the platform runs in-process over a fresh database (SQLite, or
//! PostgreSQL when `XIAOWAI_TEST_DATABASE_URL` is set), the bank-sim binary runs beside it as its own process,
//! and the two talk only over HTTP — checkout, payment notice and movement one way; a signed instruction,
//! its execution, movement and result the other; a rogue outflow last.

use app::Actor;
use app::demo::DEMO_ACCOUNT_NO;
use app::orders::NewOrder;
use app::parents::{NewChild, PhoneLogin};
use app::testing::TestApp;
use domain::instruction::ReleaseProgress;
use domain::{InstructionStatus, OrderStatus};
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader};

const PHONE: &str = "13700000021";

/// Waits (at most ten seconds) until `check` holds.
async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    for _ in 0..100 {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{what} did not happen within ten seconds");
}

/// The platform, in-process over a fresh database, on a loopback port; its clock set to the real time (bank-sim
/// signs with the real time, and the platform checks the replay window).
async fn platform() -> (TestApp, String) {
    let t = TestApp::with_demo(6).await;
    t.clock.set(domain::Timestamp::from_millis(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis() as i64,
    ));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let router = web::router(t.app.clone());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    (t, url)
}

/// bank-sim as its own process, keeping its books in `data`; returns it and its URL.
async fn start_bank(platform: &str, data: &std::path::Path) -> (tokio::process::Child, String) {
    let mut bank = tokio::process::Command::new(env!("CARGO_BIN_EXE_bank-sim"))
        .args([
            "serve",
            "--platform",
            platform,
            "--listen",
            "127.0.0.1:0",
            "--data",
        ])
        .arg(data)
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(bank.stdout.take().unwrap()).lines();
    let url = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
        .await
        .expect("bank-sim starts")
        .unwrap()
        .unwrap()
        .strip_prefix("bank-sim listening on ")
        .expect("bank-sim prints its address")
        .to_owned();
    (bank, url)
}

/// A parent (signed in with the code the platform sent to `phone`) orders the demo institution's first course
/// for a child of theirs: (parent, order, institution id, the institution admin's account id).
async fn an_order(
    t: &TestApp,
    phone: &str,
    id_card: &str,
) -> (Actor, app::orders::OrderDetail, String, String) {
    t.app.identity().request_login_code(phone).await.unwrap();
    let code: String = t
        .sms
        .last_to(phone)
        .unwrap()
        .split("验证码 ")
        .nth(1)
        .unwrap()
        .chars()
        .take(6)
        .collect();
    let parent = Actor::Parent {
        account_id: t
            .app
            .identity()
            .login_with_code(&PhoneLogin {
                phone: phone.into(),
                code,
            })
            .await
            .unwrap()
            .actor
            .account_id,
    };
    let child = NewChild {
        name: "赵小雨".into(),
        gender: "female".into(),
        id_card: id_card.into(),
        school: "海淀实验小学".into(),
        grade: "小学四年级".into(),
    };
    let child_id = t
        .app
        .identity()
        .add_child(&parent, &child)
        .await
        .unwrap()
        .id;
    let mut tx = t.app.store().begin_write().await.unwrap();
    let admin_account = tx
        .accounts()
        .account_by_username("inst.admin")
        .await
        .unwrap()
        .unwrap();
    let (admin_id, institution_id) = (admin_account.id, admin_account.institution_id.unwrap());
    drop(tx);
    let course_id = t
        .app
        .store()
        .read()
        .registry()
        .courses_of(&institution_id)
        .await
        .unwrap()[0]
        .id
        .clone();
    let order = t
        .app
        .money()
        .place_order(
            &parent,
            &NewOrder {
                course_id,
                child_id,
            },
        )
        .await
        .unwrap();
    (parent, order, institution_id, admin_id)
}

#[tokio::test]
async fn the_simulated_bank_takes_payments_executes_signed_instructions_and_reports_every_movement()
{
    let (t, platform) = platform().await;
    let books = tempfile::tempdir().unwrap();
    let (mut bank, bank_url) = start_bank(&platform, &books.path().join("bank.sqlite3")).await;

    // A parent orders; the platform's order names the bank's checkout, registered by bank-sim at start.
    let (parent, order, institution_id, admin_id) = an_order(&t, PHONE, "110108201506060039").await;
    let checkout = order
        .checkout_url
        .clone()
        .expect("the bank registered its checkout page");
    assert!(checkout.starts_with(&format!(
        "{bank_url}/checkout?order_no={}",
        order.line.order_no
    )));
    let paid = order.line.amount_fen;

    // The parent pays on the bank's page.
    let http = reqwest::Client::new();
    let page = http
        .get(&checkout)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains(&order.line.order_no));
    let form = [
        ("order_no", order.line.order_no.clone()),
        ("amount_fen", paid.to_string()),
        ("account_no", DEMO_ACCOUNT_NO.to_owned()),
    ];
    let done = http
        .post(format!("{bank_url}/checkout"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(done.status(), 200);
    let line = t
        .app
        .money()
        .order_for(&parent, &order.line.id)
        .await
        .unwrap();
    assert_eq!(
        (line.line.status.as_str(), line.line.escrow_fen),
        ("paid", paid)
    );
    assert!(
        line.last_reconciled_display.is_some(),
        "the bank's movement reconciled the account"
    );

    // The platform instructs a release; bank-sim verifies the signature, acknowledges, executes, and
    // reports the movement and the result; the ledger moves once.
    let fee = domain::contract::lesson_fee(domain::Fen::new(paid), order.contract.price.lessons, 1)
        .unwrap()
        .get();
    let system = Actor::System { name: "test" };
    let release = t
        .app
        .money()
        .instruct_bank(&system, "release", &order.line.id, fee)
        .await
        .unwrap();
    assert_eq!(
        t.app.money().deliver_due_instructions().await.unwrap(),
        1,
        "acknowledged at once"
    );
    eventually("the release is executed", || async {
        t.app
            .money()
            .instruction_view(&release.instruction_id)
            .await
            .unwrap()
            .status
            == InstructionStatus::Executed
    })
    .await;
    let line = t
        .app
        .money()
        .order_for(&parent, &order.line.id)
        .await
        .unwrap()
        .line;
    assert_eq!((line.escrow_fen, line.released_fen), (paid - fee, fee));
    let balances: serde_json::Value = http
        .get(format!("{bank_url}/admin/accounts"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        balances[DEMO_ACCOUNT_NO],
        paid - fee,
        "the bank's books agree with the platform's"
    );

    // 批量划转: the region turns daily batches on; a confirmed lesson's release waits for the day's end, then
    // travels with the account's batch as one instruction that bank-sim executes as one outflow.
    let institution = t
        .app
        .store()
        .read()
        .registry()
        .institution(&institution_id)
        .await
        .unwrap()
        .unwrap();
    let supervisor = Actor::Regulator {
        account_id: "competent-supervisor".into(),
        region: domain::access::competent_region(
            domain::TeachingMode::parse(&institution.mode).unwrap(),
            &domain::RegionCode::parse(&institution.region_code).unwrap(),
        ),
        role: domain::access::RegulatorRole::Supervisor,
    };
    let batching = app::policy::PolicyChange {
        policy: domain::policy::PolicyOverride {
            daily_release_batch: Some(true),
            ..Default::default()
        },
        reason: "每日批量划转".into(),
    };
    t.app
        .registry()
        .set_region_policy(&supervisor, &batching)
        .await
        .unwrap();
    let admin = Actor::Staff {
        account_id: admin_id,
        institution_id: institution_id.clone(),
        role: domain::access::StaffRole::Admin,
    };
    let attendance = app::lessons::Attendance {
        evidence: "点名".into(),
    };
    let lesson = t
        .app
        .money()
        .take_attendance(&admin, &order.line.id, &attendance)
        .await
        .unwrap();
    let held = t
        .app
        .money()
        .confirm_lesson(&parent, &lesson.id)
        .await
        .unwrap();
    assert_eq!(held.release_status, Some(ReleaseProgress::HeldForBatch));
    assert_eq!(t.app.money().deliver_due_instructions().await.unwrap(), 0);
    let day = 24 * 3_600_000;
    t.clock.advance_millis(day);
    let moved = http
        .post(format!("{bank_url}/admin/clock"))
        .json(&serde_json::json!({"advance_ms": day}))
        .send()
        .await
        .unwrap();
    assert_eq!(moved.status(), 200);
    assert_eq!(t.app.money().form_release_batches().await.unwrap(), 1);
    assert_eq!(t.app.money().deliver_due_instructions().await.unwrap(), 1);
    eventually("the batch is executed", || async {
        t.app
            .money()
            .lessons_of_order(&parent, &order.line.id)
            .await
            .unwrap()[0]
            .release_status
            == Some(ReleaseProgress::Executed)
    })
    .await;
    let line = t
        .app
        .money()
        .order_for(&parent, &order.line.id)
        .await
        .unwrap()
        .line;
    assert_eq!(line.released_fen, fee + lesson.fee_fen);
    let balances: serde_json::Value = http
        .get(format!("{bank_url}/admin/accounts"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        balances[DEMO_ACCOUNT_NO], line.escrow_fen,
        "one outflow for the batch"
    );

    // Money leaves without an instruction: the platform raises a red event before answering the bank.
    let raised_before = t
        .app
        .store()
        .read()
        .bank()
        .risk_events(Some(&institution_id), 100)
        .await
        .unwrap()
        .len();
    let rogue: serde_json::Value = http
        .post(format!("{bank_url}/admin/rogue-outflow"))
        .json(&serde_json::json!({"account_no": DEMO_ACCOUNT_NO, "amount_fen": 100}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    // The bank's own delivery loop may have sent the report a moment before the admin call did: then the
    // answer is in neither call's reply, but the platform's record is the same.
    if rogue["platform"].as_array().is_some_and(|a| !a.is_empty()) {
        assert_eq!(
            rogue["platform"][0]["risk_events"],
            serde_json::json!(["unmatched_outflow", "balance_shortfall"]),
            "{rogue}"
        );
    }
    eventually("the platform records both red events", || async {
        let events = t
            .app
            .store()
            .read()
            .bank()
            .risk_events(Some(&institution_id), 100)
            .await
            .unwrap();
        let new: Vec<&str> = events[..events.len() - raised_before]
            .iter()
            .map(|e| e.kind.as_str())
            .collect();
        new.contains(&"unmatched_outflow") && new.contains(&"balance_shortfall")
    })
    .await;
    let statement: serde_json::Value = http
        .post(format!("{bank_url}/admin/statements"))
        .json(&serde_json::json!({}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(statement["platform"][0]["consistent"], true, "{statement}");
    bank.kill().await.unwrap();
}

/// The parent pays at the bank's checkout page.
async fn pay_at_checkout(bank_url: &str, order: &app::orders::OrderDetail) {
    let form = [
        ("order_no", order.line.order_no.clone()),
        ("amount_fen", order.line.amount_fen.to_string()),
        ("account_no", DEMO_ACCOUNT_NO.to_owned()),
    ];
    let done = reqwest::Client::new()
        .post(format!("{bank_url}/checkout"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(done.status(), 200);
}

#[tokio::test]
async fn the_bank_keeps_its_books_through_kill_9_and_sends_what_it_owes_after_a_restart() {
    let (t, platform) = platform().await;
    let books = tempfile::tempdir().unwrap();
    let data = books.path().join("bank.sqlite3");
    let (mut bank, bank_url) = start_bank(&platform, &data).await;
    let (parent, first, _, _) = an_order(&t, PHONE, "110108201506060039").await;

    // The platform is out of reach (the bank holds its messages); the parent pays; the bank dies, hard.
    let http = reqwest::Client::new();
    let paused = http
        .post(format!("{bank_url}/admin/mode"))
        .json(&serde_json::json!({"pause": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(paused.status(), 200);
    pay_at_checkout(&bank_url, &first).await;
    let line = t
        .app
        .money()
        .order_for(&parent, &first.line.id)
        .await
        .unwrap()
        .line;
    assert_eq!(
        line.status,
        OrderStatus::AwaitingPayment,
        "nothing reached the platform"
    );
    bank.kill().await.unwrap(); // SIGKILL: no shutdown, no flush

    // Started again on its books, the bank sends the notice it owes, and the order turns paid.
    let (mut bank, bank_url) = start_bank(&platform, &data).await;
    eventually(
        "the payment notice is delivered after the restart",
        || async {
            t.app
                .money()
                .order_for(&parent, &first.line.id)
                .await
                .unwrap()
                .line
                .status
                == OrderStatus::Paid
        },
    )
    .await;
    // A payment after the restart takes a new reference: none is ever used twice.
    let (parent2, second, _, _) = an_order(&t, "13700000022", "110108201506060020").await;
    pay_at_checkout(&bank_url, &second).await;
    let read = t.app.store().read();
    let first_ref = read
        .orders()
        .order(&first.line.id)
        .await
        .unwrap()
        .unwrap()
        .payment_ref
        .unwrap();
    let second_ref = read
        .orders()
        .order(&second.line.id)
        .await
        .unwrap()
        .unwrap()
        .payment_ref
        .unwrap();
    assert_ne!(first_ref, second_ref);
    assert!(
        second_ref[11..] > first_ref[11..],
        "the counter went on: {first_ref} then {second_ref}"
    );
    assert_eq!(
        t.app
            .money()
            .order_for(&parent2, &second.line.id)
            .await
            .unwrap()
            .line
            .status,
        OrderStatus::Paid
    );
    // The bank's books and the platform's agree to the fen.
    let balances: serde_json::Value = http
        .get(format!("{bank_url}/admin/accounts"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let account = read
        .funds()
        .supervised_accounts_of(&first.line.institution_id)
        .await
        .unwrap()
        .into_iter()
        .find(|a| a.account_no == DEMO_ACCOUNT_NO)
        .unwrap();
    assert_eq!(
        balances[DEMO_ACCOUNT_NO],
        read.orders().escrow_owed(&account.id).await.unwrap()
    );
    bank.kill().await.unwrap();
}
