use super::money_flow::shop;
use super::region_policy::supervisor;
use app::ErrorCode;
use app::monitoring::{Cell, NewFinancialStatement};
use domain::access::StaffRole;

const PDF: &[u8] = b"%PDF-1.4\n%statement\n";

/// An 18-digit resident ID with a valid check character.
fn id_card(seq: u32) -> String {
    domain::person::IdCardNumber::with_check_character(&format!("11010819900101{seq:03}")).unwrap()
}

fn statement(period: &str, revenue_fen: i64) -> NewFinancialStatement {
    NewFinancialStatement {
        period: period.into(),
        revenue_fen,
        expenses_fen: 800_000,
        net_assets_fen: -50_000,
        prepaid_fen: 300_000,
        filename: "2026年三季度报表.pdf".into(),
    }
}

#[tokio::test]
async fn the_five_focus_items_show_the_institutions_records_and_exports_are_audited() {
    let s = shop().await;
    let (order, paid) = s.paid_and_deposited().await;
    let admin = s.staff(StaffRole::Admin).await;
    s.t.app
        .supervision()
        .file_financial_statement(&admin, &statement("2026-Q3", 1_234_567), PDF)
        .await
        .unwrap();
    let regulator = s.competent_supervisor().await;
    let id = s.institution_id.clone();
    let table = |focus: &'static str| {
        let (app, regulator, id) = (s.t.app.clone(), regulator.clone(), id.clone());
        async move {
            app.supervision()
                .monitoring_table(&regulator, &id, focus)
                .await
                .unwrap()
        }
    };

    let orders = table("orders").await;
    let row = orders
        .rows
        .iter()
        .find(|r| r[0] == Cell::Text(order.line.order_no.clone()))
        .expect("the paid order is listed");
    assert_eq!(row[3], Cell::Number(paid));
    assert_eq!(row[7], Cell::Number(paid), "all of it still in escrow");
    let movements = table("movements").await;
    assert!(
        movements
            .rows
            .iter()
            .any(|r| r[3] == Cell::Text("入账".into()) && r[4] == Cell::Number(paid))
    );
    let statements = table("statements").await;
    assert_eq!(statements.rows.len(), 1);
    assert_eq!(statements.rows[0][0], Cell::Text("2026-Q3".into()));
    assert_eq!(statements.rows[0][1], Cell::Number(1_234_567));
    assert_eq!(
        statements.rows[0][1].display(statements.columns[1].kind),
        "12345.67"
    );
    assert_eq!(
        statements.rows[0][3].display(statements.columns[3].kind),
        "-500.00"
    );
    let staff = table("staff").await;
    assert_eq!(staff.columns.len(), 8);
    let changes = table("changes").await;
    assert_eq!(changes.columns[3].label, "变更事项");

    // Outside the region, an unknown focus, an unknown format: refused.
    assert_eq!(
        s.t.app
            .supervision()
            .monitoring_table(&supervisor("440000"), &id, "orders")
            .await
            .unwrap_err()
            .code,
        ErrorCode::Forbidden
    );
    assert_eq!(
        s.t.app
            .supervision()
            .monitoring_table(&regulator, &id, "gossip")
            .await
            .unwrap_err()
            .code,
        ErrorCode::InvalidParameter
    );
    assert_eq!(
        s.t.app
            .supervision()
            .monitoring_export(&regulator, &id, "orders", "pdf")
            .await
            .unwrap_err()
            .code,
        ErrorCode::InvalidParameter
    );
    let exported =
        s.t.app
            .supervision()
            .monitoring_export(&regulator, &id, "orders", "xlsx")
            .await
            .unwrap();
    assert_eq!(exported.rows.len(), orders.rows.len());
    let audited =
        s.t.app
            .store()
            .read()
            .audit_entries_about(&format!("institution:{id}"), 20)
            .await
            .unwrap()
            .into_iter()
            .find(|e| e.body.action == "monitoring.exported")
            .expect("the export is audited");
    let payload: serde_json::Value = serde_json::from_str(&audited.body.payload).unwrap();
    assert_eq!(payload["focus"], "orders");
    assert_eq!(payload["rows"], orders.rows.len());
}

#[tokio::test]
async fn a_statement_with_a_bad_period_figure_or_file_is_refused_and_keeps_nothing() {
    let s = shop().await;
    let admin = s.staff(StaffRole::Admin).await;
    let documents = || async {
        s.t.app
            .store()
            .read()
            .filings()
            .documents_of(&s.institution_id)
            .await
            .unwrap()
            .len()
    };
    let before = documents().await;
    for (bad, bytes) in [
        (statement("2026-Q5", 1), PDF),
        (statement("2026", -1), PDF),
        (statement("2026", 1), &b"MZ\x90\x00 not a statement"[..]),
    ] {
        let code =
            s.t.app
                .supervision()
                .file_financial_statement(&admin, &bad, bytes)
                .await
                .unwrap_err()
                .code;
        assert!(
            matches!(
                code,
                ErrorCode::InvalidParameter | ErrorCode::DocumentRejected
            ),
            "{code:?}"
        );
    }
    assert_eq!(documents().await, before);
    assert!(
        s.t.app
            .supervision()
            .my_financial_statements(&admin)
            .await
            .unwrap()
            .is_empty()
    );
    // A parent may not file; a restatement of the same period is kept beside the first.
    assert_eq!(
        s.t.app
            .supervision()
            .file_financial_statement(&s.parent_actor(), &statement("2026", 1), PDF)
            .await
            .unwrap_err()
            .code,
        ErrorCode::Forbidden
    );
    s.t.app
        .supervision()
        .file_financial_statement(&admin, &statement("2026", 1), PDF)
        .await
        .unwrap();
    s.t.app
        .supervision()
        .file_financial_statement(&admin, &statement("2026", 2), PDF)
        .await
        .unwrap();
    let filed =
        s.t.app
            .supervision()
            .my_financial_statements(&admin)
            .await
            .unwrap();
    assert_eq!(
        filed.iter().map(|f| f.revenue_fen).collect::<Vec<_>>(),
        [2, 1],
        "newest first"
    );
}

#[tokio::test]
async fn staff_who_leave_are_kept_with_the_date_and_feed_the_staff_churn_indicator() {
    let s = shop().await;
    let admin = s.staff(StaffRole::Admin).await;
    let check =
        s.t.app
            .registry()
            .upload_document(&admin, "record_check", "check.pdf", PDF)
            .await
            .unwrap();
    let mut hired = Vec::new();
    for seq in 1..=5 {
        let hire = app::staff::Hire {
            name: "李老师".into(),
            id_card: id_card(seq),
            role: "teaching".into(),
            subject_teacher: false,
            teacher_cert_no: String::new(),
            serving_school_teacher: false,
            record_check_document: check.id.clone(),
        };
        hired.push(s.t.app.registry().hire_staff(&admin, &hire).await.unwrap());
    }
    let quiet = s.t.app.supervision().sweep_risks().await.unwrap();
    let churn = |s: &super::money_flow::Shop| {
        let (app, admin) = (s.t.app.clone(), admin.clone());
        async move {
            app.supervision()
                .warnings_for(&admin, 0)
                .await
                .unwrap()
                .into_iter()
                .find(|w| w.indicator == "staff_churn")
        }
    };
    assert!(
        churn(&s).await.is_none(),
        "nobody left yet ({quiet} raised)"
    );
    let left =
        s.t.app
            .registry()
            .staff_left(&admin, &hired[0].id)
            .await
            .unwrap();
    assert!(left.left_on.is_some());
    assert_eq!(
        s.t.app
            .registry()
            .staff_left(&admin, &hired[0].id)
            .await
            .unwrap_err()
            .code,
        ErrorCode::NotFound,
        "once"
    );
    s.t.app.supervision().sweep_risks().await.unwrap();
    assert!(
        churn(&s).await.is_none(),
        "1 of 5 (20%) is below the yellow 30%"
    );
    s.t.app
        .registry()
        .staff_left(&admin, &hired[1].id)
        .await
        .unwrap();
    s.t.app.supervision().sweep_risks().await.unwrap();
    let warning = churn(&s).await.expect("2 of 5 left: 40%");
    assert_eq!(warning.level, "yellow");
    let regulator = s.competent_supervisor().await;
    let staff =
        s.t.app
            .supervision()
            .monitoring_table(&regulator, &s.institution_id, "staff")
            .await
            .unwrap();
    let left_dates = staff
        .rows
        .iter()
        .filter(|r| r[7] != Cell::Text(String::new()))
        .count();
    assert_eq!(left_dates, 2);
}
