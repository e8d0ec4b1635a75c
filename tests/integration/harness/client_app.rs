//! What the client app does at Gatehouse: its authorization and logout requests, the token,
//! introspection and userinfo endpoints, telling whether a browser is signed in, and reading the
//! JWTs it gets.
use base64::Engine;
use jsonwebtoken::jwk::JwkSet;
use reqwest::StatusCode;
use serde_json::Value;

use super::browser::Browser;
use super::urls::{query_param, urlencode};
use super::{TestServer, RP_ID, RP_LOGOUT, RP_REDIRECT, RP_SECRET};
use gatehouse::oidc::pkce::s256;

/// The PKCE verifier of the client app's authorization requests, which [`redeem`] sends.
pub const VERIFIER: &str = "client-app-verifier-client-app-verifier-client-app-1";

/// The client app's authorization request (client `RP_ID`, scope `openid profile email groups`,
/// state `bs`, nonce `bn`, PKCE with [`VERIFIER`]), with `extra` parameters (`&name=value…`)
/// appended.
pub fn authorize(server: &TestServer, extra: &str) -> String {
    server.url(&format!(
        "/authorize?response_type=code&client_id={RP_ID}&redirect_uri={}&scope=openid%20profile%20email%20groups&state=bs&nonce=bn&code_challenge={}&code_challenge_method=S256{extra}",
        urlencode(RP_REDIRECT),
        s256(VERIFIER)
    ))
}

/// Redeems the code in `back` (the client's redirect URI) as the client app; returns the token
/// response.
pub async fn redeem(server: &TestServer, back: &str) -> Value {
    let code = query_param(back, "code").unwrap_or_else(|| panic!("no code in {back}"));
    post_token(
        server,
        RP_ID,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", RP_REDIRECT),
            ("code_verifier", VERIFIER),
        ],
    )
    .await
    .1
}

/// Redeems the code in `back` as the client app; returns the ID token's claims.
pub async fn id_token_claims(server: &TestServer, back: &str) -> Value {
    let tokens = redeem(server, back).await;
    jwt_part(tokens["id_token"].as_str().expect("id_token"), 1)
}

/// The `error` that the client app's `prompt=none` request comes back with (`login_required` when
/// `browser` is not signed in), if any.
pub async fn prompt_none_error(browser: &Browser, server: &TestServer) -> Option<String> {
    let back = browser.follow(server, &authorize(server, "&prompt=none")).await;
    query_param(&back, "error")
}

/// The client app's logout request: `id_token` as the hint, back to `RP_LOGOUT` afterwards, with
/// `extra` parameters (`&name=value…`) appended.
pub fn logout_url(server: &TestServer, id_token: &str, extra: &str) -> String {
    server.url(&format!(
        "/logout?id_token_hint={id_token}&post_logout_redirect_uri={}{extra}",
        urlencode(RP_LOGOUT)
    ))
}

/// Whether `browser` is signed in at Gatehouse: the client app's `prompt=none` request gets a code.
pub async fn signed_in(browser: &Browser, server: &TestServer) -> bool {
    let back = browser.follow(server, &authorize(server, "&prompt=none")).await;
    query_param(&back, "code").is_some()
}

/// Signs alice in through `client_id` asking for `scope`; returns the token response.
pub async fn tokens_for(server: &TestServer, browser: &Browser, client_id: &str, scope: &str) -> Value {
    let url = server.url(&format!(
        "/authorize?response_type=code&client_id={client_id}&redirect_uri={}&scope={}&code_challenge={}&code_challenge_method=S256&nonce=n",
        urlencode(RP_REDIRECT),
        urlencode(scope),
        s256(VERIFIER)
    ));
    let back = browser.sign_in(server, &url).await;
    let code = query_param(&back, "code").unwrap_or_else(|| panic!("no code: {back}"));
    post_token(
        server,
        client_id,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", RP_REDIRECT),
            ("code_verifier", VERIFIER),
        ],
    )
    .await
    .1
}

/// Posts `form` to `path` as `client_id` (Basic auth with the shared secret); returns the status
/// and the JSON answer.
pub async fn post_as_client(
    server: &TestServer,
    path: &str,
    client_id: &str,
    form: &[(&str, &str)],
) -> (StatusCode, Value) {
    let res = reqwest::Client::new()
        .post(server.url(path))
        .basic_auth(client_id, Some(urlencode(RP_SECRET)))
        .form(form)
        .send()
        .await
        .unwrap();
    (res.status(), res.json().await.unwrap())
}

/// Posts `form` to the token endpoint as `client_id`.
pub async fn post_token(server: &TestServer, client_id: &str, form: &[(&str, &str)]) -> (StatusCode, Value) {
    post_as_client(server, "/token", client_id, form).await
}

/// Refreshes `token` as `client_id`.
pub async fn refresh(server: &TestServer, client_id: &str, token: &str) -> (StatusCode, Value) {
    post_token(
        server,
        client_id,
        &[("grant_type", "refresh_token"), ("refresh_token", token)],
    )
    .await
}

/// Introspects `token` as `client` (a client sees its own tokens, RFC 7662 §4).
pub async fn introspect(server: &TestServer, client: &str, token: &str) -> Value {
    post_as_client(server, "/introspect", client, &[("token", token)])
        .await
        .1
}

/// The status of a userinfo request with the access token `at`.
pub async fn userinfo_status(server: &TestServer, at: &str) -> StatusCode {
    reqwest::Client::new()
        .get(server.url("/userinfo"))
        .bearer_auth(at)
        .send()
        .await
        .unwrap()
        .status()
}

/// The JWKS Gatehouse publishes.
pub async fn published_jwks(server: &TestServer) -> JwkSet {
    reqwest::get(server.url("/jwks")).await.unwrap().json().await.unwrap()
}

/// Part `i` of a JWT (0: header, 1: claims), decoded; the signature is not checked.
pub fn jwt_part(token: &str, i: usize) -> Value {
    let p = token.split('.').nth(i).unwrap();
    serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(p).unwrap()).unwrap()
}
