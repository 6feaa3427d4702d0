//! 机构名录 the public registry: search, detail, lists, notices, regions; and recording institutions.

use crate::error::field_label;
use crate::regions::RegionView;
use crate::registry::Registry;
use crate::search::{IndexedInstitution, SearchQuery};
use crate::views::{
    CourseView, HomeStats, InstitutionDetail, InstitutionSummary, ListChangeView,
    ListedInstitution, NoticeView, Page, notice_kind_label,
};
use crate::{Actor, AppError, ErrorCode, evidence};
use domain::{Category, InstitutionId, ListStatus, Paging, RegionCode, TeachingMode, Timestamp};
use std::collections::HashMap;
use store::{CourseRow, InstitutionRow, ListChangeRow, NoticeRow};

/// Longest accepted search text, in characters.
pub const MAX_QUERY_CHARS: usize = 100;

/// Search parameters as they arrive (query string or form): all optional text, validated by
/// [`Registry::parse_search`] so the API and the pages accept and refuse exactly the same input.
#[derive(Clone, Debug, Default, serde::Deserialize)]
pub struct RawSearch {
    pub q: Option<String>,
    pub region: Option<String>,
    pub category: Option<String>,
    pub mode: Option<String>,
    pub list: Option<String>,
    pub page: Option<String>,
    pub per_page: Option<String>,
}

/// Empty form fields mean "not given".
fn given(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

fn parse_int(v: &Option<String>, code: ErrorCode, name: &str) -> Result<Option<i64>, AppError> {
    given(v)
        .map(|s| {
            s.parse::<i64>().map_err(|_| {
                AppError::new(
                    code,
                    format!("{}须为整数", field_label(name)),
                    format!("{name} must be an integer, got {s:?}"),
                )
                .on(name)
            })
        })
        .transpose()
}

/// Page parameters from text.
pub fn parse_paging(page: &Option<String>, per_page: &Option<String>) -> Result<Paging, AppError> {
    let page = parse_int(page, ErrorCode::InvalidPage, "page")?;
    let per_page = parse_int(per_page, ErrorCode::PerPageOutOfRange, "per_page")?;
    Ok(Paging::new(page, per_page)?)
}

/// Everything one institution brings into the registry: the row, its courses, its first list
/// placement and any notices about it.
#[derive(Clone, Debug)]
pub struct InstitutionRecord {
    pub institution: InstitutionRow,
    pub courses: Vec<CourseRow>,
    pub list_change: ListChangeRow,
    pub notices: Vec<NoticeRow>,
}

impl<'a> Registry<'a> {
    pub fn parse_search(self, raw: &RawSearch) -> Result<SearchQuery, AppError> {
        let text = given(&raw.q).map(str::to_owned);
        if let Some(t) = &text
            && t.chars().count() > MAX_QUERY_CHARS
        {
            return Err(AppError::new(
                ErrorCode::QueryTooLong,
                format!("搜索词不超过{MAX_QUERY_CHARS}个字符"),
                format!("at most {MAX_QUERY_CHARS} characters"),
            ));
        }
        let region = given(&raw.region).map(RegionCode::parse).transpose()?;
        if let Some(r) = &region
            && !self.regions.known(r)
        {
            return Err(AppError::new(
                ErrorCode::UnknownRegion,
                format!("没有代码为 {r} 的行政区划"),
                format!("no region has code {r}"),
            ));
        }
        Ok(SearchQuery {
            text,
            region,
            category: given(&raw.category).map(Category::parse).transpose()?,
            mode: given(&raw.mode).map(TeachingMode::parse).transpose()?,
            list: given(&raw.list).map(ListStatus::parse).transpose()?,
            paging: parse_paging(&raw.page, &raw.per_page)?,
        })
    }

    pub async fn search_institutions(
        self,
        q: &SearchQuery,
    ) -> Result<Page<InstitutionSummary>, AppError> {
        let hits = self
            .search
            .search(q)
            .map_err(|e| AppError::internal(e.to_string()))?;
        let rows = self
            .store
            .read()
            .registry()
            .institutions_by_ids(&hits.ids)
            .await?;
        let mut by_id: HashMap<String, InstitutionRow> =
            rows.into_iter().map(|r| (r.id.clone(), r)).collect();
        let mut items = Vec::with_capacity(hits.ids.len());
        for id in &hits.ids {
            // An id the index still has but the store no longer does is skipped, not an error.
            if let Some(row) = by_id.remove(id) {
                items.push(self.summary(&row)?);
            }
        }
        Ok(Page {
            items,
            total: hits.total,
            page: q.paging.page(),
            per_page: q.paging.per_page(),
        })
    }

    pub(crate) fn summary(self, r: &InstitutionRow) -> Result<InstitutionSummary, AppError> {
        let region = RegionCode::parse(&r.region_code)?;
        let status = r.list_status;
        Ok(InstitutionSummary {
            id: r.id.clone(),
            name: r.name.clone(),
            region_code: r.region_code.clone(),
            region_name: self.regions.full_name(&region),
            list_status: status,
            list_status_label: status.label_zh(),
            mode: TeachingMode::parse(&r.mode)?.into(),
            categories: parse_categories(&r.categories)?
                .into_iter()
                .map(Into::into)
                .collect(),
            licence_no: r.licence_no.clone(),
        })
    }

    pub async fn institution_detail(self, id: &str) -> Result<InstitutionDetail, AppError> {
        let id = InstitutionId::parse(id)?.to_string();
        let reader = self.store.read();
        let row = reader
            .registry()
            .institution(&id)
            .await?
            .filter(|r| r.registry_state != domain::RegistryState::Applying)
            .ok_or_else(|| {
                AppError::not_found(format!("没有机构 {id}"), format!("no institution {id}"))
            })?;
        let sales_stopped = self.supervision().sales_stop(&id).await?;
        let courses = if sales_stopped.is_some() {
            Vec::new()
        } else {
            reader
                .registry()
                .courses_of(&id)
                .await?
                .into_iter()
                .map(CourseView::from_row)
                .collect::<Result<_, _>>()?
        };
        let penalties = reader
            .inspection()
            .penalties_of(&id, true)
            .await?
            .into_iter()
            .map(crate::penalties::view)
            .collect();
        let credit = reader
            .inspection()
            .latest_credit_rating(&id)
            .await?
            .map(crate::credit::PublishedCredit::from_row);
        let list_history = reader
            .registry()
            .list_changes_of(&id)
            .await?
            .into_iter()
            .map(|c| {
                let to = ListStatus::parse(&c.to_status)?;
                let from = c
                    .from_status
                    .as_deref()
                    .map(ListStatus::parse)
                    .transpose()?;
                let at = Timestamp::from_millis(c.at);
                Ok(ListChangeView {
                    from_status: from.map(ListStatus::as_str),
                    to_status: to.as_str(),
                    to_status_label: to.label_zh(),
                    reason: c.reason,
                    at,
                    at_display: at.china_display(),
                })
            })
            .collect::<Result<_, domain::DomainError>>()?;
        let changed = Timestamp::from_millis(row.list_changed_at);
        Ok(InstitutionDetail {
            summary: self.summary(&row)?,
            credit_code: Some(row.credit_code).filter(|c| !c.starts_with(UNREGISTERED)),
            address: row.address,
            intro: row.intro,
            list_reason: row.list_reason,
            list_changed_at: changed,
            list_changed_at_display: changed.china_display(),
            courses,
            list_history,
            sales_stopped,
            penalties,
            credit,
        })
    }

    /// Children of a region (provinces when `parent` is absent or `000000`).
    pub fn region_children(self, parent: Option<&str>) -> Result<Vec<RegionView>, AppError> {
        let parent = match parent.map(str::trim).filter(|s| !s.is_empty()) {
            Some(p) => RegionCode::parse(p)?,
            None => RegionCode::NATIONAL,
        };
        if !self.regions.known(&parent) {
            return Err(AppError::new(
                ErrorCode::UnknownRegion,
                format!("没有代码为 {parent} 的行政区划"),
                format!("no region has code {parent}"),
            ));
        }
        Ok(self.regions.children(&parent))
    }

    pub async fn list_page(
        self,
        status: ListStatus,
        paging: Paging,
    ) -> Result<Page<ListedInstitution>, AppError> {
        let rows = self
            .store
            .read()
            .registry()
            .listed_institutions(
                status.as_str(),
                i64::from(paging.per_page()),
                paging.offset() as i64,
            )
            .await?;
        page_of(rows, paging, |r| {
            let since = Timestamp::from_millis(r.list_changed_at);
            let region = RegionCode::parse(&r.region_code)?;
            Ok(ListedInstitution {
                region_name: self.regions.full_name(&region),
                id: r.id,
                name: r.name,
                region_code: r.region_code,
                list_status: status,
                reason: r.list_reason,
                since,
                since_display: since.china_display(),
            })
        })
    }

    pub async fn notices(self, paging: Paging) -> Result<Page<NoticeView>, AppError> {
        let rows = self
            .store
            .read()
            .registry()
            .notices(i64::from(paging.per_page()), paging.offset() as i64)
            .await?;
        page_of(rows, paging, |n| {
            let at = Timestamp::from_millis(n.published_at);
            let region = RegionCode::parse(&n.region_code)?;
            Ok(NoticeView {
                kind_label: notice_kind_label(&n.kind),
                region_name: self.regions.full_name(&region),
                id: n.id,
                kind: n.kind,
                institution_id: n.institution_id,
                title: n.title,
                body: n.body,
                published_at: at,
                published_at_display: at.china_display(),
                until_display: n
                    .until_at
                    .map(|u| Timestamp::from_millis(u).china_date().to_string()),
            })
        })
    }

    pub async fn home_stats(self) -> Result<HomeStats, AppError> {
        let c = self.store.read().registry().registry_counts().await?;
        Ok(HomeStats {
            white_institutions: c.white_institutions,
            grey_institutions: c.grey_institutions,
            black_institutions: c.black_institutions,
            courses_on_sale: c.courses_on_sale,
            counties_covered: c.counties_covered,
            provinces_covered: c.provinces_covered,
        })
    }

    /// Records institutions with their courses, list placements and notices in one transaction with
    /// their audit entries, then makes them searchable. Used by the demo generator in bulk and by the
    /// onboarding commands one at a time.
    pub async fn record_institutions(
        self,
        actor: &Actor,
        records: &[InstitutionRecord],
    ) -> Result<(), AppError> {
        self.record_institutions_unindexed(actor, records).await?;
        let docs = records
            .iter()
            .map(|r| self.indexed(&r.institution, &r.courses))
            .collect::<Result<Vec<_>, _>>()?;
        self.search
            .upsert(&docs)
            .map_err(|e| AppError::internal(e.to_string()))?;
        Ok(())
    }

    /// Brings one institution's search document up to date after a change.
    pub(crate) async fn reindex(self, id: &str) -> Result<(), AppError> {
        let reader = self.store.read();
        let Some(row) = reader
            .registry()
            .institution(id)
            .await?
            .filter(|r| r.registry_state != domain::RegistryState::Applying)
        else {
            return Ok(());
        };
        let courses = reader.registry().courses_of(id).await?;
        let doc = self.indexed(&row, &courses)?;
        self.search
            .upsert(&[doc])
            .map_err(|e| AppError::internal(e.to_string()))
    }

    /// The transactional half of [`Registry::record_institutions`]; bulk loaders rebuild the index once at the end.
    pub(crate) async fn record_institutions_unindexed(
        self,
        actor: &Actor,
        records: &[InstitutionRecord],
    ) -> Result<(), AppError> {
        for r in records {
            self.check_record(r)?;
        }
        let now = self.clock.now();
        let mut audit = Vec::new();
        let mut institutions = Vec::with_capacity(records.len());
        let mut courses = Vec::new();
        let mut changes = Vec::with_capacity(records.len());
        let mut notices = Vec::new();
        for r in records {
            audit.push(evidence::institution_registered(actor, now, &r.institution));
            audit.push(evidence::list_changed(actor, now, &r.list_change));
            audit.extend(
                r.courses
                    .iter()
                    .map(|c| evidence::course_published(actor, now, c)),
            );
            audit.extend(
                r.notices
                    .iter()
                    .map(|n| evidence::notice_published(actor, now, n)),
            );
            institutions.push(r.institution.clone());
            courses.extend(r.courses.iter().cloned());
            changes.push(r.list_change.clone());
            notices.extend(r.notices.iter().cloned());
        }
        // A white-listed institution holds a compliance plate from the start.
        let mut plates = Vec::new();
        for i in institutions
            .iter()
            .filter(|i| i.list_status == domain::ListStatus::White)
        {
            plates.push(self.signed_plate(&i.id, 1, now.millis())?);
            audit.push(evidence::plate_issued(actor, now, &i.id, 1, false));
        }
        let mut tx = self.store.begin_write().await?;
        tx.registry().insert_institutions(&institutions).await?;
        tx.plates().insert_plates(&plates).await?;
        tx.registry().insert_list_changes(&changes).await?;
        tx.registry().insert_courses(&courses).await?;
        tx.registry().insert_notices(&notices).await?;
        tx.append_audit(audit).await?;
        tx.commit().await?;
        Ok(())
    }

    fn check_record(self, r: &InstitutionRecord) -> Result<(), AppError> {
        let i = &r.institution;
        InstitutionId::parse(&i.id)?;
        let region = RegionCode::parse(&i.region_code)?;
        if !self.regions.known(&region) || region == RegionCode::NATIONAL {
            return Err(AppError::new(
                ErrorCode::UnknownRegion,
                format!("没有代码为 {region} 的行政区划"),
                format!("no region has code {region}"),
            ));
        }
        domain::credit_code::CreditCode::parse(&i.credit_code)?;
        TeachingMode::parse(&i.mode)?;
        parse_categories(&i.categories)?;
        let status = i.list_status;
        if r.list_change.institution_id != i.id || r.list_change.to_status != status.as_str() {
            return Err(AppError::new(
                ErrorCode::InvalidParameter,
                "名单记录须与机构一致",
                "the list placement must match the institution",
            ));
        }
        if r.list_change.reason.trim().is_empty() {
            return Err(AppError::new(
                ErrorCode::InvalidParameter,
                "列入名单须说明理由",
                "a list placement needs a reason",
            ));
        }
        for c in &r.courses {
            Category::parse(&c.category)?;
            TeachingMode::parse(&c.mode)?;
            if c.institution_id != i.id {
                return Err(AppError::new(
                    ErrorCode::InvalidParameter,
                    "课程须属于本机构",
                    "a course must belong to its institution",
                ));
            }
        }
        Ok(())
    }

    fn indexed(
        self,
        i: &InstitutionRow,
        courses: &[CourseRow],
    ) -> Result<IndexedInstitution, AppError> {
        let mut other_text = format!("{} {}", i.address, i.intro);
        for c in courses {
            other_text.push(' ');
            other_text.push_str(&c.name);
        }
        Ok(IndexedInstitution {
            id: i.id.clone(),
            name: i.name.clone(),
            region: RegionCode::parse(&i.region_code)?,
            mode: TeachingMode::parse(&i.mode)?,
            categories: parse_categories(&i.categories)?,
            list_status: i.list_status,
            other_text,
        })
    }

    /// Rebuilds the search index from the store when what it was built from has changed.
    pub async fn refresh_search_index(self) -> Result<u64, AppError> {
        let reader = self.store.read();
        let (n, max_updated, course_count) = reader.registry().registry_fingerprint().await?;
        let stamp = format!("institutions={n} max_updated={max_updated} courses={course_count}");
        if self.search.stamp().as_deref() == Some(stamp.as_str())
            && self.search.num_docs() == n as u64
        {
            return Ok(0);
        }
        let mut docs = Vec::with_capacity(n as usize);
        let mut after = String::new();
        loop {
            let batch = reader.registry().institutions_after(&after, 2_000).await?;
            let (Some(first), Some(last)) = (batch.first(), batch.last()) else {
                break;
            };
            let courses = reader
                .registry()
                .courses_in_id_range(&first.id, &last.id)
                .await?;
            let mut by_institution: HashMap<&str, Vec<CourseRow>> = HashMap::new();
            for c in &courses {
                by_institution
                    .entry(c.institution_id.as_str())
                    .or_default()
                    .push(c.clone());
            }
            // Institutions still applying are not public: they join the index when approved.
            for i in batch
                .iter()
                .filter(|i| i.registry_state != domain::RegistryState::Applying)
            {
                let cs = by_institution.remove(i.id.as_str()).unwrap_or_default();
                docs.push(self.indexed(i, &cs)?);
            }
            after = last.id.clone();
        }
        let search = self.search.clone();
        let started = std::time::Instant::now();
        let count = tokio::task::spawn_blocking(move || search.rebuild(docs, &stamp))
            .await
            .map_err(|e| AppError::internal(e.to_string()))?
            .map_err(|e| AppError::internal(e.to_string()))?;
        tracing::info!(
            institutions = count,
            elapsed_ms = started.elapsed().as_millis() as u64,
            "search index rebuilt"
        );
        Ok(count)
    }
}

/// The credit-code placeholder of an unlicensed institution recorded in the field without a code (the
/// column is unique and required; a placeholder keeps both true).
pub(crate) const UNREGISTERED: &str = "unregistered:";

/// Maps one page of stored rows to views, keeping the total.
fn page_of<R, T>(
    rows: store::PageRows<R>,
    paging: Paging,
    view: impl FnMut(R) -> Result<T, domain::DomainError>,
) -> Result<Page<T>, AppError> {
    Ok(Page {
        items: rows.rows.into_iter().map(view).collect::<Result<_, _>>()?,
        total: u64::try_from(rows.total).unwrap_or(0),
        page: paging.page(),
        per_page: paging.per_page(),
    })
}

pub fn parse_categories(s: &str) -> Result<Vec<Category>, domain::DomainError> {
    s.split(',')
        .filter(|c| !c.is_empty())
        .map(Category::parse)
        .collect()
}
