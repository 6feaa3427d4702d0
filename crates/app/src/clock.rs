//! Time comes in through a [`Clock`] so policy deadlines can be tested by moving time, not sleeping.

use domain::Timestamp;
use std::sync::atomic::{AtomicI64, Ordering};

pub trait Clock: Send + Sync + std::fmt::Debug {
    fn now(&self) -> Timestamp;

    /// Moves the clock forward, where the clock allows it (the wall clock does not).
    fn advance(&self, _ms: i64) -> bool {
        false
    }
}

/// The wall clock, for production.
#[derive(Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp::from_datetime(chrono::Utc::now())
    }
}

/// A clock that stands still until told to move, for tests and the demo generator.
#[derive(Debug)]
pub struct ManualClock(AtomicI64);

impl ManualClock {
    pub fn at(t: Timestamp) -> ManualClock {
        ManualClock(AtomicI64::new(t.millis()))
    }

    pub fn advance_millis(&self, ms: i64) {
        self.0.fetch_add(ms, Ordering::SeqCst);
    }

    pub fn set(&self, t: Timestamp) {
        self.0.store(t.millis(), Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        Timestamp::from_millis(self.0.load(Ordering::SeqCst))
    }

    fn advance(&self, ms: i64) -> bool {
        self.advance_millis(ms);
        true
    }
}

/// The wall clock plus an offset that only grows: a running test deployment (`serve --test-clock`) whose
/// browser tests move time forward to pass working-day windows while everything else keeps ticking.
#[derive(Debug, Default)]
pub struct OffsetClock(AtomicI64);

impl Clock for OffsetClock {
    fn now(&self) -> Timestamp {
        Timestamp::from_millis(
            chrono::Utc::now().timestamp_millis() + self.0.load(Ordering::SeqCst),
        )
    }

    fn advance(&self, ms: i64) -> bool {
        self.0.fetch_add(ms, Ordering::SeqCst);
        true
    }
}
