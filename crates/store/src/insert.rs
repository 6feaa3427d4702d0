//! The one chunked multi-row INSERT that every bulk write in the store goes through.

use crate::{Backend, StoreError};
use sqlx::any::AnyArguments;
use sqlx::query::Query;
use sqlx::{Any, AnyConnection, AssertSqlSafe};

pub(crate) type AnyQuery<'q> = Query<'q, Any, AnyArguments>;

/// Rows per statement: 500 rows × 14 columns stays under SQLite's 32,766 and PostgreSQL's 65,535 binds.
const INSERT_CHUNK: usize = 500;

/// A row type that knows its table and binds its values in `COLUMNS` order.
pub(crate) trait InsertRow {
    const TABLE: &'static str;
    /// Comma-separated column names, also usable in SELECT lists.
    const COLUMNS: &'static str;
    /// Appended to the statement, e.g. an `ON CONFLICT` clause.
    const ON_CONFLICT: &'static str = "";
    fn bind<'q>(&self, q: AnyQuery<'q>) -> AnyQuery<'q>;
}

pub(crate) async fn insert_rows<R: InsertRow>(
    conn: &mut AnyConnection,
    backend: Backend,
    rows: &[R],
) -> Result<(), StoreError> {
    let width = R::COLUMNS.split(',').count();
    for chunk in rows.chunks(INSERT_CHUNK) {
        let values = backend.values_rows(chunk.len(), width);
        let sql = format!(
            "INSERT INTO {} ({}) VALUES {values}{}",
            R::TABLE,
            R::COLUMNS,
            R::ON_CONFLICT
        );
        let mut q = sqlx::query(AssertSqlSafe(sql));
        for r in chunk {
            q = r.bind(q);
        }
        q.execute(&mut *conn).await?;
    }
    Ok(())
}

impl crate::WriteTx {
    /// Inserts `rows` inside this transaction, in chunks.
    pub(crate) async fn insert<R: InsertRow>(&mut self, rows: &[R]) -> Result<(), StoreError> {
        insert_rows(&mut self.tx, self.backend, rows).await
    }
}
