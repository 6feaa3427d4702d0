//! 指令投递 instructions on their way to the banks: delivered signed, retried with backoff until
//! acknowledged, asked again while no result comes, and raised to the regulator when none comes for a day.

use super::{InstructionResult, risk};
use crate::money::Money;
use crate::{AppError, evidence};
use domain::Action;
use domain::{InstructionEvent, InstructionStatus, Timestamp};
use serde_json::json;
use store::{Instructed, InstructionRow};

/// Delivery backoff: 1 s, 2 s, 4 s … at most 5 minutes.
fn backoff_ms(attempts: i64) -> i64 {
    1000 * (1i64 << attempts.clamp(0, 8)).min(300)
}

/// Asking again: an instruction the bank acknowledged (`asked` deliveries so far) without a result is asked
/// again 10 minutes after the first acknowledgement, then 30 minutes, 1 hour and 2 hours after the last ask,
/// then every 4 hours until the result arrives.
pub fn ask_again_after_ms(asked: i64) -> i64 {
    const MINUTE: i64 = 60_000;
    match asked {
        ..=1 => 10 * MINUTE,
        2 => 30 * MINUTE,
        3 => 60 * MINUTE,
        4 => 120 * MINUTE,
        _ => 240 * MINUTE,
    }
}

/// How long a server holds the instructions it claimed for delivery before another may take them: longer than
/// one bounded request to the bank, so a live server finishes first; a dead one's claims lapse.
pub const DELIVERY_LEASE_MS: i64 = 120_000;

/// An instruction acknowledged this long ago without a result is raised to the competent regulator.
pub const UNSETTLED_AFTER_MS: i64 = 24 * 3_600_000;

impl<'a> Money<'a> {
    /// Delivers due instructions and daily batches to their banks, signed with each bank's key; a bank's
    /// 2xx is its acknowledgement, anything else is retried with backoff. An instruction acknowledged without
    /// a result is asked again, under the same id, on [`ask_again_after_ms`]'s schedule; a bank that answers
    /// with the instruction's result (`{"status": "executed" | "failed", …}`) settles it there and then.
    /// Returns how many were acknowledged.
    ///
    /// The due rows are claimed first (a lease of [`DELIVERY_LEASE_MS`]), so a second server delivering at the
    /// same time takes other rows or none.
    pub async fn deliver_due_instructions(self) -> Result<usize, AppError> {
        let now = self.clock.now().millis();
        let mut claim = self.store.begin_write().await?;
        let instructions = claim
            .instructions()
            .claim_due_instructions(now, now + DELIVERY_LEASE_MS, 100)
            .await?;
        let batches = claim
            .instructions()
            .claim_due_batches(now, now + DELIVERY_LEASE_MS, 100)
            .await?;
        claim.commit().await?;
        let mut due = Vec::new();
        for instruction in instructions {
            let message = self.instruction_message(&instruction).await;
            due.push((
                Instructed::Single,
                instruction.id,
                instruction.bank_id,
                instruction.attempts,
                instruction.status,
                message,
            ));
        }
        for batch in batches {
            let message = self.batch_message(&batch).await;
            due.push((
                Instructed::Batch,
                batch.id,
                batch.bank_id,
                batch.attempts,
                batch.status,
                message,
            ));
        }
        let mut acknowledged = 0;
        for (which, id, bank_id, attempts, status, message) in due {
            let outcome = match message {
                Ok(body) => self.send_to_bank(&bank_id, &id, &body).await,
                Err(e) => Err(e.to_string()),
            };
            let mut tx = self.store.begin_write().await?;
            let at = self.clock.now().millis();
            let by = "system:instruction_delivery";
            match outcome {
                Ok(answer) => {
                    acknowledged += 1;
                    let next = at + ask_again_after_ms(attempts + 1);
                    tx.instructions()
                        .record_delivery(which, &id, Some(at), next, None)
                        .await?;
                    let action = if status == InstructionStatus::Pending {
                        Action::BankInstructionAcknowledged
                    } else {
                        Action::BankInstructionAskedAgain
                    };
                    tx.append_audit(vec![evidence::record(
                        by,
                        at,
                        action,
                        format!("bank:{bank_id}"),
                        json!({"instruction": id, "attempts": attempts + 1,
                               "answered": answer.as_ref().map(|a| a.status.clone())}),
                    )])
                    .await?;
                    tx.commit().await?;
                    // The answer settles in a transaction of its own: one the platform cannot take (it
                    // contradicts a result recorded) leaves the delivery recorded and is logged.
                    if let Some(result) = answer {
                        let mut tx = self.store.begin_write().await?;
                        match self
                            .settle_in(&mut tx, &bank_id, &id, &result, by, at)
                            .await
                        {
                            Ok(()) => tx.commit().await?,
                            Err(e) => tracing::warn!(instruction = %id, error = %e,
                                "the bank's answer did not settle the instruction"),
                        }
                    }
                    continue;
                }
                Err(e) => {
                    let next = at + backoff_ms(attempts);
                    tx.instructions()
                        .record_delivery(which, &id, None, next, Some(&e))
                        .await?;
                }
            }
            tx.commit().await?;
        }
        Ok(acknowledged)
    }

    /// 指令无回执 raises, once per instruction, an orange `instruction_unsettled` risk event for every
    /// instruction the bank acknowledged more than [`UNSETTLED_AFTER_MS`] ago without a result — the family
    /// would read "refund in progress" for ever — and tells the institution's staff and the competent
    /// regulator. Returns how many were raised.
    pub async fn raise_unsettled_instructions(self) -> Result<usize, AppError> {
        let now = self.clock.now().millis();
        let read = self.store.read();
        let unsettled = read
            .instructions()
            .unsettled_instructions(now - UNSETTLED_AFTER_MS, 200)
            .await?;
        let mut raised = 0;
        for (which, id, account_id, amount, acknowledged_at) in unsettled {
            let event_id = format!("instruction_unsettled:{id}");
            let Some(account) = read.funds().supervised_account(&account_id).await? else {
                continue;
            };
            let mut tx = self.store.begin_write().await?;
            if tx.bank().risk_event_exists(&event_id).await? {
                continue;
            }
            let event = risk(
                &account,
                "instruction_unsettled",
                "orange",
                Some(event_id),
                json!({"instruction": id, "batch": which == Instructed::Batch, "amount_fen": amount,
                       "acknowledged_at": acknowledged_at,
                       "acknowledged_display": Timestamp::from_millis(acknowledged_at).china_display()}),
                now,
            );
            tx.bank()
                .insert_risk_events(std::slice::from_ref(&event))
                .await?;
            tx.append_audit(vec![evidence::record(
                "system:instruction_delivery",
                now,
                Action::RiskRaised,
                format!("institution:{}", account.institution_id),
                json!({"risk_event": event.id, "kind": event.kind, "level": event.level, "instruction": id}),
            )])
            .await?;
            self.tell_of_risks_in(
                &mut tx,
                &account.institution_id,
                &["instruction_unsettled".to_owned()],
                now,
            )
            .await?;
            tx.commit().await?;
            raised += 1;
        }
        Ok(raised)
    }

    /// What the bank receives for a single release or refund.
    async fn instruction_message(
        self,
        instruction: &InstructionRow,
    ) -> Result<serde_json::Value, AppError> {
        let view = self.instruction_view(&instruction.id).await?;
        let order = self
            .store
            .read()
            .orders()
            .order(&instruction.order_id)
            .await?
            .ok_or_else(|| AppError::internal("instruction of a missing order"))?;
        Ok(json!({
            "instruction_id": view.instruction_id, "kind": view.kind, "order_no": order.order_no,
            "account_no": view.account_no, "amount_fen": view.amount_fen, "created_at": instruction.created_at,
        }))
    }

    /// Posts an instruction to the bank's endpoint, signed with the bank's key; the instruction's id is the
    /// idempotency key, so a repeated delivery is one instruction to the bank. A 2xx acknowledges it; its body
    /// may carry the result when the bank has one already (`docs/api.md`, "Asked again").
    async fn send_to_bank(
        self,
        bank_id: &str,
        instruction_id: &str,
        message: &serde_json::Value,
    ) -> Result<Option<InstructionResult>, String> {
        let read = self.store.read();
        let endpoint = read
            .bank()
            .bank_endpoint(bank_id)
            .await
            .map_err(|e| e.to_string())?
            .ok_or("the bank has registered no instruction endpoint")?;
        let client = read
            .clients()
            .api_client_of("bank", bank_id)
            .await
            .map_err(|e| e.to_string())?
            .ok_or("the bank has no API key")?;
        let secret = self
            .keys
            .open(crate::vault::field::API_SECRET, &client.secret_sealed)
            .map_err(|e| e.to_string())?;
        let body = serde_json::to_vec(message).map_err(|e| e.to_string())?;
        let response = self
            .integration()
            .post_signed(
                &self.http,
                &endpoint.instruction_url,
                &client.key_id,
                &secret,
                &body,
                instruction_id,
                &[],
            )
            .await?;
        if !response.status().is_success() {
            return Err(format!("the bank answered {}", response.status()));
        }
        // At most a small answer is read; anything that is not a result is a plain acknowledgement.
        let answer = crate::egress::read_bounded(response).await;
        Ok(
            serde_json::from_slice::<InstructionResult>(&answer[..answer.len().min(4096)])
                .ok()
                .filter(|r| InstructionEvent::from_result(&r.status).is_some()),
        )
    }
}
