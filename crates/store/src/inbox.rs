//! The inbox.

use crate::insert::{AnyQuery, InsertRow, insert_rows};
use crate::{Reader, StoreError, WriteTx};
use sqlx::AssertSqlSafe;

#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct NotificationRow {
    pub id: String,
    pub account_id: String,
    pub title: String,
    pub body: String,
    pub created_at: i64,
    pub read_at: Option<i64>,
}

const COLUMNS: &str = "id, account_id, title, body, created_at, read_at";

impl InsertRow for NotificationRow {
    const TABLE: &'static str = "notifications";
    const COLUMNS: &'static str = COLUMNS;
    fn bind<'q>(&self, q: AnyQuery<'q>) -> AnyQuery<'q> {
        q.bind(self.id.clone())
            .bind(self.account_id.clone())
            .bind(self.title.clone())
            .bind(self.body.clone())
            .bind(self.created_at)
            .bind(self.read_at)
    }
}

impl Reader<'_> {
    /// An account's newest notifications.
    pub async fn notifications_of(
        &self,
        account_id: &str,
        limit: i64,
    ) -> Result<Vec<NotificationRow>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM notifications WHERE account_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2"
        );
        Ok(sqlx::query_as(AssertSqlSafe(sql))
            .bind(account_id)
            .bind(limit)
            .fetch_all(&self.store.pool)
            .await?)
    }
}

impl WriteTx {
    pub async fn insert_notifications(
        &mut self,
        rows: &[NotificationRow],
    ) -> Result<(), StoreError> {
        insert_rows(&mut self.tx, self.backend, rows).await
    }

    /// Ids of the accounts of an institution's staff.
    pub async fn staff_accounts_of(
        &mut self,
        institution_id: &str,
    ) -> Result<Vec<String>, StoreError> {
        let rows: Vec<(String,)> = sqlx::query_as(
            "SELECT id FROM accounts WHERE kind = 'staff' AND institution_id = $1 ORDER BY id",
        )
        .bind(institution_id)
        .fetch_all(&mut *self.tx)
        .await?;
        Ok(rows.into_iter().map(|(id,)| id).collect())
    }
}
