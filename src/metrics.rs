//! Counters and histograms for Prometheus (`/metrics`). Recording goes through the `metrics`
//! facade: without an installed recorder (metrics off) every call is a no-op, so core code
//! records freely and stays HTTP-free. Label values are bounded: methods, grant names and
//! provider ids come from code or the configuration, routes from the route table.
use std::sync::OnceLock;

use std::sync::Arc;
use std::time::Duration;

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use metrics_util::MetricKindMask;

use crate::config::ProviderKind;
use crate::keys::KeyStore;
use crate::upstream::Upstream;

/// Request-latency buckets in seconds: a page is milliseconds, a password hash a few hundred.
const LATENCY_BUCKETS: &[f64] = &[0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];

static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// Installs the process-wide Prometheus recorder (once; later calls share it) and returns
/// the handle that renders it; `None` if another recorder was installed first.
pub fn install() -> Option<PrometheusHandle> {
    HANDLE
        .get_or_init(|| {
            let builder = PrometheusBuilder::new()
                .set_buckets_for_metric(
                    Matcher::Full("gatehouse_http_request_duration_seconds".into()),
                    LATENCY_BUCKETS,
                )
                .ok()?
                // A retired key's or a removed provider's gauges go once no longer set (the
                // expiry gauges are set at every scrape).
                .idle_timeout(MetricKindMask::GAUGE, Some(Duration::from_secs(900)));
            match builder.install_recorder() {
                Ok(handle) => Some(handle),
                Err(e) => {
                    tracing::warn!(error = %e, "metrics recorder not installed");
                    None
                }
            }
        })
        .clone()
}

/// A sign-in attempt: `method` (`password`, `federated`…), `provider` (`local` or the
/// upstream id), `outcome` (`success`, `failure`, `throttled`).
pub fn sign_in(method: &'static str, provider: &str, outcome: &'static str) {
    metrics::counter!("gatehouse_sign_ins_total", "method" => method, "provider" => provider.to_owned(), "outcome" => outcome)
        .increment(1);
}

/// Tokens issued at the token endpoint, by grant type.
pub fn token_issued(grant: &'static str) {
    metrics::counter!("gatehouse_tokens_issued_total", "grant" => grant).increment(1);
}

/// An attempt refused by a throttle: `what` is `password_account`, `sign_in_address` or
/// `client_auth_address`.
pub fn throttled(what: &'static str) {
    metrics::counter!("gatehouse_throttled_total", "limit" => what).increment(1);
}

/// An upstream provider's answer that could not be used.
pub fn upstream_error(provider: &str) {
    metrics::counter!("gatehouse_upstream_errors_total", "provider" => provider.to_owned()).increment(1);
}

/// One served request: its route (the pattern, never the raw path), method, status class and
/// duration.
pub fn request(route: String, method: String, status: u16, seconds: f64) {
    metrics::histogram!(
        "gatehouse_http_request_duration_seconds",
        "route" => route,
        "method" => method,
        "status" => format!("{}xx", status / 100)
    )
    .record(seconds);
}

/// How long one SAML provider may take to produce its certificate dates at a scrape (they come
/// from the metadata cache logins use; a fetch happens only when that has expired).
const CERTIFICATE_PROBE_TIMEOUT: Duration = Duration::from_secs(3);

const DAY: f64 = 86_400.0;

/// Sets the expiry gauges, just before a scrape renders them: days until each SAML IdP signing
/// certificate ends, and for the token signing keys (which carry no expiry) each key's age,
/// the days until a current key's scheduled rotation (`rotate_after_days`, 0 = by hand only)
/// and the days until a retired key stops verifying.
pub async fn set_expiry_gauges(
    keys: &KeyStore,
    providers: impl IntoIterator<Item = Arc<dyn Upstream>>,
    rotate_after_days: u64,
    now: i64,
) {
    match keys.list().await {
        Ok(list) => {
            for k in list {
                let (kid, alg) = (k.kid, k.alg);
                let state = if k.retired_at.is_some() { "retired" } else { "current" };
                metrics::gauge!("gatehouse_signing_key_age_days", "kid" => kid.clone(), "alg" => alg.clone(), "state" => state)
                    .set((now - k.created_at) as f64 / DAY);
                match k.retired_at {
                    None if rotate_after_days > 0 => {
                        let due = k.created_at + rotate_after_days as i64 * 86_400;
                        metrics::gauge!("gatehouse_signing_key_rotation_due_days", "kid" => kid, "alg" => alg)
                            .set((due - now) as f64 / DAY);
                    }
                    None => {}
                    Some(retired) => {
                        let ends = retired + keys.grace_secs();
                        metrics::gauge!("gatehouse_signing_key_expiry_days", "kid" => kid, "alg" => alg)
                            .set((ends - now) as f64 / DAY);
                    }
                }
            }
        }
        Err(e) => tracing::warn!(error = %e, "signing keys not read for the expiry gauges"),
    }
    for upstream in providers {
        if upstream.config().kind != ProviderKind::Saml {
            continue;
        }
        let id = upstream.config().id.clone();
        match tokio::time::timeout(CERTIFICATE_PROBE_TIMEOUT, upstream.probe()).await {
            Ok(Ok(probe)) => {
                for c in probe.certificates {
                    metrics::gauge!("gatehouse_saml_idp_certificate_expiry_days", "provider" => id.clone(), "certificate" => c.fingerprint.clone())
                        .set(c.days_left(now));
                }
            }
            Ok(Err(e)) => {
                tracing::warn!(provider = %id, error = %e, "SAML metadata not read for the certificate gauge")
            }
            Err(_) => tracing::warn!(provider = %id, "SAML metadata not read in time for the certificate gauge"),
        }
    }
}
