//! 课程咨询 consultation: a parent asks an institution about its courses in a message thread; the institution's
//! customer service answers. How long the first answer took is measured per thread, and regulators over the
//! institution see the figures (threads, answered, median and slowest first answer).

use crate::service::Service;
use crate::{Actor, AppError, ErrorCode, evidence};
use domain::Action;
use domain::Timestamp;
use domain::access::Permission;
use serde::{Deserialize, Serialize};
use serde_json::json;
use store::{ConsultationMessageRow, ConsultationRow};

const MAX_MESSAGE_CHARS: usize = 1000;

/// A parent's new question.
#[derive(Clone, Debug, Default, Deserialize, utoipa::ToSchema)]
pub struct NewConsultation {
    pub institution_id: String,
    /// What it is about (a course's name, say).
    pub topic: String,
    pub body: String,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct ConsultationMessage {
    pub from_institution: bool,
    pub body: String,
    pub at_display: String,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct ConsultationView {
    pub id: String,
    pub institution_id: String,
    pub institution_name: String,
    pub topic: String,
    pub created_at_display: String,
    pub answered: bool,
    pub messages: Vec<ConsultationMessage>,
}

/// An institution's answering, for regulators.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct ResponseTimes {
    pub threads: i64,
    pub answered: i64,
    /// Minutes to the first answer: the median and the slowest (none before any answer).
    pub median_minutes: Option<i64>,
    pub slowest_minutes: Option<i64>,
}

fn message_text(body: &str) -> Result<String, AppError> {
    let body = body.trim();
    if body.is_empty() || body.chars().count() > MAX_MESSAGE_CHARS {
        return Err(AppError::new(
            ErrorCode::FieldTooLong,
            format!("内容：须为1至{MAX_MESSAGE_CHARS}个字符"),
            format!("body: 1 to {MAX_MESSAGE_CHARS} characters"),
        ));
    }
    Ok(body.to_owned())
}

impl<'a> Service<'a> {
    /// A parent opens a thread with an institution.
    pub async fn ask_institution(
        self,
        actor: &Actor,
        new: &NewConsultation,
    ) -> Result<ConsultationView, AppError> {
        let parent_id = self.require_parent(actor).await?.to_owned();
        let body = message_text(&new.body)?;
        let topic = crate::error::stated_reason("topic", &new.topic)?;
        let institution = self
            .store
            .read()
            .registry()
            .institution(new.institution_id.trim())
            .await?
            .ok_or_else(|| AppError::not_found("没有这家机构", "no such institution"))?;
        let now = self.clock.now().millis();
        let row = ConsultationRow {
            id: uuid::Uuid::now_v7().to_string(),
            institution_id: institution.id.clone(),
            parent_id,
            topic: topic.to_owned(),
            created_at: now,
            first_answer_at: None,
        };
        let first = ConsultationMessageRow {
            id: uuid::Uuid::now_v7().to_string(),
            consultation_id: row.id.clone(),
            from_institution: 0,
            author: actor.audit_name(),
            body,
            created_at: now,
        };
        let mut tx = self.store.begin_write().await?;
        tx.consultations().insert_consultation(&row, &first).await?;
        tx.append_audit(vec![evidence::record(
            &actor.audit_name(),
            now,
            Action::ConsultationAsked,
            format!("institution:{}", institution.id),
            json!({"consultation": row.id, "topic": topic}),
        )])
        .await?;
        let staff = tx.inbox().staff_accounts_of(&institution.id).await?;
        self.notify_in(&mut tx, &staff, "新的课程咨询", topic, now)
            .await?;
        tx.commit().await?;
        self.consultation_for(actor, &row.id).await
    }

    /// A message in a thread: from its parent, or from the institution's customer service.
    pub async fn reply_consultation(
        self,
        actor: &Actor,
        id: &str,
        body: &str,
    ) -> Result<ConsultationView, AppError> {
        let thread = self.thread_of(actor, id).await?;
        let body = message_text(body)?;
        let from_institution = matches!(actor, Actor::Staff { .. });
        let now = self.clock.now().millis();
        let mut tx = self.store.begin_write().await?;
        tx.consultations()
            .insert_consultation_message(&ConsultationMessageRow {
                id: uuid::Uuid::now_v7().to_string(),
                consultation_id: thread.id.clone(),
                from_institution: i64::from(from_institution),
                author: actor.audit_name(),
                body,
                created_at: now,
            })
            .await?;
        tx.append_audit(vec![evidence::record(
            &actor.audit_name(),
            now,
            Action::ConsultationMessage,
            format!("institution:{}", thread.institution_id),
            json!({"consultation": thread.id, "from_institution": from_institution}),
        )])
        .await?;
        let (to, title) = if from_institution {
            (vec![thread.parent_id.clone()], "机构回复了您的咨询")
        } else {
            (
                tx.inbox().staff_accounts_of(&thread.institution_id).await?,
                "家长追问",
            )
        };
        self.notify_in(&mut tx, &to, title, &thread.topic, now)
            .await?;
        tx.commit().await?;
        self.consultation_for(actor, &thread.id).await
    }

    /// A parent's threads, or the staff's institution's.
    pub async fn consultations_for(self, actor: &Actor) -> Result<Vec<ConsultationView>, AppError> {
        let rows = match actor {
            Actor::Parent { account_id } => {
                self.store
                    .read()
                    .consultations()
                    .list(Some(account_id), None)
                    .await?
            }
            Actor::Staff { institution_id, .. } => {
                self.require(actor, Permission::HandleCustomerCases).await?;
                self.store
                    .read()
                    .consultations()
                    .list(None, Some(institution_id))
                    .await?
            }
            _ => {
                return Err(self
                    .deny(
                        actor,
                        "consultations",
                        json!({}),
                        "仅限家长和机构工作人员",
                        "parents and staff only",
                    )
                    .await);
            }
        };
        let mut views = Vec::with_capacity(rows.len());
        for row in rows {
            views.push(self.consultation_view(row, false).await?);
        }
        Ok(views)
    }

    /// One thread with its messages.
    pub async fn consultation_for(
        self,
        actor: &Actor,
        id: &str,
    ) -> Result<ConsultationView, AppError> {
        let row = self.thread_of(actor, id).await?;
        self.consultation_view(row, true).await
    }

    /// How fast an institution answers, for regulators over it.
    pub async fn response_times(
        self,
        actor: &Actor,
        institution_id: &str,
    ) -> Result<ResponseTimes, AppError> {
        self.money()
            .require_money_view(actor, institution_id)
            .await?;
        let times = self
            .store
            .read()
            .consultations()
            .consultation_times(institution_id)
            .await?;
        let mut minutes: Vec<i64> = times.first_answer_ms.iter().map(|ms| ms / 60_000).collect();
        minutes.sort_unstable();
        Ok(ResponseTimes {
            threads: times.threads,
            answered: minutes.len() as i64,
            median_minutes: minutes.get(minutes.len() / 2).copied(),
            slowest_minutes: minutes.last().copied(),
        })
    }

    /// The thread if `actor` is its parent or the institution's customer service; otherwise not found.
    async fn thread_of(self, actor: &Actor, id: &str) -> Result<ConsultationRow, AppError> {
        match actor {
            Actor::Parent { .. } => {}
            Actor::Staff { .. } => self.require(actor, Permission::HandleCustomerCases).await?,
            _ => {
                return Err(self
                    .deny(
                        actor,
                        "consultations",
                        json!({}),
                        "仅限家长和机构工作人员",
                        "parents and staff only",
                    )
                    .await);
            }
        }
        self.store
            .read()
            .consultations()
            .consultation(id.trim())
            .await?
            .filter(|c| match actor {
                Actor::Parent { account_id } => *account_id == c.parent_id,
                Actor::Staff { institution_id, .. } => *institution_id == c.institution_id,
                _ => false,
            })
            .ok_or_else(|| AppError::not_found("您没有这项咨询", "no such consultation of yours"))
    }

    async fn consultation_view(
        self,
        r: ConsultationRow,
        with_messages: bool,
    ) -> Result<ConsultationView, AppError> {
        let read = self.store.read();
        let institution_name = read
            .registry()
            .institution(&r.institution_id)
            .await?
            .map(|i| i.name)
            .unwrap_or_default();
        let messages = if with_messages {
            read.consultations()
                .consultation_messages(&r.id)
                .await?
                .into_iter()
                .map(|m| ConsultationMessage {
                    from_institution: m.from_institution == 1,
                    body: m.body,
                    at_display: Timestamp::from_millis(m.created_at).china_display(),
                })
                .collect()
        } else {
            Vec::new()
        };
        Ok(ConsultationView {
            created_at_display: Timestamp::from_millis(r.created_at).china_display(),
            answered: r.first_answer_at.is_some(),
            id: r.id,
            institution_id: r.institution_id,
            institution_name,
            topic: r.topic,
            messages,
        })
    }
}
