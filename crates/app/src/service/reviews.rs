//! 评价 reviews: a parent with at least one confirmed lesson on an order reviews the institution once per order
//! (stars on four dimensions and a text that passes the blocked-word check); the institution may reply once; a
//! regulator over the institution hides a review with a reason — nothing is deleted. The public sees the visible
//! reviews and the aggregate weighted by confirmed lessons (`domain::review`).

use crate::error::field_label;
use crate::service::Service;
use crate::{Actor, AppError, ErrorCode, evidence};
use domain::Action;
use domain::access::Permission;
use domain::review::{Ratings, blocked_words, weighted_average};
use domain::{RegionCode, Timestamp};
use serde::{Deserialize, Serialize};
use serde_json::json;
use store::ReviewRow;

/// `POST /api/v1/parent/orders/{id}/review`.
#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
pub struct NewReview {
    pub ratings: Ratings,
    pub text: String,
}

/// `POST …/reply` and `POST …/hide`.
#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
pub struct ReviewNote {
    pub text: String,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct ReviewView {
    pub id: String,
    pub ratings: Ratings,
    pub text: String,
    pub weight: i64,
    pub created_at_display: String,
    pub reply: Option<String>,
}

/// What the public sees of an institution's reviews.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct PublicReviews {
    pub count: usize,
    /// Weighted means in stars with two decimals, e.g. "4.87" (teaching, environment, service, value).
    pub averages: Option<[String; 4]>,
    pub reviews: Vec<ReviewView>,
}

fn text(field: &str, v: &str, max: usize) -> Result<String, AppError> {
    let v = v.trim();
    if v.is_empty() || v.chars().count() > max {
        return Err(AppError::new(
            ErrorCode::FieldTooLong,
            format!("{}：须为1至{max}个字符", field_label(field)),
            format!("{field}: 1 to {max} characters"),
        )
        .on(field));
    }
    let blocked = blocked_words(v);
    if !blocked.is_empty() {
        return Err(AppError::new(
            ErrorCode::BlockedWords,
            format!("{}含有：{}", field_label(field), blocked.join("、")),
            format!("{field} contains: {}", blocked.join("、")),
        )
        .on(field));
    }
    Ok(v.to_owned())
}

fn ratings(r: &ReviewRow) -> Ratings {
    let star = |v: i64| u8::try_from(v).unwrap_or(0);
    Ratings {
        teaching: star(r.teaching),
        environment: star(r.environment),
        service: star(r.service),
        value: star(r.value_for_money),
    }
}

fn view(r: ReviewRow) -> ReviewView {
    ReviewView {
        ratings: ratings(&r),
        created_at_display: Timestamp::from_millis(r.created_at).china_display(),
        id: r.id,
        text: r.body,
        weight: r.weight,
        reply: r.reply,
    }
}

impl<'a> Service<'a> {
    /// A parent reviews the institution of one of their orders, once, after a confirmed lesson.
    pub async fn post_review(
        self,
        actor: &Actor,
        order_id: &str,
        new: &NewReview,
    ) -> Result<ReviewView, AppError> {
        let parent_id = self.require_parent(actor).await?;
        if !new.ratings.valid() {
            return Err(AppError::new(
                ErrorCode::InvalidParameter,
                "评分：每项1至5星",
                "ratings: 1 to 5 stars each",
            )
            .on("ratings"));
        }
        let body = text("text", &new.text, 500)?;
        let order = self
            .store
            .read()
            .orders()
            .order(order_id.trim())
            .await?
            .filter(|o| o.parent_id == parent_id)
            .ok_or_else(|| AppError::not_found("您没有这个订单", "no such order of yours"))?;
        let confirmed = self
            .store
            .read()
            .reviews()
            .confirmed_lessons(&order.id)
            .await?;
        if confirmed == 0 {
            return Err(AppError::new(
                ErrorCode::ReviewNeedsConfirmedLesson,
                "该订单还没有已确认的课时",
                "the order has no confirmed lesson yet",
            ));
        }
        let now = self.clock.now().millis();
        let row = ReviewRow {
            id: uuid::Uuid::now_v7().to_string(),
            institution_id: order.institution_id.clone(),
            order_id: order.id.clone(),
            parent_id: parent_id.to_owned(),
            teaching: i64::from(new.ratings.teaching),
            environment: i64::from(new.ratings.environment),
            service: i64::from(new.ratings.service),
            value_for_money: i64::from(new.ratings.value),
            body,
            weight: confirmed,
            created_at: now,
            reply: None,
            replied_at: None,
            hidden_reason: None,
            hidden_by: None,
            hidden_at: None,
        };
        let mut tx = self.store.begin_write().await?;
        tx.reviews().insert_review(&row).await?;
        tx.append_audit(vec![evidence::record(
            &actor.audit_name(),
            now,
            Action::ReviewPosted,
            format!("institution:{}", row.institution_id),
            json!({"review": row.id, "order": row.order_id, "weight": row.weight}),
        )])
        .await?;
        tx.commit().await?;
        Ok(view(row))
    }

    /// May the parent review this order now: theirs, a confirmed lesson, no review yet?
    pub async fn may_review(self, actor: &Actor, order_id: &str) -> Result<bool, AppError> {
        let Actor::Parent { account_id } = actor else {
            return Ok(false);
        };
        let read = self.store.read();
        let Some(order) = read
            .orders()
            .order(order_id)
            .await?
            .filter(|o| o.parent_id == *account_id)
        else {
            return Ok(false);
        };
        Ok(read.reviews().review_of_order(&order.id).await?.is_none()
            && read.reviews().confirmed_lessons(&order.id).await? > 0)
    }

    /// The institution replies to a review of it, once.
    pub async fn reply_review(
        self,
        actor: &Actor,
        review_id: &str,
        note: &ReviewNote,
    ) -> Result<ReviewView, AppError> {
        self.require(actor, Permission::HandleCustomerCases).await?;
        let institution_id = self.own_institution(actor).await?;
        let reply = text("text", &note.text, 500)?;
        let review = self
            .store
            .read()
            .reviews()
            .review(review_id.trim())
            .await?
            .filter(|r| r.institution_id == institution_id)
            .ok_or_else(|| {
                AppError::not_found("本机构没有这条评价", "no such review of your institution")
            })?;
        let now = self.clock.now().millis();
        let mut tx = self.store.begin_write().await?;
        if tx.reviews().reply_review(&review.id, &reply, now).await? != 1 {
            return Err(AppError::new(
                ErrorCode::Conflict,
                "该评价已有回复",
                "the review has a reply",
            ));
        }
        tx.append_audit(vec![evidence::record(
            &actor.audit_name(),
            now,
            Action::ReviewReplied,
            format!("institution:{institution_id}"),
            json!({"review": review.id}),
        )])
        .await?;
        tx.commit().await?;
        let replied = self
            .store
            .read()
            .reviews()
            .review(&review.id)
            .await?
            .ok_or_else(|| AppError::internal("review vanished"))?;
        Ok(view(replied))
    }

    /// A regulator over the institution hides a review, with a reason; it is kept.
    pub async fn hide_review(
        self,
        actor: &Actor,
        review_id: &str,
        note: &ReviewNote,
    ) -> Result<(), AppError> {
        let review = self
            .store
            .read()
            .reviews()
            .review(review_id.trim())
            .await?
            .ok_or_else(|| AppError::not_found("没有这条评价", "no such review"))?;
        let institution = self
            .store
            .read()
            .registry()
            .institution(&review.institution_id)
            .await?
            .ok_or_else(|| AppError::internal("review of a missing institution"))?;
        let region = RegionCode::parse(&institution.region_code)?;
        let subject = format!("institution:{}", institution.id);
        self.require_regulator_over(actor, Permission::SuperviseInstitution, &region, &subject)
            .await?;
        let reason = crate::error::stated_reason("text", &note.text)?;
        let now = self.clock.now().millis();
        let mut tx = self.store.begin_write().await?;
        if tx
            .reviews()
            .hide_review(&review.id, reason, &actor.audit_name(), now)
            .await?
            != 1
        {
            return Err(AppError::new(
                ErrorCode::Conflict,
                "该评价已经隐藏",
                "the review is hidden already",
            ));
        }
        tx.append_audit(vec![evidence::record(
            &actor.audit_name(),
            now,
            Action::ReviewHidden,
            subject,
            json!({"review": review.id, "reason": reason}),
        )])
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The visible reviews of an institution and their aggregate weighted by confirmed lessons.
    pub async fn public_reviews(self, institution_id: &str) -> Result<PublicReviews, AppError> {
        let visible: Vec<ReviewRow> = self
            .store
            .read()
            .reviews()
            .reviews_of(institution_id.trim())
            .await?
            .into_iter()
            .filter(|r| r.hidden_at.is_none())
            .collect();
        let weighed: Vec<(Ratings, u32)> = visible
            .iter()
            .map(|r| (ratings(r), u32::try_from(r.weight).unwrap_or(0)))
            .collect();
        let stars = |h: u32| format!("{}.{:02}", h / 100, h % 100);
        Ok(PublicReviews {
            count: visible.len(),
            averages: weighted_average(&weighed).map(|a| a.map(stars)),
            reviews: visible.into_iter().map(view).collect(),
        })
    }
}
