//! Orders with their e-contracts, and everything a bank and the platform tell each other about the money:
//! endpoints, idempotent requests, instructions, movements, statements, and the risk events reconciliation
//! raises.

use crate::insert::{AnyQuery, InsertRow, insert_rows};
use crate::{Reader, StoreError, WriteTx};
use domain::{InstructionEvent, InstructionStatus, OrderStatus};
use sqlx::AnyExecutor;
use sqlx::AssertSqlSafe;

/// 订单 row.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct OrderRow {
    pub id: String,
    pub order_no: String,
    pub institution_id: String,
    pub course_id: String,
    pub parent_id: String,
    pub child_id: String,
    pub supervised_account_id: String,
    pub lessons: i64,
    pub amount_fen: i64,
    pub contract_json: String,
    pub contract_digest: String,
    #[sqlx(try_from = "String")]
    pub status: OrderStatus,
    pub created_at: i64,
    pub paid_at: Option<i64>,
    pub payment_ref: Option<String>,
    /// Set when a refund of the rest is agreed: no more lessons are taken.
    pub closed_at: Option<i64>,
    /// Set by a regulator (a complaint's money action, a run-off): confirmed lessons' fees are held.
    pub frozen_at: Option<i64>,
    pub frozen_reason: Option<String>,
    /// 预留 Σ of the order's instructions not failed (outstanding and executed): never above `amount_fen`
    /// (a CHECK), raised only by [`WriteTx::insert_instruction`]'s conditional update.
    pub instructed_fen: i64,
}

const ORDER_COLUMNS: &str = "id, order_no, institution_id, course_id, parent_id, child_id, supervised_account_id, \
     lessons, amount_fen, contract_json, contract_digest, status, created_at, paid_at, payment_ref, closed_at, \
     frozen_at, frozen_reason, instructed_fen";

impl InsertRow for OrderRow {
    const TABLE: &'static str = "orders";
    const COLUMNS: &'static str = ORDER_COLUMNS;
    fn bind<'q>(&self, q: AnyQuery<'q>) -> AnyQuery<'q> {
        q.bind(self.id.clone())
            .bind(self.order_no.clone())
            .bind(self.institution_id.clone())
            .bind(self.course_id.clone())
            .bind(self.parent_id.clone())
            .bind(self.child_id.clone())
            .bind(self.supervised_account_id.clone())
            .bind(self.lessons)
            .bind(self.amount_fen)
            .bind(self.contract_json.clone())
            .bind(self.contract_digest.clone())
            .bind(self.status.as_str())
            .bind(self.created_at)
            .bind(self.paid_at)
            .bind(self.payment_ref.clone())
            .bind(self.closed_at)
            .bind(self.frozen_at)
            .bind(self.frozen_reason.clone())
            .bind(self.instructed_fen)
    }
}

/// An order in a list, with what its escrow account holds now.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct OrderSummaryRow {
    pub id: String,
    pub order_no: String,
    pub institution_id: String,
    pub institution_name: String,
    pub course_name: String,
    pub lessons: i64,
    pub amount_fen: i64,

    #[sqlx(try_from = "String")]
    pub status: domain::OrderStatus,
    pub created_at: i64,
    pub paid_at: Option<i64>,
    pub closed_at: Option<i64>,
    /// Paid in minus released and refunded (0 before payment).
    pub escrow_fen: i64,
    pub released_fen: i64,
    pub refunded_fen: i64,
}

const SUMMARY_SELECT: &str = "SELECT o.id, o.order_no, o.institution_id, i.name AS institution_name, \
     c.name AS course_name, o.lessons, o.amount_fen, o.status, o.created_at, o.paid_at, o.closed_at, \
     CAST(COALESCE(e.credits_posted - e.debits_posted, 0) AS BIGINT) AS escrow_fen, \
     CAST(COALESCE((SELECT SUM(t.amount) FROM ledger_transfers t WHERE t.debit_account = e.id AND t.code = 2), 0) AS BIGINT) AS released_fen, \
     CAST(COALESCE((SELECT SUM(t.amount) FROM ledger_transfers t WHERE t.debit_account = e.id AND t.code = 3), 0) AS BIGINT) AS refunded_fen \
     FROM orders o JOIN institutions i ON i.id = o.institution_id JOIN courses c ON c.id = o.course_id \
     LEFT JOIN ledger_accounts e ON e.id = 'escrow:' || o.id";

/// Where a bank takes instructions and offers its checkout page.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct BankEndpointRow {
    pub bank_id: String,
    pub instruction_url: String,
    pub checkout_url: String,
    pub updated_at: i64,
}

/// A client's mutation, answered once.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct IdempotentRequestRow {
    pub client_key_id: String,
    pub idempotency_key: String,
    pub request_digest: String,
    pub status: i64,
    pub response_json: String,
    pub recorded_at: i64,
}

impl InsertRow for IdempotentRequestRow {
    const TABLE: &'static str = "idempotent_requests";
    const COLUMNS: &'static str =
        "client_key_id, idempotency_key, request_digest, status, response_json, recorded_at";
    const ON_CONFLICT: &'static str = " ON CONFLICT (client_key_id, idempotency_key) DO NOTHING";
    fn bind<'q>(&self, q: AnyQuery<'q>) -> AnyQuery<'q> {
        q.bind(self.client_key_id.clone())
            .bind(self.idempotency_key.clone())
            .bind(self.request_digest.clone())
            .bind(self.status)
            .bind(self.response_json.clone())
            .bind(self.recorded_at)
    }
}

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

/// 动账 row.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct MovementRow {
    pub id: String,
    pub supervised_account_id: String,
    pub bank_ref: String,
    /// `in` or `out`.
    pub direction: String,
    pub amount_fen: i64,
    pub balance_after_fen: i64,
    pub occurred_at: i64,
    pub instruction_id: Option<String>,
    pub order_no: Option<String>,
    /// `inflow`, `matched` or `unmatched`.
    pub matched: String,
    pub received_at: i64,
}

const MOVEMENT_COLUMNS: &str = "id, supervised_account_id, bank_ref, direction, amount_fen, balance_after_fen, \
     occurred_at, instruction_id, order_no, matched, received_at";

impl InsertRow for MovementRow {
    const TABLE: &'static str = "bank_movements";
    const COLUMNS: &'static str = MOVEMENT_COLUMNS;
    const ON_CONFLICT: &'static str = " ON CONFLICT (supervised_account_id, bank_ref) DO NOTHING";
    fn bind<'q>(&self, q: AnyQuery<'q>) -> AnyQuery<'q> {
        q.bind(self.id.clone())
            .bind(self.supervised_account_id.clone())
            .bind(self.bank_ref.clone())
            .bind(self.direction.clone())
            .bind(self.amount_fen)
            .bind(self.balance_after_fen)
            .bind(self.occurred_at)
            .bind(self.instruction_id.clone())
            .bind(self.order_no.clone())
            .bind(self.matched.clone())
            .bind(self.received_at)
    }
}

/// 对账单 row.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct StatementRow {
    pub supervised_account_id: String,
    pub statement_date: String,
    pub opening_fen: i64,
    pub closing_fen: i64,
    pub inflow_fen: i64,
    pub outflow_fen: i64,
    pub movement_count: i64,
    pub received_at: i64,
}

impl InsertRow for StatementRow {
    const TABLE: &'static str = "bank_statements";
    const COLUMNS: &'static str = "supervised_account_id, statement_date, opening_fen, closing_fen, inflow_fen, \
         outflow_fen, movement_count, received_at";
    const ON_CONFLICT: &'static str =
        " ON CONFLICT (supervised_account_id, statement_date) DO NOTHING";
    fn bind<'q>(&self, q: AnyQuery<'q>) -> AnyQuery<'q> {
        q.bind(self.supervised_account_id.clone())
            .bind(self.statement_date.clone())
            .bind(self.opening_fen)
            .bind(self.closing_fen)
            .bind(self.inflow_fen)
            .bind(self.outflow_fen)
            .bind(self.movement_count)
            .bind(self.received_at)
    }
}

/// 风险事件 row.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct RiskEventRow {
    pub id: String,
    pub institution_id: String,
    pub supervised_account_id: Option<String>,
    pub kind: String,
    /// `yellow`, `orange` or `red`.
    pub level: String,
    pub detail_json: String,
    pub raised_at: i64,
}

const RISK_COLUMNS: &str =
    "id, institution_id, supervised_account_id, kind, level, detail_json, raised_at";

impl InsertRow for RiskEventRow {
    const TABLE: &'static str = "risk_events";
    const COLUMNS: &'static str = RISK_COLUMNS;
    /// Sweeps give their events ids derived from what they found, so a repeated sweep raises nothing new.
    const ON_CONFLICT: &'static str = " ON CONFLICT (id) DO NOTHING";
    fn bind<'q>(&self, q: AnyQuery<'q>) -> AnyQuery<'q> {
        q.bind(self.id.clone())
            .bind(self.institution_id.clone())
            .bind(self.supervised_account_id.clone())
            .bind(self.kind.clone())
            .bind(self.level.clone())
            .bind(self.detail_json.clone())
            .bind(self.raised_at)
    }
}

impl Reader<'_> {
    pub async fn order(&self, id: &str) -> Result<Option<OrderRow>, StoreError> {
        fetch_order(&self.store.pool, id).await
    }

    /// A parent's orders, or an institution's, newest first, with their escrow.
    pub async fn order_summaries(
        &self,
        parent_id: Option<&str>,
        institution_id: Option<&str>,
        limit: i64,
    ) -> Result<Vec<OrderSummaryRow>, StoreError> {
        let sql = format!(
            "{SUMMARY_SELECT} WHERE ($1 IS NULL OR o.parent_id = $1) AND ($2 IS NULL OR o.institution_id = $2) \
             ORDER BY o.created_at DESC, o.id DESC LIMIT $3"
        );
        Ok(sqlx::query_as(AssertSqlSafe(sql))
            .bind(parent_id.map(str::to_owned))
            .bind(institution_id.map(str::to_owned))
            .bind(limit)
            .fetch_all(&self.store.pool)
            .await?)
    }

    pub async fn order_summary(&self, id: &str) -> Result<Option<OrderSummaryRow>, StoreError> {
        let sql = format!("{SUMMARY_SELECT} WHERE o.id = $1");
        Ok(sqlx::query_as(AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(&self.store.pool)
            .await?)
    }

    /// Σ escrow of the orders paid into a supervised account: what the bank must hold for them.
    pub async fn escrow_owed(&self, supervised_account_id: &str) -> Result<i64, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT CAST(COALESCE(SUM(credits_posted - debits_posted), 0) AS BIGINT) FROM ledger_accounts \
             WHERE owner = $1 AND kind = 'order_escrow'",
        )
        .bind(supervised_account_id)
        .fetch_one(&self.store.pool)
        .await?)
    }

    pub async fn bank_endpoint(
        &self,
        bank_id: &str,
    ) -> Result<Option<BankEndpointRow>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT bank_id, instruction_url, checkout_url, updated_at FROM bank_endpoints WHERE bank_id = $1",
        )
        .bind(bank_id)
        .fetch_optional(&self.store.pool)
        .await?)
    }

    pub async fn idempotent_request(
        &self,
        client_key_id: &str,
        key: &str,
    ) -> Result<Option<IdempotentRequestRow>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT client_key_id, idempotency_key, request_digest, status, response_json, recorded_at \
             FROM idempotent_requests WHERE client_key_id = $1 AND idempotency_key = $2",
        )
        .bind(client_key_id)
        .bind(key)
        .fetch_optional(&self.store.pool)
        .await?)
    }

    /// Instructions due for delivery, or (acknowledged without a result) for asking again.
    pub async fn due_instructions(
        &self,
        now: i64,
        limit: i64,
    ) -> Result<Vec<InstructionRow>, StoreError> {
        let sql = format!(
            "SELECT {INSTRUCTION_COLUMNS} FROM bank_instructions WHERE status IN ('pending', 'acknowledged') \
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

    pub async fn instruction(&self, id: &str) -> Result<Option<InstructionRow>, StoreError> {
        fetch_instruction(&self.store.pool, id).await
    }

    /// Daily batches due for delivery, or (acknowledged without a result) for asking again.
    pub async fn due_batches(
        &self,
        now: i64,
        limit: i64,
    ) -> Result<Vec<ReleaseBatchRow>, StoreError> {
        let sql = format!(
            "SELECT {BATCH_COLUMNS} FROM release_batches WHERE status IN ('pending', 'acknowledged') \
             AND next_attempt_at <= $1 ORDER BY next_attempt_at, id LIMIT $2"
        );
        Ok(sqlx::query_as(AssertSqlSafe(sql))
            .bind(now)
            .bind(limit)
            .fetch_all(&self.store.pool)
            .await?)
    }

    pub async fn release_batch(&self, id: &str) -> Result<Option<ReleaseBatchRow>, StoreError> {
        fetch_release_batch(&self.store.pool, id).await
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
    pub async fn batch_items(
        &self,
        batch_id: &str,
    ) -> Result<Vec<(InstructionRow, String)>, StoreError> {
        let sql = format!(
            "SELECT {INSTRUCTION_COLUMNS} FROM bank_instructions WHERE batch_id = $1 ORDER BY created_at, id"
        );
        let rows: Vec<InstructionRow> = sqlx::query_as(AssertSqlSafe(sql))
            .bind(batch_id)
            .fetch_all(&self.store.pool)
            .await?;
        let order_nos: Vec<String> = sqlx::query_scalar(
            "SELECT o.order_no FROM bank_instructions i JOIN orders o ON o.id = i.order_id \
             WHERE i.batch_id = $1 ORDER BY i.created_at, i.id",
        )
        .bind(batch_id)
        .fetch_all(&self.store.pool)
        .await?;
        Ok(rows.into_iter().zip(order_nos).collect())
    }

    /// A supervised account's movements, newest first.
    pub async fn movements_of(
        &self,
        supervised_account_id: &str,
        limit: i64,
    ) -> Result<Vec<MovementRow>, StoreError> {
        let sql = format!(
            "SELECT {MOVEMENT_COLUMNS} FROM bank_movements WHERE supervised_account_id = $1 \
             ORDER BY occurred_at DESC, id DESC LIMIT $2"
        );
        Ok(sqlx::query_as(AssertSqlSafe(sql))
            .bind(supervised_account_id)
            .bind(limit)
            .fetch_all(&self.store.pool)
            .await?)
    }

    /// Confirmed supervised accounts with no statement for `date`.
    pub async fn accounts_missing_statement(
        &self,
        date: &str,
    ) -> Result<Vec<crate::SupervisedAccountRow>, StoreError> {
        let sql = format!(
            "SELECT {} FROM supervised_accounts a WHERE a.status = 'confirmed' AND NOT EXISTS \
             (SELECT 1 FROM bank_statements s WHERE s.supervised_account_id = a.id AND s.statement_date = $1) \
             ORDER BY a.id",
            crate::funds::QUALIFIED_COLUMNS
        );
        Ok(sqlx::query_as(AssertSqlSafe(sql))
            .bind(date)
            .fetch_all(&self.store.pool)
            .await?)
    }

    /// An institution's risk events (or everyone's), newest first.
    pub async fn risk_events(
        &self,
        institution_id: Option<&str>,
        limit: i64,
    ) -> Result<Vec<RiskEventRow>, StoreError> {
        let sql = format!(
            "SELECT {RISK_COLUMNS} FROM risk_events WHERE ($1 IS NULL OR institution_id = $1) \
             ORDER BY raised_at DESC, id DESC LIMIT $2"
        );
        Ok(sqlx::query_as(AssertSqlSafe(sql))
            .bind(institution_id.map(str::to_owned))
            .bind(limit)
            .fetch_all(&self.store.pool)
            .await?)
    }
}

impl WriteTx {
    pub async fn insert_order(&mut self, row: &OrderRow) -> Result<(), StoreError> {
        insert_rows(&mut self.tx, self.backend, std::slice::from_ref(row)).await
    }

    pub async fn order_by_no(&mut self, order_no: &str) -> Result<Option<OrderRow>, StoreError> {
        let sql = format!("SELECT {ORDER_COLUMNS} FROM orders WHERE order_no = $1");
        Ok(sqlx::query_as(AssertSqlSafe(sql))
            .bind(order_no)
            .fetch_optional(&mut *self.tx)
            .await?)
    }

    pub async fn order(&mut self, id: &str) -> Result<Option<OrderRow>, StoreError> {
        fetch_order(&mut *self.tx, id).await
    }

    /// The order, locked until the transaction ends: every command on an order's lessons or money takes this
    /// first, so two of them on one order run one after the other (PostgreSQL; SQLite has one writer).
    pub async fn order_for_update(&mut self, id: &str) -> Result<Option<OrderRow>, StoreError> {
        let sql = format!(
            "SELECT {ORDER_COLUMNS} FROM orders WHERE id = $1{}",
            self.backend.row_lock_suffix()
        );
        Ok(sqlx::query_as(AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(&mut *self.tx)
            .await?)
    }

    /// An institution's paid orders not yet closed, locked (in id order, as every multi-order lock is taken).
    pub async fn open_paid_orders_of(
        &mut self,
        institution_id: &str,
    ) -> Result<Vec<OrderRow>, StoreError> {
        let sql = format!(
            "SELECT {ORDER_COLUMNS} FROM orders WHERE institution_id = $1 AND status = 'paid' AND closed_at IS NULL \
             ORDER BY id{}",
            self.backend.row_lock_suffix()
        );
        Ok(sqlx::query_as(AssertSqlSafe(sql))
            .bind(institution_id)
            .fetch_all(&mut *self.tx)
            .await?)
    }

    /// Freezes open orders' releases (those already frozen keep their first reason); returns how many.
    pub async fn freeze_orders(
        &mut self,
        ids: &[String],
        reason: &str,
        at: i64,
    ) -> Result<u64, StoreError> {
        let mut frozen = 0;
        for id in ids {
            frozen += sqlx::query(
                "UPDATE orders SET frozen_at = $2, frozen_reason = $3 WHERE id = $1 AND frozen_at IS NULL",
            )
            .bind(id.clone())
            .bind(at)
            .bind(reason)
            .execute(&mut *self.tx)
            .await?
            .rows_affected();
        }
        Ok(frozen)
    }

    pub async fn close_order(&mut self, id: &str, at: i64) -> Result<(), StoreError> {
        sqlx::query("UPDATE orders SET closed_at = $2 WHERE id = $1 AND closed_at IS NULL")
            .bind(id)
            .bind(at)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    /// Sets the price an order awaiting payment is to be paid at, with its contract rewritten (0 rows when it
    /// was not awaiting payment).
    pub async fn reprice_order(
        &mut self,
        id: &str,
        amount_fen: i64,
        contract_json: &str,
        contract_digest: &str,
    ) -> Result<u64, StoreError> {
        Ok(sqlx::query(
            "UPDATE orders SET amount_fen = $2, contract_json = $3, contract_digest = $4 \
             WHERE id = $1 AND status = 'awaiting_payment'",
        )
        .bind(id)
        .bind(amount_fen)
        .bind(contract_json)
        .bind(contract_digest)
        .execute(&mut *self.tx)
        .await?
        .rows_affected())
    }

    /// Marks an order awaiting payment as paid (0 rows when it was not awaiting payment).
    pub async fn mark_order_paid(
        &mut self,
        id: &str,
        payment_ref: &str,
        at: i64,
    ) -> Result<u64, StoreError> {
        let done = sqlx::query(
            "UPDATE orders SET status = 'paid', payment_ref = $2, paid_at = $3 \
             WHERE id = $1 AND status = 'awaiting_payment'",
        )
        .bind(id)
        .bind(payment_ref)
        .bind(at)
        .execute(&mut *self.tx)
        .await?;
        Ok(done.rows_affected())
    }

    pub async fn upsert_bank_endpoint(&mut self, row: &BankEndpointRow) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO bank_endpoints (bank_id, instruction_url, checkout_url, updated_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (bank_id) DO UPDATE SET instruction_url = excluded.instruction_url, \
             checkout_url = excluded.checkout_url, updated_at = excluded.updated_at",
        )
        .bind(row.bank_id.clone())
        .bind(row.instruction_url.clone())
        .bind(row.checkout_url.clone())
        .bind(row.updated_at)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    /// Records an answer; a concurrent first answer under the same key wins.
    pub async fn record_idempotent_request(
        &mut self,
        row: &IdempotentRequestRow,
    ) -> Result<(), StoreError> {
        insert_rows(&mut self.tx, self.backend, std::slice::from_ref(row)).await
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
        insert_rows(&mut self.tx, self.backend, std::slice::from_ref(row)).await?;
        Ok(true)
    }

    pub async fn instruction(&mut self, id: &str) -> Result<Option<InstructionRow>, StoreError> {
        fetch_instruction(&mut *self.tx, id).await
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
        let sql = format!(
            "UPDATE {} SET attempts = attempts + 1, next_attempt_at = $3, last_error = $4, \
             status = CASE WHEN $2 IS NULL THEN status ELSE 'acknowledged' END, \
             acknowledged_at = COALESCE(acknowledged_at, $2) WHERE id = $1 AND status IN ('pending', 'acknowledged')",
            which.table()
        );
        sqlx::query(AssertSqlSafe(sql))
            .bind(id)
            .bind(acknowledged_at)
            .bind(next_attempt_at)
            .bind(error.map(str::to_owned))
            .execute(&mut *self.tx)
            .await?;
        if let (Instructed::Batch, Some(at)) = (which, acknowledged_at) {
            sqlx::query(
                "UPDATE bank_instructions SET status = 'acknowledged', acknowledged_at = $2 \
                 WHERE batch_id = $1 AND status = 'pending'",
            )
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
        insert_rows(&mut self.tx, self.backend, std::slice::from_ref(row)).await
    }

    pub async fn release_batch(&mut self, id: &str) -> Result<Option<ReleaseBatchRow>, StoreError> {
        fetch_release_batch(&mut *self.tx, id).await
    }

    /// The releases a batch carries.
    pub async fn batch_items(&mut self, batch_id: &str) -> Result<Vec<InstructionRow>, StoreError> {
        let sql = format!(
            "SELECT {INSTRUCTION_COLUMNS} FROM bank_instructions WHERE batch_id = $1 ORDER BY created_at, id"
        );
        Ok(sqlx::query_as(AssertSqlSafe(sql))
            .bind(batch_id)
            .fetch_all(&mut *self.tx)
            .await?)
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

    /// Records a movement once per bank reference; `false` when it was already recorded.
    pub async fn insert_movement(&mut self, row: &MovementRow) -> Result<bool, StoreError> {
        let sql = format!(
            "INSERT INTO bank_movements ({MOVEMENT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) \
             ON CONFLICT (supervised_account_id, bank_ref) DO NOTHING"
        );
        let done = row
            .bind(sqlx::query(AssertSqlSafe(sql)))
            .execute(&mut *self.tx)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    pub async fn movement(
        &mut self,
        supervised_account_id: &str,
        bank_ref: &str,
    ) -> Result<Option<MovementRow>, StoreError> {
        let sql = format!(
            "SELECT {MOVEMENT_COLUMNS} FROM bank_movements WHERE supervised_account_id = $1 AND bank_ref = $2"
        );
        Ok(sqlx::query_as(AssertSqlSafe(sql))
            .bind(supervised_account_id)
            .bind(bank_ref)
            .fetch_optional(&mut *self.tx)
            .await?)
    }

    /// Whether an outflow was already matched to this instruction (or daily batch).
    pub async fn instruction_has_outflow(
        &mut self,
        instruction_id: &str,
    ) -> Result<bool, StoreError> {
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM bank_movements WHERE instruction_id = $1 AND matched = 'matched'",
        )
        .bind(instruction_id)
        .fetch_one(&mut *self.tx)
        .await?;
        Ok(n > 0)
    }

    /// Keeps the bank's latest reported balance: a report older (by the bank's time) than the one kept is
    /// ignored, so reordered reports cannot roll the balance back. `true` when this one is the latest.
    pub async fn set_reported_balance(
        &mut self,
        supervised_account_id: &str,
        balance_fen: i64,
        occurred_at: i64,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE supervised_accounts SET reported_balance_fen = $2, reported_at = $3 \
             WHERE id = $1 AND (reported_at IS NULL OR reported_at <= $3)",
        )
        .bind(supervised_account_id)
        .bind(balance_fen)
        .bind(occurred_at)
        .execute(&mut *self.tx)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    pub async fn set_reconciled(
        &mut self,
        supervised_account_id: &str,
        at: i64,
    ) -> Result<(), StoreError> {
        sqlx::query("UPDATE supervised_accounts SET reconciled_at = $2 WHERE id = $1")
            .bind(supervised_account_id)
            .bind(at)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    /// The orders on these accounts the bank took money for after `after` (its own time): (account id, the
    /// bank's time of the payment, what the order holds now less its instructions in flight). A balance the
    /// bank reports as of an earlier moment did not hold them yet.
    pub async fn payments_after(
        &mut self,
        account_ids: &[String],
        after: i64,
    ) -> Result<Vec<(String, i64, i64)>, StoreError> {
        let mut out = Vec::new();
        for chunk in account_ids.chunks(500) {
            let sql = format!(
                "SELECT o.supervised_account_id, o.bank_paid_at, \
                 CAST(COALESCE(e.credits_posted - e.debits_posted, 0) - COALESCE((SELECT SUM(i.amount_fen) \
                 FROM bank_instructions i WHERE i.order_id = o.id AND i.status IN ('pending', 'acknowledged')), 0) \
                 AS BIGINT) FROM orders o LEFT JOIN ledger_accounts e ON e.id = 'escrow:' || o.id \
                 WHERE o.supervised_account_id IN ({}) AND o.status = 'paid' AND o.bank_paid_at > {}",
                self.backend.placeholders(0, chunk.len()),
                match self.backend {
                    crate::Backend::Sqlite => "?".to_owned(),
                    crate::Backend::Postgres => format!("${}", chunk.len() + 1),
                }
            );
            let mut q = sqlx::query_as(AssertSqlSafe(sql));
            for id in chunk {
                q = q.bind(id.clone());
            }
            out.extend(q.bind(after).fetch_all(&mut *self.tx).await?);
        }
        Ok(out)
    }

    /// Inflow, outflow and count of the movements the bank reported for `[from, to)` (its time).
    pub async fn movement_totals(
        &mut self,
        supervised_account_id: &str,
        from: i64,
        to: i64,
    ) -> Result<(i64, i64, i64), StoreError> {
        Ok(sqlx::query_as(
            "SELECT CAST(COALESCE(SUM(CASE WHEN direction = 'in' THEN amount_fen ELSE 0 END), 0) AS BIGINT), \
             CAST(COALESCE(SUM(CASE WHEN direction = 'out' THEN amount_fen ELSE 0 END), 0) AS BIGINT), COUNT(*) \
             FROM bank_movements WHERE supervised_account_id = $1 AND occurred_at >= $2 AND occurred_at < $3",
        )
        .bind(supervised_account_id)
        .bind(from)
        .bind(to)
        .fetch_one(&mut *self.tx)
        .await?)
    }

    /// Records a statement once per account and date; `false` when one was already recorded.
    pub async fn insert_statement(&mut self, row: &StatementRow) -> Result<bool, StoreError> {
        let before: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM bank_statements WHERE supervised_account_id = $1 AND statement_date = $2",
        )
        .bind(row.supervised_account_id.clone())
        .bind(row.statement_date.clone())
        .fetch_one(&mut *self.tx)
        .await?;
        if before > 0 {
            return Ok(false);
        }
        insert_rows(&mut self.tx, self.backend, std::slice::from_ref(row)).await?;
        Ok(true)
    }

    pub async fn risk_event_exists(&mut self, id: &str) -> Result<bool, StoreError> {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM risk_events WHERE id = $1")
            .bind(id)
            .fetch_one(&mut *self.tx)
            .await?;
        Ok(n > 0)
    }

    pub async fn insert_risk_events(&mut self, rows: &[RiskEventRow]) -> Result<(), StoreError> {
        insert_rows(&mut self.tx, self.backend, rows).await
    }

    pub async fn supervised_account_by_no(
        &mut self,
        bank_id: &str,
        account_no: &str,
    ) -> Result<Option<crate::SupervisedAccountRow>, StoreError> {
        let sql = format!(
            "SELECT {} FROM supervised_accounts a WHERE a.bank_id = $1 AND a.account_no = $2",
            crate::funds::QUALIFIED_COLUMNS
        );
        Ok(sqlx::query_as(AssertSqlSafe(sql))
            .bind(bank_id)
            .bind(account_no)
            .fetch_optional(&mut *self.tx)
            .await?)
    }
}

/// Bulk forms for a bank's batch of movement reports: each read once per batch, not once per report.
impl WriteTx {
    /// The bank's supervised accounts with these numbers, locked for this transaction.
    pub async fn supervised_accounts_by_no(
        &mut self,
        bank_id: &str,
        account_nos: &[String],
    ) -> Result<Vec<crate::SupervisedAccountRow>, StoreError> {
        let mut out = Vec::new();
        for chunk in account_nos.chunks(500) {
            let sql = format!(
                "SELECT {} FROM supervised_accounts a WHERE a.bank_id = {} AND a.account_no IN ({}) \
                 ORDER BY a.account_no{}",
                crate::funds::QUALIFIED_COLUMNS,
                // One placeholder style per statement, as everywhere in this file.
                self.backend.placeholders(0, 1),
                self.backend.placeholders(1, chunk.len()),
                // The batch decides on the rows' reported balances: PostgreSQL locks them, in account order
                // (SQLite has one writer at a time).
                self.backend.row_lock_suffix()
            );
            let mut q = sqlx::query_as(AssertSqlSafe(sql)).bind(bank_id.to_owned());
            for no in chunk {
                q = q.bind(no.clone());
            }
            out.extend(q.fetch_all(&mut *self.tx).await?);
        }
        Ok(out)
    }

    /// The movements already recorded under these (account id, bank reference) pairs: one seek of the unique index per pair (checked with EXPLAIN on
    /// both backends).
    pub async fn movements_by_ref(
        &mut self,
        pairs: &[(String, String)],
    ) -> Result<Vec<MovementRow>, StoreError> {
        let mut out = Vec::new();
        for chunk in pairs.chunks(200) {
            // An OR of pairs, not `(a, b) IN (VALUES …)`: SQLite plans the latter as a scan of the table.
            let pairs_sql: Vec<String> = (0..chunk.len())
                .map(|i| {
                    let p = self.backend.placeholders(2 * i, 2);
                    let (account, bank_ref) = p.split_once(", ").unwrap_or((&p, &p));
                    format!("(supervised_account_id = {account} AND bank_ref = {bank_ref})")
                })
                .collect();
            let sql = format!(
                "SELECT {MOVEMENT_COLUMNS} FROM bank_movements WHERE {}",
                pairs_sql.join(" OR ")
            );
            let mut q = sqlx::query_as(AssertSqlSafe(sql));
            for (account, bank_ref) in chunk {
                q = q.bind(account.clone()).bind(bank_ref.clone());
            }
            out.extend(q.fetch_all(&mut *self.tx).await?);
        }
        Ok(out)
    }

    /// What the bank must hold on each of these accounts now: the order escrow owed on it, less what its
    /// instructions in flight (pending or acknowledged) may already have paid out — the bank may have executed
    /// them and not said so yet, and a balance that low is no shortfall. One statement, so both sums are read
    /// from one snapshot (two, at READ COMMITTED, could count an instruction executed in between in neither).
    pub async fn must_hold_by_account(
        &mut self,
        account_ids: &[String],
    ) -> Result<Vec<(String, i64)>, StoreError> {
        let mut out = Vec::new();
        for chunk in account_ids.chunks(500) {
            let sql = format!(
                "SELECT a.id, CAST(COALESCE((SELECT SUM(e.credits_posted - e.debits_posted) FROM ledger_accounts e \
                 WHERE e.kind = 'order_escrow' AND e.owner = a.id), 0) - COALESCE((SELECT SUM(i.amount_fen) \
                 FROM bank_instructions i WHERE i.status IN ('pending', 'acknowledged') \
                 AND i.supervised_account_id = a.id), 0) AS BIGINT) FROM supervised_accounts a WHERE a.id IN ({})",
                self.backend.placeholders(0, chunk.len())
            );
            let mut q = sqlx::query_as(AssertSqlSafe(sql));
            for id in chunk {
                q = q.bind(id.clone());
            }
            out.extend(q.fetch_all(&mut *self.tx).await?);
        }
        Ok(out)
    }

    pub async fn insert_movements(&mut self, rows: &[MovementRow]) -> Result<(), StoreError> {
        insert_rows(&mut self.tx, self.backend, rows).await
    }

    /// Keeps each account's latest reported balance and time, and moves "reconciled at" to `now` for those
    /// whose latest report fitted: one statement for many accounts. Rows: (id, balance, reported at,
    /// reconciled).
    pub async fn report_balances(
        &mut self,
        rows: &[(String, i64, i64, bool)],
        now: i64,
    ) -> Result<(), StoreError> {
        for chunk in rows.chunks(300) {
            let n = chunk.len();
            let reconciled: Vec<&String> = chunk.iter().filter(|r| r.3).map(|r| &r.0).collect();
            let r = reconciled.len();
            let reconciled_set = if r == 0 {
                String::new()
            } else {
                format!(
                    ", reconciled_at = CASE id {} ELSE reconciled_at END",
                    self.backend.when_then(4 * n, r)
                )
            };
            let sql = format!(
                "UPDATE supervised_accounts SET reported_balance_fen = CASE id {} END, \
                 reported_at = CASE id {} END{reconciled_set} WHERE id IN ({})",
                self.backend.when_then(0, n),
                self.backend.when_then(2 * n, n),
                self.backend.placeholders(4 * n + 2 * r, n)
            );
            let mut q = sqlx::query(AssertSqlSafe(sql));
            for (id, balance, _, _) in chunk {
                q = q.bind(id.clone()).bind(*balance);
            }
            for (id, _, at, _) in chunk {
                q = q.bind(id.clone()).bind(*at);
            }
            for id in &reconciled {
                q = q.bind((*id).clone()).bind(now);
            }
            for (id, _, _, _) in chunk {
                q = q.bind(id.clone());
            }
            q.execute(&mut *self.tx).await?;
        }
        Ok(())
    }
}

impl Reader<'_> {
    /// The orders with these numbers.
    pub async fn orders_by_no(&self, order_nos: &[String]) -> Result<Vec<OrderRow>, StoreError> {
        let mut out = Vec::new();
        for chunk in order_nos.chunks(500) {
            let sql = format!(
                "SELECT {ORDER_COLUMNS} FROM orders WHERE order_no IN ({}) ORDER BY id",
                self.store.backend.placeholders(0, chunk.len())
            );
            let mut q = sqlx::query_as(AssertSqlSafe(sql));
            for no in chunk {
                q = q.bind(no.clone());
            }
            out.extend(q.fetch_all(&self.store.pool).await?);
        }
        Ok(out)
    }
}

/// Bulk forms for a bank's batch of payment notices.
impl WriteTx {
    /// What a batch of payment notices needs, in one statement: the orders with these numbers, and any order
    /// already paid under one of these bank references (a reused reference), all locked until the transaction
    /// ends — in id order, like every multi-order lock, so concurrent batches cannot deadlock.
    pub async fn orders_for_payment(
        &mut self,
        notices: &[(String, String)],
    ) -> Result<Vec<OrderRow>, StoreError> {
        let mut out: Vec<OrderRow> = Vec::new();
        for chunk in notices.chunks(250) {
            let n = chunk.len();
            let sql = format!(
                "SELECT {ORDER_COLUMNS} FROM orders WHERE order_no IN ({}) OR payment_ref IN ({}) ORDER BY id{}",
                self.backend.placeholders(0, n),
                self.backend.placeholders(n, n),
                self.backend.row_lock_suffix()
            );
            let mut q = sqlx::query_as(AssertSqlSafe(sql));
            for (no, _) in chunk {
                q = q.bind(no.clone());
            }
            for (_, bank_ref) in chunk {
                q = q.bind(bank_ref.clone());
            }
            let rows: Vec<OrderRow> = q.fetch_all(&mut *self.tx).await?;
            out.extend(
                rows.into_iter()
                    .filter(|r| out.iter().all(|o| o.id != r.id))
                    .collect::<Vec<_>>(),
            );
        }
        Ok(out)
    }

    /// Marks orders awaiting payment as paid, each with its bank reference and the bank's time of the payment;
    /// returns how many changed.
    pub async fn mark_orders_paid(
        &mut self,
        paid: &[(String, String, i64)],
        at: i64,
    ) -> Result<u64, StoreError> {
        let mut changed = 0;
        for chunk in paid.chunks(300) {
            let n = chunk.len();
            let refs = self.backend.when_then(0, n);
            let bank_times = self.backend.when_then(2 * n, n);
            let at_param = match self.backend {
                crate::Backend::Sqlite => "?".to_owned(),
                crate::Backend::Postgres => format!("${}", 4 * n + 1),
            };
            let sql = format!(
                "UPDATE orders SET status = 'paid', payment_ref = CASE id {refs} END, \
                 bank_paid_at = CASE id {bank_times} END, paid_at = {at_param} \
                 WHERE status = 'awaiting_payment' AND id IN ({})",
                self.backend.placeholders(4 * n + 1, n)
            );
            let mut q = sqlx::query(AssertSqlSafe(sql));
            for (id, bank_ref, _) in chunk {
                q = q.bind(id.clone()).bind(bank_ref.clone());
            }
            for (id, _, bank_paid_at) in chunk {
                q = q.bind(id.clone()).bind(*bank_paid_at);
            }
            q = q.bind(at);
            for (id, _, _) in chunk {
                q = q.bind(id.clone());
            }
            changed += q.execute(&mut *self.tx).await?.rows_affected();
        }
        Ok(changed)
    }
}

/// 转班 one transfer of an order to another class.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct ClassTransferRow {
    pub id: String,
    pub order_id: String,
    pub from_course_id: String,
    pub to_course_id: String,
    pub lessons_remaining: i64,
    pub transferred_by: String,
    pub transferred_at: i64,
}

impl Reader<'_> {
    pub async fn class_transfers(
        &self,
        order_id: &str,
    ) -> Result<Vec<ClassTransferRow>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT id, order_id, from_course_id, to_course_id, lessons_remaining, transferred_by, transferred_at \
             FROM class_transfers WHERE order_id = $1 ORDER BY transferred_at, id",
        )
        .bind(order_id)
        .fetch_all(&self.store.pool)
        .await?)
    }
}

impl WriteTx {
    /// Points the order at the new course, if it still points at the old one, and records the transfer.
    pub async fn transfer_order(&mut self, t: &ClassTransferRow) -> Result<u64, StoreError> {
        let moved =
            sqlx::query("UPDATE orders SET course_id = $2 WHERE id = $1 AND course_id = $3")
                .bind(t.order_id.clone())
                .bind(t.to_course_id.clone())
                .bind(t.from_course_id.clone())
                .execute(&mut *self.tx)
                .await?
                .rows_affected();
        if moved == 1 {
            sqlx::query(
                "INSERT INTO class_transfers (id, order_id, from_course_id, to_course_id, lessons_remaining, \
                 transferred_by, transferred_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(t.id.clone())
            .bind(t.order_id.clone())
            .bind(t.from_course_id.clone())
            .bind(t.to_course_id.clone())
            .bind(t.lessons_remaining)
            .bind(t.transferred_by.clone())
            .bind(t.transferred_at)
            .execute(&mut *self.tx)
            .await?;
        }
        Ok(moved)
    }
}

async fn fetch_instruction<'e>(
    db: impl AnyExecutor<'e>,
    id: &str,
) -> Result<Option<InstructionRow>, StoreError> {
    let sql = format!("SELECT {INSTRUCTION_COLUMNS} FROM bank_instructions WHERE id = $1");
    Ok(sqlx::query_as(AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(db)
        .await?)
}

async fn fetch_order<'e>(
    db: impl AnyExecutor<'e>,
    id: &str,
) -> Result<Option<OrderRow>, StoreError> {
    let sql = format!("SELECT {ORDER_COLUMNS} FROM orders WHERE id = $1");
    Ok(sqlx::query_as(AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(db)
        .await?)
}

async fn fetch_release_batch<'e>(
    db: impl AnyExecutor<'e>,
    id: &str,
) -> Result<Option<ReleaseBatchRow>, StoreError> {
    let sql = format!("SELECT {BATCH_COLUMNS} FROM release_batches WHERE id = $1");
    Ok(sqlx::query_as(AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(db)
        .await?)
}
