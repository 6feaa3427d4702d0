//! 公开事件 what a connected system is told, typed. Each struct is the public part of one audit entry's
//! payload: the use case records it with [`public`] (and what stays private beside it), and the webhook body
//! is the same struct read back from the entry. Renaming a field renames it in both places, the compiler holds
//! every use case to the whole body, and `tests/app/webhook_bodies.rs` pins what goes out.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// An event a connected system may receive.
pub trait PublicEvent: Serialize + DeserializeOwned {
    /// The type the integrator sees, e.g. `order.paid`.
    const TYPE: &'static str;
}

/// An audit payload: the event's fields, then `private` fields (an object) that the integrator is not told.
pub(crate) fn public<E: PublicEvent>(event: &E, private: Value) -> Value {
    let mut payload = serde_json::to_value(event).unwrap_or_default();
    if let (Value::Object(all), Value::Object(more)) = (&mut payload, private) {
        all.extend(more);
    }
    payload
}

/// The webhook body of an audit payload recorded with [`public`]; `None` when it does not hold the event.
pub(crate) fn body_of<E: PublicEvent>(payload: &str) -> Option<Value> {
    let event: E = serde_json::from_str(payload).ok()?;
    serde_json::to_value(event).ok()
}

macro_rules! public_events {
    ($($(#[$meta:meta])* $name:ident = $kind:literal { $($(#[$fmeta:meta])* $field:ident: $ty:ty,)* })*) => {$(
        $(#[$meta])*
        #[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
        pub struct $name { $($(#[$fmeta])* pub $field: $ty,)* }

        impl PublicEvent for $name {
            const TYPE: &'static str = $kind;
        }
    )*};
}

public_events! {
    /// `order.paid`: the bank took the parent's payment into the supervised account.
    OrderPaid = "order.paid" {
        order: String,
        order_no: String,
        amount_fen: i64,
        /// When the bank took it (unix ms).
        paid_at: i64,
    }
    /// `lesson.confirmed`: the parent (or silence past the window) confirmed a lesson; its fee is released.
    LessonConfirmed = "lesson.confirmed" {
        lesson: String,
        order: String,
        lesson_no: i64,
        /// `confirmed` or `auto_confirmed`.
        status: String,
        fee_fen: i64,
    }
    /// `lesson.disputed`: the parent says the lesson did not happen as recorded.
    LessonDisputed = "lesson.disputed" {
        lesson: String,
        order: String,
        lesson_no: i64,
        reason: String,
    }
    /// `refund.requested`: the parent asks for the rest of an order back.
    RefundRequested = "refund.requested" {
        refund: String,
        order: String,
        amount_fen: i64,
        lessons_taken: i64,
        reason: String,
    }
    /// `refund.agreed`: the refund is agreed (by the institution, by its silence, or by a regulator) and
    /// instructed to the bank.
    RefundAgreed = "refund.agreed" {
        refund: String,
        order: String,
        amount_fen: i64,
        instruction: String,
    }
    /// `complaint.opened`: a parent filed a complaint about the institution.
    ComplaintOpened = "complaint.opened" {
        complaint: String,
        complaint_no: String,
        category: String,
        /// The order it is about, if any.
        order: Option<String>,
    }
    /// `warning.raised`: the risk engine raised a warning about the institution.
    WarningRaised = "warning.raised" {
        warning: String,
        indicator: String,
        /// `yellow`, `orange` or `red`.
        level: String,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_body_is_the_public_part_of_the_payload() {
        let paid = OrderPaid {
            order: "o1".into(),
            order_no: "XW1".into(),
            amount_fen: 100,
            paid_at: 7,
        };
        let payload = public(&paid, json!({"bank_ref": "PAY-1"}));
        assert_eq!(payload["bank_ref"], "PAY-1");
        let body = body_of::<OrderPaid>(&payload.to_string()).unwrap();
        assert_eq!(
            body,
            json!({"order": "o1", "order_no": "XW1", "amount_fen": 100, "paid_at": 7})
        );
        assert_eq!(body_of::<LessonDisputed>(&payload.to_string()), None);
    }
}
