//! 入驻与信息报备 an institution joins the platform (直接入驻), files its information with documents, and
//! submits it to the competent regulator (offline: the county of the premises; online: the province), who
//! approves it or rejects it with a reason per field. Approval lists the institution — grey until its
//! supervised account is confirmed (the bank issue), then white.

use crate::admin::{NewAccount, NewAccountKind};
use crate::error::required_text as text;
use crate::registry::Registry;
use crate::{Actor, AppError, ErrorCode};
use domain::Action;
use domain::access::{Permission, StaffRole, competent_region};
use domain::credit_code::CreditCode;
use domain::filing::{Filing, FilingError, field_label};
use domain::{
    Category, FilingStatus, InstitutionId, RegionCode, RegionLevel, TeachingMode, Timestamp,
};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::BTreeMap;
use store::{DocumentRow, FilingRow, InstitutionRow};

mod documents;
mod review;

pub(crate) use documents::vet_document;

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
    AppError::new(code, e.message_zh(), e.to_string()).on(e.field())
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

impl<'a> Registry<'a> {
    /// 直接入驻: the institution's record (not public until approved) and its first admin, in one
    /// transaction.
    pub async fn sign_up(self, req: &SignUp) -> Result<SignedUp, AppError> {
        let name = text("name", &req.name, 100)?;
        let credit_code = CreditCode::parse(req.credit_code.trim()).map_err(|_| {
            AppError::new(
                ErrorCode::InvalidCreditCode,
                "统一社会信用代码：须为18位，且校验位符合 GB 32100",
                "credit_code: 18 characters with a valid GB 32100 check character",
            )
            .on("credit_code")
        })?;
        let mode = TeachingMode::parse(req.mode.trim())?;
        let region = RegionCode::parse(req.region_code.trim())?;
        if region.level() != RegionLevel::County || !self.regions.known(&region) {
            return Err(AppError::new(
                ErrorCode::UnknownRegion,
                "所在地区：须为办学场所所在的区县",
                "region_code: a county (区县) of the premises",
            )
            .on("region_code"));
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
                "培训类别：至少选择一项",
                "categories: at least one",
            )
            .on("categories"));
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
        let mut account = self.identity().account_row(&admin, false, now.millis())?;
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
                Action::InstitutionSignedUp,
                format!("institution:{id}"),
                json!({"id": id, "name": institution.name, "credit_code": institution.credit_code,
                       "region_code": institution.region_code, "mode": institution.mode,
                       "categories": institution.categories, "address": institution.address}),
            ),
            crate::admin::account_created(&public, &account, now.millis()),
        ];
        let mut tx = self.store.begin_write().await?;
        tx.registry()
            .insert_institutions(std::slice::from_ref(&institution))
            .await?;
        tx.accounts()
            .insert_accounts(std::slice::from_ref(&account))
            .await?;
        tx.append_audit(entries).await?;
        tx.commit().await?;
        Ok(SignedUp {
            institution_id: id,
            admin_account_id: account.id,
        })
    }

    /// The institution whose admin the actor is (who files, hires and binds accounts), or an audited
    /// refusal.
    pub(crate) async fn admins_institution(self, actor: &Actor) -> Result<String, AppError> {
        match actor {
            Actor::Staff { institution_id, .. } if actor.has(Permission::EditOwnFiling) => {
                Ok(institution_id.clone())
            }
            _ => Err(self
                .deny(
                    actor,
                    "platform",
                    json!({"permission": "EditOwnFiling"}),
                    "仅限机构管理员",
                    "only the institution's admin",
                )
                .await),
        }
    }

    async fn filing_view(self, institution: &InstitutionRow) -> Result<FilingView, AppError> {
        let reader = self.store.read();
        let versions = reader.filings().filings_of(&institution.id).await?;
        let documents = reader.filings().documents_of(&institution.id).await?;
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

    pub(crate) async fn institution_row(self, id: &str) -> Result<InstitutionRow, AppError> {
        let id = InstitutionId::parse(id)?.to_string();
        self.store
            .read()
            .registry()
            .institution(&id)
            .await?
            .ok_or_else(|| {
                AppError::not_found(format!("没有机构 {id}"), format!("no institution {id}"))
            })
    }

    /// The admin's own filing: the newest version, what it lacks, its documents and history.
    pub async fn my_filing(self, actor: &Actor) -> Result<FilingView, AppError> {
        let id = self.admins_institution(actor).await?;
        self.filing_view(&self.institution_row(&id).await?).await
    }

    /// Saves the draft (a new version after a decision); refused while a version is under review.
    pub async fn save_filing(self, actor: &Actor, filing: &Filing) -> Result<FilingView, AppError> {
        let id = self.admins_institution(actor).await?;
        let now = self.clock.now();
        filing.check(now.china_date()).map_err(filing_error)?;
        let institution = self.institution_row(&id).await?;
        let data = serde_json::to_string(filing).map_err(|e| AppError::internal(e.to_string()))?;
        let mut tx = self.store.begin_write().await?;
        let version = match tx.filings().latest_filing(&id).await? {
            Some(v) if v.status == FilingStatus::Submitted => {
                return Err(AppError::new(
                    ErrorCode::Conflict,
                    "报备信息正在审核中",
                    "the filing is under review",
                ));
            }
            Some(v) if v.status == FilingStatus::Draft => {
                tx.filings()
                    .update_draft(&id, v.version, &data, now.millis())
                    .await?;
                v.version
            }
            latest => {
                let version = latest.map_or(1, |v| v.version + 1);
                let kind = if institution.registry_state == domain::RegistryState::Applying {
                    "onboarding"
                } else {
                    "change"
                };
                tx.filings()
                    .insert_filing(&FilingRow {
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
            Action::FilingSaved,
            format!("institution:{id}"),
            json!({"version": version}),
        )])
        .await?;
        tx.commit().await?;
        self.filing_view(&institution).await
    }

    /// Submits the draft to the competent regulator; it must be complete.
    pub async fn submit_filing(self, actor: &Actor) -> Result<FilingView, AppError> {
        let id = self.admins_institution(actor).await?;
        let institution = self.institution_row(&id).await?;
        let view = self.filing_view(&institution).await?;
        if view.status != FilingStatus::Draft || view.version == 0 {
            return Err(AppError::new(
                ErrorCode::Conflict,
                "没有可提交的草稿，请先保存报备信息",
                "no draft to submit: save the filing first",
            ));
        }
        if !view.missing.is_empty() {
            let labels: Vec<&str> = view.missing.iter().map(|m| m.label.as_str()).collect();
            return Err(AppError::new(
                ErrorCode::FilingIncomplete,
                format!("尚缺：{}", labels.join("、")),
                format!("still missing: {}", labels.join("、")),
            ));
        }
        let region = competent_region(
            TeachingMode::parse(&institution.mode)?,
            &RegionCode::parse(&institution.region_code)?,
        );
        let now = self.clock.now().millis();
        let mut tx = self.store.begin_write().await?;
        tx.filings()
            .submit_filing(&id, view.version, region.as_str(), now)
            .await?;
        tx.append_audit(vec![crate::evidence::record(
            &actor.audit_name(),
            now,
            Action::FilingSubmitted,
            format!("institution:{id}"),
            json!({"version": view.version, "competent_region": region.as_str()}),
        )])
        .await?;
        tx.commit().await?;
        self.filing_view(&institution).await
    }
}
