//! What queries return: plain serializable values shared by the JSON API and the page templates.

use domain::{Category, Fen, ListStatus, TeachingMode, Timestamp};
use serde::Serialize;
use store::CourseRow;

/// A page of items with its position in the whole result.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub total: u64,
    pub page: u32,
    pub per_page: u32,
}

impl<T> Page<T> {
    /// Pages that can be opened: all of them, up to the deepest page [`domain::Paging`] allows.
    pub fn page_count(&self) -> u64 {
        let per_page = u64::from(self.per_page.max(1));
        let reachable = domain::Paging::MAX_OFFSET / per_page + 1;
        self.total.div_ceil(per_page).clamp(1, reachable)
    }
}

#[cfg(test)]
mod tests {
    use super::Page;

    #[test]
    fn page_count_stops_where_paging_stops() {
        let page = |total| Page::<()> {
            items: vec![],
            total,
            page: 1,
            per_page: 20,
        };
        assert_eq!(page(0).page_count(), 1);
        assert_eq!(page(41).page_count(), 3);
        assert_eq!(page(400_000).page_count(), 501);
        assert!(domain::Paging::new(Some(501), Some(20)).is_ok());
        assert!(domain::Paging::new(Some(502), Some(20)).is_err());
    }
}

/// A label pair: stable code and Chinese text.
#[derive(Clone, Debug, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct Labelled {
    pub code: &'static str,
    pub label: &'static str,
}

impl From<Category> for Labelled {
    fn from(c: Category) -> Self {
        Labelled {
            code: c.as_str(),
            label: c.label_zh(),
        }
    }
}
impl From<ListStatus> for Labelled {
    fn from(s: ListStatus) -> Self {
        Labelled {
            code: s.as_str(),
            label: s.label_zh(),
        }
    }
}
impl From<TeachingMode> for Labelled {
    fn from(m: TeachingMode) -> Self {
        Labelled {
            code: m.as_str(),
            label: m.label_zh(),
        }
    }
}

/// An institution in a search result or list.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct InstitutionSummary {
    pub id: String,
    pub name: String,
    pub region_code: String,
    /// "浙江省 杭州市 西湖区"
    pub region_name: String,
    pub list_status: ListStatus,
    pub list_status_label: &'static str,
    pub mode: Labelled,
    pub categories: Vec<Labelled>,
    pub licence_no: Option<String>,
}

/// A course as the public sees it.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct CourseView {
    pub id: String,
    pub name: String,
    pub category: Labelled,
    pub mode: Labelled,
    pub grades: String,
    pub lessons: i64,
    pub minutes_per_lesson: i64,
    pub class_size: i64,
    pub price_per_lesson_fen: i64,
    /// Yuan with two decimals, for display.
    pub price_per_lesson_yuan: String,
    pub total_price_fen: i64,
    pub total_price_yuan: String,
    /// 优惠价 what a purchase pays when the course is sold below its list price.
    pub preferential_total_fen: Option<i64>,
    pub preferential_total_yuan: Option<String>,
}

impl CourseView {
    pub fn from_row(r: CourseRow) -> Result<CourseView, domain::DomainError> {
        let price = Fen::new(r.price_per_lesson_fen);
        let total = price
            .checked_mul(r.lessons)
            .ok_or(domain::DomainError::MoneyOverflow)?;
        Ok(CourseView {
            category: Category::parse(&r.category)?.into(),
            mode: TeachingMode::parse(&r.mode)?.into(),
            id: r.id,
            name: r.name,
            grades: r.grades,
            lessons: r.lessons,
            minutes_per_lesson: r.minutes_per_lesson,
            class_size: r.class_size,
            price_per_lesson_fen: price.get(),
            price_per_lesson_yuan: price.to_string(),
            total_price_fen: total.get(),
            total_price_yuan: total.to_string(),
            preferential_total_yuan: r.preferential_total_fen.map(|p| Fen::new(p).to_string()),
            preferential_total_fen: r.preferential_total_fen,
        })
    }
}

/// A move between lists.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct ListChangeView {
    pub from_status: Option<&'static str>,
    pub to_status: &'static str,
    pub to_status_label: &'static str,
    pub reason: String,
    #[schema(value_type = i64)]
    pub at: Timestamp,
    pub at_display: String,
}

/// The public detail page of an institution.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct InstitutionDetail {
    #[serde(flatten)]
    pub summary: InstitutionSummary,
    /// Absent for an unlicensed institution recorded in the field without one.
    pub credit_code: Option<String>,
    pub address: String,
    pub intro: String,
    pub list_reason: String,
    #[schema(value_type = i64)]
    pub list_changed_at: Timestamp,
    pub list_changed_at_display: String,
    pub courses: Vec<CourseView>,
    pub list_history: Vec<ListChangeView>,
    /// A penalty decision stopping enrolment (its courses are then not shown and orders are refused).
    pub sales_stopped: Option<crate::penalties::PenaltyView>,
    /// Published penalty decisions (行政处罚信息公示), newest first.
    pub penalties: Vec<crate::penalties::PenaltyView>,
    /// The newest published credit rating.
    pub credit: Option<crate::credit::PublishedCredit>,
}

/// A row of the white/grey/black list pages.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct ListedInstitution {
    pub id: String,
    pub name: String,
    pub region_code: String,
    pub region_name: String,
    pub list_status: ListStatus,
    pub reason: String,
    #[schema(value_type = i64)]
    pub since: Timestamp,
    pub since_display: String,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct NoticeView {
    pub id: String,
    /// `announcement`, `black_list`, `public_warning` or `removal`.
    pub kind: String,
    pub kind_label: &'static str,
    pub institution_id: Option<String>,
    pub region_name: String,
    pub title: String,
    pub body: String,
    #[schema(value_type = i64)]
    pub published_at: Timestamp,
    pub published_at_display: String,
    /// The end of the publication period (公示期), if it has one.
    pub until_display: Option<String>,
}

pub fn notice_kind_label(kind: &str) -> &'static str {
    match kind {
        "black_list" => "黑名单公示",
        "public_warning" => "公开提示",
        "removal" => "撤除公告",
        _ => "公告",
    }
}

/// Headline figures of the home page.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct HomeStats {
    pub white_institutions: i64,
    pub grey_institutions: i64,
    pub black_institutions: i64,
    pub courses_on_sale: i64,
    pub counties_covered: i64,
    pub provinces_covered: i64,
}
