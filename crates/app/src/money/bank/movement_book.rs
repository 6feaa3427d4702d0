//! The reads and checks of a batch of movement reports (动账), made once per batch: the accounts named, the
//! reports already recorded, what each account must hold; and the rows the batch writes at the end.

use super::{positive, reference, risk};
use crate::{AppError, ErrorCode};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::HashMap;
use store::{MovementRow, RiskEventRow, SupervisedAccountRow, WriteTx};

/// `POST /api/v1/bank/movements`: one 动账 on a supervised account.
#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
pub struct MovementReport {
    pub account_no: String,
    pub bank_ref: String,
    /// `in` or `out`.
    pub direction: String,
    pub amount_fen: i64,
    pub balance_after_fen: i64,
    /// Unix milliseconds, the bank's time.
    pub occurred_at: i64,
    /// An outflow names the platform's instruction it executes.
    pub instruction_id: Option<String>,
    /// An inflow may name the order it pays.
    pub order_no: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct MovementAck {
    pub bank_ref: String,
    /// `inflow`, `matched` or `unmatched`.
    pub matched: String,
    pub duplicate: bool,
    /// Kinds of the risk events this report raised.
    pub risk_events: Vec<String>,
}

/// A report that passed its checks: either one already recorded, or a new one to apply.
pub(super) enum CheckedMovement {
    Duplicate(MovementAck),
    New(Box<NewMovement>),
}

pub(super) struct NewMovement {
    pub(super) report: MovementReport,
    pub(super) account: SupervisedAccountRow,
    pub(super) bank_ref: String,
    pub(super) amount: i64,
    pub(super) direction: String,
}

/// The distinct account numbers of a batch of reports, in order.
pub(super) fn account_numbers(reports: &[MovementReport]) -> Vec<String> {
    let mut numbers: Vec<String> = reports
        .iter()
        .map(|r| r.account_no.trim().to_owned())
        .collect();
    numbers.sort();
    numbers.dedup();
    numbers
}

/// A batch of movement reports' reads, made once (the accounts named, the reports already recorded, the
/// escrow owed per account), and its writes, made at the end (the new movement rows and risk events).
pub(super) struct MovementBook {
    /// Confirmed accounts of the bank, by number.
    pub(super) accounts: HashMap<String, SupervisedAccountRow>,
    /// (account id, bank reference) → the report recorded under it before or earlier in the batch.
    pub(super) recorded: HashMap<(String, String), MovementRow>,
    /// What the bank must hold per account (`store::BankMessages::must_hold_by_account`: escrow owed less
    /// instructions in flight); an account one of whose instructions this batch executed is read again.
    pub(super) owed: HashMap<String, i64>,
    /// The bank's time of the batch's earliest report.
    pub(super) earliest: i64,
    /// Per account, the payments the bank took after the batch's earliest report (its time, what each holds):
    /// a balance reported as of an earlier moment is compared without them.
    pub(super) later_payments: HashMap<String, Vec<(i64, i64)>>,
    pub(super) recorded_rows: Vec<MovementRow>,
    /// (institution, occurred at, amount) of this batch's outflows the platform did not instruct, not yet in
    /// the table the model reads.
    pub(super) outflows: Vec<(String, i64, i64)>,
    pub(super) events: Vec<RiskEventRow>,
    /// Account id → (balance, reported at, reconciled) of the latest report this batch kept.
    pub(super) balances: HashMap<String, (i64, i64, bool)>,
}

impl MovementBook {
    pub(super) async fn open(
        tx: &mut WriteTx,
        bank_id: &str,
        reports: &[MovementReport],
    ) -> Result<MovementBook, AppError> {
        let accounts: HashMap<String, SupervisedAccountRow> = tx
            .bank()
            .supervised_accounts_by_no(bank_id, &account_numbers(reports))
            .await?
            .into_iter()
            .filter(|a| a.status.is_confirmed())
            .map(|a| (a.account_no.clone(), a))
            .collect();
        // The (account, reference) pairs of the reports whose account is known: a report on an unknown
        // account is refused anyway.
        let mut pairs: Vec<(String, String)> = reports
            .iter()
            .filter_map(|r| {
                let account = accounts.get(r.account_no.trim())?;
                Some((account.id.clone(), r.bank_ref.trim().to_owned()))
            })
            .collect();
        pairs.sort();
        pairs.dedup();
        let recorded = tx
            .bank()
            .movements_by_ref(&pairs)
            .await?
            .into_iter()
            .map(|m| ((m.supervised_account_id.clone(), m.bank_ref.clone()), m))
            .collect();
        let ids: Vec<String> = accounts.values().map(|a| a.id.clone()).collect();
        let earliest = reports.iter().map(|r| r.occurred_at).min().unwrap_or(0);
        let mut book = MovementBook {
            accounts,
            recorded,
            earliest,
            owed: HashMap::new(),
            later_payments: HashMap::new(),
            recorded_rows: Vec::new(),
            outflows: Vec::new(),
            events: Vec::new(),
            balances: HashMap::new(),
        };
        book.read_owed(tx, &ids).await?;
        Ok(book)
    }

    /// Reads what the bank must hold on these accounts now and the payments it took after the batch's
    /// earliest report, in this order: a payment committing in between is then subtracted without having been
    /// counted (a shortfall missed for a moment), never counted without being subtracted (a false one). The
    /// two are always read again together.
    pub(super) async fn read_owed(
        &mut self,
        tx: &mut WriteTx,
        ids: &[String],
    ) -> Result<(), AppError> {
        for id in ids {
            self.owed.insert(id.clone(), 0);
            self.later_payments.remove(id);
        }
        self.owed.extend(tx.bank().must_hold_by_account(ids).await?);
        for (account, at, holds) in tx.bank().payments_after(ids, self.earliest).await? {
            self.later_payments
                .entry(account)
                .or_default()
                .push((at, holds));
        }
        Ok(())
    }

    /// The report's fields and account: refused, already recorded, or new.
    pub(super) fn check(&self, report: &MovementReport) -> Result<CheckedMovement, AppError> {
        let bank_ref = reference("bank_ref", &report.bank_ref)?;
        let amount = positive("amount_fen", report.amount_fen)?;
        domain::money::ACCOUNT_BALANCE.check("balance_after_fen", report.balance_after_fen)?;
        let direction = match report.direction.trim() {
            d @ ("in" | "out") => d.to_owned(),
            _ => {
                return Err(
                    AppError::invalid("方向：须为收入或支出", "direction: in or out")
                        .on("direction"),
                );
            }
        };
        if report.occurred_at <= 0 {
            return Err(AppError::invalid(
                "发生时间：须为 Unix 毫秒时间戳",
                "occurred_at: unix milliseconds",
            )
            .on("occurred_at"));
        }
        let account = self.accounts.get(report.account_no.trim()).ok_or_else(|| {
            AppError::not_found(
                "贵行没有该账号的已确认监管账户",
                "no confirmed supervised account with this number at your bank",
            )
        })?;
        if let Some(before) = self.recorded.get(&(account.id.clone(), bank_ref.clone())) {
            // The same report again is answered as before; another report under a used reference is refused.
            let same = before.direction == direction
                && before.amount_fen == amount
                && before.balance_after_fen == report.balance_after_fen
                && before.occurred_at == report.occurred_at
                && before.instruction_id.as_deref().map(str::trim)
                    == report.instruction_id.as_deref().map(str::trim);
            if !same {
                return Err(AppError::new(
                    ErrorCode::BankRefReused,
                    format!(
                        "银行流水号 {bank_ref} 已报送为另一笔资金变动（{} {}分，余额{}分，时间{}），不同的资金变动须使用各自的流水号",
                        before.direction,
                        before.amount_fen,
                        before.balance_after_fen,
                        before.occurred_at
                    ),
                    format!(
                        "bank_ref {bank_ref} was reported as {} {} fen (balance {} fen at {}): a different movement needs its own reference",
                        before.direction,
                        before.amount_fen,
                        before.balance_after_fen,
                        before.occurred_at
                    ),
                ));
            }
            return Ok(CheckedMovement::Duplicate(MovementAck {
                bank_ref,
                matched: before.matched.clone(),
                duplicate: true,
                risk_events: Vec::new(),
            }));
        }
        Ok(CheckedMovement::New(Box::new(NewMovement {
            report: report.clone(),
            account: account.clone(),
            bank_ref,
            amount,
            direction,
        })))
    }

    pub(super) fn record(&mut self, institution_id: &str, row: MovementRow) {
        // The withdrawal indicators count outflows the platform did not instruct.
        if row.direction == "out" && row.matched != "matched" {
            self.outflows
                .push((institution_id.to_owned(), row.occurred_at, row.amount_fen));
        }
        self.recorded.insert(
            (row.supervised_account_id.clone(), row.bank_ref.clone()),
            row.clone(),
        );
        self.recorded_rows.push(row);
    }

    /// A red event for a reference used again with other content: the bank's books and ours disagree about
    /// what happened under it.
    pub(super) fn reference_reused(&mut self, report: &MovementReport, now: i64) {
        if let Some(account) = self.accounts.get(report.account_no.trim()) {
            self.events.push(risk(
                account,
                "reference_reused",
                "red",
                None,
                json!({"bank_ref": report.bank_ref.trim(), "message": "movement",
                       "direction": report.direction, "amount_fen": report.amount_fen,
                       "balance_after_fen": report.balance_after_fen}),
                now,
            ));
        }
    }

    /// Is a report at `occurred_at` (the bank's time) the account's latest, against the stored one and the
    /// batch's own?
    pub(super) fn is_latest(&self, account: &SupervisedAccountRow, occurred_at: i64) -> bool {
        let kept = self
            .balances
            .get(&account.id)
            .map(|&(_, at, _)| at)
            .or(account.reported_at);
        kept.is_none_or(|at| at <= occurred_at)
    }

    pub(super) fn report_balance(
        &mut self,
        account: &SupervisedAccountRow,
        balance: i64,
        occurred_at: i64,
        reconciled: bool,
    ) {
        let was_reconciled = self.balances.get(&account.id).is_some_and(|b| b.2);
        self.balances.insert(
            account.id.clone(),
            (balance, occurred_at, reconciled || was_reconciled),
        );
    }

    /// The balances to keep: (account id, balance, reported at, reconciled).
    pub(super) fn reported(&self) -> Vec<(String, i64, i64, bool)> {
        let mut rows: Vec<_> = self
            .balances
            .iter()
            .map(|(id, &(balance, at, reconciled))| (id.clone(), balance, at, reconciled))
            .collect();
        rows.sort();
        rows
    }

    /// What the bank had to hold on the account at `occurred_at` (its time), from what it must hold now
    /// (`owed`): without the payments it took after that moment.
    pub(super) fn must_hold_at(&self, account_id: &str, owed: i64, occurred_at: i64) -> i64 {
        let later: i64 = self.later_payments.get(account_id).map_or(0, |p| {
            p.iter()
                .filter(|(at, _)| *at > occurred_at)
                .map(|(_, holds)| *holds)
                .sum()
        });
        owed - later
    }

    /// (occurred at, amount) of the institution's outflows in this batch so far.
    pub(super) fn outflows_of(&self, institution_id: &str) -> Vec<(i64, i64)> {
        self.outflows
            .iter()
            .filter(|(i, _, _)| i == institution_id)
            .map(|&(_, at, amount)| (at, amount))
            .collect()
    }
}
