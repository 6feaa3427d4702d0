//! The simulated bank: its own books (balances per supervised account, what each order paid in and was paid
//! out), the instructions the platform delivered to it over HTTP, and its outbox of messages to the platform,
//! which a faulty network may drop, duplicate, delay and reorder. The simulator decides when it executes and
//! when its messages travel, from the seed.

use app::bank::{DailyStatement, InstructionResult, MovementReport, PaymentNotice, StatementEntry};
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

/// One instruction as the platform delivered it.
#[derive(Clone, Debug)]
pub struct Delivered {
    pub instruction_id: String,
    pub account_no: String,
    pub amount_fen: i64,
    /// (order number, amount) this instruction pays out: one for a release or refund, several for a batch.
    pub items: Vec<(String, i64)>,
}

/// A message from the bank to the platform.
#[derive(Clone, Debug)]
pub enum Message {
    Payment(PaymentNotice),
    Movement(MovementReport),
    Result(String, InstructionResult),
}

impl Message {
    pub fn label(&self) -> &'static str {
        match self {
            Message::Payment(_) => "bank.payment",
            Message::Movement(_) => "bank.movement",
            Message::Result(_, _) => "bank.result",
        }
    }
}

/// What the bank did for one executed instruction, kept so a repeated delivery is answered the same way.
#[derive(Clone, Debug)]
struct Execution {
    movement: Option<MovementReport>,
    result: InstructionResult,
}

/// One line of an account's day, for statements.
#[derive(Clone, Debug)]
pub struct Line {
    pub bank_ref: String,
    pub direction: &'static str,
    pub amount_fen: i64,
    pub occurred_at: i64,
    pub order_no: Option<String>,
    pub instruction_id: Option<String>,
    /// An inflow's payment reference (its payment notice's).
    pub payment_ref: Option<String>,
}

/// `YYYY-MM-DD` in China time.
pub fn china_date(ms: i64) -> String {
    domain::Timestamp::from_millis(ms).china_date().to_string()
}

#[derive(Debug, Default)]
pub struct Bank {
    pub balances: BTreeMap<String, i64>,
    /// Per order number: what the bank took in for it and paid out of it.
    pub paid_in: BTreeMap<String, i64>,
    pub paid_out: BTreeMap<String, i64>,
    executions: BTreeMap<String, Execution>,
    /// Delivered and not executed yet, in arrival order.
    pub inbox: Vec<Delivered>,
    pub outbox: Vec<Message>,
    /// Every line booked, per account, in booking order.
    pub lines: BTreeMap<String, Vec<Line>>,
    next_ref: u64,
    /// The last booking time: bookings are stamped strictly later than each other (the bank's duty, so the
    /// platform can tell which of two reports came first).
    last_booked_at: i64,
}

impl Bank {
    pub fn open_account(&mut self, account_no: &str) {
        self.balances.entry(account_no.to_owned()).or_insert(0);
    }

    /// The time a booking made `now` is stamped with: never earlier than, nor equal to, the last.
    fn booking_time(&mut self, now: i64) -> i64 {
        self.last_booked_at = now.max(self.last_booked_at + 1);
        self.last_booked_at
    }

    fn reference(&mut self, prefix: &str) -> String {
        self.next_ref += 1;
        format!("{prefix}{:010}", self.next_ref)
    }

    fn book(&mut self, line: Line, account_no: &str) -> i64 {
        let balance = self.balances.entry(account_no.to_owned()).or_insert(0);
        if line.direction == "in" {
            *balance += line.amount_fen;
        } else {
            *balance -= line.amount_fen;
        }
        let after = *balance;
        self.lines
            .entry(account_no.to_owned())
            .or_default()
            .push(line);
        after
    }

    /// A parent pays an order at the bank's checkout: the money is in the account; the payment notice and
    /// the movement report go into the outbox.
    pub fn take_payment(
        &mut self,
        order_no: &str,
        account_no: &str,
        amount_fen: i64,
        now: i64,
    ) -> Vec<Message> {
        let now = self.booking_time(now);
        let pay_ref = self.reference("PAY");
        let move_ref = self.reference("MV");
        *self.paid_in.entry(order_no.to_owned()).or_insert(0) += amount_fen;
        let after = self.book(
            Line {
                bank_ref: move_ref.clone(),
                direction: "in",
                amount_fen,
                occurred_at: now,
                order_no: Some(order_no.to_owned()),
                instruction_id: None,
                payment_ref: Some(pay_ref.clone()),
            },
            account_no,
        );
        vec![
            Message::Payment(PaymentNotice {
                order_no: order_no.to_owned(),
                account_no: account_no.to_owned(),
                amount_fen,
                bank_ref: pay_ref,
                paid_at: now,
            }),
            Message::Movement(MovementReport {
                account_no: account_no.to_owned(),
                bank_ref: move_ref,
                direction: "in".into(),
                amount_fen,
                balance_after_fen: after,
                occurred_at: now,
                instruction_id: None,
                order_no: Some(order_no.to_owned()),
            }),
        ]
    }

    /// The bank executes a delivered instruction (once: a repeated one is answered as before), paying out of
    /// the account when it holds enough, failing it otherwise.
    pub fn execute(&mut self, d: &Delivered, now: i64) -> Vec<Message> {
        if let Some(done) = self.executions.get(&d.instruction_id) {
            let mut again: Vec<Message> = done
                .movement
                .iter()
                .cloned()
                .map(Message::Movement)
                .collect();
            again.push(Message::Result(
                d.instruction_id.clone(),
                done.result.clone(),
            ));
            return again;
        }
        let balance = self.balances.get(&d.account_no).copied().unwrap_or(0);
        let now = self.booking_time(now);
        let execution = if balance >= d.amount_fen {
            let move_ref = self.reference("MV");
            for (order_no, amount) in &d.items {
                *self.paid_out.entry(order_no.clone()).or_insert(0) += amount;
            }
            let after = self.book(
                Line {
                    bank_ref: move_ref.clone(),
                    direction: "out",
                    amount_fen: d.amount_fen,
                    occurred_at: now,
                    order_no: None,
                    instruction_id: Some(d.instruction_id.clone()),
                    payment_ref: None,
                },
                &d.account_no,
            );
            Execution {
                movement: Some(MovementReport {
                    account_no: d.account_no.clone(),
                    bank_ref: move_ref.clone(),
                    direction: "out".into(),
                    amount_fen: d.amount_fen,
                    balance_after_fen: after,
                    occurred_at: now,
                    instruction_id: Some(d.instruction_id.clone()),
                    order_no: None,
                }),
                result: InstructionResult {
                    status: "executed".into(),
                    bank_ref: Some(move_ref),
                    reason: None,
                },
            }
        } else {
            Execution {
                movement: None,
                result: InstructionResult {
                    status: "failed".into(),
                    bank_ref: None,
                    reason: Some("余额不足".into()),
                },
            }
        };
        self.executions
            .insert(d.instruction_id.clone(), execution.clone());
        let mut out: Vec<Message> = execution
            .movement
            .into_iter()
            .map(Message::Movement)
            .collect();
        out.push(Message::Result(d.instruction_id.clone(), execution.result));
        out
    }

    /// The result of an instruction the bank already finished (how it answers being asked again).
    pub fn result_of(&self, instruction_id: &str) -> Option<InstructionResult> {
        self.executions
            .get(instruction_id)
            .map(|e| e.result.clone())
    }

    /// Each account's statement for the China day `date` (`YYYY-MM-DD`), with its lines.
    pub fn statements(&self, date: &str) -> Vec<DailyStatement> {
        let mut out = Vec::new();
        for (account_no, lines) in &self.lines {
            let day = |l: &&Line| china_date(l.occurred_at) == date;
            let before: i64 = lines
                .iter()
                .filter(|l| china_date(l.occurred_at).as_str() < date)
                .map(|l| {
                    if l.direction == "in" {
                        l.amount_fen
                    } else {
                        -l.amount_fen
                    }
                })
                .sum();
            let todays: Vec<&Line> = lines.iter().filter(day).collect();
            if todays.is_empty() {
                continue;
            }
            let sum = |dir: &str| -> i64 {
                todays
                    .iter()
                    .filter(|l| l.direction == dir)
                    .map(|l| l.amount_fen)
                    .sum()
            };
            let (inflow, outflow) = (sum("in"), sum("out"));
            let mut balance = before;
            let entries = todays
                .iter()
                .map(|l| {
                    balance += if l.direction == "in" {
                        l.amount_fen
                    } else {
                        -l.amount_fen
                    };
                    StatementEntry {
                        bank_ref: l.bank_ref.clone(),
                        direction: l.direction.into(),
                        amount_fen: l.amount_fen,
                        balance_after_fen: balance,
                        occurred_at: l.occurred_at,
                        instruction_id: l.instruction_id.clone(),
                        order_no: l.order_no.clone(),
                        payment_ref: l.payment_ref.clone(),
                    }
                })
                .collect();
            out.push(DailyStatement {
                account_no: account_no.clone(),
                date: date.to_owned(),
                opening_fen: before,
                closing_fen: before + inflow - outflow,
                inflow_fen: inflow,
                outflow_fen: outflow,
                movement_count: todays.len() as i64,
                entries,
            });
        }
        out
    }

    /// The China days on which any account moved, oldest first.
    pub fn days(&self) -> Vec<String> {
        let mut days: Vec<String> = self
            .lines
            .values()
            .flatten()
            .map(|l| china_date(l.occurred_at))
            .collect();
        days.sort();
        days.dedup();
        days
    }

    /// Orders the bank paid out more for than it took in: (order number, in, out).
    pub fn overpaid(&self) -> Vec<(String, i64, i64)> {
        self.paid_out
            .iter()
            .filter_map(|(order_no, &out)| {
                let paid = self.paid_in.get(order_no).copied().unwrap_or(0);
                (out > paid).then(|| (order_no.clone(), paid, out))
            })
            .collect()
    }
}

pub type SharedBank = Arc<Mutex<Bank>>;

/// Parses what the platform posts to the bank's instruction endpoint.
fn delivered(body: &serde_json::Value) -> Option<Delivered> {
    let id = body["instruction_id"].as_str()?.to_owned();
    let account_no = body["account_no"].as_str()?.to_owned();
    let amount_fen = body["amount_fen"].as_i64()?;
    let items = match body["items"].as_array() {
        Some(items) => items
            .iter()
            .map(|i| {
                Some((
                    i["order_no"].as_str()?.to_owned(),
                    i["amount_fen"].as_i64()?,
                ))
            })
            .collect::<Option<Vec<_>>>()?,
        None => vec![(body["order_no"].as_str()?.to_owned(), amount_fen)],
    };
    Some(Delivered {
        instruction_id: id,
        account_no,
        amount_fen,
        items,
    })
}

async fn take_instruction(State(bank): State<SharedBank>, body: axum::body::Bytes) -> StatusCode {
    let Some(d) = serde_json::from_slice(&body)
        .ok()
        .as_ref()
        .and_then(delivered)
    else {
        return StatusCode::BAD_REQUEST;
    };
    let mut bank = bank.lock().expect("bank lock");
    if !bank
        .inbox
        .iter()
        .any(|i| i.instruction_id == d.instruction_id)
    {
        bank.inbox.push(d);
    }
    StatusCode::ACCEPTED
}

/// Serves the bank's instruction endpoint on a loopback port; returns its URL.
pub async fn serve(bank: SharedBank) -> anyhow::Result<String> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/instructions", listener.local_addr()?);
    let router = Router::new()
        .route("/instructions", post(take_instruction))
        .with_state(bank);
    tokio::spawn(async move { axum::serve(listener, router).await });
    Ok(url)
}
