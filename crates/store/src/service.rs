//! 分级服务保障 service-desk tickets and their messages.

use crate::insert::{AnyQuery, InsertRow};
use crate::{Reader, StoreError, WriteTx};
use sqlx::AssertSqlSafe;

crate::repository!(
    /// 服务工单 service desk tickets.
    Tickets,
    tickets
);

#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct TicketRow {
    pub id: String,
    pub ticket_no: String,
    pub kind: String,
    pub tier: String,
    pub subject: String,
    pub opener: String,
    pub opener_kind: String,
    pub opener_id: String,
    pub opener_label: String,
    pub region_code: String,

    #[sqlx(try_from = "String")]
    pub status: domain::TicketStatus,
    pub assignee: Option<String>,
    pub opened_at: i64,
    pub respond_by: i64,
    pub resolve_by: i64,
    pub first_response_at: Option<i64>,
    pub resolved_at: Option<i64>,
}

const TICKET_COLUMNS: &str = "id, ticket_no, kind, tier, subject, opener, opener_kind, opener_id, opener_label, \
     region_code, status, assignee, opened_at, respond_by, resolve_by, first_response_at, resolved_at";

impl InsertRow for TicketRow {
    const TABLE: &'static str = "service_tickets";
    const COLUMNS: &'static str = TICKET_COLUMNS;
    fn bind<'q>(&self, q: AnyQuery<'q>) -> AnyQuery<'q> {
        q.bind(self.id.clone())
            .bind(self.ticket_no.clone())
            .bind(self.kind.clone())
            .bind(self.tier.clone())
            .bind(self.subject.clone())
            .bind(self.opener.clone())
            .bind(self.opener_kind.clone())
            .bind(self.opener_id.clone())
            .bind(self.opener_label.clone())
            .bind(self.region_code.clone())
            .bind(self.status.as_str())
            .bind(self.assignee.clone())
            .bind(self.opened_at)
            .bind(self.respond_by)
            .bind(self.resolve_by)
            .bind(self.first_response_at)
            .bind(self.resolved_at)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct TicketMessageRow {
    pub id: String,
    pub ticket_id: String,
    pub author: String,
    pub author_label: String,
    pub from_desk: i64,
    pub body: String,
    pub at: i64,
}

const MESSAGE_COLUMNS: &str = "id, ticket_id, author, author_label, from_desk, body, at";

impl InsertRow for TicketMessageRow {
    const TABLE: &'static str = "service_ticket_messages";
    const COLUMNS: &'static str = MESSAGE_COLUMNS;
    fn bind<'q>(&self, q: AnyQuery<'q>) -> AnyQuery<'q> {
        q.bind(self.id.clone())
            .bind(self.ticket_id.clone())
            .bind(self.author.clone())
            .bind(self.author_label.clone())
            .bind(self.from_desk)
            .bind(self.body.clone())
            .bind(self.at)
    }
}

/// Whose tickets a list shows.
#[derive(Clone, Copy, Debug)]
pub enum TicketQueue<'a> {
    /// One opener's: (kind, id).
    OpenedBy(&'a str, &'a str),
    /// Technical tickets: the service team's queue.
    Technical,
    /// Policy questions from a region's subtree (a region-code prefix).
    PolicyUnder(&'a str),
}

impl Tickets<&Reader<'_>> {
    pub async fn ticket(&self, id: &str) -> Result<Option<TicketRow>, StoreError> {
        Ok(sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {TICKET_COLUMNS} FROM service_tickets WHERE id = $1"
        )))
        .bind(id)
        .fetch_optional(&self.store.pool)
        .await?)
    }

    /// A queue's tickets, newest first.
    pub async fn list(
        &self,
        queue: TicketQueue<'_>,
        limit: i64,
    ) -> Result<Vec<TicketRow>, StoreError> {
        let (filter, a, b) = match queue {
            TicketQueue::OpenedBy(kind, id) => {
                ("opener_kind = $1 AND opener_id = $2", kind, id.to_owned())
            }
            TicketQueue::Technical => ("kind = $1 AND $2 = ''", "technical", String::new()),
            TicketQueue::PolicyUnder(prefix) => (
                "kind = $1 AND region_code LIKE $2",
                "policy",
                format!("{prefix}%"),
            ),
        };
        Ok(sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {TICKET_COLUMNS} FROM service_tickets WHERE {filter} \
             ORDER BY opened_at DESC, id DESC LIMIT $3"
        )))
        .bind(a)
        .bind(b)
        .bind(limit)
        .fetch_all(&self.store.pool)
        .await?)
    }

    pub async fn ticket_messages(
        &self,
        ticket_id: &str,
    ) -> Result<Vec<TicketMessageRow>, StoreError> {
        Ok(sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {MESSAGE_COLUMNS} FROM service_ticket_messages WHERE ticket_id = $1 ORDER BY at, id"
        )))
        .bind(ticket_id)
        .fetch_all(&self.store.pool)
        .await?)
    }
}

impl Tickets<&mut WriteTx> {
    pub async fn insert_ticket(&mut self, row: &TicketRow) -> Result<(), StoreError> {
        self.insert(std::slice::from_ref(row)).await
    }

    pub async fn insert_ticket_message(
        &mut self,
        row: &TicketMessageRow,
    ) -> Result<(), StoreError> {
        self.insert(std::slice::from_ref(row)).await
    }

    /// Sets the status of an unresolved ticket (the first answer's time is kept once set); false when the
    /// ticket is resolved — one statement, so a reply cannot slip in after a concurrent resolution.
    pub async fn move_ticket(
        &mut self,
        id: &str,
        event: domain::TicketEvent,
        first_response_at: Option<i64>,
        resolved_at: Option<i64>,
    ) -> Result<bool, StoreError> {
        let (to, from) = crate::states::transition::<domain::TicketStatus>(event);
        let sql = format!(
            "UPDATE service_tickets SET status = $2, first_response_at = COALESCE(first_response_at, $3), \
             resolved_at = $4 WHERE id = $1 AND status IN ({from})"
        );
        let done = sqlx::query(AssertSqlSafe(sql))
            .bind(id)
            .bind(to)
            .bind(first_response_at)
            .bind(resolved_at)
            .execute(&mut *self.tx)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    pub async fn assign_ticket(&mut self, id: &str, assignee: &str) -> Result<(), StoreError> {
        sqlx::query("UPDATE service_tickets SET assignee = $2 WHERE id = $1")
            .bind(id)
            .bind(assignee)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }
}
