//! 支付通知 payments: what a bank's payment notices (one or a batch, or a statement's lines) do — inside one
//! transaction the institutions are held, the orders locked and each notice decided; money that may not stay
//! (the institution's door closed, the order frozen) is recorded and refunded at once.

use super::{MAX_BATCH, escrow_id, positive, reference, risk};
use crate::events;
use crate::inbox::{Note, notify_each_in};
use crate::money::Money;
use crate::money::{CODE_PAYMENT, LedgerAccountKind, new_ledger_account, post_many_in};
use crate::{Actor, AppError, ErrorCode, evidence};
use domain::Action;
use domain::{OrderStatus, RefundEvent, Timestamp};
use ledger::posting::Transfer;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::HashMap;
use store::{OrderRow, SupervisedAccountRow, WriteTx};

/// `POST /api/v1/bank/payments`: a parent paid `amount_fen` into the supervised account for an order.
#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
pub struct PaymentNotice {
    pub order_no: String,
    pub account_no: String,
    pub amount_fen: i64,
    /// The bank's own reference of the payment: one payment is recorded once.
    pub bank_ref: String,
    /// Unix milliseconds, the bank's time.
    pub paid_at: i64,
}

/// `POST /api/v1/bank/payments/batch`.
#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
pub struct PaymentBatch {
    pub payments: Vec<PaymentNotice>,
}

/// One notice's answer in a batch.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum PaymentOutcome {
    Ok(PaymentAck),
    Refused {
        order_no: String,
        code: &'static str,
        detail: String,
    },
}

#[derive(Clone, Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PaymentAck {
    pub order_no: String,
    pub status: PaymentResult,
    /// What the platform now holds for the order.
    pub escrow_fen: i64,
    /// `true` when this payment had been recorded before (nothing changed).
    pub duplicate: bool,
    /// The refund instruction the bank will receive for a payment that cannot stay.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refund_instruction_id: Option<String>,
}

/// What became of a payment the bank reported.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PaymentResult {
    /// The order is paid; the money stays in escrow.
    Paid,
    /// The money arrived for an institution that may take none (in run-off, black-listed, removed, stopped
    /// from selling) or for a frozen order: the payment is recorded and at once instructed back by the
    /// original route (`refund_instruction_id`).
    Refunding,
}

/// How a refund of a payment that may not stay begins its reason (the rest says why).
const REFUNDED_ON_ARRIVAL: &str = "付款到账时不能收费，原路退回：";

/// Where the platform learnt of a payment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum PaidFrom {
    /// The bank's payment notice.
    Notice,
    /// A line of the bank's daily statement (the notice never arrived).
    Statement,
}

impl PaidFrom {
    fn as_str(self) -> &'static str {
        match self {
            PaidFrom::Notice => "notice",
            PaidFrom::Statement => "statement",
        }
    }
}

/// What a payment notice does.
enum Decision {
    /// Pay the order, recording the bank's reference.
    Pay(OrderRow, String),
    /// The same payment again: answer as before.
    Duplicate(OrderRow),
}

impl<'a> Money<'a> {
    /// 支付通知 the bank reports a parent's payment for an order: the order turns paid and its escrow holds
    /// the amount. The same payment again changes nothing; another payment for a paid order is refused so the
    /// bank returns it.
    pub async fn record_payment(
        self,
        actor: &Actor,
        notice: &PaymentNotice,
    ) -> Result<PaymentAck, AppError> {
        let bank_id = self.bank_of(actor).await?.to_owned();
        let mut answers = self
            .pay_many(
                actor,
                &bank_id,
                std::slice::from_ref(notice),
                PaidFrom::Notice,
            )
            .await?;
        answers
            .pop()
            .ok_or_else(|| AppError::internal("one notice, one answer"))?
    }

    /// Many payment notifications in one request and one transaction (a bank's batch): each is answered on
    /// its own — a refused one does not stop the others — and all that succeed commit together.
    pub async fn record_payments(
        self,
        actor: &Actor,
        batch: &PaymentBatch,
    ) -> Result<Vec<PaymentOutcome>, AppError> {
        let bank_id = self.bank_of(actor).await?.to_owned();
        if batch.payments.is_empty() || batch.payments.len() > MAX_BATCH {
            return Err(AppError::invalid(
                format!("付款：每批1至{MAX_BATCH}笔"),
                format!("payments: 1 to {MAX_BATCH}"),
            ));
        }
        let answers = self
            .pay_many(actor, &bank_id, &batch.payments, PaidFrom::Notice)
            .await?;
        Ok(batch
            .payments
            .iter()
            .zip(answers)
            .map(|(notice, answer)| match answer {
                Ok(ack) => PaymentOutcome::Ok(ack),
                Err(e) => PaymentOutcome::Refused {
                    order_no: notice.order_no.clone(),
                    code: e.code.code(),
                    detail: e.detail.en,
                },
            })
            .collect())
    }

    /// Decides every notice from what is stored (and from the notices before it in the batch), then writes
    /// the accepted ones with one statement per kind of write: orders, ledger accounts, transfers, audit.
    ///
    /// Inside the transaction, before anything is decided, the institutions are held (`FOR SHARE`: a
    /// black-listing or run-off deciding meanwhile comes first or waits) and then the orders locked, each in id
    /// order. A payment for an institution whose door is closed, or for a frozen order, is recorded — the money
    /// is at the bank — and at once instructed back by the original route.
    pub(super) async fn pay_many(
        self,
        actor: &Actor,
        bank_id: &str,
        notices: &[PaymentNotice],
        from: PaidFrom,
    ) -> Result<Vec<Result<PaymentAck, AppError>>, AppError> {
        let now = self.clock.now().millis();
        let today = Timestamp::from_millis(now).china_date();
        let mut tx = self.store.begin_write().await?;
        let mut accounts: HashMap<String, Option<SupervisedAccountRow>> = HashMap::new();
        for notice in notices {
            let no = notice.account_no.trim().to_owned();
            if let std::collections::hash_map::Entry::Vacant(slot) = accounts.entry(no) {
                let found = Self::banks_account(&mut tx, bank_id, slot.key()).await.ok();
                slot.insert(found);
            }
        }
        let order_nos: Vec<String> = notices
            .iter()
            .map(|n| n.order_no.trim().to_owned())
            .collect();
        let standing = tx
            .registry()
            .institutions_of_orders_for_share(&order_nos)
            .await?;
        let mut closed: HashMap<String, AppError> = HashMap::new();
        for institution in &standing {
            if let Some(why) = crate::orders::closed_door_in(&mut tx, institution, today).await? {
                closed.insert(institution.id.clone(), why);
            }
        }
        let regions: HashMap<&str, &str> = standing
            .iter()
            .map(|i| (i.id.as_str(), i.region_code.as_str()))
            .collect();
        let wanted: Vec<(String, String)> = notices
            .iter()
            .map(|n| (n.order_no.trim().to_owned(), n.bank_ref.trim().to_owned()))
            .collect();
        let found = tx.orders().orders_for_payment(&wanted).await?;
        // Which order each reference already paid (a reused one is refused).
        let mut ref_used_by: HashMap<String, String> = found
            .iter()
            .filter_map(|o| Some((o.payment_ref.clone()?, o.order_no.clone())))
            .collect();
        let mut orders: HashMap<String, OrderRow> = found
            .into_iter()
            .filter(|o| order_nos.contains(&o.order_no))
            .map(|o| (o.order_no.clone(), o))
            .collect();
        let mut answers = Vec::with_capacity(notices.len());
        let mut accepted: Vec<(OrderRow, String, &SupervisedAccountRow, &PaymentNotice)> =
            Vec::new();
        let mut events = Vec::new();
        for notice in notices {
            let account = accounts
                .get(notice.account_no.trim())
                .and_then(Option::as_ref);
            let order = orders.get(notice.order_no.trim());
            let answer = match Self::decide_payment(notice, account, order, &ref_used_by) {
                Ok(Decision::Pay(order, bank_ref)) => {
                    let account =
                        account.ok_or_else(|| AppError::internal("decided without account"))?;
                    // Later notices in the batch see this order as paid by this reference.
                    let mut paid = order.clone();
                    paid.status = OrderStatus::Paid;
                    paid.payment_ref = Some(bank_ref.clone());
                    orders.insert(paid.order_no.clone(), paid);
                    ref_used_by.insert(bank_ref.clone(), order.order_no.clone());
                    let ack = PaymentAck {
                        order_no: order.order_no.clone(),
                        status: PaymentResult::Paid,
                        escrow_fen: order.amount_fen,
                        duplicate: false,
                        refund_instruction_id: None,
                    };
                    accepted.push((order, bank_ref, account, notice));
                    Ok(ack)
                }
                Ok(Decision::Duplicate(order)) => {
                    let held = tx
                        .ledger()
                        .ledger_account(&escrow_id(&order.id))
                        .await?
                        .map_or(order.amount_fen, |a| a.credits_posted - a.debits_posted);
                    let refunding = tx
                        .refunds()
                        .refunds_of_order(&order.id)
                        .await?
                        .into_iter()
                        .find(|r| r.reason.starts_with(REFUNDED_ON_ARRIVAL))
                        .and_then(|r| r.instruction_id);
                    Ok(PaymentAck {
                        order_no: order.order_no,
                        status: if refunding.is_some() {
                            PaymentResult::Refunding
                        } else {
                            PaymentResult::Paid
                        },
                        escrow_fen: held,
                        duplicate: true,
                        refund_instruction_id: refunding,
                    })
                }
                Err(e) => {
                    if e.code == ErrorCode::BankRefReused
                        && let Some(account) = account
                    {
                        events.push(risk(
                            account,
                            "reference_reused",
                            "red",
                            None,
                            json!({"bank_ref": notice.bank_ref.trim(), "message": "payment",
                                   "order_no": notice.order_no.trim(), "amount_fen": notice.amount_fen}),
                            now,
                        ));
                    }
                    Err(e)
                }
            };
            answers.push(answer);
        }
        if accepted.is_empty() && events.is_empty() {
            return Ok(answers);
        }
        tx.bank().insert_risk_events(&events).await?;
        if !accepted.is_empty() {
            self.record_paid_in(&mut tx, actor, &accepted, &regions, from, now)
                .await?;
            // Money that may not stay goes back at once, by the original route.
            for (order, _, _, _) in &accepted {
                let why = if let Some(closed) = closed.get(&order.institution_id) {
                    closed.detail.zh.clone()
                } else if let Some(reason) = &order.frozen_reason {
                    format!("订单已冻结：{reason}")
                } else {
                    continue;
                };
                let instruction = self.refund_on_arrival_in(&mut tx, order, &why, now).await?;
                if let Some(Ok(ack)) = answers.iter_mut().find(|a| {
                    a.as_ref()
                        .is_ok_and(|a| a.order_no == order.order_no && !a.duplicate)
                }) {
                    ack.status = PaymentResult::Refunding;
                    ack.refund_instruction_id = Some(instruction);
                }
            }
        }
        tx.commit().await?;
        Ok(answers)
    }

    /// Writes accepted payments: the orders paid, their escrow credited, the evidence, the dashboard's
    /// figures (by `regions`, institution id → region code, as held by the caller) and each parent told.
    async fn record_paid_in(
        self,
        tx: &mut WriteTx,
        actor: &Actor,
        accepted: &[(OrderRow, String, &SupervisedAccountRow, &PaymentNotice)],
        regions: &HashMap<&str, &str>,
        from: PaidFrom,
        now: i64,
    ) -> Result<(), AppError> {
        let paid: Vec<(String, String, i64)> = accepted
            .iter()
            .map(|(o, bank_ref, _, notice)| (o.id.clone(), bank_ref.clone(), notice.paid_at))
            .collect();
        if tx.orders().mark_orders_paid(&paid, now).await? != paid.len() as u64 {
            return Err(AppError::new(
                ErrorCode::Conflict,
                "本批次中有订单刚刚发生变化，请重新提交",
                "an order of the batch changed meanwhile: send it again",
            ));
        }
        let mut ledger_accounts = Vec::new();
        let mut transfers = Vec::new();
        let mut entries = Vec::new();
        for (order, bank_ref, account, notice) in accepted {
            let clearing = format!("clearing:{}", account.id);
            let escrow = escrow_id(&order.id);
            ledger_accounts.push(new_ledger_account(
                &clearing,
                LedgerAccountKind::BankClearing,
                &account.id,
            ));
            ledger_accounts.push(new_ledger_account(
                &escrow,
                LedgerAccountKind::OrderEscrow,
                &account.id,
            ));
            transfers.push(Transfer {
                id: format!("pay:{}", order.id),
                debit: clearing,
                credit: escrow,
                amount: order.amount_fen.unsigned_abs(),
                code: CODE_PAYMENT,
            });
            entries.push(evidence::record(
                &actor.audit_name(),
                now,
                Action::OrderPaid,
                format!("institution:{}", order.institution_id),
                events::public(
                    &events::OrderPaid {
                        order: order.id.clone(),
                        order_no: order.order_no.clone(),
                        amount_fen: order.amount_fen,
                        paid_at: notice.paid_at,
                    },
                    json!({"bank_ref": bank_ref, "reconciled_from": from.as_str()}),
                ),
            ));
        }
        ledger_accounts.sort_by(|a, b| a.id.cmp(&b.id));
        ledger_accounts.dedup_by(|a, b| a.id == b.id);
        tx.ledger().insert_ledger_accounts(&ledger_accounts).await?;
        tx.append_audit(entries).await?;
        let mut collected: HashMap<&str, store::MoneyRollup> = HashMap::new();
        for (order, _, _, _) in accepted {
            let r = collected.entry(order.institution_id.as_str()).or_default();
            r.orders_paid += 1;
            r.collected_fen = r
                .collected_fen
                .checked_add(order.amount_fen)
                .ok_or_else(|| AppError::internal("collected overflow"))?;
        }
        for (institution_id, delta) in collected {
            let region_code = regions
                .get(institution_id)
                .ok_or_else(|| AppError::internal("a payment to an institution not held"))?;
            crate::dashboard::roll_up_region(tx, region_code, now, &delta);
        }
        let notes: Vec<Note> = accepted
            .iter()
            .map(|(o, _, _, _)| {
                Note::new(
                    &o.parent_id,
                    "付款成功，资金已进入监管账户",
                    &format!(
                        "订单 {} 已付 {}，由银行监管，按确认的课时逐笔划转",
                        o.order_no,
                        domain::money::yuan(o.amount_fen)
                    ),
                )
            })
            .collect();
        // In the inbox only: the bank texts the payer itself, and a text message per payment would cost the
        // platform a gateway call for news the parent has just made. Texts are for what needs the parent:
        // a lesson to confirm, a refund step, a warning about the institution.
        notify_each_in(tx, &notes, false, now).await?;
        // Last: the clearing account is the row every payment of a supervised account writes, so it is held
        // from here to the commit only.
        post_many_in(tx, &transfers, now).await?;
        Ok(())
    }

    /// A payment that may not stay (the institution's door closed, the order frozen): the order, just paid,
    /// is refunded in full at once — a refund upheld by the platform and instructed to the bank in the same
    /// transaction — and the parent is told why. Returns the refund instruction's id.
    async fn refund_on_arrival_in(
        self,
        tx: &mut WriteTx,
        order: &OrderRow,
        why: &str,
        now: i64,
    ) -> Result<String, AppError> {
        let paid = tx
            .orders()
            .order_for_update(&order.id)
            .await?
            .ok_or_else(|| AppError::internal("order vanished"))?;
        let reason = format!("{REFUNDED_ON_ARRIVAL}{why}");
        let refund = crate::refunds::refund_of_rest_in(tx, &paid, &reason, now, now).await?;
        crate::money::Money::grant_in(
            tx,
            &refund,
            RefundEvent::Enforce,
            "system:closed_door",
            None,
            now,
        )
        .await?;
        let note = Note::new(
            &order.parent_id,
            "该机构已不能收费，您的付款将原路退回",
            &format!(
                "订单 {} 的付款 {} 已到监管账户，但{why}。平台已指令银行原路全额退回。",
                order.order_no,
                domain::money::yuan(order.amount_fen)
            ),
        );
        notify_each_in(tx, std::slice::from_ref(&note), true, now).await?;
        let instruction = tx
            .refunds()
            .refund(&refund.id)
            .await?
            .and_then(|r| r.instruction_id)
            .ok_or_else(|| AppError::internal("a granted refund has its instruction"))?;
        Ok(instruction)
    }

    /// What to do with one notice, from the order as stored (or as paid earlier in the batch) and the payment
    /// references already used (`ref_used_by`: reference → the order it paid).
    fn decide_payment(
        notice: &PaymentNotice,
        account: Option<&SupervisedAccountRow>,
        order: Option<&OrderRow>,
        ref_used_by: &HashMap<String, String>,
    ) -> Result<Decision, AppError> {
        let bank_ref = reference("bank_ref", &notice.bank_ref)?;
        let amount = positive("amount_fen", notice.amount_fen)?;
        let account = account.ok_or_else(|| {
            AppError::not_found(
                "贵行没有该账号的已确认监管账户",
                "no confirmed supervised account with this number at your bank",
            )
        })?;
        if let Some(paid) = ref_used_by.get(&bank_ref)
            && *paid != notice.order_no.trim()
        {
            return Err(AppError::new(
                ErrorCode::BankRefReused,
                format!("付款流水号 {bank_ref} 已支付订单 {paid}"),
                format!("payment reference {bank_ref} already paid order {paid}"),
            ));
        }
        let order = order
            .filter(|o| o.supervised_account_id == account.id)
            .ok_or_else(|| {
                AppError::not_found(
                    "该账户下没有此订单号",
                    "no order with this number on this account",
                )
            })?;
        if order.payment_ref.as_deref() == Some(bank_ref.as_str()) && amount != order.amount_fen {
            return Err(AppError::new(
                ErrorCode::BankRefReused,
                format!(
                    "付款流水号 {bank_ref} 已支付{}分，本次通知为{amount}分",
                    order.amount_fen
                ),
                format!(
                    "payment reference {bank_ref} paid {} fen, this notice says {amount} fen",
                    order.amount_fen
                ),
            ));
        }
        match order.status {
            OrderStatus::Paid if order.payment_ref.as_deref() == Some(bank_ref.as_str()) => {
                Ok(Decision::Duplicate(order.clone()))
            }
            OrderStatus::Paid => Err(AppError::new(
                ErrorCode::AlreadyPaid,
                format!(
                    "订单 {} 已由付款 {} 支付",
                    order.order_no,
                    order.payment_ref.clone().unwrap_or_default()
                ),
                format!(
                    "order {} was paid by {}",
                    order.order_no,
                    order.payment_ref.clone().unwrap_or_default()
                ),
            )),
            OrderStatus::AwaitingPayment if amount != order.amount_fen => Err(AppError::new(
                ErrorCode::AmountMismatch,
                format!("订单金额为{}分，付款金额为{}分", order.amount_fen, amount),
                format!(
                    "the order is {} fen, the payment {} fen",
                    order.amount_fen, amount
                ),
            )),
            OrderStatus::AwaitingPayment => Ok(Decision::Pay(order.clone(), bank_ref)),
            OrderStatus::Cancelled => Err(AppError::new(
                ErrorCode::Conflict,
                "订单已取消",
                "the order is cancelled",
            )),
        }
    }
}
