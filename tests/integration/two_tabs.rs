//! Two sign-in tabs in one browser (keycloak#24112): signing in in one lets the other continue
//! with that sign-in, from a reload and from its stale form, unless the request asks for a
//! fresh login.
use reqwest::StatusCode;

use super::harness::browser::{location, Browser};
use super::harness::client_app::authorize;
use super::harness::urls::{query_param, resolve};
use super::harness::*;

/// The test client's authorize URL with its own `state` and `extra` parameters.
fn tab(server: &TestServer, state: &str, extra: &str) -> String {
    authorize(server, extra).replace("state=bs", &format!("state={state}"))
}

/// A pending login page for `state` in `browser`: its URL, interaction and CSRF token.
async fn login_tab(server: &TestServer, browser: &Browser, state: &str, extra: &str) -> (String, String, String) {
    let at = browser.follow(server, &tab(server, state, extra)).await;
    assert!(at.contains("/login?interaction="), "{at}");
    let page = browser.page(&at).await;
    (at, page.field("interaction").unwrap(), page.field("csrf").unwrap())
}

#[tokio::test]
async fn a_second_tabs_sign_in_lets_the_first_continue_from_a_reload_and_from_its_stale_form() {
    let server = TestServer::start().await;
    let browser = Browser::new();
    let (reload_url, _, _) = login_tab(&server, &browser, "tab-reload", "").await;
    let (_, stale_ix, stale_csrf) = login_tab(&server, &browser, "tab-stale", "").await;

    let back = browser.sign_in(&server, &tab(&server, "tab-signer", "")).await;
    assert_eq!(query_param(&back, "state").as_deref(), Some("tab-signer"));

    // Reloading the first tab's login page continues with the session.
    let back = browser.follow(&server, &reload_url).await;
    assert!(back.starts_with(RP_REDIRECT), "{back}");
    assert!(query_param(&back, "code").is_some());

    // The stale form (its CSRF token rotated by the sign-in) continues too, ignoring what was typed.
    let res = browser
        .post(
            &server.url("/login"),
            &[
                ("interaction", stale_ix.as_str()),
                ("csrf", stale_csrf.as_str()),
                ("username", "mallory"),
                ("password", "typed-into-a-stale-form"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let next = resolve(&server.url("/login"), &location(&res).unwrap());
    let back = browser.follow(&server, &next).await;
    assert!(back.starts_with(RP_REDIRECT), "{back}");
    let tokens = super::harness::client_app::redeem(&server, &back).await;
    assert!(tokens["id_token"].is_string(), "alice's code, not mallory's: {tokens}");
}

#[tokio::test]
async fn a_request_demanding_a_fresh_login_is_not_satisfied_by_another_tabs_sign_in() {
    let server = TestServer::start().await;
    for extra in ["&prompt=login", "&max_age=0"] {
        let browser = Browser::new();
        let (url, ix, csrf) = login_tab(&server, &browser, "fresh", extra).await;
        browser.sign_in(&server, &tab(&server, "other", "")).await;
        // The reload still asks for the password ...
        let page = browser.page(&url).await;
        assert_eq!(page.status, StatusCode::OK, "{extra}");
        assert!(page.html.contains("name=\"password\""), "{extra}");
        // ... and the stale form is refused as any form with a wrong token is.
        let res = browser
            .post(
                &server.url("/login"),
                &[
                    ("interaction", &ix),
                    ("csrf", &csrf),
                    ("username", ALICE),
                    ("password", ALICE_PASSWORD),
                ],
            )
            .await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "{extra}");
    }
}
