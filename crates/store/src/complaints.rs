//! 投诉 complaints and their evidence.

use crate::filings::DocumentRow;
use crate::insert::{AnyQuery, InsertRow};
use crate::states::transition;
use crate::{Reader, StoreError, WriteTx};
use domain::{ComplaintEvent, ComplaintStatus};
use sqlx::AssertSqlSafe;

crate::repository!(
    /// 投诉 complaints.
    Complaints,
    complaints
);

#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct ComplaintRow {
    pub id: String,
    pub complaint_no: String,
    pub institution_id: String,
    pub parent_id: String,
    pub order_id: Option<String>,
    /// `refund`, `teaching_quality`, `safety`, `false_advertising` or `other`.
    pub category: String,
    pub body: String,
    #[sqlx(try_from = "String")]
    pub status: ComplaintStatus,
    pub created_at: i64,
    pub answer_by: i64,
    pub answer: Option<String>,
    pub answered_at: Option<i64>,
    pub escalated_at: Option<i64>,
    pub regulator_region: Option<String>,
    pub ruling_by: Option<i64>,
    /// `mediated`, `penalised` or `dismissed`.
    pub outcome: Option<String>,
    pub ruling: Option<String>,
    /// `none`, `freeze` or `refund`.
    pub money_action: Option<String>,
    pub resolved_by: Option<String>,
    pub closed_at: Option<i64>,
}

const COLUMNS: &str = "id, complaint_no, institution_id, parent_id, order_id, category, body, status, created_at, \
     answer_by, answer, answered_at, escalated_at, regulator_region, ruling_by, outcome, ruling, money_action, \
     resolved_by, closed_at";

impl InsertRow for ComplaintRow {
    const TABLE: &'static str = "complaints";
    const COLUMNS: &'static str = COLUMNS;
    fn bind<'q>(&self, q: AnyQuery<'q>) -> AnyQuery<'q> {
        q.bind(self.id.clone())
            .bind(self.complaint_no.clone())
            .bind(self.institution_id.clone())
            .bind(self.parent_id.clone())
            .bind(self.order_id.clone())
            .bind(self.category.clone())
            .bind(self.body.clone())
            .bind(self.status.as_str())
            .bind(self.created_at)
            .bind(self.answer_by)
            .bind(self.answer.clone())
            .bind(self.answered_at)
            .bind(self.escalated_at)
            .bind(self.regulator_region.clone())
            .bind(self.ruling_by)
            .bind(self.outcome.clone())
            .bind(self.ruling.clone())
            .bind(self.money_action.clone())
            .bind(self.resolved_by.clone())
            .bind(self.closed_at)
    }
}

/// Who a list is for.
#[derive(Clone, Copy, Debug)]
pub enum ComplaintsOf<'a> {
    Parent(&'a str),
    Institution(&'a str),
    /// Escalated to a regulator in the subtree whose codes start with this prefix.
    RegulatorsUnder(&'a str),
}

/// Public figures of an institution's complaints.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, sqlx::FromRow)]
pub struct ComplaintCounts {
    pub received: i64,
    pub closed: i64,
    pub escalated: i64,
}

/// The regulator's ruling on an escalated complaint.
#[derive(Clone, Copy, Debug)]
pub struct ComplaintRuling<'a> {
    pub outcome: &'a str,
    pub ruling: &'a str,
    pub money_action: &'a str,
    pub by: &'a str,
    pub at: i64,
}

impl Complaints<&Reader<'_>> {
    /// The newest 200 complaints of a parent, to an institution, or escalated within a region subtree.
    pub async fn list(&self, of: ComplaintsOf<'_>) -> Result<Vec<ComplaintRow>, StoreError> {
        let (filter, value) = match of {
            ComplaintsOf::Parent(id) => ("parent_id = $1", id.to_owned()),
            ComplaintsOf::Institution(id) => ("institution_id = $1", id.to_owned()),
            ComplaintsOf::RegulatorsUnder(prefix) => {
                ("regulator_region LIKE $1", format!("{prefix}%"))
            }
        };
        let sql = format!(
            "SELECT {COLUMNS} FROM complaints WHERE {filter} ORDER BY created_at DESC, id DESC LIMIT 200"
        );
        Ok(sqlx::query_as(AssertSqlSafe(sql))
            .bind(value)
            .fetch_all(&self.store.pool)
            .await?)
    }

    pub async fn complaint_counts(
        &self,
        institution_id: &str,
    ) -> Result<ComplaintCounts, StoreError> {
        Ok(sqlx::query_as(
            "SELECT COUNT(*) AS received, \
             CAST(COALESCE(SUM(CASE WHEN closed_at IS NOT NULL THEN 1 ELSE 0 END), 0) AS BIGINT) AS closed, \
             CAST(COALESCE(SUM(CASE WHEN escalated_at IS NOT NULL THEN 1 ELSE 0 END), 0) AS BIGINT) AS escalated \
             FROM complaints WHERE institution_id = $1",
        )
        .bind(institution_id)
        .fetch_one(&self.store.pool)
        .await?)
    }

    pub async fn complaint_documents(
        &self,
        complaint_id: &str,
    ) -> Result<Vec<DocumentRow>, StoreError> {
        let sql = format!(
            "SELECT {} FROM documents d JOIN complaint_documents c ON c.document_id = d.id \
             WHERE c.complaint_id = $1 ORDER BY d.uploaded_at, d.id",
            crate::filings::DOCUMENT_COLUMNS_D
        );
        Ok(sqlx::query_as(AssertSqlSafe(sql))
            .bind(complaint_id)
            .fetch_all(&self.store.pool)
            .await?)
    }
}

impl Complaints<&mut WriteTx> {
    pub async fn insert_complaint(
        &mut self,
        row: &ComplaintRow,
        document_ids: &[String],
    ) -> Result<(), StoreError> {
        self.insert(std::slice::from_ref(row)).await?;
        for id in document_ids {
            sqlx::query(
                "INSERT INTO complaint_documents (complaint_id, document_id) VALUES ($1, $2)",
            )
            .bind(row.id.clone())
            .bind(id.clone())
            .execute(&mut *self.tx)
            .await?;
        }
        Ok(())
    }

    /// The institution's answer; 0 rows when the complaint is no longer with it.
    pub async fn answer_complaint(
        &mut self,
        id: &str,
        answer: &str,
        at: i64,
    ) -> Result<u64, StoreError> {
        let (to, from) = transition::<ComplaintStatus>(ComplaintEvent::Answer);
        let sql = format!(
            "UPDATE complaints SET status = '{to}', answer = $2, answered_at = $3 \
             WHERE id = $1 AND status IN ({from})"
        );
        Ok(sqlx::query(AssertSqlSafe(sql))
            .bind(id)
            .bind(answer)
            .bind(at)
            .execute(&mut *self.tx)
            .await?
            .rows_affected())
    }

    /// The parent accepts the answer: closed.
    pub async fn accept_complaint(&mut self, id: &str, at: i64) -> Result<u64, StoreError> {
        let (to, from) = transition::<ComplaintStatus>(ComplaintEvent::Accept);
        let sql = format!(
            "UPDATE complaints SET status = '{to}', closed_at = $2 WHERE id = $1 AND status IN ({from})"
        );
        Ok(sqlx::query(AssertSqlSafe(sql))
            .bind(id)
            .bind(at)
            .execute(&mut *self.tx)
            .await?
            .rows_affected())
    }

    /// To the competent regulator, from `from` (answered, or with the institution past its deadline).
    pub async fn escalate_complaint(
        &mut self,
        id: &str,
        from: ComplaintStatus,
        region: &str,
        at: i64,
        ruling_by: i64,
    ) -> Result<u64, StoreError> {
        let (to, _) = transition::<ComplaintStatus>(ComplaintEvent::Escalate);
        let sql = format!(
            "UPDATE complaints SET status = '{to}', escalated_at = $3, regulator_region = $4, ruling_by = $5 \
             WHERE id = $1 AND status = $2"
        );
        Ok(sqlx::query(AssertSqlSafe(sql))
            .bind(id)
            .bind(from.as_str())
            .bind(at)
            .bind(region)
            .bind(ruling_by)
            .execute(&mut *self.tx)
            .await?
            .rows_affected())
    }

    pub async fn resolve_complaint(
        &mut self,
        id: &str,
        r: &ComplaintRuling<'_>,
    ) -> Result<u64, StoreError> {
        let (to, from) = transition::<ComplaintStatus>(ComplaintEvent::Resolve);
        let sql = format!(
            "UPDATE complaints SET status = '{to}', outcome = $2, ruling = $3, money_action = $4, \
             resolved_by = $5, closed_at = $6 WHERE id = $1 AND status IN ({from})"
        );
        Ok(sqlx::query(AssertSqlSafe(sql))
            .bind(id)
            .bind(r.outcome)
            .bind(r.ruling)
            .bind(r.money_action)
            .bind(r.by)
            .bind(r.at)
            .execute(&mut *self.tx)
            .await?
            .rows_affected())
    }
}

impl<S: crate::Connection> Complaints<S> {
    pub async fn complaint(&mut self, id: &str) -> Result<Option<ComplaintRow>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM complaints WHERE id = $1");
        Ok(sqlx::query_as(AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(self.0.executor())
            .await?)
    }
}
