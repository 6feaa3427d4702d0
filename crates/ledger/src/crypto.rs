//! Cryptography behind one trait so a deployment can choose the commercial (SM) suite required by
//! GB/T 39786 or an international one. The RustCrypto SM crates are unaudited: nothing outside this
//! module names them.

use sha2::Digest as _;

/// A 32-byte digest (SM3 and SHA-256 are both 256-bit).
pub type Digest32 = [u8; 32];

pub trait Crypto: Send + Sync + std::fmt::Debug {
    /// `sm` or `intl`: stored beside evidence so a verifier knows which suite made it.
    fn suite_name(&self) -> &'static str;
    fn hash(&self, parts: &[&[u8]]) -> Digest32;
}

/// 商用密码 suite: SM3 hashing (SM2 signatures and SM4-GCM join with the features that need them).
#[derive(Debug, Default, Clone, Copy)]
pub struct SmSuite;

impl Crypto for SmSuite {
    fn suite_name(&self) -> &'static str {
        "sm"
    }

    fn hash(&self, parts: &[&[u8]]) -> Digest32 {
        let mut h = sm3::Sm3::new();
        for p in parts {
            h.update(p);
        }
        h.finalize().into()
    }
}

/// International suite: SHA-256.
#[derive(Debug, Default, Clone, Copy)]
pub struct InternationalSuite;

impl Crypto for InternationalSuite {
    fn suite_name(&self) -> &'static str {
        "intl"
    }

    fn hash(&self, parts: &[&[u8]]) -> Digest32 {
        let mut h = sha2::Sha256::new();
        for p in parts {
            h.update(p);
        }
        h.finalize().into()
    }
}

pub fn suite_by_name(name: &str) -> Option<Box<dyn Crypto>> {
    match name {
        "sm" => Some(Box::new(SmSuite)),
        "intl" => Some(Box::new(InternationalSuite)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sm3_matches_the_gb_t_32905_vector() {
        // GB/T 32905-2016 Appendix A, example 1: SM3("abc").
        assert_eq!(
            hex::encode(SmSuite.hash(&[b"abc"])),
            "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
        );
        // Parts hash as their concatenation.
        assert_eq!(SmSuite.hash(&[b"a", b"bc"]), SmSuite.hash(&[b"abc"]));
    }

    #[test]
    fn sha256_matches_the_fips_vector() {
        assert_eq!(
            hex::encode(InternationalSuite.hash(&[b"abc"])),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
