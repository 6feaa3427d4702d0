//! 访问控制 who may act: the checks every area makes before it reads or writes, and the audited refusal.
//! A refusal is evidence too: it is written to the audit log before the caller sees `forbidden`.

use crate::{Actor, App, AppError, ErrorCode};
use domain::Action;
use domain::RegionCode;
use domain::access::{Permission, regulator_sees};
use serde_json::json;

impl App {
    /// Refuses `actor` unless its role carries `permission` (scope is the use case's to check); a refusal is
    /// audited. For handlers that must refuse before reading a request body.
    pub async fn require(&self, actor: &Actor, permission: Permission) -> Result<(), AppError> {
        if actor.has(permission) {
            return Ok(());
        }
        let details = serde_json::json!({"permission": format!("{permission:?}")});
        Err(self
            .deny(
                actor,
                "platform",
                details,
                "您的角色不能执行此操作",
                "your role does not allow this",
            )
            .await)
    }

    /// Writes the refusal to the audit log and returns it as `forbidden` (or the fault that stopped the
    /// writing).
    pub async fn deny(
        &self,
        actor: &Actor,
        subject: &str,
        details: serde_json::Value,
        reason_zh: &str,
        reason_en: &str,
    ) -> AppError {
        match self.record_denial(actor, subject, details).await {
            Ok(()) => AppError::new(ErrorCode::Forbidden, reason_zh, reason_en),
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
            Action::PermissionDenied,
            subject.to_owned(),
            details,
        );
        let mut tx = self.store.begin_write().await?;
        tx.append_audit(vec![entry]).await?;
        tx.commit().await?;
        Ok(())
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
            .deny(
                actor,
                subject,
                details,
                "超出您的管辖地区或职责范围",
                "outside your region or role",
            )
            .await)
    }

    /// The actor's region, for regulators who supervise or review (who see spot checks and after-school
    /// lists); others are refused, audited. Handlers call it before reading a request body.
    pub async fn supervising_region(&self, actor: &Actor) -> Result<RegionCode, AppError> {
        match actor {
            Actor::Regulator { region, .. }
                if actor.has(Permission::SuperviseInstitution)
                    || actor.has(Permission::ReviewFiling) =>
            {
                Ok(*region)
            }
            _ => Err(self
                .deny(
                    actor,
                    "supervision",
                    serde_json::json!({}),
                    "仅限监管员和审核员",
                    "supervisors and reviewers only",
                )
                .await),
        }
    }

    /// The parent's account id, or an audited refusal: for handlers that must refuse before reading a body.
    pub async fn require_parent<'a>(&self, actor: &'a Actor) -> Result<&'a str, AppError> {
        match actor {
            Actor::Parent { account_id } => Ok(account_id),
            _ => Err(self
                .deny(actor, "orders", json!({}), "仅限家长", "parents only")
                .await),
        }
    }

    /// The staff member's institution, or an audited refusal for anyone else.
    pub async fn own_institution(&self, actor: &Actor) -> Result<String, AppError> {
        match actor {
            Actor::Staff { institution_id, .. } => Ok(institution_id.clone()),
            _ => Err(self
                .deny(
                    actor,
                    "orders",
                    json!({}),
                    "仅限机构工作人员",
                    "an institution's staff only",
                )
                .await),
        }
    }
}
