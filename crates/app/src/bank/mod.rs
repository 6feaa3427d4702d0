//! 银行接口 what banks and the platform tell each other (the technical standard in `docs/api.md`): payment
//! notifications, movement reports (动账), the platform's instructions (release, refund) with the banks'
//! results, daily statements, and where each bank takes instructions. Every message from a bank is a signed
//! request (`crate::signing`); every outgoing instruction is signed with the bank's key the same way.
//!
//! Reconciliation runs inside each movement's transaction: an outflow is matched to the instruction it names,
//! or it raises an `unmatched_outflow` risk event at once; the latest reported balance must cover what the
//! platform owes on the account (custody: the escrow; risk deposit: the region's share of it), or a
//! shortfall is raised. A repeated or reordered message changes nothing the second time.

use crate::inbox::{Note, notify_each_in};
use crate::money::{
    CODE_PAYMENT, CODE_REFUND, CODE_RELEASE, LedgerAccountKind, new_ledger_account,
    open_account_in, post_in, post_many_in,
};
use crate::{Actor, App, AppError, ErrorCode, evidence};
use domain::{InstructionEvent, InstructionStatus, Machine, OrderStatus, Timestamp};
use ledger::posting::Transfer;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::HashMap;
use store::{
    BankEndpointRow, IdempotentRequestRow, Instructed, InstructionRow, MovementRow, OrderRow,
    RiskEventRow, StatementRow, SupervisedAccountRow, WriteTx,
};

mod delivery;
mod payments;
mod statements;

/// At most this many notices, or movement reports, in one batch.
pub const MAX_BATCH: usize = 500;

pub use delivery::{UNSETTLED_AFTER_MS, ask_again_after_ms};
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

/// `POST /api/v1/bank/movements/batch`.
#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
pub struct MovementBatch {
    pub movements: Vec<MovementReport>,
}

/// One movement's answer in a batch.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum MovementOutcome {
    Ok(MovementAck),
    Refused {
        bank_ref: String,
        code: &'static str,
        detail: String,
    },
}

/// A report that passed its checks: either one already recorded, or a new one to apply.
enum CheckedMovement {
    Duplicate(MovementAck),
    New(Box<NewMovement>),
}

struct NewMovement {
    report: MovementReport,
    account: SupervisedAccountRow,
    bank_ref: String,
    amount: i64,
    direction: String,
}

/// A batch of movement reports' reads, made once (the accounts named, the reports already recorded, the
/// escrow owed per account), and its writes, made at the end (the new movement rows and risk events).
/// The distinct account numbers of a batch of reports, in order.
fn account_numbers(reports: &[MovementReport]) -> Vec<String> {
    let mut numbers: Vec<String> = reports
        .iter()
        .map(|r| r.account_no.trim().to_owned())
        .collect();
    numbers.sort();
    numbers.dedup();
    numbers
}

struct MovementBook {
    /// Confirmed accounts of the bank, by number.
    accounts: HashMap<String, SupervisedAccountRow>,
    /// (account id, bank reference) → the report recorded under it before or earlier in the batch.
    recorded: HashMap<(String, String), MovementRow>,
    /// What the bank must hold per account (`WriteTx::must_hold_by_account`: escrow owed less instructions in
    /// flight); an account one of whose instructions this batch executed is read again.
    owed: HashMap<String, i64>,
    /// The bank's time of the batch's earliest report.
    earliest: i64,
    /// Per account, the payments the bank took after the batch's earliest report (its time, what each holds):
    /// a balance reported as of an earlier moment is compared without them.
    later_payments: HashMap<String, Vec<(i64, i64)>>,
    recorded_rows: Vec<MovementRow>,
    /// (institution, occurred at, amount) of this batch's outflows the platform did not instruct, not yet in
    /// the table the model reads.
    outflows: Vec<(String, i64, i64)>,
    events: Vec<RiskEventRow>,
    /// Account id → (balance, reported at, reconciled) of the latest report this batch kept.
    balances: HashMap<String, (i64, i64, bool)>,
}

impl MovementBook {
    async fn open(
        tx: &mut WriteTx,
        bank_id: &str,
        reports: &[MovementReport],
    ) -> Result<MovementBook, AppError> {
        let accounts: HashMap<String, SupervisedAccountRow> = tx
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
    async fn read_owed(&mut self, tx: &mut WriteTx, ids: &[String]) -> Result<(), AppError> {
        for id in ids {
            self.owed.insert(id.clone(), 0);
            self.later_payments.remove(id);
        }
        self.owed.extend(tx.must_hold_by_account(ids).await?);
        for (account, at, holds) in tx.payments_after(ids, self.earliest).await? {
            self.later_payments
                .entry(account)
                .or_default()
                .push((at, holds));
        }
        Ok(())
    }

    /// The report's fields and account: refused, already recorded, or new.
    fn check(&self, report: &MovementReport) -> Result<CheckedMovement, AppError> {
        let bank_ref = reference("bank_ref", &report.bank_ref)?;
        let amount = positive("amount_fen", report.amount_fen)?;
        domain::money::ACCOUNT_BALANCE.check("balance_after_fen", report.balance_after_fen)?;
        let direction = match report.direction.trim() {
            d @ ("in" | "out") => d.to_owned(),
            _ => return Err(invalid("direction: in or out")),
        };
        if report.occurred_at <= 0 {
            return Err(invalid("occurred_at: unix milliseconds"));
        }
        let account = self.accounts.get(report.account_no.trim()).ok_or_else(|| {
            AppError::not_found("no confirmed supervised account with this number at your bank")
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

    fn record(&mut self, institution_id: &str, row: MovementRow) {
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
    fn reference_reused(&mut self, report: &MovementReport, now: i64) {
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
    fn is_latest(&self, account: &SupervisedAccountRow, occurred_at: i64) -> bool {
        let kept = self
            .balances
            .get(&account.id)
            .map(|&(_, at, _)| at)
            .or(account.reported_at);
        kept.is_none_or(|at| at <= occurred_at)
    }

    fn report_balance(
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
    fn reported(&self) -> Vec<(String, i64, i64, bool)> {
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
    fn must_hold_at(&self, account_id: &str, owed: i64, occurred_at: i64) -> i64 {
        let later: i64 = self.later_payments.get(account_id).map_or(0, |p| {
            p.iter()
                .filter(|(at, _)| *at > occurred_at)
                .map(|(_, holds)| *holds)
                .sum()
        });
        owed - later
    }

    /// (occurred at, amount) of the institution's outflows in this batch so far.
    fn outflows_of(&self, institution_id: &str) -> Vec<(i64, i64)> {
        self.outflows
            .iter()
            .filter(|(i, _, _)| i == institution_id)
            .map(|&(_, at, amount)| (at, amount))
            .collect()
    }
}

/// `POST /api/v1/bank/instructions/{id}/result`.
#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
pub struct InstructionResult {
    /// `executed` or `failed`.
    pub status: String,
    pub bank_ref: Option<String>,
    pub reason: Option<String>,
}

/// An instruction as the platform sends it and shows it.
#[derive(Clone, Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct InstructionView {
    pub instruction_id: String,
    /// `release`, `refund`, or `release_batch` (a supervised account's day of releases).
    pub kind: String,
    /// The order of a release or refund; a batch lists its orders in `items`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_id: Option<String>,
    pub account_no: String,
    pub amount_fen: i64,
    pub status: InstructionStatus,
    pub attempts: i64,
    pub bank_ref: Option<String>,
    /// The daily batch a release travels in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch_id: Option<String>,
    /// A batch's releases.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub items: Vec<BatchItem>,
}

/// One release in a daily batch.
#[derive(Clone, Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct BatchItem {
    pub instruction_id: String,
    pub order_no: String,
    pub amount_fen: i64,
    pub status: InstructionStatus,
}

/// A risk event, for pages and the API.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct RiskEventView {
    pub id: String,
    pub institution_id: String,
    pub kind: String,
    pub kind_label: &'static str,
    pub level: String,
    pub detail: serde_json::Value,
    pub raised_at: i64,
    pub raised_at_display: String,
}

pub fn risk_kind_label(kind: &str) -> &'static str {
    match kind {
        "unmatched_outflow" => "监管账户出现未经平台指令的资金流出",
        "balance_shortfall" => "监管账户余额低于应托管资金",
        "deposit_shortfall" => "风险保证金低于规定比例",
        "missing_statement" => "银行未按时报送日对账单",
        "statement_mismatch" => "日对账单与动账明细不符",
        "reference_reused" => "银行流水号被用于另一笔不同的报文",
        "instruction_unsettled" => "银行长时间未回复划转或退款指令的执行结果",
        _ => "其他风险",
    }
}

fn risk_view(r: RiskEventRow) -> RiskEventView {
    RiskEventView {
        kind_label: risk_kind_label(&r.kind),
        detail: serde_json::from_str(&r.detail_json).unwrap_or(serde_json::Value::Null),
        raised_at_display: Timestamp::from_millis(r.raised_at).china_display(),
        id: r.id,
        institution_id: r.institution_id,
        kind: r.kind,
        level: r.level,
        raised_at: r.raised_at,
    }
}

fn invalid(message: impl Into<String>) -> AppError {
    AppError::new(ErrorCode::InvalidParameter, message)
}

fn reference(field: &str, v: &str) -> Result<String, AppError> {
    let v = v.trim();
    if v.is_empty() || v.len() > 64 || !v.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(invalid(format!(
            "{field}: 1 to 64 visible ASCII characters"
        )));
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

/// Instructs the bank inside the caller's transaction: `amount` of the order's escrow, reserved on the paid
/// order beside what its other instructions reserved (one conditional update in the store, so no interleaving
/// of releases and refunds can instruct more than was paid). A release with a `batch_date` waits for that
/// day's batch (`crate::batches`) instead of being delivered on its own.
pub(crate) async fn instruct_in(
    tx: &mut WriteTx,
    by: &str,
    kind: &str,
    order: &OrderRow,
    amount: i64,
    batch_date: Option<String>,
    now: i64,
) -> Result<InstructionRow, AppError> {
    if order.status != OrderStatus::Paid {
        return Err(AppError::new(ErrorCode::Conflict, "the order is not paid"));
    }
    let account = tx
        .supervised_account(&order.supervised_account_id)
        .await?
        .ok_or_else(|| AppError::internal("order of a missing account"))?;
    let row = InstructionRow {
        id: format!("ins_{}", uuid::Uuid::now_v7().simple()),
        kind: kind.to_owned(),
        order_id: order.id.clone(),
        supervised_account_id: account.id.clone(),
        bank_id: account.bank_id.clone(),
        amount_fen: amount,
        status: InstructionStatus::Pending,
        attempts: 0,
        next_attempt_at: now,
        last_error: None,
        created_at: now,
        acknowledged_at: None,
        finished_at: None,
        bank_ref: None,
        failure_reason: None,
        batch_date,
        batch_id: None,
    };
    if !tx.insert_instruction(&row).await? {
        return Err(AppError::new(
            ErrorCode::InsufficientFunds,
            format!(
                "order {}: {} fen paid, {} fen already instructed, {amount} fen asked",
                order.order_no, order.amount_fen, order.instructed_fen
            ),
        ));
    }
    tx.append_audit(vec![evidence::record(
        by,
        now,
        "bank.instructed",
        format!("institution:{}", order.institution_id),
        json!({"instruction": row.id, "kind": kind, "order": order.id, "amount_fen": amount,
               "batch_date": row.batch_date}),
    )])
    .await?;
    Ok(row)
}

impl App {
    /// Refuses (and audits) a signed request that is not a bank's, before it is read.
    pub async fn require_bank(&self, actor: &Actor) -> Result<(), AppError> {
        self.bank_of(actor).await.map(|_| ())
    }

    /// The bank behind a signed request, or an audited refusal.
    pub(crate) async fn bank_of<'a>(&self, actor: &'a Actor) -> Result<&'a str, AppError> {
        match actor {
            Actor::ApiClient {
                owner_kind,
                owner_id,
                ..
            } if owner_kind == "bank" => Ok(owner_id),
            _ => Err(self
                .deny(actor, "bank_api", json!({}), "banks' systems only")
                .await),
        }
    }

    /// The bank's own supervised account by number, inside the transaction.
    pub(crate) async fn banks_account(
        tx: &mut WriteTx,
        bank_id: &str,
        account_no: &str,
    ) -> Result<SupervisedAccountRow, AppError> {
        tx.supervised_account_by_no(bank_id, account_no.trim())
            .await?
            .filter(|a| a.status.is_confirmed())
            .ok_or_else(|| {
                AppError::not_found("no confirmed supervised account with this number at your bank")
            })
    }

    /// A bank says where it takes instructions and where parents pay.
    pub async fn register_bank_endpoint(
        &self,
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
        tx.upsert_bank_endpoint(&row).await?;
        tx.append_audit(vec![evidence::record(
            &actor.audit_name(),
            now,
            "bank.endpoint_set",
            format!("bank:{bank_id}"),
            json!({"instruction_url": row.instruction_url, "checkout_url": row.checkout_url}),
        )])
        .await?;
        tx.commit().await?;
        Ok(req.clone())
    }

    /// 动账 the bank reports a movement. Outflows are matched to instructions (an executed instruction moves
    /// the ledger); the account is reconciled against what the platform owes on it; what does not fit raises
    /// a risk event in the same transaction.
    pub async fn record_movement(
        &self,
        actor: &Actor,
        report: &MovementReport,
    ) -> Result<MovementAck, AppError> {
        let bank_id = self.bank_of(actor).await?.to_owned();
        let mut answers = self
            .move_many(actor, &bank_id, std::slice::from_ref(report))
            .await?;
        answers
            .pop()
            .ok_or_else(|| AppError::internal("one report, one answer"))?
    }

    /// Many movements in one request and one transaction (a bank's batch, in the order the bank booked
    /// them): each is answered on its own — a refused one does not stop the others — and all that are
    /// accepted commit together, with their risk evaluation.
    pub async fn record_movements(
        &self,
        actor: &Actor,
        batch: &MovementBatch,
    ) -> Result<Vec<MovementOutcome>, AppError> {
        let bank_id = self.bank_of(actor).await?.to_owned();
        if batch.movements.is_empty() || batch.movements.len() > MAX_BATCH {
            return Err(invalid(format!("movements: 1 to {MAX_BATCH}")));
        }
        let answers = self.move_many(actor, &bank_id, &batch.movements).await?;
        Ok(batch
            .movements
            .iter()
            .zip(answers)
            .map(|(report, answer)| match answer {
                Ok(ack) => MovementOutcome::Ok(ack),
                Err(e) => MovementOutcome::Refused {
                    bank_ref: report.bank_ref.clone(),
                    code: e.code.code(),
                    detail: e.detail,
                },
            })
            .collect())
    }

    /// Checks each report before anything is written for it (a refusal leaves nothing behind), then applies
    /// the accepted ones in turn; an error while applying aborts the whole transaction. What a batch reads
    /// is read once for all its reports ([`MovementBook`]); the movement rows and risk events are written
    /// together at the end.
    async fn move_many(
        &self,
        actor: &Actor,
        bank_id: &str,
        reports: &[MovementReport],
    ) -> Result<Vec<Result<MovementAck, AppError>>, AppError> {
        let now = self.clock.now().millis();
        let mut seen = crate::risk::EvaluationCache::default();
        seen.prepare_for_accounts(self, bank_id, &account_numbers(reports))
            .await?;
        let mut tx = self.store.begin_write().await?;
        let mut book = MovementBook::open(&mut tx, bank_id, reports).await?;
        // Account by account (each account's reports keep the bank's order), so concurrent batches take
        // the accounts' row locks in one order and cannot deadlock.
        let mut by_account: Vec<usize> = (0..reports.len()).collect();
        by_account.sort_by_key(|&i| reports[i].account_no.trim());
        let mut answers: Vec<Option<Result<MovementAck, AppError>>> =
            (0..reports.len()).map(|_| None).collect();
        let mut entries = Vec::new();
        for i in by_account {
            let answer = match book.check(&reports[i]) {
                Err(refused) => {
                    if refused.code == ErrorCode::BankRefReused {
                        book.reference_reused(&reports[i], now);
                    }
                    Err(refused)
                }
                Ok(CheckedMovement::Duplicate(ack)) => Ok(ack),
                Ok(CheckedMovement::New(m)) => {
                    let (ack, entry) = self
                        .apply_movement_in(&mut tx, actor, *m, &mut book, &mut seen, now)
                        .await?;
                    entries.push(entry);
                    Ok(ack)
                }
            };
            answers[i] = Some(answer);
        }
        if !entries.is_empty() || !book.events.is_empty() {
            tx.insert_movements(&book.recorded_rows).await?;
            tx.report_balances(&book.reported(), now).await?;
            tx.insert_risk_events(&book.events).await?;
            tx.append_audit(entries).await?;
            tx.commit().await?;
        }
        answers
            .into_iter()
            .map(|a| a.ok_or_else(|| AppError::internal("every report answered")))
            .collect()
    }

    /// Writes one checked movement: instruction matching, the reported balance and its reconciliation, the
    /// risk model's evaluation; the movement row and risk events go to the book. Returns the answer and the
    /// audit entry to append.
    async fn apply_movement_in(
        &self,
        tx: &mut WriteTx,
        actor: &Actor,
        m: NewMovement,
        book: &mut MovementBook,
        seen: &mut crate::risk::EvaluationCache,
        now: i64,
    ) -> Result<(MovementAck, ledger::NewAuditEntry), AppError> {
        let NewMovement {
            report,
            account,
            bank_ref,
            amount,
            direction,
        } = m;
        let mut events = Vec::new();
        let matched = if direction == "in" {
            "inflow".to_owned()
        } else {
            let named = report.instruction_id.as_deref().map(str::trim);
            let instruction = match named {
                Some(id) => tx.instruction(id).await?,
                None => None,
            };
            let batch = match (named, &instruction) {
                (Some(id), None) => tx.release_batch(id).await?,
                _ => None,
            };
            // One outflow executes an instruction: a second one naming it is money nobody instructed.
            let taken = match named {
                Some(id) => {
                    book.recorded_rows
                        .iter()
                        .any(|r| r.instruction_id.as_deref() == Some(id) && r.matched == "matched")
                        || tx.instruction_has_outflow(id).await?
                }
                None => false,
            };
            match (instruction, batch) {
                (Some(i), _)
                    if !taken
                        && i.supervised_account_id == account.id
                        && i.amount_fen == amount
                        && i.status != InstructionStatus::Failed =>
                {
                    self.execute_instruction_in(tx, &i, Some(&bank_ref), now)
                        .await?;
                    book.owed.remove(&account.id);
                    "matched".to_owned()
                }
                (None, Some(b))
                    if !taken
                        && b.supervised_account_id == account.id
                        && b.amount_fen == amount
                        && b.status != InstructionStatus::Failed =>
                {
                    self.finish_batch_in(
                        tx,
                        &b,
                        InstructionEvent::Execute,
                        Some(&bank_ref),
                        None,
                        now,
                    )
                    .await?;
                    book.owed.remove(&account.id);
                    "matched".to_owned()
                }
                _ => {
                    events.push(risk(
                        &account,
                        "unmatched_outflow",
                        "red",
                        None,
                        json!({"bank_ref": bank_ref, "amount_fen": amount,
                               "instruction_id": report.instruction_id, "balance_after_fen": report.balance_after_fen}),
                        now,
                    ));
                    "unmatched".to_owned()
                }
            }
        };
        book.record(
            &account.institution_id,
            MovementRow {
                id: uuid::Uuid::now_v7().to_string(),
                supervised_account_id: account.id.clone(),
                bank_ref: bank_ref.clone(),
                direction: direction.clone(),
                amount_fen: amount,
                balance_after_fen: report.balance_after_fen,
                occurred_at: report.occurred_at,
                instruction_id: report.instruction_id.clone(),
                order_no: report.order_no.clone(),
                matched: matched.clone(),
                received_at: now,
            },
        );
        let owed = match book.owed.get(&account.id) {
            Some(&owed) => owed,
            None => {
                // Changed by an instruction this batch executed: read again, with the payments since.
                book.read_owed(tx, std::slice::from_ref(&account.id))
                    .await?;
                book.owed.get(&account.id).copied().unwrap_or(0)
            }
        };
        // As of the report's moment: payments the bank took later are not in its balance yet.
        let owed = book.must_hold_at(&account.id, owed, report.occurred_at);
        // The latest report by the bank's time keeps its balance, which must cover what is owed; an older
        // report arriving late changes nothing.
        if book.is_latest(&account, report.occurred_at) {
            let shortfall = self
                .balance_check_in(&account, report.balance_after_fen, owed, now)
                .await?;
            let reconciled = events.is_empty() && shortfall.is_empty();
            book.report_balance(
                &account,
                report.balance_after_fen,
                report.occurred_at,
                reconciled,
            );
            events.extend(shortfall);
        }
        // The risk model reads the same movement: coverage, unmatched and large outflows, withdrawals.
        let warnings = self
            .evaluate_movement_in(
                tx,
                &crate::risk::MovementFacts {
                    institution_id: &account.institution_id,
                    bank_ref: &bank_ref,
                    amount_fen: amount,
                    balance_after_fen: report.balance_after_fen,
                    must_hold_fen: owed,
                    covers_escrow: account.mode != "risk_deposit",
                    outflow: direction == "out",
                    unmatched: matched == "unmatched",
                    instructed: matched == "matched",
                    occurred_at: report.occurred_at,
                    unrecorded_outflows: book.outflows_of(&account.institution_id),
                },
                seen,
                now,
            )
            .await?;
        let kinds: Vec<String> = events.iter().map(|e| e.kind.clone()).collect();
        // The model's warnings remind people of what they cover; a risk deposit below its share is not a
        // model indicator, so that one is told here.
        let untold: Vec<String> = kinds
            .iter()
            .filter(|k| *k == "deposit_shortfall")
            .cloned()
            .collect();
        if !untold.is_empty() {
            self.tell_of_risks_in(tx, &account.institution_id, &untold, now)
                .await?;
        }
        book.events.extend(events);
        let entry = evidence::record(
            &actor.audit_name(),
            now,
            "bank.movement",
            format!("institution:{}", account.institution_id),
            json!({"account": account.id, "bank_ref": bank_ref, "direction": direction,
                   "amount_fen": amount, "balance_after_fen": report.balance_after_fen,
                   "matched": matched, "risk_events": kinds,
                   "warnings": warnings.iter().map(|w| w.id.clone()).collect::<Vec<_>>()}),
        );
        Ok((
            MovementAck {
                bank_ref,
                matched,
                duplicate: false,
                risk_events: kinds,
            },
            entry,
        ))
    }

    /// A risk on a supervised account (a balance below what is owed, an outflow nobody instructed) reaches the
    /// institution's staff and the competent regulator's accounts at once: inbox and text message.
    async fn tell_of_risks_in(
        &self,
        tx: &mut WriteTx,
        institution_id: &str,
        kinds: &[String],
        now: i64,
    ) -> Result<(), AppError> {
        let institution = self.institution_row(institution_id).await?;
        let competent = crate::oversight::competent_region_of(&institution)?;
        let mut told = tx.staff_accounts_of(institution_id).await?;
        told.extend(tx.regulator_accounts_of(competent.as_str()).await?);
        let what: Vec<&str> = kinds.iter().map(|k| risk_kind_label(k)).collect();
        self.notify_by_sms_in(
            tx,
            &told,
            "资金监管风险提示",
            &format!("{}：{}", institution.name, what.join("；")),
            now,
        )
        .await
    }

    /// Does the reported balance cover what the platform owes on the account? Custody and e-CNY (the locked
    /// wallet funds): all escrow the bank must hold (less instructions in flight); risk deposit: the region's
    /// percentage of it, at least the floor.
    async fn balance_check_in(
        &self,
        account: &SupervisedAccountRow,
        balance: i64,
        owed: i64,
        now: i64,
    ) -> Result<Vec<RiskEventRow>, AppError> {
        let (kind, level, required) = if account.mode == "risk_deposit" {
            let institution = self.institution_row(&account.institution_id).await?;
            let policy = self.region_policy(&institution.region_code).await?.policy;
            let share =
                i64::try_from(i128::from(owed) * i128::from(policy.risk_deposit_percent) / 100)
                    .map_err(|_| AppError::internal("deposit share overflow"))?;
            (
                "deposit_shortfall",
                "orange",
                share.max(policy.risk_deposit_floor_fen),
            )
        } else {
            ("balance_shortfall", "red", owed)
        };
        if balance >= required {
            return Ok(Vec::new());
        }
        Ok(vec![risk(
            account,
            kind,
            level,
            None,
            json!({"balance_fen": balance, "required_fen": required, "must_hold_fen": owed}),
            now,
        )])
    }

    /// Marks an instruction executed and moves the ledger: a release from the order's escrow to the
    /// institution, a refund to the order's refund destination. An instruction already finished is left as it
    /// is (the movement and the result both report the same execution).
    pub(crate) async fn execute_instruction_in(
        &self,
        tx: &mut WriteTx,
        instruction: &InstructionRow,
        bank_ref: Option<&str>,
        now: i64,
    ) -> Result<(), AppError> {
        if tx
            .finish_instruction(
                Instructed::Single,
                &instruction.id,
                InstructionEvent::Execute,
                now,
                bank_ref,
                None,
            )
            .await?
            == 0
        {
            return Ok(());
        }
        let order = tx
            .order(&instruction.order_id)
            .await?
            .ok_or_else(|| AppError::internal("instruction of a missing order"))?;
        let (credit, kind, owner, code) = if instruction.kind == "release" {
            (
                format!("released:{}", order.institution_id),
                LedgerAccountKind::InstitutionReleased,
                order.institution_id.clone(),
                CODE_RELEASE,
            )
        } else {
            (
                format!("refund:{}", order.id),
                LedgerAccountKind::RefundDestination,
                order.id.clone(),
                CODE_REFUND,
            )
        };
        open_account_in(tx, &credit, kind, &owner).await?;
        let delta = if instruction.kind == "release" {
            store::MoneyRollup {
                released_fen: instruction.amount_fen,
                ..Default::default()
            }
        } else {
            store::MoneyRollup {
                refunded_fen: instruction.amount_fen,
                ..Default::default()
            }
        };
        crate::dashboard::roll_up_in(tx, &order.institution_id, now, &delta).await?;
        let note = if instruction.kind == "release" {
            Note::new(
                &order.parent_id,
                "课时费已划转机构",
                &format!(
                    "订单 {} 的 {} 已按您确认的课时由银行划转给机构",
                    order.order_no,
                    crate::orders::yuan(instruction.amount_fen)
                ),
            )
        } else {
            Note::new(
                &order.parent_id,
                "退款已原路退回",
                &format!(
                    "订单 {} 的 {} 已由银行原路退回",
                    order.order_no,
                    crate::orders::yuan(instruction.amount_fen)
                ),
            )
        };
        notify_each_in(tx, std::slice::from_ref(&note), true, now).await?;
        post_in(
            tx,
            &Transfer {
                id: instruction.id.clone(),
                debit: escrow_id(&order.id),
                credit,
                amount: instruction.amount_fen.unsigned_abs(),
                code,
            },
            now,
        )
        .await?;
        Ok(())
    }

    /// The platform instructs the bank to release (a confirmed lesson's fee) or refund (unconsumed fees) from
    /// an order's escrow. Nothing moves until the bank executes it; what is instructed and not yet executed
    /// is reserved, so instructions can never add up to more than the escrow.
    pub async fn instruct_bank(
        &self,
        actor: &Actor,
        kind: &str,
        order_id: &str,
        amount_fen: i64,
    ) -> Result<InstructionView, AppError> {
        if !matches!(actor, Actor::System { .. } | Actor::Regulator { .. }) {
            return Err(self
                .deny(
                    actor,
                    "bank_instructions",
                    json!({}),
                    "the platform instructs banks",
                )
                .await);
        }
        if !matches!(kind, "release" | "refund") {
            return Err(invalid("kind: release or refund"));
        }
        let amount = positive("amount_fen", amount_fen)?;
        let now = self.clock.now().millis();
        let mut tx = self.store.begin_write().await?;
        let order = tx
            .order_for_update(order_id)
            .await?
            .ok_or_else(|| AppError::not_found("no such order"))?;
        let row = instruct_in(
            &mut tx,
            &actor.audit_name(),
            kind,
            &order,
            amount,
            None,
            now,
        )
        .await?;
        tx.commit().await?;
        self.instruction_view(&row.id).await
    }

    /// The bank's result for an instruction or a daily batch: executed moves the ledger, failed leaves the
    /// escrow where it is. A repeated result changes nothing.
    pub async fn record_instruction_result(
        &self,
        actor: &Actor,
        instruction_id: &str,
        result: &InstructionResult,
    ) -> Result<InstructionView, AppError> {
        let bank_id = self.bank_of(actor).await?.to_owned();
        let now = self.clock.now().millis();
        let mut tx = self.store.begin_write().await?;
        let id = instruction_id.trim();
        self.settle_in(&mut tx, &bank_id, id, result, &actor.audit_name(), now)
            .await?;
        tx.commit().await?;
        self.instruction_view(id).await
    }

    /// Applies the bank's result for its instruction or daily batch `id` inside `tx` (the result message, or
    /// the bank's answer when it was asked again): executed moves the ledger, failed frees what the
    /// instruction reserved. A result repeated changes nothing; one contradicting the result recorded is a
    /// conflict.
    async fn settle_in(
        &self,
        tx: &mut WriteTx,
        bank_id: &str,
        id: &str,
        result: &InstructionResult,
        by: &str,
        now: i64,
    ) -> Result<(), AppError> {
        let bank_ref = result
            .bank_ref
            .as_deref()
            .map(|r| reference("bank_ref", r))
            .transpose()?;
        let Some(event) = InstructionEvent::from_result(&result.status) else {
            return Err(invalid("status: executed or failed"));
        };
        let reason = (event == InstructionEvent::Fail)
            .then(|| result.reason.as_deref().unwrap_or("").trim().to_owned());
        let (status, finished_before) = match tx.instruction(id).await? {
            Some(i) if i.bank_id == bank_id => {
                let finished = i.status.is_finished();
                if !finished && event == InstructionEvent::Execute {
                    self.execute_instruction_in(tx, &i, bank_ref.as_deref(), now)
                        .await?;
                } else if !finished {
                    tx.finish_instruction(
                        Instructed::Single,
                        &i.id,
                        InstructionEvent::Fail,
                        now,
                        bank_ref.as_deref(),
                        reason.as_deref(),
                    )
                    .await?;
                }
                (i.status, finished)
            }
            _ => {
                let batch = tx
                    .release_batch(id)
                    .await?
                    .filter(|b| b.bank_id == bank_id)
                    .ok_or_else(|| AppError::not_found("no such instruction to your bank"))?;
                let finished = batch.status.is_finished();
                if !finished {
                    self.finish_batch_in(
                        tx,
                        &batch,
                        event,
                        bank_ref.as_deref(),
                        reason.as_deref(),
                        now,
                    )
                    .await?;
                }
                (batch.status, finished)
            }
        };
        if finished_before && InstructionStatus::target(event) != Some(status) {
            return Err(AppError::new(
                ErrorCode::Conflict,
                format!("the instruction was already {status}"),
            ));
        }
        if !finished_before {
            tx.append_audit(vec![evidence::record(
                by,
                now,
                "bank.instruction_result",
                format!("bank:{bank_id}"),
                json!({"instruction": id, "status": result.status, "bank_ref": bank_ref,
                       "reason": result.reason}),
            )])
            .await?;
        }
        Ok(())
    }

    /// An instruction, or a daily batch with the releases it carries.
    pub async fn instruction_view(&self, id: &str) -> Result<InstructionView, AppError> {
        let read = self.store.read();
        let (view, account_id) = match read.instruction(id).await? {
            Some(i) => (
                InstructionView {
                    instruction_id: i.id,
                    kind: i.kind,
                    order_id: Some(i.order_id),
                    account_no: String::new(),
                    amount_fen: i.amount_fen,
                    status: i.status,
                    attempts: i.attempts,
                    bank_ref: i.bank_ref,
                    batch_id: i.batch_id,
                    items: Vec::new(),
                },
                i.supervised_account_id,
            ),
            None => {
                let b = read
                    .release_batch(id)
                    .await?
                    .ok_or_else(|| AppError::not_found("no such instruction"))?;
                let items = read
                    .batch_items(&b.id)
                    .await?
                    .into_iter()
                    .map(|(r, order_no)| BatchItem {
                        instruction_id: r.id,
                        order_no,
                        amount_fen: r.amount_fen,
                        status: r.status,
                    })
                    .collect();
                (
                    InstructionView {
                        instruction_id: b.id,
                        kind: "release_batch".into(),
                        order_id: None,
                        account_no: String::new(),
                        amount_fen: b.amount_fen,
                        status: b.status,
                        attempts: b.attempts,
                        bank_ref: b.bank_ref,
                        batch_id: None,
                        items,
                    },
                    b.supervised_account_id,
                )
            }
        };
        let account = read
            .supervised_account(&account_id)
            .await?
            .ok_or_else(|| AppError::internal("instruction of a missing account"))?;
        Ok(InstructionView {
            account_no: account.account_no,
            ..view
        })
    }

    /// A replayed mutation's first answer, if `key` was used by this client for the same request; a different
    /// request under the key is refused.
    pub async fn idempotent_replay(
        &self,
        actor: &Actor,
        key: &str,
        request: &[u8],
    ) -> Result<Option<(u16, serde_json::Value)>, AppError> {
        let Actor::ApiClient { key_id, .. } = actor else {
            return Ok(None);
        };
        let Some(seen) = self.store.read().idempotent_request(key_id, key).await? else {
            return Ok(None);
        };
        if seen.request_digest != hex::encode(self.store.crypto().hash(&[request])) {
            return Err(AppError::new(
                ErrorCode::IdempotencyKeyReused,
                format!("Idempotency-Key {key} was used for a different request"),
            ));
        }
        let body = serde_json::from_str(&seen.response_json)
            .map_err(|e| AppError::internal(format!("stored answer: {e}")))?;
        Ok(Some((u16::try_from(seen.status).unwrap_or(200), body)))
    }

    /// Keeps a mutation's answer under its idempotency key.
    pub async fn remember_answer(
        &self,
        actor: &Actor,
        key: &str,
        request: &[u8],
        status: u16,
        answer: &serde_json::Value,
    ) -> Result<(), AppError> {
        let Actor::ApiClient { key_id, .. } = actor else {
            return Ok(());
        };
        let mut tx = self.store.begin_write().await?;
        tx.record_idempotent_request(&IdempotentRequestRow {
            client_key_id: key_id.clone(),
            idempotency_key: key.to_owned(),
            request_digest: hex::encode(self.store.crypto().hash(&[request])),
            status: i64::from(status),
            response_json: answer.to_string(),
            recorded_at: self.clock.now().millis(),
        })
        .await?;
        tx.commit().await?;
        Ok(())
    }
}

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

impl App {
    /// An institution's supervised accounts with balances, escrow owed, movements and risk events, for its
    /// staff or a regulator over it.
    pub async fn institution_money(
        &self,
        actor: &Actor,
        institution_id: &str,
    ) -> Result<InstitutionMoney, AppError> {
        self.require_money_view(actor, institution_id).await?;
        let read = self.store.read();
        let mut accounts = Vec::new();
        for a in read.supervised_accounts_of(institution_id).await? {
            let owed = read.escrow_owed(&a.id).await?;
            let movements = read
                .movements_of(&a.id, 50)
                .await?
                .into_iter()
                .map(|m| MovementView {
                    amount_display: crate::orders::yuan(m.amount_fen),
                    balance_after_display: crate::orders::yuan(m.balance_after_fen),
                    occurred_at_display: Timestamp::from_millis(m.occurred_at).china_display(),
                    bank_ref: m.bank_ref,
                    direction: m.direction,
                    amount_fen: m.amount_fen,
                    matched: m.matched,
                    instruction_id: m.instruction_id,
                })
                .collect();
            let batches = read
                .batches_of_account(&a.id, 30)
                .await?
                .into_iter()
                .map(Into::into)
                .collect();
            accounts.push(AccountMoney {
                reported_balance_display: a.reported_balance_fen.map(crate::orders::yuan),
                escrow_owed_display: crate::orders::yuan(owed),
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
            .risk_events(Some(institution_id), 100)
            .await?
            .into_iter()
            .map(risk_view)
            .collect();
        Ok(InstitutionMoney {
            risk_scores: self.risk_scores(institution_id).await?,
            institution_id: institution_id.to_owned(),
            accounts,
            risk_events,
        })
    }
}

impl App {
    /// The money worker of `xiaowai serve`: every half second it publishes overdue risk warnings, confirms
    /// lessons whose window has closed, gathers the days' held releases into batches and delivers due
    /// instructions; hourly it sweeps the risk indicators; once a day after 06:00 China time it raises missing
    /// statements for the day before and sends that day's warning digest.
    pub async fn run_money_worker(self) {
        let mut tick = tokio::time::interval(std::time::Duration::from_millis(500));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut swept: Option<chrono::NaiveDate> = None;
        let mut risk_swept_at: Option<i64> = None;
        loop {
            tick.tick().await;
            // The risk sweep reads every institution: hourly by the platform's clock (a test clock moved
            // forward sweeps at once); overdue warnings are published on every tick.
            let now_ms = self.clock.now().millis();
            if risk_swept_at.is_none_or(|at| now_ms - at >= 3_600_000) {
                let started = std::time::Instant::now();
                match self.sweep_risks().await {
                    Ok(raised) => {
                        risk_swept_at = Some(now_ms);
                        tracing::info!(
                            raised,
                            ms = started.elapsed().as_millis() as u64,
                            "risk sweep finished"
                        );
                    }
                    Err(e) => tracing::warn!(error = %e, "sweeping risk indicators"),
                }
            }
            if let Err(e) = self.publish_overdue_warnings().await {
                tracing::warn!(error = %e, "publishing overdue risk warnings");
            }
            if let Err(e) = self.auto_confirm_due().await {
                tracing::warn!(error = %e, "confirming lessons whose window closed");
            }
            if let Err(e) = self.auto_agree_due().await {
                tracing::warn!(error = %e, "agreeing refunds the institution left unanswered");
            }
            if let Err(e) = self.form_release_batches().await {
                tracing::warn!(error = %e, "forming the daily release batches");
            }
            if let Err(e) = self.deliver_due_instructions().await {
                tracing::warn!(error = %e, "delivering bank instructions");
            }
            if let Err(e) = self.raise_unsettled_instructions().await {
                tracing::warn!(error = %e, "raising instructions the bank left without a result");
            }
            if let Err(e) = self.send_queued_sms().await {
                tracing::warn!(error = %e, "sending text messages");
            }
            let now = self.clock.now();
            let today = now.china_date();
            let after_six = now
                .to_datetime()
                .with_timezone(&domain::time::china_offset())
                .time()
                >= chrono::NaiveTime::from_hms_opt(6, 0, 0).unwrap_or_default();
            if after_six
                && swept != Some(today)
                && let Some(yesterday) = today.pred_opt()
            {
                match self.check_statements(yesterday).await {
                    Ok(_) => {
                        swept = Some(today);
                        if let Err(e) = self.send_warning_digest(yesterday).await {
                            tracing::warn!(error = %e, "sending the daily warning digest");
                        }
                    }
                    Err(e) => tracing::warn!(error = %e, "checking bank statements"),
                }
            }
        }
    }
}
