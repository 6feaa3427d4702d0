//! 服务 service: complaints, consultations, reviews, the service desk, and the inbox and to-do list of each
//! account.

pub mod complaints;
pub mod consultations;
pub mod inbox;
pub mod reviews;
pub mod service_desk;
pub mod todo;

crate::area_service!(Service, service, "服务");
