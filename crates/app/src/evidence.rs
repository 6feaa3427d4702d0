//! What each registry change writes to the audit log. The single-record command and the demo's bulk
//! path both build their entries here, so a demo database carries exactly the evidence real commands
//! would have written.

use crate::Actor;
use domain::{Action, Timestamp};
use ledger::{NewAuditEntry, canonical_json};
use serde_json::json;
use store::{CourseRow, InstitutionRow, ListChangeRow, NoticeRow};

/// An audit entry (schema version 1) with a canonical JSON payload: the one way use cases build evidence.
pub(crate) fn record(
    actor: &str,
    at_ms: i64,
    action: Action,
    subject: String,
    payload: serde_json::Value,
) -> NewAuditEntry {
    NewAuditEntry {
        at_ms,
        actor: actor.to_owned(),
        action: action.as_str().to_owned(),
        subject,
        schema_version: 1,
        payload: canonical_json(&payload),
    }
}

fn entry(
    actor: &Actor,
    at: Timestamp,
    action: Action,
    subject: String,
    payload: serde_json::Value,
) -> NewAuditEntry {
    record(&actor.audit_name(), at.millis(), action, subject, payload)
}

pub fn institution_registered(actor: &Actor, at: Timestamp, i: &InstitutionRow) -> NewAuditEntry {
    entry(
        actor,
        at,
        Action::InstitutionRegistered,
        format!("institution:{}", i.id),
        json!({
            "id": i.id, "name": i.name, "credit_code": i.credit_code, "licence_no": i.licence_no,
            "region_code": i.region_code, "address": i.address, "mode": i.mode, "categories": i.categories,
            "intro": i.intro, "created_at": i.created_at,
        }),
    )
}

pub fn plate_issued(
    actor: &Actor,
    at: Timestamp,
    institution_id: &str,
    serial: i64,
    supersedes_previous: bool,
) -> NewAuditEntry {
    entry(
        actor,
        at,
        Action::PlateIssued,
        format!("institution:{institution_id}"),
        json!({"serial": serial, "supersedes_previous": supersedes_previous}),
    )
}

pub fn list_changed(actor: &Actor, at: Timestamp, c: &ListChangeRow) -> NewAuditEntry {
    entry(
        actor,
        at,
        Action::InstitutionListChanged,
        format!("institution:{}", c.institution_id),
        json!({
            "change_id": c.id, "institution_id": c.institution_id, "from": c.from_status, "to": c.to_status,
            "reason": c.reason, "decided_by": c.actor, "at": c.at,
        }),
    )
}

pub fn course_published(actor: &Actor, at: Timestamp, c: &CourseRow) -> NewAuditEntry {
    entry(
        actor,
        at,
        Action::CoursePublished,
        format!("course:{}", c.id),
        json!({
            "id": c.id, "institution_id": c.institution_id, "name": c.name, "category": c.category,
            "mode": c.mode, "grades": c.grades, "lessons": c.lessons, "minutes_per_lesson": c.minutes_per_lesson,
            "class_size": c.class_size, "price_per_lesson_fen": c.price_per_lesson_fen, "created_at": c.created_at,
        }),
    )
}

pub fn notice_published(actor: &Actor, at: Timestamp, n: &NoticeRow) -> NewAuditEntry {
    entry(
        actor,
        at,
        Action::NoticePublished,
        format!("notice:{}", n.id),
        json!({
            "id": n.id, "kind": n.kind, "institution_id": n.institution_id, "region_code": n.region_code,
            "title": n.title, "body": n.body, "published_at": n.published_at,
        }),
    )
}
