//! 银行接口 what banks and the platform tell each other (the technical standard in `docs/api.md`). Every message
//! from a bank is a signed request (`crate::signing`); every outgoing instruction is signed with the bank's key
//! the same way. A repeated or reordered message changes nothing the second time.
//!
//! - `payments`: payment notifications, one or a batch, which pay orders;
//! - `movements`: movement reports (动账), reconciled in their own transaction;
//! - `instructions`: the platform's instructions (release, refund) and the banks' results;
//! - `delivery`: sending instructions, asking again, raising what stays unanswered;
//! - `statements`: daily statements;
//! - `idempotency`: one answer per `Idempotency-Key`;
//! - `money_view`: an institution's money as its staff and regulators see it;
//! - `worker`: the background worker of `xiaowai serve`.
use crate::error::field_label;
use crate::money::Money;
use crate::{Actor, AppError, evidence};
use domain::Action;
use serde::{Deserialize, Serialize};
use serde_json::json;
use store::{BankEndpointRow, RiskEventRow, SupervisedAccountRow, WriteTx};

mod delivery;
mod idempotency;
mod instructions;
mod money_view;
mod movement_book;
mod movements;
mod payments;
mod statements;

/// At most this many notices, or movement reports, in one batch.
pub const MAX_BATCH: usize = 500;

pub use delivery::{DELIVERY_LEASE_MS, UNSETTLED_AFTER_MS, ask_again_after_ms};
pub(crate) use instructions::instruct_in;
pub use instructions::{BatchItem, InstructionResult, InstructionView};
pub use money_view::{AccountMoney, InstitutionMoney, MovementView};
pub use movement_book::{MovementAck, MovementReport};
pub use movements::{MovementBatch, MovementOutcome, RiskEventView, risk_kind_label};
pub use payments::{PaymentAck, PaymentBatch, PaymentNotice, PaymentOutcome, PaymentResult};
pub use statements::{
    DailyStatement, MAX_STATEMENT_ENTRIES, RefusedLine, StatementAck, StatementEntry,
};

/// `PUT /api/v1/bank/endpoint`: where the bank takes instructions, and its checkout page for parents.
#[derive(Clone, Debug, Deserialize, Serialize, utoipa::ToSchema)]
pub struct EndpointRegistration {
    pub instruction_url: String,
    pub checkout_url: String,
}

fn reference(field: &str, v: &str) -> Result<String, AppError> {
    let v = v.trim();
    if v.is_empty() || v.len() > 64 || !v.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(AppError::invalid(
            format!("{}：须为1至64个可见 ASCII 字符", field_label(field)),
            format!("{field}: 1 to 64 visible ASCII characters"),
        )
        .on(field));
    }
    Ok(v.to_owned())
}

/// An amount the bank moves: one fen up to [`domain::money::BANK_AMOUNT`]'s bound.
fn positive(field: &'static str, v: i64) -> Result<i64, AppError> {
    Ok(domain::money::BANK_AMOUNT.check(field, v)?.get())
}

fn escrow_id(order_id: &str) -> String {
    format!("escrow:{order_id}")
}

fn risk(
    account: &SupervisedAccountRow,
    kind: &str,
    level: &str,
    id: Option<String>,
    detail: serde_json::Value,
    now: i64,
) -> RiskEventRow {
    RiskEventRow {
        id: id.unwrap_or_else(|| uuid::Uuid::now_v7().to_string()),
        institution_id: account.institution_id.clone(),
        supervised_account_id: Some(account.id.clone()),
        kind: kind.to_owned(),
        level: level.to_owned(),
        detail_json: detail.to_string(),
        raised_at: now,
    }
}

impl<'a> Money<'a> {
    /// Refuses (and audits) a signed request that is not a bank's, before it is read.
    pub async fn require_bank(self, actor: &Actor) -> Result<(), AppError> {
        self.bank_of(actor).await.map(|_| ())
    }

    /// The bank behind a signed request, or an audited refusal.
    pub(crate) async fn bank_of(self, actor: &Actor) -> Result<&str, AppError> {
        match actor {
            Actor::ApiClient {
                owner_kind,
                owner_id,
                ..
            } if owner_kind == "bank" => Ok(owner_id),
            _ => Err(self
                .deny(
                    actor,
                    "bank_api",
                    json!({}),
                    "仅限银行系统",
                    "banks' systems only",
                )
                .await),
        }
    }

    /// The bank's own supervised account by number, inside the transaction.
    pub(crate) async fn banks_account(
        tx: &mut WriteTx,
        bank_id: &str,
        account_no: &str,
    ) -> Result<SupervisedAccountRow, AppError> {
        tx.bank()
            .supervised_account_by_no(bank_id, account_no.trim())
            .await?
            .filter(|a| a.status.is_confirmed())
            .ok_or_else(|| {
                AppError::not_found(
                    "贵行没有该账号的已确认监管账户",
                    "no confirmed supervised account with this number at your bank",
                )
            })
    }

    /// A bank says where it takes instructions and where parents pay.
    pub async fn register_bank_endpoint(
        self,
        actor: &Actor,
        req: &EndpointRegistration,
    ) -> Result<EndpointRegistration, AppError> {
        let bank_id = self.bank_of(actor).await?.to_owned();
        // The platform calls the instruction endpoint: the egress policy. Parents' browsers go to the checkout.
        crate::egress::check_url("instruction_url", &req.instruction_url, self.local_egress)?;
        crate::egress::check_url("checkout_url", &req.checkout_url, true)?;
        let now = self.clock.now().millis();
        let row = BankEndpointRow {
            bank_id: bank_id.clone(),
            instruction_url: req.instruction_url.trim().to_owned(),
            checkout_url: req.checkout_url.trim().to_owned(),
            updated_at: now,
        };
        let mut tx = self.store.begin_write().await?;
        tx.bank().upsert_bank_endpoint(&row).await?;
        tx.append_audit(vec![evidence::record(
            &actor.audit_name(),
            now,
            Action::BankEndpointSet,
            format!("bank:{bank_id}"),
            json!({"instruction_url": row.instruction_url, "checkout_url": row.checkout_url}),
        )])
        .await?;
        tx.commit().await?;
        Ok(req.clone())
    }
}
