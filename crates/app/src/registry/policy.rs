//! 区域政策 the policy in force in a region: the national defaults with each level of the region's lineage
//! applied (`domain::policy`). A supervisor sets its own level's override, as a new version with a reason
//! and an audit entry; anyone may read what applies where.

use crate::error::BrokenRule;
use crate::error::field_label;
use crate::registry::Registry;
use crate::{Actor, AppError, ErrorCode};
use domain::Action;
use domain::RegionCode;
use domain::access::Permission;
use domain::policy::{PolicyOverride, RegionPolicy};
use serde::{Deserialize, Serialize};
use serde_json::json;
use store::RegionPolicyRow;

/// The policy in force in a region, and which levels set something.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct PolicyView {
    pub region_code: String,
    pub policy: RegionPolicy,
    /// The lineage levels that override the national defaults, with their versions.
    pub set_by_levels: Vec<(String, i64)>,
}

/// `PUT /api/v1/regulator/policy`: the supervisor's own level's override.
#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
pub struct PolicyChange {
    pub policy: PolicyOverride,
    pub reason: String,
}

impl<'a> Registry<'a> {
    /// The policy in force in `region` (national defaults, then province, prefecture, county; a lower level
    /// may tighten a national rule, never loosen it: `domain::policy::RegionPolicy::effective`).
    pub async fn region_policy(self, region: &str) -> Result<PolicyView, AppError> {
        let region = RegionCode::parse(region.trim())?;
        if region != RegionCode::NATIONAL && !self.regions.known(&region) {
            return Err(AppError::new(
                ErrorCode::UnknownRegion,
                format!("没有代码为 {region} 的行政区划"),
                format!("no region has code {region}"),
            ));
        }
        let lineage: Vec<RegionCode> = std::iter::once(RegionCode::NATIONAL)
            .chain(
                region
                    .lineage()
                    .into_iter()
                    .filter(|r| *r != RegionCode::NATIONAL),
            )
            .collect();
        self.policy_of_lineage(&lineage).await
    }

    /// The policy made by the levels of `lineage` (national first).
    async fn policy_of_lineage(self, lineage: &[RegionCode]) -> Result<PolicyView, AppError> {
        let codes: Vec<String> = lineage.iter().map(ToString::to_string).collect();
        let codes: Vec<&str> = codes.iter().map(String::as_str).collect();
        let rows = self.store.read().policies().region_policies(&codes).await?;
        let mut national = None;
        let mut lower = Vec::new();
        for r in &rows {
            let o = serde_json::from_str::<PolicyOverride>(&r.policy).map_err(|e| {
                AppError::internal(format!("stored policy of {}: {e}", r.region_code))
            })?;
            if r.region_code == RegionCode::NATIONAL.as_str() {
                national = Some(o);
            } else {
                lower.push(o);
            }
        }
        Ok(PolicyView {
            region_code: lineage.last().map_or_else(String::new, ToString::to_string),
            policy: RegionPolicy::effective(national.as_ref(), &lower),
            set_by_levels: rows
                .iter()
                .map(|r| (r.region_code.clone(), r.version))
                .collect(),
        })
    }

    /// A supervisor sets its own region's override (a national supervisor the national one).
    pub async fn set_region_policy(
        self,
        actor: &Actor,
        change: &PolicyChange,
    ) -> Result<PolicyView, AppError> {
        let Actor::Regulator { region, .. } = actor else {
            return Err(self
                .deny(
                    actor,
                    "region_policy",
                    json!({}),
                    "仅限监管部门",
                    "regulators only",
                )
                .await);
        };
        self.require(actor, Permission::SuperviseInstitution)
            .await?;
        let reason = crate::error::stated_reason("reason", &change.reason)?;
        let o = &change.policy;
        let out_of_range = [
            (
                "max_lessons_per_purchase",
                o.max_lessons_per_purchase.map(i64::from),
                1,
                500,
            ),
            (
                "max_months_per_purchase",
                o.max_months_per_purchase.map(i64::from),
                1,
                24,
            ),
            (
                "max_fen_per_purchase",
                o.max_fen_per_purchase,
                1,
                100_000_000,
            ),
            (
                "online_max_minutes",
                o.online_max_minutes.map(i64::from),
                1,
                240,
            ),
            (
                "confirmation_working_days",
                o.confirmation_working_days.map(i64::from),
                1,
                60,
            ),
            (
                "refund_response_working_days",
                o.refund_response_working_days.map(i64::from),
                1,
                60,
            ),
            (
                "complaint_response_working_days",
                o.complaint_response_working_days.map(i64::from),
                1,
                60,
            ),
            (
                "complaint_ruling_working_days",
                o.complaint_ruling_working_days.map(i64::from),
                1,
                60,
            ),
            (
                "refund_before_start_working_days",
                o.refund_before_start_working_days.map(i64::from),
                1,
                60,
            ),
            (
                "refund_after_start_working_days",
                o.refund_after_start_working_days.map(i64::from),
                1,
                60,
            ),
            (
                "max_days_before_start",
                o.max_days_before_start.map(i64::from),
                0,
                365,
            ),
            (
                "risk_deposit_percent",
                o.risk_deposit_percent.map(i64::from),
                0,
                100,
            ),
        ]
        .into_iter()
        .find(|(_, v, lo, hi)| v.is_some_and(|v| v < *lo || v > *hi));
        if let Some((name, v, lo, hi)) = out_of_range {
            return Err(AppError::new(
                ErrorCode::InvalidParameter,
                format!(
                    "{}须在{lo}至{hi}之间，实为{}",
                    field_label(name),
                    v.unwrap_or_default()
                ),
                format!(
                    "{name} must be between {lo} and {hi}, not {}",
                    v.unwrap_or_default()
                ),
            )
            .on(name));
        }
        // A province, prefecture or county may make a national rule stricter, never looser than the level
        // above it has it.
        if *region != RegionCode::NATIONAL {
            let mut above: Vec<RegionCode> = std::iter::once(RegionCode::NATIONAL)
                .chain(
                    region
                        .lineage()
                        .into_iter()
                        .filter(|r| *r != RegionCode::NATIONAL),
                )
                .collect();
            above.retain(|r| r != region);
            let in_force = self.policy_of_lineage(&above).await?.policy;
            let loosened = o.loosenings(&in_force);
            if !loosened.is_empty() {
                let broken = loosened
                    .iter()
                    .map(|l| BrokenRule {
                        rule: l.rule.to_owned(),
                        zh: l.message_zh(),
                        en: l.message_en(),
                    })
                    .collect();
                return Err(AppError::rules_broken(ErrorCode::PolicyLoosened, broken));
            }
        }
        if let Some(vacations) = &o.vacations {
            let bad = vacations.len() > 20
                || vacations.iter().any(|v| {
                    v.to < v.from || v.name.trim().is_empty() || v.name.chars().count() > 20
                });
            if bad {
                return Err(AppError::new(
                    ErrorCode::InvalidParameter,
                    "假期：最多20个，每个须有名称（1至20个字符），且开始日期不晚于结束日期",
                    "vacations: at most 20, each named (1 to 20 characters) with from ≤ to",
                )
                .on("vacations"));
            }
        }
        let now = self.clock.now().millis();
        let mut tx = self.store.begin_write().await?;
        let version = tx
            .policies()
            .latest_region_policy(region.as_str())
            .await?
            .map_or(1, |r| r.version + 1);
        let row = RegionPolicyRow {
            region_code: region.to_string(),
            version,
            policy: serde_json::to_string(o).map_err(|e| AppError::internal(e.to_string()))?,
            reason: reason.to_owned(),
            set_by: actor.audit_name(),
            set_at: now,
        };
        tx.policies().insert_region_policy(&row).await?;
        tx.append_audit(vec![crate::evidence::record(
            &actor.audit_name(),
            now,
            Action::RegionPolicyChanged,
            format!("region:{region}"),
            json!({"version": version, "override": o, "reason": reason}),
        )])
        .await?;
        tx.commit().await?;
        self.region_policy(region.as_str()).await
    }
}
