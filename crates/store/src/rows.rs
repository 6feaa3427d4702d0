//! Rows as stored. The application turns them into domain values and views.

/// 行政区划 row.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct RegionRow {
    pub code: String,
    pub name: String,
    /// What selectors show (placeholders like 市辖区 read as their municipality).
    pub display_name: String,
    /// 1 province, 2 prefecture, 3 county.
    pub level: i64,
    pub parent_code: Option<String>,
    /// 1 for 市辖区-style placeholder prefectures.
    pub placeholder: i64,
}

/// 培训机构 row; also what a command inserts.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct InstitutionRow {
    pub id: String,
    pub name: String,
    pub credit_code: String,
    pub licence_no: Option<String>,
    pub region_code: String,
    pub address: String,
    pub mode: String,
    /// Category codes joined by commas, e.g. `subject,arts`.
    pub categories: String,
    pub intro: String,

    #[sqlx(try_from = "String")]
    pub list_status: domain::ListStatus,
    pub list_reason: String,
    pub list_changed_at: i64,
    pub created_at: i64,
    pub updated_at: i64,
    #[sqlx(try_from = "String")]
    pub registry_state: domain::RegistryState,
}

/// 课程 row.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct CourseRow {
    pub id: String,
    pub institution_id: String,
    pub name: String,
    pub category: String,
    pub mode: String,
    pub grades: String,
    pub lessons: i64,
    pub minutes_per_lesson: i64,
    pub class_size: i64,
    pub price_per_lesson_fen: i64,
    pub created_at: i64,
    /// The teaching span, `YYYY-MM-DD` (absent for courses recorded before spans were kept).
    pub first_lesson: Option<String>,
    pub last_lesson: Option<String>,
    /// 优惠价 what a purchase of the whole course pays, below the list price (absent: the list price).
    pub preferential_total_fen: Option<i64>,
}

/// 名单变更 row.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct ListChangeRow {
    pub id: String,
    pub institution_id: String,
    pub from_status: Option<String>,
    pub to_status: String,
    pub reason: String,
    pub actor: String,
    pub at: i64,
}

/// 公示 row.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct NoticeRow {
    pub id: String,
    pub kind: String,
    pub institution_id: Option<String>,
    pub region_code: String,
    pub title: String,
    pub body: String,
    pub published_at: i64,
    /// The end of the publication period (公示期), if it has one.
    pub until_at: Option<i64>,
}

/// A list-page row: the institution with its region's display name.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct ListedInstitutionRow {
    pub id: String,
    pub name: String,
    pub region_code: String,
    pub region_name: String,

    #[sqlx(try_from = "String")]
    pub list_status: domain::ListStatus,
    pub list_reason: String,
    pub list_changed_at: i64,
}

/// Headline figures for the public home page.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RegistryCounts {
    pub white_institutions: i64,
    pub grey_institutions: i64,
    pub black_institutions: i64,
    /// Courses of white-listed institutions: what a family can buy.
    pub courses_on_sale: i64,
    /// Distinct county-level regions with at least one white-listed institution.
    pub counties_covered: i64,
    pub provinces_covered: i64,
}

/// One page of rows and the total across all pages.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PageRows<T> {
    pub rows: Vec<T>,
    pub total: i64,
}
