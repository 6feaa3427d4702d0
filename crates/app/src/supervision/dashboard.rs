//! 监管看板 the regulator's dashboard for its region's subtree, drilling down national → province → prefecture →
//! county: institutions by list status and mode, money collected, released, refunded and still in escrow with
//! daily trends, supervised-account coverage, and live risk warnings by level. Every figure comes from rollups
//! kept in the events' own transactions for every level at once (`store::dashboard`), so any region is an
//! exact-key read, never a scan of orders.

use crate::regions::RegionView;
use crate::supervision::Supervision;
use crate::{Actor, AppError, ErrorCode};
use domain::access::Permission;
use domain::{ListStatus, RegionCode, Timestamp};
use serde::Serialize;
use store::{MoneyRollup, WriteTx};

/// Adds an event's money to its institution's county and China day, inside the event's transaction.
pub(crate) async fn roll_up_in(
    tx: &mut WriteTx,
    institution_id: &str,
    now: i64,
    delta: &MoneyRollup,
) -> Result<(), AppError> {
    // Only its region is read: a payment holds the institution FOR SHARE, and a lock here would deadlock two
    // payments of one institution against each other.
    let institution = tx
        .registry()
        .institution(institution_id)
        .await?
        .ok_or_else(|| AppError::internal("money of a missing institution"))?;
    roll_up_region(tx, &institution.region_code, now, delta);
    Ok(())
}

/// [`roll_up_in`] for an institution whose region the caller has read already.
pub(crate) fn roll_up_region(tx: &mut WriteTx, region_code: &str, now: i64, delta: &MoneyRollup) {
    let day = Timestamp::from_millis(now).china_date().to_string();
    tx.dashboard().add_money_rollup(region_code, &day, delta);
}

/// Money figures in fen, with the escrow still held (collected − released − refunded).
#[derive(Clone, Debug, Default, Serialize, utoipa::ToSchema)]
pub struct MoneyFigures {
    pub orders_paid: i64,
    pub collected_fen: i64,
    pub released_fen: i64,
    pub refunded_fen: i64,
    pub escrow_fen: i64,
    pub collected_display: String,
    pub released_display: String,
    pub refunded_display: String,
    pub escrow_display: String,
}

impl From<&MoneyRollup> for MoneyFigures {
    fn from(r: &MoneyRollup) -> Self {
        let escrow = r
            .collected_fen
            .saturating_sub(r.released_fen)
            .saturating_sub(r.refunded_fen);
        MoneyFigures {
            orders_paid: r.orders_paid,
            collected_fen: r.collected_fen,
            released_fen: r.released_fen,
            refunded_fen: r.refunded_fen,
            escrow_fen: escrow,
            collected_display: domain::money::yuan(r.collected_fen),
            released_display: domain::money::yuan(r.released_fen),
            refunded_display: domain::money::yuan(r.refunded_fen),
            escrow_display: domain::money::yuan(escrow),
        }
    }
}

/// One day of the trend; in the weekly and monthly trends, the period's first day (a Monday, the 1st).
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct DayFigures {
    pub day: String,
    pub orders_paid: i64,
    pub collected_fen: i64,
    pub released_fen: i64,
    pub refunded_fen: i64,
}

/// Weeks and months shown in the longer trends.
pub const TREND_PERIODS: u32 = 12;

/// The days' figures summed into the periods starting on `starts` (ascending); `start_of` maps a day to its
/// period's start. Every period appears, zero where nothing happened.
fn fold_periods(
    days: &[MoneyRollup],
    starts: &[chrono::NaiveDate],
    start_of: impl Fn(chrono::NaiveDate) -> chrono::NaiveDate,
) -> Result<Vec<DayFigures>, AppError> {
    let mut out: Vec<DayFigures> = starts
        .iter()
        .map(|d| DayFigures {
            day: d.to_string(),
            orders_paid: 0,
            collected_fen: 0,
            released_fen: 0,
            refunded_fen: 0,
        })
        .collect();
    let overflow = || AppError::internal("trend overflow");
    for r in days {
        let Ok(day) = chrono::NaiveDate::parse_from_str(&r.key, "%Y-%m-%d") else {
            continue;
        };
        let Ok(i) = starts.binary_search(&start_of(day)) else {
            continue;
        };
        let p = &mut out[i];
        p.orders_paid = p
            .orders_paid
            .checked_add(r.orders_paid)
            .ok_or_else(overflow)?;
        p.collected_fen = p
            .collected_fen
            .checked_add(r.collected_fen)
            .ok_or_else(overflow)?;
        p.released_fen = p
            .released_fen
            .checked_add(r.released_fen)
            .ok_or_else(overflow)?;
        p.refunded_fen = p
            .refunded_fen
            .checked_add(r.refunded_fen)
            .ok_or_else(overflow)?;
    }
    Ok(out)
}

/// 投诉 in the region not yet closed, and those past their deadline.
#[derive(Clone, Debug, Default, Serialize, utoipa::ToSchema)]
pub struct ComplaintBacklog {
    /// Waiting for the institution's answer (5 working days).
    pub with_institution: i64,
    pub institution_overdue: i64,
    /// Answered, waiting for the parent to accept or escalate.
    pub answered: i64,
    /// Escalated to the regulator, waiting for a ruling.
    pub with_regulator: i64,
    pub regulator_overdue: i64,
}

/// One sub-region, for the drill-down.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct ChildFigures {
    pub region: RegionView,
    pub money: MoneyFigures,
}

/// Institutions by list status and mode.
#[derive(Clone, Debug, Default, Serialize, utoipa::ToSchema)]
pub struct InstitutionFigures {
    pub total: i64,
    pub white: i64,
    pub grey: i64,
    pub black: i64,
    pub online: i64,
    pub offline: i64,
    /// Supervised accounts the banks confirmed, and their number as a share of the white list (an institution
    /// normally holds one; capped at 100).
    pub supervised: i64,
    pub supervised_percent: i64,
}

/// Live warnings by level.
#[derive(Clone, Debug, Default, Serialize, utoipa::ToSchema)]
pub struct WarningFigures {
    pub red: i64,
    pub orange: i64,
    pub yellow: i64,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Dashboard {
    pub region_code: String,
    pub region_name: String,
    /// From the nation down to this region, for the way back up.
    pub lineage: Vec<RegionView>,
    pub days: u32,
    pub money: MoneyFigures,
    pub trend: Vec<DayFigures>,
    /// The last 12 weeks (Monday to Sunday, China time) and the last 12 months, this one included.
    pub weekly: Vec<DayFigures>,
    pub monthly: Vec<DayFigures>,
    pub complaints: ComplaintBacklog,
    pub children: Vec<ChildFigures>,
    pub institutions: InstitutionFigures,
    pub warnings: WarningFigures,
}

/// At most this many days of trend.
pub const MAX_DAYS: u32 = 366;

impl<'a> Supervision<'a> {
    /// The dashboard of `region` (the regulator's own when `None`), which must lie in the regulator's region;
    /// the trend covers the last `days` China days.
    pub async fn dashboard(
        self,
        actor: &Actor,
        region: Option<&str>,
        days: u32,
    ) -> Result<Dashboard, AppError> {
        let own = match actor {
            Actor::Regulator { region, .. } => *region,
            _ => RegionCode::NATIONAL,
        };
        let region = match region.map(str::trim).filter(|r| !r.is_empty()) {
            Some(r) => RegionCode::parse(r)?,
            None => own,
        };
        self.require_regulator_over(
            actor,
            Permission::ViewInstitutionPrivate,
            &region,
            &format!("region:{}", region.as_str()),
        )
        .await?;
        if !(1..=MAX_DAYS).contains(&days) {
            return Err(AppError::new(
                ErrorCode::InvalidParameter,
                format!("天数：1至{MAX_DAYS}"),
                format!("days: 1 to {MAX_DAYS}"),
            ));
        }
        if region != RegionCode::NATIONAL && !self.regions.known(&region) {
            return Err(AppError::new(
                ErrorCode::UnknownRegion,
                "没有这个行政区划",
                "no such region",
            ));
        }
        let prefix = region.prefix();
        let read = self.store.read();
        let today = self.clock.now().china_date();
        let from = today - chrono::Days::new(u64::from(days - 1));
        use chrono::Datelike;
        let monday = |d: chrono::NaiveDate| {
            d - chrono::Days::new(u64::from(d.weekday().num_days_from_monday()))
        };
        let first_of_month = |d: chrono::NaiveDate| d.with_day(1).unwrap_or(d);
        let weeks: Vec<chrono::NaiveDate> = (0..TREND_PERIODS)
            .rev()
            .map(|k| monday(today) - chrono::Days::new(7 * u64::from(k)))
            .collect();
        let months: Vec<chrono::NaiveDate> = (0..TREND_PERIODS)
            .rev()
            .filter_map(|k| first_of_month(today).checked_sub_months(chrono::Months::new(k)))
            .collect();
        let read_from = [from, weeks[0], months[0]]
            .into_iter()
            .min()
            .unwrap_or(from);
        let by_day = read
            .dashboard()
            .money_by_day(region.as_str(), &read_from.to_string())
            .await?;
        let weekly = fold_periods(&by_day, &weeks, monday)?;
        let monthly = fold_periods(&by_day, &months, first_of_month)?;
        let (with_institution, institution_overdue, answered, with_regulator, regulator_overdue) =
            read.dashboard()
                .open_complaint_counts(prefix, self.clock.now().millis())
                .await?;
        // Every day of the period, zero where nothing happened, so the chart's axis is even. (A block: the
        // row iterator must not live across the awaits below.)
        let trend = {
            let from_key = from.to_string();
            let mut trend = Vec::with_capacity(days as usize);
            let mut rows = by_day.iter().filter(|r| r.key >= from_key).peekable();
            for d in from.iter_days().take(days as usize) {
                let key = d.to_string();
                let row = rows.next_if(|r| r.key == key);
                trend.push(DayFigures {
                    orders_paid: row.map_or(0, |r| r.orders_paid),
                    collected_fen: row.map_or(0, |r| r.collected_fen),
                    released_fen: row.map_or(0, |r| r.released_fen),
                    refunded_fen: row.map_or(0, |r| r.refunded_fen),
                    day: key,
                });
            }
            trend
        };
        let complaints = ComplaintBacklog {
            with_institution,
            institution_overdue,
            answered,
            with_regulator,
            regulator_overdue,
        };
        let child_level = match region.level() {
            domain::RegionLevel::National => 1,
            domain::RegionLevel::Province => 2,
            _ => 3,
        };
        let by_child = read.dashboard().money_by_child(prefix, child_level).await?;
        let children = self
            .regions
            .children(&region)
            .into_iter()
            .map(|r| {
                let money = by_child
                    .iter()
                    .find(|m| m.key == r.code)
                    .map(MoneyFigures::from)
                    .unwrap_or_else(|| MoneyFigures::from(&MoneyRollup::default()));
                ChildFigures { region: r, money }
            })
            .collect();
        let mut institutions = InstitutionFigures::default();
        for (status, mode, n) in read.dashboard().institution_counts(region.as_str()).await? {
            institutions.total += n;
            match ListStatus::parse(&status) {
                Ok(ListStatus::White) => institutions.white += n,
                Ok(ListStatus::Grey) => institutions.grey += n,
                _ => institutions.black += n,
            }
            if mode == "online" {
                institutions.online += n;
            } else {
                institutions.offline += n;
            }
        }
        let supervised = read.dashboard().confirmed_accounts(region.as_str()).await?;
        institutions.supervised = supervised;
        institutions.supervised_percent = if institutions.white > 0 {
            (supervised * 100 / institutions.white).min(100)
        } else {
            0
        };
        let mut warnings = WarningFigures::default();
        for (level, n) in read.dashboard().live_warning_counts(prefix).await? {
            match level.as_str() {
                "red" => warnings.red = n,
                "orange" => warnings.orange = n,
                _ => warnings.yellow = n,
            }
        }
        let total = read.dashboard().money_total(region.as_str()).await?;
        Ok(Dashboard {
            region_code: region.as_str().to_owned(),
            region_name: if region == RegionCode::NATIONAL {
                "全国".into()
            } else {
                self.regions.full_name(&region)
            },
            lineage: if region == RegionCode::NATIONAL {
                Vec::new()
            } else {
                self.regions.lineage_views(&region)
            },
            days,
            money: MoneyFigures::from(&total),
            trend,
            weekly,
            monthly,
            complaints,
            children,
            institutions,
            warnings,
        })
    }
}
