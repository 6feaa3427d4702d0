//! 系统接入 integrators and the institutions' grants to them.

use crate::insert::{AnyQuery, InsertRow};
use crate::{Reader, StoreError, WriteTx};
use sqlx::AssertSqlSafe;

crate::repository!(
    /// 对接 integrators and their grants.
    Integrations,
    integrations
);

#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct IntegratorRow {
    pub id: String,
    pub name: String,
    /// The contact person and phone, sealed (`integrator.contact`).
    pub contact_sealed: String,
    pub key_id: String,
    pub created_by: String,
    pub created_at: i64,
}

const INTEGRATOR_COLUMNS: &str = "id, name, contact_sealed, key_id, created_by, created_at";

impl InsertRow for IntegratorRow {
    const TABLE: &'static str = "integrators";
    const COLUMNS: &'static str = INTEGRATOR_COLUMNS;
    fn bind<'q>(&self, q: AnyQuery<'q>) -> AnyQuery<'q> {
        q.bind(self.id.clone())
            .bind(self.name.clone())
            .bind(self.contact_sealed.clone())
            .bind(self.key_id.clone())
            .bind(self.created_by.clone())
            .bind(self.created_at)
    }
}

/// An institution's authorisation of an integrator, for the listed scopes; revoked, never deleted.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct GrantRow {
    pub id: String,
    pub integrator_id: String,
    pub institution_id: String,
    /// Comma-separated scopes.
    pub scopes: String,
    pub granted_by: String,
    pub granted_at: i64,
    pub revoked_by: Option<String>,
    pub revoked_at: Option<i64>,
}

const GRANT_COLUMNS: &str =
    "id, integrator_id, institution_id, scopes, granted_by, granted_at, revoked_by, revoked_at";

impl InsertRow for GrantRow {
    const TABLE: &'static str = "integration_grants";
    const COLUMNS: &'static str = GRANT_COLUMNS;
    fn bind<'q>(&self, q: AnyQuery<'q>) -> AnyQuery<'q> {
        q.bind(self.id.clone())
            .bind(self.integrator_id.clone())
            .bind(self.institution_id.clone())
            .bind(self.scopes.clone())
            .bind(self.granted_by.clone())
            .bind(self.granted_at)
            .bind(self.revoked_by.clone())
            .bind(self.revoked_at)
    }
}

impl Integrations<&Reader<'_>> {
    pub async fn integrator(&self, id: &str) -> Result<Option<IntegratorRow>, StoreError> {
        Ok(sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {INTEGRATOR_COLUMNS} FROM integrators WHERE id = $1"
        )))
        .bind(id)
        .fetch_optional(&self.store.pool)
        .await?)
    }

    /// Every registered integrator, by name (an institution's admin picks one to authorise).
    pub async fn integrators(&self) -> Result<Vec<IntegratorRow>, StoreError> {
        Ok(sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {INTEGRATOR_COLUMNS} FROM integrators ORDER BY name LIMIT 500"
        )))
        .fetch_all(&self.store.pool)
        .await?)
    }

    /// The live grant of an integrator by an institution, read on every integration request.
    pub async fn live_grant(
        &self,
        integrator_id: &str,
        institution_id: &str,
    ) -> Result<Option<GrantRow>, StoreError> {
        Ok(sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {GRANT_COLUMNS} FROM integration_grants \
             WHERE integrator_id = $1 AND institution_id = $2 AND revoked_at IS NULL"
        )))
        .bind(integrator_id)
        .bind(institution_id)
        .fetch_optional(&self.store.pool)
        .await?)
    }

    /// An institution's grants, newest first, revoked ones included.
    pub async fn grants_of_institution(
        &self,
        institution_id: &str,
    ) -> Result<Vec<GrantRow>, StoreError> {
        Ok(sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {GRANT_COLUMNS} FROM integration_grants WHERE institution_id = $1 \
             ORDER BY granted_at DESC, id DESC LIMIT 200"
        )))
        .bind(institution_id)
        .fetch_all(&self.store.pool)
        .await?)
    }

    /// An integrator's live grants.
    pub async fn live_grants_of_integrator(
        &self,
        integrator_id: &str,
    ) -> Result<Vec<GrantRow>, StoreError> {
        Ok(sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {GRANT_COLUMNS} FROM integration_grants WHERE integrator_id = $1 \
             AND revoked_at IS NULL ORDER BY granted_at, id"
        )))
        .bind(integrator_id)
        .fetch_all(&self.store.pool)
        .await?)
    }
}

impl Integrations<&mut WriteTx> {
    pub async fn insert_integrator(&mut self, row: &IntegratorRow) -> Result<(), StoreError> {
        self.insert(std::slice::from_ref(row)).await
    }

    pub async fn insert_grant(&mut self, row: &GrantRow) -> Result<(), StoreError> {
        self.insert(std::slice::from_ref(row)).await
    }

    /// Revokes a live grant; false when it was not live.
    pub async fn revoke_grant(&mut self, id: &str, by: &str, at: i64) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE integration_grants SET revoked_by = $2, revoked_at = $3 WHERE id = $1 AND revoked_at IS NULL",
        )
        .bind(id)
        .bind(by)
        .bind(at)
        .execute(&mut *self.tx)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    pub async fn grant_for_update(&mut self, id: &str) -> Result<Option<GrantRow>, StoreError> {
        Ok(sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {GRANT_COLUMNS} FROM integration_grants WHERE id = $1"
        )))
        .bind(id)
        .fetch_optional(&mut *self.tx)
        .await?)
    }
}
