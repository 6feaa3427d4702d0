//! 消课 lesson consumption: the institution takes attendance (点名) for a paid order's next lesson; the parent
//! confirms or disputes it; silence past the region's window (15 working days by default, on the working-day
//! calendar) confirms it automatically — but only when attendance has evidence, otherwise it goes to review.
//! A confirmed lesson's fee (`domain::contract::lesson_fee`) is released through a bank instruction in the same
//! transaction; a disputed lesson's fee stays in escrow while the other lessons keep releasing.

use crate::bank::instruct_in;
use crate::events;
use crate::money::Money;
use crate::{Actor, AppError, ErrorCode, evidence};
use domain::Action;
use domain::access::Permission;
use domain::contract::lesson_fee;
use domain::instruction::ReleaseProgress;
use domain::{Fen, LessonEvent, LessonStatus, Machine, OrderStatus, Timestamp, WorkingDayCalendar};
use serde::{Deserialize, Serialize};
use serde_json::json;
use store::{LessonRow, OrderRow, WriteTx};

static CALENDAR: std::sync::LazyLock<WorkingDayCalendar> =
    std::sync::LazyLock::new(WorkingDayCalendar::china);

/// `POST /api/v1/institution/orders/{id}/attendance`.
#[derive(Clone, Debug, Default, Deserialize, utoipa::ToSchema)]
pub struct Attendance {
    /// What proves the child attended: a roll-call record, a sign-in sheet's number, a document id. Empty: none
    /// (such a lesson is never confirmed by silence).
    #[serde(default)]
    pub evidence: String,
}

/// `POST /api/v1/parent/lessons/{id}/dispute`.
#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
pub struct Dispute {
    pub reason: String,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct LessonView {
    pub id: String,
    pub order_id: String,
    pub lesson_no: i64,
    pub attended_on: String,
    pub evidence: String,
    pub status: LessonStatus,
    pub status_label: &'static str,
    pub fee_fen: i64,
    pub fee_display: String,
    /// When the parent's time to confirm or dispute ends (unix ms); silence then confirms.
    pub confirm_by: i64,
    pub confirm_by_display: String,
    pub dispute_reason: Option<String>,
    /// Where the fee is on its way to the institution, once its release is instructed.
    pub release_status: Option<ReleaseProgress>,
}

/// The end (China time) of the `days`-th working day after `date`: when silence becomes confirmation.
pub(crate) fn window_end(date: chrono::NaiveDate, days: u32) -> i64 {
    let last = CALENDAR.add_working_days(date, days);
    last.succ_opt()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .and_then(|d| d.and_local_timezone(domain::time::china_offset()).single())
        .map_or(i64::MAX, |d| d.timestamp_millis())
}

impl<'a> Money<'a> {
    /// The institution takes attendance for a paid order's next lesson.
    pub async fn take_attendance(
        self,
        actor: &Actor,
        order_id: &str,
        attendance: &Attendance,
    ) -> Result<LessonView, AppError> {
        self.require(actor, Permission::TakeAttendance).await?;
        let institution_id = self.own_institution(actor).await?;
        let evidence_text = attendance.evidence.trim();
        if evidence_text.chars().count() > 200 {
            return Err(AppError::new(
                ErrorCode::FieldTooLong,
                "上课凭证：不超过200个字符",
                "evidence: at most 200 characters",
            )
            .on("evidence"));
        }
        let now = self.clock.now();
        let mut tx = self.store.begin_write().await?;
        let order = tx
            .orders()
            .order_for_update(order_id.trim())
            .await?
            .filter(|o| o.institution_id == institution_id)
            .ok_or_else(|| {
                AppError::not_found("本机构没有这个订单", "no such order of your institution")
            })?;
        if order.status != OrderStatus::Paid {
            return Err(AppError::new(
                ErrorCode::Conflict,
                "订单尚未付款",
                "the order is not paid",
            ));
        }
        if order.closed_at.is_some() {
            return Err(AppError::new(
                ErrorCode::Conflict,
                "订单已结束，剩余课时已退费",
                "the order is closed: its remaining lessons were refunded",
            ));
        }
        if tx.refunds().open_refund(&order.id).await?.is_some() {
            return Err(AppError::new(
                ErrorCode::Conflict,
                "该订单的退费申请正在处理中，处理期间不能消课",
                "a refund of this order is being decided: no lessons are taken meanwhile",
            ));
        }
        if tx
            .lessons()
            .on_leave(&order.id, &now.china_date().to_string())
            .await?
        {
            return Err(AppError::new(
                ErrorCode::Conflict,
                "孩子今天请假，本订单今天不消课",
                "the child is on leave today (请假): no lesson of this order is taken",
            ));
        }
        let taken = tx.lessons().lesson_count(&order.id).await?;
        if taken >= order.lessons {
            return Err(AppError::new(
                ErrorCode::Conflict,
                format!("该订单的{}课时已全部消课", order.lessons),
                format!("all {} lessons of the order are taken", order.lessons),
            ));
        }
        let lesson_no = taken + 1;
        let lessons = u32::try_from(order.lessons).map_err(|_| AppError::internal("lessons"))?;
        let fee = lesson_fee(
            Fen::new(order.amount_fen),
            lessons,
            u32::try_from(lesson_no).map_err(|_| AppError::internal("lesson number"))?,
        )
        .ok_or_else(|| AppError::internal("lesson fee"))?;
        let institution = self
            .store
            .read()
            .registry()
            .institution(&institution_id)
            .await?
            .ok_or_else(|| AppError::internal("staff of a missing institution"))?;
        let window = self
            .registry()
            .region_policy(&institution.region_code)
            .await?
            .policy
            .confirmation_working_days;
        let today = now.china_date();
        let row = LessonRow {
            id: uuid::Uuid::now_v7().to_string(),
            order_id: order.id.clone(),
            institution_id: institution_id.clone(),
            parent_id: order.parent_id.clone(),
            lesson_no,
            attended_on: today.to_string(),
            taken_by: actor.audit_name(),
            evidence: evidence_text.to_owned(),
            status: LessonStatus::AwaitingConfirmation,
            confirm_by: window_end(today, window),
            fee_fen: fee.get(),
            decided_at: None,
            dispute_reason: None,
            release_instruction_id: None,
            created_at: now.millis(),
        };
        tx.lessons().insert_lesson(&row).await?;
        tx.append_audit(vec![evidence::record(
            &actor.audit_name(),
            now.millis(),
            Action::LessonAttended,
            format!("institution:{institution_id}"),
            json!({"lesson": row.id, "order": order.id, "lesson_no": lesson_no, "fee_fen": row.fee_fen,
                   "evidence": row.evidence}),
        )])
        .await?;
        self.service().notify_by_sms_in(
            &mut tx,
            std::slice::from_ref(&order.parent_id),
            "请确认课时",
            &format!(
                "订单 {} 第{}课已上课（课时费 ¥{}），请在 {} 前确认或提出异议；逾期未答复且有签到凭证的视为确认。",
                order.order_no,
                lesson_no,
                fee,
                Timestamp::from_millis(row.confirm_by).china_display()
            ),
            now.millis(),
        )
        .await?;
        tx.commit().await?;
        Ok(self.lesson_view(row).await)
    }

    /// The parent confirms a lesson: its fee is instructed for release in the same transaction.
    pub async fn confirm_lesson(
        self,
        actor: &Actor,
        lesson_id: &str,
    ) -> Result<LessonView, AppError> {
        let parent_id = self.require_parent(actor).await?.to_owned();
        let now = self.clock.now().millis();
        let mut tx = self.store.begin_write().await?;
        let (lesson, order) = Self::parents_lesson(&mut tx, &parent_id, lesson_id).await?;
        let batch_date = self.release_batch_date(&order.institution_id, now).await?;
        let id = Self::confirm_in(
            &mut tx,
            &actor.audit_name(),
            &lesson,
            &order,
            LessonEvent::Confirm,
            batch_date,
            now,
        )
        .await?;
        tx.commit().await?;
        self.lesson_by_id(&id).await
    }

    /// The parent disputes a lesson: that lesson's fee stays frozen in escrow.
    pub async fn dispute_lesson(
        self,
        actor: &Actor,
        lesson_id: &str,
        dispute: &Dispute,
    ) -> Result<LessonView, AppError> {
        let parent_id = self.require_parent(actor).await?.to_owned();
        let reason = crate::error::stated_reason("reason", &dispute.reason)?;
        let now = self.clock.now().millis();
        let mut tx = self.store.begin_write().await?;
        let (lesson, order) = Self::parents_lesson(&mut tx, &parent_id, lesson_id).await?;
        if tx
            .lessons()
            .decide_lesson(&lesson.id, LessonEvent::Dispute, now, Some(reason), None)
            .await?
            != 1
        {
            return Err(AppError::new(
                ErrorCode::Conflict,
                "这节课已经确认或提出过异议",
                "the lesson was already answered",
            ));
        }
        tx.append_audit(vec![evidence::record(
            &actor.audit_name(),
            now,
            Action::LessonDisputed,
            format!("institution:{}", order.institution_id),
            events::public(
                &events::LessonDisputed {
                    lesson: lesson.id.clone(),
                    order: order.id.clone(),
                    lesson_no: lesson.lesson_no,
                    reason: reason.to_owned(),
                },
                json!({}),
            ),
        )])
        .await?;
        tx.commit().await?;
        self.lesson_by_id(&lesson.id).await
    }

    /// The timer: lessons whose window has closed are confirmed when attendance has evidence, otherwise sent
    /// to review. Each lesson is decided in its own transaction on its locked order; one that cannot be
    /// decided (answered meanwhile, or its release refused) does not hold up the others. Returns how many were
    /// decided.
    pub async fn auto_confirm_due(self) -> Result<usize, AppError> {
        let now = self.clock.now().millis();
        let due = self.store.read().lessons().lessons_due(now, 200).await?;
        let mut decided = 0;
        for lesson in due {
            match self.auto_confirm_one(&lesson.id, now).await {
                Ok(true) => decided += 1,
                Ok(false) => {}
                Err(e) => {
                    tracing::warn!(lesson = %lesson.id, error = %e, "confirming a lesson by silence")
                }
            }
        }
        Ok(decided)
    }

    /// Decides one lesson whose window closed, if it still awaits its answer.
    async fn auto_confirm_one(self, lesson_id: &str, now: i64) -> Result<bool, AppError> {
        let mut tx = self.store.begin_write().await?;
        let (lesson, order) = Self::locked_lesson(&mut tx, lesson_id).await?;
        if lesson.status != LessonStatus::AwaitingConfirmation || lesson.confirm_by > now {
            return Ok(false);
        }
        if lesson.evidence.is_empty() {
            if tx
                .lessons()
                .decide_lesson(
                    &lesson.id,
                    LessonEvent::WindowClosedWithoutEvidence,
                    now,
                    None,
                    None,
                )
                .await?
                == 1
            {
                tx.append_audit(vec![evidence::record(
                    "system:confirmation_timer",
                    now,
                    Action::LessonNeedsReview,
                    format!("institution:{}", order.institution_id),
                    json!({"lesson": lesson.id, "order": order.id, "lesson_no": lesson.lesson_no}),
                )])
                .await?;
            }
        } else {
            let batch_date = self.release_batch_date(&order.institution_id, now).await?;
            Self::confirm_in(
                &mut tx,
                "system:confirmation_timer",
                &lesson,
                &order,
                LessonEvent::WindowClosedWithEvidence,
                batch_date,
                now,
            )
            .await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    /// Confirms a lesson awaiting its answer (by the parent, or by silence with evidence) and instructs the
    /// release of its fee — held for the day's batch when `batch_date` is set — unless the order is frozen.
    async fn confirm_in(
        tx: &mut WriteTx,
        by: &str,
        lesson: &LessonRow,
        order: &OrderRow,
        event: LessonEvent,
        batch_date: Option<String>,
        now: i64,
    ) -> Result<String, AppError> {
        let status = lesson.status.apply(event)?;
        // A frozen order's fees are held (a regulator's action): the lesson is confirmed, nothing is released.
        let instruction = if lesson.fee_fen > 0 && order.frozen_at.is_none() {
            Some(instruct_in(tx, by, "release", order, lesson.fee_fen, batch_date, now).await?)
        } else {
            None
        };
        let changed = tx
            .lessons()
            .decide_lesson(
                &lesson.id,
                event,
                now,
                None,
                instruction.as_ref().map(|i| i.id.as_str()),
            )
            .await?;
        if changed != 1 {
            return Err(AppError::new(
                ErrorCode::Conflict,
                "这节课已经确认或提出过异议",
                "the lesson was already answered",
            ));
        }
        tx.append_audit(vec![evidence::record(
            by,
            now,
            Action::LessonConfirmed,
            format!("institution:{}", order.institution_id),
            events::public(
                &events::LessonConfirmed {
                    lesson: lesson.id.clone(),
                    order: order.id.clone(),
                    lesson_no: lesson.lesson_no,
                    status: status.as_str().to_owned(),
                    fee_fen: lesson.fee_fen,
                },
                json!({"instruction": instruction.as_ref().map(|i| i.id.clone())}),
            ),
        )])
        .await?;
        Ok(lesson.id.clone())
    }

    /// The parent's own lesson and its order, locked; another family's lesson is not found.
    async fn parents_lesson(
        tx: &mut WriteTx,
        parent_id: &str,
        lesson_id: &str,
    ) -> Result<(LessonRow, OrderRow), AppError> {
        let (lesson, order) = Self::locked_lesson(tx, lesson_id.trim()).await?;
        if lesson.parent_id != parent_id {
            return Err(AppError::not_found(
                "您没有这节课",
                "no such lesson of yours",
            ));
        }
        Ok((lesson, order))
    }

    /// A lesson and its order, the order locked first and the lesson read after it: what the command decides
    /// on is the lesson as it stands once no other command on the order can move it.
    async fn locked_lesson(
        tx: &mut WriteTx,
        lesson_id: &str,
    ) -> Result<(LessonRow, OrderRow), AppError> {
        let missing = || AppError::not_found("没有这节课", "no such lesson");
        let order_id = tx
            .lessons()
            .lesson(lesson_id)
            .await?
            .ok_or_else(missing)?
            .order_id;
        let order = tx
            .orders()
            .order_for_update(&order_id)
            .await?
            .ok_or_else(|| AppError::internal("lesson of a missing order"))?;
        let lesson = tx.lessons().lesson(lesson_id).await?.ok_or_else(missing)?;
        Ok((lesson, order))
    }

    /// An order's lessons, for whoever may see the order.
    pub async fn lessons_of_order(
        self,
        actor: &Actor,
        order_id: &str,
    ) -> Result<Vec<LessonView>, AppError> {
        let order = self.visible_order(actor, order_id).await?;
        let mut views = Vec::new();
        for row in self
            .store
            .read()
            .lessons()
            .lessons_of_order(&order.id)
            .await?
        {
            views.push(self.lesson_view(row).await);
        }
        Ok(views)
    }

    /// The signed-in parent's lessons awaiting an answer.
    pub async fn lessons_to_confirm(self, actor: &Actor) -> Result<Vec<LessonView>, AppError> {
        let parent_id = self.require_parent(actor).await?;
        let mut views = Vec::new();
        for row in self
            .store
            .read()
            .lessons()
            .lessons_awaiting(parent_id)
            .await?
        {
            views.push(self.lesson_view(row).await);
        }
        Ok(views)
    }

    async fn lesson_by_id(self, id: &str) -> Result<LessonView, AppError> {
        let row = self
            .store
            .read()
            .lessons()
            .lesson(id)
            .await?
            .ok_or_else(|| AppError::internal("lesson vanished"))?;
        Ok(self.lesson_view(row).await)
    }

    async fn lesson_view(self, r: LessonRow) -> LessonView {
        let release_status = match &r.release_instruction_id {
            Some(id) => self
                .store
                .read()
                .instructions()
                .instruction(id)
                .await
                .ok()
                .flatten()
                // A release waiting for its day's batch is shown as such, not as on its way.
                .map(|i| {
                    ReleaseProgress::of(i.status, i.batch_date.is_some() && i.batch_id.is_none())
                }),
            None => None,
        };
        LessonView {
            status_label: r.status.label_zh(),
            fee_display: domain::money::yuan(r.fee_fen),
            confirm_by: r.confirm_by,
            confirm_by_display: Timestamp::from_millis(r.confirm_by).china_display(),
            id: r.id,
            order_id: r.order_id,
            lesson_no: r.lesson_no,
            attended_on: r.attended_on,
            evidence: r.evidence,
            status: r.status,
            fee_fen: r.fee_fen,
            dispute_reason: r.dispute_reason,
            release_status,
        }
    }
}

/// `POST /api/v1/parent/orders/{id}/leave`.
#[derive(Clone, Debug, Default, Deserialize, utoipa::ToSchema)]
pub struct LeaveRequest {
    /// `YYYY-MM-DD`: today or later.
    pub date: String,
    pub reason: String,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct LeaveView {
    pub date: String,
    pub reason: String,
}

impl<'a> Money<'a> {
    /// 请假: the parent takes a day off an order's classes; the institution cannot take a lesson of the order
    /// that day, so nothing is consumed for a class the child missed.
    pub async fn request_leave(
        self,
        actor: &Actor,
        order_id: &str,
        req: &LeaveRequest,
    ) -> Result<LeaveView, AppError> {
        let parent_id = self.require_parent(actor).await?.to_owned();
        let reason = crate::error::stated_reason("reason", &req.reason)?;
        let date =
            chrono::NaiveDate::parse_from_str(req.date.trim(), "%Y-%m-%d").map_err(|_| {
                AppError::new(
                    ErrorCode::InvalidParameter,
                    "日期：格式应为 YYYY-MM-DD",
                    "date: YYYY-MM-DD",
                )
                .on("date")
            })?;
        let now = self.clock.now();
        if date < now.china_date() {
            return Err(AppError::new(
                ErrorCode::InvalidParameter,
                "日期：只能为今天或以后的日期请假",
                "date: leave is asked for today or a later day",
            )
            .on("date"));
        }
        let mut tx = self.store.begin_write().await?;
        let order = tx
            .orders()
            .order_for_update(order_id.trim())
            .await?
            .filter(|o| o.parent_id == parent_id)
            .ok_or_else(|| AppError::not_found("您没有这个订单", "no such order of yours"))?;
        if order.status != OrderStatus::Paid || order.closed_at.is_some() {
            return Err(AppError::new(
                ErrorCode::Conflict,
                "只有已付款且未结束的订单可以请假",
                "leave is for a paid, open order",
            ));
        }
        let row = store::LeaveRow {
            id: uuid::Uuid::now_v7().to_string(),
            order_id: order.id.clone(),
            institution_id: order.institution_id.clone(),
            on_date: date.to_string(),
            reason: reason.to_owned(),
            created_at: now.millis(),
        };
        tx.lessons().insert_leave(&row).await?;
        tx.append_audit(vec![evidence::record(
            &actor.audit_name(),
            now.millis(),
            Action::LessonLeave,
            format!("institution:{}", order.institution_id),
            json!({"order": order.id, "date": row.on_date, "reason": reason}),
        )])
        .await?;
        let staff = tx.inbox().staff_accounts_of(&order.institution_id).await?;
        self.service()
            .notify_in(
                &mut tx,
                &staff,
                "学员请假",
                &format!("订单 {} 于 {} 请假：{reason}", order.order_no, row.on_date),
                now.millis(),
            )
            .await?;
        tx.commit().await?;
        Ok(LeaveView {
            date: row.on_date,
            reason: row.reason,
        })
    }

    /// An order's days of leave, for whoever may see the order.
    pub async fn leaves_of_order(
        self,
        actor: &Actor,
        order_id: &str,
    ) -> Result<Vec<LeaveView>, AppError> {
        let order = self.visible_order(actor, order_id).await?;
        Ok(self
            .store
            .read()
            .lessons()
            .leaves_of_order(&order.id)
            .await?
            .into_iter()
            .map(|l| LeaveView {
                date: l.on_date,
                reason: l.reason,
            })
            .collect())
    }
}
