use crate::DomainError;

/// A validated page request: `page` from 1, `per_page` from 1 to [`Paging::MAX_PER_PAGE`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Paging {
    page: u32,
    per_page: u32,
}

impl Paging {
    pub const MAX_PER_PAGE: u32 = 100;
    pub const DEFAULT_PER_PAGE: u32 = 20;
    /// Deep pages cost a search engine as much as all the pages before them; nobody reads page 500.
    pub const MAX_OFFSET: u64 = 10_000;

    pub fn new(page: Option<i64>, per_page: Option<i64>) -> Result<Self, DomainError> {
        let page = page.unwrap_or(1);
        if page < 1 || page > i64::from(u32::MAX) {
            return Err(DomainError::InvalidPage(page));
        }
        let per_page = per_page.unwrap_or(i64::from(Self::DEFAULT_PER_PAGE));
        if !(1..=i64::from(Self::MAX_PER_PAGE)).contains(&per_page) {
            return Err(DomainError::PerPageOutOfRange {
                max: Self::MAX_PER_PAGE,
                got: per_page,
            });
        }
        let paging = Paging {
            page: page as u32,
            per_page: per_page as u32,
        };
        if paging.offset() > Self::MAX_OFFSET {
            return Err(DomainError::InvalidPage(page));
        }
        Ok(paging)
    }

    pub fn page(self) -> u32 {
        self.page
    }

    pub fn per_page(self) -> u32 {
        self.per_page
    }

    pub fn offset(self) -> u64 {
        u64::from(self.page - 1) * u64::from(self.per_page)
    }

    /// The number of pages needed for `total` items (at least 1, so "page 1 of 1" reads right).
    pub fn page_count(self, total: u64) -> u64 {
        total.div_ceil(u64::from(self.per_page)).max(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds() {
        assert_eq!(Paging::new(None, None).unwrap().offset(), 0);
        assert_eq!(Paging::new(Some(3), Some(10)).unwrap().offset(), 20);
        assert_eq!(Paging::new(Some(0), None), Err(DomainError::InvalidPage(0)));
        assert_eq!(
            Paging::new(Some(-1), None),
            Err(DomainError::InvalidPage(-1))
        );
        assert_eq!(
            Paging::new(None, Some(101)),
            Err(DomainError::PerPageOutOfRange { max: 100, got: 101 })
        );
        assert_eq!(
            Paging::new(None, Some(0)),
            Err(DomainError::PerPageOutOfRange { max: 100, got: 0 })
        );
        assert!(
            Paging::new(Some(10_000), Some(100)).is_err(),
            "deep pages are refused"
        );
        assert_eq!(Paging::new(None, Some(20)).unwrap().page_count(41), 3);
        assert_eq!(Paging::new(None, Some(20)).unwrap().page_count(0), 1);
    }
}
