//! Parents' sign-in codes, children and the personal-data access log.

use crate::insert::{AnyQuery, InsertRow};
use crate::{AccountRow, Reader, StoreError, WriteTx};
use sqlx::AssertSqlSafe;

crate::repository!(
    /// 家长 parents, children, sign-in codes and personal-data reveals.
    Parents,
    parents
);

const CODE_COLUMNS: &str = "id, phone_index, code_hash, created_at, expires_at, attempts, used_at";
const CHILD_COLUMNS: &str =
    "id, parent_id, name_sealed, gender, id_card_sealed, id_card_index, school, grade, created_at";
const ACCESS_COLUMNS: &str = "id, actor, subject, field, reason, at";

#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct LoginCodeRow {
    pub id: String,
    pub phone_index: String,
    pub code_hash: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub attempts: i64,
    pub used_at: Option<i64>,
}

#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct ChildRow {
    pub id: String,
    pub parent_id: String,
    pub name_sealed: String,
    pub gender: String,
    pub id_card_sealed: String,
    pub id_card_index: String,
    pub school: String,
    pub grade: String,
    pub created_at: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct PiiAccessRow {
    pub id: String,
    pub actor: String,
    pub subject: String,
    pub field: String,
    pub reason: String,
    pub at: i64,
}

impl InsertRow for LoginCodeRow {
    const TABLE: &'static str = "login_codes";
    const COLUMNS: &'static str = CODE_COLUMNS;
    fn bind<'q>(&self, q: AnyQuery<'q>) -> AnyQuery<'q> {
        q.bind(self.id.clone())
            .bind(self.phone_index.clone())
            .bind(self.code_hash.clone())
            .bind(self.created_at)
            .bind(self.expires_at)
            .bind(self.attempts)
            .bind(self.used_at)
    }
}

impl InsertRow for ChildRow {
    const TABLE: &'static str = "children";
    const COLUMNS: &'static str = CHILD_COLUMNS;
    fn bind<'q>(&self, q: AnyQuery<'q>) -> AnyQuery<'q> {
        q.bind(self.id.clone())
            .bind(self.parent_id.clone())
            .bind(self.name_sealed.clone())
            .bind(self.gender.clone())
            .bind(self.id_card_sealed.clone())
            .bind(self.id_card_index.clone())
            .bind(self.school.clone())
            .bind(self.grade.clone())
            .bind(self.created_at)
    }
}

impl InsertRow for PiiAccessRow {
    const TABLE: &'static str = "pii_access_log";
    const COLUMNS: &'static str = ACCESS_COLUMNS;
    fn bind<'q>(&self, q: AnyQuery<'q>) -> AnyQuery<'q> {
        q.bind(self.id.clone())
            .bind(self.actor.clone())
            .bind(self.subject.clone())
            .bind(self.field.clone())
            .bind(self.reason.clone())
            .bind(self.at)
    }
}

impl Parents<&Reader<'_>> {
    /// A parent's account by the blind index of their phone.
    pub async fn parent_by_phone_index(
        &self,
        phone_index: &str,
    ) -> Result<Option<AccountRow>, StoreError> {
        let sql = format!(
            "SELECT {} FROM accounts WHERE phone_index = $1 AND kind = 'parent'",
            crate::accounts::ACCOUNT_COLUMNS
        );
        Ok(sqlx::query_as(AssertSqlSafe(sql))
            .bind(phone_index)
            .fetch_optional(&self.store.pool)
            .await?)
    }

    pub async fn children_of(&self, parent_id: &str) -> Result<Vec<ChildRow>, StoreError> {
        let sql = format!(
            "SELECT {CHILD_COLUMNS} FROM children WHERE parent_id = $1 ORDER BY created_at, id"
        );
        Ok(sqlx::query_as(AssertSqlSafe(sql))
            .bind(parent_id)
            .fetch_all(&self.store.pool)
            .await?)
    }

    pub async fn child(&self, id: &str) -> Result<Option<ChildRow>, StoreError> {
        let sql = format!("SELECT {CHILD_COLUMNS} FROM children WHERE id = $1");
        Ok(sqlx::query_as(AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(&self.store.pool)
            .await?)
    }

    /// The newest personal-data reveals, for auditors.
    /// One page of the personal-data access log, newest first: all of it, or only the reveals by the
    /// regulators whose region starts with `regulators_under`.
    pub async fn pii_access_page(
        &self,
        regulators_under: Option<&str>,
        limit: u32,
        offset: u64,
    ) -> Result<crate::PageRows<PiiAccessRow>, StoreError> {
        let (filter, prefix) = match regulators_under {
            None => ("$1 = ''", String::new()),
            Some(p) => (
                "actor IN (SELECT 'regulator:' || id FROM accounts WHERE kind = 'regulator' AND region_code LIKE $1)",
                format!("{p}%"),
            ),
        };
        let sql = format!(
            "SELECT {ACCESS_COLUMNS} FROM pii_access_log WHERE {filter} ORDER BY at DESC, id DESC LIMIT $2 OFFSET $3"
        );
        let rows = sqlx::query_as(AssertSqlSafe(sql))
            .bind(prefix.clone())
            .bind(i64::from(limit))
            .bind(offset as i64)
            .fetch_all(&self.store.pool)
            .await?;
        let count = format!("SELECT COUNT(*) FROM pii_access_log WHERE {filter}");
        let (total,): (i64,) = sqlx::query_as(AssertSqlSafe(count))
            .bind(prefix)
            .fetch_one(&self.store.pool)
            .await?;
        Ok(crate::PageRows { rows, total })
    }

    pub async fn pii_access_log(&self, limit: i64) -> Result<Vec<PiiAccessRow>, StoreError> {
        let sql = format!(
            "SELECT {ACCESS_COLUMNS} FROM pii_access_log ORDER BY at DESC, id DESC LIMIT $1"
        );
        Ok(sqlx::query_as(AssertSqlSafe(sql))
            .bind(limit)
            .fetch_all(&self.store.pool)
            .await?)
    }
}

impl Parents<&mut WriteTx> {
    pub async fn account_by_phone_index(
        &mut self,
        phone_index: &str,
    ) -> Result<Option<AccountRow>, StoreError> {
        let sql = format!(
            "SELECT {} FROM accounts WHERE phone_index = $1",
            crate::accounts::ACCOUNT_COLUMNS
        );
        Ok(sqlx::query_as(AssertSqlSafe(sql))
            .bind(phone_index)
            .fetch_optional(&mut *self.tx)
            .await?)
    }

    pub async fn insert_login_code(&mut self, row: &LoginCodeRow) -> Result<(), StoreError> {
        self.insert(std::slice::from_ref(row)).await
    }

    /// How many codes were sent to this phone since `since` (throttling).
    pub async fn login_codes_since(
        &mut self,
        phone_index: &str,
        since: i64,
    ) -> Result<i64, StoreError> {
        let (n,): (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM login_codes WHERE phone_index = $1 AND created_at >= $2",
        )
        .bind(phone_index)
        .bind(since)
        .fetch_one(&mut *self.tx)
        .await?;
        Ok(n)
    }

    /// The newest code sent to this phone.
    /// Withdraws a code that could not be delivered.
    pub async fn delete_login_code(&mut self, id: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM login_codes WHERE id = $1")
            .bind(id)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    pub async fn latest_login_code(
        &mut self,
        phone_index: &str,
    ) -> Result<Option<LoginCodeRow>, StoreError> {
        let sql = format!(
            "SELECT {CODE_COLUMNS} FROM login_codes WHERE phone_index = $1 ORDER BY created_at DESC, id DESC LIMIT 1"
        );
        Ok(sqlx::query_as(AssertSqlSafe(sql))
            .bind(phone_index)
            .fetch_optional(&mut *self.tx)
            .await?)
    }

    pub async fn update_login_code(
        &mut self,
        id: &str,
        attempts: i64,
        used_at: Option<i64>,
    ) -> Result<(), StoreError> {
        sqlx::query("UPDATE login_codes SET attempts = $2, used_at = $3 WHERE id = $1")
            .bind(id)
            .bind(attempts)
            .bind(used_at)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    pub async fn insert_children(&mut self, rows: &[ChildRow]) -> Result<(), StoreError> {
        self.insert(rows).await
    }

    pub async fn insert_pii_access(&mut self, rows: &[PiiAccessRow]) -> Result<(), StoreError> {
        self.insert(rows).await
    }
}
