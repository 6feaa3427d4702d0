//! 课后服务 after-school service lists (DOMAIN.md §5): a supervisor lists non-subject institutions for the
//! schools of its region; the platform compares each candidate with what it knows — its licence, its list, its
//! categories, its teaching staff's record checks, any penalty stopping its enrolment — and flags what does not
//! fit; candidates rank by credit, flagged ones last. 学校 schools of the region choose from the lists that
//! cover them: any candidate whose only flag is a licence nearing expiry; the institution is told.

use crate::supervision::Supervision;
use crate::{Actor, AppError, ErrorCode, evidence};
use domain::Action;
use domain::access::Permission;
use domain::{RegionCode, Timestamp};
use serde::{Deserialize, Serialize};
use serde_json::json;
use store::{AfterSchoolListRow, CandidateFactsRow, ChoiceRow};

/// `POST /api/v1/regulator/after-school-lists`.
#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
pub struct NewAfterSchoolList {
    pub name: String,
    /// e.g. `2026-2027`.
    pub school_year: String,
}

/// `POST /api/v1/regulator/after-school-lists/{id}/candidates`.
#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
pub struct NewCandidate {
    pub institution_id: String,
}

/// `POST /api/v1/school/after-school-lists/{id}/choices`.
#[derive(Clone, Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct NewChoice {
    pub institution_id: String,
    /// What the school chose it for, e.g. 周三下午 三年级 美术社团 (up to 200 characters).
    pub note: String,
}

/// `POST /api/v1/school/after-school-lists/{id}/choices/{institution_id}/withdraw`.
#[derive(Clone, Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct ChoiceWithdrawal {
    pub reason: String,
}

/// A school's standing choice of a candidate.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct ChoiceView {
    pub school_id: String,
    pub school_name: String,
    pub note: String,
    pub chosen_at_display: String,
}

/// What does not fit a candidate, with why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Flag {
    /// `not_white_listed`, `subject_training`, `no_licence`, `licence_expired`, `licence_expiring`,
    /// `no_teaching_staff`, `staff_unverified` or `sales_suspended`.
    pub code: &'static str,
    pub label: String,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct CandidateView {
    pub institution_id: String,
    pub name: String,
    pub credit_score: i32,
    pub credit_grade: String,
    pub flags: Vec<Flag>,
    /// No flag bars a school from choosing it (a licence nearing expiry does not).
    pub selectable: bool,
    /// The schools' standing choices; a school sees only its own.
    pub choices: Vec<ChoiceView>,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct AfterSchoolListView {
    pub id: String,
    pub region_code: String,
    pub region_name: String,
    pub name: String,
    pub school_year: String,
    pub created_by: String,
    pub created_at_display: String,
    /// Unflagged first, each group by credit score, highest first.
    pub candidates: Vec<CandidateView>,
}

/// A flag that bars a school's choice: everything but a licence still valid for now.
fn bars_choice(flag: &Flag) -> bool {
    flag.code != "licence_expiring"
}

/// Days before a licence's expiry from which a candidate is flagged.
const EXPIRING_DAYS: i64 = 90;

/// The comparison: what the platform knows against what an after-school provider must be.
fn flags(c: &CandidateFactsRow, today: chrono::NaiveDate, sales_stop: Option<&str>) -> Vec<Flag> {
    let mut out = Vec::new();
    let mut flag = |code: &'static str, label: String| out.push(Flag { code, label });
    if c.list_status != domain::ListStatus::White {
        flag(
            "not_white_listed",
            format!("不在白名单（{}）", c.list_status.label_zh()),
        );
    }
    if c.categories.split(',').any(|k| k == "subject") {
        flag(
            "subject_training",
            "开展学科类培训，不属于非学科类机构".into(),
        );
    }
    if c.licence_no.is_none() {
        flag("no_licence", "未取得办学许可证".into());
    }
    match c
        .approved_filing
        .as_deref()
        .and_then(crate::risk::licence_expiry)
    {
        Some(d) if d < today => flag("licence_expired", format!("办学许可证已于 {d} 过期")),
        Some(d) if (d - today).num_days() <= EXPIRING_DAYS => {
            flag("licence_expiring", format!("办学许可证将于 {d} 到期"))
        }
        _ => {}
    }
    if c.teaching_staff == 0 {
        flag("no_teaching_staff", "未登记在职教学人员".into());
    } else if c.unverified_staff > 0 {
        flag(
            "staff_unverified",
            format!("{} 名教学人员的入职查询未经核验", c.unverified_staff),
        );
    }
    if let Some(why) = sales_stop {
        flag("sales_suspended", format!("处罚期内停止招生（{why}）"));
    }
    out
}

impl<'a> Supervision<'a> {
    pub async fn create_after_school_list(
        self,
        actor: &Actor,
        new: &NewAfterSchoolList,
    ) -> Result<AfterSchoolListView, AppError> {
        let Actor::Regulator { region, .. } = actor else {
            return Err(self
                .deny(
                    actor,
                    "after_school",
                    json!({}),
                    "仅限监管部门",
                    "regulators only",
                )
                .await);
        };
        self.require(actor, Permission::SuperviseInstitution)
            .await?;
        let name = crate::error::stated_reason("name", &new.name)?;
        let year = new.school_year.trim();
        let valid_year = year.len() == 9
            && year.as_bytes()[4] == b'-'
            && year[..4]
                .parse::<u32>()
                .ok()
                .zip(year[5..].parse::<u32>().ok())
                .is_some_and(|(a, b)| b == a + 1);
        if !valid_year {
            return Err(AppError::new(
                ErrorCode::InvalidParameter,
                "学年：格式如 2026-2027",
                "school_year: e.g. 2026-2027",
            )
            .on("school_year"));
        }
        let now = self.clock.now().millis();
        let row = AfterSchoolListRow {
            id: uuid::Uuid::now_v7().to_string(),
            region_code: region.as_str().to_owned(),
            name: name.to_owned(),
            school_year: year.to_owned(),
            created_by: actor.audit_name(),
            created_at: now,
        };
        let mut tx = self.store.begin_write().await?;
        tx.after_school().insert_after_school_list(&row).await?;
        tx.append_audit(vec![evidence::record(
            &actor.audit_name(),
            now,
            Action::AfterSchoolListCreated,
            format!("region:{}", region.as_str()),
            json!({"list": row.id, "name": row.name, "school_year": row.school_year}),
        )])
        .await?;
        tx.commit().await?;
        self.after_school_list(actor, &row.id).await
    }

    /// Adds an institution of the list's region as a candidate; the comparison shows on the list.
    pub async fn add_after_school_candidate(
        self,
        actor: &Actor,
        list_id: &str,
        new: &NewCandidate,
    ) -> Result<AfterSchoolListView, AppError> {
        let list = self.list_over(actor, list_id).await?;
        self.require(actor, Permission::SuperviseInstitution)
            .await?;
        let institution = self
            .registry()
            .institution_row(new.institution_id.trim())
            .await?;
        if !institution
            .region_code
            .starts_with(RegionCode::parse(&list.region_code)?.prefix())
            || institution.registry_state != domain::RegistryState::Listed
        {
            return Err(AppError::not_found(
                "名单所在地区没有这家在册机构",
                "no such listed institution in the list's region",
            ));
        }
        let now = self.clock.now().millis();
        let mut tx = self.store.begin_write().await?;
        tx.after_school()
            .insert_after_school_candidate(&list.id, &institution.id, &actor.audit_name(), now)
            .await
            .map_err(|e| match e {
                store::StoreError::Conflict(_) => AppError::new(
                    ErrorCode::Conflict,
                    "该机构已在名单上",
                    "the institution is on the list already",
                ),
                other => other.into(),
            })?;
        tx.append_audit(vec![evidence::record(
            &actor.audit_name(),
            now,
            Action::AfterSchoolCandidateAdded,
            format!("institution:{}", institution.id),
            json!({"list": list.id}),
        )])
        .await?;
        tx.commit().await?;
        self.after_school_list(actor, &list.id).await
    }

    pub async fn after_school_lists(
        self,
        actor: &Actor,
    ) -> Result<Vec<AfterSchoolListView>, AppError> {
        let region = self.supervising_region(actor).await?;
        let mut out = Vec::new();
        for row in self
            .store
            .read()
            .after_school()
            .after_school_lists(region.prefix())
            .await?
        {
            out.push(self.list_view(row, Vec::new())?);
        }
        Ok(out)
    }

    /// A list with its candidates compared and ranked, and every school's choices.
    pub async fn after_school_list(
        self,
        actor: &Actor,
        id: &str,
    ) -> Result<AfterSchoolListView, AppError> {
        let list = self.list_over(actor, id).await?;
        self.compared_list(list, None).await
    }

    /// The candidates compared and ranked; `school`: show only that school's choices.
    async fn compared_list(
        self,
        list: AfterSchoolListRow,
        school: Option<&str>,
    ) -> Result<AfterSchoolListView, AppError> {
        let today = self.clock.now().china_date();
        let read = self.store.read();
        let choices: Vec<ChoiceRow> = read
            .after_school()
            .after_school_choices(&list.id)
            .await?
            .into_iter()
            .filter(|c| c.withdrawn_at.is_none() && school.is_none_or(|s| s == c.school_id))
            .collect();
        let mut candidates = Vec::new();
        for c in read
            .after_school()
            .after_school_candidates(&list.id)
            .await?
        {
            let stop = self.sales_stop(&c.institution_id).await?;
            let (_, _, rating) = self.rating_now(&c.institution_id).await?;
            let flags = flags(&c, today, stop.as_ref().map(|p| p.decision_no.as_str()));
            candidates.push(CandidateView {
                selectable: !flags.iter().any(bars_choice),
                flags,
                choices: choices
                    .iter()
                    .filter(|ch| ch.institution_id == c.institution_id)
                    .map(|ch| ChoiceView {
                        school_id: ch.school_id.clone(),
                        school_name: ch.school_name.clone(),
                        note: ch.note.clone(),
                        chosen_at_display: Timestamp::from_millis(ch.chosen_at).china_display(),
                    })
                    .collect(),
                institution_id: c.institution_id,
                name: c.name,
                credit_score: rating.score,
                credit_grade: rating.grade.as_str().to_owned(),
            });
        }
        candidates.sort_by_key(|c| (!c.flags.is_empty(), std::cmp::Reverse(c.credit_score)));
        self.list_view(list, candidates)
    }

    /// The lists covering a school's region (its county's, its city's, its province's), newest first.
    pub async fn school_after_school_lists(
        self,
        actor: &Actor,
    ) -> Result<Vec<AfterSchoolListView>, AppError> {
        let (_, region) = self.school_of(actor).await?;
        let codes: Vec<String> = std::iter::once(RegionCode::NATIONAL)
            .chain(region.lineage())
            .map(|r| r.to_string())
            .collect();
        let mut out = Vec::new();
        for row in self
            .store
            .read()
            .after_school()
            .after_school_lists_of(&codes)
            .await?
        {
            out.push(self.list_view(row, Vec::new())?);
        }
        Ok(out)
    }

    /// A list covering the school, compared, with the school's own choices.
    pub async fn school_after_school_list(
        self,
        actor: &Actor,
        id: &str,
    ) -> Result<AfterSchoolListView, AppError> {
        let (school_id, region) = self.school_of(actor).await?;
        let list = self.list_covering(&region, id).await?;
        self.compared_list(list, Some(&school_id)).await
    }

    /// A school chooses a candidate of a list covering it, unless a flag bars it; the institution's staff
    /// are told. Choosing again after a withdrawal renews the choice.
    pub async fn choose_after_school(
        self,
        actor: &Actor,
        list_id: &str,
        new: &NewChoice,
    ) -> Result<AfterSchoolListView, AppError> {
        let (school_id, region) = self.school_of(actor).await?;
        let list = self.list_covering(&region, list_id).await?;
        let note = new.note.trim();
        if note.chars().count() > 200 {
            return Err(AppError::new(
                ErrorCode::FieldTooLong,
                "备注：不超过200个字符",
                "note: at most 200 characters",
            )
            .on("note"));
        }
        let view = self.compared_list(list.clone(), Some(&school_id)).await?;
        let institution_id = new.institution_id.trim();
        let candidate = view
            .candidates
            .iter()
            .find(|c| c.institution_id == institution_id)
            .ok_or_else(|| {
                AppError::not_found("名单上没有这家机构", "no such candidate on the list")
            })?;
        if !candidate.selectable {
            let barred: Vec<&Flag> = candidate.flags.iter().filter(|f| bars_choice(f)).collect();
            let zh: Vec<&str> = barred.iter().map(|f| f.label.as_str()).collect();
            let en: Vec<&str> = barred.iter().map(|f| f.code).collect();
            return Err(AppError::new(
                ErrorCode::CandidateFlagged,
                format!("存在不符合项：{}", zh.join("、")),
                format!("flagged: {}", en.join(", ")),
            ));
        }
        let school = self
            .store
            .read()
            .after_school()
            .school(&school_id)
            .await?
            .ok_or_else(|| AppError::internal("the school of a school account is missing"))?;
        let now = self.clock.now().millis();
        let mut tx = self.store.begin_write().await?;
        let existing = tx
            .after_school()
            .after_school_choice(&list.id, institution_id, &school_id)
            .await?;
        if existing.as_ref().is_some_and(|c| c.withdrawn_at.is_none()) {
            return Err(AppError::new(
                ErrorCode::Conflict,
                "学校已选用该机构",
                "the school has chosen this institution already",
            ));
        }
        let choice = ChoiceRow {
            list_id: list.id.clone(),
            institution_id: institution_id.to_owned(),
            school_id: school_id.clone(),
            school_name: school.name.clone(),
            note: note.to_owned(),
            chosen_by: actor.audit_name(),
            chosen_at: now,
            withdrawn_by: None,
            withdrawn_at: None,
        };
        tx.after_school()
            .choose_after_school(&choice, existing.is_some())
            .await?;
        tx.append_audit(vec![evidence::record(
            &actor.audit_name(),
            now,
            Action::AfterSchoolChosen,
            format!("institution:{institution_id}"),
            json!({"list": list.id, "school": school_id, "note": note}),
        )])
        .await?;
        let staff = tx.inbox().staff_accounts_of(institution_id).await?;
        self.service()
            .notify_in(
                &mut tx,
                &staff,
                &format!("{} 选用贵机构提供课后服务", school.name),
                &format!("名单：{}（{}学年）。{note}", list.name, list.school_year),
                now,
            )
            .await?;
        tx.commit().await?;
        self.compared_list(list, Some(&school_id)).await
    }

    /// A school withdraws its standing choice, with a reason; the institution's staff are told.
    pub async fn withdraw_after_school_choice(
        self,
        actor: &Actor,
        list_id: &str,
        institution_id: &str,
        withdrawal: &ChoiceWithdrawal,
    ) -> Result<AfterSchoolListView, AppError> {
        let (school_id, region) = self.school_of(actor).await?;
        let list = self.list_covering(&region, list_id).await?;
        let reason = crate::error::stated_reason("reason", &withdrawal.reason)?;
        let institution_id = institution_id.trim();
        let now = self.clock.now().millis();
        let mut tx = self.store.begin_write().await?;
        let choice = tx
            .after_school()
            .after_school_choice(&list.id, institution_id, &school_id)
            .await?
            .filter(|c| c.withdrawn_at.is_none())
            .ok_or_else(|| {
                AppError::not_found(
                    "学校当前没有选用该机构",
                    "the school has no standing choice of it",
                )
            })?;
        tx.after_school()
            .withdraw_after_school_choice(
                &list.id,
                institution_id,
                &school_id,
                &actor.audit_name(),
                now,
            )
            .await?;
        tx.append_audit(vec![evidence::record(
            &actor.audit_name(),
            now,
            Action::AfterSchoolWithdrawn,
            format!("institution:{institution_id}"),
            json!({"list": list.id, "school": school_id, "reason": reason}),
        )])
        .await?;
        let staff = tx.inbox().staff_accounts_of(institution_id).await?;
        self.service()
            .notify_in(
                &mut tx,
                &staff,
                &format!("{} 撤回了课后服务选用", choice.school_name),
                &format!("名单：{}。原因：{reason}", list.name),
                now,
            )
            .await?;
        tx.commit().await?;
        self.compared_list(list, Some(&school_id)).await
    }

    /// The signed-in school and its region; anyone else is refused (and audited).
    async fn school_of(self, actor: &Actor) -> Result<(String, RegionCode), AppError> {
        match actor {
            Actor::School {
                school_id, region, ..
            } => Ok((school_id.clone(), *region)),
            _ => Err(self
                .deny(actor, "after_school", json!({}), "仅限学校", "schools only")
                .await),
        }
    }

    /// A list of the region or one of its ancestors.
    async fn list_covering(
        self,
        region: &RegionCode,
        id: &str,
    ) -> Result<AfterSchoolListRow, AppError> {
        self.store
            .read()
            .after_school()
            .after_school_list(id.trim())
            .await?
            .filter(|l| RegionCode::parse(&l.region_code).is_ok_and(|r| r.contains(region)))
            .ok_or_else(|| {
                AppError::not_found(
                    "本校没有这份课后服务名单",
                    "no such after-school list for your school",
                )
            })
    }

    fn list_view(
        self,
        row: AfterSchoolListRow,
        candidates: Vec<CandidateView>,
    ) -> Result<AfterSchoolListView, AppError> {
        Ok(AfterSchoolListView {
            region_name: self
                .regions
                .full_name(&RegionCode::parse(&row.region_code)?),
            created_at_display: Timestamp::from_millis(row.created_at).china_display(),
            id: row.id,
            region_code: row.region_code,
            name: row.name,
            school_year: row.school_year,
            created_by: row.created_by,
            candidates,
        })
    }

    async fn list_over(self, actor: &Actor, id: &str) -> Result<AfterSchoolListRow, AppError> {
        let region = self.supervising_region(actor).await?;
        self.store
            .read()
            .after_school()
            .after_school_list(id.trim())
            .await?
            .filter(|l| l.region_code.starts_with(region.prefix()))
            .ok_or_else(|| {
                AppError::not_found(
                    "本地区没有这份课后服务名单",
                    "no such after-school list in your region",
                )
            })
    }
}
