//! 课后服务 after-school service lists and their candidates, with what the comparison reads.

use crate::insert::{AnyQuery, InsertRow, insert_rows};
use crate::{Reader, StoreError, WriteTx};
use sqlx::AssertSqlSafe;

#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct AfterSchoolListRow {
    pub id: String,
    pub region_code: String,
    pub name: String,
    /// e.g. `2026-2027`.
    pub school_year: String,
    pub created_by: String,
    pub created_at: i64,
}

const LIST_COLUMNS: &str = "id, region_code, name, school_year, created_by, created_at";

impl InsertRow for AfterSchoolListRow {
    const TABLE: &'static str = "after_school_lists";
    const COLUMNS: &'static str = LIST_COLUMNS;
    fn bind<'q>(&self, q: AnyQuery<'q>) -> AnyQuery<'q> {
        q.bind(self.id.clone())
            .bind(self.region_code.clone())
            .bind(self.name.clone())
            .bind(self.school_year.clone())
            .bind(self.created_by.clone())
            .bind(self.created_at)
    }
}

/// A candidate with the facts the comparison reads.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct CandidateFactsRow {
    pub institution_id: String,
    pub name: String,
    pub region_code: String,
    pub list_status: String,
    pub categories: String,
    pub licence_no: Option<String>,
    pub approved_filing: Option<String>,
    /// Teaching staff on the register, and those whose record check no regulator confirmed yet.
    pub teaching_staff: i64,
    pub unverified_staff: i64,
    pub added_at: i64,
}

impl Reader<'_> {
    pub async fn after_school_lists(
        &self,
        region_prefix: &str,
    ) -> Result<Vec<AfterSchoolListRow>, StoreError> {
        Ok(sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {LIST_COLUMNS} FROM after_school_lists WHERE region_code LIKE $1 \
             ORDER BY created_at DESC, id DESC LIMIT 200"
        )))
        .bind(format!("{region_prefix}%"))
        .fetch_all(&self.store.pool)
        .await?)
    }

    pub async fn after_school_list(
        &self,
        id: &str,
    ) -> Result<Option<AfterSchoolListRow>, StoreError> {
        Ok(sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {LIST_COLUMNS} FROM after_school_lists WHERE id = $1"
        )))
        .bind(id)
        .fetch_optional(&self.store.pool)
        .await?)
    }

    pub async fn after_school_candidates(
        &self,
        list_id: &str,
    ) -> Result<Vec<CandidateFactsRow>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT i.id AS institution_id, i.name, i.region_code, i.list_status, i.categories, i.licence_no, \
             (SELECT f.data FROM filings f WHERE f.institution_id = i.id AND f.status = 'approved' \
                ORDER BY f.version DESC LIMIT 1) AS approved_filing, \
             (SELECT COUNT(*) FROM staff_members s WHERE s.institution_id = i.id AND s.left_at IS NULL \
                AND s.role = 'teaching') AS teaching_staff, \
             (SELECT COUNT(*) FROM staff_members s WHERE s.institution_id = i.id AND s.left_at IS NULL \
                AND s.role = 'teaching' AND s.record_check_confirmed_at IS NULL) AS unverified_staff, \
             c.added_at \
             FROM after_school_candidates c JOIN institutions i ON i.id = c.institution_id \
             WHERE c.list_id = $1 ORDER BY c.added_at, i.id",
        )
        .bind(list_id)
        .fetch_all(&self.store.pool)
        .await?)
    }
}

impl WriteTx {
    pub async fn insert_after_school_list(
        &mut self,
        row: &AfterSchoolListRow,
    ) -> Result<(), StoreError> {
        insert_rows(&mut self.tx, self.backend, std::slice::from_ref(row)).await
    }

    pub async fn insert_after_school_candidate(
        &mut self,
        list_id: &str,
        institution_id: &str,
        added_by: &str,
        at: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO after_school_candidates (list_id, institution_id, added_by, added_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(list_id)
        .bind(institution_id)
        .bind(added_by)
        .bind(at)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }
}
