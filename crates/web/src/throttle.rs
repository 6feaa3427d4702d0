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

/// Sign-in attempts per address per minute by default: generous for a school's shared address, useless
/// for spraying.
pub const SIGN_IN_PER_MINUTE: u32 = 60;

const SIGN_IN_PATHS: &[&str] = &[
    "/api/v1/auth/login",
    "/api/v1/auth/sms-code",
    "/login",
    "/login/parent",
    "/login/parent/code",
    // Sign-ups create accounts: the same quota keeps them from being sprayed.
    "/api/v1/institutions/sign-up",
    "/join",
];

#[derive(Clone)]
pub(crate) struct SignInLimiter {
    limiter: Arc<DefaultKeyedRateLimiter<IpAddr>>,
    trusted_proxies: Arc<Vec<IpAddr>>,
}

impl SignInLimiter {
    pub(crate) fn new(config: &crate::WebConfig) -> SignInLimiter {
        let per_minute = NonZeroU32::new(config.sign_in_per_minute).unwrap_or(NonZeroU32::MIN);
        SignInLimiter {
            limiter: Arc::new(RateLimiter::keyed(Quota::per_minute(per_minute))),
            trusted_proxies: Arc::new(config.trusted_proxies.clone()),
        }
    }

    /// The client's address: the peer, or, when the peer is a trusted reverse proxy, the nearest address
    /// in `X-Forwarded-For` that is not one of ours (anything further left the client could have made up).
    fn client_ip(&self, req: &Request) -> IpAddr {
        // Without connection info (an in-process server in tests) every request counts as one address.
        let peer = req
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map_or(IpAddr::from([0, 0, 0, 0]), |c| c.0.ip());
        if !self.trusted_proxies.contains(&peer) {
            return peer;
        }
        req.headers()
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .filter_map(|a| a.trim().parse::<IpAddr>().ok())
            .rev()
            .find(|a| !self.trusted_proxies.contains(a))
            .unwrap_or(peer)
    }
}

/// Requests per integrator per minute by default.
pub const INTEGRATION_PER_MINUTE: u32 = 600;

/// Per-client quota of the integration API, counted after a request's signature is verified (so nobody
/// else can spend a client's quota).
#[derive(Clone)]
pub(crate) struct IntegrationLimiter(Arc<DefaultKeyedRateLimiter<String>>);

impl IntegrationLimiter {
    pub(crate) fn new(per_minute: u32) -> IntegrationLimiter {
        let per_minute = NonZeroU32::new(per_minute).unwrap_or(NonZeroU32::MIN);
        IntegrationLimiter(Arc::new(RateLimiter::keyed(Quota::per_minute(per_minute))))
    }

    /// Counts one request of `key_id`; 429 `too_many_requests` beyond the quota.
    pub(crate) fn check(&self, key_id: &str) -> Result<(), AppError> {
        self.0.check_key(&key_id.to_owned()).map_err(|refused| {
            AppError::new(
                ErrorCode::TooManyRequests,
                "该客户端本分钟的请求次数已用完",
                "this client's requests per minute are used up",
            )
            .retry_after(wait_secs(&refused))
        })
    }
}

/// The address a request came from, as [`SignInLimiter`] works it out (trusted proxies followed): what
/// sign-in failures are counted against, with the account.
#[derive(Clone, Copy, Debug)]
pub struct ClientAddress(pub IpAddr);

/// Seconds until a refused key may try again, rounded up.
fn wait_secs(refused: &governor::NotUntil<governor::clock::QuantaInstant>) -> u64 {
    use governor::clock::Clock;
    let now = governor::clock::DefaultClock::default().now();
    refused.wait_time_from(now).as_secs() + 1
}

/// Middleware: notes the client's address on every request ([`ClientAddress`]) and refuses sign-in POSTs
/// beyond its quota with 429 and `Retry-After`.
pub(crate) async fn limit_sign_in(
    limiter: SignInLimiter,
    mut req: Request,
    next: Next,
) -> Response {
    let client = limiter.client_ip(&req);
    req.extensions_mut().insert(ClientAddress(client));
    let sign_in = SIGN_IN_PATHS.contains(&req.uri().path())
        || req
            .uri()
            .path()
            .strip_prefix("/login/")
            .is_some_and(|end| !end.contains('/'));
    let refused = if req.method() == Method::POST && sign_in {
        limiter.limiter.check_key(&client).err()
    } else {
        None
    };
    if let Some(refused) = refused {
        let e = AppError::new(
            ErrorCode::TooManyRequests,
            "该地址登录尝试次数过多",
            "too many sign-in attempts from this address",
        )
        .retry_after(wait_secs(&refused));
        return if req.uri().path().starts_with("/api/") {
            ApiError(e).into_response()
        } else {
            PageError(e).into_response()
        };
    }
    next.run(req).await
}
