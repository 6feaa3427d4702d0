//! Pure evidence and money math: the [`Crypto`] trait with the SM and international suites, canonical
//! payload encoding, the audit log's hash chain, compliance-plate tokens, and double-entry postings. No
//! IO: the store feeds rows in, this crate says whether they are intact.

pub mod audit;
pub mod canonical;
pub mod crypto;
pub mod plate;
pub mod posting;
pub mod totp;

pub use audit::{AuditEntry, ChainBreak, ChainVerifier, GENESIS_HASH, NewAuditEntry};
pub use canonical::canonical_json;
pub use crypto::{
    Crypto, CryptoError, Digest32, InternationalSuite, NONCE_LEN, SmSuite, suite_by_name,
};
