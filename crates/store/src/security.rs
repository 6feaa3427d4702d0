//! Versions of the security policy (append-only).

use crate::insert::{AnyQuery, InsertRow};
use crate::{Reader, StoreError, WriteTx};

crate::repository!(
    /// 政策 security policies and regions' fee policies.
    Policies,
    policies
);

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

impl Policies<&mut WriteTx> {
    /// Adds a version (its number one above the latest; a concurrent change conflicts on the key).
    pub async fn insert_security_policy(
        &mut self,
        row: &SecurityPolicyRow,
    ) -> Result<(), StoreError> {
        self.insert(std::slice::from_ref(row)).await
    }
}

/// One version of a region's policy override.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct RegionPolicyRow {
    pub region_code: String,
    pub version: i64,
    pub policy: String,
    pub reason: String,
    pub set_by: String,
    pub set_at: i64,
}

impl InsertRow for RegionPolicyRow {
    const TABLE: &'static str = "region_policies";
    const COLUMNS: &'static str = "region_code, version, policy, reason, set_by, set_at";
    fn bind<'q>(&self, q: AnyQuery<'q>) -> AnyQuery<'q> {
        q.bind(self.region_code.clone())
            .bind(self.version)
            .bind(self.policy.clone())
            .bind(self.reason.clone())
            .bind(self.set_by.clone())
            .bind(self.set_at)
    }
}

const LATEST_REGION_POLICY: &str = "SELECT region_code, version, policy, reason, set_by, set_at FROM region_policies \
     WHERE region_code = $1 ORDER BY version DESC LIMIT 1";

impl Policies<&Reader<'_>> {
    /// The version in force for each of `regions` that has one.
    pub async fn region_policies(
        &self,
        regions: &[&str],
    ) -> Result<Vec<RegionPolicyRow>, StoreError> {
        let mut rows = Vec::new();
        for region in regions {
            let row: Option<RegionPolicyRow> = sqlx::query_as(LATEST_REGION_POLICY)
                .bind(*region)
                .fetch_optional(&self.store.pool)
                .await?;
            rows.extend(row);
        }
        Ok(rows)
    }
}

impl Policies<&mut WriteTx> {
    pub async fn latest_region_policy(
        &mut self,
        region: &str,
    ) -> Result<Option<RegionPolicyRow>, StoreError> {
        Ok(sqlx::query_as(LATEST_REGION_POLICY)
            .bind(region)
            .fetch_optional(&mut *self.tx)
            .await?)
    }

    pub async fn insert_region_policy(&mut self, row: &RegionPolicyRow) -> Result<(), StoreError> {
        self.insert(std::slice::from_ref(row)).await
    }
}

impl<S: crate::Connection> Policies<S> {
    /// The version in force, if any was ever set.
    pub async fn security_policy(&mut self) -> Result<Option<SecurityPolicyRow>, StoreError> {
        Ok(sqlx::query_as(LATEST)
            .fetch_optional(self.0.executor())
            .await?)
    }
}
