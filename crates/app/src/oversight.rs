//! 监管查询 what regulators see beyond the public registry, always inside their region subtree.

use crate::{Actor, App, AppError, ErrorCode};
use domain::access::{Permission, regulator_sees};
use domain::{InstitutionId, RegionCode, Timestamp};
use serde::Serialize;

/// One audit-log entry as a regulator reads it.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct AuditEntryView {
    pub seq: i64,
    pub at: i64,
    pub at_display: String,
    pub actor: String,
    pub action: String,
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

impl App {
    /// The institutions a reviewer or supervisor oversees, searched inside its region subtree (a narrower
    /// region may be asked for; a region outside is refused and audited).
    pub async fn regulator_overview(
        &self,
        actor: &Actor,
        raw: &crate::registry::RawSearch,
    ) -> Result<RegulatorOverview, AppError> {
        let Actor::Regulator { region, role, .. } = actor else {
            return Err(self
                .deny(
                    actor,
                    "platform",
                    serde_json::json!({"page": "regulator"}),
                    "regulators only",
                )
                .await);
        };
        let mut query = self.parse_search(raw)?;
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
            institutions: self.search_institutions(&query).await?,
        })
    }

    /// Refuses `actor` unless it is a regulator with `permission` whose region covers `region`; a refusal
    /// is itself written to the audit log.
    pub(crate) async fn require_regulator_over(
        &self,
        actor: &Actor,
        permission: Permission,
        region: &RegionCode,
        subject: &str,
    ) -> Result<(), AppError> {
        let allowed = match actor {
            Actor::Regulator { region: own, .. } => {
                actor.has(permission) && regulator_sees(own, region)
            }
            Actor::System { .. } => true,
            _ => false,
        };
        if allowed {
            return Ok(());
        }
        let details =
            serde_json::json!({"permission": format!("{permission:?}"), "region": region.as_str()});
        Err(self
            .deny(actor, subject, details, "outside your region or role")
            .await)
    }

    /// Refuses `actor` unless its role carries `permission` (scope is the use case's to check); a refusal is
    /// audited. For handlers that must refuse before reading a request body.
    pub async fn require(&self, actor: &Actor, permission: Permission) -> Result<(), AppError> {
        if actor.has(permission) {
            return Ok(());
        }
        let details = serde_json::json!({"permission": format!("{permission:?}")});
        Err(self
            .deny(actor, "platform", details, "your role does not allow this")
            .await)
    }

    /// Writes the refusal to the audit log and returns it as `forbidden` (or the fault that stopped the
    /// writing).
    pub(crate) async fn deny(
        &self,
        actor: &Actor,
        subject: &str,
        details: serde_json::Value,
        reason: &str,
    ) -> AppError {
        match self.record_denial(actor, subject, details).await {
            Ok(()) => AppError::new(ErrorCode::Forbidden, reason),
            Err(fault) => fault,
        }
    }

    async fn record_denial(
        &self,
        actor: &Actor,
        subject: &str,
        details: serde_json::Value,
    ) -> Result<(), AppError> {
        let now = self.clock.now().millis();
        let entry = crate::evidence::record(
            &actor.audit_name(),
            now,
            "auth.permission_denied",
            subject.to_owned(),
            details,
        );
        let mut tx = self.store.begin_write().await?;
        tx.append_audit(vec![entry]).await?;
        tx.commit().await?;
        Ok(())
    }

    /// An institution's audit trail (newest first), for regulators whose region covers it.
    pub async fn institution_audit_trail(
        &self,
        actor: &Actor,
        id: &str,
    ) -> Result<Vec<AuditEntryView>, AppError> {
        let id = InstitutionId::parse(id)?.to_string();
        let row = self
            .store
            .read()
            .institution(&id)
            .await?
            .ok_or_else(|| AppError::not_found(format!("no institution {id}")))?;
        let region = RegionCode::parse(&row.region_code)?;
        let subject = format!("institution:{id}");
        self.require_regulator_over(actor, Permission::ViewInstitutionPrivate, &region, &subject)
            .await?;
        let entries = self.store.read().audit_entries_about(&subject, 500).await?;
        Ok(entries
            .into_iter()
            .map(|e| AuditEntryView {
                seq: e.seq,
                at: e.body.at_ms,
                at_display: Timestamp::from_millis(e.body.at_ms).china_display(),
                actor: e.body.actor,
                action: e.body.action,
                payload: serde_json::from_str(&e.body.payload).unwrap_or(serde_json::Value::Null),
            })
            .collect())
    }
}
