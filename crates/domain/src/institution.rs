use crate::DomainError;
use serde::{Deserialize, Serialize};

/// 名单状态: which public list an institution is on.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema, strum::EnumIs,
)]
#[serde(rename_all = "snake_case")]
pub enum ListStatus {
    /// 白名单: approved and under fund supervision.
    White,
    /// 灰名单: licensed but not yet selling on the platform, or under rectification.
    Grey,
    /// 黑名单: unlicensed, a safety hazard, illegal training, or removed for cause.
    Black,
}

impl ListStatus {
    pub const ALL: [ListStatus; 3] = [ListStatus::White, ListStatus::Grey, ListStatus::Black];

    pub fn parse(s: &str) -> Result<Self, DomainError> {
        match s {
            "white" => Ok(Self::White),
            "grey" => Ok(Self::Grey),
            "black" => Ok(Self::Black),
            _ => Err(DomainError::InvalidListStatus(s.to_owned())),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::White => "white",
            Self::Grey => "grey",
            Self::Black => "black",
        }
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            Self::White => "白名单",
            Self::Grey => "灰名单",
            Self::Black => "黑名单",
        }
    }
}

/// What the store decodes a `list_status` column with.
impl TryFrom<String> for ListStatus {
    type Error = DomainError;
    fn try_from(value: String) -> Result<Self, DomainError> {
        Self::parse(&value)
    }
}

impl std::fmt::Display for ListStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

crate::state::states! {
    /// 登记状态: where an institution stands in the registry. It applies (报备 under review), is listed once its
    /// first filing is approved, and is removed (撤除) for cause; a removed institution never returns.
    pub enum RegistryState("registry") {
        #[strum(message = "申请中")]
        Applying,
        #[strum(message = "已登记")]
        Listed,
        #[strum(message = "已撤除")]
        Removed,
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, strum::IntoStaticStr)]
#[strum(serialize_all = "snake_case")]
pub enum RegistryEvent {
    /// The first filing is approved.
    List,
    /// 撤除
    Remove,
}

impl crate::state::Machine for RegistryState {
    type Event = RegistryEvent;
    const KIND: &'static str = "registry";

    fn next(self, event: RegistryEvent) -> Option<Self> {
        match (self, event) {
            (Self::Applying, RegistryEvent::List) => Some(Self::Listed),
            (Self::Applying | Self::Listed, RegistryEvent::Remove) => Some(Self::Removed),
            _ => None,
        }
    }
}

/// 培训类别: the platform's course and institution categories (教监管厅函〔2021〕3号).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    /// 学科类
    Subject,
    /// 体育
    Sports,
    /// 艺术
    Arts,
    /// 综合实践
    Practice,
    /// 科技
    Technology,
}

impl Category {
    pub const ALL: [Category; 5] = [
        Category::Subject,
        Category::Sports,
        Category::Arts,
        Category::Practice,
        Category::Technology,
    ];

    /// Accepts the English code (`subject`) or the Chinese name (`学科`).
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        Self::ALL
            .into_iter()
            .find(|c| c.as_str() == s || c.label_zh() == s)
            .ok_or_else(|| DomainError::InvalidCategory(s.to_owned()))
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Subject => "subject",
            Self::Sports => "sports",
            Self::Arts => "arts",
            Self::Practice => "practice",
            Self::Technology => "technology",
        }
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            Self::Subject => "学科",
            Self::Sports => "体育",
            Self::Arts => "艺术",
            Self::Practice => "综合实践",
            Self::Technology => "科技",
        }
    }

    /// Subject (学科类) training carries the strictest rules: guidance prices, no weekends or holidays.
    pub fn is_subject(self) -> bool {
        self == Self::Subject
    }
}

/// 线上/线下: how an institution or course teaches. Decides the competent regulator
/// (online → province, offline → county of the premises) and the lesson-time rules.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TeachingMode {
    Online,
    Offline,
}

impl TeachingMode {
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        match s {
            "online" | "线上" => Ok(Self::Online),
            "offline" | "线下" => Ok(Self::Offline),
            _ => Err(DomainError::InvalidTeachingMode(s.to_owned())),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Online => "online",
            Self::Offline => "offline",
        }
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            Self::Online => "线上",
            Self::Offline => "线下",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_chinese_names_parse() {
        for c in Category::ALL {
            assert_eq!(Category::parse(c.as_str()), Ok(c));
            assert_eq!(Category::parse(c.label_zh()), Ok(c));
        }
        for s in ListStatus::ALL {
            assert_eq!(ListStatus::parse(s.as_str()), Ok(s));
        }
        assert!(Category::parse("烹饪").is_err());
        assert!(ListStatus::parse("White").is_err());
        assert_eq!(TeachingMode::parse("线上"), Ok(TeachingMode::Online));
        assert!(TeachingMode::parse("hybrid").is_err());
    }
}
