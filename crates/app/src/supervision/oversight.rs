//! 监管查询 what regulators see beyond the public registry, always inside their region subtree.

use crate::supervision::Supervision;
use crate::{Actor, AppError};
use domain::Action;
use domain::access::Permission;
use domain::{InstitutionId, RegionCode, Timestamp};
use serde::Serialize;
use store::AuditScope;

/// One audit-log entry as a regulator reads it.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct AuditEntryView {
    pub seq: i64,
    pub at: i64,
    pub at_display: String,
    pub actor: String,
    /// The stored action name (`order.paid`), stable.
    pub action: String,
    /// What it is in Chinese (付款入监管账户); an action this version does not know reads as its name.
    pub action_label: String,
    #[schema(value_type = Object)]
    pub payload: serde_json::Value,
}

/// A regulator's console: who it is and the institutions of its region subtree.
#[derive(Clone, Debug, Serialize)]
pub struct RegulatorOverview {
    pub region_code: String,
    pub region_name: String,
    pub role: &'static str,
    pub institutions: crate::views::Page<crate::views::InstitutionSummary>,
}

/// One page of the audit log, newest first, and where the next (older) page starts.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct AuditLogPage {
    pub entries: Vec<AuditEntryView>,
    /// Pass as `before` for the next page; absent on the last.
    pub next_before: Option<i64>,
}

/// One reveal of personal data, as the audit administrator reads it.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct PiiAccessView {
    pub at: i64,
    pub at_display: String,
    pub actor: String,
    pub subject: String,
    pub field: String,
    pub reason: String,
}

const AUDIT_PAGE: i64 = 50;

fn entry_view(e: ledger::AuditEntry) -> AuditEntryView {
    AuditEntryView {
        seq: e.seq,
        at: e.body.at_ms,
        at_display: Timestamp::from_millis(e.body.at_ms).china_display(),
        actor: e.body.actor,
        action_label: Action::label_of(&e.body.action).to_owned(),
        action: e.body.action,
        payload: serde_json::from_str(&e.body.payload).unwrap_or(serde_json::Value::Null),
    }
}

impl<'a> Supervision<'a> {
    /// 审计 the audit log for an audit administrator (审计管理员): at the national level all of it, in a
    /// region the entries by or about that subtree's regulator accounts. Newest first, 50 a page.
    pub async fn audit_log(
        self,
        actor: &Actor,
        before: Option<i64>,
    ) -> Result<AuditLogPage, AppError> {
        self.require(actor, Permission::ReadAuditLog).await?;
        let scope = match actor {
            Actor::Regulator { region, .. } if *region != RegionCode::NATIONAL => {
                AuditScope::RegulatorsUnder(region.prefix())
            }
            _ => AuditScope::All,
        };
        let entries = self
            .store
            .read()
            .audit_page(scope, before, AUDIT_PAGE)
            .await?;
        let next_before = (entries.len() as i64 == AUDIT_PAGE)
            .then(|| entries.last().map(|e| e.seq))
            .flatten();
        Ok(AuditLogPage {
            entries: entries.into_iter().map(entry_view).collect(),
            next_before,
        })
    }

    /// The personal-data access log for an audit administrator, scoped like [`Supervision::audit_log`].
    pub async fn pii_access_log(
        self,
        actor: &Actor,
        paging: domain::Paging,
    ) -> Result<crate::views::Page<PiiAccessView>, AppError> {
        self.require(actor, Permission::ReadAuditLog).await?;
        let regulators_under = match actor {
            Actor::Regulator { region, .. } if *region != RegionCode::NATIONAL => {
                Some(region.prefix())
            }
            _ => None,
        };
        let rows = self
            .store
            .read()
            .parents()
            .pii_access_page(regulators_under, paging.per_page(), paging.offset())
            .await?;
        Ok(crate::views::Page {
            items: rows
                .rows
                .into_iter()
                .map(|r| PiiAccessView {
                    at: r.at,
                    at_display: Timestamp::from_millis(r.at).china_display(),
                    actor: r.actor,
                    subject: r.subject,
                    field: r.field,
                    reason: r.reason,
                })
                .collect(),
            total: u64::try_from(rows.total).unwrap_or(0),
            page: paging.page(),
            per_page: paging.per_page(),
        })
    }

    /// The institutions a reviewer or supervisor oversees, searched inside its region subtree (a narrower
    /// region may be asked for; a region outside is refused and audited).
    pub async fn regulator_overview(
        self,
        actor: &Actor,
        raw: &crate::registry::RawSearch,
    ) -> Result<RegulatorOverview, AppError> {
        let Actor::Regulator { region, role, .. } = actor else {
            return Err(self
                .deny(
                    actor,
                    "platform",
                    serde_json::json!({"page": "regulator"}),
                    "仅限监管部门",
                    "regulators only",
                )
                .await);
        };
        let mut query = self.registry().parse_search(raw)?;
        let target = query.region.unwrap_or(*region);
        self.require_regulator_over(
            actor,
            Permission::ViewInstitutionPrivate,
            &target,
            "platform",
        )
        .await?;
        // The national level searches everything; a regional search stays inside its subtree.
        query.region = (target != RegionCode::NATIONAL).then_some(target);
        Ok(RegulatorOverview {
            region_code: region.to_string(),
            region_name: if *region == RegionCode::NATIONAL {
                "全国".to_owned()
            } else {
                self.regions.full_name(region)
            },
            role: domain::access::role_label(role.as_str()),
            institutions: self.registry().search_institutions(&query).await?,
        })
    }

    /// The institution, for a regulator whose region covers it and who holds `permission` (else 403, audited
    /// by [`Self::require_regulator_over`]).
    pub(crate) async fn institution_for_regulator(
        self,
        actor: &Actor,
        id: &str,
        permission: Permission,
    ) -> Result<store::InstitutionRow, AppError> {
        let id = InstitutionId::parse(id)?.to_string();
        let row = self
            .store
            .read()
            .registry()
            .institution(&id)
            .await?
            .ok_or_else(|| {
                AppError::not_found(format!("没有机构 {id}"), format!("no institution {id}"))
            })?;
        let region = RegionCode::parse(&row.region_code)?;
        self.require_regulator_over(actor, permission, &region, &format!("institution:{id}"))
            .await?;
        Ok(row)
    }

    /// An institution's audit trail (newest first), for regulators whose region covers it.
    pub async fn institution_audit_trail(
        self,
        actor: &Actor,
        id: &str,
    ) -> Result<Vec<AuditEntryView>, AppError> {
        let row = self
            .institution_for_regulator(actor, id, Permission::ViewInstitutionPrivate)
            .await?;
        let subject = format!("institution:{}", row.id);
        let entries = self.store.read().audit_entries_about(&subject, 500).await?;
        Ok(entries.into_iter().map(entry_view).collect())
    }
}
