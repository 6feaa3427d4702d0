//! `xiaowai ledger verify`: recompute the audit chain from the first entry and name the first that
//! does not verify.

use crate::AppError;
use ledger::{ChainBreak, ChainVerifier};
use store::Store;

/// The outcome of a full verification.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ChainReport {
    Intact { entries: i64, head_hash: String },
    Broken(ChainBreak),
}

/// Reads the whole log in sequence order, in constant memory, and checks every link.
pub async fn verify_audit_chain(store: &Store) -> Result<ChainReport, AppError> {
    let reader = store.read();
    let mut verifier = ChainVerifier::new(store.crypto());
    let mut after = 0;
    loop {
        let batch = reader.audit_entries_after(after, 5_000).await?;
        let Some(last) = batch.last() else { break };
        after = last.seq;
        for e in &batch {
            if let Err(b) = verifier.push(e) {
                return Ok(ChainReport::Broken(b));
            }
        }
    }
    Ok(ChainReport::Intact {
        entries: verifier.verified(),
        head_hash: hex::encode(verifier.head()),
    })
}
