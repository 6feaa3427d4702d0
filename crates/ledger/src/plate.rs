//! 合规码牌 the compliance plate's token: what a plate's QR code carries after `/verify/`.
//!
//! The claim is 25 bytes — format version (1), institution id (16, a UUID), plate serial (4, big-endian),
//! issue date (4, days since 1970-01-01, big-endian) — followed by the platform's signature of those bytes
//! (SM2: 64 bytes; Ed25519: 64 bytes), the whole in unpadded base64url: 119 characters, small enough for a
//! QR code a phone reads from across a room. Anyone with the platform's public key checks a token offline;
//! whether the plate is still *current* (not revoked, superseded, or of a black-listed institution) only
//! the platform can say.

use crate::Crypto;
use data_encoding::BASE64URL_NOPAD;

const VERSION: u8 = 1;
const CLAIM_LEN: usize = 25;

/// What a plate asserts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PlateClaim {
    pub institution_id: [u8; 16],
    pub serial: u32,
    /// Days since 1970-01-01 (UTC).
    pub issued_on_day: u32,
}

/// Why a token is not a genuine plate.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PlateError {
    #[error("not a plate token")]
    Malformed,
    #[error("unknown plate format")]
    Version,
    #[error("the signature does not verify: forged or altered")]
    Signature,
}

impl PlateClaim {
    fn bytes(&self) -> [u8; CLAIM_LEN] {
        let mut b = [0u8; CLAIM_LEN];
        b[0] = VERSION;
        b[1..17].copy_from_slice(&self.institution_id);
        b[17..21].copy_from_slice(&self.serial.to_be_bytes());
        b[21..25].copy_from_slice(&self.issued_on_day.to_be_bytes());
        b
    }

    /// The token for this claim, given the platform's signature of [`PlateClaim::signed_bytes`].
    pub fn token(&self, signature: &[u8]) -> String {
        let mut all = self.bytes().to_vec();
        all.extend_from_slice(signature);
        BASE64URL_NOPAD.encode(&all)
    }

    /// What the platform signs.
    pub fn signed_bytes(&self) -> Vec<u8> {
        let mut msg = b"xiaowai/plate/v1:".to_vec();
        msg.extend_from_slice(&self.bytes());
        msg
    }
}

/// The claim of a genuine token, checked against the platform's public key.
pub fn verify(
    crypto: &dyn Crypto,
    public_key: &[u8],
    token: &str,
) -> Result<PlateClaim, PlateError> {
    // Tokens are short; refuse anything long before decoding it.
    if token.len() > 256 {
        return Err(PlateError::Malformed);
    }
    let all = BASE64URL_NOPAD
        .decode(token.trim().as_bytes())
        .map_err(|_| PlateError::Malformed)?;
    if all.len() <= CLAIM_LEN {
        return Err(PlateError::Malformed);
    }
    let (claim, signature) = all.split_at(CLAIM_LEN);
    if claim[0] != VERSION {
        return Err(PlateError::Version);
    }
    let claim = PlateClaim {
        institution_id: claim[1..17].try_into().map_err(|_| PlateError::Malformed)?,
        serial: u32::from_be_bytes(
            claim[17..21]
                .try_into()
                .map_err(|_| PlateError::Malformed)?,
        ),
        issued_on_day: u32::from_be_bytes(
            claim[21..25]
                .try_into()
                .map_err(|_| PlateError::Malformed)?,
        ),
    };
    if crypto.verify(public_key, &claim.signed_bytes(), signature) {
        Ok(claim)
    } else {
        Err(PlateError::Signature)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SmSuite;

    #[test]
    fn a_token_verifies_and_any_change_makes_it_invalid() {
        let secret = [9u8; 32];
        let public = SmSuite.public_key(&secret).unwrap();
        let claim = PlateClaim {
            institution_id: [0x42; 16],
            serial: 3,
            issued_on_day: 20_783,
        };
        let token = claim.token(&SmSuite.sign(&secret, &claim.signed_bytes()).unwrap());
        assert_eq!(token.len(), 119);
        assert_eq!(verify(&SmSuite, &public, &token), Ok(claim));
        // Every single-character change is caught.
        let alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        for i in 0..token.len() {
            let original = token.as_bytes()[i] as char;
            let replacement = alphabet.chars().find(|c| *c != original).unwrap();
            let mut altered = token.clone();
            altered.replace_range(i..=i, &replacement.to_string());
            assert!(verify(&SmSuite, &public, &altered).is_err(), "position {i}");
        }
        assert_eq!(
            verify(&SmSuite, &public, "not a token!"),
            Err(PlateError::Malformed)
        );
        let other = SmSuite.public_key(&[8u8; 32]).unwrap();
        assert_eq!(verify(&SmSuite, &other, &token), Err(PlateError::Signature));
    }
}
