//! Pure business rules of the off-campus training supervision platform.
//!
//! No IO, no async, no database: everything here is a value and a function over values,
//! so every rule can be tested (and property-tested) in isolation.

pub mod access;
pub mod activity;
pub mod calendar;
pub mod complaint;
pub mod contract;
pub mod credit;
pub mod credit_code;
pub mod error;
pub mod filing;
pub mod funds;
pub mod ids;
pub mod institution;
pub mod instruction;
pub mod lesson;
pub mod money;
pub mod order;
pub mod paging;
pub mod penalty;
pub mod person;
pub mod plate;
pub mod policy;
pub mod refund;
pub mod region;
pub mod review;
pub mod risk;
pub mod sampling;
pub mod schedule;
pub mod service;
pub mod state;
pub mod ticket;
pub mod time;
pub mod warning;

pub use activity::Action;
pub use calendar::WorkingDayCalendar;
pub use complaint::{ComplaintEvent, ComplaintStatus};
pub use error::DomainError;
pub use filing::{FilingEvent, FilingStatus};
pub use funds::{AccountEvent, AccountStatus};
pub use ids::{CourseId, InstitutionId, ListChangeId, NoticeId};
pub use institution::{Category, ListStatus, RegistryEvent, RegistryState, TeachingMode};
pub use instruction::{InstructionEvent, InstructionStatus};
pub use lesson::{LessonEvent, LessonStatus};
pub use money::Fen;
pub use order::{OrderEvent, OrderStatus};
pub use paging::Paging;
pub use plate::{PlateEvent, PlateStatus};
pub use refund::{RefundEvent, RefundStatus};
pub use region::{RegionCode, RegionLevel};
pub use sampling::{SpotCheckEvent, SpotCheckStatus};
pub use state::{Machine, TransitionRefused, UnknownState};
pub use ticket::{TicketEvent, TicketStatus};
pub use time::Timestamp;
pub use warning::{WarningEvent, WarningStatus};
