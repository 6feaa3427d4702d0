//! The audit log's storage: sealing entries onto the chain inside the caller's transaction, and
//! reading them back in order for verification.

use crate::insert::{AnyQuery, InsertRow};
use crate::{Reader, StoreError, WriteTx};
use ledger::{AuditEntry, GENESIS_HASH, NewAuditEntry};
use sqlx::AssertSqlSafe;

#[derive(sqlx::FromRow)]
struct AuditRow {
    seq: i64,
    at: i64,
    actor: String,
    action: String,
    subject: String,
    schema_version: i64,
    payload: String,
    prev_hash: String,
    entry_hash: String,
}

fn entry_of(r: AuditRow) -> AuditEntry {
    AuditEntry {
        seq: r.seq,
        prev_hash: decode_hash(r.seq, &r.prev_hash),
        entry_hash: decode_hash(r.seq, &r.entry_hash),
        body: NewAuditEntry {
            at_ms: r.at,
            actor: r.actor,
            action: r.action,
            subject: r.subject,
            schema_version: i32::try_from(r.schema_version).unwrap_or(i32::MIN),
            payload: r.payload,
        },
    }
}

fn decode_hash(seq: i64, hex_str: &str) -> [u8; 32] {
    // A malformed stored hash cannot verify; an all-ones value makes the verifier name this entry.
    hex::decode(hex_str)
        .ok()
        .and_then(|v| v.try_into().ok())
        .unwrap_or_else(|| {
            tracing::warn!(seq, "audit_log row has a malformed hash");
            [0xff; 32]
        })
}

/// A sealed entry as an `audit_log` row (hashes as lowercase hex).
struct SealedRow<'e>(&'e AuditEntry);

impl InsertRow for SealedRow<'_> {
    const TABLE: &'static str = "audit_log";
    const COLUMNS: &'static str =
        "seq, at, actor, action, subject, schema_version, payload, prev_hash, entry_hash";
    fn bind<'q>(&self, q: AnyQuery<'q>) -> AnyQuery<'q> {
        let e = self.0;
        q.bind(e.seq)
            .bind(e.body.at_ms)
            .bind(e.body.actor.clone())
            .bind(e.body.action.clone())
            .bind(e.body.subject.clone())
            .bind(i64::from(e.body.schema_version))
            .bind(e.body.payload.clone())
            .bind(hex::encode(e.prev_hash))
            .bind(hex::encode(e.entry_hash))
    }
}

impl WriteTx {
    /// Adds `entries` to this transaction's evidence, in order. They are sealed into the chain when the
    /// transaction commits ([`WriteTx::commit`]), after every other write: the chain's lock is then the last
    /// lock the transaction takes, so a transaction holding it never waits for a row another one holds (taken
    /// mid-transaction, it deadlocked a payment against a movement report on PostgreSQL). Dropped with the
    /// transaction if it does not commit.
    pub async fn append_audit(&mut self, entries: Vec<NewAuditEntry>) -> Result<(), StoreError> {
        self.pending_audit.extend(entries);
        Ok(())
    }

    /// Seals the transaction's evidence into the chain, in order: the chain's head read under its lock (held
    /// until commit, so sequence order is commit order), each entry hashed onto the one before.
    pub(crate) async fn seal_audit(&mut self) -> Result<(), StoreError> {
        let entries = std::mem::take(&mut self.pending_audit);
        if entries.is_empty() {
            return Ok(());
        }
        if let Some(lock) = self.backend.lock_audit_chain_sql() {
            sqlx::query(lock).execute(&mut *self.tx).await?;
        }
        let head: Option<(i64, String)> =
            sqlx::query_as("SELECT seq, entry_hash FROM audit_log ORDER BY seq DESC LIMIT 1")
                .fetch_optional(&mut *self.tx)
                .await?;
        let (mut seq, mut prev) = match head {
            Some((s, h)) => (s, decode_hash(s, &h)),
            None => (0, GENESIS_HASH),
        };
        let mut sealed = Vec::with_capacity(entries.len());
        for e in entries {
            seq += 1;
            let entry = e.seal(&*self.crypto, seq, prev);
            prev = entry.entry_hash;
            sealed.push(entry);
        }
        let rows: Vec<SealedRow<'_>> = sealed.iter().map(SealedRow).collect();
        self.insert(&rows).await
    }
}

/// Which part of the audit log an audit administrator reads.
#[derive(Clone, Copy, Debug)]
pub enum AuditScope<'a> {
    All,
    /// Entries by or about the regulator accounts whose region starts with this prefix.
    RegulatorsUnder(&'a str),
}

impl Reader<'_> {
    /// Up to `limit` entries after `after_seq`, in sequence order.
    pub async fn audit_entries_after(
        &self,
        after_seq: i64,
        limit: i64,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        let rows: Vec<AuditRow> = sqlx::query_as(
            "SELECT seq, at, actor, action, subject, schema_version, payload, prev_hash, entry_hash \
             FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT $2",
        )
        .bind(after_seq)
        .bind(limit)
        .fetch_all(&self.store.pool)
        .await?;
        Ok(rows.into_iter().map(entry_of).collect())
    }

    /// Entries about one subject (e.g. `institution:<id>`), newest first.
    pub async fn audit_entries_about(
        &self,
        subject: &str,
        limit: i64,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        let rows: Vec<AuditRow> = sqlx::query_as(
            "SELECT seq, at, actor, action, subject, schema_version, payload, prev_hash, entry_hash \
             FROM audit_log WHERE subject = $1 ORDER BY seq DESC LIMIT $2",
        )
        .bind(subject)
        .bind(limit)
        .fetch_all(&self.store.pool)
        .await?;
        Ok(rows.into_iter().map(entry_of).collect())
    }

    /// Up to `limit` entries before `before_seq` (all when `None`), newest first, within `scope`.
    pub async fn audit_page(
        &self,
        scope: AuditScope<'_>,
        before_seq: Option<i64>,
        limit: i64,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        let (filter, prefix) = match scope {
            AuditScope::All => ("$1 = ''", String::new()),
            // By a regulator of the subtree, or about one (failed sign-ins have no actor yet).
            AuditScope::RegulatorsUnder(prefix) => (
                "(actor IN (SELECT 'regulator:' || id FROM accounts WHERE kind = 'regulator' AND region_code LIKE $1) \
                 OR subject IN (SELECT 'account:' || id FROM accounts WHERE kind = 'regulator' AND region_code LIKE $1))",
                format!("{prefix}%"),
            ),
        };
        let sql = format!(
            "SELECT seq, at, actor, action, subject, schema_version, payload, prev_hash, entry_hash \
             FROM audit_log WHERE {filter} AND seq < $2 ORDER BY seq DESC LIMIT $3"
        );
        let rows: Vec<AuditRow> = sqlx::query_as(AssertSqlSafe(sql))
            .bind(prefix)
            .bind(before_seq.unwrap_or(i64::MAX))
            .bind(limit)
            .fetch_all(&self.store.pool)
            .await?;
        Ok(rows.into_iter().map(entry_of).collect())
    }

    /// How many entries the log holds.
    pub async fn audit_count(&self) -> Result<i64, StoreError> {
        let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM audit_log")
            .fetch_one(&self.store.pool)
            .await?;
        Ok(n)
    }
}
