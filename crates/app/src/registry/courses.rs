//! 课程 publishing a course under the region's policy: only a white-listed institution sells, and every rule
//! the course breaks is named with its numbers (`domain::policy::check_course`).

use crate::error::BrokenRule;
use crate::error::field_label;
use crate::registry::Registry;
use crate::{Actor, AppError, ErrorCode, evidence};
use domain::access::Permission;
use domain::contract;
use domain::policy::{CourseTerms, check_course};
use domain::schedule::{self, Booked, Plan, Session, Weekly};
use domain::{Category, CourseId, TeachingMode, WorkingDayCalendar};
use serde::Deserialize;
use serde_json::json;
use store::{CourseRow, CourseSessionRow};

/// `POST /api/v1/institution/courses`.
#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
pub struct NewCourse {
    pub name: String,
    /// subject, sports, arts, practice or technology.
    pub category: String,
    /// online or offline.
    pub mode: String,
    pub grades: String,
    pub lessons: u32,
    pub minutes_per_lesson: u32,
    pub class_size: u32,
    pub price_per_lesson_fen: i64,
    /// `YYYY-MM-DD`.
    pub first_lesson: String,
    pub last_lesson: String,
    /// 优惠价 what a purchase of the whole course pays, when below the list price (price per lesson × lessons),
    /// in fen; every lesson fee and refund is then computed on it.
    #[serde(default)]
    pub preferential_total_fen: Option<i64>,
    /// Weekly sessions with a teacher and a room (课表); without one, the course records no sessions.
    #[serde(default)]
    pub schedule: Option<NewSchedule>,
}

/// `{"weekdays": [2, 4], "times": ["19:00"], "teacher_id": "<staff member id>", "room": "A101"}`: ISO weekdays
/// (1 = Monday) and start times on those days, one session per lesson from the first lesson date.
#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
pub struct NewSchedule {
    pub weekdays: Vec<u32>,
    pub times: Vec<String>,
    pub teacher_id: String,
    #[serde(default)]
    pub room: String,
}

/// The working-day calendar (weekends, statutory holidays, 调休), parsed once.
static CALENDAR: std::sync::LazyLock<WorkingDayCalendar> =
    std::sync::LazyLock::new(WorkingDayCalendar::china);

fn date(field: &str, v: &str) -> Result<chrono::NaiveDate, AppError> {
    chrono::NaiveDate::parse_from_str(v.trim(), "%Y-%m-%d").map_err(|_| {
        AppError::new(
            ErrorCode::InvalidParameter,
            format!("{}：格式应为 YYYY-MM-DD", field_label(field)),
            format!("{field}: YYYY-MM-DD"),
        )
        .on(field)
    })
}

impl<'a> Registry<'a> {
    /// Publishes a course of the actor's (white-listed) institution, refusing it with every broken rule.
    pub async fn publish_course(self, actor: &Actor, new: &NewCourse) -> Result<String, AppError> {
        let institution_id = match actor {
            Actor::Staff { institution_id, .. } if actor.has(Permission::ManageCourses) => {
                institution_id.clone()
            }
            _ => {
                let details = json!({"permission": "ManageCourses"});
                return Err(self
                    .deny(
                        actor,
                        "platform",
                        details,
                        "仅限机构管理员或操作员",
                        "the institution's admin or operator",
                    )
                    .await);
            }
        };
        let name = new.name.trim();
        if name.is_empty() || name.chars().count() > 100 || new.grades.trim().chars().count() > 100
        {
            return Err(AppError::new(
                ErrorCode::FieldTooLong,
                "课程名称和适用年级：须为1至100个字符",
                "name and grades: 1 to 100 characters",
            ));
        }
        let category = Category::parse(new.category.trim())?;
        let mode = TeachingMode::parse(new.mode.trim())?;
        if new.lessons == 0
            || new.minutes_per_lesson == 0
            || new.class_size == 0
            || new.price_per_lesson_fen < 0
        {
            return Err(AppError::new(
                ErrorCode::InvalidParameter,
                "课时数、每课时分钟数和班额须大于零，价格不能为负数",
                "lessons, minutes_per_lesson and class_size above zero; a price not below zero",
            ));
        }
        domain::money::LESSON_PRICE.check("price_per_lesson_fen", new.price_per_lesson_fen)?;
        if let Some(total) = new.preferential_total_fen {
            domain::money::ORDER_TOTAL.check("preferential_total_fen", total)?;
        }
        let (first, last) = (
            date("first_lesson", &new.first_lesson)?,
            date("last_lesson", &new.last_lesson)?,
        );
        if let Some(paid) = new.preferential_total_fen
            && contract::Price::paid(new.price_per_lesson_fen, new.lessons, paid, "课程优惠价")
                .is_none_or(|p| p.discount.is_none())
        {
            return Err(AppError::new(
                ErrorCode::InvalidParameter,
                "优惠总价：须大于零且低于原价（每课时价格 × 课时数）",
                "preferential_total_fen: above zero and below the list price (price per lesson × lessons)",
            ).on("preferential_total_fen"));
        }
        if last < first {
            return Err(AppError::new(
                ErrorCode::InvalidParameter,
                "结课日期早于开课日期",
                "last_lesson before first_lesson",
            ));
        }
        let institution = self
            .store
            .read()
            .registry()
            .institution(&institution_id)
            .await?
            .ok_or_else(|| AppError::internal("staff of a missing institution"))?;
        if institution.registry_state != domain::RegistryState::Listed
            || institution.list_status != domain::ListStatus::White
        {
            return Err(AppError::new(
                ErrorCode::NotWhiteListed,
                "只有白名单机构可以销售课程",
                "only a white-listed institution sells courses",
            ));
        }
        let policy = self.region_policy(&institution.region_code).await?.policy;
        let broken = check_course(
            &policy,
            &CourseTerms {
                category,
                mode,
                lessons: new.lessons,
                minutes_per_lesson: new.minutes_per_lesson,
                class_size: new.class_size,
                price_per_lesson_fen: new.price_per_lesson_fen,
                first_lesson: first,
                last_lesson: last,
            },
        );
        let mut broken: Vec<BrokenRule> = broken.iter().map(BrokenRule::from).collect();
        let teacher = match &new.schedule {
            Some(plan) => {
                let teacher = self
                    .store
                    .read()
                    .staff()
                    .staff_member(plan.teacher_id.trim())
                    .await?
                    .filter(|t| t.institution_id == institution_id)
                    .ok_or_else(|| {
                        AppError::new(
                            ErrorCode::InvalidParameter,
                            "授课教师：须为本机构的工作人员",
                            "schedule.teacher_id: a staff member of this institution",
                        )
                        .on("schedule.teacher_id")
                    })?;
                let qualified = teacher.subject_teacher == 1
                    && teacher
                        .teacher_cert_no
                        .as_deref()
                        .is_some_and(|c| !c.trim().is_empty());
                if category == Category::Subject && !qualified {
                    return Err(AppError::new(
                        ErrorCode::TeacherQualificationRequired,
                        "学科类课程的授课教师须登记教师资格证",
                        "a subject course's teacher needs a registered teacher qualification",
                    ));
                }
                let starts = plan
                    .times
                    .iter()
                    .map(|t| start_minute(t))
                    .collect::<Result<Vec<_>, _>>()?;
                Some((plan, starts))
            }
            None => None,
        };
        let sessions = match teacher {
            Some((plan, starts)) => {
                let weekly = Weekly {
                    weekdays: plan.weekdays.clone(),
                    start_minutes: starts,
                };
                match schedule::expand(&weekly, new.minutes_per_lesson, new.lessons, first, last) {
                    Ok(s) => Some((plan, s)),
                    Err(problem) => {
                        broken.push(BrokenRule::from(&problem));
                        None
                    }
                }
            }
            None => None,
        };
        if !broken.is_empty() {
            return Err(AppError::rules_broken(ErrorCode::PolicyViolation, broken));
        }
        let now = self.clock.now();
        let row = CourseRow {
            id: CourseId::new_v7().to_string(),
            institution_id: institution_id.clone(),
            name: name.to_owned(),
            category: category.as_str().to_owned(),
            mode: mode.as_str().to_owned(),
            grades: new.grades.trim().to_owned(),
            lessons: i64::from(new.lessons),
            minutes_per_lesson: i64::from(new.minutes_per_lesson),
            class_size: i64::from(new.class_size),
            price_per_lesson_fen: new.price_per_lesson_fen,
            created_at: now.millis(),
            first_lesson: Some(first.to_string()),
            last_lesson: Some(last.to_string()),
            preferential_total_fen: new.preferential_total_fen,
        };
        let mut tx = self.store.begin_write().await?;
        let session_rows = match &sessions {
            Some((plan, planned)) => {
                let booked = self
                    .booked_in(&mut tx, &institution_id, first, last)
                    .await?;
                let plan = Plan {
                    category,
                    mode,
                    sessions: planned,
                    teacher_id: plan.teacher_id.trim(),
                    room: plan.room.trim(),
                };
                let problems = schedule::check(&policy, &CALENDAR, plan, &booked);
                if !problems.is_empty() {
                    let broken = problems.iter().map(BrokenRule::from).collect();
                    return Err(AppError::rules_broken(ErrorCode::PolicyViolation, broken));
                }
                planned
                    .iter()
                    .zip(1..)
                    .map(|(s, n)| CourseSessionRow {
                        id: uuid::Uuid::now_v7().to_string(),
                        course_id: row.id.clone(),
                        institution_id: institution_id.clone(),
                        lesson_no: n,
                        session_date: s.date.to_string(),
                        start_minute: i64::from(s.start_minute),
                        end_minute: i64::from(s.end_minute),
                        teacher_id: plan.teacher_id.trim().to_owned(),
                        room: plan.room.trim().to_owned(),
                    })
                    .collect()
            }
            None => Vec::new(),
        };
        tx.registry()
            .insert_courses(std::slice::from_ref(&row))
            .await?;
        tx.registry().insert_course_sessions(&session_rows).await?;
        tx.append_audit(vec![evidence::course_published(actor, now, &row)])
            .await?;
        tx.commit().await?;
        self.reindex(&institution_id).await?;
        Ok(row.id)
    }
}

/// `HH:MM` → minutes after midnight.
fn start_minute(v: &str) -> Result<u32, AppError> {
    chrono::NaiveTime::parse_from_str(v.trim(), "%H:%M")
        .map(|t| chrono::Timelike::hour(&t) * 60 + chrono::Timelike::minute(&t))
        .map_err(|_| {
            AppError::new(
                ErrorCode::InvalidParameter,
                "上课时间：格式应为 HH:MM",
                "schedule.times: HH:MM",
            )
            .on("schedule.times")
        })
}

impl<'a> Registry<'a> {
    /// The institution's sessions in a date range, as the schedule check sees them.
    async fn booked_in(
        self,
        tx: &mut store::WriteTx,
        institution_id: &str,
        first: chrono::NaiveDate,
        last: chrono::NaiveDate,
    ) -> Result<Vec<Booked>, AppError> {
        let rows = tx
            .registry()
            .sessions_between(institution_id, &first.to_string(), &last.to_string())
            .await?;
        rows.into_iter()
            .map(|(s, course_name)| {
                Ok(Booked {
                    session: Session {
                        date: date("session_date", &s.session_date)?,
                        start_minute: u32::try_from(s.start_minute).unwrap_or(0),
                        end_minute: u32::try_from(s.end_minute).unwrap_or(0),
                    },
                    teacher_id: s.teacher_id,
                    room: s.room,
                    course_name,
                })
            })
            .collect()
    }
}
