//! The public registry: regions, institutions, courses, list changes, notices.

use crate::insert::{AnyQuery, InsertRow};
use crate::{
    CourseRow, InstitutionRow, ListChangeRow, ListedInstitutionRow, NoticeRow, PageRows, Reader,
    RegionRow, RegistryCounts, StoreError, WriteTx,
};
use sqlx::AssertSqlSafe;

crate::repository!(
    /// 名录 institutions, courses, list changes and notices.
    Registry,
    registry
);

const INSTITUTION_COLUMNS: &str = "id, name, credit_code, licence_no, region_code, address, mode, categories, intro, \
     list_status, list_reason, list_changed_at, created_at, updated_at, registry_state";
const COURSE_COLUMNS: &str = "id, institution_id, name, category, mode, grades, lessons, minutes_per_lesson, \
     class_size, price_per_lesson_fen, created_at, first_lesson, last_lesson, preferential_total_fen";

const NOTICE_COLUMNS: &str =
    "id, kind, institution_id, region_code, title, body, published_at, until_at";

impl Registry<&Reader<'_>> {
    pub async fn region(&self, code: &str) -> Result<Option<RegionRow>, StoreError> {
        Ok(sqlx::query_as("SELECT code, name, display_name, level, parent_code, placeholder FROM regions WHERE code = $1")
            .bind(code)
            .fetch_optional(&self.store.pool)
            .await?)
    }

    /// Children of `parent`, or the provinces when `parent` is `None`.
    pub async fn region_children(
        &self,
        parent: Option<&str>,
    ) -> Result<Vec<RegionRow>, StoreError> {
        let rows =
            match parent {
                Some(p) => sqlx::query_as(
                    "SELECT code, name, display_name, level, parent_code, placeholder FROM regions \
                     WHERE parent_code = $1 ORDER BY code",
                )
                .bind(p)
                .fetch_all(&self.store.pool)
                .await?,
                None => sqlx::query_as(
                    "SELECT code, name, display_name, level, parent_code, placeholder FROM regions \
                     WHERE level = 1 ORDER BY code",
                )
                .fetch_all(&self.store.pool)
                .await?,
            };
        Ok(rows)
    }

    pub async fn region_count(&self) -> Result<i64, StoreError> {
        let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM regions")
            .fetch_one(&self.store.pool)
            .await?;
        Ok(n)
    }

    /// County-level (or prefecture-level cities without counties) regions under a province prefix,
    /// for the demo generator.
    pub async fn leaf_regions_in(&self, province_code: &str) -> Result<Vec<RegionRow>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT r.code, r.name, r.display_name, r.level, r.parent_code, r.placeholder FROM regions r \
             WHERE r.code LIKE $1 AND r.level > 1 \
             AND NOT EXISTS (SELECT 1 FROM regions c WHERE c.parent_code = r.code) ORDER BY r.code",
        )
        .bind(format!("{}%", &province_code[..2]))
        .fetch_all(&self.store.pool)
        .await?)
    }

    /// Institutions by id, in no particular order (the caller restores its own).
    pub async fn institutions_by_ids(
        &self,
        ids: &[String],
    ) -> Result<Vec<InstitutionRow>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT {INSTITUTION_COLUMNS} FROM institutions WHERE id IN ({})",
            self.store.backend.placeholders(0, ids.len())
        );
        let mut q = sqlx::query_as(AssertSqlSafe(sql));
        for id in ids {
            q = q.bind(id.clone());
        }
        Ok(q.fetch_all(&self.store.pool).await?)
    }

    /// The institutions holding these supervised accounts at a bank.
    pub async fn institutions_of_accounts(
        &self,
        bank_id: &str,
        account_nos: &[String],
    ) -> Result<Vec<InstitutionRow>, StoreError> {
        let mut out = Vec::new();
        for chunk in account_nos.chunks(500) {
            let sql = format!(
                "SELECT {INSTITUTION_COLUMNS} FROM institutions WHERE id IN \
                 (SELECT institution_id FROM supervised_accounts WHERE bank_id = {} AND account_no IN ({}))",
                self.store.backend.placeholders(0, 1),
                self.store.backend.placeholders(1, chunk.len())
            );
            let mut q = sqlx::query_as(AssertSqlSafe(sql)).bind(bank_id.to_owned());
            for no in chunk {
                q = q.bind(no.clone());
            }
            out.extend(q.fetch_all(&self.store.pool).await?);
        }
        Ok(out)
    }

    /// A keyset-paged scan of all institutions by id, for rebuilding the search index.
    pub async fn institutions_after(
        &self,
        after_id: &str,
        limit: i64,
    ) -> Result<Vec<InstitutionRow>, StoreError> {
        let sql = format!(
            "SELECT {INSTITUTION_COLUMNS} FROM institutions WHERE id > $1 ORDER BY id LIMIT $2"
        );
        Ok(sqlx::query_as(AssertSqlSafe(sql))
            .bind(after_id)
            .bind(limit)
            .fetch_all(&self.store.pool)
            .await?)
    }

    /// Courses of the institutions whose ids lie in `[first_id, last_id]` (pairs with `institutions_after`).
    pub async fn courses_in_id_range(
        &self,
        first_id: &str,
        last_id: &str,
    ) -> Result<Vec<CourseRow>, StoreError> {
        let sql = format!(
            "SELECT {COURSE_COLUMNS} FROM courses WHERE institution_id >= $1 AND institution_id <= $2 \
             ORDER BY institution_id, created_at, id"
        );
        Ok(sqlx::query_as(AssertSqlSafe(sql))
            .bind(first_id)
            .bind(last_id)
            .fetch_all(&self.store.pool)
            .await?)
    }

    pub async fn course(&self, id: &str) -> Result<Option<CourseRow>, StoreError> {
        let sql = format!("SELECT {COURSE_COLUMNS} FROM courses WHERE id = $1");
        Ok(sqlx::query_as(AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(&self.store.pool)
            .await?)
    }

    pub async fn courses_of(&self, institution_id: &str) -> Result<Vec<CourseRow>, StoreError> {
        let sql = format!(
            "SELECT {COURSE_COLUMNS} FROM courses WHERE institution_id = $1 ORDER BY created_at, id"
        );
        Ok(sqlx::query_as(AssertSqlSafe(sql))
            .bind(institution_id)
            .fetch_all(&self.store.pool)
            .await?)
    }

    pub async fn list_changes_of(
        &self,
        institution_id: &str,
    ) -> Result<Vec<ListChangeRow>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT id, institution_id, from_status, to_status, reason, actor, at FROM list_changes \
             WHERE institution_id = $1 ORDER BY at DESC, id DESC",
        )
        .bind(institution_id)
        .fetch_all(&self.store.pool)
        .await?)
    }

    /// One page of a public list (white / grey / black), newest moves first.
    pub async fn listed_institutions(
        &self,
        status: &str,
        limit: i64,
        offset: i64,
    ) -> Result<PageRows<ListedInstitutionRow>, StoreError> {
        let rows = sqlx::query_as(
            "SELECT i.id, i.name, i.region_code, r.display_name AS region_name, i.list_status, i.list_reason, \
             i.list_changed_at FROM institutions i JOIN regions r ON r.code = i.region_code \
             WHERE i.list_status = $1 AND i.registry_state <> 'applying' \
             ORDER BY i.list_changed_at DESC, i.id DESC LIMIT $2 OFFSET $3",
        )
        .bind(status)
        .bind(limit)
        .bind(offset)
        .fetch_all(&self.store.pool)
        .await?;
        let (total,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM institutions WHERE list_status = $1 AND registry_state <> 'applying'")
                .bind(status)
                .fetch_one(&self.store.pool)
                .await?;
        Ok(PageRows { rows, total })
    }

    pub async fn notices(
        &self,
        limit: i64,
        offset: i64,
    ) -> Result<PageRows<NoticeRow>, StoreError> {
        let rows = sqlx::query_as(
            AssertSqlSafe(format!(
                "SELECT {NOTICE_COLUMNS} FROM notices ORDER BY published_at DESC, id DESC LIMIT $1 OFFSET $2"
            )),
        )
        .bind(limit)
        .bind(offset)
        .fetch_all(&self.store.pool)
        .await?;
        let (total,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM notices")
            .fetch_one(&self.store.pool)
            .await?;
        Ok(PageRows { rows, total })
    }

    pub async fn institution_count(&self) -> Result<i64, StoreError> {
        let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM institutions")
            .fetch_one(&self.store.pool)
            .await?;
        Ok(n)
    }

    /// `(count, max updated_at)` of public institutions (not those still applying) and courses: a cheap
    /// fingerprint of what the search index was built from.
    pub async fn registry_fingerprint(&self) -> Result<(i64, i64, i64), StoreError> {
        let (n, max): (i64, Option<i64>) = sqlx::query_as(
            "SELECT COUNT(*), MAX(updated_at) FROM institutions WHERE registry_state <> 'applying'",
        )
        .fetch_one(&self.store.pool)
        .await?;
        let (courses,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM courses")
            .fetch_one(&self.store.pool)
            .await?;
        Ok((n, max.unwrap_or(0), courses))
    }

    pub async fn registry_counts(&self) -> Result<RegistryCounts, StoreError> {
        let by_status: Vec<(String, i64)> =
            sqlx::query_as("SELECT list_status, COUNT(*) FROM institutions WHERE registry_state <> 'applying' GROUP BY list_status")
                .fetch_all(&self.store.pool)
                .await?;
        let count_of = |s: &str| {
            by_status
                .iter()
                .find(|(k, _)| k == s)
                .map_or(0, |(_, n)| *n)
        };
        let (courses_on_sale,): (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM courses c JOIN institutions i ON i.id = c.institution_id WHERE i.list_status = 'white'",
        )
        .fetch_one(&self.store.pool)
        .await?;
        let (counties_covered, provinces_covered): (i64, i64) = sqlx::query_as(
            "SELECT COUNT(DISTINCT region_code), COUNT(DISTINCT SUBSTR(region_code, 1, 2)) FROM institutions \
             WHERE list_status = 'white'",
        )
        .fetch_one(&self.store.pool)
        .await?;
        Ok(RegistryCounts {
            white_institutions: count_of("white"),
            grey_institutions: count_of("grey"),
            black_institutions: count_of("black"),
            courses_on_sale,
            counties_covered,
            provinces_covered,
        })
    }
}

impl InsertRow for InstitutionRow {
    const TABLE: &'static str = "institutions";
    const COLUMNS: &'static str = INSTITUTION_COLUMNS;
    fn bind<'q>(&self, q: AnyQuery<'q>) -> AnyQuery<'q> {
        q.bind(self.id.clone())
            .bind(self.name.clone())
            .bind(self.credit_code.clone())
            .bind(self.licence_no.clone())
            .bind(self.region_code.clone())
            .bind(self.address.clone())
            .bind(self.mode.clone())
            .bind(self.categories.clone())
            .bind(self.intro.clone())
            .bind(self.list_status.as_str())
            .bind(self.list_reason.clone())
            .bind(self.list_changed_at)
            .bind(self.created_at)
            .bind(self.updated_at)
            .bind(self.registry_state.as_str())
    }
}

impl InsertRow for CourseRow {
    const TABLE: &'static str = "courses";
    const COLUMNS: &'static str = COURSE_COLUMNS;
    fn bind<'q>(&self, q: AnyQuery<'q>) -> AnyQuery<'q> {
        q.bind(self.id.clone())
            .bind(self.institution_id.clone())
            .bind(self.name.clone())
            .bind(self.category.clone())
            .bind(self.mode.clone())
            .bind(self.grades.clone())
            .bind(self.lessons)
            .bind(self.minutes_per_lesson)
            .bind(self.class_size)
            .bind(self.price_per_lesson_fen)
            .bind(self.created_at)
            .bind(self.first_lesson.clone())
            .bind(self.last_lesson.clone())
            .bind(self.preferential_total_fen)
    }
}

impl InsertRow for ListChangeRow {
    const TABLE: &'static str = "list_changes";
    const COLUMNS: &'static str = "id, institution_id, from_status, to_status, reason, actor, at";
    fn bind<'q>(&self, q: AnyQuery<'q>) -> AnyQuery<'q> {
        q.bind(self.id.clone())
            .bind(self.institution_id.clone())
            .bind(self.from_status.clone())
            .bind(self.to_status.clone())
            .bind(self.reason.clone())
            .bind(self.actor.clone())
            .bind(self.at)
    }
}

impl InsertRow for NoticeRow {
    const TABLE: &'static str = "notices";
    const COLUMNS: &'static str = NOTICE_COLUMNS;
    fn bind<'q>(&self, q: AnyQuery<'q>) -> AnyQuery<'q> {
        q.bind(self.id.clone())
            .bind(self.kind.clone())
            .bind(self.institution_id.clone())
            .bind(self.region_code.clone())
            .bind(self.title.clone())
            .bind(self.body.clone())
            .bind(self.published_at)
            .bind(self.until_at)
    }
}

impl Registry<&mut WriteTx> {
    pub async fn insert_institutions(&mut self, rows: &[InstitutionRow]) -> Result<(), StoreError> {
        self.insert(rows).await
    }

    pub async fn insert_courses(&mut self, rows: &[CourseRow]) -> Result<(), StoreError> {
        self.insert(rows).await
    }

    pub async fn insert_list_changes(&mut self, rows: &[ListChangeRow]) -> Result<(), StoreError> {
        self.insert(rows).await
    }

    /// The institution inside this transaction, locked until it ends (list moves, penalties, run-off: one
    /// decision at a time, and none while an order is placed or paid on what it says now).
    pub async fn institution_for_update(
        &mut self,
        id: &str,
    ) -> Result<Option<InstitutionRow>, StoreError> {
        let sql = format!(
            "SELECT {INSTITUTION_COLUMNS} FROM institutions WHERE id = $1{}",
            self.backend.row_lock_suffix()
        );
        Ok(sqlx::query_as(AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(&mut *self.tx)
            .await?)
    }

    /// The institution inside this transaction, held against a concurrent change of its standing (a
    /// black-listing, a run-off, a penalty) until the transaction ends: what an order is placed or paid on.
    pub async fn institution_for_share(
        &mut self,
        id: &str,
    ) -> Result<Option<InstitutionRow>, StoreError> {
        let sql = format!(
            "SELECT {INSTITUTION_COLUMNS} FROM institutions WHERE id = $1{}",
            self.backend.share_lock_suffix()
        );
        Ok(sqlx::query_as(AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(&mut *self.tx)
            .await?)
    }

    /// The institutions of the orders with these numbers (one bank batch, up to 500), held as
    /// [`Registry::institution_for_share`] holds one, in id order: what a batch of payments is taken on, in one
    /// round trip.
    pub async fn institutions_of_orders_for_share(
        &mut self,
        order_nos: &[String],
    ) -> Result<Vec<InstitutionRow>, StoreError> {
        if order_nos.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT {INSTITUTION_COLUMNS} FROM institutions WHERE id IN \
             (SELECT institution_id FROM orders WHERE order_no IN ({})) ORDER BY id{}",
            self.backend.placeholders(0, order_nos.len()),
            self.backend.share_lock_suffix()
        );
        let mut q = sqlx::query_as(AssertSqlSafe(sql));
        for no in order_nos {
            q = q.bind(no.clone());
        }
        Ok(q.fetch_all(&mut *self.tx).await?)
    }

    /// Moves an institution to a list (the caller records the `list_changes` row and evidence).
    pub async fn set_list_status(
        &mut self,
        id: &str,
        status: domain::ListStatus,
        reason: &str,
        at: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE institutions SET list_status = $2, list_reason = $3, list_changed_at = $4, updated_at = $4 \
             WHERE id = $1",
        )
        .bind(id)
        .bind(status.as_str())
        .bind(reason)
        .bind(at)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    /// The public record's filed fields: name, address and school-running licence number.
    pub async fn apply_filed_record(
        &mut self,
        id: &str,
        name: &str,
        address: &str,
        licence_no: &str,
        at: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE institutions SET name = $2, address = $3, licence_no = $4, updated_at = $5 WHERE id = $1",
        )
        .bind(id)
        .bind(name)
        .bind(address)
        .bind(licence_no)
        .bind(at)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    /// `applying`, `listed` or `removed`.
    pub async fn set_registry_state(
        &mut self,
        id: &str,
        event: domain::RegistryEvent,
        at: i64,
    ) -> Result<(), StoreError> {
        let (to, from) = crate::states::transition::<domain::RegistryState>(event);
        let sql = format!(
            "UPDATE institutions SET registry_state = $2, updated_at = $3 WHERE id = $1 AND registry_state IN ({from})"
        );
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .bind(to)
            .bind(at)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    pub async fn insert_notices(&mut self, rows: &[NoticeRow]) -> Result<(), StoreError> {
        self.insert(rows).await
    }
}

/// 课表 one session of a course.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct CourseSessionRow {
    pub id: String,
    pub course_id: String,
    pub institution_id: String,
    pub lesson_no: i64,
    /// `YYYY-MM-DD`.
    pub session_date: String,
    pub start_minute: i64,
    pub end_minute: i64,
    pub teacher_id: String,
    pub room: String,
}

const SESSION_COLUMNS: &str = "id, course_id, institution_id, lesson_no, session_date, start_minute, end_minute, \
     teacher_id, room";

impl InsertRow for CourseSessionRow {
    const TABLE: &'static str = "course_sessions";
    const COLUMNS: &'static str = SESSION_COLUMNS;
    fn bind<'q>(&self, q: AnyQuery<'q>) -> AnyQuery<'q> {
        q.bind(self.id.clone())
            .bind(self.course_id.clone())
            .bind(self.institution_id.clone())
            .bind(self.lesson_no)
            .bind(self.session_date.clone())
            .bind(self.start_minute)
            .bind(self.end_minute)
            .bind(self.teacher_id.clone())
            .bind(self.room.clone())
    }
}

impl Registry<&mut WriteTx> {
    pub async fn insert_course_sessions(
        &mut self,
        rows: &[CourseSessionRow],
    ) -> Result<(), StoreError> {
        self.insert(rows).await
    }

    /// The institution's sessions between two dates (inclusive), with their courses' names: read inside the
    /// transaction that adds a course, so two courses cannot take the same teacher or room at once.
    pub async fn sessions_between(
        &mut self,
        institution_id: &str,
        from: &str,
        to: &str,
    ) -> Result<Vec<(CourseSessionRow, String)>, StoreError> {
        let sql = format!(
            "SELECT {}, c.name FROM course_sessions s JOIN courses c ON c.id = s.course_id \
             WHERE s.institution_id = $1 AND s.session_date >= $2 AND s.session_date <= $3 ORDER BY s.session_date",
            SESSION_COLUMNS
                .split(", ")
                .map(|c| format!("s.{c}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        let rows: Vec<SessionWithCourse> = sqlx::query_as(AssertSqlSafe(sql))
            .bind(institution_id)
            .bind(from)
            .bind(to)
            .fetch_all(&mut *self.tx)
            .await?;
        Ok(rows.into_iter().map(|r| (r.session, r.name)).collect())
    }
}

#[derive(sqlx::FromRow)]
struct SessionWithCourse {
    #[sqlx(flatten)]
    session: CourseSessionRow,
    name: String,
}

impl<S: crate::Connection> Registry<S> {
    /// The institution as this transaction reads it, unlocked: for what it says (its region), not for a decision
    /// on its standing.
    pub async fn institution(&mut self, id: &str) -> Result<Option<InstitutionRow>, StoreError> {
        let sql = format!("SELECT {INSTITUTION_COLUMNS} FROM institutions WHERE id = $1");
        Ok(sqlx::query_as(AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(self.0.executor())
            .await?)
    }
}
