//! `xiaowai ledger verify`: recompute the audit chain from the first entry and name the first that
//! does not verify.

use crate::AppError;
use domain::OrderStatus;
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

/// A broken money invariant, naming the order or instruction that breaks it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MoneyViolation {
    /// Executed plus outstanding instructions exceed what the order paid.
    OverInstructed {
        order_no: String,
        paid_fen: i64,
        instructed_fen: i64,
    },
    /// The escrow account paid out more than it took in.
    NegativeEscrow {
        order_no: String,
        credits_fen: i64,
        debits_fen: i64,
    },
    /// The escrow account was credited other than the order's payment.
    EscrowNotPayment {
        order_no: String,
        paid_fen: i64,
        credits_fen: i64,
    },
    /// The escrow account's debits are not the instructions the bank executed.
    EscrowNotExecuted {
        order_no: String,
        executed_fen: i64,
        debits_fen: i64,
    },
    /// A release no confirmed lesson of the order accounts for.
    ReleaseWithoutLesson { order_no: String, amount_fen: i64 },
    /// More than one reported outflow was matched to one instruction.
    InstructionMatchedTwice {
        instruction_id: String,
        movements: i64,
    },
}

impl std::fmt::Display for MoneyViolation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MoneyViolation::OverInstructed {
                order_no,
                paid_fen,
                instructed_fen,
            } => write!(
                f,
                "order {order_no}: {instructed_fen} fen instructed (executed and outstanding), {paid_fen} fen paid"
            ),
            MoneyViolation::NegativeEscrow {
                order_no,
                credits_fen,
                debits_fen,
            } => write!(
                f,
                "order {order_no}: escrow paid out {debits_fen} fen of {credits_fen} fen"
            ),
            MoneyViolation::EscrowNotPayment {
                order_no,
                paid_fen,
                credits_fen,
            } => write!(
                f,
                "order {order_no}: escrow credited {credits_fen} fen, the order paid {paid_fen} fen"
            ),
            MoneyViolation::EscrowNotExecuted {
                order_no,
                executed_fen,
                debits_fen,
            } => write!(
                f,
                "order {order_no}: escrow debited {debits_fen} fen, the bank executed {executed_fen} fen"
            ),
            MoneyViolation::ReleaseWithoutLesson {
                order_no,
                amount_fen,
            } => write!(
                f,
                "order {order_no}: {amount_fen} fen of releases that no confirmed lesson accounts for"
            ),
            MoneyViolation::InstructionMatchedTwice {
                instruction_id,
                movements,
            } => write!(
                f,
                "instruction {instruction_id}: matched to {movements} outflows"
            ),
        }
    }
}

/// What an order has paid into escrow: its amount once the bank reported the payment, nothing before.
fn paid_fen(o: &store::OrderMoneyRow) -> i64 {
    if o.status == OrderStatus::Paid {
        o.amount_fen
    } else {
        0
    }
}

/// The money invariants of one order: released + refunded + instructed-but-not-executed ≤ paid; escrow never
/// negative; escrow credited exactly the payment and debited exactly what the bank executed; every release
/// accounted for by a confirmed lesson.
pub fn order_violations(o: &store::OrderMoneyRow) -> Vec<MoneyViolation> {
    let mut found = Vec::new();
    let paid = paid_fen(o);
    let instructed = o.executed_fen.saturating_add(o.outstanding_fen);
    if instructed > paid {
        found.push(MoneyViolation::OverInstructed {
            order_no: o.order_no.clone(),
            paid_fen: paid,
            instructed_fen: instructed,
        });
    }
    if o.escrow_debits_fen > o.escrow_credits_fen {
        found.push(MoneyViolation::NegativeEscrow {
            order_no: o.order_no.clone(),
            credits_fen: o.escrow_credits_fen,
            debits_fen: o.escrow_debits_fen,
        });
    }
    if o.escrow_credits_fen != paid {
        found.push(MoneyViolation::EscrowNotPayment {
            order_no: o.order_no.clone(),
            paid_fen: paid,
            credits_fen: o.escrow_credits_fen,
        });
    }
    if o.escrow_debits_fen != o.executed_fen {
        found.push(MoneyViolation::EscrowNotExecuted {
            order_no: o.order_no.clone(),
            executed_fen: o.executed_fen,
            debits_fen: o.escrow_debits_fen,
        });
    }
    if o.unexplained_release_fen > 0 {
        found.push(MoneyViolation::ReleaseWithoutLesson {
            order_no: o.order_no.clone(),
            amount_fen: o.unexplained_release_fen,
        });
    }
    found
}

/// The outcome of [`verify_money`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MoneyReport {
    pub orders: u64,
    pub violations: Vec<MoneyViolation>,
}

/// Checks every order's money and every instruction's matching, in constant memory.
pub async fn verify_money(store: &Store) -> Result<MoneyReport, AppError> {
    let reader = store.read();
    let mut report = MoneyReport::default();
    let mut after = String::new();
    loop {
        let batch = reader.ledger().order_money_after(&after, 5_000).await?;
        let Some(last) = batch.last() else { break };
        after = last.id.clone();
        report.orders += batch.len() as u64;
        report
            .violations
            .extend(batch.iter().flat_map(order_violations));
    }
    report.violations.extend(
        reader
            .ledger()
            .instructions_matched_twice()
            .await?
            .into_iter()
            .map(
                |(instruction_id, movements)| MoneyViolation::InstructionMatchedTwice {
                    instruction_id,
                    movements,
                },
            ),
    );
    Ok(report)
}

/// Checks these orders only (the simulator, after each step).
pub async fn verify_orders(store: &Store, ids: &[String]) -> Result<Vec<MoneyViolation>, AppError> {
    Ok(store
        .read()
        .ledger()
        .order_money_of(ids)
        .await?
        .iter()
        .flat_map(order_violations)
        .collect())
}
