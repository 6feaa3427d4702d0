//! 重点监测 the Ministry's monitoring focus per institution, for the regulators over its region: order
//! details, supervised-fund movements, financial statements (filed by the institution), staff materials and
//! business-registration changes (the approved change filings). Each view is one typed table that the web
//! layer shows as a page and exports as CSV or XLSX; every export is written to the audit log, since the
//! tables hold business and personal data.

use crate::error::field_label;
use crate::supervision::Supervision;
use crate::{Actor, AppError, ErrorCode, evidence};
use domain::Action;
use domain::access::Permission;
use domain::{Fen, FilingStatus, OrderStatus, Timestamp};
use serde::{Deserialize, Serialize};
use serde_json::json;
use store::FinancialStatementRow;

/// Rows per view and export at most (the newest); a regulator needing more narrows by institution anyway.
pub const ROW_LIMIT: i64 = 10_000;

/// The five focus items, in the order the Ministry's text names them.
pub const FOCUS: &[(&str, &str)] = &[
    ("statements", "财务报表"),
    ("staff", "人员材料"),
    ("orders", "订单明细"),
    ("movements", "监管资金动账"),
    ("changes", "工商信息变更"),
];

/// What a column holds: exports keep amounts as amounts and counts as numbers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ColumnKind {
    Text,
    /// Money in fen; shown and exported in yuan.
    Fen,
    Count,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Column {
    pub label: &'static str,
    pub kind: ColumnKind,
}

/// One cell: text, or an integer (fen for `Fen` columns).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum Cell {
    Text(String),
    Number(i64),
}

impl Cell {
    /// As a page or a CSV shows it: fen as yuan with two decimals, no currency sign.
    pub fn display(&self, kind: ColumnKind) -> String {
        match (self, kind) {
            (Cell::Number(fen), ColumnKind::Fen) => Fen::new(*fen).to_string(),
            (Cell::Number(n), _) => n.to_string(),
            (Cell::Text(t), _) => t.clone(),
        }
    }
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct MonitoringTable {
    pub institution_id: String,
    pub institution_name: String,
    pub focus: &'static str,
    pub title: &'static str,
    pub columns: Vec<Column>,
    pub rows: Vec<Vec<Cell>>,
    /// The view stopped at [`ROW_LIMIT`] rows (the newest).
    pub truncated: bool,
}

/// `POST /api/v1/institution/financial-statements`: the figures (fen) of the document sent as the body.
#[derive(Clone, Debug, Default, Deserialize, utoipa::ToSchema, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct NewFinancialStatement {
    /// `2026` (a year), `2026-Q3` (a quarter) or `2026-09` (a month).
    pub period: String,
    pub revenue_fen: i64,
    pub expenses_fen: i64,
    pub net_assets_fen: i64,
    /// 预收学费 prepaid fees received and not yet earned.
    pub prepaid_fen: i64,
    pub filename: String,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct FinancialStatementView {
    pub id: String,
    pub period: String,
    pub revenue_fen: i64,
    pub expenses_fen: i64,
    pub net_assets_fen: i64,
    pub prepaid_fen: i64,
    pub document_id: String,
    pub filed_at: String,
}

fn statement_view(r: &FinancialStatementRow) -> FinancialStatementView {
    FinancialStatementView {
        id: r.id.clone(),
        period: r.period.clone(),
        revenue_fen: r.revenue_fen,
        expenses_fen: r.expenses_fen,
        net_assets_fen: r.net_assets_fen,
        prepaid_fen: r.prepaid_fen,
        document_id: r.document_id.clone(),
        filed_at: Timestamp::from_millis(r.filed_at).china_display(),
    }
}

/// `2026`, `2026-Q1`…`Q4` or `2026-01`…`12`, between 2000 and 2100.
fn valid_period(period: &str) -> bool {
    // `get`, not `split_at`: a full-width digit is more than one byte and must not panic.
    let (Some(year), Some(rest)) = (period.get(..4), period.get(4..)) else {
        return false;
    };
    let year_ok = year.chars().all(|c| c.is_ascii_digit())
        && (2000..=2100).contains(&year.parse::<i32>().unwrap_or(0));
    year_ok
        && match rest {
            "" => true,
            "-Q1" | "-Q2" | "-Q3" | "-Q4" => true,
            _ => rest
                .strip_prefix('-')
                .filter(|m| m.len() == 2)
                .and_then(|m| m.parse::<u32>().ok())
                .is_some_and(|m| (1..=12).contains(&m)),
        }
}

fn text(s: impl Into<String>) -> Cell {
    Cell::Text(s.into())
}

fn when(ms: Option<i64>) -> Cell {
    text(ms.map_or_else(String::new, |m| Timestamp::from_millis(m).china_display()))
}

fn columns(spec: &[(&'static str, ColumnKind)]) -> Vec<Column> {
    spec.iter()
        .map(|&(label, kind)| Column { label, kind })
        .collect()
}

fn order_status(status: OrderStatus, closed: bool, frozen: bool) -> &'static str {
    match status {
        _ if frozen => "已冻结",
        OrderStatus::Paid if closed => "已结清",
        OrderStatus::Paid => "资金监管中",
        other => other.label_zh(),
    }
}

/// The fields whose values differ between two filings' JSON, by their Chinese labels.
fn changed_fields(before: &serde_json::Value, after: &serde_json::Value) -> Vec<String> {
    let (Some(before), Some(after)) = (before.as_object(), after.as_object()) else {
        return Vec::new();
    };
    let mut changed = Vec::new();
    for (section, fields) in after {
        let Some(fields) = fields.as_object() else {
            continue;
        };
        for (field, value) in fields {
            if before.get(section).and_then(|s| s.get(field)) != Some(value) {
                let path = format!("{section}.{field}");
                changed
                    .push(domain::filing::field_label(&path).map_or(path.clone(), str::to_owned));
            }
        }
    }
    changed
}

impl<'a> Supervision<'a> {
    /// One focus item of an institution for a regulator over its region.
    pub async fn monitoring_table(
        self,
        actor: &Actor,
        institution_id: &str,
        focus: &str,
    ) -> Result<MonitoringTable, AppError> {
        let (focus, title) = FOCUS
            .iter()
            .find(|(f, _)| *f == focus.trim())
            .copied()
            .ok_or_else(|| {
                AppError::new(
                    ErrorCode::InvalidParameter,
                    "检查重点：须为对账单、人员、订单、资金流水或变更",
                    "focus: statements, staff, orders, movements or changes",
                )
                .on("focus")
            })?;
        let institution = self
            .institution_for_regulator(actor, institution_id, Permission::ViewInstitutionPrivate)
            .await?;
        let id = institution.id.clone();
        let read = self.store.read();
        use ColumnKind::{Count, Fen as Money, Text};
        let (columns, rows): (Vec<Column>, Vec<Vec<Cell>>) = match focus {
            "orders" => (
                columns(&[
                    ("订单号", Text),
                    ("课程", Text),
                    ("课时数", Count),
                    ("订单金额（元）", Money),
                    ("状态", Text),
                    ("下单时间", Text),
                    ("付款时间", Text),
                    ("托管余额（元）", Money),
                    ("已划出（元）", Money),
                ]),
                read.monitoring()
                    .order_details(&id, ROW_LIMIT + 1)
                    .await?
                    .into_iter()
                    .map(|o| {
                        vec![
                            text(o.order_no),
                            text(o.course_name),
                            Cell::Number(o.lessons),
                            Cell::Number(o.amount_fen),
                            text(order_status(
                                o.status,
                                o.closed_at.is_some(),
                                o.frozen_at.is_some(),
                            )),
                            when(Some(o.created_at)),
                            when(o.paid_at),
                            Cell::Number(o.escrow_fen),
                            Cell::Number(o.moved_out_fen),
                        ]
                    })
                    .collect(),
            ),
            "movements" => (
                columns(&[
                    ("监管账户", Text),
                    ("银行", Text),
                    ("银行流水号", Text),
                    ("方向", Text),
                    ("金额（元）", Money),
                    ("动账后余额（元）", Money),
                    ("发生时间", Text),
                    ("匹配", Text),
                    ("平台指令", Text),
                ]),
                read.monitoring()
                    .movement_details(&id, ROW_LIMIT + 1)
                    .await?
                    .into_iter()
                    .map(|m| {
                        vec![
                            text(m.account_no),
                            text(m.bank_id),
                            text(m.bank_ref),
                            text(if m.direction == "in" {
                                "入账"
                            } else {
                                "出账"
                            }),
                            Cell::Number(m.amount_fen),
                            Cell::Number(m.balance_after_fen),
                            when(Some(m.occurred_at)),
                            text(match m.matched.as_str() {
                                "inflow" => "入账",
                                "matched" => "已匹配指令",
                                _ => "未匹配（非平台指令）",
                            }),
                            text(m.instruction_id.unwrap_or_default()),
                        ]
                    })
                    .collect(),
            ),
            "statements" => (
                columns(&[
                    ("期间", Text),
                    ("营业收入（元）", Money),
                    ("营业支出（元）", Money),
                    ("净资产（元）", Money),
                    ("预收学费（元）", Money),
                    ("报表文件", Text),
                    ("报送时间", Text),
                ]),
                read.monitoring()
                    .financial_statements(&id)
                    .await?
                    .into_iter()
                    .map(|r| {
                        vec![
                            text(r.period),
                            Cell::Number(r.revenue_fen),
                            Cell::Number(r.expenses_fen),
                            Cell::Number(r.net_assets_fen),
                            Cell::Number(r.prepaid_fen),
                            text(r.document_id),
                            when(Some(r.filed_at)),
                        ]
                    })
                    .collect(),
            ),
            "staff" => {
                let mut rows = Vec::new();
                for r in read.staff().staff_of(&id).await? {
                    let v = self.registry().staff_view(&r)?;
                    rows.push(vec![
                        text(v.name_masked),
                        text(v.id_card_masked),
                        text(match v.role.as_str() {
                            "teaching" => "教学",
                            "research" => "教研",
                            _ => "其他",
                        }),
                        text(if v.subject_teacher { "是" } else { "否" }),
                        text(v.teacher_cert_no.unwrap_or_default()),
                        text(if v.record_check_confirmed {
                            "已核验"
                        } else {
                            "待核验"
                        }),
                        text(v.hired_on),
                        text(v.left_on.unwrap_or_default()),
                    ]);
                }
                (
                    columns(&[
                        ("姓名", Text),
                        ("身份证号", Text),
                        ("岗位", Text),
                        ("学科类教师", Text),
                        ("教师资格证", Text),
                        ("入职查询", Text),
                        ("入职日期", Text),
                        ("离职日期", Text),
                    ]),
                    rows,
                )
            }
            _ => {
                // Each approved or pending filing against the approved one before it.
                let mut filings = read.filings().filings_of(&id).await?;
                filings.sort_by_key(|f| f.version);
                let mut rows = Vec::new();
                let mut approved = serde_json::Value::Null;
                for f in filings.iter().filter(|f| f.status != FilingStatus::Draft) {
                    let data: serde_json::Value = serde_json::from_str(&f.data).unwrap_or_default();
                    let what = if f.kind == "onboarding" && approved.is_null() {
                        "首次报备".to_owned()
                    } else {
                        changed_fields(&approved, &data).join("、")
                    };
                    rows.push(vec![
                        Cell::Number(f.version),
                        text(if f.kind == "onboarding" {
                            "报备"
                        } else {
                            "变更"
                        }),
                        text(f.status.label_zh()),
                        text(what),
                        when(f.submitted_at),
                        when(f.decided_at),
                    ]);
                    if f.status == FilingStatus::Approved {
                        approved = data;
                    }
                }
                rows.reverse();
                (
                    columns(&[
                        ("版本", Count),
                        ("类型", Text),
                        ("状态", Text),
                        ("变更事项", Text),
                        ("提交时间", Text),
                        ("审核时间", Text),
                    ]),
                    rows,
                )
            }
        };
        let truncated = rows.len() as i64 > ROW_LIMIT;
        let rows = rows.into_iter().take(ROW_LIMIT as usize).collect();
        Ok(MonitoringTable {
            institution_id: id,
            institution_name: institution.name,
            focus,
            title,
            columns,
            rows,
            truncated,
        })
    }

    /// The same table for export; the export (who, which institution, what, how many rows) is audited.
    pub async fn monitoring_export(
        self,
        actor: &Actor,
        institution_id: &str,
        focus: &str,
        format: &str,
    ) -> Result<MonitoringTable, AppError> {
        if !matches!(format, "csv" | "xlsx") {
            return Err(AppError::new(
                ErrorCode::InvalidParameter,
                "格式：须为 CSV 或 XLSX",
                "format: csv or xlsx",
            )
            .on("format"));
        }
        let table = self.monitoring_table(actor, institution_id, focus).await?;
        let now = self.clock.now().millis();
        let mut tx = self.store.begin_write().await?;
        tx.append_audit(vec![evidence::record(
            &actor.audit_name(),
            now,
            Action::MonitoringExported,
            format!("institution:{}", table.institution_id),
            json!({"focus": table.focus, "format": format, "rows": table.rows.len()}),
        )])
        .await?;
        tx.commit().await?;
        Ok(table)
    }

    /// 财务报表 the admin files the institution's statements for a period with the document they summarise
    /// (PDF, JPEG or PNG by content): the document and the figures are kept together or not at all.
    pub async fn file_financial_statement(
        self,
        actor: &Actor,
        statement: &NewFinancialStatement,
        bytes: &[u8],
    ) -> Result<FinancialStatementView, AppError> {
        let institution_id = self.registry().admins_institution(actor).await?;
        let period = statement.period.trim();
        if !valid_period(period) {
            return Err(AppError::new(
                ErrorCode::InvalidParameter,
                "统计期间：格式应为 2026、2026-Q3 或 2026-09",
                "period: 2026, 2026-Q3 or 2026-09",
            )
            .on("period"));
        }
        for (field, value) in [
            ("revenue_fen", statement.revenue_fen),
            ("expenses_fen", statement.expenses_fen),
            ("prepaid_fen", statement.prepaid_fen),
            ("net_assets_fen", statement.net_assets_fen),
        ] {
            domain::money::STATEMENT_FIGURE.check(field, value)?;
        }
        for (field, value) in [
            ("revenue_fen", statement.revenue_fen),
            ("expenses_fen", statement.expenses_fen),
            ("prepaid_fen", statement.prepaid_fen),
        ] {
            if value < 0 {
                return Err(AppError::new(
                    ErrorCode::InvalidParameter,
                    format!("{}：不能为负数", field_label(field)),
                    format!("{field}: not negative"),
                )
                .on(field));
            }
        }
        let now = self.clock.now().millis();
        let row_id = uuid::Uuid::now_v7().to_string();
        let (document, path) = self
            .registry()
            .put_document(
                actor,
                &institution_id,
                "financial_statement",
                &statement.filename,
                bytes,
            )
            .await?;
        let row = FinancialStatementRow {
            id: row_id,
            institution_id: institution_id.clone(),
            period: period.to_owned(),
            revenue_fen: statement.revenue_fen,
            expenses_fen: statement.expenses_fen,
            net_assets_fen: statement.net_assets_fen,
            prepaid_fen: statement.prepaid_fen,
            document_id: document.id.clone(),
            filed_by: actor.audit_name(),
            filed_at: now,
        };
        let recorded = async {
            let mut tx = self.store.begin_write().await?;
            tx.filings().insert_document(&document).await?;
            tx.monitoring().insert_financial_statement(&row).await?;
            tx.append_audit(vec![evidence::record(
                &actor.audit_name(),
                now,
                Action::FinancialStatementFiled,
                format!("institution:{institution_id}"),
                json!({"statement": row.id, "period": row.period, "revenue_fen": row.revenue_fen,
                       "expenses_fen": row.expenses_fen, "net_assets_fen": row.net_assets_fen,
                       "prepaid_fen": row.prepaid_fen, "document": document.id,
                       "digest": document.digest}),
            )])
            .await?;
            tx.commit().await.map_err(AppError::from)
        }
        .await;
        if let Err(e) = recorded {
            self.registry().forget_document(&path).await;
            return Err(e);
        }
        Ok(statement_view(&row))
    }

    /// The admin's filed statements, newest first.
    pub async fn my_financial_statements(
        self,
        actor: &Actor,
    ) -> Result<Vec<FinancialStatementView>, AppError> {
        let institution_id = self.registry().admins_institution(actor).await?;
        Ok(self
            .store
            .read()
            .monitoring()
            .financial_statements(&institution_id)
            .await?
            .iter()
            .map(statement_view)
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_are_a_year_a_quarter_or_a_month() {
        for ok in ["2026", "2026-Q3", "2026-09", "2026-12"] {
            assert!(valid_period(ok), "{ok}");
        }
        for bad in [
            "",
            "26",
            "2026-Q5",
            "2026-13",
            "2026-9",
            "1999",
            "2026-",
            "２０２６",
        ] {
            assert!(!valid_period(bad), "{bad}");
        }
    }

    #[test]
    fn a_change_lists_the_fields_it_changed_by_their_labels() {
        let before =
            json!({"basic": {"name": "甲", "legal_person": "张三"}, "other": {"notes": ""}});
        let after =
            json!({"basic": {"name": "乙", "legal_person": "张三"}, "other": {"notes": "x"}});
        assert_eq!(changed_fields(&before, &after), ["机构名称", "其他信息"]);
        assert!(changed_fields(&after, &after).is_empty());
    }
}
