use crate::DomainError;
use serde::{Deserialize, Serialize};
use std::fmt;

/// 行政区划级别: the level of a GB/T 2260 code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RegionLevel {
    /// 国家 the whole country (code 000000), the national regulator's scope.
    National,
    /// 省级
    Province,
    /// 地级
    Prefecture,
    /// 县级
    County,
}

impl RegionLevel {
    pub fn as_i32(self) -> i32 {
        match self {
            RegionLevel::National => 0,
            RegionLevel::Province => 1,
            RegionLevel::Prefecture => 2,
            RegionLevel::County => 3,
        }
    }
}

/// 行政区划代码 (GB/T 2260): six ASCII digits; digits 1–2 province, 3–4 prefecture, 5–6 county.
/// `000000` stands for the whole country. Parsing checks the shape; whether the code exists is a
/// question for the region table.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RegionCode([u8; 6]);

impl RegionCode {
    pub const NATIONAL: RegionCode = RegionCode(*b"000000");

    pub fn parse(s: &str) -> Result<Self, DomainError> {
        let bytes: [u8; 6] = s
            .as_bytes()
            .try_into()
            .map_err(|_| DomainError::InvalidRegionCode(s.to_owned()))?;
        if !bytes.iter().all(u8::is_ascii_digit) {
            return Err(DomainError::InvalidRegionCode(s.to_owned()));
        }
        let code = RegionCode(bytes);
        // A code with a zero province but non-zero lower digits names nothing.
        if &bytes[..2] == b"00" && code != Self::NATIONAL {
            return Err(DomainError::InvalidRegionCode(s.to_owned()));
        }
        // A zero prefecture pair under a non-zero county pair names nothing either.
        if &bytes[2..4] == b"00" && &bytes[4..6] != b"00" {
            return Err(DomainError::InvalidRegionCode(s.to_owned()));
        }
        Ok(code)
    }

    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).expect("always ASCII digits")
    }

    pub fn level(&self) -> RegionLevel {
        if *self == Self::NATIONAL {
            RegionLevel::National
        } else if &self.0[2..] == b"0000" {
            RegionLevel::Province
        } else if &self.0[4..] == b"00" {
            RegionLevel::Prefecture
        } else {
            RegionLevel::County
        }
    }

    /// The significant prefix: "" national, "11" province, "1101" prefecture, "110108" county.
    pub fn prefix(&self) -> &str {
        let n = match self.level() {
            RegionLevel::National => 0,
            RegionLevel::Province => 2,
            RegionLevel::Prefecture => 4,
            RegionLevel::County => 6,
        };
        &self.as_str()[..n]
    }

    /// The next level up: zero the last non-zero pair. The country has no parent.
    pub fn parent(&self) -> Option<RegionCode> {
        let mut b = self.0;
        match self.level() {
            RegionLevel::National => return None,
            RegionLevel::Province => return Some(Self::NATIONAL),
            RegionLevel::Prefecture => b[2..4].copy_from_slice(b"00"),
            RegionLevel::County => b[4..6].copy_from_slice(b"00"),
        }
        Some(RegionCode(b))
    }

    /// This code and all its ancestors below the national level, highest first.
    pub fn lineage(&self) -> Vec<RegionCode> {
        let mut out = vec![*self];
        let mut cur = *self;
        while let Some(p) = cur.parent() {
            if p == Self::NATIONAL {
                break;
            }
            out.push(p);
            cur = p;
        }
        out.reverse();
        out
    }

    /// Region scope: does `self` (a regulator's region, say) cover `other`? A prefix check by level.
    pub fn contains(&self, other: &RegionCode) -> bool {
        other.as_str().starts_with(self.prefix())
    }
}

impl fmt::Display for RegionCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for RegionCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RegionCode({})", self.as_str())
    }
}

/// 市辖区-style placeholders: prefecture-level rows that group counties but are not a real prefecture.
pub fn is_placeholder_prefecture_name(name: &str) -> bool {
    matches!(
        name,
        "市辖区" | "县" | "省直辖县级行政区划" | "自治区直辖县级行政区划"
    )
}

/// What a selector shows for a prefecture row. Municipalities' 市辖区 reads as the municipality itself
/// ("北京市"); where a municipality has both 市辖区 and 县 (重庆), they read "重庆市（区）" and
/// "重庆市（县）"; every other name is shown as it is.
pub fn prefecture_display_name(
    name: &str,
    province_name: &str,
    province_has_county_placeholder: bool,
) -> String {
    match name {
        "市辖区" if province_has_county_placeholder => format!("{province_name}（区）"),
        "市辖区" => province_name.to_owned(),
        "县" => format!("{province_name}（县）"),
        other => other.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn rc(s: &str) -> RegionCode {
        RegionCode::parse(s).unwrap()
    }

    #[test]
    fn levels_and_parents() {
        assert_eq!(rc("110000").level(), RegionLevel::Province);
        assert_eq!(rc("110100").level(), RegionLevel::Prefecture);
        assert_eq!(rc("110108").level(), RegionLevel::County);
        assert_eq!(rc("110108").parent(), Some(rc("110100")));
        assert_eq!(rc("110100").parent(), Some(rc("110000")));
        assert_eq!(rc("110000").parent(), Some(RegionCode::NATIONAL));
        assert_eq!(RegionCode::NATIONAL.parent(), None);
        assert_eq!(
            rc("110108").lineage(),
            vec![rc("110000"), rc("110100"), rc("110108")]
        );
    }

    #[test]
    fn rejects_malformed_codes() {
        for bad in [
            "",
            "11010",
            "1101081",
            "11a108",
            "001100",
            "110008",
            "１１０１０８",
        ] {
            assert!(RegionCode::parse(bad).is_err(), "{bad} should be rejected");
        }
    }

    #[test]
    fn scope_is_a_prefix_by_level() {
        assert!(rc("110000").contains(&rc("110108")));
        assert!(rc("110100").contains(&rc("110108")));
        assert!(!rc("110100").contains(&rc("120101")));
        assert!(!rc("110108").contains(&rc("110100")));
        assert!(RegionCode::NATIONAL.contains(&rc("650102")));
    }

    #[test]
    fn placeholder_prefectures_read_as_their_municipality() {
        assert_eq!(prefecture_display_name("市辖区", "北京市", false), "北京市");
        assert_eq!(
            prefecture_display_name("市辖区", "重庆市", true),
            "重庆市（区）"
        );
        assert_eq!(
            prefecture_display_name("县", "重庆市", true),
            "重庆市（县）"
        );
        assert_eq!(prefecture_display_name("杭州市", "浙江省", false), "杭州市");
    }

    proptest! {
        #[test]
        fn every_ancestor_contains_the_code(p in 11u32..66, c in 1u32..30, d in 1u32..99) {
            let code = rc(&format!("{p:02}{c:02}{d:02}"));
            for a in code.lineage() {
                prop_assert!(a.contains(&code));
            }
            prop_assert!(!code.contains(&code.parent().unwrap()));
        }
    }
}
