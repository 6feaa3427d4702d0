//! 安全策略 the security policy: how many failed sign-ins lock an account and for how long, and when
//! browser sessions end. The national security administrator (安全管理员) changes it within bounds that
//! keep graded-protection level 3 (a privileged session never idles longer than 30 minutes); every change
//! is a new version with its reason and an audit entry. Security administrators of every level read it.

use crate::error::field_label;
use crate::identity::Identity;
use crate::{Actor, AppError, ErrorCode};
use domain::Action;
use domain::RegionCode;
use domain::access::Permission;
use serde::{Deserialize, Serialize};
use serde_json::json;
use store::SecurityPolicyRow;

/// The rules in force.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SecurityPolicy {
    /// Failed sign-ins in a row that lock an account (3–10).
    pub max_failures: i64,
    /// How long a lock lasts, in minutes (5–1440).
    pub lockout_minutes: i64,
    /// Idle minutes after which a regulator's or bank operator's session ends (5–30).
    pub privileged_idle_minutes: i64,
    /// Idle minutes after which anyone else's session ends (5–240).
    pub idle_minutes: i64,
    /// Hours after which any session ends, however active (1–24).
    pub session_hours: i64,
}

impl Default for SecurityPolicy {
    fn default() -> Self {
        SecurityPolicy {
            max_failures: 5,
            lockout_minutes: 15,
            privileged_idle_minutes: 30,
            idle_minutes: 120,
            session_hours: 12,
        }
    }
}

impl SecurityPolicy {
    pub fn lockout_ms(&self) -> i64 {
        self.lockout_minutes * 60_000
    }

    pub fn idle_ms(&self, privileged: bool) -> i64 {
        let minutes = if privileged {
            self.privileged_idle_minutes
        } else {
            self.idle_minutes
        };
        minutes * 60_000
    }

    pub fn session_ms(&self) -> i64 {
        self.session_hours * 3_600_000
    }

    /// Refuses values outside the bounds, naming the first one.
    pub fn check(&self) -> Result<(), AppError> {
        let rules = [
            ("max_failures", self.max_failures, 3, 10),
            ("lockout_minutes", self.lockout_minutes, 5, 1_440),
            (
                "privileged_idle_minutes",
                self.privileged_idle_minutes,
                5,
                30,
            ),
            ("idle_minutes", self.idle_minutes, 5, 240),
            ("session_hours", self.session_hours, 1, 24),
        ];
        match rules.iter().find(|(_, v, lo, hi)| v < lo || v > hi) {
            None => Ok(()),
            Some((name, value, lo, hi)) => Err(AppError::new(
                ErrorCode::InvalidParameter,
                format!("{}须在{lo}至{hi}之间，实为{value}", field_label(name)),
                format!("{name} must be between {lo} and {hi}, not {value}"),
            )
            .on(*name)),
        }
    }
}

/// The policy with its version (0: the built-in defaults, never changed).
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct SecurityPolicyView {
    pub version: i64,
    pub policy: SecurityPolicy,
    pub reason: Option<String>,
    pub set_at: Option<i64>,
    /// Whether the reader may set a new version (the national security administrator).
    pub can_change: bool,
}

/// `PUT /api/v1/admin/security-policy`.
#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
pub struct SecurityPolicyChange {
    pub policy: SecurityPolicy,
    pub reason: String,
}

fn parsed(row: Option<SecurityPolicyRow>) -> Result<SecurityPolicyView, AppError> {
    match row {
        None => Ok(SecurityPolicyView {
            version: 0,
            policy: SecurityPolicy::default(),
            reason: None,
            set_at: None,
            can_change: false,
        }),
        Some(r) => Ok(SecurityPolicyView {
            version: r.version,
            policy: serde_json::from_str(&r.policy)
                .map_err(|e| AppError::internal(format!("stored security policy: {e}")))?,
            reason: Some(r.reason),
            set_at: Some(r.set_at),
            can_change: false,
        }),
    }
}

/// Only the national security administrator (or the platform itself) sets the policy.
fn sets_policy(actor: &Actor) -> bool {
    actor.has(Permission::ManageSecurityPolicy)
        && match actor {
            Actor::Regulator { region, .. } => *region == RegionCode::NATIONAL,
            _ => true,
        }
}

impl<'a> Identity<'a> {
    /// The policy in force, inside a sign-in's transaction.
    pub(crate) async fn policy_in(
        self,
        tx: &mut store::WriteTx,
    ) -> Result<SecurityPolicy, AppError> {
        Ok(parsed(tx.policies().security_policy().await?)?.policy)
    }

    /// The policy in force, for security administrators.
    pub async fn security_policy(self, actor: &Actor) -> Result<SecurityPolicyView, AppError> {
        self.require(actor, Permission::ManageSecurityPolicy)
            .await?;
        parsed(self.store.read().policies().security_policy().await?)
    }

    /// Sets a new version of the policy (the national security administrator only).
    pub async fn set_security_policy(
        self,
        actor: &Actor,
        change: &SecurityPolicyChange,
    ) -> Result<SecurityPolicyView, AppError> {
        if !sets_policy(actor) {
            let details = json!({"permission": "ManageSecurityPolicy"});
            return Err(self
                .deny(
                    actor,
                    "security_policy",
                    details,
                    "安全策略由全国安全管理员设定",
                    "the national security administrator sets the policy",
                )
                .await);
        }
        change.policy.check()?;
        let reason = crate::error::stated_reason("reason", &change.reason)?;
        let now = self.clock.now().millis();
        let mut tx = self.store.begin_write().await?;
        let before = parsed(tx.policies().security_policy().await?)?;
        let row = SecurityPolicyRow {
            version: before.version + 1,
            policy: serde_json::to_string(&change.policy)
                .map_err(|e| AppError::internal(e.to_string()))?,
            reason: reason.to_owned(),
            set_by: actor.audit_name(),
            set_at: now,
        };
        tx.policies().insert_security_policy(&row).await?;
        tx.append_audit(vec![crate::evidence::record(
            &actor.audit_name(),
            now,
            Action::SecurityPolicyChanged,
            "security_policy".to_owned(),
            json!({"version": row.version, "before": before.policy, "after": change.policy, "reason": reason}),
        )])
        .await?;
        tx.commit().await?;
        let mut view = parsed(Some(row))?;
        view.can_change = true;
        Ok(view)
    }
}
