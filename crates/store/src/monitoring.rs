//! 重点监测 what regulators monitor per institution: order details, supervised-fund movements, filed
//! financial statements (the staff register and the filings' history live with their own tables).

use crate::insert::{AnyQuery, InsertRow};
use crate::{Reader, StoreError, WriteTx};

crate::repository!(
    /// 监测 financial statements and monitoring figures.
    Monitoring,
    monitoring
);

/// 财务报表 one filing of an institution's statements for a period.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct FinancialStatementRow {
    pub id: String,
    pub institution_id: String,
    pub period: String,
    pub revenue_fen: i64,
    pub expenses_fen: i64,
    pub net_assets_fen: i64,
    pub prepaid_fen: i64,
    pub document_id: String,
    pub filed_by: String,
    pub filed_at: i64,
}

impl InsertRow for FinancialStatementRow {
    const TABLE: &'static str = "financial_statements";
    const COLUMNS: &'static str = "id, institution_id, period, revenue_fen, expenses_fen, net_assets_fen, \
         prepaid_fen, document_id, filed_by, filed_at";
    fn bind<'q>(&self, q: AnyQuery<'q>) -> AnyQuery<'q> {
        q.bind(self.id.clone())
            .bind(self.institution_id.clone())
            .bind(self.period.clone())
            .bind(self.revenue_fen)
            .bind(self.expenses_fen)
            .bind(self.net_assets_fen)
            .bind(self.prepaid_fen)
            .bind(self.document_id.clone())
            .bind(self.filed_by.clone())
            .bind(self.filed_at)
    }
}

/// 订单明细 an order as regulators see it: no parent or child identity, the money it holds.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct OrderDetailRow {
    pub order_no: String,
    pub course_name: String,
    pub lessons: i64,
    pub amount_fen: i64,

    #[sqlx(try_from = "String")]
    pub status: domain::OrderStatus,
    pub created_at: i64,
    pub paid_at: Option<i64>,
    pub closed_at: Option<i64>,
    pub frozen_at: Option<i64>,
    /// What the order's escrow still holds, and what left it (released and refunded).
    pub escrow_fen: i64,
    pub moved_out_fen: i64,
}

/// 监管资金动账 a movement the bank reported on one of the institution's supervised accounts.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct MovementDetailRow {
    pub account_no: String,
    pub bank_id: String,
    pub bank_ref: String,
    pub direction: String,
    pub amount_fen: i64,
    pub balance_after_fen: i64,
    pub occurred_at: i64,
    pub matched: String,
    pub instruction_id: Option<String>,
}

impl Monitoring<&Reader<'_>> {
    /// The institution's orders, newest first, at most `limit`.
    pub async fn order_details(
        &self,
        institution_id: &str,
        limit: i64,
    ) -> Result<Vec<OrderDetailRow>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT o.order_no, c.name AS course_name, o.lessons, o.amount_fen, o.status, o.created_at, \
             o.paid_at, o.closed_at, o.frozen_at, \
             CAST(COALESCE(l.credits_posted - l.debits_posted, 0) AS BIGINT) AS escrow_fen, \
             CAST(COALESCE(l.debits_posted, 0) AS BIGINT) AS moved_out_fen \
             FROM orders o JOIN courses c ON c.id = o.course_id \
             LEFT JOIN ledger_accounts l ON l.id = 'escrow:' || o.id \
             WHERE o.institution_id = $1 ORDER BY o.created_at DESC, o.order_no DESC LIMIT $2",
        )
        .bind(institution_id)
        .bind(limit)
        .fetch_all(&self.store.pool)
        .await?)
    }

    /// The movements on the institution's supervised accounts, newest first, at most `limit`.
    pub async fn movement_details(
        &self,
        institution_id: &str,
        limit: i64,
    ) -> Result<Vec<MovementDetailRow>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT s.account_no, s.bank_id, m.bank_ref, m.direction, m.amount_fen, m.balance_after_fen, \
             m.occurred_at, m.matched, m.instruction_id \
             FROM bank_movements m JOIN supervised_accounts s ON s.id = m.supervised_account_id \
             WHERE s.institution_id = $1 ORDER BY m.occurred_at DESC, m.id DESC LIMIT $2",
        )
        .bind(institution_id)
        .bind(limit)
        .fetch_all(&self.store.pool)
        .await?)
    }

    /// Every filing of the institution's financial statements, newest first.
    pub async fn financial_statements(
        &self,
        institution_id: &str,
    ) -> Result<Vec<FinancialStatementRow>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT id, institution_id, period, revenue_fen, expenses_fen, net_assets_fen, prepaid_fen, \
             document_id, filed_by, filed_at FROM financial_statements WHERE institution_id = $1 \
             ORDER BY filed_at DESC, id DESC",
        )
        .bind(institution_id)
        .fetch_all(&self.store.pool)
        .await?)
    }
}

impl Monitoring<&mut WriteTx> {
    pub async fn insert_financial_statement(
        &mut self,
        row: &FinancialStatementRow,
    ) -> Result<(), StoreError> {
        self.insert(std::slice::from_ref(row)).await
    }
}
