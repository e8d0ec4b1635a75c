//! `gatehouse check`: the configuration (already loaded and validated by then), the template
//! overrides, and every enabled upstream provider contacted as a login would.
use std::time::Duration;

use anyhow::bail;

use crate::config::Config;
use crate::upstream::probe::{Expiry, Probe};
use crate::upstream::{Registry, UpstreamError};

/// How long one provider may take to answer everything its probe asks.
const PROBE_TIMEOUT: Duration = Duration::from_secs(20);

/// A finding, printed as one line.
#[derive(Debug, Clone, PartialEq)]
enum Finding {
    /// Gatehouse would fail (a login through that provider, or the start).
    Error(String),
    /// Works today, needs attention soon.
    Warning(String),
}

/// Prints one line per problem; fails (exit code 1) when any is an error.
pub async fn run(config: &Config) -> anyhow::Result<()> {
    let mut findings = Vec::new();
    if let Err(e) = crate::web::templates::Templates::load(config.templates_dir.as_deref()) {
        findings.push(Finding::Error(e.to_string()));
    }
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(Duration::from_secs(5))
        .timeout(Duration::from_secs(10))
        .build()?;
    // No database: a probe only reads the providers' documents.
    let registry =
        Registry::from_config(config, &sea_orm::DatabaseConnection::Disconnected, &http).map_err(anyhow::Error::msg)?;
    // Every provider at once; the findings in login-page order.
    let mut probes = tokio::task::JoinSet::new();
    for (order, upstream) in registry.all().cloned().enumerate() {
        probes.spawn(async move {
            let probed = tokio::time::timeout(PROBE_TIMEOUT, upstream.probe())
                .await
                .unwrap_or_else(|_| {
                    Err(UpstreamError::Unavailable(format!(
                        "no answer within {PROBE_TIMEOUT:?}"
                    )))
                });
            (order, upstream.config().id.clone(), probed)
        });
    }
    let mut results = probes.join_all().await;
    results.sort_by_key(|(order, _, _)| *order);
    let now = crate::store::now();
    let checked = results.len();
    for (_, id, probed) in results {
        findings.extend(findings_of(&id, probed, now));
    }
    let mut errors = 0;
    for f in &findings {
        match f {
            Finding::Error(line) => {
                errors += 1;
                println!("error: {line}");
            }
            Finding::Warning(line) => println!("warning: {line}"),
        }
    }
    if errors > 0 {
        bail!("{errors} problem(s) found");
    }
    println!("configuration is valid; {checked} upstream provider(s) answered");
    Ok(())
}

/// What one provider's probe means for its operator.
fn findings_of(id: &str, probed: Result<Probe, UpstreamError>, now: i64) -> Vec<Finding> {
    let probe = match probed {
        Ok(p) => p,
        Err(e) => return vec![Finding::Error(format!("provider {id}: {e}"))],
    };
    probe
        .certificates
        .iter()
        .filter_map(|c| {
            let end = time::OffsetDateTime::from_unix_timestamp(c.not_after)
                .map(|t| t.date().to_string())
                .unwrap_or_else(|_| c.not_after.to_string());
            match c.expiry(now) {
                Expiry::Fine => None,
                Expiry::Soon { days } => Some(Finding::Warning(format!(
                    "provider {id}: signing certificate {} expires in {days} day(s), on {end}",
                    c.subject
                ))),
                Expiry::Expired { days_ago } => Some(Finding::Error(format!(
                    "provider {id}: signing certificate {} expired {days_ago} day(s) ago, on {end}",
                    c.subject
                ))),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::upstream::probe::CertificateDates;

    #[test]
    fn certificates_near_their_end_warn_and_ended_ones_are_errors() {
        let now = 1_800_000_000;
        let cert = |subject: &str, days: i64| CertificateDates {
            subject: subject.into(),
            fingerprint: "ab".into(),
            not_after: now + days * 86_400 + 10,
        };
        let probe = Probe {
            certificates: vec![cert("CN=fine", 90), cert("CN=soon", 12), cert("CN=old", -3)],
        };
        let found = findings_of("idp", Ok(probe), now);
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(
            matches!(&found[0], Finding::Warning(l) if l.starts_with("provider idp: signing certificate CN=soon expires in 12 day(s), on 20")),
            "{found:?}"
        );
        assert!(
            matches!(&found[1], Finding::Error(l) if l.contains("CN=old expired 2 day(s) ago")),
            "{found:?}"
        );
        let down = findings_of("corp", Err(UpstreamError::Unavailable("refused".into())), now);
        assert_eq!(
            down,
            [Finding::Error(
                "provider corp: the provider could not be reached or its metadata is invalid: refused".into()
            )]
        );
    }
}
