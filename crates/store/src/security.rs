//! Versions of the security policy (append-only).

use crate::insert::{AnyQuery, InsertRow, insert_rows};
use crate::{Reader, StoreError, WriteTx};

/// One version of the security policy.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct SecurityPolicyRow {
    pub version: i64,
    /// Canonical JSON of the policy.
    pub policy: String,
    pub reason: String,
    pub set_by: String,
    pub set_at: i64,
}

const COLUMNS: &str = "version, policy, reason, set_by, set_at";

impl InsertRow for SecurityPolicyRow {
    const TABLE: &'static str = "security_policies";
    const COLUMNS: &'static str = COLUMNS;
    fn bind<'q>(&self, q: AnyQuery<'q>) -> AnyQuery<'q> {
        q.bind(self.version)
            .bind(self.policy.clone())
            .bind(self.reason.clone())
            .bind(self.set_by.clone())
            .bind(self.set_at)
    }
}

const LATEST: &str = "SELECT version, policy, reason, set_by, set_at FROM security_policies ORDER BY version DESC LIMIT 1";

impl Reader<'_> {
    /// The version in force, if any was ever set.
    pub async fn security_policy(&self) -> Result<Option<SecurityPolicyRow>, StoreError> {
        Ok(sqlx::query_as(LATEST)
            .fetch_optional(&self.store.pool)
            .await?)
    }
}

impl WriteTx {
    /// The version in force, read inside this transaction.
    pub async fn security_policy(&mut self) -> Result<Option<SecurityPolicyRow>, StoreError> {
        Ok(sqlx::query_as(LATEST).fetch_optional(&mut *self.tx).await?)
    }

    /// Adds a version (its number one above the latest; a concurrent change conflicts on the key).
    pub async fn insert_security_policy(
        &mut self,
        row: &SecurityPolicyRow,
    ) -> Result<(), StoreError> {
        insert_rows(&mut self.tx, self.backend, std::slice::from_ref(row)).await
    }
}
