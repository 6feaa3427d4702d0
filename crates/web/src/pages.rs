//! The public website (官方网站): server-rendered Simplified Chinese pages, htmx for the region
//! selectors, and the same `app` calls as the API.

use crate::WebState;
use crate::error::PageError;
use crate::extract::PageQuery;
use app::regions::RegionView;
use app::registry::{RawSearch, parse_paging};
use app::views::{
    HomeStats, InstitutionDetail, InstitutionSummary, Labelled, ListedInstitution, NoticeView, Page,
};
use app::{AppError, ErrorCode};
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use axum::response::Response;
use domain::{Category, ListStatus, Paging};
use serde::Deserialize;

fn categories() -> Vec<Labelled> {
    Category::ALL.into_iter().map(Into::into).collect()
}

/// A form field holding a list ("arts, sports" or "arts，sports"), as its items.
pub(crate) fn list_field(text: &str) -> Vec<String> {
    text.split([',', '，', ' '])
        .filter(|c| !c.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Links to the previous and next page that keep the other parameters.
pub struct Pager {
    pub page: u32,
    pub page_count: u64,
    pub total: u64,
    pub prev: Option<String>,
    pub next: Option<String>,
}

impl Pager {
    pub(crate) fn new<T>(path: &str, page: &Page<T>, keep: &[(&str, &str)]) -> Pager {
        let link = |p: u32| {
            let mut q = form_urlencoded::Serializer::new(String::new());
            for (k, v) in keep.iter().filter(|(_, v)| !v.is_empty()) {
                q.append_pair(k, v);
            }
            q.append_pair("page", &p.to_string());
            format!("{path}?{}", q.finish())
        };
        let page_count = page.page_count();
        Pager {
            page: page.page,
            page_count,
            total: page.total,
            prev: (page.page > 1).then(|| link(page.page - 1)),
            next: (u64::from(page.page) < page_count).then(|| link(page.page + 1)),
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "home.html")]
pub(crate) struct HomePage {
    stats: HomeStats,
    notices: Vec<NoticeView>,
    provinces: Vec<RegionView>,
    categories: Vec<Labelled>,
}

pub(crate) async fn home(State(s): State<WebState>) -> Result<HomePage, PageError> {
    let stats = s.app.registry().home_stats().await?;
    let notices = s
        .app
        .registry()
        .notices(Paging::new(Some(1), Some(5)).map_err(AppError::from)?)
        .await?
        .items;
    Ok(HomePage {
        stats,
        notices,
        provinces: s.app.registry().region_children(None)?,
        categories: categories(),
    })
}

/// The search form: the API's parameters plus one selector per region level.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct SearchForm {
    #[serde(default)]
    q: String,
    #[serde(default)]
    province: String,
    #[serde(default)]
    prefecture: String,
    #[serde(default)]
    county: String,
    #[serde(default)]
    region: String,
    #[serde(default)]
    category: String,
    #[serde(default)]
    mode: String,
    #[serde(default)]
    list: String,
    page: Option<String>,
}

impl SearchForm {
    /// The most specific region chosen.
    fn region(&self) -> &str {
        [&self.county, &self.prefecture, &self.province, &self.region]
            .into_iter()
            .map(|s| s.trim())
            .find(|s| !s.is_empty())
            .unwrap_or("")
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "search.html")]
pub(crate) struct SearchPage {
    form: SearchForm,
    results: Page<InstitutionSummary>,
    pager: Pager,
    provinces: Vec<RegionView>,
    prefectures: Vec<RegionView>,
    counties: Vec<RegionView>,
    selected: Vec<String>,
    categories: Vec<Labelled>,
}

pub(crate) async fn search(
    State(s): State<WebState>,
    PageQuery(form): PageQuery<SearchForm>,
) -> Result<SearchPage, PageError> {
    let region = form.region().to_owned();
    let raw = RawSearch {
        q: Some(form.q.clone()),
        region: Some(region.clone()),
        category: Some(form.category.clone()),
        mode: Some(form.mode.clone()),
        list: Some(form.list.clone()),
        page: form.page.clone(),
        per_page: None,
    };
    let parsed = s.app.registry().parse_search(&raw)?;
    let results = s.app.registry().search_institutions(&parsed).await?;
    // The selectors show the chosen path, so the form works without JavaScript too.
    let lineage = parsed
        .region
        .map(|r| s.app.regions().lineage_views(&r))
        .unwrap_or_default();
    let selected: Vec<String> = lineage.iter().map(|r| r.code.clone()).collect();
    let children = |i: usize| {
        selected
            .get(i)
            .map(|c| s.app.registry().region_children(Some(c)))
            .transpose()
            .map(Option::unwrap_or_default)
    };
    let pager = Pager::new(
        "/institutions",
        &results,
        &[
            ("q", &form.q),
            ("region", &region),
            ("category", &form.category),
            ("mode", &form.mode),
            ("list", &form.list),
        ],
    );
    Ok(SearchPage {
        prefectures: children(0)?,
        counties: children(1)?,
        provinces: s.app.registry().region_children(None)?,
        selected,
        results,
        pager,
        form,
        categories: categories(),
    })
}

#[derive(Template, WebTemplate)]
#[template(path = "institution.html")]
pub(crate) struct InstitutionPage {
    d: InstitutionDetail,
    reviews: app::reviews::PublicReviews,
    complaints: app::complaints::ComplaintFigures,
}

pub(crate) async fn institution(
    State(s): State<WebState>,
    Path(id): Path<String>,
) -> Result<InstitutionPage, PageError> {
    let d = s.app.registry().institution_detail(&id).await?;
    Ok(InstitutionPage {
        reviews: s.app.service().public_reviews(&d.summary.id).await?,
        complaints: s.app.service().complaint_figures(&d.summary.id).await?,
        d,
    })
}

#[derive(Debug, Deserialize)]
pub(crate) struct PageParam {
    page: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "list.html")]
pub(crate) struct ListPage {
    status: &'static str,
    title: &'static str,
    explanation: &'static str,
    items: Vec<ListedInstitution>,
    pager: Pager,
}

pub(crate) async fn list(
    State(s): State<WebState>,
    Path(status): Path<String>,
    PageQuery(q): PageQuery<PageParam>,
) -> Result<ListPage, PageError> {
    let status = ListStatus::parse(&status).map_err(|_| {
        AppError::not_found(format!("没有名单 {status}"), format!("no list {status}"))
    })?;
    let paging = parse_paging(&q.page, &None)?;
    let page = s.app.registry().list_page(status, paging).await?;
    let path = format!("/lists/{}", status.as_str());
    let pager = Pager::new(&path, &page, &[]);
    let (title, explanation) = match status {
        ListStatus::White => (
            "白名单",
            "经主管部门审核通过并纳入平台资金监管的校外培训机构。",
        ),
        ListStatus::Grey => (
            "灰名单",
            "已取得办学许可但尚未在平台开展收费，或正在整改的机构。",
        ),
        ListStatus::Black => (
            "黑名单",
            "无证无照、存在安全隐患、违法违规培训或被撤除的机构。请勿报名缴费。",
        ),
    };
    Ok(ListPage {
        status: status.as_str(),
        title,
        explanation,
        items: page.items,
        pager,
    })
}

#[derive(Template, WebTemplate)]
#[template(path = "notices.html")]
pub(crate) struct NoticesPage {
    items: Vec<NoticeView>,
    pager: Pager,
}

pub(crate) async fn notices(
    State(s): State<WebState>,
    PageQuery(q): PageQuery<PageParam>,
) -> Result<NoticesPage, PageError> {
    let paging = parse_paging(&q.page, &None)?;
    let page = s.app.registry().notices(paging).await?;
    let pager = Pager::new("/notices", &page, &[]);
    Ok(NoticesPage {
        items: page.items,
        pager,
    })
}

#[derive(Debug, Deserialize)]
pub(crate) struct OptionsParams {
    province: Option<String>,
    prefecture: Option<String>,
}

/// `<option>`s for the next selector down (htmx). A province with a single (placeholder) prefecture,
/// such as 北京市, gets it pre-selected and its counties filled at once.
#[derive(Template, WebTemplate)]
#[template(path = "region_options.html")]
pub(crate) struct RegionOptions {
    empty_label: &'static str,
    options: Vec<RegionView>,
    selected: String,
    counties: Option<Vec<RegionView>>,
}

pub(crate) async fn region_options(
    State(s): State<WebState>,
    PageQuery(p): PageQuery<OptionsParams>,
) -> Result<RegionOptions, PageError> {
    let nonempty = |v: &Option<String>| {
        v.as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    if let Some(prefecture) = nonempty(&p.prefecture) {
        let options = s.app.registry().region_children(Some(&prefecture))?;
        return Ok(RegionOptions {
            empty_label: "全部区县",
            options,
            selected: String::new(),
            counties: None,
        });
    }
    let Some(province) = nonempty(&p.province) else {
        return Ok(RegionOptions {
            empty_label: "全部地市",
            options: Vec::new(),
            selected: String::new(),
            counties: Some(Vec::new()),
        });
    };
    let options = s.app.registry().region_children(Some(&province))?;
    let (selected, counties) = match options.as_slice() {
        [only] => (
            only.code.clone(),
            s.app.registry().region_children(Some(&only.code))?,
        ),
        _ => (String::new(), Vec::new()),
    };
    Ok(RegionOptions {
        empty_label: "全部地市",
        options,
        selected,
        counties: Some(counties),
    })
}

/// Unknown paths: a problem+json under `/api/`, a page elsewhere.
pub(crate) async fn not_found(uri: axum::http::Uri) -> Response {
    crate::error::edge_error(
        &uri,
        AppError::not_found(
            format!("没有这个页面：{}", uri.path()),
            format!("no page at {}", uri.path()),
        ),
    )
}

/// A path that exists, asked with a method it does not take.
pub(crate) async fn method_not_allowed(
    method: axum::http::Method,
    uri: axum::http::Uri,
) -> Response {
    crate::error::edge_error(
        &uri,
        AppError::new(
            ErrorCode::MethodNotAllowed,
            format!("{} 不支持 {method} 请求", uri.path()),
            format!("{method} is not allowed on {}", uri.path()),
        ),
    )
}
