//! Supervised accounts.

use crate::insert::{AnyQuery, InsertRow};
use crate::{Reader, StoreError, WriteTx};
use sqlx::AssertSqlSafe;

crate::repository!(
    /// 监管账户 supervised accounts.
    SupervisedAccounts,
    funds
);

#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct SupervisedAccountRow {
    pub id: String,
    pub institution_id: String,
    pub bank_id: String,
    pub account_no: String,
    /// `custody`, `risk_deposit` or `ecny`.
    pub mode: String,
    #[sqlx(try_from = "String")]
    pub status: domain::AccountStatus,
    pub requested_at: i64,
    pub confirmed_at: Option<i64>,
    pub confirmed_by: Option<String>,
    /// The balance the bank last reported, by the bank's time of that movement.
    pub reported_balance_fen: Option<i64>,
    pub reported_at: Option<i64>,
    /// When the platform last found the account reconciled.
    pub reconciled_at: Option<i64>,
}

const COLUMNS: &str = "id, institution_id, bank_id, account_no, mode, status, requested_at, confirmed_at, confirmed_by, \
     reported_balance_fen, reported_at, reconciled_at";
/// The columns prefixed with `a.`, for queries that alias the table.
pub(crate) const QUALIFIED_COLUMNS: &str = "a.id, a.institution_id, a.bank_id, a.account_no, a.mode, a.status, \
     a.requested_at, a.confirmed_at, a.confirmed_by, a.reported_balance_fen, a.reported_at, a.reconciled_at";

impl InsertRow for SupervisedAccountRow {
    const TABLE: &'static str = "supervised_accounts";
    const COLUMNS: &'static str = COLUMNS;
    fn bind<'q>(&self, q: AnyQuery<'q>) -> AnyQuery<'q> {
        q.bind(self.id.clone())
            .bind(self.institution_id.clone())
            .bind(self.bank_id.clone())
            .bind(self.account_no.clone())
            .bind(self.mode.clone())
            .bind(self.status.as_str())
            .bind(self.requested_at)
            .bind(self.confirmed_at)
            .bind(self.confirmed_by.clone())
            .bind(self.reported_balance_fen)
            .bind(self.reported_at)
            .bind(self.reconciled_at)
    }
}

impl SupervisedAccounts<&Reader<'_>> {
    pub async fn supervised_accounts_of(
        &self,
        institution_id: &str,
    ) -> Result<Vec<SupervisedAccountRow>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM supervised_accounts WHERE institution_id = $1 ORDER BY requested_at, id"
        );
        Ok(sqlx::query_as(AssertSqlSafe(sql))
            .bind(institution_id)
            .fetch_all(&self.store.pool)
            .await?)
    }
}

impl SupervisedAccounts<&mut WriteTx> {
    pub async fn insert_supervised_account(
        &mut self,
        row: &SupervisedAccountRow,
    ) -> Result<(), StoreError> {
        self.insert(std::slice::from_ref(row)).await
    }

    /// Confirms a pending binding (once).
    pub async fn confirm_supervised_account(
        &mut self,
        id: &str,
        by: &str,
        at: i64,
    ) -> Result<u64, StoreError> {
        let (to, from) =
            crate::states::transition::<domain::AccountStatus>(domain::AccountEvent::Confirm);
        let sql = format!(
            "UPDATE supervised_accounts SET status = '{to}', confirmed_at = $3, confirmed_by = $2 \
             WHERE id = $1 AND status IN ({from})"
        );
        let done = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .bind(by)
            .bind(at)
            .execute(&mut *self.tx)
            .await?;
        Ok(done.rows_affected())
    }
}

impl<S: crate::Connection> SupervisedAccounts<S> {
    pub async fn supervised_account(
        &mut self,
        id: &str,
    ) -> Result<Option<SupervisedAccountRow>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM supervised_accounts WHERE id = $1");
        Ok(sqlx::query_as(AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(self.0.executor())
            .await?)
    }
}
