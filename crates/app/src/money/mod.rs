//! 资金 money: orders and their e-contracts, bank payments, movements, instructions and statements, lessons and
//! their release, refunds, leave and class changes, run-off, and the stored ledger every yuan is posted to.

mod ledger;

pub mod bank;
pub mod batches;
pub mod funds;
pub mod ledger_check;
pub mod lessons;
pub mod orders;
pub mod refunds;
pub mod run_off;

pub use ledger::*;

crate::area_service!(Money, money, "资金");
