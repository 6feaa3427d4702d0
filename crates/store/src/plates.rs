//! Compliance plates.

use crate::insert::{AnyQuery, InsertRow};
use crate::{Reader, StoreError, WriteTx};
use sqlx::AssertSqlSafe;

crate::repository!(
    /// 合规牌 compliance plates.
    Plates,
    plates
);

/// A plate as stored.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct PlateRow {
    pub institution_id: String,
    pub serial: i64,
    pub token: String,
    pub issued_at: i64,
    #[sqlx(try_from = "String")]
    pub status: domain::PlateStatus,
    pub status_reason: Option<String>,
    pub status_changed_at: Option<i64>,
}

const COLUMNS: &str =
    "institution_id, serial, token, issued_at, status, status_reason, status_changed_at";

impl InsertRow for PlateRow {
    const TABLE: &'static str = "plates";
    const COLUMNS: &'static str = COLUMNS;
    fn bind<'q>(&self, q: AnyQuery<'q>) -> AnyQuery<'q> {
        q.bind(self.institution_id.clone())
            .bind(self.serial)
            .bind(self.token.clone())
            .bind(self.issued_at)
            .bind(self.status.as_str())
            .bind(self.status_reason.clone())
            .bind(self.status_changed_at)
    }
}

impl Plates<&Reader<'_>> {
    pub async fn plate(
        &self,
        institution_id: &str,
        serial: i64,
    ) -> Result<Option<PlateRow>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM plates WHERE institution_id = $1 AND serial = $2");
        Ok(sqlx::query_as(AssertSqlSafe(sql))
            .bind(institution_id)
            .bind(serial)
            .fetch_optional(&self.store.pool)
            .await?)
    }

    /// The institution's plates, newest first.
    pub async fn plates_of(&self, institution_id: &str) -> Result<Vec<PlateRow>, StoreError> {
        let sql =
            format!("SELECT {COLUMNS} FROM plates WHERE institution_id = $1 ORDER BY serial DESC");
        Ok(sqlx::query_as(AssertSqlSafe(sql))
            .bind(institution_id)
            .fetch_all(&self.store.pool)
            .await?)
    }
}

impl Plates<&mut WriteTx> {
    pub async fn insert_plates(&mut self, rows: &[PlateRow]) -> Result<(), StoreError> {
        self.insert(rows).await
    }

    /// The highest serial the institution's plates have used (0 if none).
    pub async fn last_plate_serial(&mut self, institution_id: &str) -> Result<i64, StoreError> {
        let (n,): (i64,) = sqlx::query_as(
            "SELECT CAST(COALESCE(MAX(serial), 0) AS BIGINT) FROM plates WHERE institution_id = $1",
        )
        .bind(institution_id)
        .fetch_one(&mut *self.tx)
        .await?;
        Ok(n)
    }

    /// Ends the institution's active plate, if any, as `superseded` or `revoked`.
    pub async fn end_active_plate(
        &mut self,
        institution_id: &str,
        event: domain::PlateEvent,
        reason: &str,
        at: i64,
    ) -> Result<u64, StoreError> {
        let (to, from) = crate::states::transition::<domain::PlateStatus>(event);
        let sql = format!(
            "UPDATE plates SET status = $2, status_reason = $3, status_changed_at = $4 \
             WHERE institution_id = $1 AND status IN ({from})"
        );
        let done = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(institution_id)
            .bind(to)
            .bind(reason)
            .bind(at)
            .execute(&mut *self.tx)
            .await?;
        Ok(done.rows_affected())
    }
}
