//! 清退 run-off: when an institution closes or is removed, the competent regulator starts one action that, in a
//! single transaction, freezes every open order's releases and refunds every family's unconsumed fees by the
//! original route (an open refund request is upheld as it stands; otherwise the untaken lessons at the price
//! paid). Families and staff are told; the regulator's page tracks the refunds until the bank has executed
//! them all. Fees of lessons taken but not yet released stay frozen in escrow for the regulator to decide.

use crate::inbox::{Note, notify_each_in};
use crate::money::Money;
use crate::refunds::refund_of_rest_in;
use crate::{Actor, AppError, ErrorCode, evidence};
use domain::Action;
use domain::access::Permission;
use domain::{InstructionStatus, RefundEvent, RefundStatus, Timestamp};
use serde::{Deserialize, Serialize};
use serde_json::json;
use store::RunOffRow;

/// `POST /api/v1/regulator/institutions/{id}/run-off`.
#[derive(Clone, Debug, Default, Deserialize, utoipa::ToSchema)]
pub struct RunOffRequest {
    pub reason: String,
}

/// A run-off and how far its refunds have come.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct RunOffView {
    pub institution_id: String,
    pub reason: String,
    pub started_at_display: String,
    /// Refunds instructed by the run-off, and how many the bank has executed.
    pub refunds: i64,
    pub refunds_fen: i64,
    pub refunds_display: String,
    pub executed: i64,
    pub executed_fen: i64,
    pub executed_display: String,
    /// Every refund executed.
    pub complete: bool,
}

impl<'a> Money<'a> {
    /// The competent regulator starts the run-off (once per institution).
    pub async fn start_run_off(
        self,
        actor: &Actor,
        institution_id: &str,
        req: &RunOffRequest,
    ) -> Result<RunOffView, AppError> {
        let institution = self
            .store
            .read()
            .registry()
            .institution(institution_id.trim())
            .await?
            .ok_or_else(|| AppError::not_found("没有这家机构", "no such institution"))?;
        let competent = crate::regions::competent_region_of(&institution)?;
        let subject = format!("institution:{}", institution.id);
        self.require_regulator_over(
            actor,
            Permission::SuperviseInstitution,
            &competent,
            &subject,
        )
        .await?;
        let reason = crate::error::stated_reason("reason", &req.reason)?;
        let now = self.clock.now().millis();
        let mut tx = self.store.begin_write().await?;
        self.start_run_off_in(&mut tx, actor, &institution, reason, now)
            .await?;
        tx.commit().await?;
        self.run_off(actor, &institution.id)
            .await?
            .ok_or_else(|| AppError::internal("run-off vanished"))
    }

    /// Starts the run-off inside `tx` (a licence revocation does it with its own decision): freezes every
    /// open paid order, grants each family the refund of what was not taught, tells families and staff.
    pub(crate) async fn start_run_off_in(
        self,
        tx: &mut store::WriteTx,
        actor: &Actor,
        institution: &store::InstitutionRow,
        reason: &str,
        now: i64,
    ) -> Result<(), AppError> {
        // The institution is locked first: no order is placed or paid on it while its run-off starts, and two
        // run-offs cannot start together.
        let institution = &tx
            .registry()
            .institution_for_update(&institution.id)
            .await?
            .ok_or_else(|| AppError::not_found("没有这家机构", "no such institution"))?;
        let subject = format!("institution:{}", institution.id);
        let by = actor.audit_name();
        if self
            .store
            .read()
            .refunds()
            .run_off(&institution.id)
            .await?
            .is_some()
        {
            return Err(AppError::new(
                ErrorCode::Conflict,
                "该机构的清退程序已经启动",
                "the run-off of this institution has started already",
            ));
        }
        tx.refunds()
            .insert_run_off(&RunOffRow {
                institution_id: institution.id.clone(),
                reason: reason.to_owned(),
                started_by: by.clone(),
                started_at: now,
            })
            .await?;
        let orders = tx.orders().open_paid_orders_of(&institution.id).await?;
        let ids: Vec<String> = orders.iter().map(|o| o.id.clone()).collect();
        let frozen_reason = format!("清退：{reason}");
        tx.orders().freeze_orders(&ids, &frozen_reason, now).await?;
        let mut refunded = Vec::new();
        let mut notes = Vec::new();
        for order in &orders {
            let refund = match tx.refunds().open_refund(&order.id).await? {
                Some(open) => open,
                None => match refund_of_rest_in(tx, order, &frozen_reason, now, now).await {
                    Ok(r) => r,
                    // Every lesson taken: nothing to refund, the order stays frozen.
                    Err(e) if e.code == ErrorCode::Conflict => continue,
                    Err(e) => return Err(e),
                },
            };
            crate::money::Money::grant_in(tx, &refund, RefundEvent::Enforce, &by, None, now)
                .await?;
            notes.push(Note::new(
                &order.parent_id,
                "机构清退，未消课费用原路退回",
                &format!(
                    "{}已进入清退程序，订单 {} 未上课时的 {} 将由银行原路退回",
                    institution.name,
                    order.order_no,
                    domain::money::yuan(refund.amount_fen)
                ),
            ));
            refunded.push(
                json!({"order": order.id, "refund": refund.id, "amount_fen": refund.amount_fen}),
            );
        }
        notify_each_in(tx, &notes, true, now).await?;
        let staff = tx.inbox().staff_accounts_of(&institution.id).await?;
        self.service()
            .notify_in(
                tx,
                &staff,
                "机构进入清退程序",
                &format!("监管部门已冻结全部资金划转并退还家长未消课费用：{reason}"),
                now,
            )
            .await?;
        tx.append_audit(vec![evidence::record(
            &by,
            now,
            Action::RunOffStarted,
            subject,
            json!({"reason": reason, "frozen_orders": ids, "refunds": refunded}),
        )])
        .await?;
        Ok(())
    }

    /// The run-off's progress, for regulators over the institution and its staff.
    pub async fn run_off(
        self,
        actor: &Actor,
        institution_id: &str,
    ) -> Result<Option<RunOffView>, AppError> {
        self.require_money_view(actor, institution_id).await?;
        let read = self.store.read();
        let Some(row) = read.refunds().run_off(institution_id).await? else {
            return Ok(None);
        };
        let (mut refunds, mut refunds_fen, mut executed, mut executed_fen) = (0, 0i64, 0, 0i64);
        for r in read
            .refunds()
            .refunds_decided_since(institution_id, row.started_at)
            .await?
            .into_iter()
            .filter(|r| r.status == RefundStatus::Upheld)
        {
            refunds += 1;
            refunds_fen = refunds_fen
                .checked_add(r.amount_fen)
                .ok_or_else(|| AppError::internal("refund total overflow"))?;
            let done = match &r.instruction_id {
                Some(id) => read
                    .instructions()
                    .instruction(id)
                    .await?
                    .is_some_and(|i| i.status == InstructionStatus::Executed),
                None => false,
            };
            if done {
                executed += 1;
                executed_fen = executed_fen
                    .checked_add(r.amount_fen)
                    .ok_or_else(|| AppError::internal("refund total overflow"))?;
            }
        }
        Ok(Some(RunOffView {
            started_at_display: Timestamp::from_millis(row.started_at).china_display(),
            refunds_display: domain::money::yuan(refunds_fen),
            executed_display: domain::money::yuan(executed_fen),
            complete: executed == refunds,
            institution_id: row.institution_id,
            reason: row.reason,
            refunds,
            refunds_fen,
            executed,
            executed_fen,
        }))
    }
}
