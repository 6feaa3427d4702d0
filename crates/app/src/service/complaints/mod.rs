//! 投诉 complaints. A parent complains about an institution (a category, the facts, up to three evidence
//! documents, optionally the order concerned). The institution's customer service answers within the region's
//! window (5 working days by default). The parent accepts the answer, or takes the complaint to the competent
//! regulator (the county for offline institutions, the province for online ones) — also when no answer came in
//! time. The regulator records an outcome (mediated, penalised, dismissed) and may act on the order's money:
//! freeze its releases, or order the rest refunded by the original route. Every step is audited, notified
//! (inbox and text message) and counted on the institution's public page.

use crate::events;
use crate::lessons::window_end;
use crate::service::Service;
use crate::{Actor, AppError, ErrorCode, evidence};
use domain::Action;
use domain::access::Permission;
use domain::{ComplaintStatus, Timestamp};
use object_store::ObjectStoreExt;
use rand::Rng;
use serde::{Deserialize, Serialize};
use serde_json::json;
use store::{ComplaintRow, ComplaintsOf, DocumentRow};

mod handling;

/// Complaint categories, with their labels.
pub const CATEGORIES: &[(&str, &str)] = &[
    ("refund", "退费纠纷"),
    ("teaching_quality", "教学质量"),
    ("safety", "安全问题"),
    ("false_advertising", "虚假宣传"),
    ("other", "其他"),
];

/// A regulator's outcomes.
pub const OUTCOMES: &[(&str, &str)] = &[
    ("mediated", "调解结案"),
    ("penalised", "查实，依法处罚"),
    ("dismissed", "不予支持"),
];

/// What a ruling does with the order's money.
pub const MONEY_ACTIONS: &[(&str, &str)] = &[
    ("none", "不涉及资金"),
    ("freeze", "冻结该订单的资金划转"),
    ("refund", "责令退还未消课费用"),
];

/// Evidence files a complaint may carry.
pub const MAX_EVIDENCE: usize = 3;
const MAX_BODY_CHARS: usize = 2000;

fn label(table: &[(&str, &'static str)], key: &str) -> &'static str {
    table
        .iter()
        .find(|(k, _)| *k == key)
        .map_or("", |(_, l)| *l)
}

/// `POST /api/v1/parent/complaints`.
#[derive(Clone, Debug, Default, Deserialize, utoipa::ToSchema)]
pub struct NewComplaint {
    pub institution_id: String,
    /// The order concerned, if any (needed for the regulator to act on money).
    #[serde(default)]
    pub order_id: Option<String>,
    /// `refund`, `teaching_quality`, `safety`, `false_advertising` or `other`.
    pub category: String,
    pub body: String,
}

/// An evidence file as uploaded.
#[derive(Clone, Debug)]
pub struct EvidenceFile {
    pub filename: String,
    pub bytes: Vec<u8>,
}

/// The institution's answer.
#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
pub struct ComplaintAnswer {
    pub answer: String,
}

/// The competent regulator's ruling.
#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
pub struct ComplaintRulingRequest {
    /// `mediated`, `penalised` or `dismissed`.
    pub outcome: String,
    pub ruling: String,
    /// `none` (default), `freeze` or `refund`; the last two need the complaint's order.
    #[serde(default)]
    pub money_action: String,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct EvidenceView {
    pub id: String,
    pub filename: String,
    pub content_type: String,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct ComplaintView {
    pub id: String,
    pub complaint_no: String,
    pub institution_id: String,
    pub institution_name: String,
    pub order_id: Option<String>,
    pub category: String,
    pub category_label: &'static str,
    pub body: String,
    pub status: ComplaintStatus,
    pub status_label: &'static str,
    pub created_at_display: String,
    /// When the institution's time to answer ends (unix ms).
    pub answer_by: i64,
    pub answer_by_display: String,
    pub answer: Option<String>,
    pub answered_at_display: Option<String>,
    pub regulator_region: Option<String>,
    pub ruling_by_display: Option<String>,
    pub outcome: Option<String>,
    pub outcome_label: &'static str,
    pub ruling: Option<String>,
    pub money_action: Option<String>,
    pub money_action_label: &'static str,
    /// The institution let its deadline pass without answering.
    pub institution_overdue: bool,
    /// The regulator let its deadline pass without a ruling.
    pub regulator_overdue: bool,
    /// The parent may take it to the regulator now (answered, or the institution's deadline passed).
    pub may_escalate: bool,
    pub evidence: Vec<EvidenceView>,
}

/// Public figures per institution.
#[derive(Clone, Copy, Debug, Default, Serialize, utoipa::ToSchema)]
pub struct ComplaintFigures {
    pub received: i64,
    pub closed: i64,
    pub escalated: i64,
}

fn complaint_no(now: Timestamp) -> String {
    let n: u64 = rand::rng().random_range(0..100_000_000);
    format!("TS{}{n:08}", now.china_date().format("%Y%m%d"))
}

impl<'a> Service<'a> {
    /// A parent files a complaint; the evidence is stored first and removed again if the complaint cannot be
    /// recorded, so a failure leaves nothing behind.
    pub async fn file_complaint(
        self,
        actor: &Actor,
        new: &NewComplaint,
        evidence_files: &[EvidenceFile],
    ) -> Result<ComplaintView, AppError> {
        let parent_id = self.require_parent(actor).await?.to_owned();
        if !CATEGORIES.iter().any(|(k, _)| *k == new.category) {
            return Err(AppError::new(
                ErrorCode::InvalidParameter,
                "投诉类别：须为退费、教学质量、安全、虚假宣传或其他",
                "category: refund, teaching_quality, safety, false_advertising or other",
            )
            .on("category"));
        }
        let body = new.body.trim();
        if body.is_empty() || body.chars().count() > MAX_BODY_CHARS {
            return Err(AppError::new(
                ErrorCode::FieldTooLong,
                format!("内容：须为1至{MAX_BODY_CHARS}个字符"),
                format!("body: 1 to {MAX_BODY_CHARS} characters"),
            ));
        }
        if evidence_files.len() > MAX_EVIDENCE {
            return Err(AppError::new(
                ErrorCode::InvalidParameter,
                format!("上课凭证最多{MAX_EVIDENCE}份"),
                format!("at most {MAX_EVIDENCE} evidence files"),
            ));
        }
        let vetted = evidence_files
            .iter()
            .map(|f| crate::onboarding::vet_document(&f.filename, &f.bytes))
            .collect::<Result<Vec<_>, _>>()?;
        let institution = self
            .store
            .read()
            .registry()
            .institution(new.institution_id.trim())
            .await?
            .ok_or_else(|| AppError::not_found("没有这家机构", "no such institution"))?;
        let order_id = match new.order_id.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(id) => Some(
                self.store
                    .read()
                    .orders()
                    .order(id)
                    .await?
                    .filter(|o| o.parent_id == parent_id && o.institution_id == institution.id)
                    .ok_or_else(|| {
                        AppError::not_found(
                            "您在该机构没有这个订单",
                            "no such order of yours at this institution",
                        )
                    })?
                    .id,
            ),
        };
        let window = self
            .registry()
            .region_policy(&institution.region_code)
            .await?
            .policy
            .complaint_response_working_days;
        let now = self.clock.now();
        let at = now.millis();
        let row = ComplaintRow {
            id: uuid::Uuid::now_v7().to_string(),
            complaint_no: complaint_no(now),
            institution_id: institution.id.clone(),
            parent_id,
            order_id,
            category: new.category.clone(),
            body: body.to_owned(),
            status: ComplaintStatus::WithInstitution,
            created_at: at,
            answer_by: window_end(now.china_date(), window),
            answer: None,
            answered_at: None,
            escalated_at: None,
            regulator_region: None,
            ruling_by: None,
            outcome: None,
            ruling: None,
            money_action: None,
            resolved_by: None,
            closed_at: None,
        };
        let documents: Vec<DocumentRow> = evidence_files
            .iter()
            .zip(vetted)
            .map(|(f, (filename, content_type))| {
                let id = uuid::Uuid::now_v7().to_string();
                DocumentRow {
                    storage_key: format!("complaints/{}/{id}", row.id),
                    id,
                    institution_id: institution.id.clone(),
                    kind: "complaint_evidence".into(),
                    filename,
                    content_type: content_type.to_owned(),
                    size: f.bytes.len() as i64,
                    digest: hex::encode(self.store.crypto().hash(&[&f.bytes])),
                    uploaded_by: actor.audit_name(),
                    uploaded_at: at,
                }
            })
            .collect();
        let paths: Vec<object_store::path::Path> = documents
            .iter()
            .map(|d| object_store::path::Path::from(d.storage_key.as_str()))
            .collect();
        let mut stored = Ok(());
        for (path, f) in paths.iter().zip(evidence_files) {
            stored = self
                .documents
                .put(path, f.bytes.clone().into())
                .await
                .map(|_| ())
                .map_err(|e| {
                    AppError::new(
                        ErrorCode::Unavailable,
                        "材料存储暂不可用",
                        format!("document store: {e}"),
                    )
                });
            if stored.is_err() {
                break;
            }
        }
        let recorded = match stored {
            Ok(()) => self.record_complaint(actor, &row, &documents).await,
            Err(e) => Err(e),
        };
        if let Err(e) = recorded {
            for path in &paths {
                let _ = self.documents.delete(path).await;
            }
            return Err(e);
        }
        self.complaint_view(row).await
    }

    async fn record_complaint(
        self,
        actor: &Actor,
        row: &ComplaintRow,
        documents: &[DocumentRow],
    ) -> Result<(), AppError> {
        let mut tx = self.store.begin_write().await?;
        for d in documents {
            tx.filings().insert_document(d).await?;
        }
        let ids: Vec<String> = documents.iter().map(|d| d.id.clone()).collect();
        tx.complaints().insert_complaint(row, &ids).await?;
        tx.append_audit(vec![evidence::record(
            &actor.audit_name(),
            row.created_at,
            Action::ComplaintFiled,
            format!("institution:{}", row.institution_id),
            events::public(
                &events::ComplaintOpened {
                    complaint: row.id.clone(),
                    complaint_no: row.complaint_no.clone(),
                    category: row.category.clone(),
                    order: row.order_id.clone(),
                },
                json!({"evidence": documents.iter().map(|d| json!({"document": d.id, "digest": d.digest})).collect::<Vec<_>>()}),
            ),
        )])
        .await?;
        let staff = tx.inbox().staff_accounts_of(&row.institution_id).await?;
        let due = Timestamp::from_millis(row.answer_by).china_display();
        self.notify_by_sms_in(
            &mut tx,
            &staff,
            "收到家长投诉",
            &format!(
                "投诉 {}（{}），请于 {due} 前答复",
                row.complaint_no,
                label(CATEGORIES, &row.category)
            ),
            row.created_at,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The complaints a party works on: a parent's own, those to a staff member's institution, those taken to
    /// a regulator in the regulator's region subtree.
    pub async fn complaints_for(self, actor: &Actor) -> Result<Vec<ComplaintView>, AppError> {
        let rows = match actor {
            Actor::Parent { account_id } => {
                self.store
                    .read()
                    .complaints()
                    .list(ComplaintsOf::Parent(account_id))
                    .await?
            }
            Actor::Staff { .. } => {
                self.require(actor, Permission::HandleCustomerCases).await?;
                let institution_id = self.own_institution(actor).await?;
                self.store
                    .read()
                    .complaints()
                    .list(ComplaintsOf::Institution(&institution_id))
                    .await?
            }
            Actor::Regulator { region, .. } if actor.has(Permission::SuperviseInstitution) => {
                self.store
                    .read()
                    .complaints()
                    .list(ComplaintsOf::RegulatorsUnder(region.prefix()))
                    .await?
            }
            _ => {
                return Err(self
                    .deny(
                        actor,
                        "complaints",
                        json!({}),
                        "仅限家长、机构工作人员和监管员",
                        "parents, staff and supervisors only",
                    )
                    .await);
            }
        };
        let mut views = Vec::with_capacity(rows.len());
        for row in rows {
            views.push(self.complaint_view(row).await?);
        }
        Ok(views)
    }

    /// One complaint, for its parent, the institution's staff, or a regulator over the institution.
    pub async fn complaint_for(self, actor: &Actor, id: &str) -> Result<ComplaintView, AppError> {
        match actor {
            Actor::Parent { .. } => {}
            Actor::Staff { .. } => self.require(actor, Permission::HandleCustomerCases).await?,
            Actor::Regulator { .. } => {
                self.require(actor, Permission::ViewInstitutionPrivate)
                    .await?
            }
            _ => {
                return Err(self
                    .deny(
                        actor,
                        "complaints",
                        json!({}),
                        "仅限投诉相关方",
                        "the complaint's parties only",
                    )
                    .await);
            }
        }
        let row = self
            .store
            .read()
            .complaints()
            .complaint(id.trim())
            .await?
            .ok_or_else(|| AppError::not_found("没有这件投诉", "no such complaint"))?;
        let allowed = match actor {
            Actor::Parent { account_id } => *account_id == row.parent_id,
            Actor::Staff { institution_id, .. } => {
                *institution_id == row.institution_id && actor.has(Permission::HandleCustomerCases)
            }
            Actor::Regulator { .. } => {
                let institution = self.registry().institution_row(&row.institution_id).await?;
                self.registry()
                    .require_sight_of(actor, &institution)
                    .await?;
                true
            }
            _ => false,
        };
        if !allowed {
            // Someone else's complaint is not found, as if it did not exist.
            return Err(AppError::not_found("没有这件投诉", "no such complaint"));
        }
        self.complaint_view(row).await
    }

    /// An institution's complaint figures, for its public page.
    pub async fn complaint_figures(
        self,
        institution_id: &str,
    ) -> Result<ComplaintFigures, AppError> {
        let c = self
            .store
            .read()
            .complaints()
            .complaint_counts(institution_id)
            .await?;
        Ok(ComplaintFigures {
            received: c.received,
            closed: c.closed,
            escalated: c.escalated,
        })
    }

    async fn parents_complaint_in(
        self,
        tx: &mut store::WriteTx,
        parent_id: &str,
        id: &str,
    ) -> Result<ComplaintRow, AppError> {
        tx.complaints()
            .complaint(id.trim())
            .await?
            .filter(|c| c.parent_id == parent_id)
            .ok_or_else(|| AppError::not_found("您没有这件投诉", "no such complaint of yours"))
    }

    async fn complaint_by_id(self, id: &str) -> Result<ComplaintView, AppError> {
        let row = self
            .store
            .read()
            .complaints()
            .complaint(id)
            .await?
            .ok_or_else(|| AppError::internal("complaint vanished"))?;
        self.complaint_view(row).await
    }

    async fn complaint_view(self, r: ComplaintRow) -> Result<ComplaintView, AppError> {
        let now = self.clock.now().millis();
        let institution_name = self
            .store
            .read()
            .registry()
            .institution(&r.institution_id)
            .await?
            .map(|i| i.name)
            .unwrap_or_default();
        let evidence = self
            .store
            .read()
            .complaints()
            .complaint_documents(&r.id)
            .await?
            .into_iter()
            .map(|d| EvidenceView {
                id: d.id,
                filename: d.filename,
                content_type: d.content_type,
            })
            .collect();
        let institution_overdue = r.status.institution_overdue(now, r.answer_by);
        Ok(ComplaintView {
            category_label: label(CATEGORIES, &r.category),
            status_label: r.status.label_zh(),
            created_at_display: Timestamp::from_millis(r.created_at).china_display(),
            answer_by: r.answer_by,
            answer_by_display: Timestamp::from_millis(r.answer_by).china_display(),
            answered_at_display: r
                .answered_at
                .map(|t| Timestamp::from_millis(t).china_display()),
            ruling_by_display: r
                .ruling_by
                .map(|t| Timestamp::from_millis(t).china_display()),
            outcome_label: r.outcome.as_deref().map_or("", |o| label(OUTCOMES, o)),
            money_action_label: r
                .money_action
                .as_deref()
                .map_or("", |a| label(MONEY_ACTIONS, a)),
            institution_overdue,
            regulator_overdue: r.status == ComplaintStatus::Escalated
                && r.ruling_by.is_some_and(|t| now >= t),
            may_escalate: r.status.may_escalate(institution_overdue),
            evidence,
            institution_name,
            id: r.id,
            complaint_no: r.complaint_no,
            institution_id: r.institution_id,
            order_id: r.order_id,
            category: r.category,
            body: r.body,
            status: r.status,
            answer: r.answer,
            regulator_region: r.regulator_region,
            outcome: r.outcome,
            ruling: r.ruling,
            money_action: r.money_action,
        })
    }
}
