//! Test harness shared by the crates above: a fresh database (SQLite, or PostgreSQL when
//! `XIAOWAI_TEST_DATABASE_URL` is set), an app over it with a manual clock, optional demo data.

use crate::{App, ManualClock, SearchLocation};
use domain::Timestamp;
use ledger::SmSuite;
use std::sync::Arc;
use store::Store;
use store::testing::TestDb;

/// 2026-11-26 09:00 in Beijing: the tests' "now".
pub const TEST_NOW: Timestamp = Timestamp::from_millis(1_795_654_800_000);

pub struct TestApp {
    pub app: App,
    /// Where the app's SMS messages go, so tests can read sign-in codes.
    pub sms: Arc<crate::parents::DevSmsSender>,
    pub clock: Arc<ManualClock>,
    pub db: TestDb,
}

impl TestApp {
    /// A migrated, empty registry.
    pub async fn empty() -> TestApp {
        Self::empty_on(TestDb::new().await).await
    }

    /// A migrated, empty registry in `db`.
    pub async fn empty_on(db: TestDb) -> TestApp {
        let clock = Arc::new(ManualClock::at(TEST_NOW));
        let keys = crate::vault::KeyRing::generate(Arc::new(SmSuite));
        let sms = Arc::new(crate::parents::DevSmsSender::default());
        let app = Self::open(&db, clock.clone(), keys, sms.clone()).await;
        TestApp {
            app,
            sms,
            clock,
            db,
        }
    }

    async fn open(
        db: &TestDb,
        clock: Arc<ManualClock>,
        keys: crate::vault::KeyRing,
        sms: Arc<crate::parents::DevSmsSender>,
    ) -> App {
        let store = Store::connect(&db.url, Arc::new(SmSuite))
            .await
            .expect("connect");
        store.migrate().await.expect("migrate");
        App::open(store, SearchLocation::Memory, clock, keys)
            .await
            .expect("open app")
            .with_sms(sms)
            .with_local_egress(true)
            .expect("webhook client")
    }

    /// A server restart: the process's pool, caches and search index are gone; a new app opens over the
    /// same database with the same keys and clock (what a node that was killed and started again sees).
    pub async fn restart(&mut self) {
        let keys = (*self.app.keys).clone();
        self.app.store.close().await;
        self.app = Self::open(&self.db, self.clock.clone(), keys, self.sms.clone()).await;
    }

    /// A second server over the same database, with the same keys and clock (what another node of a
    /// deployment sees).
    pub async fn another_node(&self) -> App {
        let keys = (*self.app.keys).clone();
        Self::open(&self.db, self.clock.clone(), keys, self.sms.clone()).await
    }

    /// A parent signed in by the code sent to `phone` (the account is made on first sign-in).
    pub async fn parent(&self, phone: &str) -> crate::Actor {
        self.app
            .identity()
            .request_login_code(phone)
            .await
            .expect("send a code");
        let text = self.sms.last_to(phone).expect("a code was sent");
        let code: String = text.chars().filter(char::is_ascii_digit).take(6).collect();
        let login = crate::parents::PhoneLogin {
            phone: phone.into(),
            code,
        };
        crate::Actor::Parent {
            account_id: self
                .app
                .identity()
                .login_with_code(&login)
                .await
                .expect("sign in")
                .actor
                .account_id,
        }
    }

    /// The demo integrator's system, as its signed requests resolve (after `with_demo`).
    pub async fn demo_integrator(&self) -> crate::Actor {
        let client = self
            .app
            .store()
            .read()
            .clients()
            .api_client(crate::demo::DEMO_INTEGRATOR_KEY_ID)
            .await
            .expect("read the demo integrator's key")
            .expect("the demo has an integrator");
        crate::Actor::ApiClient {
            key_id: client.key_id,
            owner_kind: client.owner_kind,
            owner_id: client.owner_id,
        }
    }

    /// A registry seeded with `n` demo institutions from the standard seed.
    pub async fn with_demo(n: usize) -> TestApp {
        Self::with_demo_on(TestDb::new().await, n).await
    }

    /// [`Self::with_demo`] in `db`.
    pub async fn with_demo_on(db: TestDb, n: usize) -> TestApp {
        let t = TestApp::empty_on(db).await;
        t.app
            .seed_demo(n, crate::demo::DEFAULT_SEED, |_| {})
            .await
            .expect("seed demo data");
        t
    }
}
