//! What a bank tells the platform about the money, and what reconciling it raises: endpoints, idempotent
//! requests, movements (动账), statements, and risk events. The platform's instructions are `instructions`.

use crate::insert::{AnyQuery, InsertRow};
use crate::{Reader, StoreError, WriteTx};
use sqlx::AssertSqlSafe;

crate::repository!(
    /// 银行报文 movements, statements, risk events and idempotent requests from banks.
    BankMessages,
    bank
);

/// Where a bank takes instructions and offers its checkout page.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct BankEndpointRow {
    pub bank_id: String,
    pub instruction_url: String,
    pub checkout_url: String,
    pub updated_at: i64,
}

/// A client's mutation, answered once.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct IdempotentRequestRow {
    pub client_key_id: String,
    pub idempotency_key: String,
    pub request_digest: String,
    pub status: i64,
    pub response_json: String,
    pub recorded_at: i64,
}

impl InsertRow for IdempotentRequestRow {
    const TABLE: &'static str = "idempotent_requests";
    const COLUMNS: &'static str =
        "client_key_id, idempotency_key, request_digest, status, response_json, recorded_at";
    const ON_CONFLICT: &'static str = " ON CONFLICT (client_key_id, idempotency_key) DO NOTHING";
    fn bind<'q>(&self, q: AnyQuery<'q>) -> AnyQuery<'q> {
        q.bind(self.client_key_id.clone())
            .bind(self.idempotency_key.clone())
            .bind(self.request_digest.clone())
            .bind(self.status)
            .bind(self.response_json.clone())
            .bind(self.recorded_at)
    }
}

/// 动账 row.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct MovementRow {
    pub id: String,
    pub supervised_account_id: String,
    pub bank_ref: String,
    /// `in` or `out`.
    pub direction: String,
    pub amount_fen: i64,
    pub balance_after_fen: i64,
    pub occurred_at: i64,
    pub instruction_id: Option<String>,
    pub order_no: Option<String>,
    /// `inflow`, `matched` or `unmatched`.
    pub matched: String,
    pub received_at: i64,
}

const MOVEMENT_COLUMNS: &str = "id, supervised_account_id, bank_ref, direction, amount_fen, balance_after_fen, \
     occurred_at, instruction_id, order_no, matched, received_at";

impl InsertRow for MovementRow {
    const TABLE: &'static str = "bank_movements";
    const COLUMNS: &'static str = MOVEMENT_COLUMNS;
    const ON_CONFLICT: &'static str = " ON CONFLICT (supervised_account_id, bank_ref) DO NOTHING";
    fn bind<'q>(&self, q: AnyQuery<'q>) -> AnyQuery<'q> {
        q.bind(self.id.clone())
            .bind(self.supervised_account_id.clone())
            .bind(self.bank_ref.clone())
            .bind(self.direction.clone())
            .bind(self.amount_fen)
            .bind(self.balance_after_fen)
            .bind(self.occurred_at)
            .bind(self.instruction_id.clone())
            .bind(self.order_no.clone())
            .bind(self.matched.clone())
            .bind(self.received_at)
    }
}

/// 对账单 row.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct StatementRow {
    pub supervised_account_id: String,
    pub statement_date: String,
    pub opening_fen: i64,
    pub closing_fen: i64,
    pub inflow_fen: i64,
    pub outflow_fen: i64,
    pub movement_count: i64,
    pub received_at: i64,
}

impl InsertRow for StatementRow {
    const TABLE: &'static str = "bank_statements";
    const COLUMNS: &'static str = "supervised_account_id, statement_date, opening_fen, closing_fen, inflow_fen, \
         outflow_fen, movement_count, received_at";
    const ON_CONFLICT: &'static str =
        " ON CONFLICT (supervised_account_id, statement_date) DO NOTHING";
    fn bind<'q>(&self, q: AnyQuery<'q>) -> AnyQuery<'q> {
        q.bind(self.supervised_account_id.clone())
            .bind(self.statement_date.clone())
            .bind(self.opening_fen)
            .bind(self.closing_fen)
            .bind(self.inflow_fen)
            .bind(self.outflow_fen)
            .bind(self.movement_count)
            .bind(self.received_at)
    }
}

/// 风险事件 row.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct RiskEventRow {
    pub id: String,
    pub institution_id: String,
    pub supervised_account_id: Option<String>,
    pub kind: String,
    /// `yellow`, `orange` or `red`.
    pub level: String,
    pub detail_json: String,
    pub raised_at: i64,
}

const RISK_COLUMNS: &str =
    "id, institution_id, supervised_account_id, kind, level, detail_json, raised_at";

impl InsertRow for RiskEventRow {
    const TABLE: &'static str = "risk_events";
    const COLUMNS: &'static str = RISK_COLUMNS;
    /// Sweeps give their events ids derived from what they found, so a repeated sweep raises nothing new.
    const ON_CONFLICT: &'static str = " ON CONFLICT (id) DO NOTHING";
    fn bind<'q>(&self, q: AnyQuery<'q>) -> AnyQuery<'q> {
        q.bind(self.id.clone())
            .bind(self.institution_id.clone())
            .bind(self.supervised_account_id.clone())
            .bind(self.kind.clone())
            .bind(self.level.clone())
            .bind(self.detail_json.clone())
            .bind(self.raised_at)
    }
}

impl BankMessages<&Reader<'_>> {
    pub async fn bank_endpoint(
        &self,
        bank_id: &str,
    ) -> Result<Option<BankEndpointRow>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT bank_id, instruction_url, checkout_url, updated_at FROM bank_endpoints WHERE bank_id = $1",
        )
        .bind(bank_id)
        .fetch_optional(&self.store.pool)
        .await?)
    }

    pub async fn idempotent_request(
        &self,
        client_key_id: &str,
        key: &str,
    ) -> Result<Option<IdempotentRequestRow>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT client_key_id, idempotency_key, request_digest, status, response_json, recorded_at \
             FROM idempotent_requests WHERE client_key_id = $1 AND idempotency_key = $2",
        )
        .bind(client_key_id)
        .bind(key)
        .fetch_optional(&self.store.pool)
        .await?)
    }

    /// A supervised account's movements, newest first.
    pub async fn movements_of(
        &self,
        supervised_account_id: &str,
        limit: i64,
    ) -> Result<Vec<MovementRow>, StoreError> {
        let sql = format!(
            "SELECT {MOVEMENT_COLUMNS} FROM bank_movements WHERE supervised_account_id = $1 \
             ORDER BY occurred_at DESC, id DESC LIMIT $2"
        );
        Ok(sqlx::query_as(AssertSqlSafe(sql))
            .bind(supervised_account_id)
            .bind(limit)
            .fetch_all(&self.store.pool)
            .await?)
    }

    /// Confirmed supervised accounts with no statement for `date`.
    pub async fn accounts_missing_statement(
        &self,
        date: &str,
    ) -> Result<Vec<crate::SupervisedAccountRow>, StoreError> {
        let sql = format!(
            "SELECT {} FROM supervised_accounts a WHERE a.status = 'confirmed' AND NOT EXISTS \
             (SELECT 1 FROM bank_statements s WHERE s.supervised_account_id = a.id AND s.statement_date = $1) \
             ORDER BY a.id",
            crate::funds::QUALIFIED_COLUMNS
        );
        Ok(sqlx::query_as(AssertSqlSafe(sql))
            .bind(date)
            .fetch_all(&self.store.pool)
            .await?)
    }

    /// An institution's risk events (or everyone's), newest first.
    pub async fn risk_events(
        &self,
        institution_id: Option<&str>,
        limit: i64,
    ) -> Result<Vec<RiskEventRow>, StoreError> {
        let sql = format!(
            "SELECT {RISK_COLUMNS} FROM risk_events WHERE ($1 IS NULL OR institution_id = $1) \
             ORDER BY raised_at DESC, id DESC LIMIT $2"
        );
        Ok(sqlx::query_as(AssertSqlSafe(sql))
            .bind(institution_id.map(str::to_owned))
            .bind(limit)
            .fetch_all(&self.store.pool)
            .await?)
    }
}

impl BankMessages<&mut WriteTx> {
    pub async fn upsert_bank_endpoint(&mut self, row: &BankEndpointRow) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO bank_endpoints (bank_id, instruction_url, checkout_url, updated_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (bank_id) DO UPDATE SET instruction_url = excluded.instruction_url, \
             checkout_url = excluded.checkout_url, updated_at = excluded.updated_at",
        )
        .bind(row.bank_id.clone())
        .bind(row.instruction_url.clone())
        .bind(row.checkout_url.clone())
        .bind(row.updated_at)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    /// Records an answer; a concurrent first answer under the same key wins.
    pub async fn record_idempotent_request(
        &mut self,
        row: &IdempotentRequestRow,
    ) -> Result<(), StoreError> {
        self.insert(std::slice::from_ref(row)).await
    }

    /// Records a movement once per bank reference; `false` when it was already recorded.
    pub async fn insert_movement(&mut self, row: &MovementRow) -> Result<bool, StoreError> {
        let sql = format!(
            "INSERT INTO bank_movements ({MOVEMENT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) \
             ON CONFLICT (supervised_account_id, bank_ref) DO NOTHING"
        );
        let done = row
            .bind(sqlx::query(AssertSqlSafe(sql)))
            .execute(&mut *self.tx)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    pub async fn movement(
        &mut self,
        supervised_account_id: &str,
        bank_ref: &str,
    ) -> Result<Option<MovementRow>, StoreError> {
        let sql = format!(
            "SELECT {MOVEMENT_COLUMNS} FROM bank_movements WHERE supervised_account_id = $1 AND bank_ref = $2"
        );
        Ok(sqlx::query_as(AssertSqlSafe(sql))
            .bind(supervised_account_id)
            .bind(bank_ref)
            .fetch_optional(&mut *self.tx)
            .await?)
    }

    /// Whether an outflow was already matched to this instruction (or daily batch).
    pub async fn instruction_has_outflow(
        &mut self,
        instruction_id: &str,
    ) -> Result<bool, StoreError> {
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM bank_movements WHERE instruction_id = $1 AND matched = 'matched'",
        )
        .bind(instruction_id)
        .fetch_one(&mut *self.tx)
        .await?;
        Ok(n > 0)
    }

    /// Keeps the bank's latest reported balance: a report older (by the bank's time) than the one kept is
    /// ignored, so reordered reports cannot roll the balance back. `true` when this one is the latest.
    pub async fn set_reported_balance(
        &mut self,
        supervised_account_id: &str,
        balance_fen: i64,
        occurred_at: i64,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE supervised_accounts SET reported_balance_fen = $2, reported_at = $3 \
             WHERE id = $1 AND (reported_at IS NULL OR reported_at <= $3)",
        )
        .bind(supervised_account_id)
        .bind(balance_fen)
        .bind(occurred_at)
        .execute(&mut *self.tx)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    pub async fn set_reconciled(
        &mut self,
        supervised_account_id: &str,
        at: i64,
    ) -> Result<(), StoreError> {
        sqlx::query("UPDATE supervised_accounts SET reconciled_at = $2 WHERE id = $1")
            .bind(supervised_account_id)
            .bind(at)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    /// The orders on these accounts the bank took money for after `after` (its own time): (account id, the
    /// bank's time of the payment, what the order holds now less its instructions in flight). A balance the
    /// bank reports as of an earlier moment did not hold them yet.
    pub async fn payments_after(
        &mut self,
        account_ids: &[String],
        after: i64,
    ) -> Result<Vec<(String, i64, i64)>, StoreError> {
        let mut out = Vec::new();
        let in_flight = crate::instructions::in_flight();
        let paid = domain::OrderStatus::Paid;
        for chunk in account_ids.chunks(500) {
            let sql = format!(
                "SELECT o.supervised_account_id, o.bank_paid_at, \
                 CAST(COALESCE(e.credits_posted - e.debits_posted, 0) - COALESCE((SELECT SUM(i.amount_fen) \
                 FROM bank_instructions i WHERE i.order_id = o.id AND i.status IN ({in_flight})), 0) \
                 AS BIGINT) FROM orders o LEFT JOIN ledger_accounts e ON e.id = 'escrow:' || o.id \
                 WHERE o.supervised_account_id IN ({}) AND o.status = '{paid}' AND o.bank_paid_at > {}",
                self.backend.placeholders(0, chunk.len()),
                match self.backend {
                    crate::Backend::Sqlite => "?".to_owned(),
                    crate::Backend::Postgres => format!("${}", chunk.len() + 1),
                }
            );
            let mut q = sqlx::query_as(AssertSqlSafe(sql));
            for id in chunk {
                q = q.bind(id.clone());
            }
            out.extend(q.bind(after).fetch_all(&mut *self.tx).await?);
        }
        Ok(out)
    }

    /// Inflow, outflow and count of the movements the bank reported for `[from, to)` (its time).
    pub async fn movement_totals(
        &mut self,
        supervised_account_id: &str,
        from: i64,
        to: i64,
    ) -> Result<(i64, i64, i64), StoreError> {
        Ok(sqlx::query_as(
            "SELECT CAST(COALESCE(SUM(CASE WHEN direction = 'in' THEN amount_fen ELSE 0 END), 0) AS BIGINT), \
             CAST(COALESCE(SUM(CASE WHEN direction = 'out' THEN amount_fen ELSE 0 END), 0) AS BIGINT), COUNT(*) \
             FROM bank_movements WHERE supervised_account_id = $1 AND occurred_at >= $2 AND occurred_at < $3",
        )
        .bind(supervised_account_id)
        .bind(from)
        .bind(to)
        .fetch_one(&mut *self.tx)
        .await?)
    }

    /// Records a statement once per account and date; `false` when one was already recorded.
    pub async fn insert_statement(&mut self, row: &StatementRow) -> Result<bool, StoreError> {
        let before: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM bank_statements WHERE supervised_account_id = $1 AND statement_date = $2",
        )
        .bind(row.supervised_account_id.clone())
        .bind(row.statement_date.clone())
        .fetch_one(&mut *self.tx)
        .await?;
        if before > 0 {
            return Ok(false);
        }
        self.insert(std::slice::from_ref(row)).await?;
        Ok(true)
    }

    pub async fn risk_event_exists(&mut self, id: &str) -> Result<bool, StoreError> {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM risk_events WHERE id = $1")
            .bind(id)
            .fetch_one(&mut *self.tx)
            .await?;
        Ok(n > 0)
    }

    pub async fn insert_risk_events(&mut self, rows: &[RiskEventRow]) -> Result<(), StoreError> {
        self.insert(rows).await
    }

    pub async fn supervised_account_by_no(
        &mut self,
        bank_id: &str,
        account_no: &str,
    ) -> Result<Option<crate::SupervisedAccountRow>, StoreError> {
        let sql = format!(
            "SELECT {} FROM supervised_accounts a WHERE a.bank_id = $1 AND a.account_no = $2",
            crate::funds::QUALIFIED_COLUMNS
        );
        Ok(sqlx::query_as(AssertSqlSafe(sql))
            .bind(bank_id)
            .bind(account_no)
            .fetch_optional(&mut *self.tx)
            .await?)
    }
}

/// Bulk forms for a bank's batch of movement reports: each read once per batch, not once per report.
impl BankMessages<&mut WriteTx> {
    /// The bank's supervised accounts with these numbers, locked for this transaction.
    pub async fn supervised_accounts_by_no(
        &mut self,
        bank_id: &str,
        account_nos: &[String],
    ) -> Result<Vec<crate::SupervisedAccountRow>, StoreError> {
        let mut out = Vec::new();
        for chunk in account_nos.chunks(500) {
            let sql = format!(
                "SELECT {} FROM supervised_accounts a WHERE a.bank_id = {} AND a.account_no IN ({}) \
                 ORDER BY a.account_no{}",
                crate::funds::QUALIFIED_COLUMNS,
                // One placeholder style per statement, as everywhere in this file.
                self.backend.placeholders(0, 1),
                self.backend.placeholders(1, chunk.len()),
                // The batch decides on the rows' reported balances: PostgreSQL locks them, in account order
                // (SQLite has one writer at a time).
                self.backend.row_lock_suffix()
            );
            let mut q = sqlx::query_as(AssertSqlSafe(sql)).bind(bank_id.to_owned());
            for no in chunk {
                q = q.bind(no.clone());
            }
            out.extend(q.fetch_all(&mut *self.tx).await?);
        }
        Ok(out)
    }

    /// The movements already recorded under these (account id, bank reference) pairs: one seek of the unique index per pair (checked with EXPLAIN on
    /// both backends).
    pub async fn movements_by_ref(
        &mut self,
        pairs: &[(String, String)],
    ) -> Result<Vec<MovementRow>, StoreError> {
        let mut out = Vec::new();
        for chunk in pairs.chunks(200) {
            // An OR of pairs, not `(a, b) IN (VALUES …)`: SQLite plans the latter as a scan of the table.
            let pairs_sql: Vec<String> = (0..chunk.len())
                .map(|i| {
                    let p = self.backend.placeholders(2 * i, 2);
                    let (account, bank_ref) = p.split_once(", ").unwrap_or((&p, &p));
                    format!("(supervised_account_id = {account} AND bank_ref = {bank_ref})")
                })
                .collect();
            let sql = format!(
                "SELECT {MOVEMENT_COLUMNS} FROM bank_movements WHERE {}",
                pairs_sql.join(" OR ")
            );
            let mut q = sqlx::query_as(AssertSqlSafe(sql));
            for (account, bank_ref) in chunk {
                q = q.bind(account.clone()).bind(bank_ref.clone());
            }
            out.extend(q.fetch_all(&mut *self.tx).await?);
        }
        Ok(out)
    }

    /// What the bank must hold on each of these accounts now: the order escrow owed on it, less what its
    /// instructions in flight (pending or acknowledged) may already have paid out — the bank may have executed
    /// them and not said so yet, and a balance that low is no shortfall. One statement, so both sums are read
    /// from one snapshot (two, at READ COMMITTED, could count an instruction executed in between in neither).
    pub async fn must_hold_by_account(
        &mut self,
        account_ids: &[String],
    ) -> Result<Vec<(String, i64)>, StoreError> {
        let mut out = Vec::new();
        let in_flight = crate::instructions::in_flight();
        for chunk in account_ids.chunks(500) {
            let sql = format!(
                "SELECT a.id, CAST(COALESCE((SELECT SUM(e.credits_posted - e.debits_posted) FROM ledger_accounts e \
                 WHERE e.kind = 'order_escrow' AND e.owner = a.id), 0) - COALESCE((SELECT SUM(i.amount_fen) \
                 FROM bank_instructions i WHERE i.status IN ({in_flight}) \
                 AND i.supervised_account_id = a.id), 0) AS BIGINT) FROM supervised_accounts a WHERE a.id IN ({})",
                self.backend.placeholders(0, chunk.len())
            );
            let mut q = sqlx::query_as(AssertSqlSafe(sql));
            for id in chunk {
                q = q.bind(id.clone());
            }
            out.extend(q.fetch_all(&mut *self.tx).await?);
        }
        Ok(out)
    }

    pub async fn insert_movements(&mut self, rows: &[MovementRow]) -> Result<(), StoreError> {
        self.insert(rows).await
    }

    /// Keeps each account's latest reported balance and time, and moves "reconciled at" to `now` for those
    /// whose latest report fitted: one statement for many accounts. Rows: (id, balance, reported at,
    /// reconciled).
    pub async fn report_balances(
        &mut self,
        rows: &[(String, i64, i64, bool)],
        now: i64,
    ) -> Result<(), StoreError> {
        for chunk in rows.chunks(300) {
            let n = chunk.len();
            let reconciled: Vec<&String> = chunk.iter().filter(|r| r.3).map(|r| &r.0).collect();
            let r = reconciled.len();
            let reconciled_set = if r == 0 {
                String::new()
            } else {
                format!(
                    ", reconciled_at = CASE id {} ELSE reconciled_at END",
                    self.backend.when_then(4 * n, r)
                )
            };
            let sql = format!(
                "UPDATE supervised_accounts SET reported_balance_fen = CASE id {} END, \
                 reported_at = CASE id {} END{reconciled_set} WHERE id IN ({})",
                self.backend.when_then(0, n),
                self.backend.when_then(2 * n, n),
                self.backend.placeholders(4 * n + 2 * r, n)
            );
            let mut q = sqlx::query(AssertSqlSafe(sql));
            for (id, balance, _, _) in chunk {
                q = q.bind(id.clone()).bind(*balance);
            }
            for (id, _, at, _) in chunk {
                q = q.bind(id.clone()).bind(*at);
            }
            for id in &reconciled {
                q = q.bind((*id).clone()).bind(now);
            }
            for (id, _, _, _) in chunk {
                q = q.bind(id.clone());
            }
            q.execute(&mut *self.tx).await?;
        }
        Ok(())
    }
}
