//! Use cases of the platform. Every command takes an [`Actor`] and runs in one store transaction that
//! also writes its audit entry; every query validates its input here, once, for the API and the pages.
//!
//! The use cases live in six areas — `identity`, `registry`, `money`, `supervision`, `service` and
//! `integration` — over a small shared kernel at the root: the actor, the clock, errors, evidence (audit
//! entries), the egress policy, the key vault, regions, views and the background workers.

/// Declares an area's service type (`Money`, reached as `app.money()`): a copyable handle on the [`App`]
/// whose methods are the area's use cases. It sees the shared kernel (the store, the clock, the keys, the
/// access checks) through `Deref<Target = App>`, and other areas only through their own service types, so
/// `self.registry().course(..)` in a money use case is a dependency one can read.
macro_rules! area_service {
    ($service:ident, $accessor:ident, $zh:literal) => {
        #[doc = concat!($zh, ": the `", stringify!($accessor), "` area's use cases, over the shared kernel.")]
        #[derive(Clone, Copy, Debug)]
        pub struct $service<'a> {
            app: &'a crate::App,
        }

        impl crate::App {
            #[doc = concat!($zh, ": the `", stringify!($accessor), "` area's use cases.")]
            pub fn $accessor(&self) -> $service<'_> {
                $service { app: self }
            }
        }

        impl std::ops::Deref for $service<'_> {
            type Target = crate::App;

            fn deref(&self) -> &crate::App {
                self.app
            }
        }
    };
}
pub(crate) use area_service;

pub mod access;
pub mod actor;
pub mod clock;
pub mod demo;
pub mod egress;
pub mod error;
pub mod evidence;
pub mod identity;
pub mod integration;
pub mod money;
pub mod regions;
pub mod registry;
pub mod service;
pub mod supervision;
pub mod testing;
pub mod vault;
pub mod views;
mod workers;

pub use actor::Actor;
pub use clock::{Clock, ManualClock, OffsetClock, SystemClock};
pub use error::{AppError, BrokenRule, Detail, ErrorCode, field_label};
// The use cases are grouped by area (`identity`, `registry`, `money`, `supervision`, `service`,
// `integration`); each area's modules keep their short paths (`app::orders`, `crate::bank`).
pub use identity::{admin, auth, parents, security, sessions};
pub use integration::{events, integrations, signing, webhooks};
pub use money::{bank, batches, funds, ledger_check, lessons, orders, refunds, run_off};
pub use registry::{courses, onboarding, plates, policy, search, staff};
pub use service::{complaints, consultations, inbox, reviews, service_desk, todo};
pub use supervision::{
    after_school, annual, bank_quality, credit, dashboard, monitoring, oversight, penalties, risk,
    spot_checks,
};

use regions::RegionDirectory;
use search::SearchIndex;
use std::path::PathBuf;
use std::sync::Arc;
use store::Store;

/// 变更公示期 by default: seven days.
pub const DEFAULT_CHANGE_NOTICE_DAYS: u32 = 7;

/// Where the search index lives.
#[derive(Clone, Debug)]
pub enum SearchLocation {
    Memory,
    Dir(PathBuf),
}

/// The application: the store, the search index and the injected clock, shared by every request.
#[derive(Clone, Debug)]
pub struct App {
    pub(crate) store: Store,
    pub(crate) search: Arc<SearchIndex>,
    pub(crate) regions: Arc<RegionDirectory>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) keys: Arc<vault::KeyRing>,
    pub(crate) auth_policy: auth::AuthPolicy,
    pub(crate) sms: Arc<dyn parents::SmsSender>,
    /// Where filed documents' bytes live. In memory until [`App::with_documents`] names a real store
    /// (the binary always does: the data directory, or S3-compatible storage).
    pub(crate) documents: Arc<dyn object_store::ObjectStore>,
    /// How long a change is published for (变更公示期), in days.
    pub(crate) change_notice_days: u32,
    /// Outgoing HTTP to banks (instructions), under the egress policy ([`egress::client`]).
    pub(crate) http: reqwest::Client,
    /// Whether outgoing requests may reach loopback, private and other special-purpose addresses (the
    /// sandbox, the test clock and the local demo only: in production that would let an integrator or a bank
    /// endpoint make the platform call its own network).
    pub(crate) local_egress: bool,
    /// Outgoing webhooks, under the same policy, on their own client so no receiver slows the banks.
    pub(crate) webhook_http: reqwest::Client,
}

impl App {
    /// Opens the application over a migrated store; brings the search index up to date with it.
    pub async fn open(
        store: Store,
        search_at: SearchLocation,
        clock: Arc<dyn Clock>,
        keys: vault::KeyRing,
    ) -> Result<App, AppError> {
        let search = match search_at {
            SearchLocation::Memory => SearchIndex::in_ram(),
            SearchLocation::Dir(dir) => SearchIndex::open_in_dir(&dir),
        }
        .map_err(|e| AppError::internal(e.to_string()))?;
        let regions = RegionDirectory::load(&store).await?;
        let app = App {
            store,
            search: Arc::new(search),
            regions: Arc::new(regions),
            clock,
            keys: Arc::new(keys),
            auth_policy: auth::AuthPolicy::default(),
            sms: Arc::new(parents::DevSmsSender::default()),
            documents: Arc::new(object_store::memory::InMemory::new()),
            change_notice_days: DEFAULT_CHANGE_NOTICE_DAYS,
            http: egress::client(false)?,
            local_egress: false,
            webhook_http: egress::client(false)?,
        };
        app.seal_values_left_in_clear().await?;
        app.registry().refresh_search_index().await?;
        Ok(app)
    }

    /// Sends SMS through `sender` (the default records messages in memory, for development).
    pub fn with_sms(mut self, sender: Arc<dyn parents::SmsSender>) -> App {
        self.sms = sender;
        self
    }

    /// Publishes approved changes for `days` days.
    /// Lets outgoing requests (webhooks, bank instructions) go to loopback and private addresses: the
    /// sandbox, the test clock and the local demo only.
    pub fn with_local_egress(mut self, allowed: bool) -> Result<App, AppError> {
        self.local_egress = allowed;
        self.http = egress::client(allowed)?;
        self.webhook_http = egress::client(allowed)?;
        Ok(self)
    }

    pub fn with_change_notice_days(mut self, days: u32) -> App {
        self.change_notice_days = days;
        self
    }

    /// Keeps filed documents in `documents`.
    pub fn with_documents(mut self, documents: Arc<dyn object_store::ObjectStore>) -> App {
        self.documents = documents;
        self
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn clock(&self) -> &dyn Clock {
        &*self.clock
    }

    /// Test deployments only: moves the clock to an hour after the close of the `working_days`-th working
    /// day from today (when a window of that many working days opened today has closed), plus `hours`.
    /// Returns how far it moved, in milliseconds, so a test can move the bank simulator's clock alike.
    pub fn move_clock(&self, working_days: u32, hours: u32) -> Result<i64, AppError> {
        let now = self.clock.now();
        let mut target = now.millis();
        if working_days > 0 {
            target = lessons::window_end(now.china_date(), working_days) + 3_600_000;
        }
        let delta = target - now.millis() + i64::from(hours) * 3_600_000;
        if delta <= 0 {
            return Err(AppError::new(
                ErrorCode::InvalidParameter,
                "时钟只能向前拨",
                "the clock only moves forward",
            ));
        }
        if !self.clock.advance(delta) {
            return Err(AppError::new(
                ErrorCode::NotFound,
                "本部署使用真实时钟，不能拨动",
                "this deployment's clock is the wall clock",
            ));
        }
        tracing::warn!(moved_ms = delta, now = %self.clock.now().china_display(), "test clock moved");
        Ok(delta)
    }

    pub fn regions(&self) -> &RegionDirectory {
        &self.regions
    }

    /// Health: the database answers. Returns which database it is.
    pub async fn health(&self) -> Result<&'static str, AppError> {
        self.store.ping().await.map_err(|e| {
            AppError::new(ErrorCode::Unavailable, "数据库暂时无法连接", e.to_string())
        })?;
        Ok(self.store.backend().name())
    }
}
