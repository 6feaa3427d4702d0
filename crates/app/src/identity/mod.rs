//! 身份与账户 identity: signing in (passwords, SMS codes, TOTP), sessions and tokens, the security policy,
//! accounts and their administration, parents and their children.

pub mod admin;
pub mod auth;
pub mod parents;
pub mod security;
pub mod sessions;

crate::area_service!(Identity, identity, "身份与账户");
