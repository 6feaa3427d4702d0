//! 出站请求 One policy for every request the platform makes — integrators' webhooks, instructions to banks, and
//! anything later: only global addresses (the IANA special-purpose registries, as the `iprfc` crate keeps them,
//! and for IPv6 only global unicast `2000::/3`, which leaves out every form that embeds an IPv4 address — mapped,
//! compatible, NAT64 — and 6to4 and Teredo explicitly); names resolved once, by the client's own resolver, and the
//! connection made to the address that was checked; no redirects; bounded time and answer size. Loopback and
//! private addresses only where the operator allows them (the sandbox, the test clock, the local demo).

use crate::AppError;
use crate::error::field_label;
use iprfc::{Filter, RFCs};
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

/// The longest URL the platform keeps for an outgoing endpoint.
pub const MAX_URL_CHARS: usize = 500;
/// The most of an answer the platform reads; the rest is not read.
pub const MAX_ANSWER_BYTES: usize = 64 * 1024;
/// A request gives up after this long, connecting included.
pub const TIMEOUT: Duration = Duration::from_secs(10);

/// The blocks no outgoing request may reach: the special-purpose registry (RFC 6890: this network, private,
/// shared 100.64/10, loopback, link-local, IETF protocol assignments, documentation, benchmarking 198.18/15,
/// reserved 240/4, broadcast, NAT64, IPv4-mapped, discard, unique local …), multicast (RFC 3171, RFC 4291),
/// IPv6's own special blocks (RFC 4291: unspecified, IPv4-compatible, site-local `fec0::/10`), 6to4 (RFC 3056),
/// Teredo (RFC 4380) and the documentation block of RFC 9637.
const NOT_GLOBAL: Filter = Filter::RFC6890
    .union(Filter::RFC3171)
    .union(Filter::RFC4291)
    .union(Filter::RFC919)
    .union(Filter::RFC6598)
    .union(Filter::RFC6052)
    .union(Filter::RFC3056)
    .union(Filter::RFC4380)
    .union(Filter::RFC9637);

/// Whether an outgoing request may reach `ip`.
pub fn is_global(ip: IpAddr) -> bool {
    let special = RFCs::filter(NOT_GLOBAL);
    match ip {
        IpAddr::V4(v4) => !special.contains(&v4),
        IpAddr::V6(v6) => {
            // IANA's IPv6 address space: only 2000::/3 is global unicast.
            let global_unicast = (v6.segments()[0] & 0xe000) == 0x2000;
            global_unicast && !special.contains(&v6) && !special.contains(&canonical(v6))
        }
    }
}

/// An IPv4-mapped address as the IPv4 address it is (so the IPv4 blocks judge it too).
fn canonical(v6: Ipv6Addr) -> IpAddr {
    v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4)
}

/// Checks an endpoint address when it is set: http(s), at most [`MAX_URL_CHARS`], no credentials in it, and —
/// unless `allow_local` — no literal non-global address and no `localhost` name. Names are checked again at
/// every request, when they are resolved.
pub fn check_url(field: &str, raw: &str, allow_local: bool) -> Result<url::Url, AppError> {
    let raw = raw.trim();
    let refused = |zh: &str, en: &str| {
        AppError::invalid(
            format!("{}：{zh}", field_label(field)),
            format!("{field}: {en}"),
        )
        .on(field)
    };
    let url = url::Url::parse(raw)
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
        .filter(|_| raw.chars().count() <= MAX_URL_CHARS)
        .ok_or_else(|| {
            refused(
                "须为不超过500个字符的 http(s) 地址",
                "an http(s) address of at most 500 characters",
            )
        })?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(refused(
            "地址中不能包含用户名或密码",
            "no user name or password in the address",
        ));
    }
    if !allow_local && refused_host(&url).is_some() {
        return Err(refused(
            "须为公网地址（回环、内网等特殊地址仅限沙箱环境）",
            "a public address (loopback, private and other special-purpose addresses only in the sandbox)",
        ));
    }
    Ok(url)
}

/// Why a request to `url` may not go out, judged on its host as written: a literal address that is not
/// global, or a local name. (A name is judged on what it resolves to, by [`client`]'s resolver.)
fn refused_host(url: &url::Url) -> Option<String> {
    match url.host()? {
        url::Host::Ipv4(ip) => {
            (!is_global(IpAddr::V4(ip))).then(|| format!("{ip} is not a global address"))
        }
        url::Host::Ipv6(ip) => {
            (!is_global(IpAddr::V6(ip))).then(|| format!("{ip} is not a global address"))
        }
        url::Host::Domain(name) => {
            let name = name.trim_end_matches('.').to_ascii_lowercase();
            (name == "localhost" || name.ends_with(".localhost"))
                .then(|| format!("{name} is a local name"))
        }
    }
}

/// The platform's outgoing HTTP client: [`TIMEOUT`], no redirects (one could lead anywhere), no proxy from the
/// environment (a proxy would resolve names itself), and — unless `allow_local` — names resolved to global
/// addresses only, which are the addresses it then connects to.
pub fn client(allow_local: bool) -> Result<reqwest::Client, AppError> {
    let builder = reqwest::Client::builder()
        .timeout(TIMEOUT)
        .connect_timeout(TIMEOUT / 2)
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy();
    let builder = if allow_local {
        builder
    } else {
        builder.dns_resolver(Arc::new(GlobalAddressesOnly))
    };
    builder
        .build()
        .map_err(|e| AppError::internal(format!("outgoing HTTP client: {e}")))
}

/// Checks a request's URL just before it goes out: a literal address never reaches the resolver, so it is
/// judged here, every time (an address stored before this policy, or written into the database, included).
pub fn check_before_sending(url: &url::Url, allow_local: bool) -> Result<(), String> {
    if allow_local {
        return Ok(());
    }
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!(
            "refused by the egress policy: scheme {}",
            url.scheme()
        ));
    }
    match refused_host(url) {
        Some(why) => Err(format!("refused by the egress policy: {why}")),
        None if url.host().is_none() => Err("refused by the egress policy: no host".to_owned()),
        None => Ok(()),
    }
}

/// Reads at most [`MAX_ANSWER_BYTES`] of an answer; a longer one is cut there.
pub async fn read_bounded(mut response: reqwest::Response) -> Vec<u8> {
    let mut out = Vec::new();
    while let Ok(Some(chunk)) = response.chunk().await {
        let room = MAX_ANSWER_BYTES - out.len();
        out.extend_from_slice(&chunk[..chunk.len().min(room)]);
        if out.len() >= MAX_ANSWER_BYTES {
            break;
        }
    }
    out
}

/// Resolves names and keeps only global addresses, so a public name pointed at the platform's own network (DNS
/// rebinding) reaches nothing.
struct GlobalAddressesOnly;

impl reqwest::dns::Resolve for GlobalAddressesOnly {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let global: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await?
                .filter(|a| is_global(a.ip()))
                .collect();
            if global.is_empty() {
                return Err(format!("{host} resolves to no global address").into());
            }
            Ok(Box::new(global.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_special_purpose_address_is_refused_and_global_ones_pass() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.0.9",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "100.100.100.200", // a cloud's metadata service, in the shared address space
            "192.0.0.8",
            "192.0.2.1",
            "198.18.0.1",
            "198.51.100.1",
            "203.0.113.7",
            "240.0.0.1",
            "255.255.255.255",
            "224.0.0.1",
            "239.255.255.250",
            "::",
            "::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "::127.0.0.1",                          // IPv4-compatible
            "::a9fe:a9fe",                          // IPv4-compatible 169.254.169.254
            "64:ff9b::a9fe:a9fe",                   // NAT64 of 169.254.169.254
            "64:ff9b:1::a00:1",                     // local-use NAT64
            "2002:a9fe:a9fe::1",                    // 6to4 of 169.254.169.254
            "2002:7f00:1::1",                       // 6to4 of 127.0.0.1
            "2001:0:4136:e378:8000:63bf:3fff:fdd2", // Teredo
            "2001:db8::1",
            "3fff::1",
            "fc00::1",
            "fd00::1",
            "fe80::1",
            "fec0::1",
            "ff02::1",
            "100::1",
        ] {
            let parsed: IpAddr = ip.parse().unwrap();
            assert!(!is_global(parsed), "{ip} must be refused");
        }
        for ip in [
            "8.8.8.8",
            "1.1.1.1",
            "114.114.114.114",
            "2400:3200::1",
            "2001:4860:4860::8888",
        ] {
            let parsed: IpAddr = ip.parse().unwrap();
            assert!(is_global(parsed), "{ip} must pass");
        }
    }

    #[test]
    fn endpoints_are_checked_when_set() {
        let refused = |u: &str| check_url("url", u, false).is_err();
        for u in [
            "http://127.0.0.1:8080/hook",
            "http://[::ffff:127.0.0.1]/hook",
            "http://[64:ff9b::a9fe:a9fe]/latest/meta-data",
            "http://100.100.100.200/latest/meta-data",
            "http://localhost/hook",
            "http://api.LOCALHOST./hook",
            "https://user:secret@saas.example.com/hook",
            "ftp://saas.example.com/hook",
            "file:///etc/passwd",
        ] {
            assert!(refused(u), "{u}");
        }
        assert!(check_url("url", "https://saas.example.com/hook", false).is_ok());
        assert!(check_url("url", "http://127.0.0.1:8090/instructions", true).is_ok());
        let long = format!("https://saas.example.com/{}", "a".repeat(500));
        assert!(check_url("url", &long, true).is_err());
    }

    #[tokio::test]
    async fn a_name_that_resolves_to_a_local_address_reaches_nothing() {
        use reqwest::dns::Resolve;
        let name: reqwest::dns::Name = "localhost".parse().unwrap();
        let refused = GlobalAddressesOnly.resolve(name).await;
        assert!(refused.is_err_and(|e| e.to_string().contains("no global address")));
        // Through the client the refusal is the resolver's, not a connection that failed.
        let sent = client(false)
            .unwrap()
            .post("http://localhost:9/hook")
            .send()
            .await
            .unwrap_err();
        assert!(
            format!("{sent:?}").contains("no global address"),
            "{sent:?}"
        );
    }

    #[test]
    fn a_literal_address_is_judged_at_every_request() {
        let at = |u: &str| url::Url::parse(u).unwrap();
        assert!(check_before_sending(&at("http://10.0.0.1/x"), false).is_err());
        assert!(check_before_sending(&at("http://[fec0::1]/x"), false).is_err());
        assert!(check_before_sending(&at("https://bank.example.com/x"), false).is_ok());
        assert!(check_before_sending(&at("http://10.0.0.1/x"), true).is_ok());
    }
}
