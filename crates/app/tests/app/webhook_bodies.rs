//! The public webhook bodies, pinned: what an integrator's system receives for each event, key by key and
//! type by type. The bodies are picked from the audit entries the use cases write, so renaming a key there
//! changes a public contract; this test says so.

use super::money_flow::shop;
use app::complaints::NewComplaint;
use app::lessons::Dispute;
use app::refunds::{RefundAnswer, RefundRequest};
use app::testing::TEST_NOW;
use app::webhooks::WebhookEndpoint;
use serde_json::Value;
use std::collections::BTreeMap;

/// The JSON type of a value, as the pins name it.
fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn shape(v: &Value) -> BTreeMap<String, &'static str> {
    v.as_object()
        .expect("an object")
        .iter()
        .map(|(k, v)| (k.clone(), kind(v)))
        .collect()
}

fn pinned(fields: &[(&str, &'static str)]) -> BTreeMap<String, &'static str> {
    fields.iter().map(|(k, t)| ((*k).to_owned(), *t)).collect()
}

#[tokio::test]
async fn every_public_webhook_body_is_pinned() {
    let s = shop().await;
    let integrator = s.t.demo_integrator().await;
    let endpoint = WebhookEndpoint {
        url: "https://saas.example.com/xiaowai/webhooks".into(),
    };
    s.t.app
        .integration()
        .set_webhook_endpoint(&integrator, &endpoint)
        .await
        .unwrap();
    s.t.clock.advance_millis(1_000);
    let parent = s.parent_actor();
    let admin = s.staff(domain::access::StaffRole::Admin).await;

    // order.paid, lesson.confirmed, lesson.disputed, complaint.opened
    let (taught, paid) = s.paid_and_deposited().await;
    let first = s.attend(&taught.line.id).await;
    let second = s.attend(&taught.line.id).await;
    s.t.app
        .money()
        .confirm_lesson(&parent, &first.id)
        .await
        .unwrap();
    let dispute = Dispute {
        reason: "孩子当天请假，未上课".into(),
    };
    s.t.app
        .money()
        .dispute_lesson(&parent, &second.id, &dispute)
        .await
        .unwrap();
    let complaint = NewComplaint {
        institution_id: s.institution_id.clone(),
        order_id: Some(taught.line.id.clone()),
        category: "teaching_quality".into(),
        body: "老师连续三次迟到，课程内容与宣传不符".into(),
    };
    s.t.app
        .service()
        .file_complaint(&parent, &complaint, &[])
        .await
        .unwrap();

    // refund.requested, then refund.agreed by the institution
    let refunded = s.order().await;
    s.pay(&refunded, "PAY-2").await;
    let ask = RefundRequest {
        reason: "孩子转学".into(),
    };
    let refund =
        s.t.app
            .money()
            .request_refund(&parent, &refunded.line.id, &ask)
            .await
            .unwrap();
    let agree = RefundAnswer {
        agree: true,
        reason: String::new(),
    };
    s.t.app
        .money()
        .answer_refund(&admin, &refund.id, &agree)
        .await
        .unwrap();

    // refund.agreed again, this time a regulator upholding an escalated refund
    let ruled = s.order().await;
    s.pay(&ruled, "PAY-3").await;
    let refund =
        s.t.app
            .money()
            .request_refund(&parent, &ruled.line.id, &ask)
            .await
            .unwrap();
    let refuse = RefundAnswer {
        agree: false,
        reason: "已过全额退费期".into(),
    };
    s.t.app
        .money()
        .answer_refund(&admin, &refund.id, &refuse)
        .await
        .unwrap();
    s.t.app
        .money()
        .escalate_refund(&parent, &refund.id)
        .await
        .unwrap();
    let uphold = RefundAnswer {
        agree: true,
        reason: "宣传内容与实际课程不符".into(),
    };
    let regulator = s.competent_supervisor().await;
    s.t.app
        .money()
        .rule_on_refund(&regulator, &refund.id, &uphold)
        .await
        .unwrap();

    // warning.raised: money leaves the supervised account without an instruction
    s.movement(
        "MV-OUT",
        "out",
        1_000,
        paid - 1_000,
        TEST_NOW.millis(),
        None,
    )
    .await
    .unwrap();

    s.t.app
        .integration()
        .dispatch_webhook_events()
        .await
        .unwrap();
    let deliveries =
        s.t.app
            .integration()
            .webhook_deliveries(&integrator, None)
            .await
            .unwrap();

    let envelope = pinned(&[
        ("id", "string"),
        ("event_id", "number"),
        ("type", "string"),
        ("institution_id", "string"),
        ("occurred_at", "number"),
        ("data", "object"),
    ]);
    let bodies: BTreeMap<&str, BTreeMap<String, &'static str>> = [
        (
            "order.paid",
            pinned(&[
                ("order", "string"),
                ("order_no", "string"),
                ("amount_fen", "number"),
                ("paid_at", "number"),
            ]),
        ),
        (
            "lesson.confirmed",
            pinned(&[
                ("lesson", "string"),
                ("order", "string"),
                ("lesson_no", "number"),
                ("status", "string"),
                ("fee_fen", "number"),
            ]),
        ),
        (
            "lesson.disputed",
            pinned(&[
                ("lesson", "string"),
                ("order", "string"),
                ("lesson_no", "number"),
                ("reason", "string"),
            ]),
        ),
        (
            "refund.requested",
            pinned(&[
                ("refund", "string"),
                ("order", "string"),
                ("amount_fen", "number"),
                ("lessons_taken", "number"),
                ("reason", "string"),
            ]),
        ),
        (
            "refund.agreed",
            pinned(&[
                ("refund", "string"),
                ("order", "string"),
                ("amount_fen", "number"),
                ("instruction", "string"),
            ]),
        ),
        (
            "complaint.opened",
            pinned(&[
                ("complaint", "string"),
                ("complaint_no", "string"),
                ("category", "string"),
                ("order", "string"),
            ]),
        ),
        (
            "warning.raised",
            pinned(&[
                ("warning", "string"),
                ("indicator", "string"),
                ("level", "string"),
            ]),
        ),
    ]
    .into_iter()
    .collect();

    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for d in &deliveries {
        let body = &d.payload;
        assert_eq!(shape(body), envelope, "the envelope of {body}");
        let kind = body["type"].as_str().unwrap();
        let pin = bodies
            .get(kind)
            .unwrap_or_else(|| panic!("an event type nobody pinned: {kind}"));
        assert_eq!(&shape(&body["data"]), pin, "the body of {kind}: {body}");
        assert_eq!(body["institution_id"], s.institution_id.as_str());
        *seen.entry(kind.to_owned()).or_default() += 1;
    }
    let expected: BTreeMap<String, usize> = [
        ("order.paid", 3),
        ("lesson.confirmed", 1),
        ("lesson.disputed", 1),
        ("complaint.opened", 1),
        ("refund.requested", 2),
        ("refund.agreed", 2),
        ("warning.raised", 1),
    ]
    .into_iter()
    .map(|(k, n)| (k.to_owned(), n))
    .collect();
    assert_eq!(
        seen, expected,
        "every public event type, each as often as it happened"
    );
}
