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

impl DomainError {
    /// The same, in Chinese, for the person who typed the value.
    pub fn message_zh(&self) -> String {
        match self {
            DomainError::InvalidRegionCode(v) => {
                format!("行政区划代码“{v}”无效：应为已知的6位 GB/T 2260 代码")
            }
            DomainError::InvalidCreditCode(v) => format!("统一社会信用代码“{v}”不正确"),
            DomainError::InvalidId(v) => format!("编号“{v}”格式无效"),
            DomainError::InvalidCategory(v) => format!("培训类别“{v}”无效"),
            DomainError::InvalidTeachingMode(v) => format!("教学方式“{v}”无效：应为线上或线下"),
            DomainError::InvalidListStatus(v) => {
                format!("名单类型“{v}”无效：应为白名单、灰名单或黑名单")
            }
            DomainError::InvalidPage(got) => format!("页码须不小于1，实为{got}"),
            DomainError::PerPageOutOfRange { max, got } => {
                format!("每页条数须在1至{max}之间，实为{got}")
            }
            DomainError::MoneyOverflow => "金额超出可计算范围".to_owned(),
            DomainError::AmountOutOfRange {
                field,
                min,
                max,
                got,
            } => format!("{field}：须在{min}至{max}分之间，实为{got}分"),
            DomainError::InvalidCalendar { line, .. } => format!("日历数据第{line}行有误"),
        }
    }
}
