//! The practitioner black list and institutions' staff registers.

use crate::insert::{AnyQuery, InsertRow};
use crate::{Reader, StoreError, WriteTx};
use sqlx::AssertSqlSafe;

crate::repository!(
    /// 从业人员 staff and blacklisted practitioners.
    Staff,
    staff
);

#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct BlacklistedPractitionerRow {
    pub id: String,
    pub id_card_index: String,
    pub name_sealed: String,
    pub reason: String,
    pub region_code: String,
    pub listed_by: String,
    pub listed_at: i64,
}

const BLACKLIST_COLUMNS: &str =
    "id, id_card_index, name_sealed, reason, region_code, listed_by, listed_at";

impl InsertRow for BlacklistedPractitionerRow {
    const TABLE: &'static str = "practitioner_blacklist";
    const COLUMNS: &'static str = BLACKLIST_COLUMNS;
    fn bind<'q>(&self, q: AnyQuery<'q>) -> AnyQuery<'q> {
        q.bind(self.id.clone())
            .bind(self.id_card_index.clone())
            .bind(self.name_sealed.clone())
            .bind(self.reason.clone())
            .bind(self.region_code.clone())
            .bind(self.listed_by.clone())
            .bind(self.listed_at)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct StaffMemberRow {
    pub id: String,
    pub institution_id: String,
    pub name_sealed: String,
    pub id_card_sealed: String,
    pub id_card_index: String,
    pub role: String,
    pub subject_teacher: i64,
    pub teacher_cert_no: Option<String>,
    pub record_check_document: String,
    pub record_check_confirmed_by: Option<String>,
    pub record_check_confirmed_at: Option<i64>,
    pub hired_at: i64,
    /// Set when the institution records that the person left (staff churn reads it).
    pub left_at: Option<i64>,
}

const STAFF_COLUMNS: &str = "id, institution_id, name_sealed, id_card_sealed, id_card_index, role, subject_teacher, \
     teacher_cert_no, record_check_document, record_check_confirmed_by, record_check_confirmed_at, hired_at, left_at";

impl InsertRow for StaffMemberRow {
    const TABLE: &'static str = "staff_members";
    const COLUMNS: &'static str = STAFF_COLUMNS;
    fn bind<'q>(&self, q: AnyQuery<'q>) -> AnyQuery<'q> {
        q.bind(self.id.clone())
            .bind(self.institution_id.clone())
            .bind(self.name_sealed.clone())
            .bind(self.id_card_sealed.clone())
            .bind(self.id_card_index.clone())
            .bind(self.role.clone())
            .bind(self.subject_teacher)
            .bind(self.teacher_cert_no.clone())
            .bind(self.record_check_document.clone())
            .bind(self.record_check_confirmed_by.clone())
            .bind(self.record_check_confirmed_at)
            .bind(self.hired_at)
            .bind(self.left_at)
    }
}

impl Staff<&Reader<'_>> {
    pub async fn staff_of(&self, institution_id: &str) -> Result<Vec<StaffMemberRow>, StoreError> {
        let sql = format!(
            "SELECT {STAFF_COLUMNS} FROM staff_members WHERE institution_id = $1 ORDER BY hired_at, id"
        );
        Ok(sqlx::query_as(AssertSqlSafe(sql))
            .bind(institution_id)
            .fetch_all(&self.store.pool)
            .await?)
    }

    pub async fn staff_member(&self, id: &str) -> Result<Option<StaffMemberRow>, StoreError> {
        let sql = format!("SELECT {STAFF_COLUMNS} FROM staff_members WHERE id = $1");
        Ok(sqlx::query_as(AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(&self.store.pool)
            .await?)
    }
}

impl Staff<&mut WriteTx> {
    /// The black-list entry for an ID-card blind index, if any.
    pub async fn blacklisted(
        &mut self,
        id_card_index: &str,
    ) -> Result<Option<BlacklistedPractitionerRow>, StoreError> {
        let sql = format!(
            "SELECT {BLACKLIST_COLUMNS} FROM practitioner_blacklist WHERE id_card_index = $1"
        );
        Ok(sqlx::query_as(AssertSqlSafe(sql))
            .bind(id_card_index)
            .fetch_optional(&mut *self.tx)
            .await?)
    }

    pub async fn insert_blacklisted(
        &mut self,
        row: &BlacklistedPractitionerRow,
    ) -> Result<(), StoreError> {
        self.insert(std::slice::from_ref(row)).await
    }

    pub async fn insert_staff_member(&mut self, row: &StaffMemberRow) -> Result<(), StoreError> {
        self.insert(std::slice::from_ref(row)).await
    }

    /// 离职 records that a staff member of the institution left (once).
    pub async fn mark_staff_left(
        &mut self,
        id: &str,
        institution_id: &str,
        at: i64,
    ) -> Result<u64, StoreError> {
        let done = sqlx::query(
            "UPDATE staff_members SET left_at = $3 WHERE id = $1 AND institution_id = $2 AND left_at IS NULL",
        )
        .bind(id)
        .bind(institution_id)
        .bind(at)
        .execute(&mut *self.tx)
        .await?;
        Ok(done.rows_affected())
    }

    /// Records a regulator's confirmation of a pre-hire record check (once).
    pub async fn confirm_record_check(
        &mut self,
        id: &str,
        by: &str,
        at: i64,
    ) -> Result<u64, StoreError> {
        let done = sqlx::query(
            "UPDATE staff_members SET record_check_confirmed_by = $2, record_check_confirmed_at = $3 \
             WHERE id = $1 AND record_check_confirmed_at IS NULL",
        )
        .bind(id)
        .bind(by)
        .bind(at)
        .execute(&mut *self.tx)
        .await?;
        Ok(done.rows_affected())
    }
}
