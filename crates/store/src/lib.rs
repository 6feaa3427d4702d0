//! Persistence for xiaowai: one sqlx code path (the `Any` driver) for SQLite and PostgreSQL.
//!
//! Everything above this crate speaks in repositories and rows; nothing above it writes SQL.
//! Writes go through [`WriteTx`], which serializes writers on SQLite (the write gate) and carries the
//! audit-log append so a state change and its evidence commit together or not at all.
//! Queries are grouped in a repository per aggregate (`reader.orders()`, `tx.orders()`, see [`repository!`]);
//! a query both a [`Reader`] and a [`WriteTx`] run is written once, on `impl<S: Connection> Orders<S>`.

/// Declares an aggregate's repository: its queries, reached from a [`Reader`] as `reader.orders()` and inside a
/// transaction as `tx.orders()`. Reads of the pool live on `impl Orders<&Reader<'_>>`, what runs inside the
/// transaction (writes, locking reads) on `impl Orders<&mut WriteTx>`, and a query both need once, on
/// `impl<S: Connection> Orders<S>`, running on [`Connection::executor`].
macro_rules! repository {
    ($(#[$doc:meta])* $repository:ident, $accessor:ident) => {
        $(#[$doc])*
        pub struct $repository<S>(S);

        impl<'s> crate::Reader<'s> {
            $(#[$doc])*
            pub fn $accessor(&self) -> $repository<&Self> {
                $repository(self)
            }
        }

        impl crate::WriteTx {
            $(#[$doc])*
            pub fn $accessor(&mut self) -> $repository<&mut Self> {
                $repository(self)
            }
        }

        impl<S: std::ops::Deref> std::ops::Deref for $repository<S> {
            type Target = S::Target;

            fn deref(&self) -> &S::Target {
                &self.0
            }
        }

        impl<S: std::ops::DerefMut> std::ops::DerefMut for $repository<S> {
            fn deref_mut(&mut self) -> &mut S::Target {
                &mut self.0
            }
        }
    };
}
pub(crate) use repository;

/// Where a repository's query runs: the pool, for a [`Reader`], or the open transaction, for a [`WriteTx`].
pub trait Connection {
    fn executor(&mut self) -> impl sqlx::AnyExecutor<'_>;
}

impl Connection for &Reader<'_> {
    fn executor(&mut self) -> impl sqlx::AnyExecutor<'_> {
        &self.store.pool
    }
}

impl Connection for &mut WriteTx {
    fn executor(&mut self) -> impl sqlx::AnyExecutor<'_> {
        &mut *self.tx
    }
}

mod accounts;
mod after_school;
mod annual;
mod audit;
mod bank;
mod claims;
mod clients;
mod complaints;
mod consultations;
mod dashboard;
mod error;
mod filings;
mod funds;
mod inbox;
mod insert;
mod inspection;
mod instructions;
mod integrations;
mod lessons;
mod money;
mod monitoring;
mod orders;
mod parents;
mod plates;
mod quality;
mod reference;
mod refunds;
mod registry;
mod reviews;
pub mod rows;
mod security;
mod service;
mod staff;
mod states;
pub mod testing;
mod warnings;
mod webhooks;

pub use accounts::{AccountRow, AccountScope, Accounts, SessionRow, TokenRow};
pub use after_school::{AfterSchool, AfterSchoolListRow, CandidateFactsRow, ChoiceRow, SchoolRow};
pub use annual::{AnnualFigures, AnnualReviewRow, AnnualReviews};
pub use audit::AuditScope;
pub use bank::{
    BankEndpointRow, BankMessages, IdempotentRequestRow, MovementRow, RiskEventRow, StatementRow,
};
pub use clients::{ApiClientRow, ApiClients, SEALED_COLUMNS, SealedColumn};
pub use complaints::{ComplaintCounts, ComplaintRow, ComplaintRuling, Complaints, ComplaintsOf};
pub use consultations::{
    ConsultationMessageRow, ConsultationRow, ConsultationTimes, Consultations,
};
pub use dashboard::{Dashboard, MoneyRollup};
pub use error::StoreError;
pub use filings::{DocumentRow, FilingRow, Filings, QueueRow};
pub use funds::{SupervisedAccountRow, SupervisedAccounts};
pub use inbox::{Inbox, NotificationRow, SmsRow};
pub use inspection::{
    CreditModelRow, CreditOf, CreditRatingRow, CreditSignals, DoorFacts, Inspections, PenaltyRow,
    PublishedRatingRow, SpotCheckCampaignRow, SpotCheckCandidateRow, SpotCheckListRow,
    SpotCheckRow, SpotChecksOf,
};
pub use instructions::{Instructed, InstructionRow, Instructions, ReleaseBatchRow};
pub use integrations::{GrantRow, Integrations, IntegratorRow};
pub use lessons::{LeaveRow, LessonRow, Lessons};
pub use money::{Ledger, LedgerAccountRow, LedgerRecount, LedgerTransferRow, OrderMoneyRow};
pub use monitoring::{FinancialStatementRow, Monitoring, MovementDetailRow, OrderDetailRow};
pub use orders::{ClassTransferRow, OrderRow, OrderSummaryRow, Orders};
pub use parents::{ChildRow, LoginCodeRow, Parents, PiiAccessRow};
pub use plates::{PlateRow, Plates};
pub use quality::{InstructionTimeRow, Quality};
pub use refunds::{RefundDecision, RefundRow, Refunds, RunOffRow};
pub use registry::{CourseSessionRow, Registry};
pub use reviews::{ReviewRow, Reviews};
pub use rows::*;
pub use security::{Policies, RegionPolicyRow, SecurityPolicyRow};
pub use service::{TicketMessageRow, TicketQueue, TicketRow, Tickets};
/// The driver error, for callers that classify faults (e.g. "database unavailable").
pub use sqlx::Error as SqlxError;
pub use staff::{BlacklistedPractitionerRow, Staff, StaffMemberRow};
pub use warnings::{RiskModelRow, SweepSignals, WarningRow, Warnings};
pub use webhooks::{WebhookAttemptRow, WebhookDeliveryRow, WebhookEndpointRow, Webhooks};

use ledger::Crypto;
use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::{Any, AnyPool, Executor, Transaction};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Mutex, OwnedMutexGuard};

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("migrations/postgres");

/// Which database is behind the `Any` pool. The only place backend differences live.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn from_url(url: &str) -> Result<Backend, StoreError> {
        if url.starts_with("sqlite:") {
            Ok(Backend::Sqlite)
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Ok(Backend::Postgres)
        } else {
            Err(StoreError::Config(format!(
                "unsupported database URL scheme in {url:?}: sqlite: or postgres: expected"
            )))
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }

    /// Statement that starts a write transaction. SQLite takes the write lock up front so a
    /// transaction never fails half-way with SQLITE_BUSY when it upgrades from reading to writing.
    fn begin_write_sql(self) -> &'static str {
        match self {
            Backend::Sqlite => "BEGIN IMMEDIATE",
            Backend::Postgres => "BEGIN",
        }
    }

    /// Appended to a SELECT that reads rows the transaction will update: PostgreSQL locks them, SQLite's one
    /// writer needs nothing. `FOR NO KEY UPDATE` (what an UPDATE of a non-key column takes) and not `FOR
    /// UPDATE`: keys never change, so the rows must not block the key-share lock another transaction's foreign
    /// key check takes on them — with `FOR UPDATE` a movement batch holding its account and a payment sent
    /// straight back (its order row references that account) deadlocked over the county's money figures.
    fn row_lock_suffix(self) -> &'static str {
        match self {
            Backend::Sqlite => "",
            Backend::Postgres => " FOR NO KEY UPDATE",
        }
    }

    /// Appended to the SELECT of a claim (the rows a background job takes for itself): PostgreSQL locks them
    /// and passes over rows another claim holds, so two servers never take the same row and never wait on
    /// each other; SQLite's one writer needs nothing.
    fn claim_suffix(self) -> &'static str {
        match self {
            Backend::Sqlite => "",
            Backend::Postgres => " FOR NO KEY UPDATE SKIP LOCKED",
        }
    }

    /// Appended to a SELECT of rows whose state the transaction's decision rests on but which it does not
    /// change (an institution's list status when an order is placed or paid): PostgreSQL holds them against a
    /// concurrent row lock (a black-listing) until commit; SQLite's one writer needs nothing.
    fn share_lock_suffix(self) -> &'static str {
        match self {
            Backend::Sqlite => "",
            Backend::Postgres => " FOR SHARE",
        }
    }

    /// Serializes audit-log appends across PostgreSQL sessions (SQLite has one writer already).
    fn lock_audit_chain_sql(self) -> Option<&'static str> {
        match self {
            Backend::Sqlite => None,
            Backend::Postgres => Some("SELECT pg_advisory_xact_lock(7041100)"),
        }
    }
}

/// The database handle shared by the whole process.
#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    write_gate: Option<Arc<Mutex<()>>>,
    crypto: Arc<dyn Crypto>,
    /// Ledger accounts known to exist (they are never deleted): the shared ones — clearing, settlement —
    /// that many transactions post to, so opening one again costs nothing (see
    /// [`Ledger::insert_ledger_accounts`]). One per order escrow would grow without bound, so those are not
    /// kept.
    known_ledger_accounts: Arc<std::sync::Mutex<std::collections::HashSet<String>>>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("backend", &self.backend)
            .finish_non_exhaustive()
    }
}

/// The SQLite URL for the database file inside a data directory.
pub fn sqlite_url_in(data_dir: &Path) -> String {
    format!(
        "sqlite://{}?mode=rwc",
        data_dir.join("xiaowai.sqlite3").display()
    )
}

impl Store {
    /// Connects to `url` (`sqlite://…` or `postgres://…`). Does not migrate; see [`Store::migrate`].
    pub async fn connect(url: &str, crypto: Arc<dyn Crypto>) -> Result<Store, StoreError> {
        install_default_drivers();
        let backend = Backend::from_url(url)?;
        let options = AnyPoolOptions::new().acquire_timeout(Duration::from_secs(10));
        let pool = match backend {
            Backend::Sqlite => {
                options
                    .max_connections(8)
                    .after_connect(|conn, _| {
                        Box::pin(async move {
                            conn.execute(
                                "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
                                 PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 10000; \
                                 PRAGMA cache_size = -65536; PRAGMA temp_store = MEMORY;",
                            )
                            .await?;
                            Ok(())
                        })
                    })
                    .connect(url)
                    .await?
            }
            Backend::Postgres => options.max_connections(16).connect(url).await?,
        };
        let write_gate = (backend == Backend::Sqlite).then(|| Arc::new(Mutex::new(())));
        Ok(Store {
            pool,
            backend,
            write_gate,
            crypto,
            known_ledger_accounts: Arc::default(),
        })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub fn crypto(&self) -> &dyn Crypto {
        &*self.crypto
    }

    /// Applies the embedded migrations of this backend, then loads reference data that changed.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        let migrator = match self.backend {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        };
        migrator
            .run(&self.pool)
            .await
            .map_err(|e| StoreError::Migrate(e.to_string()))?;
        self.pin_crypto_suite().await?;
        reference::load_regions(self).await?;
        // Data older than the dashboard rollups (or bulk-loaded around them) is counted once.
        let mut tx = self.begin_write().await?;
        if tx.dashboard().dashboard_rollups_missing().await? {
            tx.dashboard().rebuild_dashboard_rollups().await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Records the crypto suite on first start and refuses another one later: the audit chain and every
    /// sealed value of a database are made with one suite.
    async fn pin_crypto_suite(&self) -> Result<(), StoreError> {
        let suite = self.crypto.suite_name();
        let mut tx = self.begin_write().await?;
        sqlx::query("INSERT INTO meta (key, value) VALUES ('crypto_suite', $1) ON CONFLICT (key) DO NOTHING")
            .bind(suite)
            .execute(&mut *tx.tx)
            .await?;
        let (pinned,): (String,) =
            sqlx::query_as("SELECT value FROM meta WHERE key = 'crypto_suite'")
                .fetch_one(&mut *tx.tx)
                .await?;
        tx.commit().await?;
        if pinned != suite {
            return Err(StoreError::Config(format!(
                "this database was created with the {pinned} crypto suite; it cannot be opened with {suite}"
            )));
        }
        Ok(())
    }

    /// Checks that the database answers (for `/healthz`).
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// A read-only view; reads run concurrently on the pool.
    pub fn read(&self) -> Reader<'_> {
        Reader { store: self }
    }

    /// Starts the one write transaction that a command runs in. On SQLite, waits for the write gate.
    pub async fn begin_write(&self) -> Result<WriteTx, StoreError> {
        let gate = match &self.write_gate {
            Some(gate) => Some(gate.clone().lock_owned().await),
            None => None,
        };
        let tx = self.pool.begin_with(self.backend.begin_write_sql()).await?;
        Ok(WriteTx {
            tx,
            backend: self.backend,
            crypto: self.crypto.clone(),
            pending_audit: Vec::new(),
            pending_rollups: Vec::new(),
            known_ledger_accounts: self.known_ledger_accounts.clone(),
            opened_ledger_accounts: Vec::new(),
            _gate: gate,
        })
    }

    /// The raw pool, for tests and operator tools that must reach under the repositories (for example
    /// to prove that tampering is detected). Application code never calls this.
    pub fn pool_for_tests(&self) -> &AnyPool {
        &self.pool
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// Read-only queries.
pub struct Reader<'s> {
    store: &'s Store,
}

/// One write transaction. Dropping it without [`WriteTx::commit`] rolls everything back.
pub struct WriteTx {
    tx: Transaction<'static, Any>,
    backend: Backend,
    crypto: Arc<dyn Crypto>,
    /// Evidence appended in this transaction, sealed into the audit chain at commit.
    pending_audit: Vec<ledger::NewAuditEntry>,
    /// Dashboard figures added in this transaction: (region code, day, level, delta), written at commit.
    pending_rollups: Vec<(String, String, i64, MoneyRollup)>,
    known_ledger_accounts: Arc<std::sync::Mutex<std::collections::HashSet<String>>>,
    /// Shared ledger accounts this transaction opened or found: known to exist once it commits.
    opened_ledger_accounts: Vec<String>,
    _gate: Option<OwnedMutexGuard<()>>,
}

impl WriteTx {
    /// Writes the transaction's dashboard figures, seals its evidence into the audit chain, last, then
    /// commits: the change, its figures and its evidence commit together or not at all.
    pub async fn commit(mut self) -> Result<(), StoreError> {
        self.dashboard().write_rollups().await?;
        self.seal_audit().await?;
        self.tx.commit().await?;
        if !self.opened_ledger_accounts.is_empty()
            && let Ok(mut known) = self.known_ledger_accounts.lock()
        {
            known.extend(std::mem::take(&mut self.opened_ledger_accounts));
        }
        Ok(())
    }

    /// One more than the greatest `version` in a versioned table (the risk and credit models). Inside the
    /// write transaction, so two edits cannot take the same number.
    pub(crate) async fn next_version(&mut self, table: &'static str) -> Result<i64, StoreError> {
        Ok(sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT CAST(COALESCE(MAX(version), 0) + 1 AS BIGINT) FROM {table}"
        )))
        .fetch_one(&mut *self.tx)
        .await?)
    }
}

impl Backend {
    /// `n` bind placeholders, numbered after `offset` where the backend needs numbers: for IN lists.
    ///
    /// SQLite gets anonymous `?`: sqlx asks SQLite for every parameter's name, and SQLite looks names up in
    /// a list of the statement's named parameters, which made a 7,000-parameter bulk insert quadratic (77%
    /// of seeding time went to that lookup). PostgreSQL needs `$n`.
    fn placeholders(self, offset: usize, n: usize) -> String {
        (offset + 1..=offset + n)
            .map(|i| match self {
                Backend::Sqlite => "?".to_owned(),
                Backend::Postgres => format!("${i}"),
            })
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// `WHEN … THEN …` for `n` (key, value) pairs numbered after `offset`: a CASE that maps each row's id to its
    /// new value, so one UPDATE sets a whole batch.
    fn when_then(self, offset: usize, n: usize) -> String {
        (0..n)
            .map(|i| match self {
                Backend::Sqlite => "WHEN ? THEN ?".to_owned(),
                Backend::Postgres => {
                    format!("WHEN ${} THEN ${}", offset + 2 * i + 1, offset + 2 * i + 2)
                }
            })
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// `(…), (…)` for `rows` rows of `cols` bind placeholders: multi-row VALUES.
    fn values_rows(self, rows: usize, cols: usize) -> String {
        (0..rows)
            .map(|r| format!("({})", self.placeholders(r * cols, cols)))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::Backend;

    #[test]
    fn placeholders_follow_the_dialect() {
        assert_eq!(Backend::Postgres.values_rows(2, 2), "($1, $2), ($3, $4)");
        assert_eq!(Backend::Sqlite.values_rows(2, 2), "(?, ?), (?, ?)");
        assert_eq!(Backend::Postgres.placeholders(0, 3), "$1, $2, $3");
    }
}
