//! 认领 claims: the rows a background job takes for one server. A claim moves the rows' next attempt (or
//! their `claimed_until`) to the end of a lease in one statement, so another server's claim passes them by —
//! on PostgreSQL it skips rows a claim holds (`Backend::claim_suffix`) and, once that claim commits, they no
//! longer match the due condition. The job's outcome sets the next attempt for real; a server that dies
//! before leaves its rows to be claimed again when the lease ends.

use crate::{StoreError, WriteTx};
use sqlx::AssertSqlSafe;
use sqlx::any::AnyRow;

/// Where a claim looks: a table, what makes a row due besides its time (`$2` is now), the order rows are
/// taken in, and the column that holds the lease (`$1` is its end).
pub(crate) struct Claim<'a> {
    pub table: &'a str,
    pub lease_column: &'a str,
    pub due: &'a str,
    pub order: &'a str,
    pub columns: &'a str,
}

impl WriteTx {
    /// Claims up to `limit` due rows until `lease_until`; `extra` binds `$4…` of the due condition.
    pub(crate) async fn claim<T>(
        &mut self,
        claim: Claim<'_>,
        now: i64,
        lease_until: i64,
        limit: i64,
        extra: &[i64],
    ) -> Result<Vec<T>, StoreError>
    where
        T: for<'r> sqlx::FromRow<'r, AnyRow> + Send + Unpin,
    {
        let Claim {
            table,
            lease_column,
            due,
            order,
            columns,
        } = claim;
        let sql = format!(
            "UPDATE {table} SET {lease_column} = $1 WHERE id IN (SELECT id FROM {table} WHERE {due} \
             ORDER BY {order} LIMIT $3{}) AND {due} RETURNING {columns}",
            self.backend.claim_suffix()
        );
        let mut query = sqlx::query_as(AssertSqlSafe(sql))
            .bind(lease_until)
            .bind(now)
            .bind(limit);
        for v in extra {
            query = query.bind(*v);
        }
        Ok(query.fetch_all(&mut *self.tx).await?)
    }
}

impl WriteTx {
    /// Takes the periodic job `name` for this server if it is due at `now` (first use: due at `first_due`):
    /// its `due_at` moves to `lease_until`, so no other server takes it meanwhile. True if taken.
    pub async fn take_due_job(
        &mut self,
        name: &str,
        now: i64,
        first_due: i64,
        lease_until: i64,
    ) -> Result<bool, StoreError> {
        sqlx::query(
            "INSERT INTO job_schedule (name, due_at) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
        )
        .bind(name)
        .bind(first_due)
        .execute(&mut *self.tx)
        .await?;
        let taken =
            sqlx::query("UPDATE job_schedule SET due_at = $3 WHERE name = $1 AND due_at <= $2")
                .bind(name)
                .bind(now)
                .bind(lease_until)
                .execute(&mut *self.tx)
                .await?;
        Ok(taken.rows_affected() == 1)
    }

    /// Records a run of the periodic job `name` that this server took: when it is due next, and why it
    /// failed if it did.
    pub async fn finish_job(
        &mut self,
        name: &str,
        ran_at: i64,
        next_due: i64,
        error: Option<&str>,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE job_schedule SET due_at = $2, last_run_at = $3, last_error = $4 WHERE name = $1",
        )
        .bind(name)
        .bind(next_due)
        .bind(ran_at)
        .bind(error.map(str::to_owned))
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }
}
