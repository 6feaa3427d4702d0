use crate::DomainError;
use serde::{Deserialize, Serialize};
use std::fmt;
use uuid::Uuid;

macro_rules! uuid_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(Uuid);

        impl $name {
            /// A fresh time-ordered (v7) id, so inserts stay local in B-tree indexes.
            pub fn new_v7() -> Self {
                Self(Uuid::now_v7())
            }

            /// A v7 id from a given time and random bytes: deterministic, for the seeded demo generator.
            pub fn from_parts(at: crate::Timestamp, random: [u8; 10]) -> Self {
                let ms = u64::try_from(at.millis()).unwrap_or(0);
                Self(uuid::Builder::from_unix_timestamp_millis(ms, &random).into_uuid())
            }

            pub fn parse(s: &str) -> Result<Self, DomainError> {
                Uuid::try_parse(s).map(Self).map_err(|_| DomainError::InvalidId(s.to_owned()))
            }

            /// The 16 bytes of the UUID (compact encodings such as plate tokens).
            pub fn to_bytes(self) -> [u8; 16] {
                self.0.into_bytes()
            }

            pub fn from_bytes(bytes: [u8; 16]) -> Self {
                Self(Uuid::from_bytes(bytes))
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.hyphenated().fmt(f)
            }
        }
    };
}

uuid_id!(
    /// 培训机构 institution.
    InstitutionId
);
uuid_id!(
    /// 课程 course.
    CourseId
);
uuid_id!(
    /// 公示/公告 public notice.
    NoticeId
);
uuid_id!(
    /// 名单变更 a move between the white, grey and black lists.
    ListChangeId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_rejects_garbage_and_round_trips_hyphenated() {
        assert!(InstitutionId::parse("not-a-uuid").is_err());
        let id = InstitutionId::new_v7();
        assert_eq!(InstitutionId::parse(&id.to_string()), Ok(id));
    }
}
