//! 动账 the banks' movement reports. Reconciliation runs inside each movement's transaction: an outflow is
//! matched to the instruction it names, or it raises an `unmatched_outflow` risk event at once; the latest
//! reported balance must cover what the platform owes on the account (custody: the escrow; risk deposit: the
//! region's share of it), or a shortfall is raised.

use super::movement_book::{
    CheckedMovement, MovementAck, MovementBook, MovementReport, NewMovement, account_numbers,
};
use super::{MAX_BATCH, risk};
use crate::money::Money;
use crate::{Actor, AppError, ErrorCode, evidence};
use domain::Action;
use domain::{InstructionEvent, InstructionStatus, Timestamp};
use serde::{Deserialize, Serialize};
use serde_json::json;
use store::{MovementRow, RiskEventRow, SupervisedAccountRow, WriteTx};

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

pub(super) fn risk_view(r: RiskEventRow) -> RiskEventView {
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

impl<'a> Money<'a> {
    /// 动账 the bank reports a movement. Outflows are matched to instructions (an executed instruction moves
    /// the ledger); the account is reconciled against what the platform owes on it; what does not fit raises
    /// a risk event in the same transaction.
    pub async fn record_movement(
        self,
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
        self,
        actor: &Actor,
        batch: &MovementBatch,
    ) -> Result<Vec<MovementOutcome>, AppError> {
        let bank_id = self.bank_of(actor).await?.to_owned();
        if batch.movements.is_empty() || batch.movements.len() > MAX_BATCH {
            return Err(AppError::invalid(
                format!("资金变动：每批1至{MAX_BATCH}笔"),
                format!("movements: 1 to {MAX_BATCH}"),
            ));
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
                    detail: e.detail.en,
                },
            })
            .collect())
    }

    /// Checks each report before anything is written for it (a refusal leaves nothing behind), then applies
    /// the accepted ones in turn; an error while applying aborts the whole transaction. What a batch reads
    /// is read once for all its reports ([`MovementBook`]); the movement rows and risk events are written
    /// together at the end.
    pub(super) async fn move_many(
        self,
        actor: &Actor,
        bank_id: &str,
        reports: &[MovementReport],
    ) -> Result<Vec<Result<MovementAck, AppError>>, AppError> {
        let now = self.clock.now().millis();
        let mut seen = crate::risk::EvaluationCache::default();
        seen.prepare_for_accounts(&self, bank_id, &account_numbers(reports))
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
            tx.bank().insert_movements(&book.recorded_rows).await?;
            tx.bank().report_balances(&book.reported(), now).await?;
            tx.bank().insert_risk_events(&book.events).await?;
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
        self,
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
                Some(id) => tx.instructions().instruction(id).await?,
                None => None,
            };
            let batch = match (named, &instruction) {
                (Some(id), None) => tx.instructions().release_batch(id).await?,
                _ => None,
            };
            // One outflow executes an instruction: a second one naming it is money nobody instructed.
            let taken = match named {
                Some(id) => {
                    book.recorded_rows
                        .iter()
                        .any(|r| r.instruction_id.as_deref() == Some(id) && r.matched == "matched")
                        || tx.bank().instruction_has_outflow(id).await?
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
            .supervision()
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
            Action::BankMovement,
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
    pub(super) async fn tell_of_risks_in(
        self,
        tx: &mut WriteTx,
        institution_id: &str,
        kinds: &[String],
        now: i64,
    ) -> Result<(), AppError> {
        let institution = self.registry().institution_row(institution_id).await?;
        let competent = crate::regions::competent_region_of(&institution)?;
        let mut told = tx.inbox().staff_accounts_of(institution_id).await?;
        told.extend(tx.inbox().regulator_accounts_of(competent.as_str()).await?);
        let what: Vec<&str> = kinds.iter().map(|k| risk_kind_label(k)).collect();
        self.service()
            .notify_by_sms_in(
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
        self,
        account: &SupervisedAccountRow,
        balance: i64,
        owed: i64,
        now: i64,
    ) -> Result<Vec<RiskEventRow>, AppError> {
        let (kind, level, required) = if account.mode == "risk_deposit" {
            let institution = self
                .registry()
                .institution_row(&account.institution_id)
                .await?;
            let policy = self
                .registry()
                .region_policy(&institution.region_code)
                .await?
                .policy;
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
}
