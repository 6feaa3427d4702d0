//! Orders with their e-contracts: placing, paying, freezing, closing, repricing and moving them to another
//! class.

use crate::insert::{AnyQuery, InsertRow};
use crate::{Reader, StoreError, WriteTx};
use domain::{OrderEvent, OrderStatus};
use sqlx::AssertSqlSafe;

crate::repository!(
    /// 订单 orders.
    Orders,
    orders
);

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
    /// (a CHECK), raised only by [`Instructions::insert_instruction`]'s conditional update.
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

impl Orders<&Reader<'_>> {
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
}

impl Orders<&mut WriteTx> {
    pub async fn insert_order(&mut self, row: &OrderRow) -> Result<(), StoreError> {
        self.insert(std::slice::from_ref(row)).await
    }

    pub async fn order_by_no(&mut self, order_no: &str) -> Result<Option<OrderRow>, StoreError> {
        let sql = format!("SELECT {ORDER_COLUMNS} FROM orders WHERE order_no = $1");
        Ok(sqlx::query_as(AssertSqlSafe(sql))
            .bind(order_no)
            .fetch_optional(&mut *self.tx)
            .await?)
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
        let (paid, unpaid) = crate::states::transition::<OrderStatus>(OrderEvent::Pay);
        let sql = format!(
            "UPDATE orders SET status = '{paid}', payment_ref = $2, paid_at = $3 \
             WHERE id = $1 AND status IN ({unpaid})"
        );
        let done = sqlx::query(AssertSqlSafe(sql))
            .bind(id)
            .bind(payment_ref)
            .bind(at)
            .execute(&mut *self.tx)
            .await?;
        Ok(done.rows_affected())
    }
}

impl Orders<&Reader<'_>> {
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
impl Orders<&mut WriteTx> {
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
            let (paid, unpaid) = crate::states::transition::<OrderStatus>(OrderEvent::Pay);
            let sql = format!(
                "UPDATE orders SET status = '{paid}', payment_ref = CASE id {refs} END, \
                 bank_paid_at = CASE id {bank_times} END, paid_at = {at_param} \
                 WHERE status IN ({unpaid}) AND id IN ({})",
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

impl Orders<&Reader<'_>> {
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

impl Orders<&mut WriteTx> {
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

impl<S: crate::Connection> Orders<S> {
    pub async fn order(&mut self, id: &str) -> Result<Option<OrderRow>, StoreError> {
        let sql = format!("SELECT {ORDER_COLUMNS} FROM orders WHERE id = $1");
        Ok(sqlx::query_as(AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(self.0.executor())
            .await?)
    }
}
