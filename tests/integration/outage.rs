//! A database outage: requests fail fast with a clear 503, and service resumes by itself.
//!
//! This runs on a PostgreSQL cluster of the test's own, stopped and started again mid-test:
//! an embedded SQLite file has no outage to simulate honestly (it is a file, not a server).
//! Without PostgreSQL installed (scripts/test installs it) the test says so and does nothing.
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::Value;

use super::harness::browser::Browser;
use super::harness::pg_cluster::Cluster;
use super::harness::urls::urlencode;
use super::harness::*;

/// Times a request.
async fn timed(req: reqwest::RequestBuilder) -> (reqwest::Response, Duration) {
    let started = Instant::now();
    let res = req.send().await.expect("an answer, not a dropped connection");
    (res, started.elapsed())
}

#[tokio::test]
async fn with_the_database_down_requests_fail_fast_with_503_and_recover_when_it_returns() {
    let Some(cluster) = Cluster::start() else {
        eprintln!("SKIPPED: PostgreSQL is not installed (scripts/test installs it)");
        return;
    };
    let mut prepared = TestServer::prepare().await;
    prepared.config.database_url = cluster.url("postgres");
    let server = prepared.launch().await;
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let authorize = server.url(&format!(
        "/authorize?response_type=code&client_id={RP_ID}&redirect_uri={}&scope=openid&state=s&code_challenge={}&code_challenge_method=S256",
        urlencode(RP_REDIRECT),
        gatehouse::oidc::pkce::s256("outage-verifier-outage-verifier-outage-verifier-1")
    ));
    let bad_code = || {
        http.post(server.url("/token"))
            .basic_auth(RP_ID, Some(urlencode(RP_SECRET)))
            .form(&[
                ("grant_type", "authorization_code"),
                ("code", "nope"),
                ("redirect_uri", RP_REDIRECT),
            ])
    };

    // Control: all is well while the database runs.
    let (res, _) = timed(http.get(server.url("/healthz"))).await;
    assert_eq!(res.status(), StatusCode::OK);
    let (res, _) = timed(bad_code()).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert_eq!(res.json::<Value>().await.unwrap()["error"], "invalid_grant");

    cluster.stop();

    let (health, health_took) = timed(http.get(server.url("/healthz"))).await;
    assert_eq!(health.status(), StatusCode::SERVICE_UNAVAILABLE);
    let (ready, ready_took) = timed(http.get(server.url("/readyz"))).await;
    assert_eq!(ready.status(), StatusCode::SERVICE_UNAVAILABLE);
    let ready: Value = ready.json().await.unwrap();
    assert_eq!(ready["database"]["ok"], false, "{ready}");
    assert!(ready_took < Duration::from_secs(2), "{ready_took:?}");

    let (page, page_took) = timed(http.get(server.url("/login?interaction=whatever"))).await;
    assert_eq!(page.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(page.headers()["retry-after"], "5");
    let html = page.text().await.unwrap();
    assert!(
        html.contains("Temporarily unavailable") && html.contains("database is not reachable"),
        "{html}"
    );

    let (auth, auth_took) = timed(http.get(&authorize)).await;
    assert_eq!(auth.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(auth.text().await.unwrap().contains("Temporarily unavailable"));

    let (token, token_took) = timed(bad_code()).await;
    assert_eq!(token.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(token.headers()["retry-after"], "5");
    let body: Value = token.json().await.unwrap();
    assert_eq!(body["error"], "temporarily_unavailable", "{body}");

    eprintln!(
        "database down: /healthz 503 in {health_took:?}, login page 503 in {page_took:?}, \
         /authorize 503 in {auth_took:?}, /token 503 in {token_took:?}"
    );
    assert!(health_took < Duration::from_secs(1), "{health_took:?}");
    // The acquire timeout (2 s) plus a short outage probe, never sqlx's 30 s.
    for took in [page_took, auth_took, token_took] {
        assert!(took < Duration::from_millis(3000), "{took:?}");
    }

    cluster.start_again();
    let back = Instant::now();
    let mut healthy = false;
    for _ in 0..50 {
        let (res, _) = timed(http.get(server.url("/healthz"))).await;
        if res.status() == StatusCode::OK {
            healthy = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(healthy, "healthz recovered");
    let recovered = back.elapsed();

    // A whole sign-in works again, without a restart.
    let browser = Browser::new();
    let at_client = browser.sign_in(&server, &authorize).await;
    assert!(at_client.starts_with(RP_REDIRECT), "{at_client}");
    let (res, _) = timed(bad_code()).await;
    assert_eq!(
        res.status(),
        StatusCode::BAD_REQUEST,
        "the token endpoint answers again"
    );
    eprintln!("database back: /healthz 200 after {recovered:?}; a sign-in succeeds again");
}
