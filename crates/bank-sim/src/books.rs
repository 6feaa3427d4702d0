//! The bank's books, in its own SQLite file: balances, every line booked, the instructions it received and what
//! it did with them, its reference counter and its outbox of messages to the platform. Every booking writes
//! the money and the messages that tell of it in one transaction, so a bank killed at any moment either did a
//! thing and will tell of it, or did not do it; after a restart it never reuses a reference.

use anyhow::{Context, Result};
use serde_json::{Value, json};
use sqlx::sqlite::{SqliteConnectOptions, SqlitePool, SqlitePoolOptions};
use sqlx::{Row, Sqlite, Transaction};
use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;
use tokio::sync::Mutex;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS accounts (account_no TEXT PRIMARY KEY, balance_fen INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS lines (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    account_no TEXT NOT NULL,
    day TEXT NOT NULL,
    direction TEXT NOT NULL CHECK (direction IN ('in', 'out')),
    amount_fen INTEGER NOT NULL CHECK (amount_fen > 0),
    balance_after_fen INTEGER NOT NULL,
    bank_ref TEXT NOT NULL UNIQUE,
    occurred_at INTEGER NOT NULL,
    order_no TEXT,
    instruction_id TEXT,
    payment_ref TEXT
);
CREATE INDEX IF NOT EXISTS lines_by_day ON lines (day, account_no);
CREATE TABLE IF NOT EXISTS instructions (
    instruction_id TEXT PRIMARY KEY,
    body TEXT NOT NULL,
    received_at INTEGER NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('received', 'executed', 'failed')),
    result TEXT
);
CREATE TABLE IF NOT EXISTS outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    method TEXT NOT NULL,
    path TEXT NOT NULL,
    body TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
INSERT OR IGNORE INTO meta (key, value) VALUES ('reference', 0);
CREATE TABLE IF NOT EXISTS nonces (nonce TEXT PRIMARY KEY, seen_at INTEGER NOT NULL);
";

/// One message to the platform, as the outbox keeps it.
#[derive(Clone, Debug)]
pub struct Message {
    pub seq: i64,
    pub method: String,
    pub path: String,
    pub body: Value,
    pub idempotency_key: String,
    pub attempts: i64,
}

/// A message to be written to the outbox.
pub struct Outgoing {
    pub method: &'static str,
    pub path: String,
    pub body: Value,
    pub idempotency_key: String,
}

/// A line booked on an account (an inflow or an outflow).
pub struct Booking<'a> {
    pub account_no: &'a str,
    pub direction: &'static str,
    pub amount_fen: i64,
    pub occurred_at: i64,
    pub day: &'a str,
    pub order_no: Option<&'a str>,
    pub instruction_id: Option<&'a str>,
    pub payment_ref: Option<&'a str>,
}

#[derive(Clone)]
pub struct Books {
    pool: SqlitePool,
    /// SQLite has one writer: writes queue here instead of failing busy.
    gate: Arc<Mutex<()>>,
}

/// A write transaction holding the gate.
pub struct Tx<'b> {
    tx: Transaction<'static, Sqlite>,
    _gate: tokio::sync::MutexGuard<'b, ()>,
}

impl Books {
    /// Opens (creating) the books at `path`.
    pub async fn open(path: &Path) -> Result<Books> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        let options = SqliteConnectOptions::from_str(&format!("sqlite://{}", path.display()))?
            .create_if_missing(true)
            .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal)
            .synchronous(sqlx::sqlite::SqliteSynchronous::Full)
            .busy_timeout(std::time::Duration::from_secs(10));
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options)
            .await
            .with_context(|| format!("opening the bank's books at {}", path.display()))?;
        sqlx::raw_sql(SCHEMA).execute(&pool).await?;
        Ok(Books {
            pool,
            gate: Arc::default(),
        })
    }

    pub async fn begin(&self) -> Result<Tx<'_>> {
        let gate = self.gate.lock().await;
        Ok(Tx {
            tx: self.pool.begin().await?,
            _gate: gate,
        })
    }

    /// Every account's balance.
    pub async fn balances(&self) -> Result<Value> {
        let rows = sqlx::query("SELECT account_no, balance_fen FROM accounts ORDER BY account_no")
            .fetch_all(&self.pool)
            .await?;
        let mut out = serde_json::Map::new();
        for r in rows {
            out.insert(r.get("account_no"), json!(r.get::<i64, _>("balance_fen")));
        }
        Ok(Value::Object(out))
    }

    /// A repeated nonce within the books' memory is a replay; `false` then.
    pub async fn first_use_of_nonce(&self, nonce: &str, now: i64) -> Result<bool> {
        let mut tx = self.begin().await?;
        sqlx::query("DELETE FROM nonces WHERE seen_at < $1")
            .bind(now - 10 * 60_000)
            .execute(&mut *tx.tx)
            .await?;
        let fresh = sqlx::query("INSERT OR IGNORE INTO nonces (nonce, seen_at) VALUES ($1, $2)")
            .bind(nonce)
            .bind(now)
            .execute(&mut *tx.tx)
            .await?
            .rows_affected()
            == 1;
        tx.commit().await?;
        Ok(fresh)
    }

    /// An instruction received before: its result when executed or failed, `Some(None)` while it waits.
    pub async fn instruction(&self, id: &str) -> Result<Option<Option<Value>>> {
        let row = sqlx::query("SELECT status, result FROM instructions WHERE instruction_id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|r| {
            r.get::<Option<String>, _>("result")
                .and_then(|t| serde_json::from_str(&t).ok())
        }))
    }

    /// Instructions received and not executed yet, oldest first (after a restart, too).
    pub async fn waiting_instructions(&self) -> Result<Vec<(String, Value)>> {
        let rows = sqlx::query(
            "SELECT instruction_id, body FROM instructions WHERE status = 'received' ORDER BY received_at, instruction_id",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .filter_map(|r| {
                let body = serde_json::from_str(&r.get::<String, _>("body")).ok()?;
                Some((r.get("instruction_id"), body))
            })
            .collect())
    }

    /// Takes the outbox messages due at `now`, in order, leasing each for `lease_ms` so no other sender
    /// takes it meanwhile.
    pub async fn due_messages(&self, now: i64, lease_ms: i64, limit: i64) -> Result<Vec<Message>> {
        let mut tx = self.begin().await?;
        let rows = sqlx::query(
            "SELECT seq, method, path, body, idempotency_key, attempts FROM outbox \
             WHERE next_attempt_at <= $1 ORDER BY seq LIMIT $2",
        )
        .bind(now)
        .bind(limit)
        .fetch_all(&mut *tx.tx)
        .await?;
        let mut out = Vec::new();
        for r in rows {
            let seq: i64 = r.get("seq");
            sqlx::query("UPDATE outbox SET next_attempt_at = $2 WHERE seq = $1")
                .bind(seq)
                .bind(now + lease_ms)
                .execute(&mut *tx.tx)
                .await?;
            out.push(Message {
                seq,
                method: r.get("method"),
                path: r.get("path"),
                body: serde_json::from_str(&r.get::<String, _>("body"))?,
                idempotency_key: r.get("idempotency_key"),
                attempts: r.get("attempts"),
            });
        }
        tx.commit().await?;
        Ok(out)
    }

    /// The platform answered the message: it leaves the outbox.
    pub async fn delivered(&self, seq: i64) -> Result<()> {
        let mut tx = self.begin().await?;
        sqlx::query("DELETE FROM outbox WHERE seq = $1")
            .bind(seq)
            .execute(&mut *tx.tx)
            .await?;
        tx.commit().await
    }

    /// The message did not get through: tried again at `next_attempt_at`.
    pub async fn retry_later(&self, seq: i64, next_attempt_at: i64) -> Result<()> {
        let mut tx = self.begin().await?;
        sqlx::query(
            "UPDATE outbox SET attempts = attempts + 1, next_attempt_at = $2 WHERE seq = $1",
        )
        .bind(seq)
        .bind(next_attempt_at)
        .execute(&mut *tx.tx)
        .await?;
        tx.commit().await
    }

    /// Each account's statement for the China day `date`, with its lines.
    pub async fn statements(&self, date: &str) -> Result<Vec<Value>> {
        let accounts: Vec<String> =
            sqlx::query_scalar("SELECT account_no FROM accounts ORDER BY account_no")
                .fetch_all(&self.pool)
                .await?;
        let mut out = Vec::new();
        for account_no in accounts {
            let before: i64 = sqlx::query_scalar(
                "SELECT COALESCE(SUM(CASE WHEN direction = 'in' THEN amount_fen ELSE -amount_fen END), 0) \
                 FROM lines WHERE account_no = $1 AND day < $2",
            )
            .bind(&account_no)
            .bind(date)
            .fetch_one(&self.pool)
            .await?;
            let lines = sqlx::query(
                "SELECT bank_ref, direction, amount_fen, balance_after_fen, occurred_at, order_no, \
                 instruction_id, payment_ref FROM lines WHERE account_no = $1 AND day = $2 ORDER BY seq",
            )
            .bind(&account_no)
            .bind(date)
            .fetch_all(&self.pool)
            .await?;
            let sum = |dir: &str| -> i64 {
                lines
                    .iter()
                    .filter(|l| l.get::<String, _>("direction") == dir)
                    .map(|l| l.get::<i64, _>("amount_fen"))
                    .sum()
            };
            let (inflow, outflow) = (sum("in"), sum("out"));
            let entries: Vec<Value> = lines
                .iter()
                .map(|l| {
                    json!({
                        "bank_ref": l.get::<String, _>("bank_ref"),
                        "direction": l.get::<String, _>("direction"),
                        "amount_fen": l.get::<i64, _>("amount_fen"),
                        "balance_after_fen": l.get::<i64, _>("balance_after_fen"),
                        "occurred_at": l.get::<i64, _>("occurred_at"),
                        "order_no": l.get::<Option<String>, _>("order_no"),
                        "instruction_id": l.get::<Option<String>, _>("instruction_id"),
                        "payment_ref": l.get::<Option<String>, _>("payment_ref"),
                    })
                })
                .collect();
            out.push(json!({
                "account_no": account_no, "date": date, "opening_fen": before,
                "closing_fen": before + inflow - outflow, "inflow_fen": inflow, "outflow_fen": outflow,
                "movement_count": lines.len(), "entries": entries,
            }));
        }
        Ok(out)
    }
}

impl Tx<'_> {
    pub async fn commit(self) -> Result<()> {
        self.tx.commit().await?;
        Ok(())
    }

    /// The next reference under `prefix`: the counter lives in the books, so a restart never reuses one.
    pub async fn reference(&mut self, prefix: &str, day: &str) -> Result<String> {
        let n: i64 = sqlx::query_scalar(
            "UPDATE meta SET value = value + 1 WHERE key = 'reference' RETURNING value",
        )
        .fetch_one(&mut *self.tx)
        .await?;
        Ok(format!("{prefix}{}{n:08}", day.replace('-', "")))
    }

    /// The time a booking made `now` on `account_no` is stamped with: strictly after the account's last line
    /// (the bank's duty, so the platform can tell which of two reports came first).
    pub async fn booking_time(&mut self, account_no: &str, now: i64) -> Result<i64> {
        let last: Option<i64> =
            sqlx::query_scalar("SELECT MAX(occurred_at) FROM lines WHERE account_no = $1")
                .bind(account_no)
                .fetch_one(&mut *self.tx)
                .await?;
        Ok(last.map_or(now, |last| now.max(last + 1)))
    }

    /// Books a line; `None` (nothing booked) when an outflow would overdraw the account.
    pub async fn book(&mut self, b: &Booking<'_>, bank_ref: &str) -> Result<Option<i64>> {
        sqlx::query("INSERT OR IGNORE INTO accounts (account_no, balance_fen) VALUES ($1, 0)")
            .bind(b.account_no)
            .execute(&mut *self.tx)
            .await?;
        let balance: i64 =
            sqlx::query_scalar("SELECT balance_fen FROM accounts WHERE account_no = $1")
                .bind(b.account_no)
                .fetch_one(&mut *self.tx)
                .await?;
        let after = if b.direction == "in" {
            balance.checked_add(b.amount_fen)
        } else {
            balance.checked_sub(b.amount_fen).filter(|a| *a >= 0)
        };
        let Some(after) = after else {
            return Ok(None);
        };
        sqlx::query("UPDATE accounts SET balance_fen = $2 WHERE account_no = $1")
            .bind(b.account_no)
            .bind(after)
            .execute(&mut *self.tx)
            .await?;
        sqlx::query(
            "INSERT INTO lines (account_no, day, direction, amount_fen, balance_after_fen, bank_ref, occurred_at, \
             order_no, instruction_id, payment_ref) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(b.account_no)
        .bind(b.day)
        .bind(b.direction)
        .bind(b.amount_fen)
        .bind(after)
        .bind(bank_ref)
        .bind(b.occurred_at)
        .bind(b.order_no)
        .bind(b.instruction_id)
        .bind(b.payment_ref)
        .execute(&mut *self.tx)
        .await?;
        Ok(Some(after))
    }

    /// Queues messages to the platform; returns their outbox sequence numbers.
    pub async fn send(&mut self, messages: &[Outgoing], now: i64) -> Result<Vec<i64>> {
        let mut seqs = Vec::new();
        for m in messages {
            let seq: i64 = sqlx::query_scalar(
                "INSERT INTO outbox (method, path, body, idempotency_key, next_attempt_at) \
                 VALUES ($1, $2, $3, $4, $5) RETURNING seq",
            )
            .bind(m.method)
            .bind(&m.path)
            .bind(m.body.to_string())
            .bind(&m.idempotency_key)
            .bind(now)
            .fetch_one(&mut *self.tx)
            .await?;
            seqs.push(seq);
        }
        Ok(seqs)
    }

    /// Records an instruction as received (once); `false` when it was received before.
    pub async fn receive_instruction(&mut self, id: &str, body: &Value, now: i64) -> Result<bool> {
        Ok(sqlx::query(
            "INSERT OR IGNORE INTO instructions (instruction_id, body, received_at, status) \
             VALUES ($1, $2, $3, 'received')",
        )
        .bind(id)
        .bind(body.to_string())
        .bind(now)
        .execute(&mut *self.tx)
        .await?
        .rows_affected()
            == 1)
    }

    /// Marks a received instruction done with its result; `false` when another execution got there first.
    pub async fn finish_instruction(
        &mut self,
        id: &str,
        status: &str,
        result: &Value,
    ) -> Result<bool> {
        Ok(sqlx::query(
            "UPDATE instructions SET status = $2, result = $3 WHERE instruction_id = $1 AND status = 'received'",
        )
        .bind(id)
        .bind(status)
        .bind(result.to_string())
        .execute(&mut *self.tx)
        .await?
        .rows_affected()
            == 1)
    }
}
