//! The region table held in memory: 3,351 rows that every search result and selector needs, read
//! once at start instead of joined on every request.

use crate::AppError;
use domain::access::competent_region;
use domain::{RegionCode, TeachingMode};
use serde::Serialize;
use std::collections::HashMap;
use store::{InstitutionRow, RegionRow, Store};

/// A region as selectors and the API show it.
#[derive(Clone, Debug, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct RegionView {
    pub code: String,
    pub name: String,
    /// The name a selector shows (市辖区-style placeholders read as their municipality).
    pub display_name: String,
    /// `province`, `prefecture` or `county`.
    pub level: &'static str,
    pub parent_code: Option<String>,
    /// True for 市辖区-style placeholder prefectures.
    pub placeholder: bool,
}

impl RegionView {
    pub fn from_row(r: &RegionRow) -> RegionView {
        RegionView {
            code: r.code.clone(),
            name: r.name.clone(),
            display_name: r.display_name.clone(),
            level: match r.level {
                1 => "province",
                2 => "prefecture",
                _ => "county",
            },
            parent_code: r.parent_code.clone(),
            placeholder: r.placeholder != 0,
        }
    }
}

/// The regulator competent for an institution: the county of its premises when it teaches offline, the province
/// when online.
pub(crate) fn competent_region_of(institution: &InstitutionRow) -> Result<RegionCode, AppError> {
    Ok(competent_region(
        TeachingMode::parse(&institution.mode)?,
        &RegionCode::parse(&institution.region_code)?,
    ))
}

#[derive(Debug, Default)]
pub struct RegionDirectory {
    by_code: HashMap<String, RegionRow>,
    children: HashMap<String, Vec<String>>,
    provinces: Vec<String>,
}

impl RegionDirectory {
    pub async fn load(store: &Store) -> Result<RegionDirectory, AppError> {
        let reader = store.read();
        let mut dir = RegionDirectory::default();
        let mut pending: Vec<Option<String>> = vec![None];
        while let Some(parent) = pending.pop() {
            let rows = reader.registry().region_children(parent.as_deref()).await?;
            let codes: Vec<String> = rows.iter().map(|r| r.code.clone()).collect();
            for r in rows {
                if r.level < 3 {
                    pending.push(Some(r.code.clone()));
                }
                dir.by_code.insert(r.code.clone(), r);
            }
            match parent {
                Some(p) => {
                    dir.children.insert(p, codes);
                }
                None => dir.provinces = codes,
            }
        }
        Ok(dir)
    }

    pub fn len(&self) -> usize {
        self.by_code.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_code.is_empty()
    }

    pub fn get(&self, code: &RegionCode) -> Option<&RegionRow> {
        self.by_code.get(code.as_str())
    }

    /// A code that is well-formed and in the table (or the whole country).
    pub fn known(&self, code: &RegionCode) -> bool {
        *code == RegionCode::NATIONAL || self.by_code.contains_key(code.as_str())
    }

    /// Children of `parent` (provinces for the country), as views.
    pub fn children(&self, parent: &RegionCode) -> Vec<RegionView> {
        let codes = if *parent == RegionCode::NATIONAL {
            Some(&self.provinces)
        } else {
            self.children.get(parent.as_str())
        };
        codes
            .into_iter()
            .flatten()
            .filter_map(|c| self.by_code.get(c))
            .map(RegionView::from_row)
            .collect()
    }

    /// "浙江省 杭州市 西湖区", skipping placeholder prefectures (北京市 市辖区 海淀区 reads 北京市 海淀区).
    pub fn full_name(&self, code: &RegionCode) -> String {
        code.lineage()
            .iter()
            .filter_map(|c| self.by_code.get(c.as_str()))
            .filter(|r| r.placeholder == 0)
            .map(|r| r.name.as_str())
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// The path from the province down to `code`, for breadcrumbs and pre-filled selectors.
    pub fn lineage_views(&self, code: &RegionCode) -> Vec<RegionView> {
        code.lineage()
            .iter()
            .filter_map(|c| self.by_code.get(c.as_str()))
            .map(RegionView::from_row)
            .collect()
    }
}
