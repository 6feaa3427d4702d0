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
    #[error("not a usable signing key")]
    SigningKey,
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
    /// Digital signatures (SM2 with the standard distinguishing identifier, or Ed25519): the public key of
    /// a 32-byte secret. A random secret is refused in the rare case it is not a valid scalar; draw again.
    fn public_key(&self, secret: &[u8]) -> Result<Vec<u8>, CryptoError>;
    /// A signature of `msg` (deterministic for a given key and message).
    fn sign(&self, secret: &[u8], msg: &[u8]) -> Result<Vec<u8>, CryptoError>;
    /// Whether `signature` is `public`'s signature of `msg`.
    fn verify(&self, public: &[u8], msg: &[u8], signature: &[u8]) -> bool;
}

/// The SM2 distinguishing identifier GB/T 32918 uses when the parties agree no other.
const SM2_DISTID: &str = "1234567812345678";

fn sm2_signing_key(secret: &[u8]) -> Result<sm2::dsa::SigningKey, CryptoError> {
    let secret = sm2::SecretKey::from_slice(secret).map_err(|_| CryptoError::SigningKey)?;
    sm2::dsa::SigningKey::new(SM2_DISTID, &secret).map_err(|_| CryptoError::SigningKey)
}

fn ed25519_signing_key(secret: &[u8]) -> Result<ed25519_dalek::SigningKey, CryptoError> {
    let bytes: [u8; 32] = secret.try_into().map_err(|_| CryptoError::KeyLength {
        expected: 32,
        got: secret.len(),
    })?;
    Ok(ed25519_dalek::SigningKey::from_bytes(&bytes))
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

/// 商用密码 suite: SM3 hashing, HMAC-SM3, SM4-GCM, SM2 signatures.
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

    fn public_key(&self, secret: &[u8]) -> Result<Vec<u8>, CryptoError> {
        Ok(sm2_signing_key(secret)?
            .verifying_key()
            .to_sec1_bytes()
            .to_vec())
    }

    fn sign(&self, secret: &[u8], msg: &[u8]) -> Result<Vec<u8>, CryptoError> {
        use sm2::dsa::signature::Signer;
        let signature: sm2::dsa::Signature = sm2_signing_key(secret)?.sign(msg);
        Ok(signature.to_bytes().to_vec())
    }

    fn verify(&self, public: &[u8], msg: &[u8], signature: &[u8]) -> bool {
        use sm2::dsa::signature::Verifier;
        let Ok(key) = sm2::dsa::VerifyingKey::from_sec1_bytes(SM2_DISTID, public) else {
            return false;
        };
        sm2::dsa::Signature::try_from(signature).is_ok_and(|sig| key.verify(msg, &sig).is_ok())
    }
}

/// International suite: SHA-256, HMAC-SHA-256, AES-256-GCM, Ed25519.
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

    fn public_key(&self, secret: &[u8]) -> Result<Vec<u8>, CryptoError> {
        Ok(ed25519_signing_key(secret)?
            .verifying_key()
            .to_bytes()
            .to_vec())
    }

    fn sign(&self, secret: &[u8], msg: &[u8]) -> Result<Vec<u8>, CryptoError> {
        use ed25519_dalek::Signer;
        Ok(ed25519_signing_key(secret)?.sign(msg).to_bytes().to_vec())
    }

    fn verify(&self, public: &[u8], msg: &[u8], signature: &[u8]) -> bool {
        let Ok(public) = <[u8; 32]>::try_from(public) else {
            return false;
        };
        let Ok(key) = ed25519_dalek::VerifyingKey::from_bytes(&public) else {
            return false;
        };
        ed25519_dalek::Signature::from_slice(signature)
            .is_ok_and(|sig| key.verify_strict(msg, &sig).is_ok())
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
    fn signatures_verify_only_for_their_key_and_message_in_both_suites() {
        let suites: [&dyn Crypto; 2] = [&SmSuite, &InternationalSuite];
        for suite in suites {
            let secret = suite.hash(&[b"signing key 1"]);
            let other = suite.hash(&[b"signing key 2"]);
            let public = suite.public_key(&secret).unwrap();
            let msg = b"plate:0193a0b1-0000-7000-8000-000000000001:1:2026-11-26";
            let sig = suite.sign(&secret, msg).unwrap();
            assert_eq!(sig, suite.sign(&secret, msg).unwrap(), "deterministic");
            assert!(suite.verify(&public, msg, &sig));
            assert!(
                !suite.verify(&public, b"plate:another", &sig),
                "altered message"
            );
            let mut bent = sig.clone();
            bent[10] ^= 1;
            assert!(!suite.verify(&public, msg, &bent), "altered signature");
            let other_public = suite.public_key(&other).unwrap();
            assert!(!suite.verify(&other_public, msg, &sig), "another key");
            assert!(!suite.verify(b"not a key", msg, &sig));
            assert!(!suite.verify(&public, msg, b"short"));
        }
        let sm2_public = SmSuite.public_key(&[7u8; 32]).unwrap();
        assert_eq!(
            (sm2_public.len(), sm2_public[0]),
            (65, 4),
            "uncompressed SEC1 point"
        );
        assert_eq!(SmSuite.sign(&[7u8; 32], b"x").unwrap().len(), 64, "r || s");
        assert!(SmSuite.public_key(&[0u8; 32]).is_err(), "zero is not a key");
    }

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
