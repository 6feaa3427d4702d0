use super::*;
use app::bank::{DailyStatement, InstructionResult, MovementReport, PaymentNotice};
use app::demo::{DEMO_ACCOUNT_NO, DEMO_BANK_KEY_ID};
use app::orders::NewOrder;
use app::parents::{NewChild, PhoneLogin};
use app::testing::TEST_NOW;

pub(super) struct Shop {
    pub(super) t: TestApp,
    parent: Actor,
    child_id: String,
    course_id: String,
    pub(super) institution_id: String,
    pub(super) bank: Actor,
}

const PHONE: &str = "13700000009";

pub(super) async fn demo_staff(t: &TestApp) -> store::AccountRow {
    let mut tx = t.app.store().begin_write().await.unwrap();
    tx.accounts()
        .account_by_username("inst.admin")
        .await
        .unwrap()
        .unwrap()
}

pub(super) async fn shop() -> Shop {
    let t = TestApp::with_demo(6).await;
    let staff = demo_staff(&t).await;
    let institution_id = staff.institution_id.unwrap();
    let course_id = t
        .app
        .store()
        .read()
        .registry()
        .courses_of(&institution_id)
        .await
        .unwrap()
        .into_iter()
        .find(|c| c.price_per_lesson_fen > 0)
        .expect("the demo institution sells a priced course")
        .id;
    t.app.identity().request_login_code(PHONE).await.unwrap();
    let text = t.sms.last_to(PHONE).unwrap();
    let code: String = text.chars().filter(char::is_ascii_digit).take(6).collect();
    let parent = Actor::Parent {
        account_id: t
            .app
            .identity()
            .login_with_code(&PhoneLogin {
                phone: PHONE.into(),
                code,
            })
            .await
            .unwrap()
            .actor
            .account_id,
    };
    let child = NewChild {
        name: "李小华".into(),
        gender: "female".into(),
        id_card: "110108201506060039".into(),
        school: "海淀实验小学".into(),
        grade: "小学四年级".into(),
    };
    let child_id = t
        .app
        .identity()
        .add_child(&parent, &child)
        .await
        .unwrap()
        .id;
    Shop {
        t,
        parent,
        child_id,
        course_id,
        institution_id,
        bank: Actor::ApiClient {
            key_id: DEMO_BANK_KEY_ID.into(),
            owner_kind: "bank".into(),
            owner_id: "demo-bank".into(),
        },
    }
}

/// When a window of `working_days` opened today (the tests' now) closes: the end of its last working day,
/// China time.
pub(super) fn window_closes(working_days: u32) -> i64 {
    let last =
        domain::WorkingDayCalendar::china().add_working_days(TEST_NOW.china_date(), working_days);
    last.succ_opt()
        .unwrap()
        .and_hms_opt(0, 0, 0)
        .unwrap()
        .and_local_timezone(domain::time::china_offset())
        .unwrap()
        .timestamp_millis()
}

/// A supervisor of a province other than the one `region` lies in.
pub(super) fn supervisor_outside(region: &str) -> Actor {
    let other = if region.starts_with("11") {
        "310000"
    } else {
        "110000"
    };
    Actor::Regulator {
        account_id: "elsewhere".into(),
        region: domain::RegionCode::parse(other).unwrap(),
        role: domain::access::RegulatorRole::Supervisor,
    }
}

impl Shop {
    pub(super) fn parent_actor(&self) -> Actor {
        self.parent.clone()
    }

    pub(super) fn bank_actor(&self) -> Actor {
        self.bank.clone()
    }

    /// The demo institution's admin, acting in `role`.
    pub(super) async fn staff(&self, role: domain::access::StaffRole) -> Actor {
        Actor::Staff {
            account_id: demo_staff(&self.t).await.id,
            institution_id: self.institution_id.clone(),
            role,
        }
    }

    /// The region of the regulator competent for the demo institution (county offline, province online).
    pub(super) async fn competent_region(&self) -> domain::RegionCode {
        let institution = self
            .t
            .app
            .store()
            .read()
            .registry()
            .institution(&self.institution_id)
            .await
            .unwrap()
            .unwrap();
        domain::access::competent_region(
            domain::TeachingMode::parse(&institution.mode).unwrap(),
            &domain::RegionCode::parse(&institution.region_code).unwrap(),
        )
    }

    /// A supervisor of the competent region.
    pub(super) async fn competent_supervisor(&self) -> Actor {
        Actor::Regulator {
            account_id: "competent-supervisor".into(),
            region: self.competent_region().await,
            role: domain::access::RegulatorRole::Supervisor,
        }
    }

    /// The demo institution's admin takes attendance (with a sign-in sheet) for the order's next lesson.
    pub(super) async fn attend(&self, order_id: &str) -> app::lessons::LessonView {
        let admin = self.staff(domain::access::StaffRole::Admin).await;
        let attendance = app::lessons::Attendance {
            evidence: "点名".into(),
        };
        self.t
            .app
            .money()
            .take_attendance(&admin, order_id, &attendance)
            .await
            .unwrap()
    }

    /// The order as its parent sees it.
    pub(super) async fn line(&self, order_id: &str) -> app::orders::OrderLine {
        self.t
            .app
            .money()
            .order_for(&self.parent, order_id)
            .await
            .unwrap()
            .line
    }

    pub(super) async fn order(&self) -> app::orders::OrderDetail {
        self.try_order().await.unwrap()
    }

    pub(super) async fn try_order(&self) -> Result<app::orders::OrderDetail, app::AppError> {
        let new = NewOrder {
            course_id: self.course_id.clone(),
            child_id: self.child_id.clone(),
        };
        self.t.app.money().place_order(&self.parent, &new).await
    }

    /// An order paid, with the bank's report of the money arriving in the supervised account (the
    /// account's balance is then exactly the order's amount). Returns the order and its amount.
    pub(super) async fn paid_and_deposited(&self) -> (app::orders::OrderDetail, i64) {
        let order = self.order().await;
        let paid = order.line.amount_fen;
        self.pay(&order, "PAY-1").await;
        self.movement("MV-IN", "in", paid, paid, TEST_NOW.millis(), None)
            .await
            .unwrap();
        (order, paid)
    }

    pub(super) async fn pay(
        &self,
        order: &app::orders::OrderDetail,
        bank_ref: &str,
    ) -> app::bank::PaymentAck {
        let notice = PaymentNotice {
            order_no: order.line.order_no.clone(),
            account_no: DEMO_ACCOUNT_NO.into(),
            amount_fen: order.line.amount_fen,
            bank_ref: bank_ref.into(),
            paid_at: TEST_NOW.millis(),
        };
        self.t
            .app
            .money()
            .record_payment(&self.bank, &notice)
            .await
            .unwrap()
    }

    pub(super) async fn movement(
        &self,
        bank_ref: &str,
        direction: &str,
        amount_fen: i64,
        balance_after_fen: i64,
        at: i64,
        instruction_id: Option<&str>,
    ) -> Result<app::bank::MovementAck, app::AppError> {
        let report = MovementReport {
            account_no: DEMO_ACCOUNT_NO.into(),
            bank_ref: bank_ref.into(),
            direction: direction.into(),
            amount_fen,
            balance_after_fen,
            occurred_at: at,
            instruction_id: instruction_id.map(str::to_owned),
            order_no: None,
        };
        self.t
            .app
            .money()
            .record_movement(&self.bank, &report)
            .await
    }

    /// What the platform holds in escrow on the demo account, all orders together.
    pub(super) async fn escrow_total(&self) -> i64 {
        let account = self
            .t
            .app
            .store()
            .read()
            .funds()
            .supervised_accounts_of(&self.institution_id)
            .await
            .unwrap()
            .into_iter()
            .find(|a| a.account_no == DEMO_ACCOUNT_NO)
            .unwrap();
        self.t
            .app
            .store()
            .read()
            .orders()
            .escrow_owed(&account.id)
            .await
            .unwrap()
    }

    pub(super) async fn escrow(&self, order_id: &str) -> i64 {
        self.t
            .app
            .money()
            .order_for(&self.parent, order_id)
            .await
            .unwrap()
            .line
            .escrow_fen
    }

    pub(super) async fn risks(&self) -> Vec<String> {
        self.t
            .app
            .store()
            .read()
            .bank()
            .risk_events(Some(&self.institution_id), 50)
            .await
            .unwrap()
            .into_iter()
            .map(|r| r.kind)
            .collect()
    }
}

#[tokio::test]
async fn an_order_carries_its_contract_and_turns_paid_only_once_when_the_bank_says_so() {
    let s = shop().await;
    let order = s.order().await;
    assert_eq!(order.line.status, OrderStatus::AwaitingPayment);
    assert_eq!(order.line.escrow_fen, 0);
    assert!(order.line.order_no.starts_with("XW20261126"));
    let c = &order.contract;
    assert_eq!(c.template, "GF-2021-2604");
    assert_eq!(c.price.total_fen, order.line.amount_fen);
    assert_eq!(
        c.price.total_fen,
        c.price.price_per_lesson_fen * i64::from(c.price.lessons)
    );
    assert_eq!(c.customer.child_name_masked, "李*华");
    assert_eq!(c.supervision.account_no, DEMO_ACCOUNT_NO);
    assert_eq!(c.refund_terms.response_working_days, 5);
    assert_eq!(order.contract_digest.len(), 64);
    let digest = hex::encode(ledger::Crypto::hash(
        &ledger::SmSuite,
        &[ledger::canonical_json(&serde_json::to_value(c).unwrap()).as_bytes()],
    ));
    assert_eq!(
        order.contract_digest, digest,
        "the digest is the SM3 of the stored contract"
    );
    assert_eq!(order.refund_preview.len(), c.price.lessons as usize + 1);
    assert_eq!(order.refund_preview[0].refund_fen, order.line.amount_fen);
    assert_eq!(order.refund_preview.last().unwrap().refund_fen, 0);

    let ack = s.pay(&order, "PAY-0001").await;
    assert_eq!(
        (ack.status, ack.escrow_fen, ack.duplicate),
        (PaymentResult::Paid, order.line.amount_fen, false)
    );
    let again = s.pay(&order, "PAY-0001").await;
    assert!(again.duplicate, "the same payment twice changes nothing");
    assert_eq!(s.escrow(&order.line.id).await, order.line.amount_fen);
    let other = PaymentNotice {
        order_no: order.line.order_no.clone(),
        account_no: DEMO_ACCOUNT_NO.into(),
        amount_fen: order.line.amount_fen,
        bank_ref: "PAY-0002".into(),
        paid_at: TEST_NOW.millis(),
    };
    assert_eq!(
        s.t.app
            .money()
            .record_payment(&s.bank, &other)
            .await
            .unwrap_err()
            .code,
        ErrorCode::AlreadyPaid
    );
    assert_eq!(s.escrow(&order.line.id).await, order.line.amount_fen);

    let second = s.order().await;
    let short = PaymentNotice {
        order_no: second.line.order_no.clone(),
        amount_fen: second.line.amount_fen - 1,
        bank_ref: "PAY-0003".into(),
        ..other.clone()
    };
    assert_eq!(
        s.t.app
            .money()
            .record_payment(&s.bank, &short)
            .await
            .unwrap_err()
            .code,
        ErrorCode::AmountMismatch
    );
    let stranger_bank = Actor::ApiClient {
        key_id: "xwk_other".into(),
        owner_kind: "bank".into(),
        owner_id: "other-bank".into(),
    };
    let full = PaymentNotice {
        amount_fen: second.line.amount_fen,
        ..short.clone()
    };
    assert_eq!(
        s.t.app
            .money()
            .record_payment(&stranger_bank, &full)
            .await
            .unwrap_err()
            .code,
        ErrorCode::NotFound,
        "another bank cannot pay into this account"
    );
    let still =
        s.t.app
            .money()
            .order_for(&s.parent, &second.line.id)
            .await
            .unwrap();
    assert_eq!(
        (still.line.status.as_str(), still.line.escrow_fen),
        ("awaiting_payment", 0)
    );

    // The institution and a regulator over it see the same escrow; a stranger parent does not see it.
    let staff = s.staff(domain::access::StaffRole::Admin).await;
    let lines =
        s.t.app
            .money()
            .institution_orders(&staff, &s.institution_id)
            .await
            .unwrap();
    let seen = lines.iter().find(|l| l.id == order.line.id).unwrap();
    assert_eq!(seen.escrow_fen, order.line.amount_fen);
    let stranger = Actor::Parent {
        account_id: "nobody".into(),
    };
    assert_eq!(
        s.t.app
            .money()
            .order_for(&stranger, &order.line.id)
            .await
            .unwrap_err()
            .code,
        ErrorCode::Forbidden
    );
}

#[tokio::test]
async fn a_batch_answers_each_notice_and_commits_the_good_ones_together() {
    use app::bank::{PaymentBatch, PaymentOutcome};
    let s = shop().await;
    let (a, b) = (s.order().await, s.order().await);
    let notice = |o: &app::orders::OrderDetail, amount: i64, bank_ref: &str| PaymentNotice {
        order_no: o.line.order_no.clone(),
        account_no: DEMO_ACCOUNT_NO.into(),
        amount_fen: amount,
        bank_ref: bank_ref.into(),
        paid_at: TEST_NOW.millis(),
    };
    let batch = PaymentBatch {
        payments: vec![
            notice(&a, a.line.amount_fen, "B-1"),
            notice(&b, b.line.amount_fen + 1, "B-2"),
            notice(&a, a.line.amount_fen, "B-1"),
            notice(&a, a.line.amount_fen, "B-3"),
        ],
    };
    let outcomes =
        s.t.app
            .money()
            .record_payments(&s.bank, &batch)
            .await
            .unwrap();
    let summary: Vec<String> = outcomes
        .iter()
        .map(|o| match o {
            PaymentOutcome::Ok(ack) => format!("ok duplicate={}", ack.duplicate),
            PaymentOutcome::Refused { code, .. } => format!("refused {code}"),
        })
        .collect();
    assert_eq!(
        summary,
        [
            "ok duplicate=false",
            "refused amount_mismatch",
            "ok duplicate=true",
            "refused already_paid"
        ]
    );
    assert_eq!(s.escrow(&a.line.id).await, a.line.amount_fen);
    assert_eq!(s.escrow(&b.line.id).await, 0);
    let empty = PaymentBatch { payments: vec![] };
    assert_eq!(
        s.t.app
            .money()
            .record_payments(&s.bank, &empty)
            .await
            .unwrap_err()
            .code,
        ErrorCode::InvalidParameter
    );
}

#[tokio::test]
async fn a_region_may_forbid_collecting_long_before_the_course_starts() {
    let s = shop().await;
    let admin = s.staff(domain::access::StaffRole::Admin).await;
    let course = app::courses::NewCourse {
        name: "春季创意美术".into(),
        category: "arts".into(),
        mode: "offline".into(),
        grades: "一至三年级".into(),
        lessons: 12,
        minutes_per_lesson: 60,
        class_size: 10,
        price_per_lesson_fen: 12_000,
        first_lesson: "2027-03-01".into(),
        last_lesson: "2027-05-31".into(),
        preferential_total_fen: None,
        schedule: None,
    };
    let course_id =
        s.t.app
            .registry()
            .publish_course(&admin, &course)
            .await
            .unwrap();
    let national = Actor::Regulator {
        account_id: "sup".into(),
        region: domain::RegionCode::parse("000000").unwrap(),
        role: domain::access::RegulatorRole::Supervisor,
    };
    let rule = app::policy::PolicyChange {
        policy: domain::policy::PolicyOverride {
            max_days_before_start: Some(30),
            ..Default::default()
        },
        reason: "开课前一个月内方可收费".into(),
    };
    s.t.app
        .registry()
        .set_region_policy(&national, &rule)
        .await
        .unwrap();
    let new = NewOrder {
        course_id,
        child_id: s.child_id.clone(),
    };
    let early =
        s.t.app
            .money()
            .place_order(&s.parent, &new)
            .await
            .unwrap_err();
    assert_eq!(early.code, ErrorCode::PolicyViolation);
    assert_eq!(
        early.detail.zh,
        "开课前30天以上不得收费，本课程2027-03-01开课"
    );
    // 2027-02-01 in China: within 30 days of the start.
    s.t.clock
        .set(domain::Timestamp::from_millis(1_801_443_600_000));
    assert_eq!(s.t.app.clock().now().china_date().to_string(), "2027-02-01");
    s.t.app.money().place_order(&s.parent, &new).await.unwrap();
}

#[tokio::test]
async fn duplicated_and_reordered_movements_change_nothing_the_second_time() {
    let s = shop().await;
    let order = s.order().await;
    let paid = order.line.amount_fen;
    s.pay(&order, "PAY-1").await;
    let t0 = TEST_NOW.millis();
    let system = Actor::System { name: "test" };
    let fee = domain::contract::lesson_fee(domain::Fen::new(paid), order.contract.price.lessons, 1)
        .unwrap()
        .get();
    let release =
        s.t.app
            .money()
            .instruct_bank(&system, "release", &order.line.id, fee)
            .await
            .unwrap();

    // The outflow arrives before the inflow that preceded it at the bank.
    let out = s
        .movement(
            "MV-2",
            "out",
            fee,
            paid - fee,
            t0 + 2_000,
            Some(&release.instruction_id),
        )
        .await
        .unwrap();
    assert_eq!(
        (out.matched.as_str(), out.risk_events.len()),
        ("matched", 0)
    );
    let late_in = s
        .movement("MV-1", "in", paid, paid, t0 + 1_000, None)
        .await
        .unwrap();
    assert!(late_in.risk_events.is_empty());
    let again = s
        .movement(
            "MV-2",
            "out",
            fee,
            paid - fee,
            t0 + 2_000,
            Some(&release.instruction_id),
        )
        .await
        .unwrap();
    assert!(again.duplicate);
    // The bank's result after its movement: already executed, nothing moves twice.
    let result = InstructionResult {
        status: "executed".into(),
        bank_ref: Some("MV-2".into()),
        reason: None,
    };
    let view =
        s.t.app
            .money()
            .record_instruction_result(&s.bank, &release.instruction_id, &result)
            .await
            .unwrap();
    assert_eq!(view.status, InstructionStatus::Executed);
    s.t.app
        .money()
        .record_instruction_result(&s.bank, &release.instruction_id, &result)
        .await
        .unwrap();

    let line =
        s.t.app
            .money()
            .order_for(&s.parent, &order.line.id)
            .await
            .unwrap()
            .line;
    assert_eq!(
        (line.escrow_fen, line.released_fen, line.refunded_fen),
        (paid - fee, fee, 0)
    );
    assert_eq!(
        line.escrow_fen + line.released_fen + line.refunded_fen,
        paid
    );
    let account =
        s.t.app
            .store()
            .read()
            .funds()
            .supervised_accounts_of(&s.institution_id)
            .await
            .unwrap()
            .remove(0);
    assert_eq!(
        (account.reported_balance_fen, account.reported_at),
        (Some(paid - fee), Some(t0 + 2_000)),
        "the older report did not roll the balance back"
    );
    assert!(account.reconciled_at.is_some());
    assert!(s.risks().await.is_empty());

    // More than the escrow cannot be instructed, counting what is instructed and not yet executed.
    let refund =
        s.t.app
            .money()
            .instruct_bank(&system, "refund", &order.line.id, paid - fee)
            .await
            .unwrap();
    assert_eq!(
        s.t.app
            .money()
            .instruct_bank(&system, "refund", &order.line.id, 1)
            .await
            .unwrap_err()
            .code,
        ErrorCode::InsufficientFunds
    );
    let failed = InstructionResult {
        status: "failed".into(),
        bank_ref: None,
        reason: Some("收款账户已销户".into()),
    };
    s.t.app
        .money()
        .record_instruction_result(&s.bank, &refund.instruction_id, &failed)
        .await
        .unwrap();
    assert_eq!(
        s.escrow(&order.line.id).await,
        paid - fee,
        "a failed refund leaves the escrow"
    );
    assert_eq!(
        s.t.app
            .money()
            .record_instruction_result(&s.bank, &refund.instruction_id, &result)
            .await
            .unwrap_err()
            .code,
        ErrorCode::Conflict
    );
}

#[tokio::test]
async fn an_outflow_nobody_instructed_raises_a_red_event_within_the_report() {
    let s = shop().await;
    let order = s.order().await;
    let paid = order.line.amount_fen;
    s.pay(&order, "PAY-1").await;
    let t0 = TEST_NOW.millis();
    s.movement("MV-1", "in", paid, paid, t0, None)
        .await
        .unwrap();
    let started = std::time::Instant::now();
    let ack = s
        .movement("MV-X", "out", 50_000, paid - 50_000, t0 + 1, None)
        .await
        .unwrap();
    let elapsed = started.elapsed();
    assert_eq!(ack.matched, "unmatched");
    assert_eq!(
        ack.risk_events,
        vec!["unmatched_outflow", "balance_shortfall"]
    );
    assert!(
        elapsed < std::time::Duration::from_secs(1),
        "raised in {elapsed:?}"
    );
    // The institution's staff are told at once, by inbox and text message.
    let admin = s.staff(domain::access::StaffRole::Admin).await;
    let inbox = s.t.app.service().my_notifications(&admin).await.unwrap();
    assert!(
        inbox
            .iter()
            .any(|n| n.title == "红色风险预警" && n.body.contains("未经平台指令")),
        "{inbox:?}"
    );
    // The model raised its warnings from the same report, with the version and inputs that fired them.
    let warnings = s.t.app.supervision().warnings_for(&admin, 0).await.unwrap();
    let mut fired: Vec<(&str, &str)> = warnings
        .iter()
        .map(|w| (w.indicator.as_str(), w.level.as_str()))
        .collect();
    fired.sort();
    use domain::risk::{Indicator, RiskModel};
    let model = RiskModel::default();
    let mut expected = vec![("unmatched_outflow", "red")];
    for (indicator, value) in [
        (Indicator::LargeOutflow, 50_000 * 100 / paid),
        (Indicator::BalanceCoverage, (paid - 50_000) * 100 / paid),
    ] {
        if let Some(f) = model.evaluate(indicator, value) {
            expected.push((indicator.as_str(), f.level.as_str()));
        }
    }
    assert!(
        expected.len() > 1,
        "a coverage or large-outflow warning too"
    );
    expected.sort();
    assert_eq!(fired, expected);
    assert!(
        warnings
            .iter()
            .all(|w| w.model_version == 0 && w.status == domain::WarningStatus::Open)
    );
    let unmatched = warnings
        .iter()
        .find(|w| w.indicator == "unmatched_outflow")
        .unwrap();
    assert_eq!(unmatched.inputs["value"], 50_000);
    let stored =
        s.t.app
            .store()
            .read()
            .bank()
            .risk_events(Some(&s.institution_id), 10)
            .await
            .unwrap();
    let red: Vec<_> = stored.iter().filter(|r| r.level == "red").collect();
    assert_eq!(red.len(), 2);
    assert!(
        stored.iter().all(|r| r.raised_at == t0),
        "stamped on the platform's clock at the report"
    );
    // A made-up instruction id is no better than none.
    let ack = s
        .movement(
            "MV-Y",
            "out",
            100,
            paid - 50_100,
            t0 + 2,
            Some("ins_forged"),
        )
        .await
        .unwrap();
    assert_eq!(ack.matched, "unmatched");
    assert_eq!(
        s.escrow(&order.line.id).await,
        paid,
        "the platform's escrow is untouched"
    );
}

#[tokio::test]
async fn statements_must_add_up_and_agree_with_the_movements_and_must_arrive() {
    let s = shop().await;
    let order = s.order().await;
    let paid = order.line.amount_fen;
    s.pay(&order, "PAY-1").await;
    s.movement("MV-1", "in", paid, paid, TEST_NOW.millis(), None)
        .await
        .unwrap();
    let statement = DailyStatement {
        account_no: DEMO_ACCOUNT_NO.into(),
        date: "2026-11-26".into(),
        opening_fen: 0,
        closing_fen: paid,
        inflow_fen: paid,
        outflow_fen: 0,
        movement_count: 1,
        entries: Vec::new(),
    };
    let ack =
        s.t.app
            .money()
            .record_statement(&s.bank, &statement)
            .await
            .unwrap();
    assert!(ack.consistent && !ack.duplicate);
    assert!(
        s.t.app
            .money()
            .record_statement(&s.bank, &statement)
            .await
            .unwrap()
            .duplicate
    );
    let wrong_sum = DailyStatement {
        closing_fen: paid + 1,
        date: "2026-11-25".into(),
        ..statement.clone()
    };
    assert_eq!(
        s.t.app
            .money()
            .record_statement(&s.bank, &wrong_sum)
            .await
            .unwrap_err()
            .code,
        ErrorCode::AmountMismatch
    );
    let invented = DailyStatement {
        date: "2026-11-25".into(),
        opening_fen: 0,
        closing_fen: 0,
        inflow_fen: 500,
        outflow_fen: 500,
        movement_count: 2,
        ..statement.clone()
    };
    assert!(
        !s.t.app
            .money()
            .record_statement(&s.bank, &invented)
            .await
            .unwrap()
            .consistent
    );
    assert_eq!(s.risks().await, vec!["statement_mismatch"]);

    // The next day passes without a statement for the 27th: the sweep raises it once.
    let day = chrono::NaiveDate::from_ymd_opt(2026, 11, 27).unwrap();
    assert_eq!(
        s.t.app.money().check_statements(day).await.unwrap(),
        0,
        "the day is not over yet"
    );
    s.t.clock.advance_millis(2 * 86_400_000);
    assert_eq!(s.t.app.money().check_statements(day).await.unwrap(), 1);
    assert_eq!(
        s.t.app.money().check_statements(day).await.unwrap(),
        0,
        "raised once"
    );
    let kinds = s.risks().await;
    assert_eq!(
        kinds.iter().filter(|k| *k == "missing_statement").count(),
        1
    );
}

#[tokio::test]
async fn instructions_are_signed_and_retried_with_backoff_until_the_bank_acknowledges() {
    use std::sync::{Arc, Mutex};
    let s = shop().await;
    let order = s.order().await;
    s.pay(&order, "PAY-1").await;
    // A bank endpoint that fails twice, then acknowledges; it keeps what it received.
    type Received = Arc<Mutex<Vec<(axum::http::HeaderMap, Vec<u8>)>>>;
    let received: Received = Arc::default();
    let seen = received.clone();
    let router = axum::Router::new().route(
        "/bank/instructions",
        axum::routing::post(
            move |headers: axum::http::HeaderMap, body: axum::body::Bytes| {
                let seen = seen.clone();
                async move {
                    let mut all = seen.lock().unwrap();
                    all.push((headers, body.to_vec()));
                    if all.len() <= 2 {
                        axum::http::StatusCode::SERVICE_UNAVAILABLE
                    } else {
                        axum::http::StatusCode::ACCEPTED
                    }
                }
            },
        ),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    let endpoint = app::bank::EndpointRegistration {
        instruction_url: format!("{base}/bank/instructions"),
        checkout_url: format!("{base}/checkout"),
    };
    s.t.app
        .money()
        .register_bank_endpoint(&s.bank, &endpoint)
        .await
        .unwrap();
    let system = Actor::System { name: "test" };
    let ins =
        s.t.app
            .money()
            .instruct_bank(&system, "release", &order.line.id, 100)
            .await
            .unwrap();

    assert_eq!(s.t.app.money().deliver_due_instructions().await.unwrap(), 0);
    assert_eq!(
        s.t.app.money().deliver_due_instructions().await.unwrap(),
        0,
        "not due again before its backoff"
    );
    assert_eq!(received.lock().unwrap().len(), 1);
    s.t.clock.advance_millis(1_000);
    assert_eq!(s.t.app.money().deliver_due_instructions().await.unwrap(), 0);
    s.t.clock.advance_millis(2_000);
    assert_eq!(s.t.app.money().deliver_due_instructions().await.unwrap(), 1);
    let view =
        s.t.app
            .money()
            .instruction_view(&ins.instruction_id)
            .await
            .unwrap();
    assert_eq!((view.status.as_str(), view.attempts), ("acknowledged", 3));
    s.t.clock.advance_millis(599_000);
    s.t.app.money().deliver_due_instructions().await.unwrap();
    assert_eq!(
        received.lock().unwrap().len(),
        3,
        "an acknowledged instruction is not sent again before it is due to be asked again"
    );

    // Each delivery is signed with the bank's key, as the bank's own requests are.
    let (headers, body) = received.lock().unwrap()[2].clone();
    let h = |n: &str| headers.get(n).unwrap().to_str().unwrap().to_owned();
    let canonical = app::signing::canonical_request(
        &ledger::SmSuite,
        "POST",
        "/bank/instructions",
        &body,
        h("x-xiaowai-timestamp").parse().unwrap(),
        &h("x-xiaowai-nonce"),
    );
    assert_eq!(
        h("x-xiaowai-signature"),
        app::signing::sign(
            &ledger::SmSuite,
            app::demo::DEMO_BANK_SECRET.as_bytes(),
            &canonical
        )
    );
    assert_eq!(h("idempotency-key"), ins.instruction_id);
    let sent: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(sent["amount_fen"], 100);
    assert_eq!(sent["order_no"], order.line.order_no.as_str());
}

#[tokio::test]
async fn an_idempotency_key_answers_the_same_request_once_and_refuses_another() {
    let s = shop().await;
    let answer = serde_json::json!({"ok": true});
    assert!(
        s.t.app
            .money()
            .idempotent_replay(&s.bank, "k-1", b"{}")
            .await
            .unwrap()
            .is_none()
    );
    s.t.app
        .money()
        .remember_answer(&s.bank, "k-1", b"{}", 200, &answer)
        .await
        .unwrap();
    assert_eq!(
        s.t.app
            .money()
            .idempotent_replay(&s.bank, "k-1", b"{}")
            .await
            .unwrap(),
        Some((200, answer))
    );
    assert_eq!(
        s.t.app
            .money()
            .idempotent_replay(&s.bank, "k-1", b"{\"x\":1}")
            .await
            .unwrap_err()
            .code,
        ErrorCode::IdempotencyKeyReused
    );
}
