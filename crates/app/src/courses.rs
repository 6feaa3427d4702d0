//! 课程 publishing a course under the region's policy: only a white-listed institution sells, and every rule
//! the course breaks is named with its numbers (`domain::policy::check_course`).

use crate::{Actor, App, AppError, ErrorCode, evidence};
use domain::access::Permission;
use domain::policy::{CourseTerms, check_course};
use domain::{Category, CourseId, TeachingMode};
use serde::Deserialize;
use serde_json::json;
use store::CourseRow;

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
}

fn date(field: &str, v: &str) -> Result<chrono::NaiveDate, AppError> {
    chrono::NaiveDate::parse_from_str(v.trim(), "%Y-%m-%d")
        .map_err(|_| AppError::new(ErrorCode::InvalidParameter, format!("{field}: YYYY-MM-DD")))
}

impl App {
    /// Publishes a course of the actor's (white-listed) institution, refusing it with every broken rule.
    pub async fn publish_course(&self, actor: &Actor, new: &NewCourse) -> Result<String, AppError> {
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
                "lessons, minutes_per_lesson and class_size above zero; a price not below zero",
            ));
        }
        let (first, last) = (
            date("first_lesson", &new.first_lesson)?,
            date("last_lesson", &new.last_lesson)?,
        );
        if last < first {
            return Err(AppError::new(
                ErrorCode::InvalidParameter,
                "last_lesson before first_lesson",
            ));
        }
        let institution = self
            .store
            .read()
            .institution(&institution_id)
            .await?
            .ok_or_else(|| AppError::internal("staff of a missing institution"))?;
        if institution.registry_state != "listed" || institution.list_status != "white" {
            return Err(AppError::new(
                ErrorCode::NotWhiteListed,
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
        if !broken.is_empty() {
            let messages: Vec<String> = broken.iter().map(|b| b.message_zh()).collect();
            return Err(AppError::new(
                ErrorCode::PolicyViolation,
                messages.join("；"),
            ));
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
        };
        let mut tx = self.store.begin_write().await?;
        tx.insert_courses(std::slice::from_ref(&row)).await?;
        tx.append_audit(vec![evidence::course_published(actor, now, &row)])
            .await?;
        tx.commit().await?;
        self.reindex(&institution_id).await?;
        Ok(row.id)
    }
}
