//! The binary as an operator uses it: seed, verify, tamper, verify again; settings precedence.

use ledger::SmSuite;
use std::process::{Command, Output};
use std::sync::Arc;
use store::testing::TestDb;
use store::{Backend, Store};

fn xiaowai(args: &[&str], envs: &[(&str, &str)], cwd: &std::path::Path) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_xiaowai"));
    cmd.args(args)
        .current_dir(cwd)
        .env_remove("XIAOWAI_DATABASE_URL")
        .env_remove("XIAOWAI_DATA_DIR");
    for (k, v) in envs {
        cmd.env(k, v);
    }
    cmd.output().expect("run xiaowai")
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[tokio::test]
async fn ledger_verify_passes_on_demo_data_and_names_a_tampered_entry() {
    let db = TestDb::new().await;
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().to_str().unwrap();
    let db_args = ["--data-dir", data_dir, "--database-url", &db.url];

    let seeded = xiaowai(
        &[&["demo", "--institutions", "60"][..], &db_args].concat(),
        &[],
        dir.path(),
    );
    assert!(seeded.status.success(), "{}", text(&seeded));

    let ok = xiaowai(
        &[&["ledger", "verify"][..], &db_args].concat(),
        &[],
        dir.path(),
    );
    assert!(ok.status.success(), "{}", text(&ok));
    assert!(text(&ok).contains("audit log intact"), "{}", text(&ok));
    assert!(text(&ok).contains("money ledger balanced"), "{}", text(&ok));
    assert!(text(&ok).contains("orders' money holds"), "{}", text(&ok));

    // An account whose stored total no transfer explains: the money check names it.
    let store = Store::connect(&db.url, Arc::new(SmSuite)).await.unwrap();
    let pool = store.pool_for_tests();
    sqlx::query(
        "INSERT INTO ledger_accounts (id, kind, owner, debits_must_not_exceed_credits, debits_posted, credits_posted) \
         VALUES ('escrow:forged', 'order_escrow', 'nobody', 1, 0, 500)",
    )
    .execute(pool)
    .await
    .unwrap();
    let forged = xiaowai(
        &[&["ledger", "verify"][..], &db_args].concat(),
        &[],
        dir.path(),
    );
    assert!(!forged.status.success());
    assert!(text(&forged).contains("escrow:forged"), "{}", text(&forged));
    sqlx::query("DELETE FROM ledger_accounts WHERE id = 'escrow:forged'")
        .execute(pool)
        .await
        .unwrap();

    // An instruction slipped in behind the platform's back, beyond what its order paid (an unpaid order paid
    // nothing): the money check names the order (the database's CHECK guards the orders table, not a raw row
    // written into the instructions).
    // Someone with database access writes an order and an instruction on it straight into the tables.
    let (institution_id, course_id, account_id, bank_id): (String, String, String, String) = sqlx::query_as(
        "SELECT a.institution_id, c.id, a.id, a.bank_id FROM supervised_accounts a \
         JOIN courses c ON c.institution_id = a.institution_id WHERE a.status = 'confirmed' ORDER BY a.id, c.id LIMIT 1",
    )
    .fetch_one(pool)
    .await
    .expect("the demo has a confirmed supervised account with courses");
    let (child_id, parent_id): (String, String) =
        sqlx::query_as("SELECT id, parent_id FROM children ORDER BY id LIMIT 1")
            .fetch_one(pool)
            .await
            .expect("the demo parent has children");
    let (order_id, order_no, paid) = ("forged-order", "XW20261126FORGED0001", 10_000i64);
    sqlx::query(
        "INSERT INTO orders (id, order_no, institution_id, course_id, parent_id, child_id, supervised_account_id, \
         lessons, amount_fen, contract_json, contract_digest, status, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, 10, $8, '{}', '', 'awaiting_payment', 0)",
    )
    .bind(order_id)
    .bind(order_no)
    .bind(&institution_id)
    .bind(&course_id)
    .bind(&parent_id)
    .bind(&child_id)
    .bind(&account_id)
    .bind(paid)
    .execute(pool)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO bank_instructions (id, kind, order_id, supervised_account_id, bank_id, amount_fen, status, \
         attempts, next_attempt_at, created_at) VALUES ('ins_forged', 'refund', $1, $2, $3, $4, 'acknowledged', 0, 0, 0)",
    )
    .bind(order_id)
    .bind(&account_id)
    .bind(&bank_id)
    .bind(paid)
    .execute(pool)
    .await
    .unwrap();
    let over = xiaowai(
        &[&["ledger", "verify"][..], &db_args].concat(),
        &[],
        dir.path(),
    );
    assert!(!over.status.success());
    assert!(
        text(&over).contains(&format!("order {order_no}")) && text(&over).contains("instructed"),
        "{}",
        text(&over)
    );
    for forged in [
        "DELETE FROM bank_instructions WHERE id = 'ins_forged'",
        "DELETE FROM orders WHERE id = 'forged-order'",
    ] {
        sqlx::query(forged).execute(pool).await.unwrap();
    }

    // Someone with database access removes the guard and rewrites entry 7.
    let drop_trigger = match store.backend() {
        Backend::Sqlite => "DROP TRIGGER audit_log_no_update",
        Backend::Postgres => "DROP TRIGGER audit_log_append_only ON audit_log",
    };
    sqlx::query(drop_trigger).execute(pool).await.unwrap();
    sqlx::query("UPDATE audit_log SET actor = 'system:someone-else' WHERE seq = 7")
        .execute(pool)
        .await
        .unwrap();
    store.close().await;

    let broken = xiaowai(
        &[&["ledger", "verify"][..], &db_args].concat(),
        &[],
        dir.path(),
    );
    assert!(!broken.status.success());
    assert!(
        text(&broken).contains("broken at sequence number 7"),
        "{}",
        text(&broken)
    );
}

#[test]
fn demo_refuses_a_database_that_already_has_data() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    assert!(
        xiaowai(
            &["demo", "--institutions", "5", "--data-dir", d],
            &[],
            dir.path()
        )
        .status
        .success()
    );
    let again = xiaowai(
        &["demo", "--institutions", "5", "--data-dir", d],
        &[],
        dir.path(),
    );
    assert!(!again.status.success());
    assert!(
        text(&again).contains("already holds 5 institutions"),
        "{}",
        text(&again)
    );
}

#[test]
fn settings_come_from_flags_then_environment_then_file() {
    let dir = tempfile::tempdir().unwrap();
    let from_file = dir.path().join("from-file");
    let from_env = dir.path().join("from-env");
    let from_flag = dir.path().join("from-flag");
    std::fs::write(
        dir.path().join("xiaowai.toml"),
        format!("data_dir = {:?}\n", from_file.to_str().unwrap()),
    )
    .unwrap();

    assert!(xiaowai(&["migrate"], &[], dir.path()).status.success());
    assert!(
        from_file.join("xiaowai.sqlite3").exists(),
        "xiaowai.toml is read"
    );

    assert!(
        xiaowai(
            &["migrate"],
            &[("XIAOWAI_DATA_DIR", from_env.to_str().unwrap())],
            dir.path()
        )
        .status
        .success()
    );
    assert!(
        from_env.join("xiaowai.sqlite3").exists(),
        "the environment beats the file"
    );

    let flag = from_flag.to_str().unwrap();
    assert!(
        xiaowai(
            &["migrate", "--data-dir", flag],
            &[("XIAOWAI_DATA_DIR", from_env.to_str().unwrap())],
            dir.path()
        )
        .status
        .success()
    );
    assert!(
        from_flag.join("xiaowai.sqlite3").exists(),
        "a flag beats the environment"
    );

    std::fs::write(dir.path().join("bad.toml"), "no_such_setting = 1\n").unwrap();
    let bad = xiaowai(&["--config", "bad.toml", "migrate"], &[], dir.path());
    assert!(!bad.status.success());
    assert!(text(&bad).contains("unknown field"), "{}", text(&bad));

    // Serving settings are checked before anything listens.
    for (setting, complaint) in [
        (
            "sms_gateway_url = \"https://sms.example.org/send\"\n",
            "needs both",
        ),
        (
            "trusted_proxies = \"10.0.0.5,proxy\"\n",
            "is not an IP address",
        ),
        ("sign_in_per_minute = 0\n", "at least 1"),
    ] {
        std::fs::write(dir.path().join("serve.toml"), setting).unwrap();
        let refused = xiaowai(
            &["--config", "serve.toml", "serve", "--listen", "127.0.0.1:0"],
            &[],
            dir.path(),
        );
        assert!(!refused.status.success(), "{setting}");
        assert!(text(&refused).contains(complaint), "{}", text(&refused));
    }
}

/// Bytes of everything the database holds: the SQLite files, or a plain-text pg_dump.
fn database_bytes(db: &TestDb) -> Vec<u8> {
    if let Some(rest) = db.url.strip_prefix("sqlite://") {
        let file = rest.split('?').next().unwrap();
        let mut all = Vec::new();
        for path in [file.to_owned(), format!("{file}-wal")] {
            if let Ok(bytes) = std::fs::read(&path) {
                all.extend(bytes);
            }
        }
        assert!(all.len() > 100_000, "the SQLite files were read");
        all
    } else {
        let out = Command::new("pg_dump")
            .arg("--data-only")
            .arg(&db.url)
            .output()
            .expect("run pg_dump");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    }
}

#[tokio::test]
async fn the_demo_parents_personal_data_is_nowhere_in_plain_text() {
    let db = TestDb::new().await;
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path();
    let seeded = xiaowai(
        &[
            "demo",
            "--institutions",
            "20",
            "--data-dir",
            data_dir.to_str().unwrap(),
            "--database-url",
            &db.url,
        ],
        &[],
        data_dir,
    );
    assert!(seeded.status.success(), "{}", text(&seeded));
    let bytes = database_bytes(&db);
    let haystack = String::from_utf8_lossy(&bytes);
    // Plain-text data the demo does store, as a control: the scan can see text.
    assert!(
        haystack.contains("北京市海淀区中关村第一小学"),
        "the scan reads stored text"
    );
    for secret in [
        "13800000001",
        "11010820150301001X",
        "11010820170912002X",
        "王小明",
        "王小红",
    ] {
        assert!(
            !haystack.contains(secret),
            "{secret} is stored in plain text"
        );
    }
}

#[tokio::test]
async fn a_full_run_logs_no_personal_data_and_no_secrets() {
    use app::demo::{
        DEMO_BANK_KEY_ID, DEMO_BANK_SECRET, DEMO_PARENT_PHONE, DEMO_PASSWORD, DEMO_TOTP_SECRET,
    };
    let dir = tempfile::tempdir().unwrap();
    let log_path = dir.path().join("server.log");
    let mut server = Command::new(env!("CARGO_BIN_EXE_xiaowai"))
        .args([
            "serve",
            "--demo",
            "--demo-institutions",
            "30",
            "--listen",
            "127.0.0.1:0",
            "--data-dir",
        ])
        .arg(dir.path().join("data"))
        .env("XIAOWAI_LOG", "debug")
        .env_remove("XIAOWAI_DATABASE_URL")
        .stdout(std::process::Stdio::piped())
        .stderr(std::fs::File::create(&log_path).unwrap())
        .spawn()
        .unwrap();
    let mut stdout = std::io::BufReader::new(server.stdout.take().unwrap());
    let mut line = String::new();
    std::io::BufRead::read_line(&mut stdout, &mut line).unwrap();
    let base = line
        .trim()
        .strip_prefix("xiaowai listening on ")
        .expect("the server says where it listens")
        .to_owned();
    let http = reqwest::Client::new();
    let post =
        |path: &str, body: serde_json::Value| http.post(format!("{base}{path}")).json(&body).send();

    // A parent: code by SMS (read from the development SMS file), sign-in, a child, a reveal.
    assert_eq!(
        post(
            "/api/v1/auth/sms-code",
            serde_json::json!({"phone": DEMO_PARENT_PHONE})
        )
        .await
        .unwrap()
        .status(),
        204
    );
    let sms = std::fs::read_to_string(dir.path().join("data").join("dev-sms.log")).unwrap();
    assert!(
        !sms.contains(DEMO_PARENT_PHONE),
        "even the development SMS file masks the number"
    );
    let code: String = sms
        .split("验证码 ")
        .last()
        .unwrap()
        .chars()
        .take(6)
        .collect();
    let parent: serde_json::Value = post(
        "/api/v1/auth/login",
        serde_json::json!({"phone": DEMO_PARENT_PHONE, "code": code}),
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let parent_token = parent["access_token"].as_str().unwrap().to_owned();
    let children: serde_json::Value = http
        .get(format!("{base}/api/v1/me/children"))
        .bearer_auth(&parent_token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let child_id = children[0]["id"].as_str().unwrap();
    let revealed = http
        .post(format!("{base}/api/v1/children/{child_id}/reveal"))
        .bearer_auth(&parent_token)
        .json(&serde_json::json!({"field": "id_card", "reason": "核对"}))
        .send()
        .await
        .unwrap();
    assert_eq!(revealed.status(), 200);
    // Staff: a wrong and a right password. A regulator with TOTP. A signed bank request.
    post(
        "/api/v1/auth/login",
        serde_json::json!({"username": "inst.admin", "password": "wrong-password-123"}),
    )
    .await
    .unwrap();
    let staff: serde_json::Value = post(
        "/api/v1/auth/login",
        serde_json::json!({"username": "inst.admin", "password": DEMO_PASSWORD}),
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let now_s = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let totp = ledger::totp::code_at(DEMO_TOTP_SECRET, now_s, 6);
    let regulator = post("/api/v1/auth/login", serde_json::json!({"username": "haidian.reviewer", "password": DEMO_PASSWORD, "totp": totp})).await.unwrap();
    assert_eq!(regulator.status(), 200);
    let crypto = ledger::SmSuite;
    let ts = (now_s * 1000) as i64;
    let signature = app::signing::sign(
        &crypto,
        DEMO_BANK_SECRET.as_bytes(),
        &app::signing::canonical_request(
            &crypto,
            "POST",
            "/api/v1/clients/me",
            b"{}",
            ts,
            "log-scan-nonce-0001",
        ),
    );
    let signed = http
        .post(format!("{base}/api/v1/clients/me"))
        .header("x-xiaowai-key", DEMO_BANK_KEY_ID)
        .header("x-xiaowai-timestamp", ts.to_string())
        .header("x-xiaowai-nonce", "log-scan-nonce-0001")
        .header("x-xiaowai-signature", signature)
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(signed.status(), 200);
    // The national administrator creates a regulator; its first sign-in replaces the temporary password.
    let admin_totp = ledger::totp::code_at(DEMO_TOTP_SECRET, now_s, 6);
    let admin: serde_json::Value = post(
        "/api/v1/auth/login",
        serde_json::json!({"username": "moe.admin", "password": DEMO_PASSWORD, "totp": admin_totp}),
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let created: serde_json::Value = http
        .post(format!("{base}/api/v1/admin/regulators"))
        .bearer_auth(admin["access_token"].as_str().unwrap())
        .json(&serde_json::json!({"username": "logscan.reviewer", "display_name": "审核员", "password": "temporary-secret-77", "region_code": "110108", "role": "reviewer"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let enrolment = created["totp_enrolment_uri"].as_str().unwrap().to_owned();
    let new_secret = enrolment
        .split("secret=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap()
        .to_owned();
    let secret_bytes = data_encoding::BASE32_NOPAD
        .decode(new_secret.as_bytes())
        .unwrap();
    let first = post("/api/v1/auth/login", serde_json::json!({"username": "logscan.reviewer", "password": "temporary-secret-77", "totp": ledger::totp::code_at(&secret_bytes, now_s, 6), "new_password": "chosen-secret-88"})).await.unwrap();
    assert_eq!(first.status(), 200);

    let _ = Command::new("kill")
        .arg("-TERM")
        .arg(server.id().to_string())
        .status();
    assert!(server.wait().unwrap().success());
    let logs = std::fs::read_to_string(&log_path).unwrap();
    assert!(
        logs.contains("finished processing request"),
        "the capture holds the access log"
    );
    let secrets = [
        DEMO_PARENT_PHONE,
        "11010820150301001X",
        "11010820170912002X",
        "王小明",
        "王小红",
        DEMO_PASSWORD,
        "wrong-password-123",
        DEMO_BANK_SECRET,
        parent_token.as_str(),
        staff["access_token"].as_str().unwrap(),
        staff["refresh_token"].as_str().unwrap(),
        "temporary-secret-77",
        "chosen-secret-88",
        new_secret.as_str(),
    ];
    for secret in secrets {
        assert!(!logs.contains(secret), "the logs contain {secret}");
    }
}

#[tokio::test]
async fn key_rotation_reseals_every_personal_datum_under_the_new_key() {
    let db = TestDb::new().await;
    let dir = tempfile::tempdir().unwrap();
    let args = [
        "--data-dir",
        dir.path().to_str().unwrap(),
        "--database-url",
        &db.url,
    ];
    assert!(
        xiaowai(
            &[&["demo", "--institutions", "5"][..], &args].concat(),
            &[],
            dir.path()
        )
        .status
        .success()
    );
    let rotated = xiaowai(&[&["keys", "rotate"][..], &args].concat(), &[], dir.path());
    // One parent phone, twelve TOTP secrets, two children's names and ID cards, two API secrets (the demo bank's
    // and the demo integrator's) and the demo integrator's contact.
    assert!(
        text(&rotated).contains("data key 2 is current; 20 values re-sealed"),
        "{}",
        text(&rotated)
    );
    let keys = std::fs::read_to_string(dir.path().join("keys.toml")).unwrap();
    assert!(keys.contains("current = 2"), "{keys}");

    let store = Store::connect(&db.url, Arc::new(SmSuite)).await.unwrap();
    let pool = store.pool_for_tests();
    for (table, column) in [
        ("accounts", "phone_sealed"),
        ("accounts", "totp_secret_sealed"),
        ("children", "name_sealed"),
        ("children", "id_card_sealed"),
        ("api_clients", "secret_sealed"),
        ("integrators", "contact_sealed"),
    ] {
        let sql = format!("SELECT {column} FROM {table} WHERE {column} IS NOT NULL");
        let values: Vec<(String,)> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .fetch_all(pool)
            .await
            .unwrap();
        assert!(!values.is_empty());
        assert!(
            values.iter().all(|(v,)| v.starts_with("v1.2.")),
            "{table}.{column} still has old keys"
        );
    }
    store.close().await;
    let again = xiaowai(&[&["keys", "rotate"][..], &args].concat(), &[], dir.path());
    assert!(
        text(&again).contains("data key 3 is current; 20 values re-sealed"),
        "{}",
        text(&again)
    );
    let verified = xiaowai(
        &[&["ledger", "verify"][..], &args].concat(),
        &[],
        dir.path(),
    );
    assert!(verified.status.success(), "{}", text(&verified));
}

#[tokio::test]
async fn the_international_suite_is_selectable_and_fixed_per_database() {
    let db = TestDb::new().await;
    let dir = tempfile::tempdir().unwrap();
    let args = [
        "--data-dir",
        dir.path().to_str().unwrap(),
        "--database-url",
        &db.url,
    ];
    let intl = [("XIAOWAI_CRYPTO_SUITE", "intl")];
    let seeded = xiaowai(
        &[&["demo", "--institutions", "5"][..], &args].concat(),
        &intl,
        dir.path(),
    );
    assert!(seeded.status.success(), "{}", text(&seeded));
    let verified = xiaowai(
        &[&["ledger", "verify"][..], &args].concat(),
        &intl,
        dir.path(),
    );
    assert!(verified.status.success(), "{}", text(&verified));
    let keys = std::fs::read_to_string(dir.path().join("keys.toml")).unwrap();
    assert!(keys.contains("suite = \"intl\""), "{keys}");
    // The same database under the default SM suite is refused, not silently misread.
    let sm = xiaowai(
        &[&["ledger", "verify"][..], &args].concat(),
        &[],
        dir.path(),
    );
    assert!(!sm.status.success());
    assert!(
        text(&sm).contains("created with the intl crypto suite"),
        "{}",
        text(&sm)
    );
    let unknown = xiaowai(
        &[&["migrate"][..], &args].concat(),
        &[("XIAOWAI_CRYPTO_SUITE", "rot13")],
        dir.path(),
    );
    assert!(
        text(&unknown).contains("unknown crypto suite"),
        "{}",
        text(&unknown)
    );
}

#[tokio::test]
async fn plate_verify_checks_a_token_offline_with_the_key_ring_or_a_public_key() {
    let db = TestDb::new().await;
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().to_str().unwrap();
    let db_args = ["--data-dir", data_dir, "--database-url", &db.url];
    let seeded = xiaowai(
        &[&["demo", "--institutions", "10"][..], &db_args].concat(),
        &[],
        dir.path(),
    );
    assert!(seeded.status.success(), "{}", text(&seeded));
    let store = Store::connect(&db.url, Arc::new(SmSuite)).await.unwrap();
    let (institution, token): (String, String) =
        sqlx::query_as("SELECT institution_id, token FROM plates ORDER BY institution_id LIMIT 1")
            .fetch_one(store.pool_for_tests())
            .await
            .unwrap();
    store.close().await;

    let url = format!("https://xiaowai.example.gov.cn/verify/{token}");
    let ok = xiaowai(
        &["plate", "verify", &url, "--data-dir", data_dir],
        &[],
        dir.path(),
    );
    assert!(ok.status.success(), "{}", text(&ok));
    assert!(
        text(&ok).contains(&format!(
            "genuine plate: institution {institution}, serial 1"
        )),
        "{}",
        text(&ok)
    );
    let mut altered = token.into_bytes();
    altered[40] = if altered[40] == b'x' { b'y' } else { b'x' };
    let altered = String::from_utf8(altered).unwrap();
    let bad = xiaowai(
        &["plate", "verify", &altered, "--data-dir", data_dir],
        &[],
        dir.path(),
    );
    assert!(!bad.status.success());
    assert!(text(&bad).contains("invalid plate"), "{}", text(&bad));

    // With only the published public key, somewhere without the data directory.
    let public = app::vault::KeyRing::load_or_create(dir.path(), Arc::new(SmSuite))
        .unwrap()
        .signing_public_key();
    let elsewhere = tempfile::tempdir().unwrap();
    let other_dir = elsewhere.path().to_str().unwrap();
    let offline = |key: &str| {
        xiaowai(
            &[
                "plate",
                "verify",
                &url,
                "--public-key",
                key,
                "--data-dir",
                other_dir,
            ],
            &[],
            elsewhere.path(),
        )
    };
    let ok = offline(&hex::encode(&public));
    assert!(ok.status.success(), "{}", text(&ok));
    let mut wrong = public.clone();
    wrong[64] ^= 1;
    let refused = offline(&hex::encode(&wrong));
    assert!(!refused.status.success(), "another key does not verify it");
    assert!(
        text(&refused).contains("invalid plate"),
        "{}",
        text(&refused)
    );
}

/// The sandbox (`serve --demo`), the example adapter (examples/integrator) connected to it, and the
/// conformance command run against it: failing before the adapter did anything, passing once it has, and
/// failing again — on signature checking alone — when a broken receiver takes the webhooks.
// Multi-threaded: the conformance process runs blocking while this runtime's receiver answers its pings.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conformance_passes_for_the_example_adapter_and_fails_for_a_broken_one() {
    use app::demo::{
        DEMO_ACCOUNT_NO, DEMO_BANK_KEY_ID, DEMO_BANK_SECRET, DEMO_INTEGRATOR_KEY_ID,
        DEMO_INTEGRATOR_SECRET, DEMO_PARENT_PHONE,
    };
    use example_integrator::{Adapter, Client, Receiver, ReceiverOptions};
    let dir = tempfile::tempdir().unwrap();
    let mut server = Command::new(env!("CARGO_BIN_EXE_xiaowai"))
        .args([
            "serve",
            "--sandbox",
            "--demo-institutions",
            "3",
            "--listen",
            "127.0.0.1:0",
            "--data-dir",
        ])
        .arg(dir.path().join("data"))
        .env_remove("XIAOWAI_DATABASE_URL")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut stdout = std::io::BufReader::new(server.stdout.take().unwrap());
    let mut line = String::new();
    std::io::BufRead::read_line(&mut stdout, &mut line).unwrap();
    let base = line
        .trim()
        .strip_prefix("xiaowai listening on ")
        .expect("listening")
        .to_owned();
    let conformance = || {
        xiaowai(
            &[
                "conformance",
                "--base-url",
                &base,
                "--key-id",
                DEMO_INTEGRATOR_KEY_ID,
            ],
            &[("XIAOWAI_CONFORMANCE_SECRET", DEMO_INTEGRATOR_SECRET)],
            dir.path(),
        )
    };

    let before = conformance();
    let said = text(&before);
    assert!(!before.status.success(), "{said}");
    assert!(
        said.contains("(sandbox)"),
        "the sandbox says what it is: {said}"
    );
    for line in [
        "PASS XW-INT-01",
        "PASS XW-INT-02",
        "FAIL XW-INT-03",
        "FAIL XW-INT-04",
        "FAIL XW-INT-06",
        "FAIL XW-INT-09",
    ] {
        assert!(said.contains(line), "{line} in {said}");
    }

    let client = Client::new(&base, DEMO_INTEGRATOR_KEY_ID, DEMO_INTEGRATOR_SECRET);
    let (status, grants) = client
        .send(
            reqwest::Method::GET,
            "/api/v1/integration/grants",
            None,
            None,
        )
        .await
        .unwrap();
    assert_eq!(status, 200);
    let adapter = Adapter {
        client,
        institution_id: grants[0]["institution_id"].as_str().unwrap().to_owned(),
    };
    let options = ReceiverOptions {
        key_id: DEMO_INTEGRATOR_KEY_ID.into(),
        secret: DEMO_INTEGRATOR_SECRET.into(),
        verify_signatures: true,
        fail_first: 0,
    };
    let (_receiver, url, mut events) = Receiver::start(options.clone(), "127.0.0.1:0")
        .await
        .unwrap();
    adapter.register_webhook(&url).await.unwrap();
    let course = adapter.sync_course("一致性测试·创意美术").await.unwrap();
    let (order_id, order_no) = adapter
        .order_for_parent(&course, DEMO_PARENT_PHONE, "11010820150301001X")
        .await
        .unwrap();
    // The parent pays through the demo bank's API; the platform's worker tells the adapter.
    Client::new(&base, DEMO_BANK_KEY_ID, DEMO_BANK_SECRET)
        .mutate(
            reqwest::Method::POST,
            "/api/v1/bank/payments",
            &serde_json::json!({"order_no": order_no, "account_no": DEMO_ACCOUNT_NO, "amount_fen": 120_000,
                                "bank_ref": "CONFORMANCE-1", "paid_at": chrono::Utc::now().timestamp_millis()}),
        )
        .await
        .unwrap();
    let paid = tokio::time::timeout(std::time::Duration::from_secs(30), events.recv())
        .await
        .expect("the worker delivers")
        .unwrap();
    assert_eq!(paid["type"], "order.paid");
    assert_eq!(paid["data"]["order"], order_id.as_str());
    assert_eq!(
        adapter
            .report_attendance(&order_id, "一致性测试点名")
            .await
            .unwrap(),
        1
    );

    let passing = conformance();
    let said = text(&passing);
    assert!(passing.status.success(), "{said}");
    assert!(said.contains("9 passed, 0 failed"), "{said}");

    // A receiver that takes anything: the platform's forged ping gets through, and the kit says so.
    let broken = ReceiverOptions {
        verify_signatures: false,
        ..options
    };
    let (_broken, url, _) = Receiver::start(broken, "127.0.0.1:0").await.unwrap();
    adapter.register_webhook(&url).await.unwrap();
    let failing = conformance();
    let said = text(&failing);
    assert!(!failing.status.success(), "{said}");
    assert!(said.contains("FAIL XW-INT-05"), "{said}");
    assert!(said.contains("8 passed, 1 failed"), "{said}");
    server.kill().unwrap();
    server.wait().unwrap();
}
