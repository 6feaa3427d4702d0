//! Cryptography behind one trait so a deployment can choose the commercial (SM) suite required by
//! GB/T 39786 or an international one. The RustCrypto SM crates are unaudited: nothing outside this
//! module names them.

use aes_gcm::aead::consts::U12;
use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{AesGcm, Nonce};
use hmac::{Hmac, Mac};
use sha2::Digest as _;

/// A 32-byte digest (SM3 and SHA-256 are both 256-bit).
pub type Digest32 = [u8; 32];

/// Nonce length of the AEAD modes (96 bits, as GCM wants).
pub const NONCE_LEN: usize = 12;

type Sm4Gcm = AesGcm<sm4::Sm4, U12>;

/// Why a seal or open failed. Opening fails on a wrong key, a wrong associated datum or any change to
/// the sealed bytes: that is the point of an authenticated mode.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CryptoError {
    #[error("key must be {expected} bytes, got {got}")]
    KeyLength { expected: usize, got: usize },
    #[error("sealed data is too short")]
    Truncated,
    #[error("authentication failed: wrong key, wrong context, or tampered data")]
    Authentication,
}

pub trait Crypto: Send + Sync + std::fmt::Debug {
    /// `sm` or `intl`: stored beside evidence so a verifier knows which suite made it.
    fn suite_name(&self) -> &'static str;
    fn hash(&self, parts: &[&[u8]]) -> Digest32;
    /// Keyed hash (HMAC-SM3 or HMAC-SHA-256): request signatures and blind indexes.
    fn mac(&self, key: &[u8], parts: &[&[u8]]) -> Digest32;
    /// Length of a data-encryption key for [`Crypto::seal`].
    fn data_key_len(&self) -> usize;
    /// Authenticated encryption (SM4-GCM or AES-256-GCM). Returns `nonce || ciphertext || tag`. The caller
    /// supplies a fresh random nonce for every seal; `aad` binds the ciphertext to its context (e.g. the
    /// column and row it belongs to), so it cannot be moved elsewhere unnoticed.
    fn seal(
        &self,
        key: &[u8],
        nonce: [u8; NONCE_LEN],
        plaintext: &[u8],
        aad: &[u8],
    ) -> Result<Vec<u8>, CryptoError>;
    /// The inverse of [`Crypto::seal`].
    fn open(&self, key: &[u8], sealed: &[u8], aad: &[u8]) -> Result<Vec<u8>, CryptoError>;
}

fn check_key(key: &[u8], expected: usize) -> Result<(), CryptoError> {
    if key.len() == expected {
        Ok(())
    } else {
        Err(CryptoError::KeyLength {
            expected,
            got: key.len(),
        })
    }
}

fn seal_with<C>(
    key: &[u8],
    nonce: [u8; NONCE_LEN],
    msg: &[u8],
    aad: &[u8],
) -> Result<Vec<u8>, CryptoError>
where
    C: Aead + KeyInit + aes_gcm::aead::AeadCore<NonceSize = U12>,
{
    let cipher = C::new_from_slice(key).map_err(|_| CryptoError::KeyLength {
        expected: 0,
        got: key.len(),
    })?;
    let body = cipher
        .encrypt(&Nonce::<U12>::from(nonce), Payload { msg, aad })
        .map_err(|_| CryptoError::Authentication)?;
    let mut out = Vec::with_capacity(NONCE_LEN + body.len());
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&body);
    Ok(out)
}

fn open_with<C>(key: &[u8], sealed: &[u8], aad: &[u8]) -> Result<Vec<u8>, CryptoError>
where
    C: Aead + KeyInit + aes_gcm::aead::AeadCore<NonceSize = U12>,
{
    if sealed.len() < NONCE_LEN + 16 {
        return Err(CryptoError::Truncated);
    }
    let (nonce, body) = sealed.split_at(NONCE_LEN);
    let nonce: [u8; NONCE_LEN] = nonce.try_into().map_err(|_| CryptoError::Truncated)?;
    let cipher = C::new_from_slice(key).map_err(|_| CryptoError::KeyLength {
        expected: 0,
        got: key.len(),
    })?;
    cipher
        .decrypt(&Nonce::<U12>::from(nonce), Payload { msg: body, aad })
        .map_err(|_| CryptoError::Authentication)
}

fn hmac_with<M: Mac + KeyInit>(key: &[u8], parts: &[&[u8]]) -> Digest32 {
    let mut m = <M as KeyInit>::new_from_slice(key).expect("HMAC takes keys of any length");
    for p in parts {
        m.update(p);
    }
    let tag = m.finalize().into_bytes();
    let mut out = [0u8; 32];
    out.copy_from_slice(&tag[..32]);
    out
}

/// 商用密码 suite: SM3 hashing, HMAC-SM3, SM4-GCM (SM2 signatures join with the checkpoint feature).
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

    fn mac(&self, key: &[u8], parts: &[&[u8]]) -> Digest32 {
        hmac_with::<Hmac<sm3::Sm3>>(key, parts)
    }

    fn data_key_len(&self) -> usize {
        16
    }

    fn seal(
        &self,
        key: &[u8],
        nonce: [u8; NONCE_LEN],
        plaintext: &[u8],
        aad: &[u8],
    ) -> Result<Vec<u8>, CryptoError> {
        check_key(key, 16)?;
        seal_with::<Sm4Gcm>(key, nonce, plaintext, aad)
    }

    fn open(&self, key: &[u8], sealed: &[u8], aad: &[u8]) -> Result<Vec<u8>, CryptoError> {
        check_key(key, 16)?;
        open_with::<Sm4Gcm>(key, sealed, aad)
    }
}

/// International suite: SHA-256, HMAC-SHA-256, AES-256-GCM.
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

    fn mac(&self, key: &[u8], parts: &[&[u8]]) -> Digest32 {
        hmac_with::<Hmac<sha2::Sha256>>(key, parts)
    }

    fn data_key_len(&self) -> usize {
        32
    }

    fn seal(
        &self,
        key: &[u8],
        nonce: [u8; NONCE_LEN],
        plaintext: &[u8],
        aad: &[u8],
    ) -> Result<Vec<u8>, CryptoError> {
        check_key(key, 32)?;
        seal_with::<aes_gcm::Aes256Gcm>(key, nonce, plaintext, aad)
    }

    fn open(&self, key: &[u8], sealed: &[u8], aad: &[u8]) -> Result<Vec<u8>, CryptoError> {
        check_key(key, 32)?;
        open_with::<aes_gcm::Aes256Gcm>(key, sealed, aad)
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
    fn sm4_gcm_matches_the_rfc_8998_vector() {
        let key = hex::decode("0123456789ABCDEFFEDCBA9876543210").unwrap();
        let nonce: [u8; 12] = hex::decode("00001234567800000000ABCD")
            .unwrap()
            .try_into()
            .unwrap();
        let aad = hex::decode("FEEDFACEDEADBEEFFEEDFACEDEADBEEFABADDAD2").unwrap();
        let plaintext = hex::decode(
            "AAAAAAAAAAAAAAAABBBBBBBBBBBBBBBBCCCCCCCCCCCCCCCCDDDDDDDDDDDDDDDD\
             EEEEEEEEEEEEEEEEFFFFFFFFFFFFFFFFEEEEEEEEEEEEEEEEAAAAAAAAAAAAAAAA",
        )
        .unwrap();
        let sealed = SmSuite.seal(&key, nonce, &plaintext, &aad).unwrap();
        assert_eq!(
            hex::encode_upper(&sealed[12..]),
            "17F399F08C67D5EE19D0DC9969C4BB7D5FD46FD3756489069157B282BB200735\
             D82710CA5C22F0CCFA7CBF93D496AC15A56834CBCF98C397B4024A2691233B8D\
             83DE3541E4C2B58177E065A9BF7B62EC"
        );
        assert_eq!(SmSuite.open(&key, &sealed, &aad).unwrap(), plaintext);
    }

    #[test]
    fn opening_fails_on_tampering_wrong_key_or_wrong_context() {
        for suite in [&SmSuite as &dyn Crypto, &InternationalSuite] {
            let key = vec![9u8; suite.data_key_len()];
            let sealed = suite
                .seal(&key, [3; 12], "13800000001".as_bytes(), b"parents.phone")
                .unwrap();
            assert_eq!(
                suite.open(&key, &sealed, b"parents.phone").unwrap(),
                b"13800000001"
            );
            let mut flipped = sealed.clone();
            flipped[14] ^= 1;
            assert_eq!(
                suite.open(&key, &flipped, b"parents.phone"),
                Err(CryptoError::Authentication)
            );
            assert_eq!(
                suite.open(&key, &sealed, b"children.name"),
                Err(CryptoError::Authentication)
            );
            let other = vec![8u8; suite.data_key_len()];
            assert_eq!(
                suite.open(&other, &sealed, b"parents.phone"),
                Err(CryptoError::Authentication)
            );
            assert_eq!(
                suite.open(&key, &sealed[..20], b"parents.phone"),
                Err(CryptoError::Truncated)
            );
            assert!(matches!(
                suite.seal(&key[1..], [0; 12], b"x", b""),
                Err(CryptoError::KeyLength { .. })
            ));
        }
    }

    /// HMAC (RFC 2104) written out over the suite's own hash, which is itself vector-tested.
    fn reference_hmac(suite: &dyn Crypto, key: &[u8], msg: &[u8]) -> Digest32 {
        let mut k = [0u8; 64];
        k[..key.len()].copy_from_slice(key);
        let ipad: Vec<u8> = k.iter().map(|b| b ^ 0x36).collect();
        let opad: Vec<u8> = k.iter().map(|b| b ^ 0x5c).collect();
        let inner = suite.hash(&[&ipad, msg]);
        suite.hash(&[&opad, &inner])
    }

    #[test]
    fn hmac_matches_rfc_2104_over_each_suites_hash() {
        for suite in [&SmSuite as &dyn Crypto, &InternationalSuite] {
            let key = b"xiaowai-request-signing-key";
            assert_eq!(
                suite.mac(key, &[b"GET\n/api", b"/v1/me"]),
                reference_hmac(suite, key, b"GET\n/api/v1/me")
            );
        }
        // RFC 4231 test case 2 for HMAC-SHA-256.
        assert_eq!(
            hex::encode(InternationalSuite.mac(b"Jefe", &[b"what do ya want for nothing?"])),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn sha256_matches_the_fips_vector() {
        assert_eq!(
            hex::encode(InternationalSuite.hash(&[b"abc"])),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
