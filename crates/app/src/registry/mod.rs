//! 机构名录与备案 the registry: the public directory and its search, onboarding and filing, courses under the
//! region's policy, staff registers and the compliance plates.

mod directory;

pub mod courses;
pub mod onboarding;
pub mod plates;
pub mod policy;
pub mod search;
pub mod staff;

pub use directory::*;

crate::area_service!(Registry, registry, "机构名录与备案");
