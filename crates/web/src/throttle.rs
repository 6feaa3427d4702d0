//! Per-address throttling of sign-in requests. Account lockout stops guessing one account's password; this
//! stops one address from trying many accounts (or sending many SMS codes).

use crate::error::{ApiError, PageError};
use app::{AppError, ErrorCode};
use axum::extract::{ConnectInfo, Request};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::Arc;

/// Sign-in attempts per address per minute: generous for a school's shared address, useless for spraying.
pub const SIGN_IN_PER_MINUTE: u32 = 60;

const SIGN_IN_PATHS: &[&str] = &[
    "/api/v1/auth/login",
    "/api/v1/auth/sms-code",
    "/login",
    "/login/parent",
    "/login/parent/code",
];

#[derive(Clone)]
pub struct SignInLimiter(Arc<DefaultKeyedRateLimiter<IpAddr>>);

impl Default for SignInLimiter {
    fn default() -> Self {
        let quota = Quota::per_minute(NonZeroU32::new(SIGN_IN_PER_MINUTE).expect("non-zero"));
        SignInLimiter(Arc::new(RateLimiter::keyed(quota)))
    }
}

/// Middleware: refuses sign-in POSTs beyond the quota of the peer address with 429.
pub(crate) async fn limit_sign_in(limiter: SignInLimiter, req: Request, next: Next) -> Response {
    if req.method() == Method::POST && SIGN_IN_PATHS.contains(&req.uri().path()) {
        // Without connection info (an in-process server in tests) every request counts as one address.
        let ip = req
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map_or(IpAddr::from([0, 0, 0, 0]), |c| c.0.ip());
        if limiter.0.check_key(&ip).is_err() {
            let e = AppError::new(
                ErrorCode::TooManyRequests,
                "too many sign-in attempts from this address",
            );
            return if req.uri().path().starts_with("/api/") {
                ApiError(e).into_response()
            } else {
                PageError(e).into_response()
            };
        }
    }
    next.run(req).await
}
