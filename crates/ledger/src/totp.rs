//! TOTP (RFC 6238): the second factor of regulators and bank operators. HMAC-SHA-1 with 30-second steps
//! and 6 digits, because that is what every authenticator app implements; the secret never leaves the
//! server except once, as the enrolment URI.

use hmac::{Hmac, Mac};

pub const STEP_SECONDS: u64 = 30;
pub const DIGITS: u32 = 6;

/// The code for the time step containing `unix_seconds`.
pub fn code_at(secret: &[u8], unix_seconds: u64, digits: u32) -> String {
    code_for_step(secret, unix_seconds / STEP_SECONDS, digits)
}

fn code_for_step(secret: &[u8], step: u64, digits: u32) -> String {
    let mut mac = <Hmac<sha1::Sha1> as hmac::digest::KeyInit>::new_from_slice(secret)
        .expect("any key length");
    mac.update(&step.to_be_bytes());
    let h = mac.finalize().into_bytes();
    // Dynamic truncation (RFC 4226 §5.3).
    let offset = usize::from(h[h.len() - 1] & 0x0f);
    let bin = u32::from_be_bytes([
        h[offset] & 0x7f,
        h[offset + 1],
        h[offset + 2],
        h[offset + 3],
    ]);
    let modulus = 10u32.pow(digits);
    format!("{:0width$}", bin % modulus, width = digits as usize)
}

/// Checks `code` against the current step and `skew` steps either side (clock drift). Returns the
/// matching step so the caller can refuse a code that was already used (replay).
pub fn verify(secret: &[u8], code: &str, unix_seconds: u64, skew: u64) -> Option<u64> {
    let code = code.trim();
    if code.len() != DIGITS as usize || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let now = unix_seconds / STEP_SECONDS;
    (now.saturating_sub(skew)..=now + skew).find(|step| {
        constant_time_eq(
            code_for_step(secret, *step, DIGITS).as_bytes(),
            code.as_bytes(),
        )
    })
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Base32 (RFC 4648, no padding), the form authenticator apps take secrets in.
pub fn secret_base32(secret: &[u8]) -> String {
    data_encoding::BASE32_NOPAD.encode(secret)
}

/// The enrolment URI an authenticator app scans: `otpauth://totp/ISSUER:ACCOUNT?secret=…&issuer=…`.
/// Issuer and account must be URI-safe (the caller passes ASCII identifiers).
pub fn enrolment_uri(issuer: &str, account: &str, secret: &[u8]) -> String {
    format!(
        "otpauth://totp/{issuer}:{account}?secret={}&issuer={issuer}&algorithm=SHA1&digits={DIGITS}&period={STEP_SECONDS}",
        secret_base32(secret)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const RFC_SECRET: &[u8] = b"12345678901234567890";

    #[test]
    fn matches_the_rfc_6238_sha1_vectors() {
        for (t, expected) in [
            (59, "94287082"),
            (1_111_111_109, "07081804"),
            (1_111_111_111, "14050471"),
            (1_234_567_890, "89005924"),
            (2_000_000_000, "69279037"),
            (20_000_000_000, "65353130"),
        ] {
            assert_eq!(code_at(RFC_SECRET, t, 8), expected, "t = {t}");
        }
    }

    #[test]
    fn verification_allows_one_step_of_drift_and_names_the_step() {
        let now = 1_795_654_800;
        let code = code_at(RFC_SECRET, now, DIGITS);
        assert_eq!(verify(RFC_SECRET, &code, now, 1), Some(now / 30));
        assert_eq!(
            verify(RFC_SECRET, &code, now + 30, 1),
            Some(now / 30),
            "one step late is accepted"
        );
        assert_eq!(
            verify(RFC_SECRET, &code, now + 90, 1),
            None,
            "three steps late is not"
        );
        assert_eq!(verify(RFC_SECRET, "12345", now, 1), None);
        assert_eq!(verify(RFC_SECRET, "12a456", now, 1), None);
        assert_eq!(verify(b"another secret......", &code, now, 1), None);
    }

    #[test]
    fn enrolment_uri_carries_the_base32_secret() {
        assert_eq!(
            secret_base32(b"12345678901234567890"),
            "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
        );
        assert!(
            enrolment_uri("xiaowai", "reviewer-haidian", RFC_SECRET)
                .contains("secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ")
        );
    }
}
