//! Who is acting. Resolved once per request by the web layer (from a bearer token or a session) and
//! passed to every use case, which asks `domain::access` whether the actor may do what it asks.

use domain::RegionCode;
use domain::access::{Permission, RegulatorRole, StaffRole};

/// The party behind a command or query.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Actor {
    /// Anyone on the public website or API, not signed in.
    Public,
    /// The platform itself: seeding, workers, operator commands. `name` says which part.
    System { name: &'static str },
    /// 家长
    Parent { account_id: String },
    /// 机构人员
    Staff {
        account_id: String,
        institution_id: String,
        role: StaffRole,
    },
    /// 监管人员: a region (its level follows from the code) and one role.
    Regulator {
        account_id: String,
        region: RegionCode,
        role: RegulatorRole,
    },
    /// 银行操作员
    BankOperator { account_id: String, bank_id: String },
    /// 学校: an account of one school of a region, choosing after-school providers.
    School {
        account_id: String,
        school_id: String,
        region: RegionCode,
    },
    /// A bank's or integrator's system, authenticated by a signed request.
    ApiClient {
        key_id: String,
        owner_kind: String,
        owner_id: String,
    },
}

impl Actor {
    /// How the actor appears in the audit log, e.g. `system:demo`, `regulator:<account id>`.
    pub fn audit_name(&self) -> String {
        match self {
            Actor::Public => "public".to_owned(),
            Actor::System { name } => format!("system:{name}"),
            Actor::Parent { account_id } => format!("parent:{account_id}"),
            Actor::Staff { account_id, .. } => format!("staff:{account_id}"),
            Actor::Regulator { account_id, .. } => format!("regulator:{account_id}"),
            Actor::BankOperator { account_id, .. } => format!("bank_operator:{account_id}"),
            Actor::School { account_id, .. } => format!("school:{account_id}"),
            Actor::ApiClient { key_id, .. } => format!("api_client:{key_id}"),
        }
    }

    pub fn account_id(&self) -> Option<&str> {
        match self {
            Actor::Public | Actor::System { .. } | Actor::ApiClient { .. } => None,
            Actor::Parent { account_id }
            | Actor::Staff { account_id, .. }
            | Actor::Regulator { account_id, .. }
            | Actor::BankOperator { account_id, .. }
            | Actor::School { account_id, .. } => Some(account_id),
        }
    }

    /// Whether the actor's role carries `permission` (scope is checked separately).
    pub fn has(&self, permission: Permission) -> bool {
        match self {
            Actor::Regulator { role, .. } => role.allows(permission),
            Actor::Staff { role, .. } => role.allows(permission),
            Actor::System { .. } => true,
            Actor::Public
            | Actor::Parent { .. }
            | Actor::BankOperator { .. }
            | Actor::School { .. }
            | Actor::ApiClient { .. } => false,
        }
    }
}
