//! 对接 integration: connected systems (integrators) and their grants, signed requests, public events and their
//! webhooks.

pub mod events;
pub mod integrations;
pub mod signing;
pub mod webhooks;

crate::area_service!(Integration, integration, "对接");
