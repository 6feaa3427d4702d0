//! The platform's instructions to the banks (release, refund) and the banks' results.

use super::{escrow_id, positive, reference};
use crate::inbox::{Note, notify_each_in};
use crate::money::Money;
use crate::money::{CODE_REFUND, CODE_RELEASE, LedgerAccountKind, open_account_in, post_in};
use crate::{Actor, AppError, ErrorCode, evidence};
use domain::Action;
use domain::{InstructionEvent, InstructionStatus, Machine, OrderStatus};
use ledger::posting::Transfer;
use serde::{Deserialize, Serialize};
use serde_json::json;
use store::{Instructed, InstructionRow, OrderRow, WriteTx};

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
        return Err(AppError::new(
            ErrorCode::Conflict,
            "订单尚未付款",
            "the order is not paid",
        ));
    }
    let account = tx
        .funds()
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
    if !tx.instructions().insert_instruction(&row).await? {
        return Err(AppError::new(
            ErrorCode::InsufficientFunds,
            format!(
                "订单 {}：已付{}分，已发出指令{}分，本次申请{amount}分",
                order.order_no, order.amount_fen, order.instructed_fen
            ),
            format!(
                "order {}: {} fen paid, {} fen already instructed, {amount} fen asked",
                order.order_no, order.amount_fen, order.instructed_fen
            ),
        ));
    }
    tx.append_audit(vec![evidence::record(
        by,
        now,
        Action::BankInstructed,
        format!("institution:{}", order.institution_id),
        json!({"instruction": row.id, "kind": kind, "order": order.id, "amount_fen": amount,
               "batch_date": row.batch_date}),
    )])
    .await?;
    Ok(row)
}

impl<'a> Money<'a> {
    /// Marks an instruction executed and moves the ledger: a release from the order's escrow to the
    /// institution, a refund to the order's refund destination. An instruction already finished is left as it
    /// is (the movement and the result both report the same execution).
    pub(crate) async fn execute_instruction_in(
        self,
        tx: &mut WriteTx,
        instruction: &InstructionRow,
        bank_ref: Option<&str>,
        now: i64,
    ) -> Result<(), AppError> {
        if tx
            .instructions()
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
            .orders()
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
                    domain::money::yuan(instruction.amount_fen)
                ),
            )
        } else {
            Note::new(
                &order.parent_id,
                "退款已原路退回",
                &format!(
                    "订单 {} 的 {} 已由银行原路退回",
                    order.order_no,
                    domain::money::yuan(instruction.amount_fen)
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
        self,
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
                    "银行指令只能由平台发出",
                    "the platform instructs banks",
                )
                .await);
        }
        if !matches!(kind, "release" | "refund") {
            return Err(
                AppError::invalid("指令类别：须为划转或退费", "kind: release or refund").on("kind"),
            );
        }
        let amount = positive("amount_fen", amount_fen)?;
        let now = self.clock.now().millis();
        let mut tx = self.store.begin_write().await?;
        let order = tx
            .orders()
            .order_for_update(order_id)
            .await?
            .ok_or_else(|| AppError::not_found("没有这个订单", "no such order"))?;
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
        self,
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
    pub(super) async fn settle_in(
        self,
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
            return Err(
                AppError::invalid("状态：须为已执行或失败", "status: executed or failed")
                    .on("status"),
            );
        };
        let reason = (event == InstructionEvent::Fail)
            .then(|| result.reason.as_deref().unwrap_or("").trim().to_owned());
        let (status, finished_before) = match tx.instructions().instruction(id).await? {
            Some(i) if i.bank_id == bank_id => {
                let finished = i.status.is_finished();
                if !finished && event == InstructionEvent::Execute {
                    self.execute_instruction_in(tx, &i, bank_ref.as_deref(), now)
                        .await?;
                } else if !finished {
                    tx.instructions()
                        .finish_instruction(
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
                    .instructions()
                    .release_batch(id)
                    .await?
                    .filter(|b| b.bank_id == bank_id)
                    .ok_or_else(|| {
                        AppError::not_found("贵行没有这条指令", "no such instruction to your bank")
                    })?;
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
                format!("该指令已经{}", status.label_zh()),
                format!("the instruction was already {status}"),
            ));
        }
        if !finished_before {
            tx.append_audit(vec![evidence::record(
                by,
                now,
                Action::BankInstructionResult,
                format!("bank:{bank_id}"),
                json!({"instruction": id, "status": result.status, "bank_ref": bank_ref,
                       "reason": result.reason}),
            )])
            .await?;
        }
        Ok(())
    }

    /// An instruction, or a daily batch with the releases it carries.
    pub async fn instruction_view(self, id: &str) -> Result<InstructionView, AppError> {
        let read = self.store.read();
        let (view, account_id) = match read.instructions().instruction(id).await? {
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
                    .instructions()
                    .release_batch(id)
                    .await?
                    .ok_or_else(|| AppError::not_found("没有这条指令", "no such instruction"))?;
                let items = read
                    .instructions()
                    .batch_items_with_order_nos(&b.id)
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
            .funds()
            .supervised_account(&account_id)
            .await?
            .ok_or_else(|| AppError::internal("instruction of a missing account"))?;
        Ok(InstructionView {
            account_no: account.account_no,
            ..view
        })
    }
}
