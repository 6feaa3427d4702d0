//! 监管处置 what a supervisor does to an institution of its region: move it between lists, and remove it
//! (撤除). Every move has a reason, an actor, a date and its evidence, and shows on the public site at once.

use crate::error::required_text as text;
use crate::supervision::Supervision;
use crate::{Actor, AppError, ErrorCode, evidence};
use domain::Action;
use domain::access::Permission;
use domain::{InstitutionId, ListChangeId, ListStatus, RegionCode, Timestamp};
use serde::Deserialize;
use serde_json::json;
use store::{InstitutionRow, ListChangeRow, NoticeRow};

/// `POST /api/v1/regulator/institutions/{id}/list`.
#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
pub struct ListMove {
    /// `grey` or `black` (white follows approval plus fund supervision, not a manual move).
    pub to: String,
    pub reason: String,
}

/// `POST /api/v1/regulator/institutions/{id}/removal`: the local authority's procedure, as decided.
#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
pub struct Removal {
    pub reason: String,
    /// The decision's document number, e.g. 海教监〔2026〕12号.
    pub decision_no: String,
    /// The decision date, `YYYY-MM-DD`, not in the future.
    pub decided_on: String,
    /// Publish a notice (serious cases).
    #[serde(default)]
    pub publish: bool,
}

/// `POST /api/v1/regulator/unlicensed`: an institution found operating without a licence (无证无照), put
/// straight onto the black list.
#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
pub struct UnlicensedFinding {
    pub name: String,
    pub address: String,
    /// The county where it was found, inside the supervisor's region.
    pub region_code: String,
    /// `online` or `offline`.
    pub mode: String,
    pub categories: Vec<String>,
    /// When the operator has a business registration; many do not.
    #[serde(default)]
    pub credit_code: Option<String>,
    pub reason: String,
}

impl<'a> Supervision<'a> {
    /// Opens a write transaction on an institution once the actor is shown to supervise its region (a
    /// refusal is audited, outside any transaction), and reads the row inside it.
    async fn supervised(
        self,
        actor: &Actor,
        id: &str,
    ) -> Result<(store::WriteTx, InstitutionRow), AppError> {
        let id = self
            .institution_for_regulator(actor, id, Permission::SuperviseInstitution)
            .await?
            .id;
        let mut tx = self.store.begin_write().await?;
        let row = tx
            .registry()
            .institution_for_update(&id)
            .await?
            .ok_or_else(|| {
                AppError::not_found(format!("没有机构 {id}"), format!("no institution {id}"))
            })?;
        Ok((tx, row))
    }

    /// Records a move to `to` inside `tx`: the row, the list change, the evidence and, for the black list,
    /// a public notice.
    pub(crate) async fn move_in(
        self,
        tx: &mut store::WriteTx,
        actor: &Actor,
        row: &InstitutionRow,
        to: ListStatus,
        reason: &str,
        now: Timestamp,
    ) -> Result<(), AppError> {
        let at = now.millis();
        let change = ListChangeRow {
            id: ListChangeId::new_v7().to_string(),
            institution_id: row.id.clone(),
            from_status: Some(row.list_status.as_str().to_owned()),
            to_status: to.as_str().to_owned(),
            reason: reason.to_owned(),
            actor: actor.audit_name(),
            at,
        };
        tx.registry()
            .set_list_status(&row.id, to, reason, at)
            .await?;
        tx.registry()
            .insert_list_changes(std::slice::from_ref(&change))
            .await?;
        let mut entries = vec![evidence::list_changed(actor, now, &change)];
        if to == ListStatus::Black {
            let notice = NoticeRow {
                id: uuid::Uuid::now_v7().to_string(),
                kind: "black_list".into(),
                institution_id: Some(row.id.clone()),
                region_code: row.region_code.clone(),
                title: format!("关于将{}列入黑名单的公告", row.name),
                body: format!(
                    "经查，{}：{}。现将其列入校外培训机构黑名单，请家长不要报名缴费。",
                    row.name, reason
                ),
                published_at: at,
                until_at: None,
            };
            tx.registry()
                .insert_notices(std::slice::from_ref(&notice))
                .await?;
            entries.push(evidence::notice_published(actor, now, &notice));
        }
        tx.append_audit(entries).await?;
        Ok(())
    }

    /// Moves an institution of the supervisor's region to the grey or black list.
    pub async fn move_to_list(
        self,
        actor: &Actor,
        id: &str,
        req: &ListMove,
    ) -> Result<(), AppError> {
        let to = ListStatus::parse(req.to.trim())?;
        if to == ListStatus::White {
            return Err(AppError::new(
                ErrorCode::FundSupervisionRequired,
                "审核通过并确认资金监管账户后才能列入白名单",
                "the white list follows approval and a confirmed supervised account",
            ));
        }
        let reason = text("reason", &req.reason, 200)?;
        let now = self.clock.now();
        let (mut tx, row) = self.supervised(actor, id).await?;
        if row.registry_state != domain::RegistryState::Listed {
            return Err(AppError::new(
                ErrorCode::Conflict,
                "该机构不在名单上",
                "the institution is not listed",
            ));
        }
        if row.list_status == to {
            return Err(AppError::new(
                ErrorCode::Conflict,
                format!("已在{}上", to.label_zh()),
                format!("already on the {} list", to.as_str()),
            ));
        }
        self.move_in(&mut tx, actor, &row, to, &reason, now).await?;
        tx.commit().await?;
        self.registry().reindex(&row.id).await
    }

    /// Records an unlicensed institution found in the field directly on the black list, with a notice.
    pub async fn record_unlicensed(
        self,
        actor: &Actor,
        finding: &UnlicensedFinding,
    ) -> Result<String, AppError> {
        let region = RegionCode::parse(finding.region_code.trim())?;
        self.require_regulator_over(actor, Permission::SuperviseInstitution, &region, "platform")
            .await?;
        if region.level() != domain::RegionLevel::County || !self.regions.known(&region) {
            return Err(AppError::new(
                ErrorCode::UnknownRegion,
                "所在地区：须为发现问题的区县",
                "region_code: the county where it was found",
            )
            .on("region_code"));
        }
        let name = text("name", &finding.name, 100)?;
        let address = text("address", &finding.address, 200)?;
        let reason = text("reason", &finding.reason, 200)?;
        let mode = domain::TeachingMode::parse(finding.mode.trim())?;
        let categories = finding
            .categories
            .iter()
            .map(|c| domain::Category::parse(c.trim()))
            .collect::<Result<Vec<_>, _>>()?;
        if categories.is_empty() {
            return Err(AppError::new(
                ErrorCode::InvalidCategory,
                "培训类别：至少选择一项",
                "categories: at least one",
            )
            .on("categories"));
        }
        let id = InstitutionId::new_v7().to_string();
        let credit_code = match finding
            .credit_code
            .as_deref()
            .map(str::trim)
            .filter(|c| !c.is_empty())
        {
            Some(c) => domain::credit_code::CreditCode::parse(c)
                .map_err(|_| {
                    AppError::new(
                        ErrorCode::InvalidCreditCode,
                        "统一社会信用代码：校验位不正确",
                        "credit_code: check character",
                    )
                    .on("credit_code")
                })?
                .as_str()
                .to_owned(),
            None => format!("{}{id}", crate::registry::UNREGISTERED),
        };
        let now = self.clock.now();
        let at = now.millis();
        let list_reason = format!("无证经营：{reason}");
        let row = InstitutionRow {
            id: id.clone(),
            name,
            credit_code,
            licence_no: None,
            region_code: region.to_string(),
            address,
            mode: mode.as_str().to_owned(),
            categories: categories
                .iter()
                .map(|c| c.as_str())
                .collect::<Vec<_>>()
                .join(","),
            intro: String::new(),
            list_status: domain::ListStatus::Black,
            list_reason: list_reason.clone(),
            list_changed_at: at,
            created_at: at,
            updated_at: at,
            registry_state: domain::RegistryState::Listed,
        };
        let change = ListChangeRow {
            id: ListChangeId::new_v7().to_string(),
            institution_id: id.clone(),
            from_status: None,
            to_status: ListStatus::Black.as_str().to_owned(),
            reason: list_reason.clone(),
            actor: actor.audit_name(),
            at,
        };
        let notice = NoticeRow {
            id: uuid::Uuid::now_v7().to_string(),
            kind: "black_list".into(),
            institution_id: Some(id.clone()),
            region_code: row.region_code.clone(),
            title: format!("关于将{}列入黑名单的公告", row.name),
            body: format!(
                "经查，{}（{}）{}。现将其列入校外培训机构黑名单，请家长不要报名缴费。",
                row.name, row.address, reason
            ),
            published_at: at,
            until_at: None,
        };
        let entries = vec![
            evidence::institution_registered(actor, now, &row),
            evidence::list_changed(actor, now, &change),
            evidence::notice_published(actor, now, &notice),
        ];
        let mut tx = self.store.begin_write().await?;
        tx.registry()
            .insert_institutions(std::slice::from_ref(&row))
            .await?;
        tx.registry()
            .insert_list_changes(std::slice::from_ref(&change))
            .await?;
        tx.registry()
            .insert_notices(std::slice::from_ref(&notice))
            .await?;
        tx.append_audit(entries).await?;
        tx.commit().await?;
        self.registry().reindex(&id).await?;
        Ok(id)
    }

    /// 撤除: delists the institution (black list, marked removed), revokes its plate, and may publish a
    /// notice. Families with open orders are notified once orders exist (the parent's journey).
    pub async fn remove_institution(
        self,
        actor: &Actor,
        id: &str,
        req: &Removal,
    ) -> Result<(), AppError> {
        let reason = text("reason", &req.reason, 200)?;
        let decision_no = text("decision_no", &req.decision_no, 64)?;
        let now = self.clock.now();
        let decided_on = chrono::NaiveDate::parse_from_str(req.decided_on.trim(), "%Y-%m-%d")
            .ok()
            .filter(|d| *d <= now.china_date())
            .ok_or_else(|| {
                AppError::new(
                    ErrorCode::InvalidParameter,
                    "决定日期：格式应为 YYYY-MM-DD，且不能晚于今天",
                    "decided_on: a date YYYY-MM-DD, not in the future",
                )
                .on("decided_on")
            })?;
        let (mut tx, row) = self.supervised(actor, id).await?;
        if row.registry_state == domain::RegistryState::Removed {
            return Err(AppError::new(
                ErrorCode::Conflict,
                "已经撤除",
                "already removed",
            ));
        }
        let at = now.millis();
        let list_reason = format!("撤除：{reason}（{decision_no}）");
        self.move_in(&mut tx, actor, &row, ListStatus::Black, &list_reason, now)
            .await?;
        tx.registry()
            .set_registry_state(&row.id, domain::RegistryEvent::Remove, at)
            .await?;
        let revoked = tx
            .plates()
            .end_active_plate(&row.id, domain::PlateEvent::Revoke, &list_reason, at)
            .await?;
        let mut entries = vec![crate::evidence::record(
            &actor.audit_name(),
            at,
            Action::InstitutionRemoved,
            format!("institution:{}", row.id),
            json!({"reason": reason, "decision_no": decision_no, "decided_on": decided_on.to_string(),
                   "plate_revoked": revoked > 0, "published": req.publish}),
        )];
        if req.publish {
            let notice = NoticeRow {
                id: uuid::Uuid::now_v7().to_string(),
                kind: "removal".into(),
                institution_id: Some(row.id.clone()),
                region_code: row.region_code.clone(),
                title: format!("关于撤除{}的公告", row.name),
                body: format!(
                    "依据{decision_no}，{}因{reason}，已于{decided_on}撤除。",
                    row.name
                ),
                published_at: at,
                until_at: None,
            };
            tx.registry()
                .insert_notices(std::slice::from_ref(&notice))
                .await?;
            entries.push(evidence::notice_published(actor, now, &notice));
        }
        // Everyone concerned hears of it: the institution's staff now; families with open orders once orders
        // exist (their refunds follow the run-off).
        let staff = tx.inbox().staff_accounts_of(&row.id).await?;
        self.service().notify_in(
            &mut tx,
            &staff,
            &format!("{}已被撤除", row.name),
            &format!("依据{decision_no}（{decided_on}），{}因{reason}被撤除，已移入黑名单，合规码牌已撤销。", row.name),
            at,
        )
        .await?;
        tx.append_audit(entries).await?;
        tx.commit().await?;
        self.registry().reindex(&row.id).await
    }
}
