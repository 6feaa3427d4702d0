//! 分级服务保障 the service desk. Banks, integrators and institutions open tickets: technical-access tickets
//! go to the platform's service team (the national system administrators, who also register integrators),
//! policy questions to the reviewers and supervisors of the asker's region (any level above it may answer
//! too). Each ticket has a tier with a response and a resolution deadline (`domain::service`); the desk's
//! figures per tier say how fast answers came and what is overdue now.

use crate::service::Service;
use crate::{Actor, AppError, ErrorCode, evidence};
use domain::Action;
use domain::access::Permission;
use domain::service::{TicketKind, TicketTimes, Tier, tier_figures};
use domain::{Machine, RegionCode, TicketEvent, TicketStatus, Timestamp};
use rand::Rng;
use serde::{Deserialize, Serialize};
use serde_json::json;
use store::{TicketMessageRow, TicketQueue, TicketRow};

/// `POST /api/v1/service/tickets` (and `/api/v1/integration/tickets`).
#[derive(Clone, Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct NewTicket {
    /// `technical` or `policy`.
    pub kind: String,
    /// `urgent` (service down), `high` (a function impaired) or `normal` (a question).
    pub tier: String,
    pub subject: String,
    pub body: String,
}

/// `POST …/tickets/{id}/messages`.
#[derive(Clone, Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct TicketReply {
    pub body: String,
}

/// `POST /api/v1/service/tickets/{id}/assign`.
#[derive(Clone, Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct TicketAssignment {
    /// An account that may answer the ticket.
    pub assignee_id: String,
}

#[derive(Clone, Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TicketMessageView {
    pub author_label: String,
    pub from_desk: bool,
    pub body: String,
    pub at_display: String,
}

#[derive(Clone, Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TicketView {
    pub id: String,
    pub ticket_no: String,
    pub kind: String,
    pub kind_label: String,
    pub tier: String,
    pub tier_label: String,
    pub subject: String,
    pub opener_kind: String,
    pub opener_label: String,
    pub region_code: String,
    /// `open`, `answered` or `resolved`.
    pub status: TicketStatus,
    pub status_label: String,
    pub assignee_id: Option<String>,
    pub opened_at_display: String,
    pub respond_by_display: String,
    pub resolve_by_display: String,
    pub first_response_display: Option<String>,
    pub resolved_display: Option<String>,
    /// Open and past a deadline now.
    pub overdue: bool,
    pub messages: Vec<TicketMessageView>,
}

/// One tier's figures over the caller's queue.
#[derive(Clone, Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DeskFigures {
    pub tier: String,
    pub tier_label: String,
    pub respond_within_hours: i64,
    pub resolve_within_hours: i64,
    pub opened: usize,
    pub answered: usize,
    pub answered_in_time: usize,
    pub median_response_minutes: Option<i64>,
    pub resolved: usize,
    pub resolved_in_time: usize,
    pub overdue: usize,
}

/// Who opens tickets: an institution, a bank or an integrator.
struct Opener {
    kind: &'static str,
    id: String,
    label: String,
    /// Where its policy questions go.
    region: String,
}

/// Who may answer: the service team (technical), or regulators of a region (policy).
enum Answerer<'a> {
    ServiceTeam,
    Regulators(&'a RegionCode),
}

fn ticket_no(now: Timestamp) -> String {
    let n: u32 = rand::rng().random_range(0..1_000_000);
    format!("FW{}{n:06}", now.china_date().format("%Y%m%d"))
}

impl<'a> Service<'a> {
    async fn opener(self, actor: &Actor) -> Result<Option<Opener>, AppError> {
        let read = self.store.read();
        Ok(match actor {
            Actor::Staff { institution_id, .. } => {
                let institution = read
                    .registry()
                    .institution(institution_id)
                    .await?
                    .ok_or_else(|| AppError::internal("staff of a missing institution"))?;
                Some(Opener {
                    kind: "institution",
                    id: institution.id,
                    label: institution.name,
                    region: institution.region_code,
                })
            }
            Actor::BankOperator { bank_id, .. } => Some(Opener {
                kind: "bank",
                id: bank_id.clone(),
                label: bank_id.clone(),
                region: RegionCode::NATIONAL.as_str().to_owned(),
            }),
            Actor::ApiClient { owner_kind, .. } if owner_kind == "integrator" => {
                let integrator = self.integration().integrator_of(actor).await?;
                Some(Opener {
                    kind: "integrator",
                    id: integrator.id,
                    label: integrator.name,
                    region: RegionCode::NATIONAL.as_str().to_owned(),
                })
            }
            _ => None,
        })
    }

    fn answerer(actor: &Actor) -> Option<Answerer<'_>> {
        match actor {
            Actor::Regulator { region, .. }
                if *region == RegionCode::NATIONAL && actor.has(Permission::ManageAccounts) =>
            {
                Some(Answerer::ServiceTeam)
            }
            Actor::Regulator { region, .. }
                if actor.has(Permission::ReviewFiling)
                    || actor.has(Permission::SuperviseInstitution) =>
            {
                Some(Answerer::Regulators(region))
            }
            _ => None,
        }
    }

    /// Does `actor` answer tickets (the service team, or a region's reviewers and supervisors)?
    pub fn answers_tickets(actor: &Actor) -> bool {
        Self::answerer(actor).is_some()
    }

    /// An answerer, or an audited refusal.
    pub async fn require_answerer(self, actor: &Actor) -> Result<(), AppError> {
        if Self::answers_tickets(actor) {
            return Ok(());
        }
        Err(self
            .deny(
                actor,
                "service_desk",
                json!({}),
                "仅限平台服务人员和监管部门",
                "the service team and regulators",
            )
            .await)
    }

    /// May `actor` answer `ticket`?
    fn answers(actor: &Actor, ticket: &TicketRow) -> bool {
        match (Self::answerer(actor), ticket.kind.as_str()) {
            (Some(Answerer::ServiceTeam), "technical") => true,
            (Some(Answerer::Regulators(region)), "policy") => {
                RegionCode::parse(&ticket.region_code).is_ok_and(|r| region.contains(&r))
            }
            _ => false,
        }
    }

    /// Opens a ticket; the answerers see it in their queue at once.
    pub async fn open_ticket(self, actor: &Actor, new: &NewTicket) -> Result<TicketView, AppError> {
        let Some(opener) = self.opener(actor).await? else {
            return Err(self
                .deny(
                    actor,
                    "service_desk",
                    json!({}),
                    "工单由机构、银行和技术服务商提交",
                    "institutions, banks and integrators open tickets",
                )
                .await);
        };
        let kind = TicketKind::parse(new.kind.trim()).ok_or_else(|| {
            AppError::new(
                ErrorCode::InvalidParameter,
                "咨询类别：须为技术问题或政策问题",
                "kind: technical or policy",
            )
            .on("kind")
        })?;
        let tier = Tier::parse(new.tier.trim()).ok_or_else(|| {
            AppError::new(
                ErrorCode::InvalidParameter,
                "优先级：须为紧急、高或普通",
                "tier: urgent, high or normal",
            )
            .on("tier")
        })?;
        let subject = crate::error::required_text("subject", &new.subject, 100)?;
        let body = crate::error::required_text("body", &new.body, 2000)?;
        let now = self.clock.now();
        let at = now.millis();
        let row = TicketRow {
            id: uuid::Uuid::now_v7().to_string(),
            ticket_no: ticket_no(now),
            kind: kind.as_str().to_owned(),
            tier: tier.as_str().to_owned(),
            subject,
            opener: actor.audit_name(),
            opener_kind: opener.kind.to_owned(),
            opener_id: opener.id,
            opener_label: opener.label.clone(),
            region_code: match kind {
                TicketKind::Technical => RegionCode::NATIONAL.as_str().to_owned(),
                TicketKind::Policy => opener.region,
            },
            status: TicketStatus::Open,
            assignee: None,
            opened_at: at,
            respond_by: at.saturating_add(tier.respond_within_ms()),
            resolve_by: at.saturating_add(tier.resolve_within_ms()),
            first_response_at: None,
            resolved_at: None,
        };
        let message = TicketMessageRow {
            id: uuid::Uuid::now_v7().to_string(),
            ticket_id: row.id.clone(),
            author: actor.audit_name(),
            author_label: opener.label,
            from_desk: 0,
            body,
            at,
        };
        let mut tx = self.store.begin_write().await?;
        tx.tickets()
            .insert_ticket(&row)
            .await
            .map_err(|e| match e {
                store::StoreError::Conflict(_) => AppError::new(
                    ErrorCode::Conflict,
                    "工单编号已被占用，请重试",
                    "ticket number taken, try again",
                ),
                other => other.into(),
            })?;
        tx.tickets().insert_ticket_message(&message).await?;
        tx.append_audit(vec![evidence::record(
            &actor.audit_name(),
            at,
            Action::TicketOpened,
            format!("ticket:{}", row.id),
            json!({"ticket_no": row.ticket_no, "kind": row.kind, "tier": row.tier, "region": row.region_code}),
        )])
        .await?;
        tx.commit().await?;
        self.ticket(actor, &row.id).await
    }

    /// The caller's tickets: an opener's own, or the answerer's queue; newest first.
    pub async fn tickets(self, actor: &Actor) -> Result<Vec<TicketView>, AppError> {
        let rows = self.queue(actor).await?;
        let now = self.clock.now().millis();
        Ok(rows
            .into_iter()
            .map(|r| ticket_view(r, Vec::new(), now))
            .collect())
    }

    async fn queue(self, actor: &Actor) -> Result<Vec<TicketRow>, AppError> {
        let read = self.store.read();
        if let Some(opener) = self.opener(actor).await? {
            return Ok(read
                .tickets()
                .list(TicketQueue::OpenedBy(opener.kind, &opener.id), 500)
                .await?);
        }
        match Self::answerer(actor) {
            Some(Answerer::ServiceTeam) => {
                Ok(read.tickets().list(TicketQueue::Technical, 500).await?)
            }
            Some(Answerer::Regulators(region)) => Ok(read
                .tickets()
                .list(TicketQueue::PolicyUnder(region.prefix()), 500)
                .await?),
            None => Err(self
                .deny(
                    actor,
                    "service_desk",
                    json!({}),
                    "仅限工单的提交方和受理方",
                    "the service desk's openers and answerers",
                )
                .await),
        }
    }

    /// One ticket with its messages, for its opener or an answerer.
    pub async fn ticket(self, actor: &Actor, id: &str) -> Result<TicketView, AppError> {
        let (row, _) = self.visible_ticket(actor, id).await?;
        let messages = self.store.read().tickets().ticket_messages(&row.id).await?;
        Ok(ticket_view(row, messages, self.clock.now().millis()))
    }

    /// The ticket and whether `actor` answers it (else it opened it); 404 for anyone else.
    async fn visible_ticket(self, actor: &Actor, id: &str) -> Result<(TicketRow, bool), AppError> {
        let opener = self.opener(actor).await?;
        if opener.is_none() && Self::answerer(actor).is_none() {
            return Err(self
                .deny(
                    actor,
                    "service_desk",
                    json!({}),
                    "仅限工单的提交方和受理方",
                    "the service desk's openers and answerers",
                )
                .await);
        }
        let row = self
            .store
            .read()
            .tickets()
            .ticket(id.trim())
            .await?
            .ok_or_else(|| AppError::not_found("没有这个工单", "no such ticket"))?;
        if Self::answers(actor, &row) {
            return Ok((row, true));
        }
        match opener {
            Some(o) if o.kind == row.opener_kind && o.id == row.opener_id => Ok((row, false)),
            _ => Err(AppError::not_found("没有这个工单", "no such ticket")),
        }
    }

    /// A message on a ticket: an answerer's first one is the response (the ticket turns answered); the
    /// opener's reopens an answered ticket. A resolved ticket takes no more messages.
    pub async fn reply_to_ticket(
        self,
        actor: &Actor,
        id: &str,
        reply: &TicketReply,
    ) -> Result<TicketView, AppError> {
        let (ticket, from_desk) = self.visible_ticket(actor, id).await?;
        let body = crate::error::required_text("body", &reply.body, 2000)?;
        let at = self.clock.now().millis();
        let author_label = if from_desk {
            match actor.account_id() {
                Some(account) => self
                    .store
                    .read()
                    .accounts()
                    .account(account)
                    .await?
                    .map(|a| a.display_name)
                    .unwrap_or_default(),
                None => String::new(),
            }
        } else {
            ticket.opener_label.clone()
        };
        let (event, first_response) = if from_desk {
            (TicketEvent::DeskReplies, Some(at))
        } else {
            (TicketEvent::OpenerReplies, None)
        };
        let mut tx = self.store.begin_write().await?;
        if !tx
            .tickets()
            .move_ticket(&ticket.id, event, first_response, None)
            .await?
        {
            return Err(resolved_already());
        }
        tx.tickets()
            .insert_ticket_message(&TicketMessageRow {
                id: uuid::Uuid::now_v7().to_string(),
                ticket_id: ticket.id.clone(),
                author: actor.audit_name(),
                author_label,
                from_desk: i64::from(from_desk),
                body,
                at,
            })
            .await?;
        // The account that opened the ticket hears of an answer in its inbox (integrators read the API).
        let opener_account = ticket
            .opener
            .strip_prefix("staff:")
            .or_else(|| ticket.opener.strip_prefix("bank_operator:"));
        if let (true, Some(account)) = (from_desk, opener_account) {
            self.notify_in(
                &mut tx,
                &[account.to_owned()],
                "服务保障工单已答复",
                &format!(
                    "工单 {}（{}）有了新的答复。",
                    ticket.ticket_no, ticket.subject
                ),
                at,
            )
            .await?;
        }
        tx.append_audit(vec![evidence::record(
            &actor.audit_name(),
            at,
            Action::TicketReplied,
            format!("ticket:{}", ticket.id),
            json!({"from_desk": from_desk, "status": TicketStatus::target(event).map(TicketStatus::as_str)}),
        )])
        .await?;
        tx.commit().await?;
        self.ticket(actor, &ticket.id).await
    }

    /// An answerer gives the ticket to an account that may answer it (itself included).
    pub async fn assign_ticket(
        self,
        actor: &Actor,
        id: &str,
        assignment: &TicketAssignment,
    ) -> Result<TicketView, AppError> {
        self.require_answerer(actor).await?;
        let (ticket, from_desk) = self.visible_ticket(actor, id).await?;
        if !from_desk {
            return Err(AppError::not_found(
                "您的工单队列中没有这个工单",
                "no such ticket in your queue",
            ));
        }
        let assignee = match self
            .store
            .read()
            .accounts()
            .account(assignment.assignee_id.trim())
            .await?
        {
            Some(row) if row.disabled == 0 => crate::auth::actor_of(&row).ok(),
            _ => None,
        };
        if !assignee.as_ref().is_some_and(|a| Self::answers(a, &ticket)) {
            return Err(AppError::new(
                ErrorCode::InvalidParameter,
                "受理人：须为可以答复此工单的账户",
                "assignee_id: an account that may answer this ticket",
            )
            .on("assignee_id"));
        }
        let at = self.clock.now().millis();
        let mut tx = self.store.begin_write().await?;
        tx.tickets()
            .assign_ticket(&ticket.id, assignment.assignee_id.trim())
            .await?;
        tx.append_audit(vec![evidence::record(
            &actor.audit_name(),
            at,
            Action::TicketAssigned,
            format!("ticket:{}", ticket.id),
            json!({"assignee": assignment.assignee_id.trim()}),
        )])
        .await?;
        tx.commit().await?;
        self.ticket(actor, &ticket.id).await
    }

    /// The opener or an answerer marks the ticket resolved.
    pub async fn resolve_ticket(self, actor: &Actor, id: &str) -> Result<TicketView, AppError> {
        let (ticket, _) = self.visible_ticket(actor, id).await?;
        let at = self.clock.now().millis();
        let mut tx = self.store.begin_write().await?;
        if !tx
            .tickets()
            .move_ticket(&ticket.id, TicketEvent::Resolve, None, Some(at))
            .await?
        {
            return Err(resolved_already());
        }
        tx.append_audit(vec![evidence::record(
            &actor.audit_name(),
            at,
            Action::TicketResolved,
            format!("ticket:{}", ticket.id),
            json!({}),
        )])
        .await?;
        tx.commit().await?;
        self.ticket(actor, &ticket.id).await
    }

    /// The answerer's queue's figures per tier, now.
    pub async fn desk_figures(self, actor: &Actor) -> Result<Vec<DeskFigures>, AppError> {
        self.require_answerer(actor).await?;
        let rows = self.queue(actor).await?;
        let now = self.clock.now().millis();
        Ok(Tier::ALL
            .into_iter()
            .map(|tier| {
                let times: Vec<TicketTimes> = rows
                    .iter()
                    .filter(|r| r.tier == tier.as_str())
                    .map(times_of)
                    .collect();
                let f = tier_figures(&times, now);
                DeskFigures {
                    tier: tier.as_str().to_owned(),
                    tier_label: tier.label_zh().to_owned(),
                    respond_within_hours: tier.respond_within_ms() / 3_600_000,
                    resolve_within_hours: tier.resolve_within_ms() / 3_600_000,
                    opened: f.opened,
                    answered: f.answered,
                    answered_in_time: f.answered_in_time,
                    median_response_minutes: f.median_response_minutes,
                    resolved: f.resolved,
                    resolved_in_time: f.resolved_in_time,
                    overdue: f.overdue,
                }
            })
            .collect())
    }
}

fn resolved_already() -> AppError {
    AppError::new(
        ErrorCode::Conflict,
        "该工单已办结，请新建工单",
        "the ticket is resolved: open a new one",
    )
}

fn times_of(r: &TicketRow) -> TicketTimes {
    TicketTimes {
        opened_at: r.opened_at,
        respond_by: r.respond_by,
        resolve_by: r.resolve_by,
        first_response_at: r.first_response_at,
        resolved_at: r.resolved_at,
    }
}

fn ticket_view(r: TicketRow, messages: Vec<TicketMessageRow>, now: i64) -> TicketView {
    let display = |ms: i64| Timestamp::from_millis(ms).china_display();
    let overdue = tier_figures(&[times_of(&r)], now).overdue > 0;
    TicketView {
        kind_label: TicketKind::parse(&r.kind)
            .map_or("", |k| k.label_zh())
            .to_owned(),
        tier_label: Tier::parse(&r.tier).map_or("", |t| t.label_zh()).to_owned(),
        status_label: r.status.label_zh().to_owned(),
        opened_at_display: display(r.opened_at),
        respond_by_display: display(r.respond_by),
        resolve_by_display: display(r.resolve_by),
        first_response_display: r.first_response_at.map(display),
        resolved_display: r.resolved_at.map(display),
        overdue,
        messages: messages
            .into_iter()
            .map(|m| TicketMessageView {
                author_label: m.author_label,
                from_desk: m.from_desk == 1,
                body: m.body,
                at_display: display(m.at),
            })
            .collect(),
        id: r.id,
        ticket_no: r.ticket_no,
        kind: r.kind,
        tier: r.tier,
        subject: r.subject,
        opener_kind: r.opener_kind,
        opener_label: r.opener_label,
        region_code: r.region_code,
        status: r.status,
        assignee_id: r.assignee,
    }
}
