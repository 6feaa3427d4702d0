//! 从业人员 staff checks: hiring goes through the institution's register, which refuses anyone on the
//! practitioner black list (从业人员黑名单) and serving school teachers, requires a teacher qualification for
//! subject teachers, and files the pre-hire record check (性侵违法犯罪信息查询) as a document that a regulator
//! over the institution's region confirms. Names and ID-card numbers are sealed; the black list matches on a
//! keyed blind index of the ID-card number.

use crate::registry::Registry;
use crate::vault::field::{PRACTITIONER_ID_CARD, PRACTITIONER_NAME, STAFF_ID_CARD, STAFF_NAME};
use crate::{Actor, AppError, ErrorCode};
use domain::Action;
use domain::access::Permission;
use domain::person::{IdCardNumber, PersonError, PersonName};
use domain::{RegionCode, Timestamp};
use serde::{Deserialize, Serialize};
use serde_json::json;
use store::{BlacklistedPractitionerRow, StaffMemberRow};

/// `POST /api/v1/regulator/practitioner-blacklist`.
#[derive(Clone, Deserialize, utoipa::ToSchema)]
pub struct BlacklistEntry {
    pub name: String,
    pub id_card: String,
    /// Which red line was crossed, and the decision.
    pub reason: String,
}

/// `POST /api/v1/institution/staff-members`: hiring one person.
#[derive(Clone, Deserialize, utoipa::ToSchema)]
pub struct Hire {
    pub name: String,
    pub id_card: String,
    /// `teaching`, `research` or `other`.
    pub role: String,
    #[serde(default)]
    pub subject_teacher: bool,
    /// 教师资格证编号 (required for subject teachers).
    #[serde(default)]
    pub teacher_cert_no: String,
    /// Whether the person is a serving primary or secondary school (or kindergarten) teacher: they may not
    /// be employed.
    #[serde(default)]
    pub serving_school_teacher: bool,
    /// The filed document (kind `record_check`) of the pre-hire record check.
    pub record_check_document: String,
}

impl std::fmt::Debug for Hire {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hire")
            .field("role", &self.role)
            .finish_non_exhaustive()
    }
}

/// A staff member as the register shows it: masked.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct StaffMemberView {
    pub id: String,
    pub name_masked: String,
    pub id_card_masked: String,
    pub role: String,
    pub subject_teacher: bool,
    pub teacher_cert_no: Option<String>,
    /// Whether a regulator has confirmed the pre-hire record check.
    pub record_check_confirmed: bool,
    /// China dates: on the register since, and (离职) left on.
    pub hired_on: String,
    pub left_on: Option<String>,
}

fn invalid_name(e: PersonError) -> AppError {
    AppError::new(ErrorCode::InvalidName, e.message_zh(), e.to_string())
}

fn invalid_id_card(e: PersonError) -> AppError {
    AppError::new(ErrorCode::InvalidIdCard, e.message_zh(), e.to_string())
}

impl<'a> Registry<'a> {
    pub(crate) fn staff_view(self, r: &StaffMemberRow) -> Result<StaffMemberView, AppError> {
        let name = PersonName::parse(&self.keys.open(STAFF_NAME, &r.name_sealed)?)
            .map_err(invalid_name)?;
        let id_card = IdCardNumber::parse(&self.keys.open(STAFF_ID_CARD, &r.id_card_sealed)?)
            .map_err(invalid_id_card)?;
        Ok(StaffMemberView {
            id: r.id.clone(),
            name_masked: name.masked(),
            id_card_masked: id_card.masked(),
            role: r.role.clone(),
            subject_teacher: r.subject_teacher != 0,
            teacher_cert_no: r.teacher_cert_no.clone(),
            record_check_confirmed: r.record_check_confirmed_at.is_some(),
            hired_on: Timestamp::from_millis(r.hired_at).china_date().to_string(),
            left_on: r
                .left_at
                .map(|at| Timestamp::from_millis(at).china_date().to_string()),
        })
    }

    /// 离职 the admin records that a staff member left; the register keeps the person (staff churn, the
    /// regulators' staff materials) and marks the date.
    pub async fn staff_left(
        self,
        actor: &Actor,
        staff_id: &str,
    ) -> Result<StaffMemberView, AppError> {
        let institution_id = self.admins_institution(actor).await?;
        let now = self.clock.now().millis();
        let mut tx = self.store.begin_write().await?;
        if tx
            .staff()
            .mark_staff_left(staff_id.trim(), &institution_id, now)
            .await?
            == 0
        {
            return Err(AppError::not_found(
                "本机构在职人员中没有此人",
                "no staff member on your register with this id who has not left",
            ));
        }
        tx.append_audit(vec![crate::evidence::record(
            &actor.audit_name(),
            now,
            Action::StaffLeft,
            format!("institution:{institution_id}"),
            json!({"staff_member": staff_id.trim()}),
        )])
        .await?;
        tx.commit().await?;
        let row = self
            .store
            .read()
            .staff()
            .staff_member(staff_id.trim())
            .await?
            .ok_or_else(|| AppError::internal("staff member vanished"))?;
        self.staff_view(&row)
    }

    /// A supervisor lists a person on the practitioner black list (nationwide effect).
    pub async fn blacklist_practitioner(
        self,
        actor: &Actor,
        entry: &BlacklistEntry,
    ) -> Result<(), AppError> {
        let Actor::Regulator { region, .. } = actor else {
            return Err(self
                .deny(
                    actor,
                    "practitioner_blacklist",
                    json!({}),
                    "仅限监管部门",
                    "regulators only",
                )
                .await);
        };
        self.require(actor, Permission::SuperviseInstitution)
            .await?;
        let name = PersonName::parse(&entry.name).map_err(invalid_name)?;
        let id_card = IdCardNumber::parse(&entry.id_card).map_err(invalid_id_card)?;
        let reason = crate::error::stated_reason("reason", &entry.reason)?;
        let now = self.clock.now().millis();
        let row = BlacklistedPractitionerRow {
            id: uuid::Uuid::now_v7().to_string(),
            id_card_index: self
                .keys
                .blind_index(PRACTITIONER_ID_CARD, id_card.expose()),
            name_sealed: self.keys.seal(PRACTITIONER_NAME, name.expose()),
            reason: reason.to_owned(),
            region_code: region.to_string(),
            listed_by: actor.audit_name(),
            listed_at: now,
        };
        let mut tx = self.store.begin_write().await?;
        tx.staff().insert_blacklisted(&row).await?;
        tx.append_audit(vec![crate::evidence::record(
            &actor.audit_name(),
            now,
            Action::PractitionerBlacklisted,
            format!("practitioner:{}", row.id),
            json!({"reason": reason, "region_code": row.region_code}),
        )])
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Hires a person into the admin's institution after the checks; a refusal for the black list is
    /// itself evidence.
    pub async fn hire_staff(self, actor: &Actor, hire: &Hire) -> Result<StaffMemberView, AppError> {
        let institution_id = self.admins_institution(actor).await?;
        let name = PersonName::parse(&hire.name).map_err(invalid_name)?;
        let id_card = IdCardNumber::parse(&hire.id_card).map_err(invalid_id_card)?;
        if !matches!(hire.role.as_str(), "teaching" | "research" | "other") {
            return Err(AppError::new(
                ErrorCode::InvalidParameter,
                "岗位：须为教学、教研或其他",
                "role: teaching, research or other",
            )
            .on("role"));
        }
        let cert = hire.teacher_cert_no.trim();
        if cert.chars().count() > 40 {
            return Err(AppError::new(
                ErrorCode::FieldTooLong,
                "教师资格证编号：不超过40个字符",
                "teacher_cert_no: 40 characters at most",
            )
            .on("teacher_cert_no"));
        }
        if hire.subject_teacher && cert.is_empty() {
            return Err(AppError::new(
                ErrorCode::TeacherQualificationRequired,
                "学科类教师须填写教师资格证编号",
                "a subject teacher needs a teacher qualification certificate number",
            ));
        }
        if hire.serving_school_teacher {
            return Err(AppError::new(
                ErrorCode::ServingTeacherNotAllowed,
                "不得聘用在职中小学、幼儿园教师",
                "serving school and kindergarten teachers may not be employed",
            ));
        }
        let document = self
            .store
            .read()
            .filings()
            .document(hire.record_check_document.trim())
            .await?
            .filter(|d| d.institution_id == institution_id && d.kind == "record_check")
            .ok_or_else(|| {
                AppError::new(
                    ErrorCode::RecordCheckRequired,
                    "请上传入职查询结果（材料类别选入职查询），并填写其材料编号",
                    "upload the pre-hire record check (kind record_check) and give its document id",
                )
            })?;
        let index = self
            .keys
            .blind_index(PRACTITIONER_ID_CARD, id_card.expose());
        let now = self.clock.now().millis();
        let mut tx = self.store.begin_write().await?;
        if tx.staff().blacklisted(&index).await?.is_some() {
            tx.append_audit(vec![crate::evidence::record(
                &actor.audit_name(),
                now,
                Action::StaffHireRefused,
                format!("institution:{institution_id}"),
                json!({"reason": "practitioner_blacklisted"}),
            )])
            .await?;
            tx.commit().await?;
            return Err(AppError::new(
                ErrorCode::PractitionerBlacklisted,
                "此人在从业人员黑名单中",
                "this person is on the practitioner black list",
            ));
        }
        let row = StaffMemberRow {
            id: uuid::Uuid::now_v7().to_string(),
            institution_id: institution_id.clone(),
            name_sealed: self.keys.seal(STAFF_NAME, name.expose()),
            id_card_sealed: self.keys.seal(STAFF_ID_CARD, id_card.expose()),
            id_card_index: index,
            role: hire.role.clone(),
            subject_teacher: i64::from(hire.subject_teacher),
            teacher_cert_no: Some(cert.to_owned()).filter(|c| !c.is_empty()),
            record_check_document: document.id,
            record_check_confirmed_by: None,
            record_check_confirmed_at: None,
            hired_at: now,
            left_at: None,
        };
        tx.staff().insert_staff_member(&row).await?;
        tx.append_audit(vec![crate::evidence::record(
            &actor.audit_name(),
            now,
            Action::StaffHired,
            format!("institution:{institution_id}"),
            json!({"staff_member": row.id, "role": row.role, "subject_teacher": hire.subject_teacher}),
        )])
        .await?;
        tx.commit().await?;
        self.staff_view(&row)
    }

    /// The admin's staff register, masked.
    pub async fn staff_register(self, actor: &Actor) -> Result<Vec<StaffMemberView>, AppError> {
        let institution_id = self.admins_institution(actor).await?;
        self.store
            .read()
            .staff()
            .staff_of(&institution_id)
            .await?
            .iter()
            .map(|r| self.staff_view(r))
            .collect()
    }

    /// An institution's staff register for the regulators over its region.
    pub async fn staff_for_regulator(
        self,
        actor: &Actor,
        institution_id: &str,
    ) -> Result<Vec<StaffMemberView>, AppError> {
        let id = self
            .supervision()
            .institution_for_regulator(actor, institution_id, Permission::ViewInstitutionPrivate)
            .await?
            .id;
        self.store
            .read()
            .staff()
            .staff_of(&id)
            .await?
            .iter()
            .map(|r| self.staff_view(r))
            .collect()
    }

    /// A regulator over the institution's region confirms the pre-hire record check.
    pub async fn confirm_record_check(
        self,
        actor: &Actor,
        staff_id: &str,
    ) -> Result<StaffMemberView, AppError> {
        let row = self
            .store
            .read()
            .staff()
            .staff_member(staff_id.trim())
            .await?
            .ok_or_else(|| AppError::not_found("没有这名工作人员", "no such staff member"))?;
        let institution = self
            .store
            .read()
            .registry()
            .institution(&row.institution_id)
            .await?
            .ok_or_else(|| AppError::internal("staff of a missing institution"))?;
        self.require_regulator_over(
            actor,
            Permission::ViewInstitutionPrivate,
            &RegionCode::parse(&institution.region_code)?,
            &format!("institution:{}", institution.id),
        )
        .await?;
        let now = self.clock.now().millis();
        let mut tx = self.store.begin_write().await?;
        if tx
            .staff()
            .confirm_record_check(&row.id, &actor.audit_name(), now)
            .await?
            == 0
        {
            return Err(AppError::new(
                ErrorCode::Conflict,
                "已经确认过",
                "already confirmed",
            ));
        }
        tx.append_audit(vec![crate::evidence::record(
            &actor.audit_name(),
            now,
            Action::StaffRecordCheckConfirmed,
            format!("institution:{}", institution.id),
            json!({"staff_member": row.id, "document": row.record_check_document}),
        )])
        .await?;
        tx.commit().await?;
        let confirmed = self
            .store
            .read()
            .staff()
            .staff_member(&row.id)
            .await?
            .ok_or_else(|| AppError::internal("staff member vanished"))?;
        self.staff_view(&confirmed)
    }
}
