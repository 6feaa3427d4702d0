//! 课程咨询 consultation threads.

use crate::{Reader, StoreError, WriteTx};

crate::repository!(
    /// 咨询 consultations and their messages.
    Consultations,
    consultations
);

#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct ConsultationRow {
    pub id: String,
    pub institution_id: String,
    pub parent_id: String,
    pub topic: String,
    pub created_at: i64,
    pub first_answer_at: Option<i64>,
}

#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct ConsultationMessageRow {
    pub id: String,
    pub consultation_id: String,
    pub from_institution: i64,
    pub author: String,
    pub body: String,
    pub created_at: i64,
}

/// An institution's answering figures: threads, answered ones, and the first-answer times (ms) of those.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ConsultationTimes {
    pub threads: i64,
    pub first_answer_ms: Vec<i64>,
}

const COLUMNS: &str = "id, institution_id, parent_id, topic, created_at, first_answer_at";

impl Consultations<&Reader<'_>> {
    pub async fn consultation(&self, id: &str) -> Result<Option<ConsultationRow>, StoreError> {
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM consultations WHERE id = $1"
        )))
        .bind(id)
        .fetch_optional(&self.store.pool)
        .await?)
    }

    /// A parent's threads (`parent`) or an institution's, newest first.
    pub async fn list(
        &self,
        parent_id: Option<&str>,
        institution_id: Option<&str>,
    ) -> Result<Vec<ConsultationRow>, StoreError> {
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM consultations WHERE ($1 IS NULL OR parent_id = $1) \
             AND ($2 IS NULL OR institution_id = $2) ORDER BY created_at DESC, id DESC LIMIT 200"
        )))
        .bind(parent_id.map(str::to_owned))
        .bind(institution_id.map(str::to_owned))
        .fetch_all(&self.store.pool)
        .await?)
    }

    pub async fn consultation_messages(
        &self,
        consultation_id: &str,
    ) -> Result<Vec<ConsultationMessageRow>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT id, consultation_id, from_institution, author, body, created_at FROM consultation_messages \
             WHERE consultation_id = $1 ORDER BY created_at, id",
        )
        .bind(consultation_id)
        .fetch_all(&self.store.pool)
        .await?)
    }

    pub async fn consultation_times(
        &self,
        institution_id: &str,
    ) -> Result<ConsultationTimes, StoreError> {
        let rows: Vec<(i64, Option<i64>)> = sqlx::query_as(
            "SELECT created_at, first_answer_at FROM consultations WHERE institution_id = $1",
        )
        .bind(institution_id)
        .fetch_all(&self.store.pool)
        .await?;
        Ok(ConsultationTimes {
            threads: rows.len() as i64,
            first_answer_ms: rows
                .iter()
                .filter_map(|(asked, answered)| answered.map(|a| a - asked))
                .collect(),
        })
    }
}

impl Consultations<&mut WriteTx> {
    pub async fn insert_consultation(
        &mut self,
        row: &ConsultationRow,
        first: &ConsultationMessageRow,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO consultations (id, institution_id, parent_id, topic, created_at, first_answer_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(row.id.clone())
        .bind(row.institution_id.clone())
        .bind(row.parent_id.clone())
        .bind(row.topic.clone())
        .bind(row.created_at)
        .bind(row.first_answer_at)
        .execute(&mut *self.tx)
        .await?;
        self.insert_consultation_message(first).await
    }

    /// Adds a message; the institution's first one sets the thread's first-answer time.
    pub async fn insert_consultation_message(
        &mut self,
        m: &ConsultationMessageRow,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO consultation_messages (id, consultation_id, from_institution, author, body, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(m.id.clone())
        .bind(m.consultation_id.clone())
        .bind(m.from_institution)
        .bind(m.author.clone())
        .bind(m.body.clone())
        .bind(m.created_at)
        .execute(&mut *self.tx)
        .await?;
        if m.from_institution == 1 {
            sqlx::query(
                "UPDATE consultations SET first_answer_at = $2 WHERE id = $1 AND first_answer_at IS NULL",
            )
            .bind(m.consultation_id.clone())
            .bind(m.created_at)
            .execute(&mut *self.tx)
            .await?;
        }
        Ok(())
    }
}
