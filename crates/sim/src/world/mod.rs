//! The simulated world and its steps.

mod checks;
mod ops;
mod report;

pub use report::{Config, Failure, Report};

use crate::bank::{self, Delivered, Message, SharedBank};
use app::testing::TestApp;
use app::{Actor, AppError, Clock};
use domain::access::{RegulatorRole, StaffRole};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::fmt;
use std::time::Instant;
use store::testing::TestDb;
use store::{LessonRow, OrderRow, RefundRow};

/// An institution of the world with its supervised account, courses and regulator.
struct Institution {
    id: String,
    name: String,
    staff: Actor,
    regulator: Actor,
    account_no: String,
    account_id: String,
    /// (course id, price per lesson): two classes at one price, so a class transfer has somewhere to go.
    courses: Vec<(String, i64)>,
    /// Run-off and black-listing are tried at most once per institution, and never on the first.
    door_closed: bool,
}

struct Family {
    parent: Actor,
    children: Vec<String>,
}

/// One order as the platform holds it now, read at the start of each step.
struct OrderState {
    row: OrderRow,
    lessons: Vec<LessonRow>,
    refunds: Vec<RefundRow>,
    outstanding: usize,
}

/// What the network does to the bank's messages of one event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Fault {
    None,
    /// One message of the event is lost.
    DropOne(usize),
    /// Every message of the event is sent twice.
    Duplicate,
}

#[derive(Clone, Debug)]
enum Op {
    Place {
        family: usize,
        child: usize,
        institution: usize,
        course: usize,
    },
    Pay {
        order: String,
        fault: Fault,
    },
    Attend {
        order: String,
        evidence: bool,
    },
    Confirm {
        lesson: String,
    },
    Dispute {
        lesson: String,
    },
    RequestRefund {
        order: String,
    },
    AnswerRefund {
        refund: String,
        institution: usize,
        agree: bool,
    },
    Escalate {
        refund: String,
    },
    Rule {
        refund: String,
        institution: usize,
        uphold: bool,
    },
    Leave {
        order: String,
    },
    Transfer {
        order: String,
        course: String,
    },
    Deliver,
    Execute {
        instruction: String,
        fault: Fault,
    },
    /// The bank sends these outbox messages: one after another, or at once over several connections.
    Flush {
        messages: Vec<u64>,
        parallel: bool,
    },
    Tick {
        hours: i64,
    },
    Restart,
    /// The bank sends every account's statement for a past day.
    Statement {
        date: String,
    },
    RunOff {
        institution: usize,
    },
    BlackList {
        institution: usize,
    },
}

impl Op {
    fn label(&self) -> &'static str {
        match self {
            Op::Place { .. } => "place_order",
            Op::Pay { .. } => "pay",
            Op::Attend { .. } => "attend",
            Op::Confirm { .. } => "confirm_lesson",
            Op::Dispute { .. } => "dispute_lesson",
            Op::RequestRefund { .. } => "request_refund",
            Op::AnswerRefund { .. } => "answer_refund",
            Op::Escalate { .. } => "escalate_refund",
            Op::Rule { .. } => "rule_on_refund",
            Op::Leave { .. } => "leave",
            Op::Transfer { .. } => "class_transfer",
            Op::Deliver => "deliver_instructions",
            Op::Execute { .. } => "bank_execute",
            Op::Flush { .. } => "bank_send",
            Op::Tick { .. } => "timers",
            Op::Restart => "restart",
            Op::Statement { .. } => "bank_statement",
            Op::RunOff { .. } => "run_off",
            Op::BlackList { .. } => "black_list",
        }
    }
}

/// What operations answered: (label, `ok` or the error code) pairs (a bank send or a timer run answers
/// once per message or timer).
type Answers = Vec<(&'static str, String)>;

/// What one operation did: its answers, the bank's messages it put on the network (with what the network
/// does to them), and the order it placed (id, number).
#[derive(Default)]
struct Effect {
    answers: Answers,
    messages: Vec<(Vec<Message>, Fault)>,
    placed: Option<(String, String)>,
}

impl Effect {
    fn answered(a: (&'static str, String)) -> Effect {
        Effect {
            answers: vec![a],
            ..Effect::default()
        }
    }
}

fn answer<T>(label: &'static str, r: &Result<T, AppError>) -> (&'static str, String) {
    (
        label,
        match r {
            Ok(_) => "ok".to_owned(),
            Err(e) => e.code.code().to_owned(),
        },
    )
}

/// 18-character resident ID card number with its GB 11643 check character.
fn id_card(region: &str, birth: &str, serial: u32) -> String {
    let body = format!("{region}{birth}{serial:03}");
    const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    let sum: u32 = body
        .chars()
        .zip(WEIGHTS)
        .map(|(c, w)| c.to_digit(10).unwrap_or(0) * w)
        .sum();
    let check = b"10X98765432"[(sum % 11) as usize] as char;
    format!("{body}{check}")
}

struct Sim {
    t: TestApp,
    config: Config,
    rng: ChaCha8Rng,
    bank: SharedBank,
    bank_actor: Actor,
    institutions: Vec<Institution>,
    families: Vec<Family>,
    /// Orders still in play, in the order they were placed.
    live: Vec<String>,
    order_nos: BTreeMap<String, String>,
    /// Orders the bank has taken a payment for (never paid twice).
    paid_at_bank: BTreeSet<String>,
    outbox_seq: u64,
    /// The outbox's messages by sequence number.
    outbox: BTreeMap<u64, Message>,
    recent: VecDeque<String>,
    report: Report,
}

const LIVE_ORDERS: usize = 24;
const FAMILIES: usize = 16;
const INSTITUTIONS: usize = 3;

/// Runs the simulation; a broken invariant is a [`Failure`] naming the seed and step.
pub async fn run(config: &Config) -> Result<Report, Failure> {
    let started = Instant::now();
    let mut sim = Sim::build(config).await.map_err(|e| Failure {
        seed: config.seed,
        step: 0,
        what: vec![format!("setting up the world: {e:#}")],
        recent: Vec::new(),
    })?;
    for step in 1..=config.steps {
        sim.step(step).await?;
        if config.progress_every > 0 && step.is_multiple_of(config.progress_every) {
            eprintln!(
                "sim: step {step} of {} · {} orders · {} races · {:.0} s",
                config.steps,
                sim.report.orders_placed,
                sim.report.races,
                started.elapsed().as_secs_f64()
            );
        }
    }
    sim.settle(config.steps + 1).await?;
    sim.report.seconds = started.elapsed().as_secs_f64();
    Ok(sim.report)
}

impl Sim {
    async fn build(config: &Config) -> anyhow::Result<Sim> {
        let db = TestDb::on(config.postgres.as_deref()).await;
        let backend = if config.postgres.is_some() {
            "postgres"
        } else {
            "sqlite"
        };
        let t = TestApp::with_demo_on(db, 12).await;
        let bank: SharedBank = SharedBank::default();
        let url = bank::serve(bank.clone()).await?;
        let bank_actor = Actor::ApiClient {
            key_id: app::demo::DEMO_BANK_KEY_ID.into(),
            owner_kind: "bank".into(),
            owner_id: "demo-bank".into(),
        };
        t.app
            .money()
            .register_bank_endpoint(
                &bank_actor,
                &app::bank::EndpointRegistration {
                    instruction_url: url,
                    checkout_url: "http://127.0.0.1:9/checkout".into(),
                },
            )
            .await?;
        let mut rng = ChaCha8Rng::seed_from_u64(config.seed);
        let institutions = Self::institutions(&t, &bank, &bank_actor, &mut rng).await?;
        let mut families = Vec::new();
        for f in 0..FAMILIES {
            let phone = format!("139{:08}", 10_000 + f);
            let parent = t.parent(&phone).await;
            let mut children = Vec::new();
            for c in 0..1 + f % 2 {
                let birth = format!("201{}0{}1{}", 4 + (f + c) % 4, 1 + c, f % 10);
                let child = app::parents::NewChild {
                    name: format!("模拟{}", ["甲", "乙", "丙", "丁"][(f + c) % 4]),
                    gender: if c == 0 { "male" } else { "female" }.into(),
                    id_card: id_card("110108", &birth, (f * 2 + c) as u32 + 100),
                    school: "北京市海淀区中关村第一小学".into(),
                    grade: "小学四年级".into(),
                };
                children.push(t.app.identity().add_child(&parent, &child).await?.id);
            }
            families.push(Family { parent, children });
        }
        Ok(Sim {
            t,
            config: config.clone(),
            rng,
            bank,
            bank_actor,
            institutions,
            families,
            live: Vec::new(),
            order_nos: BTreeMap::new(),
            paid_at_bank: BTreeSet::new(),
            outbox_seq: 0,
            outbox: BTreeMap::new(),
            recent: VecDeque::new(),
            report: Report {
                seed: config.seed,
                steps: config.steps,
                backend,
                outcomes: BTreeMap::new(),
                orders_placed: 0,
                restarts: 0,
                races: 0,
                messages_dropped: 0,
                messages_duplicated: 0,
                bank_in_fen: 0,
                bank_out_fen: 0,
                movements: 0,
                alarms: BTreeMap::new(),
                alarm_details: Vec::new(),
                seconds: 0.0,
            },
        })
    }

    /// Three white-listed institutions without money yet: each binds a supervised account at the bank
    /// (confirmed by the bank's system) and publishes two classes at one price.
    async fn institutions(
        t: &TestApp,
        bank: &SharedBank,
        bank_actor: &Actor,
        rng: &mut ChaCha8Rng,
    ) -> anyhow::Result<Vec<Institution>> {
        let read = t.app.store().read();
        let mut candidates = Vec::new();
        for i in read.registry().institutions_after("", 10_000).await? {
            if i.list_status == domain::ListStatus::White
                && i.registry_state == domain::RegistryState::Listed
                && read.funds().supervised_accounts_of(&i.id).await?.is_empty()
            {
                candidates.push(i);
            }
        }
        candidates.sort_by(|a, b| a.credit_code.cmp(&b.credit_code));
        anyhow::ensure!(
            candidates.len() >= INSTITUTIONS,
            "the demo has {} white-listed institutions without accounts",
            candidates.len()
        );
        let today = t.clock.now().china_date();
        let mut out = Vec::new();
        for (n, row) in candidates.into_iter().take(INSTITUTIONS).enumerate() {
            let staff = Actor::Staff {
                account_id: format!("sim-admin-{n}"),
                institution_id: row.id.clone(),
                role: StaffRole::Admin,
            };
            let account_no = format!("62220300{:08}", n + 1);
            let view = t
                .app
                .money()
                .request_supervised_account(
                    &staff,
                    &app::funds::BindRequest {
                        bank_id: "demo-bank".into(),
                        account_no: account_no.clone(),
                        mode: "custody".into(),
                    },
                )
                .await?;
            t.app
                .money()
                .confirm_supervised_account(bank_actor, &view.id)
                .await?;
            bank.lock().expect("bank lock").open_account(&account_no);
            let online = row.mode == "online";
            let lessons: u32 = rng.random_range(8..=24);
            // At most 5,000 yuan a purchase (the national cap).
            let price = i64::from(rng.random_range(80..=(4_999 / lessons).min(250))) * 100
                + rng.random_range(0..100);
            let mut courses = Vec::new();
            for class in ["周二班", "周六班"] {
                let id = t
                    .app
                    .registry()
                    .publish_course(
                        &staff,
                        &app::courses::NewCourse {
                            name: format!("模拟美术{class}"),
                            category: "arts".into(),
                            mode: row.mode.clone(),
                            grades: "小学".into(),
                            lessons,
                            minutes_per_lesson: if online { 30 } else { 45 },
                            class_size: 10,
                            price_per_lesson_fen: price,
                            first_lesson: (today + chrono::Days::new(3)).to_string(),
                            last_lesson: (today + chrono::Days::new(80)).to_string(),
                            preferential_total_fen: None,
                            schedule: None,
                        },
                    )
                    .await?;
                courses.push((id, price));
            }
            let region = domain::RegionCode::parse(&row.region_code)?;
            let mode = domain::TeachingMode::parse(&row.mode)?;
            out.push(Institution {
                id: row.id.clone(),
                name: row.name.clone(),
                staff,
                regulator: Actor::Regulator {
                    account_id: format!("sim-supervisor-{n}"),
                    region: domain::access::competent_region(mode, &region),
                    role: RegulatorRole::Supervisor,
                },
                account_id: view.id,
                account_no,
                courses,
                door_closed: false,
            });
        }
        Ok(out)
    }

    fn note(&mut self, line: String) {
        if self.config.trace {
            eprintln!("{line}");
        }
        self.recent.push_back(line);
        if self.recent.len() > 40 {
            self.recent.pop_front();
        }
    }

    fn fail(&self, step: u64, what: Vec<String>) -> Failure {
        Failure {
            seed: self.config.seed,
            step,
            what,
            recent: self.recent.iter().cloned().collect(),
        }
    }

    fn harness(&self, step: u64, e: impl fmt::Display) -> Failure {
        self.fail(step, vec![format!("harness: {e}")])
    }

    /// The live orders as the platform holds them now.
    async fn states(&self) -> Result<Vec<OrderState>, AppError> {
        let read = self.t.app.store().read();
        let mut out = Vec::new();
        for id in &self.live {
            let Some(row) = read.orders().order(id).await? else {
                continue;
            };
            let outstanding = read
                .instructions()
                .instructions_of_order(id)
                .await?
                .iter()
                .filter(|i| !i.status.is_finished())
                .count();
            out.push(OrderState {
                lessons: read.lessons().lessons_of_order(id).await?,
                refunds: read.refunds().refunds_of_order(id).await?,
                row,
                outstanding,
            });
        }
        Ok(out)
    }

    fn count(&mut self, answers: &Answers) {
        for (label, code) in answers {
            *self
                .report
                .outcomes
                .entry(label)
                .or_default()
                .entry(code.clone())
                .or_default() += 1;
        }
    }

    async fn step(&mut self, step: u64) -> Result<(), Failure> {
        let states = self.states().await.map_err(|e| self.harness(step, e))?;
        // Orders finished by the steps before leave the live set before this one chooses.
        self.prune(&states);
        let states: Vec<OrderState> = states
            .into_iter()
            .filter(|s| self.live.contains(&s.row.id))
            .collect();
        let ops = self.choose(&states, step);
        let described: Vec<String> = ops.iter().map(|o| format!("{o:?}")).collect();
        let mut answers: Answers = Vec::new();
        match ops.as_slice() {
            [Op::Restart] => {
                self.t.restart().await;
                self.report.restarts += 1;
                answers.push(("restart", "ok".into()));
            }
            [Op::Tick { hours }] => {
                self.t.clock.advance_millis(hours * 3_600_000);
                let app = &self.t.app;
                answers.push(answer(
                    "timer.auto_confirm",
                    &app.money().auto_confirm_due().await,
                ));
                answers.push(answer(
                    "timer.auto_agree",
                    &app.money().auto_agree_due().await,
                ));
                answers.push(answer(
                    "timer.release_batches",
                    &app.money().form_release_batches().await,
                ));
            }
            _ => {
                if ops.len() > 1 {
                    self.report.races += 1;
                }
                // The messages a send takes leave the outbox first; then everything runs side by side (on
                // PostgreSQL the transactions interleave for real).
                let sends: Vec<Vec<Message>> = ops
                    .iter()
                    .map(|op| match op {
                        Op::Flush { messages, .. } => messages
                            .iter()
                            .filter_map(|id| self.outbox.remove(id))
                            .collect(),
                        _ => Vec::new(),
                    })
                    .collect();
                let this = &*self;
                let effects = futures_util::future::join_all(ops.iter().zip(&sends).map(
                    |(op, sent)| async move {
                        if let Op::Flush { parallel, .. } = op {
                            let mut effect = Effect::default();
                            if *parallel {
                                effect.answers = futures_util::future::join_all(
                                    sent.iter().map(|m| this.send(m)),
                                )
                                .await;
                            } else {
                                for m in sent {
                                    effect.answers.push(this.send(m).await);
                                }
                            }
                            effect
                        } else {
                            this.perform(op).await
                        }
                    },
                ))
                .await;
                for effect in effects {
                    answers.extend(effect.answers);
                    for (messages, fault) in effect.messages {
                        self.enqueue(messages, fault);
                    }
                    if let Some((id, order_no)) = effect.placed {
                        self.order_nos.insert(id.clone(), order_no);
                        self.live.push(id);
                        self.report.orders_placed += 1;
                    }
                }
            }
        }
        for op in &ops {
            if let Op::Pay { order, .. } = op {
                self.paid_at_bank.insert(order.clone());
            }
            if let Op::RunOff { institution } | Op::BlackList { institution } = op {
                self.institutions[*institution].door_closed = true;
            }
        }
        self.count(&answers);
        let told: Vec<String> = answers.iter().map(|(l, c)| format!("{l}={c}")).collect();
        self.note(format!(
            "step {step}: {} → {}",
            described.join(" ∥ "),
            told.join(", ")
        ));
        let mut broken: Vec<String> = answers
            .iter()
            .filter(|(_, code)| code == "internal")
            .map(|(label, _)| format!("{label} answered an internal error (a 500)"))
            .collect();
        broken.extend(self.check(step).await?);
        if !broken.is_empty() {
            return Err(self.fail(step, broken));
        }
        Ok(())
    }
}
