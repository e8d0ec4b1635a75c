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
