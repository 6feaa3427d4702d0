//! 批量划转 daily release batches. A region whose policy sets `daily_release_batch` has each supervised
//! account's confirmed lessons released in one bank instruction per day instead of one per lesson: the
//! lesson's release is still instructed at once (it reserves that order's escrow, so a refund cannot take the
//! same money) but is held back from delivery; after the China day ends, the money worker gathers the held
//! releases per account into one batch, which the bank receives, executes as one outflow and answers once.
//! Executing a batch executes each release in it, so every order's escrow moves by its own ledger transfer.

use crate::money::Money;
use crate::{AppError, evidence};
use domain::Action;
use domain::{InstructionEvent, InstructionStatus, Timestamp};
use serde::Serialize;
use serde_json::json;
use std::collections::BTreeMap;
use store::{Instructed, ReleaseBatchRow, WriteTx};

/// Most releases gathered per run; the rest wait for the next tick.
const BATCH_SCAN: i64 = 5_000;

/// A daily batch, for pages and the API.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct BatchView {
    pub batch_id: String,
    pub business_date: String,
    pub amount_fen: i64,
    pub amount_display: String,
    pub item_count: i64,
    pub status: InstructionStatus,
    pub created_at_display: String,
}

impl From<ReleaseBatchRow> for BatchView {
    fn from(b: ReleaseBatchRow) -> Self {
        BatchView {
            amount_display: domain::money::yuan(b.amount_fen),
            created_at_display: Timestamp::from_millis(b.created_at).china_display(),
            batch_id: b.id,
            business_date: b.business_date,
            amount_fen: b.amount_fen,
            item_count: b.item_count,
            status: b.status,
        }
    }
}

impl<'a> Money<'a> {
    /// The China date a release confirmed now waits for when the institution's region batches releases
    /// daily; `None` when it is delivered on its own at once.
    pub(crate) async fn release_batch_date(
        self,
        institution_id: &str,
        now: i64,
    ) -> Result<Option<String>, AppError> {
        let institution = self.registry().institution_row(institution_id).await?;
        let policy = self
            .registry()
            .region_policy(&institution.region_code)
            .await?
            .policy;
        Ok(policy
            .daily_release_batch
            .then(|| Timestamp::from_millis(now).china_date().to_string()))
    }

    /// Gathers the releases held for days before today into one batch per supervised account and day, each
    /// due for delivery at once. Returns how many batches were formed.
    pub async fn form_release_batches(self) -> Result<usize, AppError> {
        let now = self.clock.now();
        let today = now.china_date().to_string();
        let now = now.millis();
        let mut tx = self.store.begin_write().await?;
        let held = tx
            .instructions()
            .releases_to_batch(&today, BATCH_SCAN)
            .await?;
        let mut groups: BTreeMap<(String, String), Vec<store::InstructionRow>> = BTreeMap::new();
        for release in held {
            let date = release.batch_date.clone().unwrap_or_default();
            groups
                .entry((release.supervised_account_id.clone(), date))
                .or_default()
                .push(release);
        }
        let mut entries = Vec::new();
        for ((account_id, date), releases) in &groups {
            let amount = releases
                .iter()
                .try_fold(0i64, |sum, r| sum.checked_add(r.amount_fen))
                .ok_or_else(|| AppError::internal("batch amount overflow"))?;
            let batch = ReleaseBatchRow {
                id: format!("bat_{}", uuid::Uuid::now_v7().simple()),
                supervised_account_id: account_id.clone(),
                bank_id: releases[0].bank_id.clone(),
                business_date: date.clone(),
                amount_fen: amount,
                item_count: i64::try_from(releases.len())
                    .map_err(|_| AppError::internal("batch size"))?,
                status: InstructionStatus::Pending,
                attempts: 0,
                next_attempt_at: now,
                last_error: None,
                created_at: now,
                acknowledged_at: None,
                finished_at: None,
                bank_ref: None,
                failure_reason: None,
            };
            tx.instructions().insert_release_batch(&batch).await?;
            let ids: Vec<String> = releases.iter().map(|r| r.id.clone()).collect();
            if tx.instructions().assign_batch(&batch.id, &ids).await? != ids.len() as u64 {
                return Err(AppError::internal("a held release changed while batching"));
            }
            entries.push(evidence::record(
                "system:release_batches",
                now,
                Action::ReleaseBatchFormed,
                format!("supervised_account:{account_id}"),
                json!({"batch": batch.id, "business_date": date, "amount_fen": amount,
                       "releases": ids}),
            ));
        }
        tx.append_audit(entries).await?;
        tx.commit().await?;
        Ok(groups.len())
    }

    /// The bank's result for a batch: executed executes every release in it (each order's escrow moves by
    /// its own transfer), failed fails them all and the fees stay in escrow. Idempotent: a finished batch is
    /// left as it is.
    pub(crate) async fn finish_batch_in(
        self,
        tx: &mut WriteTx,
        batch: &ReleaseBatchRow,
        result: InstructionEvent,
        bank_ref: Option<&str>,
        reason: Option<&str>,
        now: i64,
    ) -> Result<(), AppError> {
        if tx
            .instructions()
            .finish_instruction(Instructed::Batch, &batch.id, result, now, bank_ref, reason)
            .await?
            == 0
        {
            return Ok(());
        }
        for release in tx.instructions().batch_items(&batch.id).await? {
            if result == InstructionEvent::Execute {
                self.execute_instruction_in(tx, &release, bank_ref, now)
                    .await?;
            } else {
                tx.instructions()
                    .finish_instruction(
                        Instructed::Single,
                        &release.id,
                        result,
                        now,
                        bank_ref,
                        reason,
                    )
                    .await?;
            }
        }
        Ok(())
    }

    /// What the bank receives for a batch: one instruction of kind `release_batch` for the total, listing
    /// each release by order.
    pub(crate) async fn batch_message(
        self,
        batch: &ReleaseBatchRow,
    ) -> Result<serde_json::Value, AppError> {
        let read = self.store.read();
        let account = read
            .funds()
            .supervised_account(&batch.supervised_account_id)
            .await?
            .ok_or_else(|| AppError::internal("batch of a missing account"))?;
        let items: Vec<serde_json::Value> = read
            .instructions()
            .batch_items_with_order_nos(&batch.id)
            .await?
            .into_iter()
            .map(|(r, order_no)| {
                json!({"instruction_id": r.id, "order_no": order_no, "amount_fen": r.amount_fen})
            })
            .collect();
        Ok(json!({
            "instruction_id": batch.id, "kind": "release_batch", "account_no": account.account_no,
            "amount_fen": batch.amount_fen, "business_date": batch.business_date, "items": items,
            "created_at": batch.created_at,
        }))
    }
}
