//! 评价 reviews.

use crate::insert::{AnyQuery, InsertRow};
use crate::{Reader, StoreError, WriteTx};
use sqlx::AssertSqlSafe;

crate::repository!(
    /// 评价 reviews.
    Reviews,
    reviews
);

#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct ReviewRow {
    pub id: String,
    pub institution_id: String,
    pub order_id: String,
    pub parent_id: String,
    pub teaching: i64,
    pub environment: i64,
    pub service: i64,
    pub value_for_money: i64,
    pub body: String,
    /// Confirmed lessons behind the review when it was written.
    pub weight: i64,
    pub created_at: i64,
    pub reply: Option<String>,
    pub replied_at: Option<i64>,
    pub hidden_reason: Option<String>,
    pub hidden_by: Option<String>,
    pub hidden_at: Option<i64>,
}

const COLUMNS: &str = "id, institution_id, order_id, parent_id, teaching, environment, service, value_for_money, body, \
     weight, created_at, reply, replied_at, hidden_reason, hidden_by, hidden_at";

impl InsertRow for ReviewRow {
    const TABLE: &'static str = "reviews";
    const COLUMNS: &'static str = COLUMNS;
    fn bind<'q>(&self, q: AnyQuery<'q>) -> AnyQuery<'q> {
        q.bind(self.id.clone())
            .bind(self.institution_id.clone())
            .bind(self.order_id.clone())
            .bind(self.parent_id.clone())
            .bind(self.teaching)
            .bind(self.environment)
            .bind(self.service)
            .bind(self.value_for_money)
            .bind(self.body.clone())
            .bind(self.weight)
            .bind(self.created_at)
            .bind(self.reply.clone())
            .bind(self.replied_at)
            .bind(self.hidden_reason.clone())
            .bind(self.hidden_by.clone())
            .bind(self.hidden_at)
    }
}

impl Reviews<&Reader<'_>> {
    /// An institution's reviews, newest first (hidden ones included: the caller decides what to show).
    pub async fn reviews_of(&self, institution_id: &str) -> Result<Vec<ReviewRow>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM reviews WHERE institution_id = $1 ORDER BY created_at DESC, id DESC LIMIT 500"
        );
        Ok(sqlx::query_as(AssertSqlSafe(sql))
            .bind(institution_id)
            .fetch_all(&self.store.pool)
            .await?)
    }

    pub async fn review_of_order(&self, order_id: &str) -> Result<Option<ReviewRow>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM reviews WHERE order_id = $1");
        Ok(sqlx::query_as(AssertSqlSafe(sql))
            .bind(order_id)
            .fetch_optional(&self.store.pool)
            .await?)
    }

    pub async fn review(&self, id: &str) -> Result<Option<ReviewRow>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM reviews WHERE id = $1");
        Ok(sqlx::query_as(AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(&self.store.pool)
            .await?)
    }

    /// Confirmed lessons (by the parent or by silence) of an order.
    pub async fn confirmed_lessons(&self, order_id: &str) -> Result<i64, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT COUNT(*) FROM lessons WHERE order_id = $1 AND status IN ('confirmed', 'auto_confirmed')",
        )
        .bind(order_id)
        .fetch_one(&self.store.pool)
        .await?)
    }
}

impl Reviews<&mut WriteTx> {
    pub async fn insert_review(&mut self, row: &ReviewRow) -> Result<(), StoreError> {
        self.insert(std::slice::from_ref(row)).await
    }

    /// The institution's reply (once).
    pub async fn reply_review(
        &mut self,
        id: &str,
        reply: &str,
        at: i64,
    ) -> Result<u64, StoreError> {
        let done = sqlx::query(
            "UPDATE reviews SET reply = $2, replied_at = $3 WHERE id = $1 AND reply IS NULL",
        )
        .bind(id)
        .bind(reply)
        .bind(at)
        .execute(&mut *self.tx)
        .await?;
        Ok(done.rows_affected())
    }

    /// Hides a review (it stays, with the reason and who hid it).
    pub async fn hide_review(
        &mut self,
        id: &str,
        reason: &str,
        by: &str,
        at: i64,
    ) -> Result<u64, StoreError> {
        let done = sqlx::query(
            "UPDATE reviews SET hidden_reason = $2, hidden_by = $3, hidden_at = $4 WHERE id = $1 AND hidden_at IS NULL",
        )
        .bind(id)
        .bind(reason)
        .bind(by)
        .bind(at)
        .execute(&mut *self.tx)
        .await?;
        Ok(done.rows_affected())
    }
}
