//! 审计日志 audit log: an append-only hash chain.
//!
//! Each entry's leaf is a deterministic, length-prefixed encoding of its fields, so a later Merkle
//! tree (RFC 6962) can hash the same leaves. The chain hash is `H(prev_hash || leaf)`: altering,
//! removing or reordering any entry breaks every hash after it, and the verifier names the first.

use crate::crypto::{Crypto, Digest32};

/// The previous hash of entry 1.
pub const GENESIS_HASH: Digest32 = [0u8; 32];

/// Version of the leaf encoding itself; bump when the layout below changes.
const LEAF_DOMAIN: &[u8] = b"xiaowai/audit/leaf/v1";

/// What a command asks to record; the store assigns `seq`, `prev_hash` and `entry_hash`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewAuditEntry {
    pub at_ms: i64,
    /// Who acted, e.g. `system:demo`, `regulator:<id>`.
    pub actor: String,
    /// What was done, e.g. `institution.registered`.
    pub action: String,
    /// What it was done to, e.g. `institution:<id>`.
    pub subject: String,
    /// Version of the payload's schema for this action.
    pub schema_version: i32,
    /// Canonical JSON (see [`crate::canonical_json`]).
    pub payload: String,
}

/// An entry as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditEntry {
    pub seq: i64,
    pub body: NewAuditEntry,
    pub prev_hash: Digest32,
    pub entry_hash: Digest32,
}

impl NewAuditEntry {
    /// The leaf bytes: domain tag, then each field fixed-width or u32-length-prefixed.
    pub fn leaf_bytes(&self, seq: i64) -> Vec<u8> {
        let mut out = Vec::with_capacity(64 + self.payload.len());
        put_bytes(&mut out, LEAF_DOMAIN);
        out.extend_from_slice(&seq.to_be_bytes());
        out.extend_from_slice(&self.at_ms.to_be_bytes());
        put_bytes(&mut out, self.actor.as_bytes());
        put_bytes(&mut out, self.action.as_bytes());
        put_bytes(&mut out, self.subject.as_bytes());
        out.extend_from_slice(&self.schema_version.to_be_bytes());
        put_bytes(&mut out, self.payload.as_bytes());
        out
    }

    /// Seals this entry as number `seq` after `prev_hash`.
    pub fn seal(self, crypto: &dyn Crypto, seq: i64, prev_hash: Digest32) -> AuditEntry {
        let entry_hash = chain_hash(crypto, &prev_hash, &self.leaf_bytes(seq));
        AuditEntry {
            seq,
            body: self,
            prev_hash,
            entry_hash,
        }
    }
}

fn put_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    let len = u32::try_from(bytes.len()).expect("audit fields are far below 4 GiB");
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(bytes);
}

fn chain_hash(crypto: &dyn Crypto, prev: &Digest32, leaf: &[u8]) -> Digest32 {
    crypto.hash(&[prev, leaf])
}

/// Why verification stopped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChainBreak {
    /// The first sequence number that does not verify.
    pub seq: i64,
    pub reason: &'static str,
}

impl std::fmt::Display for ChainBreak {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "audit log entry {} does not verify: {}",
            self.seq, self.reason
        )
    }
}

/// Checks entries one at a time in sequence order, so a log of any length verifies in constant memory.
pub struct ChainVerifier<'c> {
    crypto: &'c dyn Crypto,
    expected_seq: i64,
    prev_hash: Digest32,
}

impl<'c> ChainVerifier<'c> {
    pub fn new(crypto: &'c dyn Crypto) -> Self {
        ChainVerifier {
            crypto,
            expected_seq: 1,
            prev_hash: GENESIS_HASH,
        }
    }

    pub fn push(&mut self, entry: &AuditEntry) -> Result<(), ChainBreak> {
        let seq = entry.seq;
        if seq != self.expected_seq {
            return Err(ChainBreak {
                seq: self.expected_seq,
                reason: "sequence number missing or out of order",
            });
        }
        if entry.prev_hash != self.prev_hash {
            return Err(ChainBreak {
                seq,
                reason: "previous hash does not match the entry before it",
            });
        }
        let recomputed = chain_hash(self.crypto, &entry.prev_hash, &entry.body.leaf_bytes(seq));
        if recomputed != entry.entry_hash {
            return Err(ChainBreak {
                seq,
                reason: "entry hash does not match its contents",
            });
        }
        self.prev_hash = entry.entry_hash;
        self.expected_seq += 1;
        Ok(())
    }

    /// How many entries verified so far.
    pub fn verified(&self) -> i64 {
        self.expected_seq - 1
    }

    /// The hash of the last verified entry: the head a checkpoint would sign.
    pub fn head(&self) -> Digest32 {
        self.prev_hash
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SmSuite;

    fn entry(i: i64) -> NewAuditEntry {
        NewAuditEntry {
            at_ms: 1_700_000_000_000 + i,
            actor: "system:test".into(),
            action: "institution.registered".into(),
            subject: format!("institution:{i}"),
            schema_version: 1,
            payload: format!(r#"{{"name":"机构{i}"}}"#),
        }
    }

    fn chain(n: i64) -> Vec<AuditEntry> {
        let mut prev = GENESIS_HASH;
        (1..=n)
            .map(|seq| {
                let e = entry(seq).seal(&SmSuite, seq, prev);
                prev = e.entry_hash;
                e
            })
            .collect()
    }

    fn verify(entries: &[AuditEntry]) -> Result<i64, ChainBreak> {
        let mut v = ChainVerifier::new(&SmSuite);
        for e in entries {
            v.push(e)?;
        }
        Ok(v.verified())
    }

    #[test]
    fn an_intact_chain_verifies() {
        assert_eq!(verify(&chain(50)), Ok(50));
    }

    #[test]
    fn an_altered_payload_is_named_by_its_sequence_number() {
        let mut c = chain(10);
        c[6].body.payload = r#"{"name":"篡改"}"#.into();
        assert_eq!(verify(&c).unwrap_err().seq, 7);
    }

    #[test]
    fn a_recomputed_hash_still_breaks_the_next_link() {
        let mut c = chain(10);
        c[3].body.actor = "someone-else".into();
        c[3].entry_hash = c[3]
            .body
            .clone()
            .seal(&SmSuite, 4, c[3].prev_hash)
            .entry_hash;
        assert_eq!(verify(&c).unwrap_err().seq, 5);
    }

    #[test]
    fn a_removed_entry_is_a_gap() {
        let mut c = chain(10);
        c.remove(2);
        assert_eq!(
            verify(&c).unwrap_err(),
            ChainBreak {
                seq: 3,
                reason: "sequence number missing or out of order"
            }
        );
    }

    #[test]
    fn leaf_encoding_separates_fields() {
        // Without length prefixes ("ab","c") and ("a","bc") would collide.
        let mut a = entry(1);
        let mut b = entry(1);
        a.actor = "ab".into();
        a.action = "c".into();
        b.actor = "a".into();
        b.action = "bc".into();
        assert_ne!(a.leaf_bytes(1), b.leaf_bytes(1));
    }
}
