//! 资金账本 posting money movements to the stored ledger under `ledger::posting`'s rules: each transfer in
//! its own transaction, idempotent by id, refused whole when it would overdraw an account that may not owe.
//! Orders, bank notifications and releases post through [`post_in`] inside their own transactions.

/// Transfer codes: what moved.
pub const CODE_PAYMENT: u16 = 1;
pub const CODE_RELEASE: u16 = 2;
pub const CODE_REFUND: u16 = 3;

use crate::money::Money;
use crate::{AppError, ErrorCode};
use ledger::posting::{AccountFlags, Balance, Posted, Transfer, TransferError, apply};
use std::collections::HashMap;
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
    let zh = match e {
        TransferError::ZeroAmount => "金额须至少为1分",
        TransferError::SameAccount => "转账须在两个不同的账户之间进行",
        TransferError::UnknownAccount => "没有这个账户",
        TransferError::ExceedsCredits => "付款账户余额不足",
        TransferError::ExceedsDebits => "收款账户不能超过存入的金额",
        TransferError::Overflow => "金额超出可计算范围",
        TransferError::IdConflict => "已有另一笔转账使用此编号",
    };
    AppError::new(code, zh, e.to_string())
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

/// A new, empty ledger account of `kind`.
pub(crate) fn new_ledger_account(
    id: &str,
    kind: LedgerAccountKind,
    owner: &str,
) -> LedgerAccountRow {
    LedgerAccountRow {
        id: id.to_owned(),
        kind: kind.as_str().to_owned(),
        owner: owner.to_owned(),
        debits_must_not_exceed_credits: i64::from(kind.flags().debits_must_not_exceed_credits),
        debits_posted: 0,
        credits_posted: 0,
    }
}

/// Opens a ledger account inside a transaction (nothing when it exists, even when another transaction
/// opened it meanwhile).
pub(crate) async fn open_account_in(
    tx: &mut WriteTx,
    id: &str,
    kind: LedgerAccountKind,
    owner: &str,
) -> Result<(), AppError> {
    tx.ledger()
        .insert_ledger_accounts(&[new_ledger_account(id, kind, owner)])
        .await?;
    Ok(())
}

/// Posts one transfer inside a transaction (see [`post_many_in`]).
pub(crate) async fn post_in(
    tx: &mut WriteTx,
    transfer: &Transfer<String>,
    now: i64,
) -> Result<Posted, AppError> {
    let posted = post_many_in(tx, std::slice::from_ref(transfer), now).await?;
    posted
        .into_iter()
        .next()
        .ok_or_else(|| AppError::internal("one transfer, one answer"))
}

/// Posts transfers inside a transaction, in order, all or nothing. A transfer posted before (same id, same
/// accounts, amount and code) changes nothing the second time; a different transfer under a used id is a
/// conflict; an overdraft refuses the whole call. The touched accounts are read locked, the balances worked
/// out by `ledger::posting::apply` in memory, and written with one statement per kind of write — how a
/// bank's batch of payments costs a handful of statements rather than a handful per payment.
pub(crate) async fn post_many_in(
    tx: &mut WriteTx,
    transfers: &[Transfer<String>],
    now: i64,
) -> Result<Vec<Posted>, AppError> {
    let ids: Vec<String> = transfers.iter().map(|t| t.id.clone()).collect();
    let existing: HashMap<String, LedgerTransferRow> = tx
        .ledger()
        .ledger_transfers(&ids)
        .await?
        .into_iter()
        .map(|t| (t.id.clone(), t))
        .collect();
    let account_ids: Vec<String> = transfers
        .iter()
        .flat_map(|t| [t.debit.clone(), t.credit.clone()])
        .collect();
    let mut accounts: HashMap<String, (AccountFlags, Balance)> = HashMap::new();
    for row in tx.ledger().ledger_accounts_locked(&account_ids).await? {
        accounts.insert(row.id.clone(), balance(&row)?);
    }
    let missing = || {
        AppError::new(
            ErrorCode::NotFound,
            "没有这个账簿账户",
            "no such ledger account",
        )
    };
    let mut posted = Vec::with_capacity(transfers.len());
    let mut rows = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for transfer in transfers {
        let amount = i64::try_from(transfer.amount).map_err(|_| {
            AppError::new(ErrorCode::InvalidParameter, "金额过大", "amount too large")
        })?;
        if let Some(before) = existing.get(&transfer.id) {
            let same = before.debit_account == transfer.debit
                && before.credit_account == transfer.credit
                && before.amount == amount
                && before.code == i64::from(transfer.code);
            if !same {
                return Err(refused(TransferError::IdConflict));
            }
            posted.push(Posted::AlreadyExists);
            continue;
        }
        if !seen.insert(transfer.id.clone()) {
            return Err(refused(TransferError::IdConflict));
        }
        let debit = *accounts.get(&transfer.debit).ok_or_else(missing)?;
        let credit = *accounts.get(&transfer.credit).ok_or_else(missing)?;
        let (d, c) = apply(transfer, debit, credit).map_err(refused)?;
        accounts.insert(transfer.debit.clone(), (debit.0, d));
        accounts.insert(transfer.credit.clone(), (credit.0, c));
        rows.push(LedgerTransferRow {
            id: transfer.id.clone(),
            debit_account: transfer.debit.clone(),
            credit_account: transfer.credit.clone(),
            amount,
            code: i64::from(transfer.code),
            posted_at: now,
        });
        posted.push(Posted::Created);
    }
    if rows.is_empty() {
        return Ok(posted);
    }
    let total = |v: u64| i64::try_from(v).map_err(|_| refused(TransferError::Overflow));
    let mut touched: Vec<&String> = rows
        .iter()
        .flat_map(|r| [&r.debit_account, &r.credit_account])
        .collect();
    touched.sort_unstable();
    touched.dedup();
    let totals = touched
        .into_iter()
        .map(|id| {
            let (_, b) = accounts[id];
            Ok((
                id.clone(),
                total(b.debits_posted)?,
                total(b.credits_posted)?,
            ))
        })
        .collect::<Result<Vec<_>, AppError>>()?;
    tx.ledger().record_transfers(&rows, &totals).await?;
    Ok(posted)
}

impl<'a> Money<'a> {
    /// Opens a ledger account (idempotent by id).
    pub async fn open_ledger_account(
        self,
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
    pub async fn post_transfer(self, transfer: &Transfer<String>) -> Result<Posted, AppError> {
        let mut tx = self.store.begin_write().await?;
        let posted = post_in(&mut tx, transfer, self.clock.now().millis()).await?;
        tx.commit().await?;
        Ok(posted)
    }

    /// An account's posted totals.
    pub async fn ledger_balance(self, id: &str) -> Result<Balance, AppError> {
        let row = self
            .store
            .read()
            .ledger()
            .ledger_account(id)
            .await?
            .ok_or_else(|| {
                AppError::new(
                    ErrorCode::NotFound,
                    "没有这个账簿账户",
                    "no such ledger account",
                )
            })?;
        Ok(balance(&row)?.1)
    }
}
