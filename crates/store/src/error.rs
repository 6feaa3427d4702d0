use thiserror::Error;

/// What can go wrong below the application. Constraint violations are told apart from faults so the
/// layers above can answer 409/422 instead of 500.
#[derive(Debug, Error)]
pub enum StoreError {
    /// A unique key already exists.
    #[error("conflict: {0}")]
    Conflict(String),
    /// A foreign key, check or not-null constraint refused the row.
    #[error("constraint violated: {0}")]
    Constraint(String),
    /// An append-only table refused an update or delete.
    #[error("append-only: {0}")]
    AppendOnly(String),
    #[error("configuration: {0}")]
    Config(String),
    #[error("migration failed: {0}")]
    Migrate(String),
    /// A stored value that cannot be what the schema promises (e.g. an unknown enum string).
    #[error("corrupt row: {0}")]
    Corrupt(String),
    #[error("database: {0}")]
    Database(sqlx::Error),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        if let sqlx::Error::Database(db) = &e {
            let message = db.message().to_owned();
            if message.contains("append_only") {
                return StoreError::AppendOnly(message);
            }
            return match db.kind() {
                sqlx::error::ErrorKind::UniqueViolation => StoreError::Conflict(message),
                sqlx::error::ErrorKind::ForeignKeyViolation
                | sqlx::error::ErrorKind::NotNullViolation
                | sqlx::error::ErrorKind::CheckViolation => StoreError::Constraint(message),
                _ => StoreError::Database(e),
            };
        }
        StoreError::Database(e)
    }
}

impl From<domain::DomainError> for StoreError {
    fn from(e: domain::DomainError) -> Self {
        StoreError::Corrupt(e.to_string())
    }
}
