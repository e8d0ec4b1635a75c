//! Operating Gatehouse: readiness.
use reqwest::StatusCode;
use sea_orm::ConnectionTrait;
use serde_json::Value;

use super::harness::*;

async fn readyz(server: &TestServer) -> (StatusCode, Value) {
    let res = reqwest::get(server.url("/readyz")).await.unwrap();
    (res.status(), res.json().await.unwrap())
}

#[tokio::test]
async fn readyz_names_a_pending_or_unknown_migration() {
    let server = TestServer::start().await;
    let (status, body) = readyz(&server).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    for check in ["database", "migrations", "signing_keys"] {
        assert_eq!(body[check]["ok"], true, "{check}: {body}");
    }

    // The newest migration forgotten: this build expects a schema the database lacks.
    let db = &server.state.db;
    let newest = {
        use migration::MigratorTrait;
        migration::Migrator::migrations().last().unwrap().name().to_string()
    };
    db.execute_unprepared(&format!("DELETE FROM seaql_migrations WHERE version = '{newest}'"))
        .await
        .unwrap();
    let (status, body) = readyz(&server).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body["migrations"]["ok"], false);
    assert!(
        body["migrations"]["problem"].as_str().unwrap().contains(&newest),
        "{body}"
    );
    assert_eq!(body["database"]["ok"], true);
    // /healthz (liveness) stays up: restarting would not help.
    assert_eq!(
        reqwest::get(server.url("/healthz")).await.unwrap().status(),
        StatusCode::OK
    );

    // A migration this build does not know: a newer node migrated the schema.
    db.execute_unprepared(&format!(
        "INSERT INTO seaql_migrations (version, applied_at) VALUES ('{newest}', 0), ('m29991231_000099_future', 0)"
    ))
    .await
    .unwrap();
    let (status, body) = readyz(&server).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert!(
        body["migrations"]["problem"]
            .as_str()
            .unwrap()
            .contains("m29991231_000099_future"),
        "{body}"
    );
}

/// Runs `gatehouse serve` on a free port with `env`, makes `requests` (path, x-request-id),
/// stops it and returns its standard error and the responses (status, x-request-id, body).
async fn serve_and_log(
    env: &[(&str, &str)],
    requests: &[(&str, Option<&str>)],
) -> (String, Vec<(u16, String, String)>) {
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let base = format!("http://127.0.0.1:{port}");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_gatehouse"))
        .arg("serve")
        .env_remove("GATEHOUSE_CONFIG")
        .env(
            "GATEHOUSE_DATABASE_URL",
            format!("sqlite://{}/g.db?mode=rwc", dir.path().display()),
        )
        .env("GATEHOUSE_LISTEN", format!("127.0.0.1:{port}"))
        .env("GATEHOUSE_ISSUER", &base)
        .envs(env.iter().copied())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run gatehouse serve");
    let http = reqwest::Client::new();
    let mut up = false;
    for _ in 0..300 {
        if http
            .get(format!("{base}/healthz"))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            up = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let mut answers = Vec::new();
    if up {
        for (path, id) in requests {
            let mut req = http.get(format!("{base}{path}"));
            if let Some(id) = id {
                req = req.header("x-request-id", *id);
            }
            let res = req.send().await.unwrap();
            let header = res
                .headers()
                .get("x-request-id")
                .map(|v| v.to_str().unwrap().to_owned());
            answers.push((
                res.status().as_u16(),
                header.unwrap_or_default(),
                res.text().await.unwrap(),
            ));
        }
    }
    child.kill().unwrap();
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(up, "gatehouse serve did not come up:\n{stderr}");
    (stderr, answers)
}

#[tokio::test]
async fn json_logs_carry_the_request_id_that_the_error_page_shows() {
    let (stderr, answers) = serve_and_log(
        &[
            ("GATEHOUSE_LOG__FORMAT", "json"),
            ("GATEHOUSE_LOG", "info,tower_http=debug"),
        ],
        &[
            ("/no-such-page", Some("proxy-id-42")),
            ("/no-such-page", Some("bad id <x>")),
            ("/readyz", None),
        ],
    )
    .await;
    // A proxy's well-formed id is kept, echoed and shown on the error page.
    let (status, id, body) = &answers[0];
    assert_eq!((*status, id.as_str()), (404, "proxy-id-42"));
    assert!(body.contains("Request id: <code>proxy-id-42</code>"), "{body}");
    // A malformed one is replaced by a fresh UUID.
    let (status, fresh, body) = &answers[1];
    assert_eq!(*status, 404);
    assert!(
        fresh.len() == 36 && fresh.chars().filter(|c| *c == '-').count() == 4,
        "{fresh}"
    );
    assert!(body.contains(fresh.as_str()) && !body.contains("bad id"), "{body}");
    // Every request gets one, error or not.
    assert_eq!(answers[2].0, 200);
    assert!(!answers[2].1.is_empty());

    // Every line is a JSON object; those written while serving carry the request's id.
    let lines: Vec<Value> = stderr
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    assert!(
        lines.iter().any(|l| l["fields"]["message"] == "Gatehouse listening"),
        "{stderr}"
    );
    for id in ["proxy-id-42", fresh.as_str()] {
        let in_request: Vec<&Value> = lines.iter().filter(|l| l["span"]["request_id"] == id).collect();
        assert!(!in_request.is_empty(), "no log line of request {id}:\n{stderr}");
        assert!(
            in_request.iter().all(|l| l["span"]["path"] == "/no-such-page"),
            "{stderr}"
        );
    }
    assert!(!stderr.contains('\u{1b}'), "no colour codes in JSON");
}

#[tokio::test]
async fn text_logs_have_no_colour_codes_when_not_at_a_terminal() {
    let (stderr, answers) = serve_and_log(
        &[("GATEHOUSE_LOG", "info,tower_http=debug")],
        &[("/healthz", Some("t-1"))],
    )
    .await;
    assert_eq!(answers[0].1, "t-1");
    assert!(stderr.contains("Gatehouse listening"), "{stderr}");
    assert!(
        stderr.contains("request_id=t-1"),
        "the span's fields are on the line: {stderr}"
    );
    assert!(!stderr.contains('\u{1b}'), "ANSI escape in piped logs: {stderr:?}");
}

/// `(name{labels}, value)` of every sample line, after checking each line is a comment or a
/// well-formed sample of the Prometheus text format.
fn samples(text: &str) -> Vec<(String, f64)> {
    text.lines()
        .filter(|l| !l.is_empty())
        .filter_map(|l| {
            if l.starts_with("# HELP ") || l.starts_with("# TYPE ") {
                return None;
            }
            let (series, value) = l.rsplit_once(' ').unwrap_or_else(|| panic!("not a sample: {l}"));
            let name_end = series.find('{').unwrap_or(series.len());
            let name = &series[..name_end];
            assert!(
                !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':'),
                "bad metric name: {l}"
            );
            if name_end < series.len() {
                assert!(series.ends_with('}'), "unclosed labels: {l}");
            }
            let value: f64 = value.parse().unwrap_or_else(|_| panic!("bad value: {l}"));
            Some((series.to_string(), value))
        })
        .collect()
}

fn value_of(samples: &[(String, f64)], series: &str) -> f64 {
    samples
        .iter()
        .find(|(s, _)| s == series)
        .map(|(_, v)| *v)
        .unwrap_or_else(|| panic!("no {series} in {samples:#?}"))
}

#[tokio::test]
async fn metrics_count_sign_ins_tokens_throttles_and_latency_for_allowed_addresses_only() {
    use super::harness::browser::Browser;
    use super::harness::client_app::tokens_for;

    // Off by default: the same 404 as any unknown path.
    let off = TestServer::start().await;
    assert_eq!(
        reqwest::get(off.url("/metrics")).await.unwrap().status(),
        StatusCode::NOT_FOUND
    );

    let server = TestServer::start_with(|c| {
        c.metrics.enabled = true;
        c.limits.client_auth_failures_per_minute = 1;
    })
    .await;
    let browser = Browser::new();
    let tokens = tokens_for(&server, &browser, RP_ID, "openid").await;
    assert!(tokens["access_token"].is_string(), "{tokens}");
    // A wrong password.
    let url = server.url(&format!(
        "/authorize?response_type=code&client_id={SPA_ID}&redirect_uri={}&scope=openid&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256&prompt=login",
        urls::urlencode(RP_REDIRECT)
    ));
    let stranger = Browser::new();
    let login = stranger.follow(&server, &url).await;
    let refused = stranger.submit_login(&login, ALICE, "not her password").await;
    assert!(!refused.status().is_redirection(), "refused: {}", refused.status());

    // Failed client authentications past the per-address limit.
    for _ in 0..3 {
        reqwest::Client::new()
            .post(server.url("/token"))
            .basic_auth(RP_ID, Some("wrong"))
            .form(&[("grant_type", "client_credentials")])
            .send()
            .await
            .unwrap();
    }

    let res = reqwest::get(server.url("/metrics")).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain; version=0.0.4"));
    let text = res.text().await.unwrap();
    let parsed = prometheus_parse(&text);
    assert_eq!(
        parsed["gatehouse_http_request_duration_seconds"]["type"], "histogram",
        "the Prometheus parser reads the latency histogram: {parsed}"
    );
    assert_eq!(parsed["gatehouse_sign_ins"]["type"], "counter", "{parsed}");
    let s = samples(&text);
    assert_eq!(
        value_of(
            &s,
            r#"gatehouse_sign_ins_total{method="password",provider="local",outcome="success"}"#
        ),
        1.0
    );
    assert!(
        text.contains(r#"gatehouse_sign_ins_total{method="password",provider="local",outcome="failure"}"#),
        "{text}"
    );
    assert_eq!(
        value_of(&s, r#"gatehouse_tokens_issued_total{grant="authorization_code"}"#),
        1.0
    );
    assert!(
        value_of(
            &s,
            r#"gatehouse_http_request_duration_seconds_count{route="/token",method="POST",status="2xx"}"#
        ) >= 1.0,
        "{text}"
    );
    assert!(
        text.contains("gatehouse_http_request_duration_seconds_bucket{route=\"/token\""),
        "{text}"
    );

    // A caller outside metrics.allow sees nothing.
    let closed = TestServer::start_with(|c| {
        c.metrics.enabled = true;
        c.metrics.allow = vec!["10.0.0.0/8".into()];
    })
    .await;
    assert_eq!(
        reqwest::get(closed.url("/metrics")).await.unwrap().status(),
        StatusCode::NOT_FOUND
    );
}

/// The metrics text as the reference parser (Python `prometheus_client`, Debian
/// `python3-prometheus-client`, installed by scripts/test) reads it: per family its type and
/// samples (name, labels, value). Panics, with the parser's complaint, on text it refuses.
fn prometheus_parse(text: &str) -> Value {
    use std::io::Write;
    const SCRIPT: &str = r#"
import json, math, sys
from prometheus_client.parser import text_string_to_metric_families
out = {}
for f in text_string_to_metric_families(sys.stdin.read()):
    out[f.name] = {"type": f.type, "samples": [
        {"name": s.name, "labels": s.labels, "value": None if math.isnan(s.value) else s.value}
        for s in f.samples]}
print(json.dumps(out))
"#;
    // Debian's interpreter, which has the package (a python3 earlier on PATH may not).
    let python = ["/usr/bin/python3", "python3"]
        .into_iter()
        .find(|p| !p.starts_with('/') || std::path::Path::new(p).exists())
        .unwrap();
    let mut child = std::process::Command::new(python)
        .args(["-c", SCRIPT])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run python3 (scripts/test installs it)");
    child.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "the Prometheus parser refused the metrics (is python3-prometheus-client installed?): {}\n{text}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The value of the sample `name` whose labels include every pair of `labels`.
fn gauge(parsed: &Value, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    parsed[name]["samples"].as_array()?.iter().find_map(|s| {
        let matches = labels.iter().all(|(k, v)| s["labels"][*k] == *v);
        (s["name"] == name && matches).then(|| s["value"].as_f64()).flatten()
    })
}

#[tokio::test]
async fn metrics_show_days_until_saml_certificates_end_and_signing_keys_age_to_a_real_parser() {
    use super::harness::peers::saml_peer;
    use super::harness::saml::{saml_server_with, PROVIDER};

    let server = saml_server_with(None, |_, c| {
        c.metrics.enabled = true;
        c.keys.rotate_after_days = 90;
    })
    .await;
    let text = reqwest::get(server.url("/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let parsed = prometheus_parse(&text);

    // The IdP's certificate, read here from its metadata independently of Gatehouse.
    let xml = reqwest::get(&saml_peer().metadata_url)
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let b64: String = xml
        .split("X509Certificate>")
        .nth(1)
        .and_then(|c| c.split('<').next())
        .unwrap()
        .split_whitespace()
        .collect();
    use base64::Engine;
    let der = base64::engine::general_purpose::STANDARD.decode(b64).unwrap();
    let cert = openssl::x509::X509::from_der(&der).unwrap();
    let left = openssl::asn1::Asn1Time::days_from_now(0)
        .unwrap()
        .diff(cert.not_after())
        .unwrap();
    let expected_days = f64::from(left.days) + f64::from(left.secs) / 86_400.0;
    assert_eq!(
        parsed["gatehouse_saml_idp_certificate_expiry_days"]["type"], "gauge",
        "{parsed}"
    );
    let shown = gauge(
        &parsed,
        "gatehouse_saml_idp_certificate_expiry_days",
        &[("provider", PROVIDER)],
    )
    .unwrap_or_else(|| panic!("no certificate gauge for {PROVIDER}: {text}"));
    assert!(
        (shown - expected_days).abs() < 0.01,
        "{shown} days shown, the certificate ends in {expected_days}"
    );

    // This server's keys: just made, rotation due in 90 days.
    let keys = server.state.keys.list().await.unwrap();
    assert_eq!(keys.len(), 2);
    for k in &keys {
        let labels = [("kid", k.kid.as_str()), ("alg", k.alg.as_str())];
        let age = gauge(&parsed, "gatehouse_signing_key_age_days", &labels).unwrap_or_else(|| panic!("{text}"));
        assert!((0.0..0.01).contains(&age), "age {age}");
        let due =
            gauge(&parsed, "gatehouse_signing_key_rotation_due_days", &labels).unwrap_or_else(|| panic!("{text}"));
        assert!((89.99..=90.0).contains(&due), "rotation due in {due}");
    }

    // After a rotation the old keys count down to the end of their grace (the longest token
    // lifetime plus two minutes), and the new ones are current.
    server.state.keys.rotate().await.unwrap();
    let parsed = prometheus_parse(
        &reqwest::get(server.url("/metrics"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
    );
    let grace_days = server.state.keys.grace_secs() as f64 / 86_400.0;
    for k in &keys {
        let labels = [("kid", k.kid.as_str()), ("alg", k.alg.as_str())];
        let ends = gauge(&parsed, "gatehouse_signing_key_expiry_days", &labels).unwrap();
        assert!(
            (grace_days - 0.001..=grace_days).contains(&ends),
            "{ends} vs {grace_days}"
        );
        assert!(gauge(
            &parsed,
            "gatehouse_signing_key_age_days",
            &[labels[0], ("state", "retired")]
        )
        .is_some());
    }
}
