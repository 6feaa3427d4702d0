//! 日对账单 daily statements: each account's day, its arithmetic checked, its lines settling what dropped
//! messages left open, and the morning's sweep for statements that never came.

use super::payments::PaidFrom;
use super::{MAX_BATCH, MovementReport, PaymentNotice, risk};
use crate::money::Money;
use crate::{Actor, AppError, ErrorCode, evidence};
use domain::Action;
use domain::OrderStatus;
use domain::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::HashMap;
use store::{RiskEventRow, StatementRow};

/// `POST /api/v1/bank/statements`: a supervised account's day.
#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
pub struct DailyStatement {
    pub account_no: String,
    /// `YYYY-MM-DD`, China time.
    pub date: String,
    pub opening_fen: i64,
    pub closing_fen: i64,
    pub inflow_fen: i64,
    pub outflow_fen: i64,
    pub movement_count: i64,
    /// 对账明细 the day's movements line by line (at most [`MAX_STATEMENT_ENTRIES`]). A line the platform never
    /// heard of is recorded as its movement report would have been (an outflow naming an instruction settles
    /// it), and an inflow naming an order that still awaits payment of that amount pays it ("reconciled from
    /// statement"): what a dropped message left open, the day's statement closes.
    #[serde(default)]
    pub entries: Vec<StatementEntry>,
}

/// One line of a daily statement: a movement as the bank booked it.
#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
pub struct StatementEntry {
    pub bank_ref: String,
    /// `in` or `out`.
    pub direction: String,
    pub amount_fen: i64,
    pub balance_after_fen: i64,
    /// Unix milliseconds, the bank's time.
    pub occurred_at: i64,
    /// An outflow names the instruction it executed.
    #[serde(default)]
    pub instruction_id: Option<String>,
    /// An inflow names the order it paid.
    #[serde(default)]
    pub order_no: Option<String>,
    /// An inflow's payment reference, when the payment notice carried another reference than the line.
    #[serde(default)]
    pub payment_ref: Option<String>,
}

/// At most this many lines in one statement.
pub const MAX_STATEMENT_ENTRIES: usize = 5_000;

#[derive(Clone, Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct StatementAck {
    pub account_no: String,
    pub date: String,
    pub duplicate: bool,
    /// The statement agrees with the movements the bank reported that day (its lines included).
    pub consistent: bool,
    /// Lines the platform had not heard of, recorded now.
    #[serde(default)]
    pub movements_recorded: usize,
    /// Orders paid from the statement's lines (their payment notice never arrived).
    #[serde(default)]
    pub payments_reconciled: usize,
    /// Lines refused, each with its stable code (e.g. a reference reused for another movement).
    #[serde(default)]
    pub refused: Vec<RefusedLine>,
}

#[derive(Clone, Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RefusedLine {
    pub bank_ref: String,
    pub code: String,
    pub detail: String,
}

impl<'a> Money<'a> {
    /// 日对账单 a day's statement: its own arithmetic must hold; its lines settle what dropped messages left
    /// open (each step idempotent, so a statement sent again changes nothing); disagreeing with the movements
    /// recorded for the day raises a `statement_mismatch` event.
    pub async fn record_statement(
        self,
        actor: &Actor,
        s: &DailyStatement,
    ) -> Result<StatementAck, AppError> {
        let bank_id = self.bank_of(actor).await?.to_owned();
        let date = chrono::NaiveDate::parse_from_str(s.date.trim(), "%Y-%m-%d").map_err(|_| {
            AppError::invalid("日期：格式应为 YYYY-MM-DD", "date: YYYY-MM-DD").on("date")
        })?;
        if s.inflow_fen < 0 || s.outflow_fen < 0 || s.movement_count < 0 {
            return Err(AppError::invalid(
                "收入、支出和笔数：不能为负数",
                "inflow_fen, outflow_fen and movement_count: not negative",
            ));
        }
        let adds_up = s
            .opening_fen
            .checked_add(s.inflow_fen)
            .and_then(|v| v.checked_sub(s.outflow_fen))
            == Some(s.closing_fen);
        if !adds_up {
            return Err(AppError::new(
                ErrorCode::AmountMismatch,
                "期初余额 + 收入 − 支出 须等于期末余额",
                "opening + inflow − outflow must equal closing",
            ));
        }
        if s.entries.len() > MAX_STATEMENT_ENTRIES {
            return Err(AppError::invalid(
                format!("对账单明细：最多{MAX_STATEMENT_ENTRIES}行"),
                format!("entries: at most {MAX_STATEMENT_ENTRIES} lines"),
            ));
        }
        use domain::money::{ACCOUNT_BALANCE, BANK_AMOUNT};
        for (field, fen) in [
            ("opening_fen", s.opening_fen),
            ("closing_fen", s.closing_fen),
            ("inflow_fen", s.inflow_fen),
            ("outflow_fen", s.outflow_fen),
        ] {
            ACCOUNT_BALANCE.check(field, fen)?;
        }
        for e in &s.entries {
            BANK_AMOUNT.check("entries[].amount_fen", e.amount_fen)?;
            ACCOUNT_BALANCE.check("entries[].balance_after_fen", e.balance_after_fen)?;
        }
        let settled = self.settle_from_statement(actor, &bank_id, s).await?;
        let now = self.clock.now().millis();
        let day_start = date
            .and_hms_opt(0, 0, 0)
            .and_then(|d| d.and_local_timezone(domain::time::china_offset()).single())
            .map(|d| d.timestamp_millis())
            .ok_or_else(|| AppError::invalid("日期格式不正确", "date"))?;
        let day_end = day_start + 86_400_000;
        let mut tx = self.store.begin_write().await?;
        let account = Self::banks_account(&mut tx, &bank_id, &s.account_no).await?;
        let row = StatementRow {
            supervised_account_id: account.id.clone(),
            statement_date: date.to_string(),
            opening_fen: s.opening_fen,
            closing_fen: s.closing_fen,
            inflow_fen: s.inflow_fen,
            outflow_fen: s.outflow_fen,
            movement_count: s.movement_count,
            received_at: now,
        };
        let (inflow, outflow, count) = tx
            .bank()
            .movement_totals(&account.id, day_start, day_end)
            .await?;
        let consistent =
            (inflow, outflow, count) == (s.inflow_fen, s.outflow_fen, s.movement_count);
        if !tx.bank().insert_statement(&row).await? {
            return Ok(StatementAck {
                account_no: account.account_no,
                date: row.statement_date,
                duplicate: true,
                consistent,
                ..settled
            });
        }
        if !consistent {
            tx.bank().insert_risk_events(&[risk(
                &account,
                "statement_mismatch",
                "yellow",
                Some(format!("statement_mismatch:{}:{}", account.id, row.statement_date)),
                json!({"date": row.statement_date,
                       "statement": {"inflow_fen": s.inflow_fen, "outflow_fen": s.outflow_fen, "count": s.movement_count},
                       "reported": {"inflow_fen": inflow, "outflow_fen": outflow, "count": count}}),
                now,
            )])
            .await?;
        }
        tx.append_audit(vec![evidence::record(
            &actor.audit_name(),
            now,
            Action::BankStatement,
            format!("institution:{}", account.institution_id),
            json!({"account": account.id, "date": row.statement_date, "closing_fen": s.closing_fen,
                   "consistent": consistent}),
        )])
        .await?;
        tx.commit().await?;
        Ok(StatementAck {
            account_no: account.account_no,
            date: row.statement_date,
            duplicate: false,
            consistent,
            ..settled
        })
    }

    /// The statement's lines, before the statement itself is kept: each line is the movement report the bank
    /// owed (a line already recorded is a duplicate; one under a used reference with other content is refused
    /// and raised), then each inflow naming an order still awaiting payment of that amount pays it.
    async fn settle_from_statement(
        self,
        actor: &Actor,
        bank_id: &str,
        s: &DailyStatement,
    ) -> Result<StatementAck, AppError> {
        let mut ack = StatementAck {
            account_no: s.account_no.trim().to_owned(),
            date: s.date.trim().to_owned(),
            duplicate: false,
            consistent: false,
            movements_recorded: 0,
            payments_reconciled: 0,
            refused: Vec::new(),
        };
        let reports: Vec<MovementReport> = s
            .entries
            .iter()
            .map(|e| MovementReport {
                account_no: s.account_no.clone(),
                bank_ref: e.bank_ref.clone(),
                direction: e.direction.clone(),
                amount_fen: e.amount_fen,
                balance_after_fen: e.balance_after_fen,
                occurred_at: e.occurred_at,
                instruction_id: e.instruction_id.clone(),
                order_no: e.order_no.clone(),
            })
            .collect();
        for chunk in reports.chunks(MAX_BATCH) {
            for (report, answer) in chunk
                .iter()
                .zip(self.move_many(actor, bank_id, chunk).await?)
            {
                match answer {
                    Ok(a) if !a.duplicate => ack.movements_recorded += 1,
                    Ok(_) => {}
                    Err(e) => ack.refused.push(RefusedLine {
                        bank_ref: report.bank_ref.clone(),
                        code: e.code.code().to_owned(),
                        detail: e.detail.en,
                    }),
                }
            }
        }
        let inflows: Vec<&StatementEntry> = s
            .entries
            .iter()
            .filter(|e| e.direction.trim() == "in" && e.order_no.is_some())
            .collect();
        let order_nos: Vec<String> = inflows
            .iter()
            .filter_map(|e| e.order_no.as_deref().map(|n| n.trim().to_owned()))
            .collect();
        let awaiting: HashMap<String, i64> = self
            .store
            .read()
            .orders()
            .orders_by_no(&order_nos)
            .await?
            .into_iter()
            .filter(|o| o.status == OrderStatus::AwaitingPayment)
            .map(|o| (o.order_no, o.amount_fen))
            .collect();
        let notices: Vec<PaymentNotice> = inflows
            .into_iter()
            .filter(|e| {
                e.order_no
                    .as_deref()
                    .and_then(|n| awaiting.get(n.trim()))
                    .is_some_and(|amount| *amount == e.amount_fen)
            })
            .map(|e| PaymentNotice {
                order_no: e.order_no.clone().unwrap_or_default(),
                account_no: s.account_no.clone(),
                amount_fen: e.amount_fen,
                bank_ref: e.payment_ref.clone().unwrap_or_else(|| e.bank_ref.clone()),
                paid_at: e.occurred_at,
            })
            .collect();
        for chunk in notices.chunks(MAX_BATCH) {
            for (notice, answer) in chunk.iter().zip(
                self.pay_many(actor, bank_id, chunk, PaidFrom::Statement)
                    .await?,
            ) {
                match answer {
                    Ok(a) if !a.duplicate => ack.payments_reconciled += 1,
                    Ok(_) => {}
                    Err(e) => ack.refused.push(RefusedLine {
                        bank_ref: notice.bank_ref.clone(),
                        code: e.code.code().to_owned(),
                        detail: e.detail.en,
                    }),
                }
            }
        }
        Ok(ack)
    }

    /// Raises `missing_statement` for every confirmed account without a statement for `date` (once per
    /// account and date, however often the sweep runs). Returns how many were raised or already stood.
    pub async fn check_statements(self, date: chrono::NaiveDate) -> Result<usize, AppError> {
        let now = self.clock.now().millis();
        let missing = self
            .store
            .read()
            .bank()
            .accounts_missing_statement(&date.to_string())
            .await?;
        let day_end = Timestamp::from_millis(now).china_date() > date;
        let events: Vec<RiskEventRow> = missing
            .iter()
            .filter(|a| {
                day_end
                    && a.confirmed_at
                        .is_some_and(|c| Timestamp::from_millis(c).china_date() <= date)
            })
            .map(|a| {
                risk(
                    a,
                    "missing_statement",
                    "yellow",
                    Some(format!("missing_statement:{}:{date}", a.id)),
                    json!({"date": date.to_string()}),
                    now,
                )
            })
            .collect();
        if events.is_empty() {
            return Ok(0);
        }
        let mut tx = self.store.begin_write().await?;
        let mut raised = Vec::new();
        for event in events {
            if !tx.bank().risk_event_exists(&event.id).await? {
                raised.push(event);
            }
        }
        let entries = raised
            .iter()
            .map(|e| {
                evidence::record(
                    "system:statement_sweep",
                    now,
                    Action::RiskRaised,
                    format!("institution:{}", e.institution_id),
                    json!({"risk_event": e.id, "kind": e.kind, "level": e.level, "date": date.to_string()}),
                )
            })
            .collect();
        tx.bank().insert_risk_events(&raised).await?;
        tx.append_audit(entries).await?;
        tx.commit().await?;
        Ok(raised.len())
    }
}
