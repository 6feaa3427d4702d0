//! 资金账本 posting money movements to the stored ledger under `ledger::posting`'s rules: each transfer in
//! its own transaction, idempotent by id, refused whole when it would overdraw an account that may not owe.
//! Orders, bank notifications and releases post through [`post_in`] inside their own transactions.

/// Transfer codes: what moved.
pub const CODE_PAYMENT: u16 = 1;
pub const CODE_RELEASE: u16 = 2;
pub const CODE_REFUND: u16 = 3;

use crate::{App, AppError, ErrorCode};
use ledger::posting::{AccountFlags, Balance, Posted, Transfer, TransferError, apply};
use store::{LedgerAccountRow, LedgerTransferRow, WriteTx};

/// What a ledger account is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LedgerAccountKind {
    /// 订单托管: what is held for one order; may never go negative.
    OrderEscrow,
    /// What has been released to an institution.
    InstitutionReleased,
    /// Where refunds go back to (the original route).
    RefundDestination,
    /// The bank side of the supervised account: money reported in, not yet attributed.
    BankClearing,
}

impl LedgerAccountKind {
    fn as_str(self) -> &'static str {
        match self {
            LedgerAccountKind::OrderEscrow => "order_escrow",
            LedgerAccountKind::InstitutionReleased => "institution_released",
            LedgerAccountKind::RefundDestination => "refund_destination",
            LedgerAccountKind::BankClearing => "bank_clearing",
        }
    }

    fn flags(self) -> AccountFlags {
        AccountFlags {
            debits_must_not_exceed_credits: matches!(
                self,
                LedgerAccountKind::OrderEscrow | LedgerAccountKind::InstitutionReleased
            ),
            credits_must_not_exceed_debits: false,
        }
    }
}

fn refused(e: TransferError) -> AppError {
    let code = match e {
        TransferError::IdConflict => ErrorCode::Conflict,
        TransferError::ExceedsCredits | TransferError::ExceedsDebits => {
            ErrorCode::InsufficientFunds
        }
        _ => ErrorCode::InvalidParameter,
    };
    AppError::new(code, e.to_string())
}

fn balance(row: &LedgerAccountRow) -> Result<(AccountFlags, Balance), AppError> {
    let amount = |v: i64| u64::try_from(v).map_err(|_| AppError::internal("negative ledger total"));
    Ok((
        AccountFlags {
            debits_must_not_exceed_credits: row.debits_must_not_exceed_credits != 0,
            credits_must_not_exceed_debits: false,
        },
        Balance {
            debits_posted: amount(row.debits_posted)?,
            credits_posted: amount(row.credits_posted)?,
        },
    ))
}

/// Opens a ledger account inside a transaction (nothing when it exists, even when another transaction
/// opened it meanwhile).
pub(crate) async fn open_account_in(
    tx: &mut WriteTx,
    id: &str,
    kind: LedgerAccountKind,
    owner: &str,
) -> Result<(), AppError> {
    tx.insert_ledger_accounts(&[LedgerAccountRow {
        id: id.to_owned(),
        kind: kind.as_str().to_owned(),
        owner: owner.to_owned(),
        debits_must_not_exceed_credits: i64::from(kind.flags().debits_must_not_exceed_credits),
        debits_posted: 0,
        credits_posted: 0,
    }])
    .await?;
    Ok(())
}

/// Posts one transfer inside a transaction. The same transfer twice changes nothing the second time; a
/// different transfer under a used id is a conflict; an overdraft is refused and nothing moves.
pub(crate) async fn post_in(
    tx: &mut WriteTx,
    transfer: &Transfer<String>,
    now: i64,
) -> Result<Posted, AppError> {
    let amount = i64::try_from(transfer.amount)
        .map_err(|_| AppError::new(ErrorCode::InvalidParameter, "amount too large"))?;
    if let Some(existing) = tx.ledger_transfer(&transfer.id).await? {
        let same = existing.debit_account == transfer.debit
            && existing.credit_account == transfer.credit
            && existing.amount == amount
            && existing.code == i64::from(transfer.code);
        return if same {
            Ok(Posted::AlreadyExists)
        } else {
            Err(refused(TransferError::IdConflict))
        };
    }
    let missing = || AppError::new(ErrorCode::NotFound, "no such ledger account");
    let accounts = tx
        .ledger_accounts_for_update([&transfer.debit, &transfer.credit])
        .await?;
    let find = |id: &str| accounts.iter().find(|a| a.id == id).cloned();
    let debit = find(&transfer.debit).ok_or_else(missing)?;
    let credit = find(&transfer.credit).ok_or_else(missing)?;
    let (d, c) = apply(transfer, balance(&debit)?, balance(&credit)?).map_err(refused)?;
    let total = |v: u64| i64::try_from(v).map_err(|_| refused(TransferError::Overflow));
    let row = LedgerTransferRow {
        id: transfer.id.clone(),
        debit_account: transfer.debit.clone(),
        credit_account: transfer.credit.clone(),
        amount,
        code: i64::from(transfer.code),
        posted_at: now,
    };
    tx.record_transfer(
        &row,
        (&debit, total(d.debits_posted)?),
        (&credit, total(c.credits_posted)?),
    )
    .await?;
    Ok(Posted::Created)
}

impl App {
    /// Opens a ledger account (idempotent by id).
    pub async fn open_ledger_account(
        &self,
        id: &str,
        kind: LedgerAccountKind,
        owner: &str,
    ) -> Result<(), AppError> {
        let mut tx = self.store.begin_write().await?;
        open_account_in(&mut tx, id, kind, owner).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Posts one transfer in its own transaction (see [`post_in`]).
    pub async fn post_transfer(&self, transfer: &Transfer<String>) -> Result<Posted, AppError> {
        let mut tx = self.store.begin_write().await?;
        let posted = post_in(&mut tx, transfer, self.clock.now().millis()).await?;
        tx.commit().await?;
        Ok(posted)
    }

    /// An account's posted totals.
    pub async fn ledger_balance(&self, id: &str) -> Result<Balance, AppError> {
        let row = self
            .store
            .read()
            .ledger_account(id)
            .await?
            .ok_or_else(|| AppError::new(ErrorCode::NotFound, "no such ledger account"))?;
        Ok(balance(&row)?.1)
    }
}
