//! The operations: which one a step takes (from the seed and the orders as they stand), and what each does to
//! the platform and the bank.

use super::*;
use domain::{LessonStatus, OrderStatus, RefundStatus};

impl Sim {
    pub(super) fn fault(&mut self) -> Fault {
        if !self.config.faults {
            return Fault::None;
        }
        match self.rng.random_range(0..100) {
            0..=2 => Fault::DropOne(self.rng.random_range(0..2)),
            3..=7 => Fault::Duplicate,
            _ => Fault::None,
        }
    }

    pub(super) fn institution_of(&self, order: &OrderRow) -> usize {
        self.institutions
            .iter()
            .position(|i| i.id == order.institution_id)
            .unwrap_or(0)
    }

    /// The operations that make sense on one order now.
    pub(super) fn order_ops(&mut self, s: &OrderState) -> Vec<Op> {
        let o = &s.row;
        let mut ops = Vec::new();
        let institution = self.institution_of(o);
        if o.status == OrderStatus::AwaitingPayment && !self.paid_at_bank.contains(&o.id) {
            let fault = self.fault();
            ops.push(Op::Pay {
                order: o.id.clone(),
                fault,
            });
        }
        if o.status != OrderStatus::Paid {
            return ops;
        }
        let open = o.closed_at.is_none();
        let deciding = s.refunds.iter().any(|r| r.status.is_open());
        if open && (s.lessons.len() as i64) < o.lessons {
            let evidence = self.rng.random_range(0..10) > 0;
            ops.push(Op::Attend {
                order: o.id.clone(),
                evidence,
            });
            ops.push(Op::Leave {
                order: o.id.clone(),
            });
        }
        if open && !deciding {
            ops.push(Op::RequestRefund {
                order: o.id.clone(),
            });
            let current = &o.course_id;
            if let Some((other, _)) = self.institutions[institution]
                .courses
                .iter()
                .find(|(c, _)| c != current)
            {
                ops.push(Op::Transfer {
                    order: o.id.clone(),
                    course: other.clone(),
                });
            }
        }
        for l in s
            .lessons
            .iter()
            .filter(|l| l.status == LessonStatus::AwaitingConfirmation)
        {
            ops.push(Op::Confirm {
                lesson: l.id.clone(),
            });
            if self.rng.random_range(0..6) == 0 {
                ops.push(Op::Dispute {
                    lesson: l.id.clone(),
                });
            }
        }
        for r in &s.refunds {
            match r.status {
                RefundStatus::Requested => {
                    let agree = self.rng.random_range(0..4) > 0;
                    ops.push(Op::AnswerRefund {
                        refund: r.id.clone(),
                        institution,
                        agree,
                    });
                }
                RefundStatus::Refused => ops.push(Op::Escalate {
                    refund: r.id.clone(),
                }),
                RefundStatus::Escalated => {
                    let uphold = self.rng.random_bool(0.5);
                    ops.push(Op::Rule {
                        refund: r.id.clone(),
                        institution,
                        uphold,
                    });
                }
                _ => {}
            }
        }
        ops
    }

    /// The bank's pending work on one order: instructions to execute, messages to send.
    pub(super) fn bank_ops(&mut self, order_no: &str) -> Vec<Op> {
        let inbox: Vec<String> = {
            let bank = self.bank.lock().expect("bank lock");
            bank.inbox
                .iter()
                .filter(|d| d.items.iter().any(|(no, _)| no == order_no))
                .map(|d| d.instruction_id.clone())
                .collect()
        };
        let mut ops: Vec<Op> = inbox
            .into_iter()
            .map(|instruction| Op::Execute {
                instruction,
                fault: Fault::None,
            })
            .collect();
        let messages: Vec<u64> = self
            .outbox
            .iter()
            .filter(|(_, m)| match m {
                Message::Payment(p) => p.order_no == order_no,
                _ => false,
            })
            .map(|(id, _)| *id)
            .collect();
        if !messages.is_empty() {
            ops.push(Op::Flush {
                messages,
                parallel: false,
            });
        }
        for op in &mut ops {
            if let Op::Execute { fault, .. } = op {
                *fault = self.fault();
            }
        }
        ops
    }

    /// One step: one operation, or two or three racing on one order.
    pub(super) fn choose(&mut self, states: &[OrderState], step: u64) -> Vec<Op> {
        let roll = self.rng.random_range(0..100);
        if roll < 22 && !states.is_empty() {
            let hot = &states[self.rng.random_range(0..states.len())];
            let mut candidates = self.order_ops(hot);
            let order_no = hot.row.order_no.clone();
            candidates.extend(self.bank_ops(&order_no));
            if candidates.len() >= 2 {
                let n = if candidates.len() >= 3 && self.rng.random_bool(0.3) {
                    3
                } else {
                    2
                };
                let mut picked = Vec::new();
                for _ in 0..n {
                    let i = self.rng.random_range(0..candidates.len());
                    picked.push(candidates.swap_remove(i));
                }
                return picked;
            }
        }
        let op = match self.rng.random_range(0..1000) {
            0..=99 if self.live.len() < LIVE_ORDERS => {
                let family = self.rng.random_range(0..self.families.len());
                let child = self
                    .rng
                    .random_range(0..self.families[family].children.len());
                let institution = self.rng.random_range(0..self.institutions.len());
                let course = self
                    .rng
                    .random_range(0..self.institutions[institution].courses.len());
                Op::Place {
                    family,
                    child,
                    institution,
                    course,
                }
            }
            0..=549 if !states.is_empty() => {
                let s = &states[self.rng.random_range(0..states.len())];
                let mut ops = self.order_ops(s);
                if ops.is_empty() {
                    Op::Deliver
                } else {
                    let i = self.rng.random_range(0..ops.len());
                    ops.swap_remove(i)
                }
            }
            550..=659 => Op::Deliver,
            660..=779 => {
                let inbox: Vec<String> = self
                    .bank
                    .lock()
                    .expect("bank lock")
                    .inbox
                    .iter()
                    .map(|d| d.instruction_id.clone())
                    .collect();
                if inbox.is_empty() {
                    Op::Deliver
                } else {
                    let instruction = inbox[self.rng.random_range(0..inbox.len())].clone();
                    let fault = self.fault();
                    Op::Execute { instruction, fault }
                }
            }
            780..=929 => {
                let ids: Vec<u64> = self.outbox.keys().copied().collect();
                if ids.is_empty() {
                    Op::Deliver
                } else {
                    // A few messages, in any order (the network reorders and delays), sometimes all at once
                    // over several connections (a bank sends in parallel).
                    let n = self.rng.random_range(1..=ids.len().min(6));
                    let mut messages = Vec::new();
                    let mut pool = ids;
                    for _ in 0..n {
                        let i = self.rng.random_range(0..pool.len());
                        messages.push(pool.swap_remove(i));
                    }
                    let parallel = self.rng.random_bool(0.5);
                    Op::Flush { messages, parallel }
                }
            }
            930..=989 => {
                let hours = if self.rng.random_range(0..8) == 0 {
                    24 * self.rng.random_range(3..=12)
                } else {
                    self.rng.random_range(1..=20)
                };
                Op::Tick { hours }
            }
            990..=992 => Op::Restart,
            993..=995 => {
                let today = self.t.clock.now().china_date().to_string();
                let days: Vec<String> = self
                    .bank
                    .lock()
                    .expect("bank lock")
                    .days()
                    .into_iter()
                    .filter(|d| *d < today)
                    .collect();
                match days.last() {
                    Some(date) => Op::Statement { date: date.clone() },
                    None => Op::Deliver,
                }
            }
            996..=999 => {
                let institution = self.rng.random_range(1..self.institutions.len());
                if self.institutions[institution].door_closed || step < 50 {
                    Op::Deliver
                } else if self.rng.random_bool(0.5) {
                    Op::RunOff { institution }
                } else {
                    Op::BlackList { institution }
                }
            }
            _ => Op::Deliver,
        };
        vec![op]
    }

    /// Puts an event's messages into the outbox, as the network will carry them.
    pub(super) fn enqueue(&mut self, messages: Vec<Message>, fault: Fault) {
        for (i, m) in messages.into_iter().enumerate() {
            let copies = match fault {
                Fault::DropOne(n) if n == i => {
                    self.report.messages_dropped += 1;
                    0
                }
                Fault::Duplicate => {
                    self.report.messages_duplicated += 1;
                    2
                }
                _ => 1,
            };
            for _ in 0..copies {
                self.outbox_seq += 1;
                self.outbox.insert(self.outbox_seq, m.clone());
            }
        }
    }

    pub(super) async fn send(&self, m: &Message) -> (&'static str, String) {
        let app = &self.t.app;
        match m {
            Message::Payment(p) => answer(
                m.label(),
                &app.money().record_payment(&self.bank_actor, p).await,
            ),
            Message::Movement(r) => match app.money().record_movement(&self.bank_actor, r).await {
                // What a report raised is part of its answer: with no money moved behind the platform's
                // back, anything raised is a false alarm worth reading in the trace.
                Ok(ack) if !ack.risk_events.is_empty() => {
                    (m.label(), format!("raised {}", ack.risk_events.join("+")))
                }
                other => answer(m.label(), &other),
            },
            Message::Result(id, r) => answer(
                m.label(),
                &app.money()
                    .record_instruction_result(&self.bank_actor, id, r)
                    .await,
            ),
        }
    }

    /// Runs one operation against the platform (or the bank); bank-side effects come back to be enqueued.
    pub(super) async fn perform(&self, op: &Op) -> Effect {
        let app = &self.t.app;
        let now = self.t.clock.now().millis();
        let one = Effect::answered;
        match op {
            Op::Place {
                family,
                child,
                institution,
                course,
            } => {
                let f = &self.families[*family];
                let new = app::orders::NewOrder {
                    course_id: self.institutions[*institution].courses[*course].0.clone(),
                    child_id: f.children[*child].clone(),
                };
                let placed = app.money().place_order(&f.parent, &new).await;
                Effect {
                    answers: vec![answer(op.label(), &placed)],
                    placed: placed.ok().map(|o| (o.line.id, o.line.order_no)),
                    ..Effect::default()
                }
            }
            Op::Pay { order, fault } => {
                let Ok(Some(row)) = app.store().read().orders().order(order).await else {
                    return one((op.label(), "gone".into()));
                };
                let account_no = self
                    .institutions
                    .iter()
                    .find(|i| i.id == row.institution_id)
                    .map(|i| i.account_no.clone())
                    .unwrap_or_default();
                let messages = self.bank.lock().expect("bank lock").take_payment(
                    &row.order_no,
                    &account_no,
                    row.amount_fen,
                    now,
                );
                Effect {
                    answers: vec![(op.label(), "ok".into())],
                    messages: vec![(messages, *fault)],
                    placed: None,
                }
            }
            Op::Attend { order, evidence } => {
                let institution = self.institution_by_order(order).await;
                let attendance = app::lessons::Attendance {
                    evidence: if *evidence {
                        "点名表".into()
                    } else {
                        String::new()
                    },
                };
                one(answer(
                    op.label(),
                    &app.money()
                        .take_attendance(&institution.staff, order, &attendance)
                        .await,
                ))
            }
            Op::Confirm { lesson } => {
                let parent = self.parent_of_lesson(lesson).await;
                one(answer(
                    op.label(),
                    &app.money().confirm_lesson(&parent, lesson).await,
                ))
            }
            Op::Dispute { lesson } => {
                let parent = self.parent_of_lesson(lesson).await;
                let dispute = app::lessons::Dispute {
                    reason: "孩子那天没有去上课".into(),
                };
                one(answer(
                    op.label(),
                    &app.money().dispute_lesson(&parent, lesson, &dispute).await,
                ))
            }
            Op::RequestRefund { order } => {
                let parent = self.parent_of_order(order).await;
                let req = app::refunds::RefundRequest {
                    reason: "孩子课业太忙，不再上课".into(),
                };
                one(answer(
                    op.label(),
                    &app.money().request_refund(&parent, order, &req).await,
                ))
            }
            Op::AnswerRefund {
                refund,
                institution,
                agree,
            } => {
                let a = app::refunds::RefundAnswer {
                    agree: *agree,
                    reason: if *agree {
                        String::new()
                    } else {
                        "已上课时超过约定".into()
                    },
                };
                one(answer(
                    op.label(),
                    &app.money()
                        .answer_refund(&self.institutions[*institution].staff, refund, &a)
                        .await,
                ))
            }
            Op::Escalate { refund } => {
                let parent = match app.store().read().refunds().refund(refund).await {
                    Ok(Some(r)) => Actor::Parent {
                        account_id: r.parent_id,
                    },
                    _ => return one((op.label(), "gone".into())),
                };
                one(answer(
                    op.label(),
                    &app.money().escalate_refund(&parent, refund).await,
                ))
            }
            Op::Rule {
                refund,
                institution,
                uphold,
            } => {
                let ruling = app::refunds::RefundAnswer {
                    agree: *uphold,
                    reason: if *uphold {
                        String::new()
                    } else {
                        "证据不足".into()
                    },
                };
                one(answer(
                    op.label(),
                    &app.money()
                        .rule_on_refund(&self.institutions[*institution].regulator, refund, &ruling)
                        .await,
                ))
            }
            Op::Leave { order } => {
                let parent = self.parent_of_order(order).await;
                let req = app::lessons::LeaveRequest {
                    date: self.t.clock.now().china_date().to_string(),
                    reason: "生病".into(),
                };
                one(answer(
                    op.label(),
                    &app.money().request_leave(&parent, order, &req).await,
                ))
            }
            Op::Transfer { order, course } => {
                let parent = self.parent_of_order(order).await;
                let req = app::orders::ClassTransferRequest {
                    course_id: course.clone(),
                };
                one(answer(
                    op.label(),
                    &app.money().transfer_class(&parent, order, &req).await,
                ))
            }
            Op::Deliver => one(answer(
                op.label(),
                &app.money().deliver_due_instructions().await,
            )),
            Op::Execute { instruction, fault } => {
                let delivered: Option<Delivered> = {
                    let mut bank = self.bank.lock().expect("bank lock");
                    bank.inbox
                        .iter()
                        .position(|d| &d.instruction_id == instruction)
                        .map(|i| bank.inbox.remove(i))
                };
                match delivered {
                    Some(d) => {
                        let messages = self.bank.lock().expect("bank lock").execute(&d, now);
                        Effect {
                            answers: vec![(op.label(), "ok".into())],
                            messages: vec![(messages, *fault)],
                            placed: None,
                        }
                    }
                    None => one((op.label(), "gone".into())),
                }
            }
            Op::Statement { date } => {
                let statements = self.bank.lock().expect("bank lock").statements(date);
                let mut effect = Effect::default();
                for st in &statements {
                    effect.answers.push(answer(
                        op.label(),
                        &app.money().record_statement(&self.bank_actor, st).await,
                    ));
                }
                effect
            }
            Op::Flush { .. } | Op::Tick { .. } | Op::Restart => Effect::default(),
            Op::RunOff { institution } => {
                let i = &self.institutions[*institution];
                let req = app::run_off::RunOffRequest {
                    reason: format!("{}停业", i.name),
                };
                one(answer(
                    op.label(),
                    &app.money().start_run_off(&i.regulator, &i.id, &req).await,
                ))
            }
            Op::BlackList { institution } => {
                let i = &self.institutions[*institution];
                let req = app::supervision::ListMove {
                    to: "black".into(),
                    reason: "违规收费".into(),
                };
                one(answer(
                    op.label(),
                    &app.supervision()
                        .move_to_list(&i.regulator, &i.id, &req)
                        .await,
                ))
            }
        }
    }

    pub(super) async fn institution_by_order(&self, order: &str) -> &Institution {
        let id = self
            .t
            .app
            .store()
            .read()
            .orders()
            .order(order)
            .await
            .ok()
            .flatten()
            .map(|o| o.institution_id)
            .unwrap_or_default();
        self.institutions
            .iter()
            .find(|i| i.id == id)
            .unwrap_or(&self.institutions[0])
    }

    pub(super) async fn parent_of_order(&self, order: &str) -> Actor {
        Actor::Parent {
            account_id: self
                .t
                .app
                .store()
                .read()
                .orders()
                .order(order)
                .await
                .ok()
                .flatten()
                .map(|o| o.parent_id)
                .unwrap_or_default(),
        }
    }

    pub(super) async fn parent_of_lesson(&self, lesson: &str) -> Actor {
        Actor::Parent {
            account_id: self
                .t
                .app
                .store()
                .read()
                .lessons()
                .lesson(lesson)
                .await
                .ok()
                .flatten()
                .map(|l| l.parent_id)
                .unwrap_or_default(),
        }
    }
}
