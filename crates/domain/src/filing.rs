//! 信息报备 what an institution files (《办法》, DOMAIN.md §4), as structured fields in six sections, and
//! the rules a filing must meet: dates are real and licences not expired, subject teachers hold a teacher
//! qualification, and a complete filing leaves nothing out. A draft may be incomplete; a submission may not.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// The filing. Every field defaults to empty so a draft can be saved part by part.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct Filing {
    /// 机构基本信息: a change of name or legal representative is reviewed like the rest.
    pub basic: BasicSection,
    /// 1. 办学许可证与法人资质
    pub licence: LicenceSection,
    /// 2. 场地：产权或租赁、卫生、消防
    pub premises: PremisesSection,
    /// 3. 党建、培训材料、从业人员
    pub organisation: OrganisationSection,
    /// 4. 培训课程
    pub courses: CoursesSection,
    /// 5. 资金监管：监管账户、支付渠道（银行侧随银行接入完成）
    pub funds: FundsSection,
    /// 6. 其他
    pub other: OtherSection,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct BasicSection {
    /// 机构名称, as the public registry shows it.
    pub name: String,
    /// 法定代表人
    pub legal_representative: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct LicenceSection {
    /// 办学许可证号
    pub school_licence_no: String,
    /// `YYYY-MM-DD`
    pub school_licence_expires: String,
    /// 法人登记证书号（民非登记证书或营业执照）
    pub legal_person_cert_no: String,
    pub legal_person_cert_expires: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct PremisesSection {
    pub address: String,
    /// `owned` or `leased`.
    pub tenure: String,
    /// For leased premises.
    pub lease_expires: String,
    /// 卫生许可或检查合格证明编号
    pub health_cert_no: String,
    pub health_cert_expires: String,
    /// 消防安全检查合格证明编号
    pub fire_cert_no: String,
    pub fire_cert_expires: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct OrganisationSection {
    /// 党建工作情况
    pub party_building: String,
    /// 培训材料（教材、讲义）说明
    pub training_materials: String,
    pub staff: Vec<StaffEntry>,
}

/// 从业人员
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct StaffEntry {
    pub name: String,
    /// `teaching`, `research` or `other`.
    pub role: String,
    /// Teaches a subject (学科类): needs a teacher qualification certificate.
    pub subject_teacher: bool,
    /// 教师资格证编号
    pub teacher_cert_no: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct CoursesSection {
    /// What the institution teaches (the course catalogue itself is published course by course).
    pub summary: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct FundsSection {
    pub bank_name: String,
    pub payment_channels: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct OtherSection {
    pub notes: String,
}

/// A field path a reviewer can point at, with its Chinese name.
pub const FIELDS: &[(&str, &str)] = &[
    ("basic.name", "机构名称"),
    ("basic.legal_representative", "法定代表人"),
    ("licence.school_licence_no", "办学许可证号"),
    ("licence.school_licence_expires", "办学许可证有效期"),
    ("licence.legal_person_cert_no", "法人登记证书号"),
    ("licence.legal_person_cert_expires", "法人登记证书有效期"),
    ("licence.document", "办学许可证扫描件"),
    ("premises.address", "场地地址"),
    ("premises.tenure", "场地产权或租赁"),
    ("premises.lease_expires", "租赁到期日"),
    ("premises.health_cert_no", "卫生证明"),
    ("premises.health_cert_expires", "卫生证明有效期"),
    ("premises.fire_cert_no", "消防证明"),
    ("premises.fire_cert_expires", "消防证明有效期"),
    ("organisation.party_building", "党建情况"),
    ("organisation.training_materials", "培训材料"),
    ("organisation.staff", "从业人员"),
    ("courses.summary", "培训课程"),
    ("funds.bank_name", "资金监管银行"),
    ("other.notes", "其他信息"),
];

/// The Chinese name of a field path, if it is one.
pub fn field_label(path: &str) -> Option<&'static str> {
    FIELDS.iter().find(|(p, _)| *p == path).map(|(_, l)| *l)
}

/// Why a filing cannot be saved.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FilingError {
    #[error("{field}: not a date YYYY-MM-DD")]
    BadDate { field: &'static str },
    #[error("{field}: expired on {date}")]
    Expired {
        field: &'static str,
        date: NaiveDate,
    },
    #[error("{field}: {max} characters at most")]
    TooLong { field: &'static str, max: usize },
    #[error("{field}: {allowed}")]
    NotOneOf {
        field: &'static str,
        allowed: &'static str,
    },
    #[error("organisation.staff: {0}")]
    Staff(String),
}

impl FilingError {
    /// The field at fault, as the filing form names it.
    pub fn field(&self) -> &str {
        match self {
            FilingError::BadDate { field }
            | FilingError::Expired { field, .. }
            | FilingError::TooLong { field, .. }
            | FilingError::NotOneOf { field, .. } => field,
            FilingError::Staff(_) => "organisation.staff",
        }
    }

    pub fn message_zh(&self) -> String {
        match self {
            FilingError::BadDate { field } => format!("{field}：日期格式应为 YYYY-MM-DD"),
            FilingError::Expired { field, date } => format!("{field}：已于{date}过期"),
            FilingError::TooLong { field, max } => format!("{field}：不超过{max}个字符"),
            FilingError::NotOneOf { field, allowed } => format!("{field}：须为 {allowed} 之一"),
            FilingError::Staff(why) => format!("从业人员：{why}"),
        }
    }
}

const MAX_TEXT: usize = 2_000;
const MAX_SHORT: usize = 100;
const MAX_STAFF: usize = 500;

fn date(
    field: &'static str,
    value: &str,
    today: NaiveDate,
) -> Result<Option<NaiveDate>, FilingError> {
    let v = value.trim();
    if v.is_empty() {
        return Ok(None);
    }
    let d = NaiveDate::parse_from_str(v, "%Y-%m-%d").map_err(|_| FilingError::BadDate { field })?;
    if d <= today {
        return Err(FilingError::Expired { field, date: d });
    }
    Ok(Some(d))
}

fn length(field: &'static str, value: &str, max: usize) -> Result<(), FilingError> {
    if value.chars().count() > max {
        return Err(FilingError::TooLong { field, max });
    }
    Ok(())
}

impl Filing {
    /// The rules any saved draft meets: well-formed, not expired, not oversized.
    pub fn check(&self, today: NaiveDate) -> Result<(), FilingError> {
        let l = &self.licence;
        let p = &self.premises;
        let o = &self.organisation;
        for (field, value) in [
            ("licence.school_licence_expires", &l.school_licence_expires),
            (
                "licence.legal_person_cert_expires",
                &l.legal_person_cert_expires,
            ),
            ("premises.lease_expires", &p.lease_expires),
            ("premises.health_cert_expires", &p.health_cert_expires),
            ("premises.fire_cert_expires", &p.fire_cert_expires),
        ] {
            date(field, value, today)?;
        }
        for (field, value) in [
            ("basic.name", &self.basic.name),
            (
                "basic.legal_representative",
                &self.basic.legal_representative,
            ),
            ("licence.school_licence_no", &l.school_licence_no),
            ("licence.legal_person_cert_no", &l.legal_person_cert_no),
            ("premises.health_cert_no", &p.health_cert_no),
            ("premises.fire_cert_no", &p.fire_cert_no),
            ("funds.bank_name", &self.funds.bank_name),
        ] {
            length(field, value, MAX_SHORT)?;
        }
        for (field, value) in [
            ("premises.address", &p.address),
            ("organisation.party_building", &o.party_building),
            ("organisation.training_materials", &o.training_materials),
            ("courses.summary", &self.courses.summary),
            ("funds.payment_channels", &self.funds.payment_channels),
            ("other.notes", &self.other.notes),
        ] {
            length(field, value, MAX_TEXT)?;
        }
        if !matches!(p.tenure.as_str(), "" | "owned" | "leased") {
            return Err(FilingError::NotOneOf {
                field: "premises.tenure",
                allowed: "owned or leased",
            });
        }
        if o.staff.len() > MAX_STAFF {
            return Err(FilingError::Staff(format!("{MAX_STAFF} people at most")));
        }
        for (i, s) in o.staff.iter().enumerate() {
            if s.name.trim().is_empty() || s.name.chars().count() > 50 {
                return Err(FilingError::Staff(format!(
                    "person {}: a name of 1 to 50 characters",
                    i + 1
                )));
            }
            if !matches!(s.role.as_str(), "teaching" | "research" | "other") {
                return Err(FilingError::Staff(format!(
                    "person {}: role teaching, research or other",
                    i + 1
                )));
            }
            length("organisation.staff", &s.teacher_cert_no, 40)?;
        }
        Ok(())
    }

    /// What a submission still lacks, as field paths (empty: complete). `documents` are the kinds of
    /// document on file.
    pub fn missing(&self, documents: &[&str]) -> Vec<&'static str> {
        let l = &self.licence;
        let p = &self.premises;
        let o = &self.organisation;
        let blank = |v: &str| v.trim().is_empty();
        let mut missing = Vec::new();
        for (field, value) in [
            ("basic.name", &self.basic.name),
            (
                "basic.legal_representative",
                &self.basic.legal_representative,
            ),
            ("licence.school_licence_no", &l.school_licence_no),
            ("licence.school_licence_expires", &l.school_licence_expires),
            ("licence.legal_person_cert_no", &l.legal_person_cert_no),
            (
                "licence.legal_person_cert_expires",
                &l.legal_person_cert_expires,
            ),
            ("premises.address", &p.address),
            ("premises.tenure", &p.tenure),
            ("premises.health_cert_no", &p.health_cert_no),
            ("premises.health_cert_expires", &p.health_cert_expires),
            ("premises.fire_cert_no", &p.fire_cert_no),
            ("premises.fire_cert_expires", &p.fire_cert_expires),
            ("organisation.training_materials", &o.training_materials),
            ("courses.summary", &self.courses.summary),
        ] {
            if blank(value) {
                missing.push(field);
            }
        }
        if p.tenure == "leased" && blank(&p.lease_expires) {
            missing.push("premises.lease_expires");
        }
        // Every subject teacher needs a teacher qualification on file (教师资格证).
        if o.staff.is_empty()
            || o.staff
                .iter()
                .any(|s| s.subject_teacher && blank(&s.teacher_cert_no))
        {
            missing.push("organisation.staff");
        }
        if !documents.contains(&"licence") {
            missing.push("licence.document");
        }
        missing
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 26).unwrap()
    }

    fn complete() -> Filing {
        Filing {
            basic: BasicSection {
                name: "海淀启明围棋培训中心".into(),
                legal_representative: "张明".into(),
            },
            licence: LicenceSection {
                school_licence_no: "教民111010870001号".into(),
                school_licence_expires: "2029-12-31".into(),
                legal_person_cert_no: "52110108MJ0000001X".into(),
                legal_person_cert_expires: "2030-06-30".into(),
            },
            premises: PremisesSection {
                address: "北京市海淀区学院路1号".into(),
                tenure: "leased".into(),
                lease_expires: "2028-08-31".into(),
                health_cert_no: "海卫2026-001".into(),
                health_cert_expires: "2027-12-31".into(),
                fire_cert_no: "海消2026-002".into(),
                fire_cert_expires: "2027-12-31".into(),
            },
            organisation: OrganisationSection {
                party_building: String::new(),
                training_materials: "自编讲义，已备案".into(),
                staff: vec![StaffEntry {
                    name: "王老师".into(),
                    role: "teaching".into(),
                    subject_teacher: true,
                    teacher_cert_no: "20201100000001".into(),
                }],
            },
            courses: CoursesSection {
                summary: "围棋启蒙与进阶".into(),
            },
            ..Filing::default()
        }
    }

    #[test]
    fn a_complete_filing_lacks_nothing_and_every_gap_is_named() {
        let f = complete();
        assert_eq!(f.check(today()), Ok(()));
        assert!(f.missing(&["licence"]).is_empty());
        assert_eq!(f.missing(&[]), vec!["licence.document"]);
        let mut no_cert = f.clone();
        no_cert.organisation.staff[0].teacher_cert_no.clear();
        assert_eq!(no_cert.missing(&["licence"]), vec!["organisation.staff"]);
        let empty = Filing::default();
        let gaps = empty.missing(&[]);
        assert!(gaps.len() > 10);
        assert!(
            gaps.iter().all(|g| field_label(g).is_some()),
            "every gap has a name: {gaps:?}"
        );
    }

    #[test]
    fn an_expired_licence_or_a_bad_date_is_refused_by_field() {
        let mut f = complete();
        f.licence.school_licence_expires = "2026-11-26".into();
        assert!(matches!(
            f.check(today()),
            Err(FilingError::Expired {
                field: "licence.school_licence_expires",
                ..
            })
        ));
        f.licence.school_licence_expires = "2026-13-01".into();
        assert_eq!(
            f.check(today()),
            Err(FilingError::BadDate {
                field: "licence.school_licence_expires"
            })
        );
        let mut g = complete();
        g.premises.tenure = "borrowed".into();
        assert!(g.check(today()).is_err());
        let mut h = complete();
        h.other.notes = "长".repeat(2_001);
        assert_eq!(
            h.check(today()),
            Err(FilingError::TooLong {
                field: "other.notes",
                max: 2_000
            })
        );
    }
}

crate::state::states! {
    /// 报备状态: each version of a filing is a draft until submitted, then the competent regulator approves or
    /// rejects it; a change after a decision starts a new version.
    pub enum FilingStatus("filing") {
        #[strum(message = "草稿")]
        Draft,
        #[strum(message = "审核中")]
        Submitted,
        #[strum(message = "已通过")]
        Approved,
        #[strum(message = "已退回")]
        Rejected,
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, strum::IntoStaticStr)]
#[strum(serialize_all = "snake_case")]
pub enum FilingEvent {
    Submit,
    Approve,
    Reject,
}

impl crate::state::Machine for FilingStatus {
    type Event = FilingEvent;
    const KIND: &'static str = "filing";

    fn next(self, event: FilingEvent) -> Option<Self> {
        match (self, event) {
            (Self::Draft, FilingEvent::Submit) => Some(Self::Submitted),
            (Self::Submitted, FilingEvent::Approve) => Some(Self::Approved),
            (Self::Submitted, FilingEvent::Reject) => Some(Self::Rejected),
            _ => None,
        }
    }
}

#[cfg(test)]
mod state_tests {
    use super::*;
    use crate::state::{Machine, testing};

    #[test]
    fn only_a_submitted_version_is_decided() {
        use FilingStatus::*;
        assert_eq!(Draft.apply(FilingEvent::Submit), Ok(Submitted));
        assert_eq!(Submitted.apply(FilingEvent::Reject), Ok(Rejected));
        assert!(Draft.apply(FilingEvent::Approve).is_err());
        assert!(Approved.apply(FilingEvent::Submit).is_err());
        testing::round_trips::<FilingStatus>(
            FilingStatus::label_zh,
            &[
                FilingEvent::Submit,
                FilingEvent::Approve,
                FilingEvent::Reject,
            ],
        );
    }
}
