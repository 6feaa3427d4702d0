//! Demo institutions that trip every indicator of the risk model, so a newcomer's console shows each kind of
//! warning at once. Everything goes through the real commands — the demo bank's reports, a parent's orders,
//! refund requests and complaints, a filing and its review, staff hired and leaving — some of it on a clock set
//! back, so that the sweep finds weeks of history.

use super::{DEMO_ACTOR, DEMO_BANK_KEY_ID};
use crate::bank::{MovementReport, PaymentNotice};
use crate::orders::{NewOrder, OrderDetail};
use crate::{Actor, App, AppError, ManualClock};
use domain::Timestamp;
use domain::access::{RegulatorRole, StaffRole};
use domain::risk::RiskModel;
use std::collections::HashMap;
use std::sync::Arc;

const DAY_MS: i64 = 86_400_000;
/// Supervised accounts of four other demo institutions at the demo bank; what happens on them trips the model.
pub const DEMO_RISK_ACCOUNTS: [&str; 4] = [
    "6222020200112345681",
    "6222020200112345682",
    "6222020200112345683",
    "6222020200112345684",
];
/// A second demo parent, whose purchases, refund requests and complaints feed the risk demo (the walkthrough
/// parent stays clean).
pub const DEMO_RISK_PARENT_PHONE: &str = "13800000009";
/// A minimal real PDF (the upload check reads the header).
const PDF: &[u8] = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n";

/// The Haidian regulators' account ids, who act in the demo where a regulator must.
#[derive(Debug, Default)]
pub(super) struct HaidianRegulators {
    pub(super) reviewer: Option<String>,
    pub(super) supervisor: Option<String>,
}

/// The demo bank: reports every movement with the balance it keeps for each account.
struct DemoBank {
    actor: Actor,
    balances: HashMap<&'static str, i64>,
    references: u32,
}

impl DemoBank {
    fn reference(&mut self, kind: &str, account_no: &str) -> String {
        self.references += 1;
        format!("DEMO-{kind}-{account_no}-{}", self.references)
    }

    /// Reports money moving on `account_no` at `app`'s time; nothing instructed it.
    async fn report(
        &mut self,
        app: &App,
        account_no: &'static str,
        direction: &str,
        amount_fen: i64,
    ) -> Result<(), AppError> {
        let bank_ref = self.reference("MV", account_no);
        let balance = self.balances.entry(account_no).or_default();
        *balance = match direction {
            "in" => balance.checked_add(amount_fen),
            _ => balance.checked_sub(amount_fen),
        }
        .ok_or_else(|| AppError::internal("demo balance out of range"))?;
        let report = MovementReport {
            account_no: account_no.into(),
            bank_ref,
            direction: direction.into(),
            amount_fen,
            balance_after_fen: *balance,
            occurred_at: app.clock.now().millis(),
            instruction_id: None,
            order_no: None,
        };
        app.money().record_movement(&self.actor, &report).await?;
        Ok(())
    }

    /// The buyer orders a course of the account's institution; the bank takes the payment into the account
    /// and reports it arriving.
    async fn sell(
        &mut self,
        app: &App,
        buyer: &Buyer,
        institution_id: &str,
        account_no: &'static str,
    ) -> Result<OrderDetail, AppError> {
        let order = buyer.buy(app, institution_id).await?;
        let notice = PaymentNotice {
            order_no: order.line.order_no.clone(),
            account_no: account_no.into(),
            amount_fen: order.line.amount_fen,
            bank_ref: self.reference("PAY", account_no),
            paid_at: app.clock.now().millis(),
        };
        app.money().record_payment(&self.actor, &notice).await?;
        self.report(app, account_no, "in", order.line.amount_fen)
            .await?;
        Ok(order)
    }
}

/// The risk demo's parent and child.
struct Buyer {
    parent: Actor,
    child_id: String,
}

impl Buyer {
    /// The first of the institution's courses that may be sold now.
    async fn buy(&self, app: &App, institution_id: &str) -> Result<OrderDetail, AppError> {
        let mut refused = AppError::internal("the institution has no course");
        for course in app
            .store
            .read()
            .registry()
            .courses_of(institution_id)
            .await?
        {
            let new = NewOrder {
                course_id: course.id,
                child_id: self.child_id.clone(),
            };
            match app.money().place_order(&self.parent, &new).await {
                Ok(order) => return Ok(order),
                Err(e) => refused = e,
            }
        }
        Err(refused)
    }
}

impl App {
    /// The same platform `days` days ago: its clock stands there while the demo writes history.
    fn days_ago(&self, days: i64) -> App {
        let mut past = self.clone();
        past.clock = Arc::new(ManualClock::at(Timestamp::from_millis(
            self.clock.now().millis() - days * DAY_MS,
        )));
        past
    }

    /// Warnings a newcomer sees at once, on four other white-listed offline institutions of the demo
    /// institution's region, each with a supervised account at the demo bank (the demo institution stays
    /// clean for the walkthroughs):
    /// 1. money leaving that the platform never instructed (small), a course paid 40 days ago with no lesson
    ///    since (dormant escrow), and five teachers hired of whom two left (staff churn);
    /// 2. a course paid, then nearly everything taken out: unmatched and large outflow, the day's and the
    ///    week's withdrawals, a balance below the escrow owed — and the bank's own high score;
    /// 3. one course sold three weeks ago, several this week, and five of them asked back (sales and refund
    ///    surges);
    /// 4. three complaints this month, and an approved filing whose school licence expires in 20 days.
    ///
    ///
    /// Then the Haidian supervisor draws a spot-check campaign (10 %, by mode, category and risk) and records
    /// the first drawn institution's findings (two of the five focus items wanting).
    pub(super) async fn seed_demo_risks(
        &self,
        demo_institution: &str,
        haidian: &HaidianRegulators,
    ) -> Result<(), AppError> {
        let region = self
            .registry()
            .institution_row(demo_institution)
            .await?
            .region_code;
        let reader = self.store.read();
        let mut others = Vec::new();
        let mut after = String::new();
        while others.len() < DEMO_RISK_ACCOUNTS.len() {
            let batch = reader.registry().institutions_after(&after, 2_000).await?;
            let Some(last) = batch.last() else { break };
            after = last.id.clone();
            for i in batch {
                if i.list_status == domain::ListStatus::White
                    && i.region_code == region
                    && i.mode == "offline"
                    && i.id != demo_institution
                    && !reader.registry().courses_of(&i.id).await?.is_empty()
                {
                    others.push(i.id);
                }
            }
        }
        others.truncate(DEMO_RISK_ACCOUNTS.len());
        if others.is_empty() {
            return Ok(()); // a demo too small to have neighbours
        }
        for (institution_id, account_no) in others.iter().zip(DEMO_RISK_ACCOUNTS) {
            self.money()
                .seed_confirmed_account(&DEMO_ACTOR, institution_id, "demo-bank", account_no)
                .await?;
        }
        let mut bank = DemoBank {
            actor: Actor::ApiClient {
                key_id: DEMO_BANK_KEY_ID.into(),
                owner_kind: "bank".into(),
                owner_id: "demo-bank".into(),
            },
            balances: HashMap::new(),
            references: 0,
        };
        let buyer = self.seed_risk_buyer().await?;
        let accounts = DEMO_RISK_ACCOUNTS;
        if let Some(institution_id) = others.first() {
            bank.sell(&self.days_ago(40), &buyer, institution_id, accounts[0])
                .await?;
            bank.report(self, accounts[0], "in", 2_000_000).await?;
            bank.report(self, accounts[0], "out", 50_000).await?;
            self.seed_staff_churn(institution_id).await?;
        }
        if let Some(institution_id) = others.get(1) {
            let paid = bank
                .sell(self, &buyer, institution_id, accounts[1])
                .await?
                .line
                .amount_fen;
            let own_funds = 25_000_000;
            bank.report(self, accounts[1], "in", own_funds).await?;
            // Half the order's money is left: coverage 50 %.
            bank.report(self, accounts[1], "out", own_funds + paid - paid / 2)
                .await?;
            let score = crate::risk::BankRiskScore {
                account_no: accounts[1].into(),
                score: 85,
                note: "当日大额支取，且未见平台划转指令".into(),
            };
            self.supervision()
                .record_bank_risk_score(&bank.actor, &score)
                .await?;
        }
        if let Some(institution_id) = others.get(2) {
            bank.sell(&self.days_ago(21), &buyer, institution_id, accounts[2])
                .await?;
            let mut sold = Vec::new();
            let mut recent_fen = 0;
            while sold.len() < 5 || recent_fen < RiskModel::default().sales_surge_min_fen {
                let order = bank.sell(self, &buyer, institution_id, accounts[2]).await?;
                recent_fen += order.line.amount_fen;
                sold.push(order);
            }
            let request = crate::refunds::RefundRequest {
                reason: "课程与宣传不符，申请退费".into(),
            };
            for order in sold.iter().take(5) {
                self.money()
                    .request_refund(&buyer.parent, &order.line.id, &request)
                    .await?;
            }
        }
        if let Some(institution_id) = others.get(3) {
            for (category, body) in [
                ("teaching_quality", "更换老师后上课质量明显下降。"),
                ("false_advertising", "宣传的小班课实际有二十多人。"),
                ("refund", "申请退费一周无人处理。"),
            ] {
                let complaint = crate::complaints::NewComplaint {
                    institution_id: institution_id.clone(),
                    order_id: None,
                    category: category.into(),
                    body: body.into(),
                };
                self.service()
                    .file_complaint(&buyer.parent, &complaint, &[])
                    .await?;
            }
            self.seed_expiring_licence(institution_id, haidian.reviewer.as_deref())
                .await?;
        }
        if let (Some(supervisor), "110108") = (&haidian.supervisor, region.as_str()) {
            self.seed_spot_check(supervisor, demo_institution).await?;
            self.seed_after_school_list(
                supervisor,
                haidian.reviewer.as_deref(),
                demo_institution,
                &others,
            )
            .await?;
        }
        Ok(())
    }

    /// A Haidian spot-check campaign with one check recorded: two focus items found wanting (not at the
    /// walkthrough's institution).
    async fn seed_spot_check(
        &self,
        supervisor: &str,
        demo_institution: &str,
    ) -> Result<(), AppError> {
        let actor = Actor::Regulator {
            account_id: supervisor.to_owned(),
            region: domain::RegionCode::parse("110108")?,
            role: RegulatorRole::Supervisor,
        };
        let new = crate::spot_checks::NewCampaign {
            name: "2026年第四季度校外培训机构抽检".into(),
            share_percent: 10,
            strata: vec!["mode".into(), "category".into(), "risk".into()],
            seed: Some(20_261_126),
        };
        let campaign = self
            .supervision()
            .create_spot_check_campaign(&actor, &new)
            .await?;
        let Some(first) = campaign
            .checks
            .iter()
            .find(|k| k.institution_id != demo_institution)
        else {
            return Ok(());
        };
        let findings = crate::spot_checks::CHECKLIST
            .iter()
            .map(|(item, _)| {
                let note = match *item {
                    "statements" => "未按季度报送财务报表",
                    "staff" => "一名教师未上传入职查询结果",
                    _ => "",
                };
                crate::spot_checks::Finding {
                    item: (*item).to_owned(),
                    ok: note.is_empty(),
                    note: note.to_owned(),
                }
            })
            .collect();
        let result = crate::spot_checks::SpotCheckResult { findings };
        self.supervision()
            .record_spot_check(&actor, &first.id, &result, &[])
            .await?;
        Ok(())
    }

    /// A Haidian after-school service list for the demo school: the walkthrough's institution and its
    /// neighbours, whose comparison shows what the demo gave them (an expiring licence, unconfirmed record
    /// checks, …), and one non-subject institution whose teacher's record check the reviewer confirmed — a
    /// candidate the school can choose.
    async fn seed_after_school_list(
        &self,
        supervisor: &str,
        reviewer: Option<&str>,
        demo_institution: &str,
        neighbours: &[String],
    ) -> Result<(), AppError> {
        let mut candidates: Vec<String> = std::iter::once(demo_institution.to_owned())
            .chain(neighbours.iter().cloned())
            .collect();
        if let Some(reviewer) = reviewer {
            let reader = self.store.read();
            let mut after = String::new();
            let vetted = 'scan: loop {
                let batch = reader.registry().institutions_after(&after, 2_000).await?;
                let Some(last) = batch.last() else {
                    break None;
                };
                after = last.id.clone();
                for i in batch {
                    if i.region_code == "110108"
                        && i.list_status == domain::ListStatus::White
                        && i.registry_state == domain::RegistryState::Listed
                        && i.licence_no.is_some()
                        && !i.categories.split(',').any(|c| c == "subject")
                        && !candidates.contains(&i.id)
                    {
                        break 'scan Some(i.id);
                    }
                }
            };
            if let Some(id) = vetted {
                self.seed_vetted_teacher(&id, reviewer).await?;
                candidates.push(id);
            }
        }
        let actor = Actor::Regulator {
            account_id: supervisor.to_owned(),
            region: domain::RegionCode::parse("110108")?,
            role: RegulatorRole::Supervisor,
        };
        let new = crate::after_school::NewAfterSchoolList {
            name: "海淀区课后服务非学科类培训机构名单".into(),
            school_year: "2026-2027".into(),
        };
        let list = self
            .supervision()
            .create_after_school_list(&actor, &new)
            .await?;
        for institution_id in candidates {
            let candidate = crate::after_school::NewCandidate { institution_id };
            self.supervision()
                .add_after_school_candidate(&actor, &list.id, &candidate)
                .await?;
        }
        Ok(())
    }

    /// The risk demo's parent with one child.
    async fn seed_risk_buyer(&self) -> Result<Buyer, AppError> {
        let phone = domain::person::PhoneNumber::parse(DEMO_RISK_PARENT_PHONE)
            .map_err(|e| AppError::internal(e.to_string()))?;
        let parent = self.identity().create_parent(&DEMO_ACTOR, &phone).await?;
        let child = crate::parents::NewChild {
            name: "李小雨".into(),
            gender: "female".into(),
            id_card: domain::person::IdCardNumber::with_check_character("11010820160315002")
                .ok_or_else(|| AppError::internal("demo id card"))?,
            school: "北京市海淀区实验小学".into(),
            grade: "小学四年级".into(),
        };
        let child_id = self.identity().add_child(&parent, &child).await?.id;
        Ok(Buyer { parent, child_id })
    }

    /// An approved change filing whose school licence expires in 20 days.
    async fn seed_expiring_licence(
        &self,
        institution_id: &str,
        reviewer: Option<&str>,
    ) -> Result<(), AppError> {
        let institution = self.registry().institution_row(institution_id).await?;
        let admin = Actor::Staff {
            account_id: "demo-admin".into(),
            institution_id: institution_id.into(),
            role: StaffRole::Admin,
        };
        self.registry()
            .upload_document(&admin, "licence", "办学许可证.pdf", PDF)
            .await?;
        let today = self.clock.now().china_date();
        let date = |days: u64| {
            today
                .checked_add_days(chrono::Days::new(days))
                .map(|d| d.format("%Y-%m-%d").to_string())
                .ok_or_else(|| AppError::internal("demo date"))
        };
        let mut filing = domain::filing::Filing::default();
        filing.basic.name = institution.name.clone();
        filing.basic.legal_representative = "刘强".into();
        filing.licence.school_licence_no = institution
            .licence_no
            .clone()
            .unwrap_or_else(|| "教民111010870099号".into());
        filing.licence.school_licence_expires = date(20)?;
        filing.licence.legal_person_cert_no = institution.credit_code.clone();
        filing.licence.legal_person_cert_expires = date(900)?;
        filing.premises.address = institution.address.clone();
        filing.premises.tenure = "owned".into();
        filing.premises.health_cert_no = "海卫2026-118".into();
        filing.premises.health_cert_expires = date(400)?;
        filing.premises.fire_cert_no = "海消2026-207".into();
        filing.premises.fire_cert_expires = date(400)?;
        filing.organisation.training_materials = "自编讲义".into();
        filing.organisation.staff = vec![domain::filing::StaffEntry {
            name: "陈老师".into(),
            role: "teaching".into(),
            subject_teacher: false,
            teacher_cert_no: String::new(),
        }];
        filing.courses.summary = "美术与书法兴趣课程".into();
        self.registry().save_filing(&admin, &filing).await?;
        self.registry().submit_filing(&admin).await?;
        let competent = crate::regions::competent_region_of(&institution)?;
        // The demo has reviewer accounts in Haidian only; elsewhere (tiny demos) the review is the demo's.
        let reviewer = Actor::Regulator {
            account_id: reviewer
                .filter(|_| competent.as_str() == "110108")
                .unwrap_or("demo")
                .to_owned(),
            region: competent,
            role: RegulatorRole::Reviewer,
        };
        let approve = crate::onboarding::Decision {
            approve: true,
            field_reasons: Default::default(),
        };
        self.registry()
            .decide_filing(&reviewer, institution_id, &approve)
            .await?;
        Ok(())
    }

    /// One teacher hired with a record check that the Haidian reviewer confirmed.
    async fn seed_vetted_teacher(
        &self,
        institution_id: &str,
        reviewer: &str,
    ) -> Result<(), AppError> {
        let (_, hired) = self
            .hire_demo_teachers(institution_id, &["吴芳"], "11010819900203")
            .await?;
        let reviewer = Actor::Regulator {
            account_id: reviewer.to_owned(),
            region: domain::RegionCode::parse("110108")?,
            role: RegulatorRole::Reviewer,
        };
        for teacher in hired {
            self.registry()
                .confirm_record_check(&reviewer, &teacher.id)
                .await?;
        }
        Ok(())
    }

    /// Staff churn for the risk sweep: five teachers hired with their record checks, two of whom left.
    async fn seed_staff_churn(&self, institution_id: &str) -> Result<(), AppError> {
        let (admin, hired) = self
            .hire_demo_teachers(
                institution_id,
                &["赵敏", "钱华", "孙磊", "李娜", "周杰"],
                "11010819880512",
            )
            .await?;
        for left in hired.iter().take(2) {
            self.registry().staff_left(&admin, &left.id).await?;
        }
        Ok(())
    }

    /// Teachers hired by the institution's admin, each with an uploaded record check; their ID card numbers
    /// are `born` (14 digits) and a serial.
    async fn hire_demo_teachers(
        &self,
        institution_id: &str,
        names: &[&str],
        born: &str,
    ) -> Result<(Actor, Vec<crate::staff::StaffMemberView>), AppError> {
        let admin = Actor::Staff {
            account_id: "demo-admin".into(),
            institution_id: institution_id.into(),
            role: StaffRole::Admin,
        };
        let check = self
            .registry()
            .upload_document(&admin, "record_check", "入职查询结果.pdf", PDF)
            .await?;
        let mut hired = Vec::new();
        for (k, name) in names.iter().enumerate() {
            let id_card =
                domain::person::IdCardNumber::with_check_character(&format!("{born}{k:03}"))
                    .ok_or_else(|| AppError::internal("demo id card"))?;
            let hire = crate::staff::Hire {
                name: (*name).into(),
                id_card,
                role: "teaching".into(),
                subject_teacher: false,
                teacher_cert_no: String::new(),
                serving_school_teacher: false,
                record_check_document: check.id.clone(),
            };
            hired.push(self.registry().hire_staff(&admin, &hire).await?);
        }
        Ok((admin, hired))
    }
}
