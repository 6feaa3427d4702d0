//! An institution's money as its staff and its regulators see it.

use super::RiskEventView;
use super::movements::risk_view;
use crate::money::Money;
use crate::{Actor, AppError};
use domain::Timestamp;
use serde::Serialize;

/// One movement, for pages and the API.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct MovementView {
    pub bank_ref: String,
    pub direction: String,
    pub amount_fen: i64,
    pub amount_display: String,
    pub balance_after_display: String,
    pub occurred_at_display: String,
    /// `inflow`, `matched` or `unmatched`.
    pub matched: String,
    pub instruction_id: Option<String>,
}

/// A supervised account's money: what the bank reports, what the platform owes on it, and its movements.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct AccountMoney {
    pub account_no: String,
    pub bank_id: String,
    pub mode: String,
    pub status: domain::AccountStatus,
    pub reported_balance_fen: Option<i64>,
    pub reported_balance_display: Option<String>,
    /// Σ escrow of the orders paid into the account.
    pub escrow_owed_fen: i64,
    pub escrow_owed_display: String,
    pub last_reconciled_display: Option<String>,
    pub movements: Vec<MovementView>,
    /// 批量划转 the account's daily release batches, newest first (regions that batch releases).
    pub batches: Vec<crate::batches::BatchView>,
}

/// An institution's money on the platform.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct InstitutionMoney {
    pub institution_id: String,
    pub accounts: Vec<AccountMoney>,
    pub risk_events: Vec<RiskEventView>,
    /// The platform's risk score beside the banks' own.
    pub risk_scores: crate::risk::RiskScores,
}

impl<'a> Money<'a> {
    /// An institution's supervised accounts with balances, escrow owed, movements and risk events, for its
    /// staff or a regulator over it.
    pub async fn institution_money(
        self,
        actor: &Actor,
        institution_id: &str,
    ) -> Result<InstitutionMoney, AppError> {
        self.require_money_view(actor, institution_id).await?;
        let read = self.store.read();
        let mut accounts = Vec::new();
        for a in read.funds().supervised_accounts_of(institution_id).await? {
            let owed = read.orders().escrow_owed(&a.id).await?;
            let movements = read
                .bank()
                .movements_of(&a.id, 50)
                .await?
                .into_iter()
                .map(|m| MovementView {
                    amount_display: domain::money::yuan(m.amount_fen),
                    balance_after_display: domain::money::yuan(m.balance_after_fen),
                    occurred_at_display: Timestamp::from_millis(m.occurred_at).china_display(),
                    bank_ref: m.bank_ref,
                    direction: m.direction,
                    amount_fen: m.amount_fen,
                    matched: m.matched,
                    instruction_id: m.instruction_id,
                })
                .collect();
            let batches = read
                .instructions()
                .batches_of_account(&a.id, 30)
                .await?
                .into_iter()
                .map(Into::into)
                .collect();
            accounts.push(AccountMoney {
                reported_balance_display: a.reported_balance_fen.map(domain::money::yuan),
                escrow_owed_display: domain::money::yuan(owed),
                last_reconciled_display: a
                    .reconciled_at
                    .map(|t| Timestamp::from_millis(t).china_display()),
                account_no: a.account_no,
                bank_id: a.bank_id,
                mode: a.mode,
                status: a.status,
                reported_balance_fen: a.reported_balance_fen,
                escrow_owed_fen: owed,
                movements,
                batches,
            });
        }
        let risk_events = read
            .bank()
            .risk_events(Some(institution_id), 100)
            .await?
            .into_iter()
            .map(risk_view)
            .collect();
        Ok(InstitutionMoney {
            risk_scores: self.supervision().risk_scores(institution_id).await?,
            institution_id: institution_id.to_owned(),
            accounts,
            risk_events,
        })
    }
}
