//! Per-client-address rate limits (GCRA, the `governor` crate), in memory on each node: a flood
//! from one address is refused before it costs a password hash or a stored record. The
//! per-account throttle (`store::throttles`) is the one every node shares.
use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::time::Duration;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::HeaderMap;
use governor::clock::{Clock, DefaultClock};
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};
use ipnet::IpNet;

use crate::app::AppState;
use crate::config::LimitsConfig;

type Keyed = RateLimiter<IpAddr, DefaultKeyedStateStore<IpAddr>, DefaultClock>;

/// What a limit protects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bucket {
    /// Password and link-confirmation attempts.
    SignIn,
    /// New accounts.
    Registration,
    /// Failed client authentications at the protocol endpoints.
    ClientAuthFailure,
    /// Pending sign-ins stored for unauthenticated browsers.
    Interaction,
}

/// The address limits of this node.
pub struct AddressLimits {
    sign_in: Option<Keyed>,
    registration: Option<Keyed>,
    client_auth_failure: Option<Keyed>,
    interaction: Option<Keyed>,
    /// Addresses over their client-authentication failure limit, until when.
    blocked_clients: moka::sync::Cache<IpAddr, std::time::Instant>,
    trusted_proxies: Vec<IpNet>,
}

fn limiter(quota: Option<Quota>) -> Option<Keyed> {
    quota.map(RateLimiter::keyed)
}

fn per(n: u32, period: Duration) -> Option<Quota> {
    let n = NonZeroU32::new(n)?;
    Quota::with_period(period / n.get()).map(|q| q.allow_burst(n))
}

impl AddressLimits {
    /// Limits as configured (a limit of 0 is off).
    pub fn new(config: &LimitsConfig) -> Result<Self, String> {
        let trusted_proxies = config
            .trusted_proxies
            .iter()
            .map(|p| {
                p.parse::<IpNet>()
                    .or_else(|_| p.parse::<IpAddr>().map(IpNet::from))
                    .map_err(|_| format!("limits.trusted_proxies: {p:?} is not an IP address or CIDR range"))
            })
            .collect::<Result<_, _>>()?;
        let minute = Duration::from_secs(60);
        Ok(Self {
            sign_in: limiter(per(config.sign_in_per_minute, minute)),
            registration: limiter(per(config.registrations_per_hour, Duration::from_secs(3600))),
            client_auth_failure: limiter(per(config.client_auth_failures_per_minute, minute)),
            interaction: limiter(per(config.interactions_per_minute, minute)),
            blocked_clients: moka::sync::Cache::builder()
                .max_capacity(100_000)
                .time_to_live(minute)
                .build(),
            trusted_proxies,
        })
    }

    fn bucket(&self, bucket: Bucket) -> Option<&Keyed> {
        match bucket {
            Bucket::SignIn => self.sign_in.as_ref(),
            Bucket::Registration => self.registration.as_ref(),
            Bucket::ClientAuthFailure => self.client_auth_failure.as_ref(),
            Bucket::Interaction => self.interaction.as_ref(),
        }
    }

    /// Counts one event from `ip`; `Err(seconds to wait)` when it is over the limit.
    pub fn hit(&self, bucket: Bucket, ip: IpAddr) -> Result<(), i64> {
        let Some(limiter) = self.bucket(bucket) else {
            return Ok(());
        };
        limiter.check_key(&ip).map_err(|not_until| {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            tracing::warn!(address = %ip, ?bucket, wait_secs = wait.as_secs(), "rate limit: refused");
            if bucket == Bucket::ClientAuthFailure {
                self.blocked_clients.insert(ip, std::time::Instant::now() + wait);
            }
            wait.as_secs_f64().ceil().max(1.0) as i64
        })
    }

    /// Seconds `ip` must still wait after exceeding its client-authentication failures.
    pub fn client_auth_blocked(&self, ip: IpAddr) -> Option<i64> {
        let until = self.blocked_clients.get(&ip)?;
        let left = until.checked_duration_since(std::time::Instant::now())?;
        Some(left.as_secs_f64().ceil().max(1.0) as i64)
    }

    /// The client's address: the peer, or — when the peer is a trusted proxy — the nearest
    /// `X-Forwarded-For` hop that is not a trusted proxy (earlier hops are the client's to forge).
    pub fn client_address(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        let trusted = |ip: &IpAddr| self.trusted_proxies.iter().any(|net| net.contains(ip));
        if !trusted(&peer) {
            return peer;
        }
        let hops: Vec<IpAddr> = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .filter_map(|hop| hop.trim().parse().ok())
            .collect();
        hops.into_iter().rev().find(|ip| !trusted(ip)).unwrap_or(peer)
    }

    /// Drops the state of addresses that have been quiet (bounds memory under many addresses).
    pub fn forget_quiet(&self) {
        for limiter in [
            &self.sign_in,
            &self.registration,
            &self.client_auth_failure,
            &self.interaction,
        ]
        .into_iter()
        .flatten()
        {
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
    }
}

/// The requesting client's address (see [`AddressLimits::client_address`]).
#[derive(Debug, Clone, Copy)]
pub struct ClientAddress(pub IpAddr);

impl FromRequestParts<AppState> for ClientAddress {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(addr)| addr.ip())
            .unwrap_or(IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED));
        Ok(Self(state.limits.client_address(peer, &parts.headers)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(proxies: &[&str]) -> AddressLimits {
        AddressLimits::new(&LimitsConfig {
            trusted_proxies: proxies.iter().map(|p| p.to_string()).collect(),
            sign_in_per_minute: 3,
            ..Default::default()
        })
        .unwrap()
    }

    #[test]
    fn an_address_over_its_limit_waits_and_others_do_not() {
        let l = limits(&[]);
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let b: IpAddr = "192.0.2.2".parse().unwrap();
        for _ in 0..3 {
            assert_eq!(l.hit(Bucket::SignIn, a), Ok(()));
        }
        let wait = l.hit(Bucket::SignIn, a).unwrap_err();
        assert!((1..=20).contains(&wait), "{wait}");
        assert_eq!(l.hit(Bucket::SignIn, b), Ok(()));
    }

    #[test]
    fn forwarded_for_counts_only_from_a_trusted_proxy() {
        let l = limits(&["10.0.0.0/8", "192.0.2.9"]);
        let mut h = HeaderMap::new();
        h.append(
            "x-forwarded-for",
            "203.0.113.7, 198.51.100.1, 10.1.1.1".parse().unwrap(),
        );
        let proxy: IpAddr = "10.0.0.2".parse().unwrap();
        let direct: IpAddr = "198.51.100.50".parse().unwrap();
        assert_eq!(l.client_address(proxy, &h), "198.51.100.1".parse::<IpAddr>().unwrap());
        assert_eq!(
            l.client_address(direct, &h),
            direct,
            "an untrusted peer's header is ignored"
        );
        assert_eq!(
            l.client_address("192.0.2.9".parse().unwrap(), &HeaderMap::new()),
            "192.0.2.9".parse::<IpAddr>().unwrap()
        );
        assert!(AddressLimits::new(&LimitsConfig {
            trusted_proxies: vec!["not-an-ip".into()],
            ..Default::default()
        })
        .is_err());
    }
}
