//! Institution search: a tantivy index with jieba segmentation, built from the store. The same index
//! serves SQLite and PostgreSQL deployments, so search behaves identically on both.

use domain::{Category, ListStatus, Paging, RegionCode, TeachingMode};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use tantivy::collector::{Collector, Count, SegmentCollector, TopDocs};
use tantivy::query::{AllQuery, BooleanQuery, ConstScoreQuery, Occur, Query, TermQuery, Weight};
use tantivy::schema::{
    Field, IndexRecordOption, STORED, STRING, Schema, TextFieldIndexing, TextOptions, Value,
};
use tantivy::tokenizer::{LowerCaser, TextAnalyzer};
use tantivy::{
    DocAddress, DocId, Index, IndexReader, IndexWriter, ReloadPolicy, Score, SegmentReader,
    TantivyDocument, Term,
};

const TOKENIZER: &str = "jieba";
/// Bumped when the schema below changes, so an old on-disk index is rebuilt rather than misread.
const SCHEMA_VERSION: &str = "institutions-v3";
const STAMP_FILE: &str = "xiaowai-stamp.txt";
/// At most this many words of a query take part; more add cost, not precision.
const MAX_QUERY_TOKENS: usize = 12;

#[derive(Debug, thiserror::Error)]
#[error("search index: {0}")]
pub struct SearchError(String);

impl From<tantivy::TantivyError> for SearchError {
    fn from(e: tantivy::TantivyError) -> Self {
        SearchError(e.to_string())
    }
}

/// What the index knows about one institution.
#[derive(Clone, Debug)]
pub struct IndexedInstitution {
    pub id: String,
    pub name: String,
    pub region: RegionCode,
    pub mode: TeachingMode,
    pub categories: Vec<Category>,
    pub list_status: ListStatus,
    /// Address, intro and course names: searched with less weight than the name.
    pub other_text: String,
}

/// A validated search request.
#[derive(Clone, Debug)]
pub struct SearchQuery {
    pub text: Option<String>,
    pub region: Option<RegionCode>,
    pub category: Option<Category>,
    pub mode: Option<TeachingMode>,
    pub list: Option<ListStatus>,
    pub paging: Paging,
}

/// Ids of one page of results, best first, and how many matched in all.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SearchHits {
    pub ids: Vec<String>,
    pub total: u64,
}

#[derive(Clone, Copy)]
struct Fields {
    id: Field,
    /// Name (twice, so a word in the name weighs more), address, introduction and course names.
    all: Field,
    region: Field,
    category: Field,
    mode: Field,
    list: Field,
}

pub struct SearchIndex {
    reader: IndexReader,
    writer: Mutex<IndexWriter>,
    fields: Fields,
    dir: Option<PathBuf>,
}

impl std::fmt::Debug for SearchIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SearchIndex")
            .field("dir", &self.dir)
            .finish_non_exhaustive()
    }
}

fn schema() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let text_options = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(TOKENIZER)
            .set_index_option(IndexRecordOption::WithFreqs),
    );
    let fields = Fields {
        id: b.add_text_field("id", STRING | STORED),
        all: b.add_text_field("all", text_options),
        region: b.add_text_field("region", STRING),
        category: b.add_text_field("category", STRING),
        mode: b.add_text_field("mode", STRING),
        list: b.add_text_field("list", STRING),
    };
    (b.build(), fields)
}

fn analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(tantivy_jieba::JiebaTokenizer::new())
        .filter(LowerCaser)
        .build()
}

impl SearchIndex {
    /// An index kept only in memory (tests).
    pub fn in_ram() -> Result<SearchIndex, SearchError> {
        let (schema, fields) = schema();
        Self::from_index(Index::create_in_ram(schema), fields, None)
    }

    /// An index persisted under `dir`, created (or recreated, if its schema is older) as needed.
    pub fn open_in_dir(dir: &Path) -> Result<SearchIndex, SearchError> {
        let (schema, fields) = schema();
        let version_file = dir.join("xiaowai-schema.txt");
        let current = std::fs::read_to_string(&version_file).unwrap_or_default();
        if current.trim() != SCHEMA_VERSION && dir.exists() {
            std::fs::remove_dir_all(dir).map_err(|e| SearchError(e.to_string()))?;
        }
        std::fs::create_dir_all(dir).map_err(|e| SearchError(e.to_string()))?;
        let mmap =
            tantivy::directory::MmapDirectory::open(dir).map_err(|e| SearchError(e.to_string()))?;
        let index = Index::open_or_create(mmap, schema)?;
        std::fs::write(&version_file, SCHEMA_VERSION).map_err(|e| SearchError(e.to_string()))?;
        Self::from_index(index, fields, Some(dir.to_owned()))
    }

    fn from_index(
        index: Index,
        fields: Fields,
        dir: Option<PathBuf>,
    ) -> Result<SearchIndex, SearchError> {
        index.tokenizers().register(TOKENIZER, analyzer());
        let writer = index.writer_with_num_threads(1, 64_000_000)?;
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        Ok(SearchIndex {
            reader,
            writer: Mutex::new(writer),
            fields,
            dir,
        })
    }

    fn document(&self, d: &IndexedInstitution) -> TantivyDocument {
        let f = self.fields;
        let mut doc = TantivyDocument::default();
        doc.add_text(f.id, &d.id);
        // The name twice: BM25 then ranks a word in the name above one mentioned once elsewhere,
        // without a second posting list to consult for every match.
        doc.add_text(
            f.all,
            format!("{name} {name} {}", d.other_text, name = d.name),
        );
        for code in d.region.lineage() {
            doc.add_text(f.region, code.as_str());
        }
        for c in &d.categories {
            doc.add_text(f.category, c.as_str());
        }
        doc.add_text(f.mode, d.mode.as_str());
        doc.add_text(f.list, d.list_status.as_str());
        doc
    }

    /// Replaces everything in the index with `docs` and records `stamp` (what it was built from).
    pub fn rebuild(
        &self,
        docs: impl IntoIterator<Item = IndexedInstitution>,
        stamp: &str,
    ) -> Result<u64, SearchError> {
        let mut writer = self
            .writer
            .lock()
            .map_err(|_| SearchError("writer lock poisoned".into()))?;
        writer.delete_all_documents()?;
        let mut n = 0;
        for d in docs {
            writer.add_document(self.document(&d))?;
            n += 1;
        }
        writer.commit()?;
        drop(writer);
        self.reader.reload()?;
        self.write_stamp(stamp)?;
        Ok(n)
    }

    /// Adds or replaces these institutions (after a command changed them) and makes them searchable.
    pub fn upsert(&self, docs: &[IndexedInstitution]) -> Result<(), SearchError> {
        let mut writer = self
            .writer
            .lock()
            .map_err(|_| SearchError("writer lock poisoned".into()))?;
        for d in docs {
            writer.delete_term(Term::from_field_text(self.fields.id, &d.id));
            writer.add_document(self.document(d))?;
        }
        writer.commit()?;
        drop(writer);
        self.reader.reload()?;
        Ok(())
    }

    /// What the persisted index was last built from, if anything.
    pub fn stamp(&self) -> Option<String> {
        let dir = self.dir.as_ref()?;
        std::fs::read_to_string(dir.join(STAMP_FILE)).ok()
    }

    fn write_stamp(&self, stamp: &str) -> Result<(), SearchError> {
        if let Some(dir) = &self.dir {
            std::fs::write(dir.join(STAMP_FILE), stamp).map_err(|e| SearchError(e.to_string()))?;
        }
        Ok(())
    }

    pub fn num_docs(&self) -> u64 {
        self.reader.searcher().num_docs()
    }

    /// The words of a query as the index segments them, without punctuation or repeats.
    pub fn query_tokens(&self, text: &str) -> Vec<String> {
        let mut analyzer = analyzer();
        let mut stream = analyzer.token_stream(text);
        let mut tokens: Vec<String> = Vec::new();
        while let Some(t) = stream.next() {
            if t.text.chars().any(char::is_alphanumeric) && !tokens.contains(&t.text) {
                tokens.push(t.text.clone());
            }
        }
        tokens.truncate(MAX_QUERY_TOKENS);
        tokens
    }

    pub fn search(&self, q: &SearchQuery) -> Result<SearchHits, SearchError> {
        let f = self.fields;
        let tokens = q
            .text
            .as_deref()
            .map(|t| self.query_tokens(t))
            .unwrap_or_default();
        if q.text.as_deref().is_some_and(|t| !t.trim().is_empty()) && tokens.is_empty() {
            // Only punctuation: nothing can match it.
            return Ok(SearchHits {
                ids: Vec::new(),
                total: 0,
            });
        }
        let filters: Vec<Term> = [
            (
                f.region,
                q.region
                    .as_ref()
                    .filter(|r| **r != RegionCode::NATIONAL)
                    .map(|r| r.as_str()),
            ),
            (f.category, q.category.map(Category::as_str)),
            (f.mode, q.mode.map(TeachingMode::as_str)),
            (f.list, q.list.map(ListStatus::as_str)),
        ]
        .into_iter()
        .filter_map(|(field, value)| value.map(|v| Term::from_field_text(field, v)))
        .collect();
        let searcher = self.reader.searcher();
        let limit = q.paging.per_page() as usize;
        let offset = q.paging.offset() as usize;
        let (addresses, total) = if tokens.is_empty() {
            // Browsing: white, then grey, then black, each in index order. The total is one count; a
            // tier is counted only when the page starts beyond it, and collecting stops after the page,
            // so page 1 of a list of 400,000 costs what a list of 40 does.
            let total = browse_query(&filters).count(&searcher)?;
            let tiers: Vec<ListStatus> = match q.list {
                Some(l) => vec![l],
                None => ListStatus::ALL.to_vec(),
            };
            let mut skip = offset;
            let mut addresses = Vec::with_capacity(limit);
            for tier in tiers {
                if addresses.len() == limit || skip >= total {
                    break;
                }
                let mut tier_filters = filters.clone();
                if q.list.is_none() {
                    tier_filters.push(Term::from_field_text(f.list, tier.as_str()));
                }
                let query = browse_query(&tier_filters);
                if skip > 0 && q.list.is_none() {
                    let count = query.count(&searcher)?;
                    if skip >= count {
                        skip -= count;
                        continue;
                    }
                }
                let want = limit - addresses.len();
                let docs = searcher.search(&*query, &FirstDocs(skip + want))?;
                addresses.extend(docs.into_iter().skip(skip).take(want));
                skip = 0;
            }
            (addresses, total)
        } else {
            let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
            for t in &tokens {
                // Every word must be found.
                clauses.push((
                    Occur::Must,
                    term_query(
                        Term::from_field_text(f.all, t),
                        IndexRecordOption::WithFreqs,
                    ),
                ));
            }
            for t in &filters {
                // Filters narrow the results without taking part in their ranking.
                let exact = term_query(t.clone(), IndexRecordOption::Basic);
                clauses.push((Occur::Must, Box::new(ConstScoreQuery::new(exact, 0.0))));
            }
            let query = BooleanQuery::new(clauses);
            let top = TopDocs::with_limit(limit)
                .and_offset(offset)
                .order_by_score();
            let (docs, total) = searcher.search(&query, &(top, Count))?;
            (docs.into_iter().map(|(_, a)| a).collect::<Vec<_>>(), total)
        };
        let mut ids = Vec::with_capacity(addresses.len());
        for a in addresses {
            let doc: TantivyDocument = searcher.doc(a)?;
            if let Some(id) = doc.get_first(f.id).and_then(|v| v.as_str()) {
                ids.push(id.to_owned());
            }
        }
        Ok(SearchHits {
            ids,
            total: total as u64,
        })
    }
}

fn term_query(term: Term, option: IndexRecordOption) -> Box<dyn Query> {
    Box::new(TermQuery::new(term, option))
}

/// The unscored query for browsing: everything, one exact term (whose count is its document
/// frequency, read without visiting documents), or the intersection of several.
fn browse_query(filters: &[Term]) -> Box<dyn Query> {
    match filters {
        [] => Box::new(AllQuery),
        [only] => term_query(only.clone(), IndexRecordOption::Basic),
        many => Box::new(BooleanQuery::new(
            many.iter()
                .map(|t| (Occur::Must, term_query(t.clone(), IndexRecordOption::Basic)))
                .collect(),
        )),
    }
}

/// Collects the first `n` matching documents in index order and stops reading each segment there.
struct FirstDocs(usize);

struct FirstDocsInSegment {
    segment: u32,
    limit: usize,
    docs: Vec<DocAddress>,
}

impl SegmentCollector for FirstDocsInSegment {
    type Fruit = Vec<DocAddress>;

    fn collect(&mut self, doc: DocId, _score: Score) {
        if self.docs.len() < self.limit {
            self.docs.push(DocAddress::new(self.segment, doc));
        }
    }

    fn harvest(self) -> Vec<DocAddress> {
        self.docs
    }
}

impl Collector for FirstDocs {
    type Fruit = Vec<DocAddress>;
    type Child = FirstDocsInSegment;

    fn for_segment(
        &self,
        segment: u32,
        _reader: &SegmentReader,
    ) -> tantivy::Result<FirstDocsInSegment> {
        Ok(FirstDocsInSegment {
            segment,
            limit: self.0,
            docs: Vec::with_capacity(self.0.min(1024)),
        })
    }

    fn requires_scoring(&self) -> bool {
        false
    }

    fn merge_fruits(&self, fruits: Vec<Vec<DocAddress>>) -> tantivy::Result<Vec<DocAddress>> {
        let mut all: Vec<DocAddress> = fruits.into_iter().flatten().collect();
        all.sort();
        all.truncate(self.0);
        Ok(all)
    }

    /// Walks the matches itself so it can stop after `n` instead of visiting every match.
    fn collect_segment(
        &self,
        weight: &dyn Weight,
        segment: u32,
        reader: &SegmentReader,
    ) -> tantivy::Result<Vec<DocAddress>> {
        let mut scorer = weight.scorer(reader, 1.0)?;
        let alive = reader.alive_bitset();
        let mut docs = Vec::with_capacity(self.0.min(1024));
        let mut doc = scorer.doc();
        while doc != tantivy::TERMINATED && docs.len() < self.0 {
            if alive.is_none_or(|a| a.is_alive(doc)) {
                docs.push(DocAddress::new(segment, doc));
            }
            doc = scorer.advance();
        }
        Ok(docs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(
        id: &str,
        name: &str,
        region: &str,
        cat: Category,
        list: ListStatus,
        other: &str,
    ) -> IndexedInstitution {
        IndexedInstitution {
            id: id.into(),
            name: name.into(),
            region: RegionCode::parse(region).unwrap(),
            mode: TeachingMode::Offline,
            categories: vec![cat],
            list_status: list,
            other_text: other.into(),
        }
    }

    fn query(text: Option<&str>) -> SearchQuery {
        SearchQuery {
            text: text.map(Into::into),
            region: None,
            category: None,
            mode: None,
            list: None,
            paging: Paging::new(None, None).unwrap(),
        }
    }

    fn index() -> SearchIndex {
        let idx = SearchIndex::in_ram().unwrap();
        idx.rebuild(
            vec![
                doc(
                    "a",
                    "海淀启航数学培训学校",
                    "110108",
                    Category::Subject,
                    ListStatus::White,
                    "小学数学思维",
                ),
                doc(
                    "b",
                    "朝阳星火钢琴艺术中心",
                    "110105",
                    Category::Arts,
                    ListStatus::White,
                    "钢琴启蒙 北京市朝阳区",
                ),
                doc(
                    "c",
                    "滨江博雅美术培训中心",
                    "330108",
                    Category::Arts,
                    ListStatus::Grey,
                    "少儿美术 创意绘画",
                ),
                doc(
                    "d",
                    "西湖英才篮球俱乐部",
                    "330106",
                    Category::Sports,
                    ListStatus::Black,
                    "篮球 数学不教",
                ),
            ],
            "test",
        )
        .unwrap();
        idx
    }

    #[test]
    fn chinese_words_are_segmented_and_matched() {
        let idx = index();
        let hits = idx.search(&query(Some("数学"))).unwrap();
        assert_eq!(hits.total, 2);
        assert_eq!(
            hits.ids[0], "a",
            "a name match outranks a mention elsewhere"
        );
        assert_eq!(idx.search(&query(Some("钢琴"))).unwrap().ids, vec!["b"]);
        assert_eq!(
            idx.search(&query(Some("数学 钢琴"))).unwrap().total,
            0,
            "every word must match"
        );
        assert_eq!(idx.search(&query(Some("！！"))).unwrap().total, 0);
    }

    #[test]
    fn filters_narrow_by_region_prefix_category_and_list() {
        let idx = index();
        let mut q = query(None);
        q.region = Some(RegionCode::parse("330000").unwrap());
        assert_eq!(idx.search(&q).unwrap().total, 2);
        q.category = Some(Category::Arts);
        assert_eq!(idx.search(&q).unwrap().ids, vec!["c"]);
        let mut q = query(None);
        q.list = Some(ListStatus::Black);
        assert_eq!(idx.search(&q).unwrap().ids, vec!["d"]);
    }

    #[test]
    fn browsing_lists_white_before_grey_before_black_and_pages() {
        let idx = index();
        let all = idx.search(&query(None)).unwrap();
        assert_eq!(all.total, 4);
        assert_eq!(&all.ids[2..], &["c".to_string(), "d".to_string()]);
        let mut q = query(None);
        q.paging = Paging::new(Some(2), Some(3)).unwrap();
        assert_eq!(idx.search(&q).unwrap().ids, vec!["d"]);
    }

    #[test]
    fn paging_across_list_tiers_visits_every_document_once() {
        let idx = index();
        let mut seen = Vec::new();
        for page in 1..=5 {
            let mut q = query(None);
            q.paging = Paging::new(Some(page), Some(1)).unwrap();
            let hits = idx.search(&q).unwrap();
            assert_eq!(hits.total, 4);
            seen.extend(hits.ids);
        }
        assert_eq!(seen.len(), 4, "page 5 is empty");
        assert_eq!(
            &seen[2..],
            &["c".to_string(), "d".to_string()],
            "grey after white, black last"
        );
        let mut sorted = seen.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted.len(), 4);
    }

    #[test]
    fn upsert_replaces_a_document() {
        let idx = index();
        idx.upsert(&[doc(
            "d",
            "西湖英才篮球俱乐部",
            "330106",
            Category::Sports,
            ListStatus::White,
            "",
        )])
        .unwrap();
        assert_eq!(idx.num_docs(), 4);
        assert_eq!(idx.search(&query(Some("数学"))).unwrap().ids, vec!["a"]);
        // Browsing skips the replaced (deleted) version.
        let mut white = query(None);
        white.list = Some(ListStatus::White);
        let hits = idx.search(&white).unwrap();
        assert_eq!(hits.total, 3);
        assert_eq!(hits.ids.len(), 3);
        assert!(hits.ids.contains(&"d".to_string()));
        let mut black = query(None);
        black.list = Some(ListStatus::Black);
        assert_eq!(idx.search(&black).unwrap().total, 0);
    }
}
