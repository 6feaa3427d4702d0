//! 监管 supervision: risk warnings and the risk model, spot checks, penalties, credit ratings, annual
//! inspection, list moves and removal, oversight of regulators, dashboards, monitoring, after-school lists
//! and bank quality.

mod lists;

pub mod after_school;
pub mod annual;
pub mod bank_quality;
pub mod credit;
pub mod dashboard;
pub mod monitoring;
pub mod oversight;
pub mod penalties;
pub mod risk;
pub mod spot_checks;

pub use lists::*;

crate::area_service!(Supervision, supervision, "监管");
