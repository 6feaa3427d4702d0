//! An institution's filed documents: checked by content, sealed at rest, shown only to who may see them.

use super::{DOCUMENT_KINDS, DocumentView, MAX_DOCUMENT_BYTES, document_view};
use crate::error::required_text as text;
use crate::registry::Registry;
use crate::{Actor, AppError, ErrorCode};
use domain::Action;
use domain::RegionCode;
use domain::access::Permission;
use object_store::ObjectStoreExt;
use serde_json::json;
use store::{DocumentRow, InstitutionRow};

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
            "文件为空",
            "the file is empty",
        ));
    }
    if bytes.len() > MAX_DOCUMENT_BYTES {
        return Err(AppError::new(
            ErrorCode::DocumentTooLarge,
            format!("文件为{}字节，最多{MAX_DOCUMENT_BYTES}字节", bytes.len()),
            format!("{} bytes; at most {MAX_DOCUMENT_BYTES}", bytes.len()),
        ));
    }
    match infer::get(bytes).map(|t| t.mime_type()) {
        Some(t @ ("application/pdf" | "image/jpeg" | "image/png")) => Ok((filename, t)),
        other => Err(AppError::new(
            ErrorCode::DocumentRejected,
            format!(
                "文件内容为{}，不是 PDF、JPEG 或 PNG",
                other.unwrap_or("未知格式")
            ),
            format!(
                "the content is {}, not PDF, JPEG or PNG",
                other.unwrap_or("unknown")
            ),
        )),
    }
}

impl<'a> Registry<'a> {
    /// Stores a document (PDF, JPEG or PNG by content, at most 10 MB) for the admin's institution; its
    /// digest goes to the audit log.
    pub async fn upload_document(
        self,
        actor: &Actor,
        kind: &str,
        filename: &str,
        bytes: &[u8],
    ) -> Result<DocumentView, AppError> {
        let id = self.admins_institution(actor).await?;
        if !DOCUMENT_KINDS.iter().any(|(k, _)| *k == kind) {
            return Err(AppError::new(
                ErrorCode::InvalidParameter,
                "材料类别：须为办学许可证、法定代表人、场所、卫生、消防、入职查询或其他",
                "kind: licence, legal_person, premises, health, fire, record_check or other",
            )
            .on("kind"));
        }
        let (row, path) = self.put_document(actor, &id, kind, filename, bytes).await?;
        let now = row.uploaded_at;
        let recorded = async {
            let mut tx = self.store.begin_write().await?;
            tx.filings().insert_document(&row).await?;
            tx.append_audit(vec![crate::evidence::record(
                &actor.audit_name(),
                now,
                Action::DocumentUploaded,
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
        self,
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
            .map_err(|e| {
                AppError::new(
                    ErrorCode::Unavailable,
                    "材料存储暂不可用",
                    format!("document store: {e}"),
                )
            })?;
        Ok((row, path))
    }

    /// Nothing half-done: the bytes go when their record could not be written.
    pub(crate) async fn forget_document(self, path: &object_store::path::Path) {
        let _ = self.documents.delete(path).await;
    }

    /// A document's bytes, for the institution's staff and for regulators over its region.
    pub async fn document(
        self,
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
                .deny(
                    actor,
                    "document",
                    details,
                    "材料不公开",
                    "documents are not public",
                )
                .await);
        }
        let id = uuid::Uuid::parse_str(id.trim())
            .map_err(|_| {
                AppError::new(
                    ErrorCode::InvalidId,
                    "不是有效的材料编号",
                    "not a document id",
                )
            })?
            .to_string();
        let row = self
            .store
            .read()
            .filings()
            .document(&id)
            .await?
            .ok_or_else(|| AppError::not_found("没有这份材料", "no such document"))?;
        let institution = self.institution_row(&row.institution_id).await?;
        self.require_sight_of(actor, &institution).await?;
        let path = object_store::path::Path::from(row.storage_key.as_str());
        let bytes = self
            .documents
            .get(&path)
            .await
            .map_err(|e| {
                AppError::new(
                    ErrorCode::Unavailable,
                    "材料存储暂不可用",
                    format!("document store: {e}"),
                )
            })?
            .bytes()
            .await
            .map_err(|e| {
                AppError::new(
                    ErrorCode::Unavailable,
                    "材料存储暂不可用",
                    format!("document store: {e}"),
                )
            })?;
        Ok((document_view(row), bytes.to_vec()))
    }

    /// Staff of the institution, or regulators who see its region; others are refused (audited).
    pub(crate) async fn require_sight_of(
        self,
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
}
