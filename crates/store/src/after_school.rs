//! 课后服务 after-school service lists and their candidates, with what the comparison reads; the schools that
//! choose from them and their choices.

use crate::insert::{AnyQuery, InsertRow};
use crate::{Reader, StoreError, WriteTx};
use sqlx::AssertSqlSafe;

crate::repository!(
    /// 课后服务 after-school lists, schools and their choices.
    AfterSchool,
    after_school
);

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

    #[sqlx(try_from = "String")]
    pub list_status: domain::ListStatus,
    pub categories: String,
    pub licence_no: Option<String>,
    pub approved_filing: Option<String>,
    /// Teaching staff on the register, and those whose record check no regulator confirmed yet.
    pub teaching_staff: i64,
    pub unverified_staff: i64,
    pub added_at: i64,
}

/// 学校 a school of a region, whose accounts choose from the after-school lists covering it.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct SchoolRow {
    pub id: String,
    pub region_code: String,
    pub name: String,
    pub created_by: String,
    pub created_at: i64,
}

const SCHOOL_COLUMNS: &str = "id, region_code, name, created_by, created_at";

impl InsertRow for SchoolRow {
    const TABLE: &'static str = "schools";
    const COLUMNS: &'static str = SCHOOL_COLUMNS;
    fn bind<'q>(&self, q: AnyQuery<'q>) -> AnyQuery<'q> {
        q.bind(self.id.clone())
            .bind(self.region_code.clone())
            .bind(self.name.clone())
            .bind(self.created_by.clone())
            .bind(self.created_at)
    }
}

/// A school's choice of a candidate, with the school's name.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct ChoiceRow {
    pub list_id: String,
    pub institution_id: String,
    pub school_id: String,
    pub school_name: String,
    pub note: String,
    pub chosen_by: String,
    pub chosen_at: i64,
    pub withdrawn_by: Option<String>,
    pub withdrawn_at: Option<i64>,
}

const CHOICE_COLUMNS: &str = "c.list_id, c.institution_id, c.school_id, s.name AS school_name, c.note, \
     c.chosen_by, c.chosen_at, c.withdrawn_by, c.withdrawn_at";

impl AfterSchool<&Reader<'_>> {
    pub async fn school(&self, id: &str) -> Result<Option<SchoolRow>, StoreError> {
        Ok(sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {SCHOOL_COLUMNS} FROM schools WHERE id = $1"
        )))
        .bind(id)
        .fetch_optional(&self.store.pool)
        .await?)
    }

    pub async fn school_by_name(
        &self,
        region_code: &str,
        name: &str,
    ) -> Result<Option<SchoolRow>, StoreError> {
        Ok(sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {SCHOOL_COLUMNS} FROM schools WHERE region_code = $1 AND name = $2"
        )))
        .bind(region_code)
        .bind(name)
        .fetch_optional(&self.store.pool)
        .await?)
    }

    /// The lists of these regions (a school's region and its ancestors), newest first.
    pub async fn after_school_lists_of(
        &self,
        region_codes: &[String],
    ) -> Result<Vec<AfterSchoolListRow>, StoreError> {
        if region_codes.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT {LIST_COLUMNS} FROM after_school_lists WHERE region_code IN ({}) \
             ORDER BY created_at DESC, id DESC LIMIT 200",
            self.store.backend.placeholders(0, region_codes.len())
        );
        let mut q = sqlx::query_as(AssertSqlSafe(sql));
        for code in region_codes {
            q = q.bind(code.clone());
        }
        Ok(q.fetch_all(&self.store.pool).await?)
    }

    /// Every school's choices on a list, withdrawn ones included, by school name.
    pub async fn after_school_choices(&self, list_id: &str) -> Result<Vec<ChoiceRow>, StoreError> {
        Ok(sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {CHOICE_COLUMNS} FROM after_school_choices c JOIN schools s ON s.id = c.school_id \
             WHERE c.list_id = $1 ORDER BY s.name, c.chosen_at"
        )))
        .bind(list_id)
        .fetch_all(&self.store.pool)
        .await?)
    }

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

impl AfterSchool<&mut WriteTx> {
    pub async fn insert_after_school_list(
        &mut self,
        row: &AfterSchoolListRow,
    ) -> Result<(), StoreError> {
        self.insert(std::slice::from_ref(row)).await
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

    pub async fn insert_school(&mut self, row: &SchoolRow) -> Result<(), StoreError> {
        self.insert(std::slice::from_ref(row)).await
    }

    /// A school's choice of one candidate, read inside the transaction that changes it.
    pub async fn after_school_choice(
        &mut self,
        list_id: &str,
        institution_id: &str,
        school_id: &str,
    ) -> Result<Option<ChoiceRow>, StoreError> {
        Ok(sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {CHOICE_COLUMNS} FROM after_school_choices c JOIN schools s ON s.id = c.school_id \
             WHERE c.list_id = $1 AND c.institution_id = $2 AND c.school_id = $3"
        )))
        .bind(list_id)
        .bind(institution_id)
        .bind(school_id)
        .fetch_optional(&mut *self.tx)
        .await?)
    }

    /// Records a choice, or renews a withdrawn one (the audit log keeps the earlier steps).
    pub async fn choose_after_school(
        &mut self,
        choice: &ChoiceRow,
        renew: bool,
    ) -> Result<(), StoreError> {
        let sql = if renew {
            "UPDATE after_school_choices SET note = $4, chosen_by = $5, chosen_at = $6, withdrawn_by = NULL, \
             withdrawn_at = NULL WHERE list_id = $1 AND institution_id = $2 AND school_id = $3"
        } else {
            "INSERT INTO after_school_choices (list_id, institution_id, school_id, note, chosen_by, chosen_at) \
             VALUES ($1, $2, $3, $4, $5, $6)"
        };
        sqlx::query(sql)
            .bind(&choice.list_id)
            .bind(&choice.institution_id)
            .bind(&choice.school_id)
            .bind(&choice.note)
            .bind(&choice.chosen_by)
            .bind(choice.chosen_at)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    pub async fn withdraw_after_school_choice(
        &mut self,
        list_id: &str,
        institution_id: &str,
        school_id: &str,
        by: &str,
        at: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE after_school_choices SET withdrawn_by = $4, withdrawn_at = $5 \
             WHERE list_id = $1 AND institution_id = $2 AND school_id = $3 AND withdrawn_at IS NULL",
        )
        .bind(list_id)
        .bind(institution_id)
        .bind(school_id)
        .bind(by)
        .bind(at)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }
}
