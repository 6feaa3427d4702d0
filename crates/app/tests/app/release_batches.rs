use super::money_flow::shop;
use app::bank::InstructionResult;
use app::testing::TEST_NOW;
use app::{Actor, Clock, ErrorCode};

#[tokio::test]
async fn a_batching_region_releases_a_days_confirmed_lessons_in_one_instruction_per_account() {
    let s = shop().await;
    let supervisor = s.competent_supervisor().await;
    let batching = app::policy::PolicyChange {
        policy: domain::policy::PolicyOverride {
            daily_release_batch: Some(true),
            ..Default::default()
        },
        reason: "监管账户每日批量划转".into(),
    };
    s.t.app
        .registry()
        .set_region_policy(&supervisor, &batching)
        .await
        .unwrap();
    let (a, b) = (s.order().await, s.order().await);
    s.pay(&a, "PAY-A").await;
    s.pay(&b, "PAY-B").await;
    let paid = a.line.amount_fen + b.line.amount_fen;
    let t0 = TEST_NOW.millis();
    s.movement("MV-IN", "in", paid, paid, t0, None)
        .await
        .unwrap();
    let parent = s.parent_actor();
    let mut fees = 0;
    for order in [&a, &b] {
        let lesson = s.attend(&order.line.id).await;
        let confirmed =
            s.t.app
                .money()
                .confirm_lesson(&parent, &lesson.id)
                .await
                .unwrap();
        assert_eq!(
            confirmed.release_status,
            Some(domain::instruction::ReleaseProgress::HeldForBatch),
            "reserved at once, sent with the day's batch"
        );
        fees += lesson.fee_fen;
    }
    assert!(
        s.t.app
            .store()
            .read()
            .instructions()
            .due_instructions(t0, 100)
            .await
            .unwrap()
            .is_empty(),
        "nothing goes to the bank lesson by lesson"
    );
    assert_eq!(
        s.t.app.money().form_release_batches().await.unwrap(),
        0,
        "the day is not over"
    );

    // The next morning: one batch for the account, carrying both releases.
    s.t.clock.advance_millis(24 * 3_600_000);
    assert_eq!(s.t.app.money().form_release_batches().await.unwrap(), 1);
    assert_eq!(
        s.t.app.money().form_release_batches().await.unwrap(),
        0,
        "once"
    );
    let staff = s.staff(domain::access::StaffRole::Admin).await;
    let money =
        s.t.app
            .money()
            .institution_money(&staff, &s.institution_id)
            .await
            .unwrap();
    let batch = money.accounts[0].batches[0].clone();
    assert_eq!(
        (batch.item_count, batch.amount_fen, batch.status.as_str()),
        (2, fees, "pending")
    );
    assert_eq!(
        batch.business_date,
        TEST_NOW.china_date().to_string(),
        "the day the lessons were confirmed"
    );
    let view =
        s.t.app
            .money()
            .instruction_view(&batch.batch_id)
            .await
            .unwrap();
    assert_eq!(
        (view.kind.as_str(), view.items.len(), view.order_id),
        ("release_batch", 2, None)
    );
    assert_eq!(
        s.t.app
            .store()
            .read()
            .instructions()
            .due_batches(s.t.clock.now().millis(), 10)
            .await
            .unwrap()
            .len(),
        1,
        "due for delivery"
    );

    // An outflow naming the batch for another amount is not its execution.
    let at = s.t.clock.now().millis();
    let wrong = s
        .movement(
            "MV-WRONG",
            "out",
            fees - 1,
            paid - fees + 1,
            at,
            Some(&batch.batch_id),
        )
        .await
        .unwrap();
    assert_eq!(wrong.matched, "unmatched");
    assert_eq!(s.line(&a.line.id).await.released_fen, 0);

    // The bank's one outflow executes both releases: each order's escrow moves by its own fee.
    let done = s
        .movement(
            "MV-BATCH",
            "out",
            fees,
            paid - fees,
            at + 1,
            Some(&batch.batch_id),
        )
        .await
        .unwrap();
    assert_eq!(done.matched, "matched");
    for order in [&a, &b] {
        let line = s.line(&order.line.id).await;
        let fee =
            s.t.app
                .money()
                .lessons_of_order(&parent, &order.line.id)
                .await
                .unwrap()[0]
                .clone();
        assert_eq!(
            (line.released_fen, line.escrow_fen),
            (fee.fee_fen, order.line.amount_fen - fee.fee_fen)
        );
        assert_eq!(
            fee.release_status,
            Some(domain::instruction::ReleaseProgress::Executed)
        );
    }
    let result = InstructionResult {
        status: "executed".into(),
        bank_ref: Some("MV-BATCH".into()),
        reason: None,
    };
    let again =
        s.t.app
            .money()
            .record_instruction_result(&s.bank_actor(), &batch.batch_id, &result)
            .await
            .unwrap();
    assert_eq!(
        (
            again.status.as_str(),
            again
                .items
                .iter()
                .filter(|i| i.status == domain::InstructionStatus::Executed)
                .count()
        ),
        ("executed", 2)
    );
    assert_eq!(
        s.line(&a.line.id).await.released_fen + s.line(&b.line.id).await.released_fen,
        fees,
        "the result after the movement moves nothing twice"
    );
    let failed = InstructionResult {
        status: "failed".into(),
        bank_ref: None,
        reason: Some("余额不足".into()),
    };
    assert_eq!(
        s.t.app
            .money()
            .record_instruction_result(&s.bank_actor(), &batch.batch_id, &failed)
            .await
            .unwrap_err()
            .code,
        ErrorCode::Conflict
    );
    let other_bank = Actor::ApiClient {
        key_id: "other".into(),
        owner_kind: "bank".into(),
        owner_id: "other-bank".into(),
    };
    assert_eq!(
        s.t.app
            .money()
            .record_instruction_result(&other_bank, &batch.batch_id, &result)
            .await
            .unwrap_err()
            .code,
        ErrorCode::NotFound,
        "another bank's batch"
    );
    let recount =
        s.t.app
            .store()
            .read()
            .ledger()
            .ledger_recount()
            .await
            .unwrap();
    assert_eq!(
        (recount.transfers, recount.mismatched.len()),
        (4, 0),
        "two payments and two releases, each its own transfer: {recount:?}"
    );
}
