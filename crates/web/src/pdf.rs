//! Server-made PDFs of printable reports (the annual inspection data): A4 pages of headings, label–value rows
//! and wrapped text, in a CJK font read from the machine once, on the first PDF. Drawing is krilla's (it
//! shapes, subsets and embeds the font, and writes ToUnicode maps so the text can be searched and copied).

use krilla::Document;
use krilla::geom::Point;
use krilla::metadata::Metadata;
use krilla::page::PageSettings;
use krilla::text::{Font, TextDirection};
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

/// A font file for PDFs and the face to use within a collection (`.ttc`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FontFile {
    pub path: PathBuf,
    pub index: u32,
}

/// Where Debian's CJK fonts put the Simplified Chinese faces: fonts-noto-cjk's collections hold JP, KR, SC,
/// TC and HK in that order; WenQuanYi's holds one face.
const INSTALLED: [(&str, u32); 4] = [
    ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", 2),
    ("/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc", 2),
    ("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", 0),
    ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", 0),
];

impl FontFile {
    /// The first CJK font installed where Debian puts it.
    pub fn installed() -> Option<FontFile> {
        INSTALLED
            .iter()
            .map(|(path, index)| FontFile {
                path: PathBuf::from(path),
                index: *index,
            })
            .find(|f| f.path.is_file())
    }

    /// `PATH` or `PATH#INDEX` (the face within a collection).
    pub fn parse(s: &str) -> FontFile {
        match s
            .rsplit_once('#')
            .and_then(|(path, index)| Some((path, index.parse::<u32>().ok()?)))
        {
            Some((path, index)) => FontFile {
                path: PathBuf::from(path),
                index,
            },
            None => FontFile {
                path: PathBuf::from(s),
                index: 0,
            },
        }
    }
}

/// The PDF font, loaded on first use; `None` when none is configured or it cannot be read.
#[derive(Clone, Default)]
pub(crate) struct PdfFont {
    file: Option<FontFile>,
    loaded: Arc<OnceLock<Option<Font>>>,
}

impl PdfFont {
    pub(crate) fn new(file: Option<FontFile>) -> PdfFont {
        PdfFont {
            file,
            loaded: Arc::default(),
        }
    }

    fn font(&self) -> Option<Font> {
        self.loaded
            .get_or_init(|| {
                let file = self.file.as_ref()?;
                let font = std::fs::read(&file.path)
                    .ok()
                    .and_then(|bytes| Font::new(bytes.into(), file.index));
                if font.is_none() {
                    tracing::warn!(path = %file.path.display(), index = file.index, "the PDF font cannot be read");
                }
                font
            })
            .clone()
    }
}

/// One line of a report.
pub(crate) enum Line {
    Heading(String),
    /// A label and its value, in two columns.
    Row(String, String),
    /// Text wrapped to the page.
    Text(String),
}

const PAGE_WIDTH: f32 = 595.0;
const PAGE_HEIGHT: f32 = 842.0;
const MARGIN: f32 = 56.0;
const TITLE_SIZE: f32 = 18.0;
const HEADING_SIZE: f32 = 13.0;
const BODY_SIZE: f32 = 10.5;
const VALUE_COLUMN: f32 = 230.0;

/// The width of a text in ems, near enough to wrap lines: CJK characters are one em, others about half.
fn width_em(text: &str) -> f32 {
    text.chars()
        .map(|c| if (c as u32) >= 0x2E80 { 1.0 } else { 0.56 })
        .sum()
}

/// Splits a text into lines no wider than `width` points at `size`.
fn wrap(text: &str, size: f32, width: f32) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for c in text.chars() {
        let mut candidate = line.clone();
        candidate.push(c);
        if width_em(&candidate) * size > width && !line.is_empty() {
            lines.push(std::mem::take(&mut line));
        }
        line.push(c);
    }
    if !line.is_empty() || lines.is_empty() {
        lines.push(line);
    }
    lines
}

/// Lays the report out on A4 pages with a footer on each; `None` without a usable font.
pub(crate) fn render(font: &PdfFont, title: &str, footer: &str, lines: &[Line]) -> Option<Vec<u8>> {
    let font = font.font()?;
    // Place every run first, so pages know their count for the footer.
    let mut pages: Vec<Vec<(f32, f32, f32, String)>> = vec![Vec::new()];
    let mut y = MARGIN + TITLE_SIZE;
    let body_width = PAGE_WIDTH - 2.0 * MARGIN;
    for t in wrap(title, TITLE_SIZE, body_width) {
        pages[0].push((MARGIN, y, TITLE_SIZE, t));
        y += TITLE_SIZE * 1.5;
    }
    y += 6.0;
    let bottom = PAGE_HEIGHT - MARGIN - 20.0;
    for line in lines {
        let (size, before, runs): (f32, f32, Vec<(f32, String, usize)>) = match line {
            Line::Heading(h) => (HEADING_SIZE, 10.0, vec![(MARGIN, h.clone(), 0)]),
            Line::Text(t) => (
                BODY_SIZE,
                0.0,
                wrap(t, BODY_SIZE, body_width)
                    .into_iter()
                    .enumerate()
                    .map(|(i, l)| (MARGIN, l, i))
                    .collect(),
            ),
            Line::Row(label, value) => {
                let mut runs: Vec<(f32, String, usize)> =
                    wrap(label, BODY_SIZE, VALUE_COLUMN - 12.0)
                        .into_iter()
                        .enumerate()
                        .map(|(i, l)| (MARGIN, l, i))
                        .collect();
                runs.extend(
                    wrap(value, BODY_SIZE, body_width - VALUE_COLUMN)
                        .into_iter()
                        .enumerate()
                        .map(|(i, l)| (MARGIN + VALUE_COLUMN, l, i)),
                );
                (BODY_SIZE, 0.0, runs)
            }
        };
        let rows = runs.iter().map(|(_, _, i)| i + 1).max().unwrap_or(1);
        let height = before + size * 1.6 * rows as f32;
        if y + height > bottom {
            pages.push(Vec::new());
            y = MARGIN + size;
        } else {
            y += before;
        }
        let page = pages.last_mut()?;
        for (x, text, i) in runs {
            page.push((x, y + size * 1.6 * i as f32, size, text));
        }
        y += size * 1.6 * rows as f32;
    }
    let mut document = Document::new();
    document.set_metadata(
        Metadata::new()
            .title(title.to_owned())
            .language("zh-CN".to_owned())
            .creator("xiaowai".to_owned()),
    );
    let count = pages.len();
    for (n, runs) in pages.into_iter().enumerate() {
        let mut page = document.start_page_with(PageSettings::from_wh(PAGE_WIDTH, PAGE_HEIGHT)?);
        let mut surface = page.surface();
        for (x, y, size, text) in runs {
            surface.draw_text(
                Point::from_xy(x, y),
                font.clone(),
                size,
                &text,
                false,
                TextDirection::Auto,
            );
        }
        let foot = format!("{footer}　第 {} 页，共 {count} 页", n + 1);
        surface.draw_text(
            Point::from_xy(MARGIN, PAGE_HEIGHT - MARGIN + 10.0),
            font.clone(),
            8.0,
            &foot,
            false,
            TextDirection::Auto,
        );
        surface.finish();
        page.finish();
    }
    document.finish().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_wrap_by_width_and_keep_every_character() {
        let text = "北京市海淀区某某培训学校2026年度年检年审数据，含订单、资金、投诉、处罚与抽检。";
        let lines = wrap(text, 10.0, 100.0);
        assert!(lines.len() > 1);
        assert!(lines.iter().all(|l| width_em(l) * 10.0 <= 100.0));
        assert_eq!(lines.concat(), text);
        assert_eq!(wrap("", 10.0, 100.0), vec![String::new()]);
    }

    #[test]
    fn a_font_file_names_its_face() {
        assert_eq!(
            FontFile::parse("/fonts/a.ttc#2"),
            FontFile {
                path: "/fonts/a.ttc".into(),
                index: 2
            }
        );
        assert_eq!(FontFile::parse("/fonts/b.ttf").index, 0);
    }

    #[test]
    fn without_a_font_there_is_no_pdf() {
        let missing = PdfFont::new(Some(FontFile::parse("/no/such/font.ttc")));
        assert!(render(&missing, "标题", "页脚", &[Line::Text("正文".into())]).is_none());
        assert!(render(&PdfFont::new(None), "标题", "页脚", &[]).is_none());
    }
}
