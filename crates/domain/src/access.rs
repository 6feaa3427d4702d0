//! Who may do what, as pure rules: permissions per role, the separation of the three administrator roles
//! of graded protection (三权分立), and region scope as a GB/T 2260 prefix check. The application asks
//! these functions; it never decides access by itself.

use crate::{RegionCode, TeachingMode};

/// 监管人员角色 regulator roles.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RegulatorRole {
    /// 审核员: reviews filings and changes.
    Reviewer,
    /// 监管员: monitors, warns, spot-checks, penalises.
    Supervisor,
    /// 系统管理员: manages accounts, nothing else.
    SystemAdmin,
    /// 安全管理员: manages security policies and keys, nothing else.
    SecurityAdmin,
    /// 审计管理员: reads audit and access logs, nothing else.
    AuditAdmin,
}

/// 机构人员角色 institution staff roles.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum StaffRole {
    Admin,
    Operator,
    Teacher,
}

/// Everything an account can be allowed to do. New capabilities add a variant and a rule below; the
/// exhaustive matches make forgetting the rule a compile error.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Permission {
    /// Review an institution's filing or change (as its competent authority).
    ReviewFiling,
    /// Monitor, warn, spot-check, penalise, move between lists.
    SuperviseInstitution,
    /// See an institution's non-public data (filings, orders, fund movements).
    ViewInstitutionPrivate,
    /// Show a masked personal datum in plain text, with a stated reason that is logged.
    RevealPersonalData,
    /// Create, change, lock regulator or staff accounts.
    ManageAccounts,
    /// Change security policies (lockout, session timeouts) and rotate keys.
    ManageSecurityPolicy,
    /// Read the audit log and the personal-data access log.
    ReadAuditLog,
    /// Institution end: edit the institution's own filing.
    EditOwnFiling,
    /// Institution end: publish and change courses.
    ManageCourses,
    /// Institution end: take attendance (点名).
    TakeAttendance,
    /// Institution end: answer refund requests and complaints.
    HandleCustomerCases,
}

impl Permission {
    pub const ALL: [Permission; 11] = [
        Permission::ReviewFiling,
        Permission::SuperviseInstitution,
        Permission::ViewInstitutionPrivate,
        Permission::RevealPersonalData,
        Permission::ManageAccounts,
        Permission::ManageSecurityPolicy,
        Permission::ReadAuditLog,
        Permission::EditOwnFiling,
        Permission::ManageCourses,
        Permission::TakeAttendance,
        Permission::HandleCustomerCases,
    ];
}

impl RegulatorRole {
    pub const ALL: [RegulatorRole; 5] = [
        RegulatorRole::Reviewer,
        RegulatorRole::Supervisor,
        RegulatorRole::SystemAdmin,
        RegulatorRole::SecurityAdmin,
        RegulatorRole::AuditAdmin,
    ];

    pub fn allows(self, p: Permission) -> bool {
        use Permission as P;
        use RegulatorRole as R;
        match p {
            P::ReviewFiling => self == R::Reviewer,
            P::SuperviseInstitution => self == R::Supervisor,
            P::ViewInstitutionPrivate => matches!(self, R::Reviewer | R::Supervisor),
            P::RevealPersonalData => self == R::Supervisor,
            P::ManageAccounts => self == R::SystemAdmin,
            P::ManageSecurityPolicy => self == R::SecurityAdmin,
            P::ReadAuditLog => self == R::AuditAdmin,
            P::EditOwnFiling | P::ManageCourses | P::TakeAttendance | P::HandleCustomerCases => {
                false
            }
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            RegulatorRole::Reviewer => "reviewer",
            RegulatorRole::Supervisor => "supervisor",
            RegulatorRole::SystemAdmin => "system_admin",
            RegulatorRole::SecurityAdmin => "security_admin",
            RegulatorRole::AuditAdmin => "audit_admin",
        }
    }

    pub fn parse(s: &str) -> Option<RegulatorRole> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// The three administrator roles of graded protection.
    pub fn is_administrator(self) -> bool {
        matches!(
            self,
            RegulatorRole::SystemAdmin | RegulatorRole::SecurityAdmin | RegulatorRole::AuditAdmin
        )
    }
}

impl StaffRole {
    pub const ALL: [StaffRole; 3] = [StaffRole::Admin, StaffRole::Operator, StaffRole::Teacher];

    pub fn as_str(self) -> &'static str {
        match self {
            StaffRole::Admin => "admin",
            StaffRole::Operator => "operator",
            StaffRole::Teacher => "teacher",
        }
    }

    pub fn parse(s: &str) -> Option<StaffRole> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }

    pub fn allows(self, p: Permission) -> bool {
        use Permission as P;
        use StaffRole as S;
        match p {
            P::EditOwnFiling | P::ManageAccounts => self == S::Admin,
            P::ManageCourses | P::HandleCustomerCases => matches!(self, S::Admin | S::Operator),
            P::TakeAttendance => true,
            P::ReviewFiling
            | P::SuperviseInstitution
            | P::ViewInstitutionPrivate
            | P::RevealPersonalData
            | P::ManageSecurityPolicy
            | P::ReadAuditLog => false,
        }
    }
}

/// 系统接入 what an institution lets an integrator do on its behalf. Within its scopes the integrator acts as the
/// institution's operator, so the direct path's checks apply unchanged.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum IntegrationScope {
    /// Sync courses and schedules.
    Courses,
    /// Create orders for parents and read order, escrow and refund state.
    Orders,
    /// Report attendance.
    Attendance,
    /// Answer refund requests and complaints.
    Service,
}

impl IntegrationScope {
    pub const ALL: [IntegrationScope; 4] = [
        IntegrationScope::Courses,
        IntegrationScope::Orders,
        IntegrationScope::Attendance,
        IntegrationScope::Service,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            IntegrationScope::Courses => "courses",
            IntegrationScope::Orders => "orders",
            IntegrationScope::Attendance => "attendance",
            IntegrationScope::Service => "service",
        }
    }

    pub fn parse(s: &str) -> Option<IntegrationScope> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            IntegrationScope::Courses => "课程与课表同步",
            IntegrationScope::Orders => "代家长下单、查询订单与资金",
            IntegrationScope::Attendance => "上报考勤",
            IntegrationScope::Service => "处理退费与投诉",
        }
    }
}

/// The Chinese name of an account kind (`parent`, `staff`, `regulator`, `bank_operator`, `school`).
pub fn kind_label(kind: &str) -> &'static str {
    match kind {
        "parent" => "家长",
        "staff" => "机构人员",
        "regulator" => "监管人员",
        "bank_operator" => "银行操作员",
        "school" => "学校",
        _ => "其他",
    }
}

/// The Chinese name of a regulator or staff role, as stored (`reviewer`, `admin`, …).
pub fn role_label(role: &str) -> &'static str {
    match role {
        "reviewer" => "审核员",
        "supervisor" => "监管员",
        "system_admin" => "系统管理员",
        "security_admin" => "安全管理员",
        "audit_admin" => "审计管理员",
        "admin" => "机构管理员",
        "operator" => "运营人员",
        "teacher" => "教师",
        _ => "其他",
    }
}

/// 主管部门: the region whose regulator is competent for an institution — the province for online
/// institutions, the county of the premises for offline ones.
pub fn competent_region(mode: TeachingMode, premises: &RegionCode) -> RegionCode {
    match mode {
        TeachingMode::Online => premises.lineage().first().copied().unwrap_or(*premises),
        TeachingMode::Offline => *premises,
    }
}

/// A regulator sees everything in its own region subtree, and nothing outside it.
pub fn regulator_sees(regulator_region: &RegionCode, target: &RegionCode) -> bool {
    regulator_region.contains(target)
}

/// A reviewer reviews only what it is the competent authority for.
pub fn regulator_reviews(
    regulator_region: &RegionCode,
    mode: TeachingMode,
    premises: &RegionCode,
) -> bool {
    *regulator_region == competent_region(mode, premises)
}

/// A regulator administrator manages accounts only inside its own subtree (which, being a prefix match,
/// never reaches a level above its own).
pub fn manages_account(admin_region: &RegionCode, account_region: &RegionCode) -> bool {
    admin_region.contains(account_region)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rc(s: &str) -> RegionCode {
        RegionCode::parse(s).unwrap()
    }

    #[test]
    fn every_role_has_a_chinese_name() {
        for r in RegulatorRole::ALL.map(RegulatorRole::as_str) {
            assert_ne!(role_label(r), "其他", "{r}");
        }
        for r in StaffRole::ALL.map(StaffRole::as_str) {
            assert_ne!(role_label(r), "其他", "{r}");
        }
    }

    #[test]
    fn the_three_administrators_cannot_do_each_others_jobs() {
        let admin_permissions = [
            Permission::ManageAccounts,
            Permission::ManageSecurityPolicy,
            Permission::ReadAuditLog,
        ];
        for role in RegulatorRole::ALL
            .into_iter()
            .filter(|r| r.is_administrator())
        {
            let granted: Vec<Permission> = Permission::ALL
                .into_iter()
                .filter(|p| role.allows(*p))
                .collect();
            assert_eq!(
                granted.len(),
                1,
                "{role:?} has exactly one duty, got {granted:?}"
            );
            assert!(admin_permissions.contains(&granted[0]));
        }
        // Each administrative duty belongs to exactly one role, and to no business role.
        for p in admin_permissions {
            let holders: Vec<RegulatorRole> = RegulatorRole::ALL
                .into_iter()
                .filter(|r| r.allows(p))
                .collect();
            assert_eq!(holders.len(), 1, "{p:?} is held by {holders:?}");
            assert!(holders[0].is_administrator());
        }
    }

    #[test]
    fn role_names_round_trip() {
        for r in RegulatorRole::ALL {
            assert_eq!(RegulatorRole::parse(r.as_str()), Some(r));
        }
        for r in StaffRole::ALL {
            assert_eq!(StaffRole::parse(r.as_str()), Some(r));
        }
        assert_eq!(RegulatorRole::parse("root"), None);
    }

    #[test]
    fn regulators_and_staff_have_disjoint_worlds() {
        for p in Permission::ALL {
            let regulator = RegulatorRole::ALL.iter().any(|r| r.allows(p));
            let staff = StaffRole::ALL.iter().any(|s| s.allows(p));
            if p != Permission::ManageAccounts {
                assert!(
                    !(regulator && staff),
                    "{p:?} is granted to both regulators and staff"
                );
            }
        }
        assert!(StaffRole::Teacher.allows(Permission::TakeAttendance));
        assert!(!StaffRole::Teacher.allows(Permission::ManageCourses));
        assert!(!StaffRole::Operator.allows(Permission::EditOwnFiling));
    }

    #[test]
    fn haidian_sees_haidian_beijing_sees_both_national_sees_all() {
        let (haidian, chaoyang) = (rc("110108"), rc("110105"));
        assert!(regulator_sees(&rc("110108"), &haidian));
        assert!(!regulator_sees(&rc("110108"), &chaoyang));
        assert!(
            regulator_sees(&rc("110000"), &haidian) && regulator_sees(&rc("110000"), &chaoyang)
        );
        assert!(!regulator_sees(&rc("110000"), &rc("310104")));
        assert!(regulator_sees(&RegionCode::NATIONAL, &rc("650102")));
    }

    #[test]
    fn online_institutions_answer_to_the_province_offline_ones_to_the_county() {
        assert_eq!(
            competent_region(TeachingMode::Online, &rc("110108")),
            rc("110000")
        );
        assert_eq!(
            competent_region(TeachingMode::Offline, &rc("110108")),
            rc("110108")
        );
        assert!(regulator_reviews(
            &rc("110108"),
            TeachingMode::Offline,
            &rc("110108")
        ));
        assert!(
            !regulator_reviews(&rc("110000"), TeachingMode::Offline, &rc("110108")),
            "the province does not review offline filings"
        );
        assert!(regulator_reviews(
            &rc("110000"),
            TeachingMode::Online,
            &rc("110108")
        ));
        assert!(!regulator_reviews(
            &rc("110108"),
            TeachingMode::Online,
            &rc("110108")
        ));
    }

    #[test]
    fn administrators_manage_accounts_only_below_themselves() {
        assert!(manages_account(&rc("110000"), &rc("110108")));
        assert!(manages_account(&rc("110108"), &rc("110108")));
        assert!(
            !manages_account(&rc("110108"), &rc("110105")),
            "not a sibling county"
        );
        assert!(
            !manages_account(&rc("110108"), &rc("110000")),
            "not the level above"
        );
        assert!(manages_account(&RegionCode::NATIONAL, &rc("440305")));
    }
}
