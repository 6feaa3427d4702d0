//! 入驻与信息报备 an institution joins the platform (直接入驻), files its information with documents, and
//! submits it to the competent regulator (offline: the county of the premises; online: the province), who
//! approves it or rejects it with a reason per field. Approval lists the institution — grey until its
//! supervised account is confirmed (the bank issue), then white.

use crate::admin::{NewAccount, NewAccountKind};
use crate::error::required_text as text;
use crate::{Actor, App, AppError, ErrorCode, evidence};
use domain::access::{Permission, StaffRole, competent_region, regulator_reviews};
use domain::credit_code::CreditCode;
use domain::filing::{FIELDS, Filing, FilingError, field_label};
use domain::{
    Category, FilingEvent, FilingStatus, InstitutionId, ListChangeId, ListStatus, RegionCode,
    RegionLevel, TeachingMode, Timestamp,
};
use object_store::ObjectStoreExt;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::BTreeMap;
use store::{DocumentRow, FilingRow, InstitutionRow, ListChangeRow};

/// The grey list's reason for an approved institution whose supervised account the bank has yet to
/// confirm; the bank's confirmation moves exactly these to the white list.
pub const APPROVED_AWAITING_FUNDS: &str = "审核通过，待资金监管账户确认";

/// Largest document accepted, in bytes.
pub const MAX_DOCUMENT_BYTES: usize = 10 * 1024 * 1024;
/// Document kinds an institution files.
pub const DOCUMENT_KINDS: &[(&str, &str)] = &[
    ("licence", "办学许可证"),
    ("legal_person", "法人登记证书"),
    ("premises", "场地产权或租赁证明"),
    ("health", "卫生证明"),
    ("fire", "消防证明"),
    ("record_check", "入职查询结果（从业人员）"),
    ("other", "其他材料"),
];

/// `POST /api/v1/institutions/sign-up`.
#[derive(Clone, Deserialize, utoipa::ToSchema)]
pub struct SignUp {
    pub name: String,
    /// 统一社会信用代码 (GB 32100, check character verified).
    pub credit_code: String,
    /// `online` or `offline`.
    pub mode: String,
    /// The county (区县) of the premises.
    pub region_code: String,
    pub address: String,
    /// Category codes: subject, sports, arts, practice, technology.
    pub categories: Vec<String>,
    pub admin_username: String,
    pub admin_display_name: String,
    /// The admin's own password (10 to 128 characters).
    pub admin_password: String,
}

impl std::fmt::Debug for SignUp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignUp")
            .field("name", &self.name)
            .field("credit_code", &self.credit_code)
            .finish_non_exhaustive()
    }
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct SignedUp {
    pub institution_id: String,
    pub admin_account_id: String,
}

/// A field path with its Chinese name.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct FieldNote {
    pub field: String,
    pub label: String,
    /// The reviewer's reason (for a rejected field).
    pub reason: Option<String>,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct DocumentView {
    pub id: String,
    pub kind: String,
    pub filename: String,
    pub content_type: String,
    pub size: i64,
    /// SM3 (or SHA-256) of the bytes, hex; also in the audit log.
    pub digest: String,
    pub uploaded_at_display: String,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct FilingVersionView {
    pub version: i64,
    pub kind: String,
    pub status: FilingStatus,
    pub submitted_at_display: Option<String>,
    pub decided_at_display: Option<String>,
    pub rejected_fields: Vec<FieldNote>,
}

/// The institution's filing as its staff and its regulators see it.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct FilingView {
    pub institution_id: String,
    pub institution_name: String,
    /// `applying`, `listed` or `removed`.
    pub registry_state: domain::RegistryState,
    pub version: i64,
    /// `draft`, `submitted`, `approved` or `rejected`.
    pub status: FilingStatus,
    pub data: Filing,
    /// What a submission still lacks (empty: complete).
    pub missing: Vec<FieldNote>,
    /// Percentage of the required items present.
    pub completeness: u32,
    /// The reviewer's reasons, when the newest decided version was rejected.
    pub rejected_fields: Vec<FieldNote>,
    pub documents: Vec<DocumentView>,
    pub history: Vec<FilingVersionView>,
}

/// A review-queue item.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct QueueItem {
    pub institution_id: String,
    pub name: String,
    pub region_name: String,
    pub kind: String,
    pub version: i64,
    pub submitted_at_display: String,
    /// Whole days since submission.
    pub age_days: i64,
}

/// `POST /api/v1/regulator/reviews/{institution_id}/decision`.
#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
pub struct Decision {
    pub approve: bool,
    /// For a rejection: field path → reason (at least one).
    #[serde(default)]
    pub field_reasons: BTreeMap<String, String>,
}

fn filing_error(e: FilingError) -> AppError {
    let code = match e {
        FilingError::Expired { .. } => ErrorCode::CertificateExpired,
        _ => ErrorCode::InvalidParameter,
    };
    AppError::new(code, e.to_string())
}

/// A document's name and bytes checked: not empty, at most 10 MB, PDF, JPEG or PNG by content (never by
/// name: a ".pdf" that is an executable is refused). Returns the trimmed name and the content type.
pub(crate) fn vet_document(
    filename: &str,
    bytes: &[u8],
) -> Result<(String, &'static str), AppError> {
    let filename = text("filename", filename, 200)?;
    if bytes.is_empty() {
        return Err(AppError::new(
            ErrorCode::DocumentRejected,
            "the file is empty",
        ));
    }
    if bytes.len() > MAX_DOCUMENT_BYTES {
        return Err(AppError::new(
            ErrorCode::DocumentTooLarge,
            format!("{} bytes; at most {MAX_DOCUMENT_BYTES}", bytes.len()),
        ));
    }
    match infer::get(bytes).map(|t| t.mime_type()) {
        Some(t @ ("application/pdf" | "image/jpeg" | "image/png")) => Ok((filename, t)),
        other => Err(AppError::new(
            ErrorCode::DocumentRejected,
            format!(
                "the content is {}, not PDF, JPEG or PNG",
                other.unwrap_or("unknown")
            ),
        )),
    }
}

fn notes(paths: &[&str]) -> Vec<FieldNote> {
    paths
        .iter()
        .map(|p| FieldNote {
            field: (*p).to_owned(),
            label: field_label(p).unwrap_or(p).to_owned(),
            reason: None,
        })
        .collect()
}

fn reasons(row: &FilingRow) -> Vec<FieldNote> {
    let map: BTreeMap<String, String> = row
        .field_reasons
        .as_deref()
        .and_then(|r| serde_json::from_str(r).ok())
        .unwrap_or_default();
    map.into_iter()
        .map(|(field, reason)| FieldNote {
            label: field_label(&field).unwrap_or(&field).to_owned(),
            field,
            reason: Some(reason),
        })
        .collect()
}

fn display(ms: Option<i64>) -> Option<String> {
    ms.map(|m| Timestamp::from_millis(m).china_display())
}

fn document_view(d: DocumentRow) -> DocumentView {
    DocumentView {
        uploaded_at_display: Timestamp::from_millis(d.uploaded_at).china_display(),
        id: d.id,
        kind: d.kind,
        filename: d.filename,
        content_type: d.content_type,
        size: d.size,
        digest: d.digest,
    }
}

/// Required items for the completeness percentage.
const REQUIRED_ITEMS: u32 = 17;

impl App {
    /// 直接入驻: the institution's record (not public until approved) and its first admin, in one
    /// transaction.
    pub async fn sign_up(&self, req: &SignUp) -> Result<SignedUp, AppError> {
        let name = text("name", &req.name, 100)?;
        let credit_code = CreditCode::parse(req.credit_code.trim()).map_err(|_| {
            AppError::new(
                ErrorCode::InvalidCreditCode,
                "credit_code: 18 characters with a valid GB 32100 check character",
            )
        })?;
        let mode = TeachingMode::parse(req.mode.trim())?;
        let region = RegionCode::parse(req.region_code.trim())?;
        if region.level() != RegionLevel::County || !self.regions.known(&region) {
            return Err(AppError::new(
                ErrorCode::UnknownRegion,
                "region_code: a county (区县) of the premises",
            ));
        }
        let address = text("address", &req.address, 200)?;
        let categories = req
            .categories
            .iter()
            .map(|c| Category::parse(c.trim()))
            .collect::<Result<Vec<_>, _>>()?;
        if categories.is_empty() {
            return Err(AppError::new(
                ErrorCode::InvalidCategory,
                "categories: at least one",
            ));
        }
        let now = self.clock.now();
        let id = InstitutionId::new_v7().to_string();
        let admin = NewAccount {
            username: req.admin_username.trim().to_owned(),
            display_name: req.admin_display_name.clone(),
            password: req.admin_password.clone(),
            kind: NewAccountKind::Staff {
                institution_id: id.clone(),
                role: StaffRole::Admin,
            },
        };
        let mut account = self.account_row(&admin, false, now.millis())?;
        let institution = InstitutionRow {
            id: id.clone(),
            name,
            credit_code: credit_code.as_str().to_owned(),
            licence_no: None,
            region_code: region.to_string(),
            address,
            mode: mode.as_str().to_owned(),
            categories: categories
                .iter()
                .map(|c| c.as_str())
                .collect::<Vec<_>>()
                .join(","),
            intro: String::new(),
            list_status: domain::ListStatus::Grey,
            list_reason: "入驻申请中".into(),
            list_changed_at: now.millis(),
            created_at: now.millis(),
            updated_at: now.millis(),
            registry_state: domain::RegistryState::Applying,
        };
        account.password_hash = Some(crate::auth::hash_password(&req.admin_password)?);
        let public = Actor::Public;
        let entries = vec![
            crate::evidence::record(
                "public",
                now.millis(),
                "institution.signed_up",
                format!("institution:{id}"),
                json!({"id": id, "name": institution.name, "credit_code": institution.credit_code,
                       "region_code": institution.region_code, "mode": institution.mode,
                       "categories": institution.categories, "address": institution.address}),
            ),
            crate::admin::account_created(&public, &account, now.millis()),
        ];
        let mut tx = self.store.begin_write().await?;
        tx.insert_institutions(std::slice::from_ref(&institution))
            .await?;
        tx.insert_accounts(std::slice::from_ref(&account)).await?;
        tx.append_audit(entries).await?;
        tx.commit().await?;
        Ok(SignedUp {
            institution_id: id,
            admin_account_id: account.id,
        })
    }

    /// The institution whose admin the actor is (who files, hires and binds accounts), or an audited
    /// refusal.
    pub(crate) async fn admins_institution(&self, actor: &Actor) -> Result<String, AppError> {
        match actor {
            Actor::Staff { institution_id, .. } if actor.has(Permission::EditOwnFiling) => {
                Ok(institution_id.clone())
            }
            _ => Err(self
                .deny(
                    actor,
                    "platform",
                    json!({"permission": "EditOwnFiling"}),
                    "only the institution's admin",
                )
                .await),
        }
    }

    async fn filing_view(&self, institution: &InstitutionRow) -> Result<FilingView, AppError> {
        let reader = self.store.read();
        let versions = reader.filings_of(&institution.id).await?;
        let documents = reader.documents_of(&institution.id).await?;
        let kinds: Vec<&str> = documents.iter().map(|d| d.kind.as_str()).collect();
        let latest = versions.first();
        let data: Filing = match latest {
            Some(v) => serde_json::from_str(&v.data)
                .map_err(|e| AppError::internal(format!("stored filing: {e}")))?,
            // A first draft starts from what the sign-up (or, for a listed institution, the registry) says.
            None => Filing {
                basic: domain::filing::BasicSection {
                    name: institution.name.clone(),
                    ..Default::default()
                },
                premises: domain::filing::PremisesSection {
                    address: institution.address.clone(),
                    ..Default::default()
                },
                ..Default::default()
            },
        };
        let missing = data.missing(&kinds);
        let present = REQUIRED_ITEMS.saturating_sub(missing.len() as u32);
        let rejected_fields = versions
            .iter()
            .find(|v| v.status != FilingStatus::Draft)
            .filter(|v| v.status == FilingStatus::Rejected)
            .map(reasons)
            .unwrap_or_default();
        Ok(FilingView {
            institution_id: institution.id.clone(),
            institution_name: institution.name.clone(),
            registry_state: institution.registry_state,
            version: latest.map_or(0, |v| v.version),
            status: latest.map_or(FilingStatus::Draft, |v| v.status),
            completeness: present * 100 / REQUIRED_ITEMS,
            missing: notes(&missing),
            rejected_fields,
            documents: documents.into_iter().map(document_view).collect(),
            history: versions
                .iter()
                .map(|v| FilingVersionView {
                    version: v.version,
                    kind: v.kind.clone(),
                    status: v.status,
                    submitted_at_display: display(v.submitted_at),
                    decided_at_display: display(v.decided_at),
                    rejected_fields: reasons(v),
                })
                .collect(),
            data,
        })
    }

    pub(crate) async fn institution_row(&self, id: &str) -> Result<InstitutionRow, AppError> {
        let id = InstitutionId::parse(id)?.to_string();
        self.store
            .read()
            .institution(&id)
            .await?
            .ok_or_else(|| AppError::not_found(format!("no institution {id}")))
    }

    /// The admin's own filing: the newest version, what it lacks, its documents and history.
    pub async fn my_filing(&self, actor: &Actor) -> Result<FilingView, AppError> {
        let id = self.admins_institution(actor).await?;
        self.filing_view(&self.institution_row(&id).await?).await
    }

    /// Saves the draft (a new version after a decision); refused while a version is under review.
    pub async fn save_filing(
        &self,
        actor: &Actor,
        filing: &Filing,
    ) -> Result<FilingView, AppError> {
        let id = self.admins_institution(actor).await?;
        let now = self.clock.now();
        filing.check(now.china_date()).map_err(filing_error)?;
        let institution = self.institution_row(&id).await?;
        let data = serde_json::to_string(filing).map_err(|e| AppError::internal(e.to_string()))?;
        let mut tx = self.store.begin_write().await?;
        let version = match tx.latest_filing(&id).await? {
            Some(v) if v.status == FilingStatus::Submitted => {
                return Err(AppError::new(
                    ErrorCode::Conflict,
                    "the filing is under review",
                ));
            }
            Some(v) if v.status == FilingStatus::Draft => {
                tx.update_draft(&id, v.version, &data, now.millis()).await?;
                v.version
            }
            latest => {
                let version = latest.map_or(1, |v| v.version + 1);
                let kind = if institution.registry_state == domain::RegistryState::Applying {
                    "onboarding"
                } else {
                    "change"
                };
                tx.insert_filing(&FilingRow {
                    institution_id: id.clone(),
                    version,
                    kind: kind.into(),
                    status: FilingStatus::Draft,
                    data,
                    competent_region: None,
                    submitted_at: None,
                    decided_at: None,
                    decided_by: None,
                    field_reasons: None,
                    updated_at: now.millis(),
                })
                .await?;
                version
            }
        };
        tx.append_audit(vec![crate::evidence::record(
            &actor.audit_name(),
            now.millis(),
            "filing.saved",
            format!("institution:{id}"),
            json!({"version": version}),
        )])
        .await?;
        tx.commit().await?;
        self.filing_view(&institution).await
    }

    /// Submits the draft to the competent regulator; it must be complete.
    pub async fn submit_filing(&self, actor: &Actor) -> Result<FilingView, AppError> {
        let id = self.admins_institution(actor).await?;
        let institution = self.institution_row(&id).await?;
        let view = self.filing_view(&institution).await?;
        if view.status != FilingStatus::Draft || view.version == 0 {
            return Err(AppError::new(
                ErrorCode::Conflict,
                "no draft to submit: save the filing first",
            ));
        }
        if !view.missing.is_empty() {
            let labels: Vec<&str> = view.missing.iter().map(|m| m.label.as_str()).collect();
            return Err(AppError::new(
                ErrorCode::FilingIncomplete,
                format!("still missing: {}", labels.join("、")),
            ));
        }
        let region = competent_region(
            TeachingMode::parse(&institution.mode)?,
            &RegionCode::parse(&institution.region_code)?,
        );
        let now = self.clock.now().millis();
        let mut tx = self.store.begin_write().await?;
        tx.submit_filing(&id, view.version, region.as_str(), now)
            .await?;
        tx.append_audit(vec![crate::evidence::record(
            &actor.audit_name(),
            now,
            "filing.submitted",
            format!("institution:{id}"),
            json!({"version": view.version, "competent_region": region.as_str()}),
        )])
        .await?;
        tx.commit().await?;
        self.filing_view(&institution).await
    }

    /// Stores a document (PDF, JPEG or PNG by content, at most 10 MB) for the admin's institution; its
    /// digest goes to the audit log.
    pub async fn upload_document(
        &self,
        actor: &Actor,
        kind: &str,
        filename: &str,
        bytes: &[u8],
    ) -> Result<DocumentView, AppError> {
        let id = self.admins_institution(actor).await?;
        if !DOCUMENT_KINDS.iter().any(|(k, _)| *k == kind) {
            return Err(AppError::new(
                ErrorCode::InvalidParameter,
                "kind: licence, legal_person, premises, health, fire, record_check or other",
            ));
        }
        let (row, path) = self.put_document(actor, &id, kind, filename, bytes).await?;
        let now = row.uploaded_at;
        let recorded = async {
            let mut tx = self.store.begin_write().await?;
            tx.insert_document(&row).await?;
            tx.append_audit(vec![crate::evidence::record(
                &actor.audit_name(),
                now,
                "document.uploaded",
                format!("institution:{id}"),
                json!({"document": row.id, "kind": kind, "content_type": row.content_type,
                       "size": row.size, "digest": row.digest}),
            )])
            .await?;
            tx.commit().await.map_err(AppError::from)
        }
        .await;
        if let Err(e) = recorded {
            self.forget_document(&path).await;
            return Err(e);
        }
        Ok(document_view(row))
    }

    /// Vets a document (PDF, JPEG or PNG by content) and puts its bytes in the document store; the caller
    /// records the returned row in its transaction and calls [`Self::forget_document`] if that fails.
    pub(crate) async fn put_document(
        &self,
        actor: &Actor,
        institution_id: &str,
        kind: &str,
        filename: &str,
        bytes: &[u8],
    ) -> Result<(DocumentRow, object_store::path::Path), AppError> {
        let (filename, content_type) = vet_document(filename, bytes)?;
        let doc_id = uuid::Uuid::now_v7().to_string();
        let row = DocumentRow {
            id: doc_id.clone(),
            institution_id: institution_id.to_owned(),
            kind: kind.to_owned(),
            filename,
            content_type: content_type.to_owned(),
            size: bytes.len() as i64,
            digest: hex::encode(self.store.crypto().hash(&[bytes])),
            storage_key: format!("documents/{institution_id}/{doc_id}"),
            uploaded_by: actor.audit_name(),
            uploaded_at: self.clock.now().millis(),
        };
        let path = object_store::path::Path::from(row.storage_key.as_str());
        self.documents
            .put(&path, bytes.to_vec().into())
            .await
            .map_err(|e| AppError::new(ErrorCode::Unavailable, format!("document store: {e}")))?;
        Ok((row, path))
    }

    /// Nothing half-done: the bytes go when their record could not be written.
    pub(crate) async fn forget_document(&self, path: &object_store::path::Path) {
        let _ = self.documents.delete(path).await;
    }

    /// A document's bytes, for the institution's staff and for regulators over its region.
    pub async fn document(
        &self,
        actor: &Actor,
        id: &str,
    ) -> Result<(DocumentView, Vec<u8>), AppError> {
        // Only staff and regulators who see private data may ask at all; which documents is checked below.
        let may_ask = matches!(actor, Actor::Staff { .. })
            || (matches!(actor, Actor::Regulator { .. })
                && actor.has(Permission::ViewInstitutionPrivate));
        if !may_ask {
            let details = json!({"permission": "ViewInstitutionPrivate"});
            return Err(self
                .deny(actor, "document", details, "documents are not public")
                .await);
        }
        let id = uuid::Uuid::parse_str(id.trim())
            .map_err(|_| AppError::new(ErrorCode::InvalidId, "not a document id"))?
            .to_string();
        let row = self
            .store
            .read()
            .document(&id)
            .await?
            .ok_or_else(|| AppError::not_found("no such document"))?;
        let institution = self.institution_row(&row.institution_id).await?;
        self.require_sight_of(actor, &institution).await?;
        let path = object_store::path::Path::from(row.storage_key.as_str());
        let bytes = self
            .documents
            .get(&path)
            .await
            .map_err(|e| AppError::new(ErrorCode::Unavailable, format!("document store: {e}")))?
            .bytes()
            .await
            .map_err(|e| AppError::new(ErrorCode::Unavailable, format!("document store: {e}")))?;
        Ok((document_view(row), bytes.to_vec()))
    }

    /// Staff of the institution, or regulators who see its region; others are refused (audited).
    pub(crate) async fn require_sight_of(
        &self,
        actor: &Actor,
        institution: &InstitutionRow,
    ) -> Result<(), AppError> {
        match actor {
            Actor::Staff { institution_id, .. } if *institution_id == institution.id => Ok(()),
            _ => {
                let region = RegionCode::parse(&institution.region_code)?;
                self.require_regulator_over(
                    actor,
                    Permission::ViewInstitutionPrivate,
                    &region,
                    &format!("institution:{}", institution.id),
                )
                .await
            }
        }
    }

    /// An institution's filing for the regulators over its region (its own staff use [`App::my_filing`]).
    pub async fn filing_for_review(
        &self,
        actor: &Actor,
        institution_id: &str,
    ) -> Result<FilingView, AppError> {
        let institution = self.institution_row(institution_id).await?;
        let region = RegionCode::parse(&institution.region_code)?;
        self.require_regulator_over(
            actor,
            Permission::ViewInstitutionPrivate,
            &region,
            &format!("institution:{}", institution.id),
        )
        .await?;
        self.filing_view(&institution).await
    }

    /// The reviewer's queue: submitted filings whose competent authority is the reviewer's region,
    /// oldest first, with their age.
    pub async fn review_queue(
        &self,
        actor: &Actor,
        kind: Option<&str>,
        paging: domain::Paging,
    ) -> Result<crate::views::Page<QueueItem>, AppError> {
        self.require(actor, Permission::ReviewFiling).await?;
        let Actor::Regulator { region, .. } = actor else {
            return Err(AppError::new(ErrorCode::Forbidden, "regulators only"));
        };
        let kind = kind.map(str::trim).filter(|k| !k.is_empty());
        if kind.is_some_and(|k| !matches!(k, "onboarding" | "change")) {
            return Err(AppError::new(
                ErrorCode::InvalidParameter,
                "kind: onboarding or change",
            ));
        }
        let rows = self
            .store
            .read()
            .review_queue(region.as_str(), kind, paging.per_page(), paging.offset())
            .await?;
        let now = self.clock.now().millis();
        let items = rows
            .rows
            .into_iter()
            .map(|r| {
                let region_name = RegionCode::parse(&r.region_code)
                    .map(|c| self.regions.full_name(&c))
                    .unwrap_or_default();
                QueueItem {
                    age_days: (now - r.submitted_at).max(0) / 86_400_000,
                    submitted_at_display: Timestamp::from_millis(r.submitted_at).china_display(),
                    institution_id: r.institution_id,
                    name: r.name,
                    region_name,
                    kind: r.kind,
                    version: r.version,
                }
            })
            .collect();
        Ok(crate::views::Page {
            items,
            total: u64::try_from(rows.total).unwrap_or(0),
            page: paging.page(),
            per_page: paging.per_page(),
        })
    }

    /// The competent reviewer approves the submitted filing (an applying institution is listed, grey until
    /// its supervised account is confirmed) or rejects it with a reason per field.
    pub async fn decide_filing(
        &self,
        actor: &Actor,
        institution_id: &str,
        decision: &Decision,
    ) -> Result<FilingView, AppError> {
        let institution = self.institution_row(institution_id).await?;
        let id = institution.id.clone();
        let premises = RegionCode::parse(&institution.region_code)?;
        let mode = TeachingMode::parse(&institution.mode)?;
        let competent = match actor {
            Actor::Regulator { region, .. } => {
                actor.has(Permission::ReviewFiling) && regulator_reviews(region, mode, &premises)
            }
            _ => false,
        };
        if !competent {
            let details = json!({"permission": "ReviewFiling", "competent_region": competent_region(mode, &premises).as_str()});
            return Err(self
                .deny(
                    actor,
                    &format!("institution:{id}"),
                    details,
                    "not the competent reviewer",
                )
                .await);
        }
        let field_reasons = if decision.approve {
            None
        } else {
            if decision.field_reasons.is_empty() {
                return Err(AppError::new(
                    ErrorCode::InvalidParameter,
                    "field_reasons: a rejection names at least one field and why",
                ));
            }
            for (field, reason) in &decision.field_reasons {
                if !FIELDS.iter().any(|(p, _)| p == field) {
                    return Err(AppError::new(
                        ErrorCode::InvalidParameter,
                        format!("field_reasons: no field {field}"),
                    ));
                }
                text(field, reason, 200)?;
            }
            Some(
                serde_json::to_string(&decision.field_reasons)
                    .map_err(|e| AppError::internal(e.to_string()))?,
            )
        };
        let now = self.clock.now();
        let at = now.millis();
        let mut tx = self.store.begin_write().await?;
        let latest = tx
            .latest_filing(&id)
            .await?
            .filter(|v| v.status == FilingStatus::Submitted)
            .ok_or_else(|| AppError::new(ErrorCode::Conflict, "nothing is waiting for review"))?;
        let event = if decision.approve {
            FilingEvent::Approve
        } else {
            FilingEvent::Reject
        };
        tx.decide_filing(
            &id,
            latest.version,
            event,
            &actor.audit_name(),
            field_reasons.as_deref(),
            at,
        )
        .await?;
        let mut entries = vec![crate::evidence::record(
            &actor.audit_name(),
            at,
            if decision.approve {
                "filing.approved"
            } else {
                "filing.rejected"
            },
            format!("institution:{id}"),
            json!({"version": latest.version, "field_reasons": decision.field_reasons}),
        )];
        let listed =
            decision.approve && institution.registry_state == domain::RegistryState::Applying;
        let mut changed = false;
        if decision.approve {
            let filing: Filing = serde_json::from_str(&latest.data)
                .map_err(|e| AppError::internal(format!("stored filing: {e}")))?;
            let (name, address, licence) = (
                filing.basic.name.trim(),
                filing.premises.address.trim(),
                filing.licence.school_licence_no.trim(),
            );
            let mut changes = Vec::new();
            if name != institution.name {
                changes.push(format!("名称由“{}”变更为“{name}”", institution.name));
            }
            if address != institution.address {
                changes.push(format!("地址由“{}”变更为“{address}”", institution.address));
            }
            if institution.licence_no.as_deref() != Some(licence) {
                changes.push(format!("办学许可证号为{licence}"));
            }
            tx.apply_filed_record(&id, name, address, licence, at)
                .await?;
            changed = !changes.is_empty();
            if listed {
                let reason = APPROVED_AWAITING_FUNDS;
                let change = ListChangeRow {
                    id: ListChangeId::new_v7().to_string(),
                    institution_id: id.clone(),
                    from_status: None,
                    to_status: ListStatus::Grey.as_str().to_owned(),
                    reason: reason.to_owned(),
                    actor: actor.audit_name(),
                    at,
                };
                tx.set_registry_state(&id, domain::RegistryEvent::List, at)
                    .await?;
                tx.set_list_status(&id, ListStatus::Grey, reason, at)
                    .await?;
                tx.insert_list_changes(std::slice::from_ref(&change))
                    .await?;
                entries.push(evidence::list_changed(actor, now, &change));
            } else if changed {
                // 变更公示: the public record changed; the public is told, and the plate on the wall is
                // replaced so that a scan of the old one says "superseded".
                let notice = store::NoticeRow {
                    id: uuid::Uuid::now_v7().to_string(),
                    kind: "announcement".into(),
                    institution_id: Some(id.clone()),
                    region_code: institution.region_code.clone(),
                    title: format!("关于{name}信息变更的公示"),
                    body: format!(
                        "经审核，{}。公示期{}天。",
                        changes.join("；"),
                        self.change_notice_days
                    ),
                    published_at: at,
                    until_at: Some(at + i64::from(self.change_notice_days) * 86_400_000),
                };
                tx.insert_notices(std::slice::from_ref(&notice)).await?;
                entries.push(evidence::notice_published(actor, now, &notice));
                if institution.list_status == domain::ListStatus::White {
                    self.issue_plate_in(&mut tx, actor, &id, at).await?;
                }
            }
        }
        tx.append_audit(entries).await?;
        tx.commit().await?;
        if listed || changed {
            self.reindex(&id).await?;
        }
        self.filing_view(&self.institution_row(&id).await?).await
    }
}
