//! The invariants after each step, and the end of a run: the network healed, everything delivered, the
//! bank's books and the platform's compared to the fen.

use super::*;
use domain::{LessonStatus, OrderStatus};

impl Sim {
    /// Orders with nothing left to happen leave the live set (the periodic full check still covers them).
    pub(super) fn prune(&mut self, states: &[OrderState]) {
        let done: BTreeSet<&str> = states
            .iter()
            .filter(|s| {
                let o = &s.row;
                let finished = o.status == OrderStatus::Cancelled
                    || ((o.closed_at.is_some()
                        || o.frozen_at.is_some()
                        || s.lessons.len() as i64 >= o.lessons)
                        && s.outstanding == 0
                        && !s
                            .lessons
                            .iter()
                            .any(|l| l.status == LessonStatus::AwaitingConfirmation)
                        && !s.refunds.iter().any(|r| r.status.is_open()));
                finished && o.status != OrderStatus::AwaitingPayment
            })
            .map(|s| s.row.id.as_str())
            .collect();
        self.live.retain(|id| !done.contains(id.as_str()));
    }

    /// The invariants after a step: the live orders' money, the bank's books, and (periodically) everything.
    pub(super) async fn check(&mut self, step: u64) -> Result<Vec<String>, Failure> {
        let mut broken: Vec<String> =
            app::ledger_check::verify_orders(self.t.app.store(), &self.live)
                .await
                .map_err(|e| self.harness(step, e))?
                .iter()
                .map(ToString::to_string)
                .collect();
        broken.extend(self.bank_overpaid());
        if step.is_multiple_of(self.config.full_check_every) {
            broken.extend(self.full_check(step).await?);
        }
        Ok(broken)
    }

    pub(super) fn bank_overpaid(&self) -> Vec<String> {
        self.bank
            .lock()
            .expect("bank lock")
            .overpaid()
            .into_iter()
            .map(|(order_no, paid, out)| {
                format!(
                    "the bank paid out {out} fen for order {order_no}, which paid in {paid} fen"
                )
            })
            .collect()
    }

    pub(super) async fn full_check(&self, step: u64) -> Result<Vec<String>, Failure> {
        let report = app::ledger_check::verify_money(self.t.app.store())
            .await
            .map_err(|e| self.harness(step, e))?;
        let mut broken: Vec<String> = report.violations.iter().map(ToString::to_string).collect();
        broken.extend(self.unknown_audit_actions(step).await?);
        Ok(broken)
    }

    /// Every audit entry records one of the platform's actions (`domain::Action`), whatever wrote it.
    async fn unknown_audit_actions(&self, step: u64) -> Result<Vec<String>, Failure> {
        let (mut after, mut unknown) = (0, Vec::new());
        loop {
            let page = self
                .t
                .app
                .store()
                .read()
                .audit_entries_after(after, 1_000)
                .await
                .map_err(|e| self.harness(step, e))?;
            let Some(last) = page.last() else {
                return Ok(unknown);
            };
            after = last.seq;
            unknown.extend(page.iter().filter_map(|e| {
                domain::Action::parse(&e.body.action).err().map(|_| {
                    format!(
                        "audit entry {} records an unknown action {:?}",
                        e.seq, e.body.action
                    )
                })
            }));
        }
    }

    /// The network heals: every delivery, execution and message goes through until nothing moves; then the
    /// bank and the platform must agree to the fen.
    pub(super) async fn settle(&mut self, step: u64) -> Result<(), Failure> {
        self.note(format!("step {step}: settling (faults healed)"));
        for _ in 0..100 {
            self.t.clock.advance_millis(3_600_000);
            let app = &self.t.app;
            let mut answers: Answers = vec![answer(
                "settle.deliver",
                &app.money().deliver_due_instructions().await,
            )];
            let inbox: Vec<Delivered> =
                std::mem::take(&mut self.bank.lock().expect("bank lock").inbox);
            let now = self.t.clock.now().millis();
            for d in &inbox {
                let messages = self.bank.lock().expect("bank lock").execute(d, now);
                self.enqueue(messages, Fault::None);
            }
            let outbox = std::mem::take(&mut self.outbox);
            for m in outbox.values() {
                answers.push(self.send(m).await);
            }
            self.count(&answers);
            let outstanding = self
                .outstanding_instructions()
                .await
                .map_err(|e| self.harness(step, e))?;
            if inbox.is_empty() && outbox.is_empty() && outstanding.is_empty() {
                break;
            }
        }
        // The bank's statements for every day it booked: what a dropped message left open, a line settles.
        let days = self.bank.lock().expect("bank lock").days();
        for date in days {
            let statements = self.bank.lock().expect("bank lock").statements(&date);
            let mut answers: Answers = Vec::new();
            for st in &statements {
                answers.push(answer(
                    "settle.statement",
                    &self
                        .t
                        .app
                        .money()
                        .record_statement(&self.bank_actor, st)
                        .await,
                ));
            }
            self.count(&answers);
        }
        // Payments reconciled from statements may be refunds on arrival: deliver and execute those too.
        for _ in 0..10 {
            self.t.clock.advance_millis(3_600_000);
            let app = &self.t.app;
            let answers: Answers = vec![answer(
                "settle.deliver",
                &app.money().deliver_due_instructions().await,
            )];
            self.count(&answers);
            let inbox: Vec<Delivered> =
                std::mem::take(&mut self.bank.lock().expect("bank lock").inbox);
            let now = self.t.clock.now().millis();
            let mut sent: Answers = Vec::new();
            for d in &inbox {
                let messages = self.bank.lock().expect("bank lock").execute(d, now);
                for m in &messages {
                    sent.push(self.send(m).await);
                }
            }
            self.count(&sent);
            if inbox.is_empty() {
                break;
            }
        }
        let mut broken = Vec::new();
        let outstanding = self
            .outstanding_instructions()
            .await
            .map_err(|e| self.harness(step, e))?;
        for (id, status) in &outstanding {
            broken.push(format!(
                "instruction {id} is still {status} after the network healed"
            ));
        }
        let read = self.t.app.store().read();
        let (balances, paid_in) = {
            let bank = self.bank.lock().expect("bank lock");
            (bank.balances.clone(), bank.paid_in.clone())
        };
        for i in &self.institutions {
            let owed = read
                .orders()
                .escrow_owed(&i.account_id)
                .await
                .map_err(|e| self.harness(step, e))?;
            let held = balances.get(&i.account_no).copied().unwrap_or(0);
            if owed != held {
                broken.push(format!(
                    "account {}: the bank holds {held} fen, the platform says {owed} fen",
                    i.account_no
                ));
            }
        }
        let ids: Vec<String> = self.order_nos.keys().cloned().collect();
        let money = read
            .ledger()
            .order_money_of(&ids)
            .await
            .map_err(|e| self.harness(step, e))?;
        for o in &money {
            let at_bank = paid_in.get(&o.order_no).copied().unwrap_or(0);
            if at_bank != o.escrow_credits_fen {
                broken.push(format!(
                    "order {}: the bank took {at_bank} fen, the platform's escrow was credited {} fen",
                    o.order_no, o.escrow_credits_fen
                ));
            }
        }
        {
            let bank = self.bank.lock().expect("bank lock");
            self.report.bank_in_fen = bank.paid_in.values().sum();
            self.report.bank_out_fen = bank.paid_out.values().sum();
        }
        broken.extend(self.bank_overpaid());
        broken.extend(self.full_check(step).await?);
        self.count_alarms()
            .await
            .map_err(|e| self.harness(step, e))?;
        if broken.is_empty() {
            Ok(())
        } else {
            Err(self.fail(step, broken))
        }
    }

    /// The movements recorded and the alarms raised on the simulated institutions over the run.
    pub(super) async fn count_alarms(&mut self) -> Result<(), AppError> {
        let read = self.t.app.store().read();
        let mut movements = 0;
        let mut alarms: BTreeMap<String, u64> = BTreeMap::new();
        for i in &self.institutions {
            movements += read
                .bank()
                .movements_of(&i.account_id, i64::MAX)
                .await?
                .len() as u64;
            for e in read.bank().risk_events(Some(&i.id), i64::MAX).await? {
                if self.report.alarm_details.len() < 10 {
                    self.report
                        .alarm_details
                        .push(format!("{} at {}: {}", e.kind, e.raised_at, e.detail_json));
                }
                *alarms.entry(e.kind).or_default() += 1;
            }
            for w in read.warnings().list(None, Some(&i.id), 0, i64::MAX).await? {
                if self.report.alarm_details.len() < 10 {
                    self.report.alarm_details.push(format!(
                        "{}.{} at {}: {}",
                        w.indicator, w.level, w.raised_at, w.inputs_json
                    ));
                }
                *alarms
                    .entry(format!("{}.{}", w.indicator, w.level))
                    .or_default() += 1;
            }
        }
        self.report.movements = movements;
        self.report.alarms = alarms;
        Ok(())
    }

    /// (id, status) of every instruction of the simulated orders the bank has not finished.
    pub(super) async fn outstanding_instructions(&self) -> Result<Vec<(String, String)>, AppError> {
        let read = self.t.app.store().read();
        let mut out = Vec::new();
        for id in self.order_nos.keys() {
            for i in read.instructions().instructions_of_order(id).await? {
                if !i.status.is_finished() {
                    out.push((i.id, i.status.to_string()));
                }
            }
        }
        Ok(out)
    }
}
