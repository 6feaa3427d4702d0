//! 统一社会信用代码 unified social credit code (GB 32100-2015): 18 characters, the 9th to 17th are the
//! organisation code (GB 11714) with its own check character, the 18th checks the whole.

use crate::DomainError;

const CHARSET: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
const WEIGHTS: [u32; 17] = [
    1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
];
const ORG_WEIGHTS: [u32; 8] = [3, 7, 9, 10, 5, 8, 4, 2];

fn value(c: u8) -> Option<u32> {
    CHARSET.iter().position(|&x| x == c).map(|p| p as u32)
}

/// The GB 32100 check character for the first 17 characters.
fn check_char(first17: &[u8]) -> Option<u8> {
    let mut sum = 0;
    for (c, w) in first17.iter().zip(WEIGHTS) {
        sum += value(*c)? * w;
    }
    Some(CHARSET[((31 - sum % 31) % 31) as usize])
}

/// The GB 11714 check character for the first 8 characters of an organisation code.
fn org_check_char(first8: &[u8]) -> Option<u8> {
    let mut sum = 0;
    for (c, w) in first8.iter().zip(ORG_WEIGHTS) {
        let v = match c {
            b'0'..=b'9' => u32::from(c - b'0'),
            b'A'..=b'Z' => u32::from(c - b'A') + 10,
            _ => return None,
        };
        sum += v * w;
    }
    Some(match 11 - sum % 11 {
        10 => b'X',
        11 => b'0',
        n => b'0' + n as u8,
    })
}

/// A validated credit code.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct CreditCode(String);

impl CreditCode {
    pub fn parse(s: &str) -> Result<CreditCode, DomainError> {
        let bad = || DomainError::InvalidCreditCode(s.to_owned());
        let b = s.as_bytes();
        if b.len() != 18 || !b.iter().all(|c| value(*c).is_some()) {
            return Err(bad());
        }
        if org_check_char(&b[8..16]) != Some(b[16]) || check_char(&b[..17]) != Some(b[17]) {
            return Err(bad());
        }
        Ok(CreditCode(s.to_owned()))
    }

    /// Completes a code from its registration department and type (2 chars), region (6 digits) and the
    /// 8-digit organisation number body, adding both check characters.
    pub fn complete(
        dept_and_type: &str,
        region: &str,
        org_body: &str,
    ) -> Result<CreditCode, DomainError> {
        let mut s = format!("{dept_and_type}{region}{org_body}");
        let bad = |s: &str| DomainError::InvalidCreditCode(s.to_owned());
        if s.len() != 16 {
            return Err(bad(&s));
        }
        let org = org_check_char(&s.as_bytes()[8..16]).ok_or_else(|| bad(&s))?;
        s.push(org as char);
        let check = check_char(s.as_bytes()).ok_or_else(|| bad(&s))?;
        s.push(check as char);
        CreditCode::parse(&s)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_a_published_code_and_rejects_a_changed_character() {
        // The example code in GB 32100-2015's explanatory material.
        assert!(CreditCode::parse("91350100M000100Y43").is_ok());
        assert!(CreditCode::parse("91350100M000100Y44").is_err());
        assert!(CreditCode::parse("91350100M000100Y4").is_err());
        assert!(
            CreditCode::parse("91350100M000100I43").is_err(),
            "I is not in the charset"
        );
    }

    #[test]
    fn completed_codes_validate() {
        let c = CreditCode::complete("52", "110108", "MJ012345").unwrap();
        assert_eq!(c.as_str().len(), 18);
        assert!(CreditCode::parse(c.as_str()).is_ok());
    }
}
