//! Pages that tell of a failure, as a person meets them: each shows the request id that its
//! `x-request-id` header carries and that the server's log line of the failure carries too,
//! and a dead end offers a way out that leads to a page that works.
use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

use reqwest::StatusCode;
use sea_orm::ConnectionTrait;
use serde_json::Value;

use super::harness::browser::{unescape, Browser};
use super::harness::client_app::authorize;
use super::harness::urls::urlencode;
use super::harness::*;

/// The server's log lines (JSON, one per line, with the request's span) written in this test
/// process. nextest runs each test in its own process, so only this test's server writes here.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Starts capturing the log as `gatehouse serve --log-format json` writes it.
fn capture_log() -> &'static Captured {
    static LOG: OnceLock<Captured> = OnceLock::new();
    LOG.get_or_init(|| {
        let log = Captured::default();
        let writer = log.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new("info,sqlx=warn,sea_orm=warn"))
            .with_writer(move || writer.clone())
            .json()
            .with_current_span(true)
            .with_span_list(true)
            .finish();
        tracing::subscriber::set_global_default(subscriber).expect("this test's process has no other log subscriber");
        log
    })
}

impl Captured {
    fn lines(&self) -> Vec<Value> {
        String::from_utf8_lossy(&self.0.lock().unwrap())
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()
    }
}

/// The request id a page shows.
fn shown_request_id(html: &str) -> Option<String> {
    let rest = html.split("Request id: <code>").nth(1)?;
    Some(unescape(rest.split("</code>").next()?))
}

/// The failure seen in a response: its status, `x-request-id` and the id the page shows.
async fn failure(res: reqwest::Response) -> (StatusCode, String, String, String) {
    let status = res.status();
    let header = res
        .headers()
        .get("x-request-id")
        .expect("every answer has x-request-id")
        .to_str()
        .unwrap()
        .to_owned();
    let html = res.text().await.unwrap();
    let shown = shown_request_id(&html).unwrap_or_else(|| panic!("no request id on the {status} page: {html}"));
    (status, header, shown, html)
}

/// The way on that an error page offers (its button).
fn way_out(html: &str) -> Option<String> {
    let rest = html.split("<a class=\"button\" href=\"").nth(1)?;
    Some(unescape(rest.split('"').next()?))
}

#[tokio::test]
async fn every_failure_page_shows_the_request_id_of_its_header_and_its_log_line() {
    let log = capture_log();
    let server = TestServer::start_with(|c| c.limits.sign_in_per_minute = 1).await;
    let browser = Browser::new();
    let mut seen: Vec<(&str, StatusCode, String)> = Vec::new();
    let mut check = |what: &'static str, (status, header, shown, html): (StatusCode, String, String, String)| {
        assert!(status.is_client_error() || status.is_server_error(), "{what}: {status}");
        assert_eq!(shown, header, "{what}: the page shows the id of its response: {html}");
        seen.push((what, status, header));
    };

    // No such page (the fallback).
    check("404", failure(browser.get(&server.url("/no-such-page")).await).await);
    // An authorization request of an application Gatehouse does not know.
    let unknown_app = format!(
        "/authorize?response_type=code&client_id=nobody&redirect_uri={}&scope=openid",
        urlencode(RP_REDIRECT)
    );
    check(
        "unknown application",
        failure(browser.get(&server.url(&unknown_app)).await).await,
    );
    // A sign-out request naming an unknown application.
    check(
        "unknown application at sign-out",
        failure(browser.get(&server.url("/logout?client_id=nobody")).await).await,
    );
    // A sign-in (interaction) that does not exist.
    check(
        "unknown interaction",
        failure(browser.get(&server.url("/authorize/resume?interaction=made-up")).await).await,
    );
    // An upstream provider that does not exist (broker).
    check(
        "unknown provider",
        failure(browser.get(&server.url("/broker/start/nowhere")).await).await,
    );
    // A form posted without its CSRF token.
    check(
        "CSRF",
        failure(
            browser
                .post(&server.url("/logout/confirm"), &[("decision", "logout")])
                .await,
        )
        .await,
    );
    // A form body that is no form at all (an extractor's rejection, never a PageError).
    let res = browser
        .http
        .post(server.url("/logout/confirm"))
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
        .unwrap();
    check("unreadable form", failure(res).await);
    // A wrong password: the form again, with the reason and the id.
    let login = browser.follow(&server, &authorize(&server, "")).await;
    check(
        "wrong password",
        failure(browser.submit_login(&login, ALICE, "not-her-password").await).await,
    );
    // One more attempt this minute: throttled.
    let (status, header, shown, html) = failure(browser.submit_login(&login, ALICE, "not-her-password").await).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{html}");
    check("throttled", (status, header, shown, html));

    // A fault on our side (a stored sign-in that no longer reads): the reference to quote is
    // the request id too.
    let login = browser.follow(&server, &authorize(&server, "")).await;
    let ix = super::harness::urls::query_param(&login, "interaction").unwrap();
    server
        .state
        .db
        .execute_unprepared(&format!(
            "UPDATE interactions SET request = 'not json' WHERE id = '{ix}'"
        ))
        .await
        .unwrap();
    let (status, header, shown, html) = failure(browser.get(&login).await).await;
    assert!(html.contains(&format!("this reference: {header}")), "{html}");
    check("fault", (status, header, shown, html));

    let statuses: Vec<u16> = seen.iter().map(|(_, s, _)| s.as_u16()).collect();
    assert_eq!(statuses, [404, 400, 400, 400, 400, 403, 415, 401, 429, 500], "{seen:?}");
    let ids: std::collections::HashSet<&String> = seen.iter().map(|(_, _, id)| id).collect();
    assert_eq!(ids.len(), seen.len(), "one id per request");

    // Each failure has its log line, under the same id.
    let lines = log.lines();
    for (what, status, id) in &seen {
        let logged = lines
            .iter()
            .filter(|l| {
                l["spans"]
                    .as_array()
                    .is_some_and(|spans| spans.iter().any(|s| s["request_id"] == id.as_str()))
            })
            .find(|l| l["fields"]["message"] == "failure page shown");
        let logged = logged.unwrap_or_else(|| panic!("{what}: no log line of request {id} in {lines:#?}"));
        assert_eq!(logged["fields"]["status"], status.as_u16(), "{what}: {logged}");
    }
}

#[tokio::test]
async fn an_unknown_application_offers_the_start_page_or_the_account_and_both_open() {
    let server = TestServer::start().await;
    let unknown_app = server.url(&format!(
        "/authorize?response_type=code&client_id=nobody&redirect_uri={}&scope=openid",
        urlencode(RP_REDIRECT)
    ));

    // Signed out: the start page.
    let stranger = Browser::new();
    let page = stranger.page(&unknown_app).await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert!(page.html.contains("Unknown application"), "{}", page.html);
    let to = way_out(&page.html).unwrap_or_else(|| panic!("a way out: {}", page.html));
    assert_eq!(to, "/");
    let start = stranger.page(&server.url(&to)).await;
    assert_eq!(start.status, StatusCode::OK, "{}", start.html);

    // Signed in: the account page, which shows the account.
    let alice = Browser::new();
    alice.sign_in(&server, &authorize(&server, "")).await;
    let page = alice.page(&unknown_app).await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    let to = way_out(&page.html).unwrap_or_else(|| panic!("a way out: {}", page.html));
    assert_eq!(to, "/account");
    let account = alice.page(&server.url(&to)).await;
    assert_eq!(account.status, StatusCode::OK, "{}", account.html);
    assert!(account.html.contains(ALICE), "{}", account.html);

    // Other dead ends have one too: a missing page.
    let page = stranger.page(&server.url("/no-such-page")).await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    assert_eq!(way_out(&page.html).as_deref(), Some("/"));
}

#[tokio::test]
async fn a_refused_sign_out_request_still_offers_signing_out_here() {
    let server = TestServer::start().await;
    let alice = Browser::new();
    alice.sign_in(&server, &authorize(&server, "")).await;

    // An unknown application, and a known one with an unregistered return address.
    for bad in [
        "/logout?client_id=nobody".to_owned(),
        format!(
            "/logout?client_id={RP_ID}&post_logout_redirect_uri={}",
            urlencode("https://evil.example/")
        ),
    ] {
        let page = alice.page(&server.url(&bad)).await;
        assert_eq!(page.status, StatusCode::BAD_REQUEST, "{bad}");
        let to = way_out(&page.html).unwrap_or_else(|| panic!("a way out: {}", page.html));
        assert_eq!(to, "/logout", "{bad}");
    }
    // Still signed in: the plain sign-out asks, then signs out and stays here.
    let ask = alice.page(&server.url("/logout")).await;
    assert_eq!(ask.status, StatusCode::OK, "{}", ask.html);
    let res = alice
        .post(
            &server.url("/logout/confirm"),
            &[("csrf", &ask.field("csrf").expect("csrf")), ("decision", "logout")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.text().await.unwrap().contains("You are signed out"));
    assert_eq!(
        super::harness::client_app::prompt_none_error(&alice, &server)
            .await
            .as_deref(),
        Some("login_required")
    );
    // Signed out already, the same link just says so.
    let page = alice.page(&server.url("/logout?client_id=nobody")).await;
    let to = way_out(&page.html).unwrap();
    let done = alice.page(&server.url(&to)).await;
    assert_eq!(done.status, StatusCode::OK);
    assert!(done.html.contains("You are signed out"), "{}", done.html);
}
