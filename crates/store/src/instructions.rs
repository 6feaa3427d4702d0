//! The platform's instructions to the banks (release, refund) and their daily batches: created, delivered,
//! acknowledged, finished.

use crate::claims::Claim;
use crate::insert::{AnyQuery, InsertRow};
use crate::{Reader, StoreError, WriteTx};
use domain::{InstructionEvent, InstructionStatus, Machine};
use sqlx::AssertSqlSafe;

crate::repository!(
    /// 资金指令 bank instructions and daily release batches.
    Instructions,
    instructions
);

/// 银行指令 row.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct InstructionRow {
    pub id: String,
    /// `release` or `refund`.
    pub kind: String,
    pub order_id: String,
    pub supervised_account_id: String,
    pub bank_id: String,
    pub amount_fen: i64,
    #[sqlx(try_from = "String")]
    pub status: InstructionStatus,
    pub attempts: i64,
    pub next_attempt_at: i64,
    pub last_error: Option<String>,
    pub created_at: i64,
    pub acknowledged_at: Option<i64>,
    pub finished_at: Option<i64>,
    pub bank_ref: Option<String>,
    pub failure_reason: Option<String>,
    /// 批量划转: the China date whose daily batch this release waits for (not delivered on its own).
    pub batch_date: Option<String>,
    /// The daily batch that carries it to the bank, once formed.
    pub batch_id: Option<String>,
}

const INSTRUCTION_COLUMNS: &str = "id, kind, order_id, supervised_account_id, bank_id, amount_fen, status, attempts, \
     next_attempt_at, last_error, created_at, acknowledged_at, finished_at, bank_ref, failure_reason, batch_date, \
     batch_id";

impl InsertRow for InstructionRow {
    const TABLE: &'static str = "bank_instructions";
    const COLUMNS: &'static str = INSTRUCTION_COLUMNS;
    fn bind<'q>(&self, q: AnyQuery<'q>) -> AnyQuery<'q> {
        q.bind(self.id.clone())
            .bind(self.kind.clone())
            .bind(self.order_id.clone())
            .bind(self.supervised_account_id.clone())
            .bind(self.bank_id.clone())
            .bind(self.amount_fen)
            .bind(self.status.as_str())
            .bind(self.attempts)
            .bind(self.next_attempt_at)
            .bind(self.last_error.clone())
            .bind(self.created_at)
            .bind(self.acknowledged_at)
            .bind(self.finished_at)
            .bind(self.bank_ref.clone())
            .bind(self.failure_reason.clone())
            .bind(self.batch_date.clone())
            .bind(self.batch_id.clone())
    }
}

/// 批量划转 one supervised account's day of releases, sent to the bank as one instruction.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct ReleaseBatchRow {
    pub id: String,
    pub supervised_account_id: String,
    pub bank_id: String,
    /// `YYYY-MM-DD`, China time: the day whose confirmations it releases.
    pub business_date: String,
    pub amount_fen: i64,
    pub item_count: i64,
    #[sqlx(try_from = "String")]
    pub status: InstructionStatus,
    pub attempts: i64,
    pub next_attempt_at: i64,
    pub last_error: Option<String>,
    pub created_at: i64,
    pub acknowledged_at: Option<i64>,
    pub finished_at: Option<i64>,
    pub bank_ref: Option<String>,
    pub failure_reason: Option<String>,
}

const BATCH_COLUMNS: &str = "id, supervised_account_id, bank_id, business_date, amount_fen, item_count, status, \
     attempts, next_attempt_at, last_error, created_at, acknowledged_at, finished_at, bank_ref, failure_reason";

impl InsertRow for ReleaseBatchRow {
    const TABLE: &'static str = "release_batches";
    const COLUMNS: &'static str = BATCH_COLUMNS;
    fn bind<'q>(&self, q: AnyQuery<'q>) -> AnyQuery<'q> {
        q.bind(self.id.clone())
            .bind(self.supervised_account_id.clone())
            .bind(self.bank_id.clone())
            .bind(self.business_date.clone())
            .bind(self.amount_fen)
            .bind(self.item_count)
            .bind(self.status.as_str())
            .bind(self.attempts)
            .bind(self.next_attempt_at)
            .bind(self.last_error.clone())
            .bind(self.created_at)
            .bind(self.acknowledged_at)
            .bind(self.finished_at)
            .bind(self.bank_ref.clone())
            .bind(self.failure_reason.clone())
    }
}

/// Where an instruction's delivery state lives: a single instruction or a daily batch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Instructed {
    Single,
    Batch,
}

impl Instructed {
    fn table(self) -> &'static str {
        match self {
            Instructed::Single => "bank_instructions",
            Instructed::Batch => "release_batches",
        }
    }
}

/// `status IN (…)` of an instruction or batch still waiting for the bank's result: the states the bank may
/// execute it from (to deliver it, or to ask again).
pub(crate) fn in_flight() -> String {
    crate::states::sql_list(InstructionStatus::sources(InstructionEvent::Execute))
}

impl Instructions<&Reader<'_>> {
    /// Instructions due for delivery, or (acknowledged without a result) for asking again.
    pub async fn due_instructions(
        &self,
        now: i64,
        limit: i64,
    ) -> Result<Vec<InstructionRow>, StoreError> {
        let in_flight = in_flight();
        let sql = format!(
            "SELECT {INSTRUCTION_COLUMNS} FROM bank_instructions WHERE status IN ({in_flight}) \
             AND next_attempt_at <= $1 AND batch_date IS NULL ORDER BY next_attempt_at, id LIMIT $2"
        );
        Ok(sqlx::query_as(AssertSqlSafe(sql))
            .bind(now)
            .bind(limit)
            .fetch_all(&self.store.pool)
            .await?)
    }

    /// Instructions and daily batches the bank acknowledged at or before `before` and has not finished:
    /// (kind of row, id, supervised account id, amount, acknowledged at).
    pub async fn unsettled_instructions(
        &self,
        before: i64,
        limit: i64,
    ) -> Result<Vec<(Instructed, String, String, i64, i64)>, StoreError> {
        let mut out = Vec::new();
        for which in [Instructed::Single, Instructed::Batch] {
            let batch_filter = match which {
                Instructed::Single => " AND batch_id IS NULL",
                Instructed::Batch => "",
            };
            let sql = format!(
                "SELECT id, supervised_account_id, amount_fen, acknowledged_at FROM {} \
                 WHERE status = 'acknowledged' AND acknowledged_at <= $1{batch_filter} \
                 ORDER BY acknowledged_at, id LIMIT $2",
                which.table()
            );
            let rows: Vec<(String, String, i64, i64)> = sqlx::query_as(AssertSqlSafe(sql))
                .bind(before)
                .bind(limit)
                .fetch_all(&self.store.pool)
                .await?;
            out.extend(
                rows.into_iter()
                    .map(|(id, a, amount, at)| (which, id, a, amount, at)),
            );
        }
        Ok(out)
    }

    pub async fn instructions_of_order(
        &self,
        order_id: &str,
    ) -> Result<Vec<InstructionRow>, StoreError> {
        let sql = format!(
            "SELECT {INSTRUCTION_COLUMNS} FROM bank_instructions WHERE order_id = $1 ORDER BY created_at, id"
        );
        Ok(sqlx::query_as(AssertSqlSafe(sql))
            .bind(order_id)
            .fetch_all(&self.store.pool)
            .await?)
    }

    /// Daily batches due for delivery, or (acknowledged without a result) for asking again.
    pub async fn due_batches(
        &self,
        now: i64,
        limit: i64,
    ) -> Result<Vec<ReleaseBatchRow>, StoreError> {
        let in_flight = in_flight();
        let sql = format!(
            "SELECT {BATCH_COLUMNS} FROM release_batches WHERE status IN ({in_flight}) \
             AND next_attempt_at <= $1 ORDER BY next_attempt_at, id LIMIT $2"
        );
        Ok(sqlx::query_as(AssertSqlSafe(sql))
            .bind(now)
            .bind(limit)
            .fetch_all(&self.store.pool)
            .await?)
    }

    /// A supervised account's daily batches, newest first.
    pub async fn batches_of_account(
        &self,
        supervised_account_id: &str,
        limit: i64,
    ) -> Result<Vec<ReleaseBatchRow>, StoreError> {
        let sql = format!(
            "SELECT {BATCH_COLUMNS} FROM release_batches WHERE supervised_account_id = $1 \
             ORDER BY created_at DESC, id DESC LIMIT $2"
        );
        Ok(sqlx::query_as(AssertSqlSafe(sql))
            .bind(supervised_account_id)
            .bind(limit)
            .fetch_all(&self.store.pool)
            .await?)
    }

    /// The releases a batch carries, with each order's number for the bank.
    pub async fn batch_items_with_order_nos(
        &self,
        batch_id: &str,
    ) -> Result<Vec<(InstructionRow, String)>, StoreError> {
        let rows = Instructions(self.0).batch_items(batch_id).await?;
        let order_nos: Vec<String> = sqlx::query_scalar(
            "SELECT o.order_no FROM bank_instructions i JOIN orders o ON o.id = i.order_id \
             WHERE i.batch_id = $1 ORDER BY i.created_at, i.id",
        )
        .bind(batch_id)
        .fetch_all(&self.store.pool)
        .await?;
        Ok(rows.into_iter().zip(order_nos).collect())
    }
}

impl Instructions<&mut WriteTx> {
    /// Claims up to `limit` instructions due at `now` (not in a daily batch) for this server until
    /// `lease_until` (`crate::claims`): the instructions it then delivers are no other server's. Oldest first.
    pub async fn claim_due_instructions(
        &mut self,
        now: i64,
        lease_until: i64,
        limit: i64,
    ) -> Result<Vec<InstructionRow>, StoreError> {
        let due = format!(
            "status IN ({}) AND next_attempt_at <= $2 AND batch_date IS NULL",
            in_flight()
        );
        let claim = Claim {
            table: "bank_instructions",
            lease_column: "next_attempt_at",
            due: &due,
            order: "next_attempt_at, id",
            columns: INSTRUCTION_COLUMNS,
        };
        let mut claimed: Vec<InstructionRow> =
            self.claim(claim, now, lease_until, limit, &[]).await?;
        claimed.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(claimed)
    }

    /// [`Instructions::claim_due_instructions`] for daily batches due for delivery or for asking again.
    pub async fn claim_due_batches(
        &mut self,
        now: i64,
        lease_until: i64,
        limit: i64,
    ) -> Result<Vec<ReleaseBatchRow>, StoreError> {
        let due = format!("status IN ({}) AND next_attempt_at <= $2", in_flight());
        let claim = Claim {
            table: "release_batches",
            lease_column: "next_attempt_at",
            due: &due,
            order: "next_attempt_at, id",
            columns: BATCH_COLUMNS,
        };
        let mut claimed: Vec<ReleaseBatchRow> =
            self.claim(claim, now, lease_until, limit, &[]).await?;
        claimed.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(claimed)
    }

    /// Reserves the instruction's amount on its paid order and records it; `false` (and nothing written) when
    /// the order's payment cannot cover it beside what its other instructions reserved. The reservation is one
    /// conditional statement, so no interleaving of two instructions can pass it together.
    pub async fn insert_instruction(&mut self, row: &InstructionRow) -> Result<bool, StoreError> {
        let reserved = sqlx::query(
            "UPDATE orders SET instructed_fen = instructed_fen + $2 \
             WHERE id = $1 AND status = 'paid' AND instructed_fen + $2 <= amount_fen",
        )
        .bind(row.order_id.clone())
        .bind(row.amount_fen)
        .execute(&mut *self.tx)
        .await?
        .rows_affected();
        if reserved != 1 {
            return Ok(false);
        }
        self.insert(std::slice::from_ref(row)).await?;
        Ok(true)
    }

    /// A delivery attempt's outcome: acknowledged (then `next_attempt_at` is when to ask again if no result
    /// comes), or tried again at `next_attempt_at`. A batch's acknowledgement is its releases' too.
    pub async fn record_delivery(
        &mut self,
        which: Instructed,
        id: &str,
        acknowledged_at: Option<i64>,
        next_attempt_at: i64,
        error: Option<&str>,
    ) -> Result<(), StoreError> {
        let (acknowledged, _) =
            crate::states::transition::<InstructionStatus>(InstructionEvent::Acknowledge);
        let sql = format!(
            "UPDATE {} SET attempts = attempts + 1, next_attempt_at = $3, last_error = $4, \
             status = CASE WHEN $2 IS NULL THEN status ELSE '{acknowledged}' END, \
             acknowledged_at = COALESCE(acknowledged_at, $2) WHERE id = $1 AND status IN ({})",
            which.table(),
            in_flight()
        );
        sqlx::query(AssertSqlSafe(sql))
            .bind(id)
            .bind(acknowledged_at)
            .bind(next_attempt_at)
            .bind(error.map(str::to_owned))
            .execute(&mut *self.tx)
            .await?;
        if let (Instructed::Batch, Some(at)) = (which, acknowledged_at) {
            let (acknowledged, pending) =
                crate::states::transition::<InstructionStatus>(InstructionEvent::Acknowledge);
            sqlx::query(AssertSqlSafe(format!(
                "UPDATE bank_instructions SET status = '{acknowledged}', acknowledged_at = $2 \
                 WHERE batch_id = $1 AND status IN ({pending})"
            )))
            .bind(id)
            .bind(at)
            .execute(&mut *self.tx)
            .await?;
        }
        Ok(())
    }

    /// The bank's result for an instruction or batch not finished yet (0 rows when it already was).
    pub async fn finish_instruction(
        &mut self,
        which: Instructed,
        id: &str,
        result: InstructionEvent,
        at: i64,
        bank_ref: Option<&str>,
        reason: Option<&str>,
    ) -> Result<u64, StoreError> {
        let (to, from) = crate::states::transition::<InstructionStatus>(result);
        let sql = format!(
            "UPDATE {} SET status = $2, finished_at = $3, bank_ref = $4, failure_reason = $5, \
             acknowledged_at = COALESCE(acknowledged_at, $3) WHERE id = $1 AND status IN ({from})",
            which.table()
        );
        let done = sqlx::query(AssertSqlSafe(sql))
            .bind(id)
            .bind(to)
            .bind(at)
            .bind(bank_ref.map(str::to_owned))
            .bind(reason.map(str::to_owned))
            .execute(&mut *self.tx)
            .await?
            .rows_affected();
        // A failed instruction moved nothing: what it reserved on its order is free again.
        if done == 1 && which == Instructed::Single && result == InstructionEvent::Fail {
            sqlx::query(
                "UPDATE orders SET instructed_fen = instructed_fen - \
                 (SELECT amount_fen FROM bank_instructions WHERE id = $1) \
                 WHERE id = (SELECT order_id FROM bank_instructions WHERE id = $1)",
            )
            .bind(id)
            .execute(&mut *self.tx)
            .await?;
        }
        Ok(done)
    }

    pub async fn insert_release_batch(&mut self, row: &ReleaseBatchRow) -> Result<(), StoreError> {
        self.insert(std::slice::from_ref(row)).await
    }

    /// Releases held for a daily batch of a day before `today` and not yet in one.
    pub async fn releases_to_batch(
        &mut self,
        today: &str,
        limit: i64,
    ) -> Result<Vec<InstructionRow>, StoreError> {
        let sql = format!(
            "SELECT {INSTRUCTION_COLUMNS} FROM bank_instructions WHERE batch_id IS NULL AND batch_date < $1 \
             AND status = 'pending' ORDER BY supervised_account_id, batch_date, created_at, id LIMIT $2"
        );
        Ok(sqlx::query_as(AssertSqlSafe(sql))
            .bind(today)
            .bind(limit)
            .fetch_all(&mut *self.tx)
            .await?)
    }

    /// Puts releases into a batch; how many were still free to join it.
    pub async fn assign_batch(
        &mut self,
        batch_id: &str,
        ids: &[String],
    ) -> Result<u64, StoreError> {
        let mut assigned = 0;
        for id in ids {
            assigned += sqlx::query(
                "UPDATE bank_instructions SET batch_id = $1 WHERE id = $2 AND batch_id IS NULL AND status = 'pending'",
            )
            .bind(batch_id)
            .bind(id.clone())
            .execute(&mut *self.tx)
            .await?
            .rows_affected();
        }
        Ok(assigned)
    }
}

impl<S: crate::Connection> Instructions<S> {
    /// The releases a batch carries, oldest first.
    pub async fn batch_items(&mut self, batch_id: &str) -> Result<Vec<InstructionRow>, StoreError> {
        let sql = format!(
            "SELECT {INSTRUCTION_COLUMNS} FROM bank_instructions WHERE batch_id = $1 ORDER BY created_at, id"
        );
        Ok(sqlx::query_as(AssertSqlSafe(sql))
            .bind(batch_id)
            .fetch_all(self.0.executor())
            .await?)
    }

    pub async fn instruction(&mut self, id: &str) -> Result<Option<InstructionRow>, StoreError> {
        let sql = format!("SELECT {INSTRUCTION_COLUMNS} FROM bank_instructions WHERE id = $1");
        Ok(sqlx::query_as(AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(self.0.executor())
            .await?)
    }

    pub async fn release_batch(&mut self, id: &str) -> Result<Option<ReleaseBatchRow>, StoreError> {
        let sql = format!("SELECT {BATCH_COLUMNS} FROM release_batches WHERE id = $1");
        Ok(sqlx::query_as(AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(self.0.executor())
            .await?)
    }
}
