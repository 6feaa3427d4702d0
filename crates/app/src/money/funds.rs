//! 资金监管账户 supervised accounts: an approved institution asks to bind an account at a supervising bank,
//! in custody (托管) or risk-deposit (风险保证金) mode; the bank confirms through its signed API; the
//! confirmation moves an institution waiting for it from the grey list to the white list and issues its
//! compliance plate. (The money itself — escrow, releases, reconciliation — follows with the ledger.)

use crate::money::Money;
use crate::onboarding::APPROVED_AWAITING_FUNDS;
use crate::{Actor, AppError, ErrorCode};
use domain::Action;
use domain::{ListStatus, Timestamp};
use serde::{Deserialize, Serialize};
use serde_json::json;
use store::SupervisedAccountRow;

/// `POST /api/v1/institution/supervised-accounts`.
#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
pub struct BindRequest {
    /// The supervising bank's id on the platform (the demo bank is `demo-bank`).
    pub bank_id: String,
    /// 8 to 32 digits.
    pub account_no: String,
    /// `custody`, `risk_deposit` or `ecny` (an e-CNY smart contract at the wallet operator).
    pub mode: String,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct SupervisedAccountView {
    pub id: String,
    pub bank_id: String,
    pub account_no: String,
    pub mode: String,
    /// `pending` (waiting for the bank) or `confirmed`.
    pub status: domain::AccountStatus,
    pub requested_at_display: String,
}

fn view(r: SupervisedAccountRow) -> SupervisedAccountView {
    SupervisedAccountView {
        requested_at_display: Timestamp::from_millis(r.requested_at).china_display(),
        id: r.id,
        bank_id: r.bank_id,
        account_no: r.account_no,
        mode: r.mode,
        status: r.status,
    }
}

impl<'a> Money<'a> {
    /// An approved institution asks its bank to confirm a supervised account.
    pub async fn request_supervised_account(
        self,
        actor: &Actor,
        req: &BindRequest,
    ) -> Result<SupervisedAccountView, AppError> {
        let institution_id = self.registry().admins_institution(actor).await?;
        let bank_id = req.bank_id.trim();
        if bank_id.is_empty() || bank_id.chars().count() > 64 {
            return Err(AppError::new(
                ErrorCode::FieldTooLong,
                "银行编号：须为1至64个字符",
                "bank_id: 1 to 64 characters",
            )
            .on("bank_id"));
        }
        let account_no = req.account_no.trim();
        if !(8..=32).contains(&account_no.len()) || !account_no.bytes().all(|b| b.is_ascii_digit())
        {
            return Err(AppError::new(
                ErrorCode::InvalidParameter,
                "账号：须为8至32位数字",
                "account_no: 8 to 32 digits",
            )
            .on("account_no"));
        }
        if !matches!(req.mode.as_str(), "custody" | "risk_deposit" | "ecny") {
            return Err(AppError::new(
                ErrorCode::InvalidParameter,
                "监管方式：须为资金托管、风险保证金或数字人民币",
                "mode: custody, risk_deposit or ecny",
            )
            .on("mode"));
        }
        let institution = self
            .store
            .read()
            .registry()
            .institution(&institution_id)
            .await?
            .ok_or_else(|| AppError::internal("staff of a missing institution"))?;
        if institution.registry_state != domain::RegistryState::Listed {
            return Err(AppError::new(
                ErrorCode::Conflict,
                "报备审核通过后才能绑定资金监管账户",
                "the filing must be approved before a supervised account is bound",
            ));
        }
        let now = self.clock.now().millis();
        let row = SupervisedAccountRow {
            id: uuid::Uuid::now_v7().to_string(),
            institution_id: institution_id.clone(),
            bank_id: bank_id.to_owned(),
            account_no: account_no.to_owned(),
            mode: req.mode.clone(),
            status: domain::AccountStatus::Pending,
            requested_at: now,
            confirmed_at: None,
            confirmed_by: None,
            reported_balance_fen: None,
            reported_at: None,
            reconciled_at: None,
        };
        self.record_supervised_account(actor, &row, Action::SupervisedAccountRequested)
            .await?;
        Ok(view(row))
    }

    /// The admin's supervised accounts.
    pub async fn my_supervised_accounts(
        self,
        actor: &Actor,
    ) -> Result<Vec<SupervisedAccountView>, AppError> {
        let institution_id = self.registry().admins_institution(actor).await?;
        Ok(self
            .store
            .read()
            .funds()
            .supervised_accounts_of(&institution_id)
            .await?
            .into_iter()
            .map(view)
            .collect())
    }

    /// The bank confirms a binding at itself (a signed request from its system). An institution approved
    /// and waiting for this moves to the white list and receives its plate.
    pub async fn confirm_supervised_account(
        self,
        actor: &Actor,
        account_id: &str,
    ) -> Result<SupervisedAccountView, AppError> {
        let Actor::ApiClient {
            owner_kind,
            owner_id,
            ..
        } = actor
        else {
            return Err(self
                .deny(
                    actor,
                    "supervised_account",
                    json!({}),
                    "由银行确认",
                    "banks confirm",
                )
                .await);
        };
        let now = self.clock.now();
        let at = now.millis();
        let mut tx = self.store.begin_write().await?;
        let account = tx
            .funds()
            .supervised_account(account_id.trim())
            .await?
            .ok_or_else(|| AppError::not_found("没有这个监管账户", "no such supervised account"))?;
        if owner_kind != "bank" || *owner_id != account.bank_id {
            drop(tx);
            let details = json!({"account": account.id});
            return Err(self
                .deny(
                    actor,
                    "supervised_account",
                    details,
                    "不是本行的账户",
                    "not this bank's account",
                )
                .await);
        }
        if tx
            .funds()
            .confirm_supervised_account(&account.id, &actor.audit_name(), at)
            .await?
            == 0
        {
            return Err(AppError::new(
                ErrorCode::Conflict,
                "已经确认过",
                "already confirmed",
            ));
        }
        let entries = vec![crate::evidence::record(
            &actor.audit_name(),
            at,
            Action::SupervisedAccountConfirmed,
            format!("institution:{}", account.institution_id),
            json!({"account": account.id, "bank_id": account.bank_id, "mode": account.mode}),
        )];
        let institution = tx
            .registry()
            .institution_for_update(&account.institution_id)
            .await?
            .ok_or_else(|| AppError::internal("account of a missing institution"))?;
        let white_listed = institution.registry_state == domain::RegistryState::Listed
            && institution.list_status == domain::ListStatus::Grey
            && institution.list_reason == APPROVED_AWAITING_FUNDS;
        if white_listed {
            let reason = "审核通过，预收费纳入资金监管";
            self.supervision()
                .move_in(&mut tx, actor, &institution, ListStatus::White, reason, now)
                .await?;
            self.registry()
                .issue_plate_in(&mut tx, actor, &institution.id, at)
                .await?;
        }
        tx.append_audit(entries).await?;
        tx.commit().await?;
        if white_listed {
            self.registry().reindex(&institution.id).await?;
        }
        let confirmed = self
            .store
            .read()
            .funds()
            .supervised_accounts_of(&account.institution_id)
            .await?
            .into_iter()
            .find(|a| a.id == account.id)
            .ok_or_else(|| AppError::internal("account vanished"))?;
        Ok(view(confirmed))
    }

    /// A custody account already confirmed by its bank (demo data: the demo institution sells at once).
    pub(crate) async fn seed_confirmed_account(
        self,
        actor: &Actor,
        institution_id: &str,
        bank_id: &str,
        account_no: &str,
    ) -> Result<(), AppError> {
        let now = self.clock.now().millis();
        let row = SupervisedAccountRow {
            id: uuid::Uuid::now_v7().to_string(),
            institution_id: institution_id.to_owned(),
            bank_id: bank_id.to_owned(),
            account_no: account_no.to_owned(),
            mode: "custody".into(),
            status: domain::AccountStatus::Confirmed,
            requested_at: now,
            confirmed_at: Some(now),
            confirmed_by: Some(actor.audit_name()),
            reported_balance_fen: Some(0),
            reported_at: None,
            reconciled_at: None,
        };
        self.record_supervised_account(actor, &row, Action::SupervisedAccountConfirmed)
            .await
    }

    /// Records a supervised account and its audit entry in one transaction.
    async fn record_supervised_account(
        self,
        actor: &Actor,
        row: &SupervisedAccountRow,
        action: Action,
    ) -> Result<(), AppError> {
        let mut tx = self.store.begin_write().await?;
        tx.funds().insert_supervised_account(row).await?;
        tx.append_audit(vec![crate::evidence::record(
            &actor.audit_name(),
            row.requested_at,
            action,
            format!("institution:{}", row.institution_id),
            json!({"account": row.id, "bank_id": row.bank_id, "mode": row.mode}),
        )])
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
