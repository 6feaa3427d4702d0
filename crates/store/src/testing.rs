//! A fresh database per test: SQLite in a temporary directory always; PostgreSQL when
//! `XIAOWAI_TEST_DATABASE_URL` names a server (a new database is created there and dropped after).

use crate::{Store, StoreError, sqlite_url_in};
use ledger::SmSuite;
use sqlx::{AssertSqlSafe, Connection, Executor};
use std::sync::Arc;

pub const TEST_DATABASE_URL_ENV: &str = "XIAOWAI_TEST_DATABASE_URL";

/// A throwaway database. Keep it alive for the test's duration; dropping it removes the database.
pub struct TestDb {
    pub url: String,
    admin_url: Option<String>,
    name: Option<String>,
    _dir: Option<tempfile::TempDir>,
}

impl TestDb {
    /// The backend chosen by the environment.
    pub async fn new() -> TestDb {
        Self::on(std::env::var(TEST_DATABASE_URL_ENV).ok().as_deref()).await
    }

    /// A fresh database on the PostgreSQL server at `admin_url` (dropped afterwards), or SQLite when none.
    pub async fn on(admin_url: Option<&str>) -> TestDb {
        match admin_url {
            Some(url) if !url.is_empty() => Self::postgres(url).await,
            _ => Self::sqlite(),
        }
    }

    pub fn sqlite() -> TestDb {
        let dir = tempfile::tempdir().expect("temporary directory");
        TestDb {
            url: sqlite_url_in(dir.path()),
            admin_url: None,
            name: None,
            _dir: Some(dir),
        }
    }

    async fn postgres(admin_url: &str) -> TestDb {
        let name = format!("xiaowai_test_{}", uuid::Uuid::now_v7().simple());
        let mut conn = sqlx::PgConnection::connect(admin_url)
            .await
            .expect("connect to the test PostgreSQL server");
        conn.execute(AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .await
            .expect("create test database");
        conn.close().await.ok();
        let url = replace_database(admin_url, &name);
        TestDb {
            url,
            admin_url: Some(admin_url.to_owned()),
            name: Some(name),
            _dir: None,
        }
    }

    /// Connects and migrates.
    pub async fn store(&self) -> Result<Store, StoreError> {
        let store = Store::connect(&self.url, Arc::new(SmSuite)).await?;
        store.migrate().await?;
        Ok(store)
    }
}

/// The same server URL with another database name.
pub fn replace_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, format!("?{q}")),
        None => (url, String::new()),
    };
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let base = match base[scheme_end..].find('/') {
        Some(i) => &base[..scheme_end + i],
        None => base,
    };
    format!("{base}/{name}{query}")
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let (Some(admin), Some(name)) = (self.admin_url.take(), self.name.take()) else {
            return;
        };
        // Drop runs outside async; a small runtime on its own thread removes the database.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            rt.block_on(async {
                let mut conn = sqlx::PgConnection::connect(&admin).await.ok()?;
                conn.execute(AssertSqlSafe(format!(
                    "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                )))
                .await
                .ok()
            })
        })
        .join();
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn replaces_the_database_name() {
        assert_eq!(
            super::replace_database("postgres://postgres@127.0.0.1:5432/postgres", "x"),
            "postgres://postgres@127.0.0.1:5432/x"
        );
        assert_eq!(
            super::replace_database("postgres://u@h/db?sslmode=disable", "x"),
            "postgres://u@h/x?sslmode=disable"
        );
        assert_eq!(
            super::replace_database("postgres://u@h", "x"),
            "postgres://u@h/x"
        );
    }
}
