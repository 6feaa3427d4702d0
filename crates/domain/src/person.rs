//! Personal data as validated values. Each type parses once, and shows itself masked unless a caller
//! explicitly asks for the plain value (which the application allows only with a permission and a logged
//! reason). `Debug` is masked too, so personal data cannot leak into logs by formatting.

use chrono::NaiveDate;
use std::fmt;

/// Why personal data was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PersonError {
    #[error("invalid mobile phone number: 11 digits starting 13–19 expected")]
    Phone,
    #[error("invalid ID card number: {0}")]
    IdCard(&'static str),
    #[error("a name must be 1 to {max} characters without control characters")]
    Name { max: usize },
}

impl PersonError {
    pub fn message_zh(&self) -> String {
        match self {
            PersonError::Phone => "手机号不正确：应为以13至19开头的11位数字".to_owned(),
            PersonError::IdCard(why) => {
                let why = match *why {
                    "18 characters expected" => "应为18位",
                    "the check character does not match" => "校验位不符",
                    "the birth date is not a real date" => "出生日期不存在",
                    other => other,
                };
                format!("身份证号码不正确：{why}")
            }
            PersonError::Name { max } => format!("姓名须为1至{max}个字符，且不含控制字符"),
        }
    }
}

/// 手机号 a mainland mobile number, stored as 11 ASCII digits.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct PhoneNumber(String);

impl PhoneNumber {
    /// Accepts `13800000001`, `138 0000 0001`, `138-0000-0001` and `+86 13800000001`.
    pub fn parse(s: &str) -> Result<PhoneNumber, PersonError> {
        let compact: String = s.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
        let digits = compact.strip_prefix("+86").unwrap_or(&compact);
        let b = digits.as_bytes();
        if b.len() != 11
            || !b.iter().all(u8::is_ascii_digit)
            || b[0] != b'1'
            || !(b'3'..=b'9').contains(&b[1])
        {
            return Err(PersonError::Phone);
        }
        Ok(PhoneNumber(digits.to_owned()))
    }

    /// `138****0001`
    pub fn masked(&self) -> String {
        format!("{}****{}", &self.0[..3], &self.0[7..])
    }

    /// The plain number: only for encryption, sending a code, or a logged reveal.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for PhoneNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PhoneNumber({})", self.masked())
    }
}

const ID_WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const ID_CHECK: &[u8; 11] = b"10X98765432";

/// 居民身份证号码 (GB 11643-1999): 6-digit region, 8-digit birth date, 3-digit sequence, check character.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct IdCardNumber(String);

impl IdCardNumber {
    pub fn parse(s: &str) -> Result<IdCardNumber, PersonError> {
        let upper = s.trim().to_ascii_uppercase();
        let b = upper.as_bytes();
        if b.len() != 18 {
            return Err(PersonError::IdCard("18 characters expected"));
        }
        if !b[..17].iter().all(u8::is_ascii_digit) {
            return Err(PersonError::IdCard(
                "the first 17 characters must be digits",
            ));
        }
        let sum: u32 = b[..17]
            .iter()
            .zip(ID_WEIGHTS)
            .map(|(c, w)| u32::from(c - b'0') * w)
            .sum();
        if ID_CHECK[(sum % 11) as usize] != b[17] {
            return Err(PersonError::IdCard("the check character does not match"));
        }
        if NaiveDate::parse_from_str(&upper[6..14], "%Y%m%d").is_err() || &upper[6..8] < "19" {
            return Err(PersonError::IdCard("the birth date is not a real date"));
        }
        Ok(IdCardNumber(upper))
    }

    /// 17 digits with their GB 11643 check character appended (demo data and tests make numbers this way);
    /// `None` unless exactly 17 ASCII digits.
    pub fn with_check_character(first17: &str) -> Option<String> {
        if first17.len() != 17 || !first17.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let sum: u32 = first17
            .bytes()
            .zip(ID_WEIGHTS)
            .map(|(c, w)| u32::from(c - b'0') * w)
            .sum();
        Some(format!(
            "{first17}{}",
            ID_CHECK[(sum % 11) as usize] as char
        ))
    }

    pub fn birth_date(&self) -> NaiveDate {
        NaiveDate::parse_from_str(&self.0[6..14], "%Y%m%d").expect("checked in parse")
    }

    /// `1101**********001X`: the province/prefecture and the last four, nothing of the birth date.
    pub fn masked(&self) -> String {
        format!("{}**********{}", &self.0[..4], &self.0[14..])
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for IdCardNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "IdCardNumber({})", self.masked())
    }
}

/// A person's name (a parent's or a child's): 1–50 characters, no control characters.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct PersonName(String);

impl PersonName {
    pub const MAX_CHARS: usize = 50;

    pub fn parse(s: &str) -> Result<PersonName, PersonError> {
        let t = s.trim();
        let n = t.chars().count();
        if n == 0 || n > Self::MAX_CHARS || t.chars().any(char::is_control) {
            return Err(PersonError::Name {
                max: Self::MAX_CHARS,
            });
        }
        Ok(PersonName(t.to_owned()))
    }

    /// `张*`, `王*明`, `欧**华`: the first and (for three or more characters) the last character.
    pub fn masked(&self) -> String {
        let chars: Vec<char> = self.0.chars().collect();
        match chars.len() {
            1 => "*".to_owned(),
            2 => format!("{}*", chars[0]),
            n => format!("{}{}{}", chars[0], "*".repeat(n - 2), chars[n - 1]),
        }
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for PersonName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PersonName({})", self.masked())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn with_check(first17: &str) -> String {
        IdCardNumber::with_check_character(first17).expect("17 digits")
    }

    #[test]
    fn phone_numbers_parse_in_common_spellings_and_mask() {
        for ok in [
            "13800000001",
            "138 0000 0001",
            "138-0000-0001",
            "+86 13800000001",
            "19912345678",
        ] {
            assert_eq!(PhoneNumber::parse(ok).unwrap().expose().len(), 11, "{ok}");
        }
        for bad in [
            "",
            "1380000000",
            "138000000012",
            "12800000001",
            "23800000001",
            "1380000000a",
            "１３８００００００01",
        ] {
            assert_eq!(PhoneNumber::parse(bad), Err(PersonError::Phone), "{bad}");
        }
        let p = PhoneNumber::parse("13800000001").unwrap();
        assert_eq!(p.masked(), "138****0001");
        assert_eq!(format!("{p:?}"), "PhoneNumber(138****0001)");
    }

    #[test]
    fn id_card_numbers_need_their_check_character_and_a_real_birth_date() {
        // The sample number printed in GB 11643-1999.
        let sample = IdCardNumber::parse("11010519491231002X").unwrap();
        assert_eq!(
            sample.birth_date(),
            NaiveDate::from_ymd_opt(1949, 12, 31).unwrap()
        );
        assert_eq!(sample.masked(), "1101**********002X");
        assert!(
            IdCardNumber::parse("11010519491231002x").is_ok(),
            "a lower-case x is accepted"
        );
        assert_eq!(
            IdCardNumber::parse("110105194912310021"),
            Err(PersonError::IdCard("the check character does not match"))
        );
        assert!(IdCardNumber::parse("11010519491231002").is_err());
        assert!(
            IdCardNumber::parse(&with_check("11010820150230001")).is_err(),
            "30 February"
        );
        assert!(IdCardNumber::parse(&with_check("11010820150228001")).is_ok());
        assert!(
            !format!("{sample:?}").contains("19491231"),
            "Debug never shows the birth date"
        );
    }

    #[test]
    fn names_are_bounded_and_masked() {
        assert_eq!(PersonName::parse("张").unwrap().masked(), "*");
        assert_eq!(PersonName::parse("张三").unwrap().masked(), "张*");
        assert_eq!(PersonName::parse(" 王小明 ").unwrap().masked(), "王*明");
        assert_eq!(PersonName::parse("欧阳修远").unwrap().masked(), "欧**远");
        assert!(PersonName::parse("").is_err());
        assert!(PersonName::parse("   ").is_err());
        assert!(PersonName::parse(&"名".repeat(51)).is_err());
        assert!(PersonName::parse("a\u{0}b").is_err());
    }

    proptest! {
        #[test]
        fn any_valid_id_with_one_digit_changed_is_refused(seq in 0u32..1000, pos in 0usize..17, delta in 1u8..10) {
            let id = with_check(&format!("110108201501{:02}{:03}", 1 + seq % 28, seq));
            prop_assert!(IdCardNumber::parse(&id).is_ok());
            let mut bytes = id.into_bytes();
            bytes[pos] = b'0' + (bytes[pos] - b'0' + delta) % 10;
            let changed = String::from_utf8(bytes).unwrap();
            // A single changed digit always changes the weighted sum mod 11 (weights are non-zero mod 11).
            prop_assert!(IdCardNumber::parse(&changed).is_err());
        }
    }
}
