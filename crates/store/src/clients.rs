//! API clients and the nonces that guard their signed requests against replay.

use crate::insert::{AnyQuery, InsertRow};
use crate::{Reader, StoreError, WriteTx};

crate::repository!(
    /// 接口凭据 API clients of banks and integrators.
    ApiClients,
    clients
);

#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct ApiClientRow {
    pub key_id: String,
    pub secret_sealed: String,
    /// `bank` or `integrator`.
    pub owner_kind: String,
    pub owner_id: String,
    pub disabled: i64,
    pub created_at: i64,
}

impl InsertRow for ApiClientRow {
    const TABLE: &'static str = "api_clients";
    const COLUMNS: &'static str =
        "key_id, secret_sealed, owner_kind, owner_id, disabled, created_at";
    fn bind<'q>(&self, q: AnyQuery<'q>) -> AnyQuery<'q> {
        q.bind(self.key_id.clone())
            .bind(self.secret_sealed.clone())
            .bind(self.owner_kind.clone())
            .bind(self.owner_id.clone())
            .bind(self.disabled)
            .bind(self.created_at)
    }
}

impl ApiClients<&Reader<'_>> {
    /// An owner's enabled client (the platform signs what it sends to a bank with the bank's key).
    pub async fn api_client_of(
        &self,
        owner_kind: &str,
        owner_id: &str,
    ) -> Result<Option<ApiClientRow>, StoreError> {
        let sql = format!(
            "SELECT {} FROM api_clients WHERE owner_kind = $1 AND owner_id = $2 AND disabled = 0 \
             ORDER BY created_at, key_id LIMIT 1",
            <ApiClientRow as InsertRow>::COLUMNS
        );
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(owner_kind)
            .bind(owner_id)
            .fetch_optional(&self.store.pool)
            .await?)
    }

    pub async fn api_client(&self, key_id: &str) -> Result<Option<ApiClientRow>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT key_id, secret_sealed, owner_kind, owner_id, disabled, created_at FROM api_clients WHERE key_id = $1",
        )
        .bind(key_id)
        .fetch_optional(&self.store.pool)
        .await?)
    }
}

impl ApiClients<&mut WriteTx> {
    pub async fn insert_api_client(&mut self, row: &ApiClientRow) -> Result<(), StoreError> {
        self.insert(std::slice::from_ref(row)).await
    }

    /// Records a nonce; `Err(StoreError::Conflict)` if this client used it before (a replay).
    pub async fn record_nonce(
        &mut self,
        key_id: &str,
        nonce: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO api_nonces (key_id, nonce, seen_at) VALUES ($1, $2, $3)")
            .bind(key_id)
            .bind(nonce)
            .bind(now)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    /// Forgets nonces older than `before`: requests that old are refused by their timestamp anyway.
    pub async fn forget_nonces_before(&mut self, before: i64) -> Result<u64, StoreError> {
        let done = sqlx::query("DELETE FROM api_nonces WHERE seen_at < $1")
            .bind(before)
            .execute(&mut *self.tx)
            .await?;
        Ok(done.rows_affected())
    }
}

/// A column holding sealed (encrypted) values, and the column that identifies its rows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SealedColumn {
    pub table: &'static str,
    pub key: &'static str,
    pub column: &'static str,
}

/// Every column that holds sealed values: what a key rotation re-seals.
pub const SEALED_COLUMNS: &[SealedColumn] = &[
    SealedColumn {
        table: "practitioner_blacklist",
        key: "id",
        column: "name_sealed",
    },
    SealedColumn {
        table: "staff_members",
        key: "id",
        column: "name_sealed",
    },
    SealedColumn {
        table: "staff_members",
        key: "id",
        column: "id_card_sealed",
    },
    SealedColumn {
        table: "accounts",
        key: "id",
        column: "phone_sealed",
    },
    SealedColumn {
        table: "accounts",
        key: "id",
        column: "totp_secret_sealed",
    },
    SealedColumn {
        table: "children",
        key: "id",
        column: "name_sealed",
    },
    SealedColumn {
        table: "children",
        key: "id",
        column: "id_card_sealed",
    },
    SealedColumn {
        table: "integrators",
        key: "id",
        column: "contact_sealed",
    },
    SealedColumn {
        table: "api_clients",
        key: "key_id",
        column: "secret_sealed",
    },
];

impl ApiClients<&mut WriteTx> {
    /// `(row key, sealed value)` of every non-null value in a sealed column.
    pub async fn sealed_values(
        &mut self,
        c: SealedColumn,
    ) -> Result<Vec<(String, String)>, StoreError> {
        // Identifiers come only from SEALED_COLUMNS, never from input.
        debug_assert!(SEALED_COLUMNS.contains(&c));
        let sql = format!(
            "SELECT {key}, {col} FROM {table} WHERE {col} IS NOT NULL ORDER BY {key}",
            key = c.key,
            col = c.column,
            table = c.table
        );
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .fetch_all(&mut *self.tx)
            .await?)
    }

    pub async fn update_sealed(
        &mut self,
        c: SealedColumn,
        key: &str,
        value: &str,
    ) -> Result<(), StoreError> {
        debug_assert!(SEALED_COLUMNS.contains(&c));
        let sql = format!(
            "UPDATE {table} SET {col} = $1 WHERE {key} = $2",
            table = c.table,
            col = c.column,
            key = c.key
        );
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(value)
            .bind(key)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }
}
