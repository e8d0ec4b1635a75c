//! Refusals: every bad input gets a spec error or a clear page, never a redirect to a stranger.
use reqwest::StatusCode;
use serde_json::Value;

use super::harness::browser::{location, unescape, Browser};
use super::harness::client_app::userinfo_status;
use super::harness::urls::{query_param, urlencode};
use super::harness::*;
use gatehouse::oidc::pkce::s256;

const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk-and-some-more";

fn authorize_url(server: &TestServer, client_id: &str, extra: &str) -> String {
    server.url(&format!(
        "/authorize?response_type=code&client_id={client_id}&redirect_uri={}&scope=openid%20email&state=xyz&nonce=n-1{extra}",
        urlencode(RP_REDIRECT)
    ))
}

fn pkce_params() -> String {
    format!("&code_challenge={}&code_challenge_method=S256", s256(VERIFIER))
}

async fn code_for(server: &TestServer, browser: &Browser, client_id: &str) -> String {
    let back = browser
        .sign_in(server, &authorize_url(server, client_id, &pkce_params()))
        .await;
    query_param(&back, "code").unwrap_or_else(|| panic!("no code in {back}"))
}

async fn redeem(
    server: &TestServer,
    client_id: &str,
    secret: Option<&str>,
    code: &str,
    verifier: Option<&str>,
) -> (StatusCode, Value) {
    let mut form = vec![
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", RP_REDIRECT),
    ];
    if let Some(v) = verifier {
        form.push(("code_verifier", v));
    }
    let http = reqwest::Client::new();
    let req = match secret {
        Some(s) => http
            .post(server.url("/token"))
            .basic_auth(urlencode(client_id), Some(urlencode(s)))
            .form(&form),
        None => {
            form.push(("client_id", client_id));
            http.post(server.url("/token")).form(&form)
        }
    };
    let res = req.send().await.unwrap();
    let status = res.status();
    (status, res.json().await.unwrap())
}

#[tokio::test]
async fn wrong_password_and_unknown_user_get_the_same_generic_message() {
    let server = TestServer::start().await;
    let browser = Browser::new();
    let login = browser
        .follow(&server, &authorize_url(&server, RP_ID, &pkce_params()))
        .await;
    for (user, pass) in [(ALICE, "wrong"), ("nobody", "whatever"), ("", "")] {
        let res = browser.submit_login(&login, user, pass).await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
        let html = res.text().await.unwrap();
        assert!(html.contains("Invalid username or password."), "{html}");
    }
}

#[tokio::test]
async fn login_form_without_or_with_wrong_csrf_is_refused() {
    const CSRF_REFUSED: &str =
        "This form has expired or did not come from this site. Go back, reload the page and try again.";
    let server = TestServer::start().await;
    let browser = Browser::new();
    let login = browser
        .follow(&server, &authorize_url(&server, RP_ID, &pkce_params()))
        .await;
    let page = browser.page(&login).await;
    let ix = page.field("interaction").unwrap();
    let signed_in = |browser: &Browser| {
        let url = authorize_url(&server, RP_ID, &format!("{}&prompt=none", pkce_params()));
        let server = &server;
        let browser = browser.http.clone();
        async move {
            let res = browser.get(&url).send().await.unwrap();
            let to = location(&res).unwrap_or_default();
            assert!(to.starts_with(RP_REDIRECT) || to.starts_with(&server.issuer), "{to}");
            query_param(&to, "code").is_some()
        }
    };
    let refused = |res: reqwest::Response, what: &'static str| async move {
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "{what}");
        assert!(location(&res).is_none(), "{what}");
        let html = unescape(&res.text().await.unwrap());
        assert!(html.contains("<h1>Request refused</h1>"), "{what}: {html}");
        assert!(html.contains(CSRF_REFUSED), "{what}: {html}");
    };
    for (csrf, what) in [(None, "no token"), (Some("forged-token"), "a made-up token")] {
        let mut form = vec![
            ("interaction", ix.as_str()),
            ("username", ALICE),
            ("password", ALICE_PASSWORD),
        ];
        if let Some(c) = csrf {
            form.push(("csrf", c));
        }
        refused(browser.post(&server.url("/login"), &form).await, what).await;
        assert!(!signed_in(&browser).await, "{what}: not signed in");
    }
    // Another browser's valid token is no good either.
    let other = Browser::new();
    let other_token = other.page(&login).await.field("csrf").unwrap();
    let res = browser
        .post(
            &server.url("/login"),
            &[
                ("interaction", &ix),
                ("csrf", &other_token),
                ("username", ALICE),
                ("password", ALICE_PASSWORD),
            ],
        )
        .await;
    refused(res, "another browser's token").await;
    assert!(!signed_in(&browser).await, "not signed in");
    // Control: this browser's own token, with the same credentials, signs in.
    let res = browser
        .post(
            &server.url("/login"),
            &[
                ("interaction", &ix),
                ("csrf", &page.field("csrf").unwrap()),
                ("username", ALICE),
                ("password", ALICE_PASSWORD),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert!(signed_in(&browser).await, "the real token signs in");
}

/// Asserts a token-endpoint refusal: 400 `invalid_grant` with exactly this description.
#[track_caller]
fn assert_invalid_grant(got: (StatusCode, Value), description: &str, what: &str) {
    let (status, body) = got;
    assert_eq!(
        (status, body["error"].as_str(), body["error_description"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_grant"), Some(description)),
        "{what}: {body}"
    );
}

#[tokio::test]
async fn pkce_verifier_mismatch_missing_and_downgrade_are_invalid_grant() {
    const NO_PKCE: &str = "no-pkce-app";
    let server = TestServer::start_with(|c| {
        let base = c.clients[0].clone();
        c.clients.push(gatehouse::config::ClientDecl {
            id: NO_PKCE.into(),
            require_pkce: false,
            ..base
        });
    })
    .await;
    let browser = Browser::new();
    // Control: the right verifier redeems a code.
    let code = code_for(&server, &browser, RP_ID).await;
    let (s, body) = redeem(&server, RP_ID, Some(RP_SECRET), &code, Some(VERIFIER)).await;
    assert_eq!(s, StatusCode::OK, "{body}");

    let code = code_for(&server, &browser, RP_ID).await;
    assert_invalid_grant(
        redeem(
            &server,
            RP_ID,
            Some(RP_SECRET),
            &code,
            Some("wrong-verifier-wrong-verifier-wrong-verifier-123"),
        )
        .await,
        "code_verifier does not match the code_challenge",
        "another verifier",
    );

    let code = code_for(&server, &browser, RP_ID).await;
    assert_invalid_grant(
        redeem(&server, RP_ID, Some(RP_SECRET), &code, None).await,
        "code_verifier is missing",
        "no verifier for a code with a challenge",
    );

    // Downgrade (RFC 9700 §2.1.1): a client that may skip PKCE gets a code without a challenge;
    // a verifier at the token endpoint then means someone injected a code from a flow without
    // PKCE into a flow with it, and is refused.
    let no_challenge = || {
        server.url(&format!(
            "/authorize?response_type=code&client_id={NO_PKCE}&redirect_uri={}&scope=openid&state=xyz&nonce=n-1",
            urlencode(RP_REDIRECT)
        ))
    };
    let back = browser.sign_in(&server, &no_challenge()).await;
    let code = query_param(&back, "code").unwrap_or_else(|| panic!("no code in {back}"));
    assert_invalid_grant(
        redeem(&server, NO_PKCE, Some(RP_SECRET), &code, Some(VERIFIER)).await,
        "code_verifier sent, but the authorization request had no code_challenge",
        "a verifier for a code without a challenge",
    );
    // Control: the same kind of code, redeemed without a verifier, is accepted.
    let back = browser.sign_in(&server, &no_challenge()).await;
    let code = query_param(&back, "code").unwrap_or_else(|| panic!("no code in {back}"));
    let (s, body) = redeem(&server, NO_PKCE, Some(RP_SECRET), &code, None).await;
    assert_eq!(s, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn plain_pkce_and_missing_pkce_are_refused_at_authorize() {
    let server = TestServer::start().await;
    let browser = Browser::new();
    let plain = browser
        .follow(
            &server,
            &authorize_url(
                &server,
                SPA_ID,
                "&code_challenge=abcdefghijklmnopqrstuvwxyzabcdefghijklmnopq&code_challenge_method=plain",
            ),
        )
        .await;
    assert!(plain.starts_with(RP_REDIRECT), "{plain}");
    assert_eq!(query_param(&plain, "error").as_deref(), Some("invalid_request"));
    assert_eq!(query_param(&plain, "state").as_deref(), Some("xyz"));
    assert_eq!(query_param(&plain, "iss").as_deref(), Some(server.issuer.as_str()));
    let missing = browser.follow(&server, &authorize_url(&server, SPA_ID, "")).await;
    assert_eq!(query_param(&missing, "error").as_deref(), Some("invalid_request"));
}

#[tokio::test]
async fn replayed_code_is_refused_and_revokes_tokens_issued_from_it() {
    let server = TestServer::start().await;
    let browser = Browser::new();
    let code = code_for(&server, &browser, RP_ID).await;
    let (s, first) = redeem(&server, RP_ID, Some(RP_SECRET), &code, Some(VERIFIER)).await;
    assert_eq!(s, StatusCode::OK, "{first}");
    let at = first["access_token"].as_str().unwrap().to_owned();
    assert_eq!(userinfo_status(&server, &at).await, StatusCode::OK);

    let (s, second) = redeem(&server, RP_ID, Some(RP_SECRET), &code, Some(VERIFIER)).await;
    assert_eq!(
        (s, second["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_grant"))
    );
    assert_eq!(
        userinfo_status(&server, &at).await,
        StatusCode::UNAUTHORIZED,
        "token from the replayed code is revoked"
    );
}

#[tokio::test]
async fn code_is_bound_to_client_and_redirect_uri() {
    let server = TestServer::start().await;
    let browser = Browser::new();
    let code = code_for(&server, &browser, RP_ID).await;
    // Another (authenticated) client cannot redeem, nor burn, the code.
    assert_invalid_grant(
        redeem(&server, ES_ID, Some(RP_SECRET), &code, Some(VERIFIER)).await,
        "the code was issued to another client",
        "another client",
    );
    // Its own client still redeems it afterwards.
    let (s, body) = redeem(&server, RP_ID, Some(RP_SECRET), &code, Some(VERIFIER)).await;
    assert_eq!(
        s,
        StatusCode::OK,
        "the other client's attempt did not burn the code: {body}"
    );
    assert!(body["id_token"].is_string());

    // Wrong redirect_uri.
    let code = code_for(&server, &browser, RP_ID).await;
    let res = reqwest::Client::new()
        .post(server.url("/token"))
        .basic_auth(RP_ID, Some(urlencode(RP_SECRET)))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", "http://127.0.0.1:9/other"),
            ("code_verifier", VERIFIER),
        ])
        .send()
        .await
        .unwrap();
    assert_invalid_grant(
        (res.status(), res.json().await.unwrap()),
        "redirect_uri does not match the authorization request",
        "another redirect_uri",
    );
}

#[tokio::test]
async fn bad_client_credentials_are_invalid_client() {
    let server = TestServer::start().await;
    let browser = Browser::new();
    let code = code_for(&server, &browser, RP_ID).await;
    let res = reqwest::Client::new()
        .post(server.url("/token"))
        .basic_auth(RP_ID, Some("wrong"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", RP_REDIRECT),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert!(res.headers().get("www-authenticate").is_some());
    assert_eq!(res.headers().get("cache-control").unwrap(), "no-store");
    assert_eq!(res.json::<Value>().await.unwrap()["error"], "invalid_client");
    // A confidential client may not pretend to be public.
    let (s, body) = redeem(&server, RP_ID, None, &code, Some(VERIFIER)).await;
    assert_eq!(
        (s, body["error"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("invalid_client"))
    );
    // Unsupported grant type.
    let res = reqwest::Client::new()
        .post(server.url("/token"))
        .basic_auth(RP_ID, Some(urlencode(RP_SECRET)))
        .form(&[
            ("grant_type", "password"),
            ("username", ALICE),
            ("password", ALICE_PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.json::<Value>().await.unwrap()["error"], "unsupported_grant_type");
}

#[tokio::test]
async fn unknown_client_and_unregistered_redirect_uri_get_a_page_never_a_redirect() {
    let server = TestServer::start().await;
    let browser = Browser::new();
    const UNKNOWN: (&str, &str) = (
        "Unknown application",
        "The application that sent you here is not registered with Gatehouse.",
    );
    const UNREGISTERED: (&str, &str) = (
        "Invalid redirect address",
        "The application asked Gatehouse to send you back to an address it has not registered, so Gatehouse stopped here.",
    );
    let cases = [
        (
            server.url(&format!(
                "/authorize?response_type=code&client_id=nope&redirect_uri={}&scope=openid",
                urlencode(RP_REDIRECT)
            )),
            UNKNOWN,
        ),
        (
            server.url(&format!(
                "/authorize?response_type=code&client_id={RP_ID}&redirect_uri={}&scope=openid",
                urlencode("https://evil.example/cb")
            )),
            UNREGISTERED,
        ),
        (
            server.url(&format!(
                "/authorize?response_type=code&client_id={RP_ID}&redirect_uri={}&scope=openid",
                urlencode("http://127.0.0.1:9/cb/")
            )),
            UNREGISTERED,
        ),
        (
            server.url(&format!("/authorize?response_type=code&client_id={RP_ID}&scope=openid")),
            UNREGISTERED,
        ),
        (
            server.url("/authorize"),
            (
                "Invalid sign-in request",
                "The application did not say who it is (client_id is missing).",
            ),
        ),
        // An unknown pushed request_uri: the redirect URI it would carry is unknown too.
        (
            server.url(&format!(
                "/authorize?client_id={RP_ID}&request_uri=urn:ietf:params:oauth:request_uri:nope&redirect_uri={}",
                urlencode(RP_REDIRECT)
            )),
            (
                "Sign-in request expired",
                "The application's sign-in request is unknown, expired or already used. Go back to the application and try again.",
            ),
        ),
        // Repeated parameters are ambiguous: no redirect either.
        (
            server.url(&format!(
                "/authorize?client_id={RP_ID}&client_id={SPA_ID}&redirect_uri={}",
                urlencode(RP_REDIRECT)
            )),
            (
                "Invalid sign-in request",
                "The application sent an invalid request: parameter client_id is repeated.",
            ),
        ),
    ];
    for (url, (title, message)) in cases {
        let res = browser.get(&url).await;
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{url}");
        assert!(location(&res).is_none(), "{url} must not redirect");
        let html = unescape(&res.text().await.unwrap());
        assert!(html.contains(&format!("<h1>{title}</h1>")), "{url}: {html}");
        assert!(html.contains(message), "{url}: {html}");
    }
    // The control: the same request with a registered redirect URI goes on to the login page.
    let ok = browser
        .follow(&server, &authorize_url(&server, RP_ID, &pkce_params()))
        .await;
    assert!(ok.contains("/login?interaction="), "{ok}");
}

#[tokio::test]
async fn other_authorize_errors_go_back_to_the_client_with_state() {
    let server = TestServer::start().await;
    let browser = Browser::new();
    let base = |q: &str| {
        server.url(&format!(
            "/authorize?client_id={RP_ID}&redirect_uri={}&state=st{q}",
            urlencode(RP_REDIRECT)
        ))
    };
    for (q, error) in [
        ("&response_type=token&scope=openid", "unsupported_response_type"),
        ("&scope=openid", "invalid_request"),
        ("&response_type=code&scope=openid&request=eyJ", "request_not_supported"),
        ("&response_type=code", "invalid_scope"),
        (
            "&response_type=code&scope=openid&prompt=none%20login",
            "invalid_request",
        ),
        ("&response_type=code&scope=openid&max_age=soon", "invalid_request"),
    ] {
        let res = browser.get(&format!("{}{}", base(q), pkce_params())).await;
        let loc = location(&res).unwrap_or_else(|| panic!("{q}: expected a redirect"));
        assert!(loc.starts_with(RP_REDIRECT), "{loc}");
        assert_eq!(query_param(&loc, "error").as_deref(), Some(error), "{q}");
        assert_eq!(query_param(&loc, "state").as_deref(), Some("st"));
        assert_eq!(query_param(&loc, "iss").as_deref(), Some(server.issuer.as_str()));
    }
}

#[tokio::test]
async fn userinfo_refuses_missing_and_bogus_tokens() {
    let server = TestServer::start().await;
    let http = reqwest::Client::new();
    let res = http.get(server.url("/userinfo")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert!(res.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .starts_with("Bearer"));
    let res = http
        .get(server.url("/userinfo"))
        .bearer_auth("bogus")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert!(res.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .contains("invalid_token"));
}

#[tokio::test]
async fn userinfo_accepts_post_with_header_and_form_body() {
    let server = TestServer::start().await;
    let browser = Browser::new();
    let code = code_for(&server, &browser, RP_ID).await;
    let (_, tokens) = redeem(&server, RP_ID, Some(RP_SECRET), &code, Some(VERIFIER)).await;
    let at = tokens["access_token"].as_str().unwrap();
    let http = reqwest::Client::new();
    let by_header: Value = http
        .post(server.url("/userinfo"))
        .bearer_auth(at)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(by_header["email"], "alice@example.com");
    let by_form: Value = http
        .post(server.url("/userinfo"))
        .form(&[("access_token", at)])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(by_form, by_header);
    // No profile scope was asked: no name released.
    assert!(by_header.get("name").is_none());
}
