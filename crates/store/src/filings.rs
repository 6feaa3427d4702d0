//! Filings (信息报备) and their documents.

use crate::insert::{AnyQuery, InsertRow};
use crate::{Reader, StoreError, WriteTx};
use sqlx::AssertSqlSafe;

crate::repository!(
    /// 备案 filings and their documents.
    Filings,
    filings
);

/// One version of an institution's filing.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct FilingRow {
    pub institution_id: String,
    pub version: i64,
    /// `onboarding` or `change`.
    pub kind: String,
    #[sqlx(try_from = "String")]
    pub status: domain::FilingStatus,
    pub data: String,
    pub competent_region: Option<String>,
    pub submitted_at: Option<i64>,
    pub decided_at: Option<i64>,
    pub decided_by: Option<String>,
    pub field_reasons: Option<String>,
    pub updated_at: i64,
}

const FILING_COLUMNS: &str = "institution_id, version, kind, status, data, competent_region, submitted_at, \
     decided_at, decided_by, field_reasons, updated_at";

impl InsertRow for FilingRow {
    const TABLE: &'static str = "filings";
    const COLUMNS: &'static str = FILING_COLUMNS;
    fn bind<'q>(&self, q: AnyQuery<'q>) -> AnyQuery<'q> {
        q.bind(self.institution_id.clone())
            .bind(self.version)
            .bind(self.kind.clone())
            .bind(self.status.as_str())
            .bind(self.data.clone())
            .bind(self.competent_region.clone())
            .bind(self.submitted_at)
            .bind(self.decided_at)
            .bind(self.decided_by.clone())
            .bind(self.field_reasons.clone())
            .bind(self.updated_at)
    }
}

/// A filed document's record (the bytes are in the object store).
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct DocumentRow {
    pub id: String,
    pub institution_id: String,
    pub kind: String,
    pub filename: String,
    pub content_type: String,
    pub size: i64,
    pub digest: String,
    pub storage_key: String,
    pub uploaded_by: String,
    pub uploaded_at: i64,
}

const DOCUMENT_COLUMNS: &str = "id, institution_id, kind, filename, content_type, size, digest, storage_key, uploaded_by, uploaded_at";
/// The same, for a query that names the documents table `d`.
pub(crate) const DOCUMENT_COLUMNS_D: &str = "d.id, d.institution_id, d.kind, d.filename, d.content_type, d.size, d.digest, \
     d.storage_key, d.uploaded_by, d.uploaded_at";

impl InsertRow for DocumentRow {
    const TABLE: &'static str = "documents";
    const COLUMNS: &'static str = DOCUMENT_COLUMNS;
    fn bind<'q>(&self, q: AnyQuery<'q>) -> AnyQuery<'q> {
        q.bind(self.id.clone())
            .bind(self.institution_id.clone())
            .bind(self.kind.clone())
            .bind(self.filename.clone())
            .bind(self.content_type.clone())
            .bind(self.size)
            .bind(self.digest.clone())
            .bind(self.storage_key.clone())
            .bind(self.uploaded_by.clone())
            .bind(self.uploaded_at)
    }
}

/// A review-queue item: the submitted filing with its institution's name.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct QueueRow {
    pub institution_id: String,
    pub version: i64,
    pub kind: String,
    pub name: String,
    pub region_code: String,
    pub mode: String,
    pub submitted_at: i64,
}

impl Filings<&Reader<'_>> {
    /// Every version of an institution's filing, newest first.
    pub async fn filings_of(&self, institution_id: &str) -> Result<Vec<FilingRow>, StoreError> {
        let sql = format!(
            "SELECT {FILING_COLUMNS} FROM filings WHERE institution_id = $1 ORDER BY version DESC"
        );
        Ok(sqlx::query_as(AssertSqlSafe(sql))
            .bind(institution_id)
            .fetch_all(&self.store.pool)
            .await?)
    }

    /// Submitted filings waiting for the regulator of `region`, oldest first.
    pub async fn review_queue(
        &self,
        region: &str,
        kind: Option<&str>,
        limit: u32,
        offset: u64,
    ) -> Result<crate::PageRows<QueueRow>, StoreError> {
        let filter =
            "f.status = 'submitted' AND f.competent_region = $1 AND ($2 = '' OR f.kind = $2)";
        let sql = format!(
            "SELECT f.institution_id, f.version, f.kind, i.name, i.region_code, i.mode, \
             CAST(f.submitted_at AS BIGINT) AS submitted_at \
             FROM filings f JOIN institutions i ON i.id = f.institution_id \
             WHERE {filter} ORDER BY f.submitted_at, f.institution_id LIMIT $3 OFFSET $4"
        );
        let kind = kind.unwrap_or_default().to_owned();
        let rows = sqlx::query_as(AssertSqlSafe(sql))
            .bind(region)
            .bind(kind.clone())
            .bind(i64::from(limit))
            .bind(offset as i64)
            .fetch_all(&self.store.pool)
            .await?;
        let count = format!("SELECT COUNT(*) FROM filings f WHERE {filter}");
        let (total,): (i64,) = sqlx::query_as(AssertSqlSafe(count))
            .bind(region)
            .bind(kind)
            .fetch_one(&self.store.pool)
            .await?;
        Ok(crate::PageRows { rows, total })
    }

    pub async fn documents_of(&self, institution_id: &str) -> Result<Vec<DocumentRow>, StoreError> {
        let sql = format!(
            "SELECT {DOCUMENT_COLUMNS} FROM documents WHERE institution_id = $1 AND kind <> 'complaint_evidence' \
             ORDER BY uploaded_at DESC, id DESC"
        );
        Ok(sqlx::query_as(AssertSqlSafe(sql))
            .bind(institution_id)
            .fetch_all(&self.store.pool)
            .await?)
    }

    pub async fn document(&self, id: &str) -> Result<Option<DocumentRow>, StoreError> {
        let sql = format!("SELECT {DOCUMENT_COLUMNS} FROM documents WHERE id = $1");
        Ok(sqlx::query_as(AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(&self.store.pool)
            .await?)
    }
}

impl Filings<&mut WriteTx> {
    /// The newest version of an institution's filing, inside this transaction.
    pub async fn latest_filing(
        &mut self,
        institution_id: &str,
    ) -> Result<Option<FilingRow>, StoreError> {
        let sql = format!(
            "SELECT {FILING_COLUMNS} FROM filings WHERE institution_id = $1 ORDER BY version DESC LIMIT 1"
        );
        Ok(sqlx::query_as(AssertSqlSafe(sql))
            .bind(institution_id)
            .fetch_optional(&mut *self.tx)
            .await?)
    }

    pub async fn insert_filing(&mut self, row: &FilingRow) -> Result<(), StoreError> {
        self.insert(std::slice::from_ref(row)).await
    }

    /// Replaces a draft's data.
    pub async fn update_draft(
        &mut self,
        institution_id: &str,
        version: i64,
        data: &str,
        at: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE filings SET data = $3, updated_at = $4 \
             WHERE institution_id = $1 AND version = $2 AND status = 'draft'",
        )
        .bind(institution_id)
        .bind(version)
        .bind(data)
        .bind(at)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    /// Freezes a draft as submitted to `competent_region`.
    pub async fn submit_filing(
        &mut self,
        institution_id: &str,
        version: i64,
        competent_region: &str,
        at: i64,
    ) -> Result<(), StoreError> {
        let (to, from) =
            crate::states::transition::<domain::FilingStatus>(domain::FilingEvent::Submit);
        let sql = format!(
            "UPDATE filings SET status = '{to}', competent_region = $3, submitted_at = $4, updated_at = $4 \
             WHERE institution_id = $1 AND version = $2 AND status IN ({from})"
        );
        sqlx::query(AssertSqlSafe(sql))
            .bind(institution_id)
            .bind(version)
            .bind(competent_region)
            .bind(at)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    /// Records the regulator's decision on a submitted filing.
    pub async fn decide_filing(
        &mut self,
        institution_id: &str,
        version: i64,
        decision: domain::FilingEvent,
        decided_by: &str,
        field_reasons: Option<&str>,
        at: i64,
    ) -> Result<u64, StoreError> {
        let (to, from) = crate::states::transition::<domain::FilingStatus>(decision);
        let sql = format!(
            "UPDATE filings SET status = $3, decided_by = $4, field_reasons = $5, decided_at = $6, updated_at = $6 \
             WHERE institution_id = $1 AND version = $2 AND status IN ({from})"
        );
        let done = sqlx::query(AssertSqlSafe(sql))
            .bind(institution_id)
            .bind(version)
            .bind(to)
            .bind(decided_by)
            .bind(field_reasons)
            .bind(at)
            .execute(&mut *self.tx)
            .await?;
        Ok(done.rows_affected())
    }

    pub async fn insert_document(&mut self, row: &DocumentRow) -> Result<(), StoreError> {
        self.insert(std::slice::from_ref(row)).await
    }
}
