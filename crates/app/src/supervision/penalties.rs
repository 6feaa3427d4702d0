//! 行政处罚 administrative penalties (MOE Order No. 53): a supervisor over the institution records the
//! decision — number, date, amount where the kind has one, legal basis, facts — and the platform applies its
//! effect in the same transaction: published decisions become public notices; stopping enrolment or
//! operation hides the institution's courses and refuses orders while in force; revoking the licence moves
//! it to the black list, revokes its plate and starts the run-off of its prepaid money.

use crate::error::field_label;
use crate::error::required_text as text;
use crate::supervision::Supervision;
use crate::{Actor, AppError, ErrorCode, evidence};
use domain::Action;
use domain::ListStatus;
use domain::access::Permission;
use domain::penalty::PenaltyKind;
use serde::{Deserialize, Serialize};
use serde_json::json;
use store::{NoticeRow, PenaltyRow};

/// `POST /api/v1/regulator/institutions/{id}/penalties`.
#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
pub struct NewPenalty {
    /// `warning`, `public_criticism`, `fine`, `confiscation`, `stop_enrolling`, `stop_operating`,
    /// `licence_revocation` or `trade_ban`.
    pub kind: String,
    /// 处罚决定书文号, unique.
    pub decision_no: String,
    /// `YYYY-MM-DD`, not in the future.
    pub decided_on: String,
    /// Fines and confiscations only: the amount in fen.
    #[serde(default)]
    pub amount_fen: Option<i64>,
    /// The articles applied, e.g. 《校外培训行政处罚暂行办法》第十三条.
    pub legal_basis: String,
    /// The facts found.
    pub facts: String,
    /// Stopping enrolment or operation: the last day in force (`YYYY-MM-DD`); left out, until a new decision.
    #[serde(default)]
    pub in_force_until: Option<String>,
    /// Publish on the website (default: every kind but a warning).
    #[serde(default)]
    pub publish: Option<bool>,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct PenaltyView {
    pub id: String,
    pub institution_id: String,
    pub kind: String,
    pub kind_label: &'static str,
    pub decision_no: String,
    pub decided_on: String,
    pub amount_fen: Option<i64>,
    pub amount_display: Option<String>,
    pub legal_basis: String,
    pub facts: String,
    pub in_force_until: Option<String>,
    pub published: bool,
    pub decided_by: String,
}

pub(crate) fn view(row: PenaltyRow) -> PenaltyView {
    let kind = PenaltyKind::parse(&row.kind);
    PenaltyView {
        kind_label: kind.map_or("", PenaltyKind::label),
        amount_display: row.amount_fen.map(domain::money::yuan),
        id: row.id,
        institution_id: row.institution_id,
        kind: row.kind,
        decision_no: row.decision_no,
        decided_on: row.decided_on,
        amount_fen: row.amount_fen,
        legal_basis: row.legal_basis,
        facts: row.facts,
        in_force_until: row.in_force_until,
        published: row.published == 1,
        decided_by: row.decided_by,
    }
}

fn date(field: &str, value: &str) -> Result<chrono::NaiveDate, AppError> {
    chrono::NaiveDate::parse_from_str(value.trim(), "%Y-%m-%d").map_err(|_| {
        AppError::new(
            ErrorCode::InvalidParameter,
            format!("{}：格式应为 YYYY-MM-DD", field_label(field)),
            format!("{field}: a date YYYY-MM-DD"),
        )
        .on(field)
    })
}

impl<'a> Supervision<'a> {
    /// Records a penalty decision on an institution of the supervisor's region, with its effect.
    pub async fn record_penalty(
        self,
        actor: &Actor,
        institution_id: &str,
        new: &NewPenalty,
    ) -> Result<PenaltyView, AppError> {
        let institution = self
            .institution_for_regulator(actor, institution_id, Permission::SuperviseInstitution)
            .await?;
        let kind = PenaltyKind::parse(&new.kind).ok_or_else(|| {
            AppError::new(ErrorCode::InvalidParameter, "处罚种类：须为警告、通报批评、罚款、没收、责令停止招生、责令停业整顿、吊销许可证或限制从业", "kind: warning, public_criticism, fine, confiscation, stop_enrolling, stop_operating, \
                 licence_revocation or trade_ban").on("kind")
        })?;
        let now = self.clock.now();
        let today = now.china_date();
        let decided_on = date("decided_on", &new.decided_on)?;
        if decided_on > today {
            return Err(AppError::new(
                ErrorCode::InvalidParameter,
                "决定日期：不能晚于今天",
                "decided_on: not in the future",
            )
            .on("decided_on"));
        }
        let amount_fen = match (kind.has_amount(), new.amount_fen) {
            (true, Some(a)) if a > 0 => Some(domain::money::PENALTY.check("amount_fen", a)?.get()),
            (true, _) => {
                return Err(AppError::new(
                    ErrorCode::InvalidParameter,
                    "金额：罚款或没收须填写大于零的金额",
                    "amount_fen: a fine or confiscation states a positive amount",
                )
                .on("amount_fen"));
            }
            (false, None) => None,
            (false, Some(_)) => {
                return Err(AppError::new(
                    ErrorCode::InvalidParameter,
                    format!("金额：{}不填写金额", kind.label()),
                    format!("amount_fen: {} states no amount", kind.label()),
                ));
            }
        };
        let in_force_until = match new.in_force_until.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(d)
                if matches!(
                    kind,
                    PenaltyKind::StopEnrolling | PenaltyKind::StopOperating
                ) =>
            {
                let until = date("in_force_until", d)?;
                if until < decided_on {
                    return Err(AppError::new(
                        ErrorCode::InvalidParameter,
                        "执行截止日期：不能早于决定日期",
                        "in_force_until: on or after decided_on",
                    )
                    .on("in_force_until"));
                }
                Some(until.to_string())
            }
            Some(_) => {
                return Err(AppError::new(
                    ErrorCode::InvalidParameter,
                    "执行截止日期：只有责令停止招生或停业整顿才有截止日期",
                    "in_force_until: only stopping enrolment or operation has an end",
                )
                .on("in_force_until"));
            }
        };
        let row = PenaltyRow {
            id: uuid::Uuid::now_v7().to_string(),
            institution_id: institution.id.clone(),
            kind: kind.as_str().to_owned(),
            decision_no: text("decision_no", &new.decision_no, 64)?,
            decided_on: decided_on.to_string(),
            amount_fen,
            legal_basis: text("legal_basis", &new.legal_basis, 200)?,
            facts: text("facts", &new.facts, 1000)?,
            in_force_until,
            published: i64::from(new.publish.unwrap_or(kind.published_by_default())),
            region_code: institution.region_code.clone(),
            decided_by: actor.audit_name(),
            recorded_at: now.millis(),
        };
        let at = now.millis();
        let mut tx = self.store.begin_write().await?;
        tx.inspection().insert_penalty(&row).await?;
        let mut entries = vec![evidence::record(
            &actor.audit_name(),
            at,
            Action::PenaltyRecorded,
            format!("institution:{}", institution.id),
            json!({"penalty": row.id, "kind": row.kind, "decision_no": row.decision_no,
                   "decided_on": row.decided_on, "amount_fen": row.amount_fen, "legal_basis": row.legal_basis,
                   "in_force_until": row.in_force_until, "published": row.published == 1}),
        )];
        if row.published == 1 {
            let amount = row
                .amount_fen
                .map(|a| format!("，金额{}", domain::money::yuan(a)))
                .unwrap_or_default();
            let notice = NoticeRow {
                id: uuid::Uuid::now_v7().to_string(),
                kind: "penalty".into(),
                institution_id: Some(institution.id.clone()),
                region_code: institution.region_code.clone(),
                title: format!("行政处罚决定公示：{}", institution.name),
                body: format!(
                    "{}（{}）：{}。依据{}，决定{}{amount}。决定日期：{}。",
                    institution.name,
                    row.decision_no,
                    row.facts,
                    row.legal_basis,
                    kind.label(),
                    row.decided_on
                ),
                published_at: at,
                until_at: None,
            };
            tx.registry()
                .insert_notices(std::slice::from_ref(&notice))
                .await?;
            entries.push(evidence::notice_published(actor, now, &notice));
        }
        let staff = tx.inbox().staff_accounts_of(&institution.id).await?;
        self.service()
            .notify_in(
                &mut tx,
                &staff,
                &format!("行政处罚决定：{}", kind.label()),
                &format!(
                    "依据{}（{}），{}",
                    row.legal_basis, row.decision_no, row.facts
                ),
                at,
            )
            .await?;
        tx.append_audit(entries).await?;
        if kind.black_lists() {
            let reason = format!("吊销许可证件（{}）", row.decision_no);
            let locked = tx
                .registry()
                .institution_for_update(&institution.id)
                .await?
                .ok_or_else(|| AppError::internal("institution vanished"))?;
            if locked.list_status != ListStatus::Black {
                self.move_in(&mut tx, actor, &locked, ListStatus::Black, &reason, now)
                    .await?;
            }
            tx.plates()
                .end_active_plate(&institution.id, domain::PlateEvent::Revoke, &reason, at)
                .await?;
            if self
                .store
                .read()
                .refunds()
                .run_off(&institution.id)
                .await?
                .is_none()
            {
                self.money()
                    .start_run_off_in(&mut tx, actor, &institution, &reason, at)
                    .await?;
            }
        }
        tx.commit().await?;
        if kind.stops_sales() {
            self.registry().reindex(&institution.id).await?;
        }
        Ok(view(row))
    }

    /// An institution's penalties: every decision for its staff and regulators over it, the published ones
    /// for everyone else.
    pub async fn penalties_of(
        self,
        actor: &Actor,
        institution_id: &str,
    ) -> Result<Vec<PenaltyView>, AppError> {
        let institution = self.registry().institution_row(institution_id).await?;
        let sees_all = match actor {
            Actor::Staff { institution_id, .. } => *institution_id == institution.id,
            Actor::Regulator { region, .. } => {
                actor.has(Permission::ViewInstitutionPrivate)
                    && domain::access::regulator_sees(
                        region,
                        &domain::RegionCode::parse(&institution.region_code)?,
                    )
            }
            _ => false,
        };
        Ok(self
            .store
            .read()
            .inspection()
            .penalties_of(&institution.id, !sees_all)
            .await?
            .into_iter()
            .map(view)
            .collect())
    }

    /// The penalty stopping the institution's sales today, if any.
    pub async fn sales_stop(self, institution_id: &str) -> Result<Option<PenaltyView>, AppError> {
        let today = self.clock.now().china_date().to_string();
        Ok(self
            .store
            .read()
            .inspection()
            .sales_stop(institution_id, &today)
            .await?
            .map(view))
    }
}
