//! Counters and histograms for Prometheus (`/metrics`). Recording goes through the `metrics`
//! facade: without an installed recorder (metrics off) every call is a no-op, so core code
//! records freely and stays HTTP-free. Label values are bounded: methods, grant names and
//! provider ids come from code or the configuration, routes from the route table.
use std::sync::OnceLock;

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

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
                .ok()?;
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
