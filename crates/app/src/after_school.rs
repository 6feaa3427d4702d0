//! 课后服务 after-school service lists (DOMAIN.md §5): a supervisor lists non-subject institutions for the
//! schools of its region; the platform compares each candidate with what it knows — its licence, its list, its
//! categories, its teaching staff's record checks, any penalty stopping its enrolment — and flags what does not
//! fit; candidates rank by credit, flagged ones last.

use crate::{Actor, App, AppError, ErrorCode, evidence};
use domain::access::Permission;
use domain::{RegionCode, Timestamp};
use serde::{Deserialize, Serialize};
use serde_json::json;
use store::{AfterSchoolListRow, CandidateFactsRow};

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

/// Days before a licence's expiry from which a candidate is flagged.
const EXPIRING_DAYS: i64 = 90;

/// The comparison: what the platform knows against what an after-school provider must be.
fn flags(c: &CandidateFactsRow, today: chrono::NaiveDate, sales_stop: Option<&str>) -> Vec<Flag> {
    let mut out = Vec::new();
    let mut flag = |code: &'static str, label: String| out.push(Flag { code, label });
    if c.list_status != "white" {
        flag(
            "not_white_listed",
            format!(
                "不在白名单（{}）",
                domain::ListStatus::parse(&c.list_status).map_or("", |l| l.label_zh())
            ),
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

impl App {
    pub async fn create_after_school_list(
        &self,
        actor: &Actor,
        new: &NewAfterSchoolList,
    ) -> Result<AfterSchoolListView, AppError> {
        let Actor::Regulator { region, .. } = actor else {
            return Err(self
                .deny(actor, "after_school", json!({}), "regulators only")
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
                "school_year: e.g. 2026-2027",
            ));
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
        tx.insert_after_school_list(&row).await?;
        tx.append_audit(vec![evidence::record(
            &actor.audit_name(),
            now,
            "after_school.list_created",
            format!("region:{}", region.as_str()),
            json!({"list": row.id, "name": row.name, "school_year": row.school_year}),
        )])
        .await?;
        tx.commit().await?;
        self.after_school_list(actor, &row.id).await
    }

    /// Adds an institution of the list's region as a candidate; the comparison shows on the list.
    pub async fn add_after_school_candidate(
        &self,
        actor: &Actor,
        list_id: &str,
        new: &NewCandidate,
    ) -> Result<AfterSchoolListView, AppError> {
        let list = self.list_over(actor, list_id).await?;
        self.require(actor, Permission::SuperviseInstitution)
            .await?;
        let institution = self.institution_row(new.institution_id.trim()).await?;
        if !institution
            .region_code
            .starts_with(RegionCode::parse(&list.region_code)?.prefix())
            || institution.registry_state != "listed"
        {
            return Err(AppError::not_found(
                "no such listed institution in the list's region",
            ));
        }
        let now = self.clock.now().millis();
        let mut tx = self.store.begin_write().await?;
        tx.insert_after_school_candidate(&list.id, &institution.id, &actor.audit_name(), now)
            .await
            .map_err(|e| match e {
                store::StoreError::Conflict(_) => AppError::new(
                    ErrorCode::Conflict,
                    "the institution is on the list already",
                ),
                other => other.into(),
            })?;
        tx.append_audit(vec![evidence::record(
            &actor.audit_name(),
            now,
            "after_school.candidate_added",
            format!("institution:{}", institution.id),
            json!({"list": list.id}),
        )])
        .await?;
        tx.commit().await?;
        self.after_school_list(actor, &list.id).await
    }

    pub async fn after_school_lists(
        &self,
        actor: &Actor,
    ) -> Result<Vec<AfterSchoolListView>, AppError> {
        let region = self.supervising_region(actor).await?;
        let mut out = Vec::new();
        for row in self
            .store
            .read()
            .after_school_lists(region.prefix())
            .await?
        {
            out.push(self.list_view(row, Vec::new())?);
        }
        Ok(out)
    }

    /// A list with its candidates compared and ranked.
    pub async fn after_school_list(
        &self,
        actor: &Actor,
        id: &str,
    ) -> Result<AfterSchoolListView, AppError> {
        let list = self.list_over(actor, id).await?;
        let today = self.clock.now().china_date();
        let mut candidates = Vec::new();
        for c in self.store.read().after_school_candidates(&list.id).await? {
            let stop = self.sales_stop(&c.institution_id).await?;
            let (_, _, rating) = self.rating_now(&c.institution_id).await?;
            candidates.push(CandidateView {
                flags: flags(&c, today, stop.as_ref().map(|p| p.decision_no.as_str())),
                institution_id: c.institution_id,
                name: c.name,
                credit_score: rating.score,
                credit_grade: rating.grade.as_str().to_owned(),
            });
        }
        candidates.sort_by_key(|c| (!c.flags.is_empty(), std::cmp::Reverse(c.credit_score)));
        self.list_view(list, candidates)
    }

    fn list_view(
        &self,
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

    async fn list_over(&self, actor: &Actor, id: &str) -> Result<AfterSchoolListRow, AppError> {
        let region = self.supervising_region(actor).await?;
        self.store
            .read()
            .after_school_list(id.trim())
            .await?
            .filter(|l| l.region_code.starts_with(region.prefix()))
            .ok_or_else(|| AppError::not_found("no such after-school list in your region"))
    }
}
