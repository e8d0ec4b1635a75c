//! Consent (remembered, forced, denied) and RP-initiated logout.
use reqwest::StatusCode;

use super::harness::browser::{location, unescape, Browser};
use super::harness::client_app::{logout_url, redeem, VERIFIER};
use super::harness::urls::{query_param, urlencode};
use super::harness::*;
use gatehouse::oidc::pkce::s256;

fn authorize_url(server: &TestServer, client_id: &str, extra: &str) -> String {
    server.url(&format!(
        "/authorize?response_type=code&client_id={client_id}&redirect_uri={}&scope=openid%20profile&state=cs&nonce=nn&code_challenge={}&code_challenge_method=S256{extra}",
        urlencode(RP_REDIRECT),
        s256(VERIFIER)
    ))
}

async fn answer_consent(browser: &Browser, server: &TestServer, consent_url: &str, decision: &str) -> String {
    let page = browser.page(consent_url).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.html);
    assert!(page.html.contains("consent-app application"));
    assert!(page.html.contains("See your name and username"));
    let res = browser
        .post(
            &server.url("/consent"),
            &[
                ("interaction", &page.field("interaction").unwrap()),
                ("csrf", &page.field("csrf").unwrap()),
                ("decision", decision),
            ],
        )
        .await;
    location(&res).expect("consent answers with a redirect")
}

#[tokio::test]
async fn consent_is_asked_once_remembered_and_forced_by_prompt() {
    let server = TestServer::start().await;
    let browser = Browser::new();
    let at = browser.sign_in(&server, &authorize_url(&server, CONSENT_ID, "")).await;
    assert!(at.contains("/consent?interaction="), "{at}");
    let back = answer_consent(&browser, &server, &at, "allow").await;
    assert!(query_param(&back, "code").is_some(), "{back}");
    assert_eq!(query_param(&back, "state").as_deref(), Some("cs"));

    // Remembered: straight back with a code, even with prompt=none.
    let back = browser
        .follow(&server, &authorize_url(&server, CONSENT_ID, "&prompt=none"))
        .await;
    assert!(query_param(&back, "code").is_some(), "{back}");
    // prompt=consent asks again.
    let at = browser
        .follow(&server, &authorize_url(&server, CONSENT_ID, "&prompt=consent"))
        .await;
    assert!(at.contains("/consent?interaction="), "{at}");
    // A scope not yet granted asks again; prompt=none then gets consent_required.
    let more = authorize_url(&server, CONSENT_ID, "&prompt=none")
        .replace("scope=openid%20profile", "scope=openid%20profile%20email");
    let back = browser.follow(&server, &more).await;
    assert_eq!(query_param(&back, "error").as_deref(), Some("consent_required"));
}

#[tokio::test]
async fn denied_consent_returns_access_denied() {
    let server = TestServer::start().await;
    let browser = Browser::new();
    let at = browser.sign_in(&server, &authorize_url(&server, CONSENT_ID, "")).await;
    let back = answer_consent(&browser, &server, &at, "deny").await;
    assert!(back.starts_with(RP_REDIRECT));
    assert_eq!(query_param(&back, "error").as_deref(), Some("access_denied"));
    assert_eq!(query_param(&back, "state").as_deref(), Some("cs"));
    assert_eq!(query_param(&back, "iss").as_deref(), Some(server.issuer.as_str()));
}

async fn id_token_for(server: &TestServer, browser: &Browser) -> String {
    let back = browser.sign_in(server, &authorize_url(server, RP_ID, "")).await;
    let tokens = redeem(server, &back).await;
    tokens["id_token"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn logout_with_id_token_hint_ends_the_session_and_returns_with_state() {
    let server = TestServer::start().await;
    let browser = Browser::new();
    let id_token = id_token_for(&server, &browser).await;
    let res = browser.get(&logout_url(&server, &id_token, "&state=bye-state")).await;
    let loc = location(&res).expect("redirect to the registered post-logout URI");
    assert!(loc.starts_with(RP_LOGOUT), "{loc}");
    assert_eq!(query_param(&loc, "state").as_deref(), Some("bye-state"));
    let back = browser
        .follow(&server, &authorize_url(&server, RP_ID, "&prompt=none"))
        .await;
    assert_eq!(
        query_param(&back, "error").as_deref(),
        Some("login_required"),
        "session ended"
    );
}

#[tokio::test]
async fn logout_without_hint_asks_first_and_needs_csrf() {
    let server = TestServer::start().await;
    let browser = Browser::new();
    browser.sign_in(&server, &authorize_url(&server, RP_ID, "")).await;
    let page = browser.page(&server.url("/logout")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.html.contains("Sign out?"));
    assert!(page.html.contains(ALICE));
    let res = browser
        .post(&server.url("/logout/confirm"), &[("decision", "logout")])
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN, "no CSRF token");
    let html = unescape(&res.text().await.unwrap());
    assert!(
        html.contains("This form has expired or did not come from this site."),
        "{html}"
    );
    // A cross-site logout (no token) ended nothing: still signed in.
    let back = browser
        .follow(&server, &authorize_url(&server, RP_ID, "&prompt=none"))
        .await;
    assert!(query_param(&back, "code").is_some(), "still signed in: {back}");
    let res = browser
        .post(
            &server.url("/logout/confirm"),
            &[("decision", "logout"), ("csrf", &page.field("csrf").unwrap())],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.text().await.unwrap().contains("You are signed out"));
    let back = browser
        .follow(&server, &authorize_url(&server, RP_ID, "&prompt=none"))
        .await;
    assert_eq!(query_param(&back, "error").as_deref(), Some("login_required"));
}

/// The token with one bit flipped in a byte in the middle of its signature (the last base64url
/// character can carry padding bits only, so changing it may leave the signature intact).
fn with_tampered_signature(jwt: &str) -> String {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;
    let (signed, signature) = jwt.rsplit_once('.').unwrap();
    let mut bytes = URL_SAFE_NO_PAD.decode(signature).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x01;
    format!("{signed}.{}", URL_SAFE_NO_PAD.encode(bytes))
}

#[tokio::test]
async fn logout_refuses_unregistered_redirects_and_forged_hints() {
    let server = TestServer::start().await;
    let browser = Browser::new();
    let id_token = id_token_for(&server, &browser).await;
    let forged = with_tampered_signature(&id_token);
    assert_ne!(forged, id_token);
    for (url, message) in [
        (
            format!(
                "/logout?id_token_hint={id_token}&post_logout_redirect_uri={}",
                urlencode("https://evil.example/")
            ),
            "The application asked to be sent back to an address it has not registered for sign-out, so Gatehouse stopped here.",
        ),
        (
            format!("/logout?post_logout_redirect_uri={}", urlencode(RP_LOGOUT)),
            "post_logout_redirect_uri needs an id_token_hint or a client_id.",
        ),
        (
            format!(
                "/logout?id_token_hint={forged}&post_logout_redirect_uri={}",
                urlencode(RP_LOGOUT)
            ),
            "The application sent a sign-out request Gatehouse could not verify.",
        ),
        (
            format!("/logout?id_token_hint={id_token}&client_id={SPA_ID}"),
            "client_id does not match the ID token.",
        ),
    ] {
        let res = browser.get(&server.url(&url)).await;
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{url}");
        assert!(location(&res).is_none(), "{url}");
        let html = unescape(&res.text().await.unwrap());
        assert!(html.contains(message), "{url}: {html}");
    }
    // Still signed in after the refused attempts.
    let back = browser
        .follow(&server, &authorize_url(&server, RP_ID, "&prompt=none"))
        .await;
    assert!(query_param(&back, "code").is_some());
    // Control: the untampered hint with the registered address signs out and goes back.
    let res = browser.get(&logout_url(&server, &id_token, "&state=s")).await;
    let to = location(&res).unwrap_or_else(|| panic!("a redirect, got {}", res.status()));
    assert!(to.starts_with(RP_LOGOUT), "{to}");
    let back = browser
        .follow(&server, &authorize_url(&server, RP_ID, "&prompt=none"))
        .await;
    assert_eq!(query_param(&back, "error").as_deref(), Some("login_required"));
}
