use thiserror::Error;

/// A value that failed to parse into a domain type. Each variant maps to one stable API error code.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DomainError {
    #[error("invalid region code {0:?}: six digits of a known GB/T 2260 level expected")]
    InvalidRegionCode(String),
    #[error("invalid unified social credit code {0:?}")]
    InvalidCreditCode(String),
    #[error("invalid id {0:?}: a UUID expected")]
    InvalidId(String),
    #[error("invalid category {0:?}")]
    InvalidCategory(String),
    #[error("invalid teaching mode {0:?}: online or offline expected")]
    InvalidTeachingMode(String),
    #[error("invalid list status {0:?}: white, grey or black expected")]
    InvalidListStatus(String),
    #[error("page must be at least 1, got {0}")]
    InvalidPage(i64),
    #[error("per_page must be between 1 and {max}, got {got}")]
    PerPageOutOfRange { max: u32, got: i64 },
    #[error("money overflow")]
    MoneyOverflow,
    #[error("{field}: {min} to {max} fen, got {got}")]
    AmountOutOfRange {
        field: &'static str,
        min: i64,
        max: i64,
        got: i64,
    },
    #[error("invalid calendar data at line {line}: {reason}")]
    InvalidCalendar { line: usize, reason: String },
}
