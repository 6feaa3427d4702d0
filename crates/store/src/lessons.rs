//! 消课 lessons: attendance, the parent's answer, automatic confirmation.

use crate::insert::{AnyQuery, InsertRow};
use crate::{Reader, StoreError, WriteTx};
use sqlx::AssertSqlSafe;

crate::repository!(
    /// 课次 lessons.
    Lessons,
    lessons
);

#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct LessonRow {
    pub id: String,
    pub order_id: String,
    pub institution_id: String,
    pub parent_id: String,
    pub lesson_no: i64,
    /// `YYYY-MM-DD`, China time.
    pub attended_on: String,
    pub taken_by: String,
    /// What proves attendance (empty: none).
    pub evidence: String,
    #[sqlx(try_from = "String")]
    pub status: domain::LessonStatus,
    pub confirm_by: i64,
    pub fee_fen: i64,
    pub decided_at: Option<i64>,
    pub dispute_reason: Option<String>,
    pub release_instruction_id: Option<String>,
    pub created_at: i64,
}

const COLUMNS: &str = "id, order_id, institution_id, parent_id, lesson_no, attended_on, taken_by, evidence, status, \
     confirm_by, fee_fen, decided_at, dispute_reason, release_instruction_id, created_at";

impl InsertRow for LessonRow {
    const TABLE: &'static str = "lessons";
    const COLUMNS: &'static str = COLUMNS;
    fn bind<'q>(&self, q: AnyQuery<'q>) -> AnyQuery<'q> {
        q.bind(self.id.clone())
            .bind(self.order_id.clone())
            .bind(self.institution_id.clone())
            .bind(self.parent_id.clone())
            .bind(self.lesson_no)
            .bind(self.attended_on.clone())
            .bind(self.taken_by.clone())
            .bind(self.evidence.clone())
            .bind(self.status.as_str())
            .bind(self.confirm_by)
            .bind(self.fee_fen)
            .bind(self.decided_at)
            .bind(self.dispute_reason.clone())
            .bind(self.release_instruction_id.clone())
            .bind(self.created_at)
    }
}

impl Lessons<&Reader<'_>> {
    pub async fn lessons_of_order(&self, order_id: &str) -> Result<Vec<LessonRow>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM lessons WHERE order_id = $1 ORDER BY lesson_no");
        Ok(sqlx::query_as(AssertSqlSafe(sql))
            .bind(order_id)
            .fetch_all(&self.store.pool)
            .await?)
    }

    /// Lessons still awaiting the parent whose window closed by `now`.
    pub async fn lessons_due(&self, now: i64, limit: i64) -> Result<Vec<LessonRow>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM lessons WHERE status = 'awaiting_confirmation' AND confirm_by <= $1 \
             ORDER BY confirm_by, id LIMIT $2"
        );
        Ok(sqlx::query_as(AssertSqlSafe(sql))
            .bind(now)
            .bind(limit)
            .fetch_all(&self.store.pool)
            .await?)
    }

    /// A parent's lessons awaiting an answer, oldest first.
    pub async fn lessons_awaiting(&self, parent_id: &str) -> Result<Vec<LessonRow>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM lessons WHERE parent_id = $1 AND status = 'awaiting_confirmation' \
             ORDER BY confirm_by, id"
        );
        Ok(sqlx::query_as(AssertSqlSafe(sql))
            .bind(parent_id)
            .fetch_all(&self.store.pool)
            .await?)
    }
}

impl Lessons<&mut WriteTx> {
    pub async fn insert_lesson(&mut self, row: &LessonRow) -> Result<(), StoreError> {
        self.insert(std::slice::from_ref(row)).await
    }

    pub async fn lesson_count(&mut self, order_id: &str) -> Result<i64, StoreError> {
        Ok(
            sqlx::query_scalar("SELECT COUNT(*) FROM lessons WHERE order_id = $1")
                .bind(order_id)
                .fetch_one(&mut *self.tx)
                .await?,
        )
    }

    /// Moves a lesson awaiting the parent to its answer (0 rows when it was answered meanwhile).
    pub async fn decide_lesson(
        &mut self,
        id: &str,
        event: domain::LessonEvent,
        at: i64,
        dispute_reason: Option<&str>,
        release_instruction_id: Option<&str>,
    ) -> Result<u64, StoreError> {
        let (to, from) = crate::states::transition::<domain::LessonStatus>(event);
        let sql = format!(
            "UPDATE lessons SET status = $2, decided_at = $3, dispute_reason = $4, release_instruction_id = $5 \
             WHERE id = $1 AND status IN ({from})"
        );
        let done = sqlx::query(AssertSqlSafe(sql))
            .bind(id)
            .bind(to)
            .bind(at)
            .bind(dispute_reason.map(str::to_owned))
            .bind(release_instruction_id.map(str::to_owned))
            .execute(&mut *self.tx)
            .await?;
        Ok(done.rows_affected())
    }
}

/// 请假 a day of leave from an order's classes.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct LeaveRow {
    pub id: String,
    pub order_id: String,
    pub institution_id: String,
    /// `YYYY-MM-DD`, China time.
    pub on_date: String,
    pub reason: String,
    pub created_at: i64,
}

impl Lessons<&Reader<'_>> {
    pub async fn leaves_of_order(&self, order_id: &str) -> Result<Vec<LeaveRow>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT id, order_id, institution_id, on_date, reason, created_at FROM leave_requests \
             WHERE order_id = $1 ORDER BY on_date, id",
        )
        .bind(order_id)
        .fetch_all(&self.store.pool)
        .await?)
    }
}

impl Lessons<&mut WriteTx> {
    /// A second leave for the same day is a conflict (unique per order and day).
    pub async fn insert_leave(&mut self, row: &LeaveRow) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO leave_requests (id, order_id, institution_id, on_date, reason, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(row.id.clone())
        .bind(row.order_id.clone())
        .bind(row.institution_id.clone())
        .bind(row.on_date.clone())
        .bind(row.reason.clone())
        .bind(row.created_at)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    pub async fn on_leave(&mut self, order_id: &str, on_date: &str) -> Result<bool, StoreError> {
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM leave_requests WHERE order_id = $1 AND on_date = $2",
        )
        .bind(order_id)
        .bind(on_date)
        .fetch_one(&mut *self.tx)
        .await?;
        Ok(n > 0)
    }
}

impl<S: crate::Connection> Lessons<S> {
    pub async fn lesson(&mut self, id: &str) -> Result<Option<LessonRow>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM lessons WHERE id = $1");
        Ok(sqlx::query_as(AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(self.0.executor())
            .await?)
    }
}
