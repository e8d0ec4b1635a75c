//! Token lifecycle: refresh rotation and reuse detection, revocation, introspection, JWT access
//! tokens, back-channel logout, key rotation.
use openidconnect::core::{CoreClient, CoreProviderMetadata};
use openidconnect::{ClientId, ClientSecret, IssuerUrl, OAuth2TokenResponse, RefreshToken, TokenResponse};
use reqwest::StatusCode;
use serde_json::Value;

use super::harness::browser::Browser;
use super::harness::client_app::{
    introspect, jwt_part, logout_url, post_token, published_jwks, refresh, tokens_for, userinfo_status,
};
use super::harness::logout_receiver::LogoutReceiver;
use super::harness::urls::urlencode;
use super::harness::*;

async fn server() -> TestServer {
    TestServer::start_with(|c| extra_clients(c, None)).await
}

fn http() -> reqwest::Client {
    reqwest::Client::new()
}

/// Posts `form` to the revocation endpoint (RFC 7009) as `client`.
async fn revoke(server: &TestServer, client: &str, form: &[(&str, &str)]) -> reqwest::Response {
    http()
        .post(server.url("/revoke"))
        .basic_auth(client, Some(urlencode(RP_SECRET)))
        .form(form)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn refresh_tokens_rotate_and_a_reused_one_burns_the_family() {
    let server = server().await;
    let first = tokens_for(&server, &Browser::new(), REFRESH_APP, "openid profile").await;
    let r1 = first["refresh_token"]
        .as_str()
        .expect("refresh token (policy always)")
        .to_owned();

    let (s, second) = refresh(&server, REFRESH_APP, &r1).await;
    assert_eq!(s, StatusCode::OK, "{second}");
    let r2 = second["refresh_token"].as_str().expect("rotated").to_owned();
    assert_ne!(r1, r2);
    let id = jwt_part(second["id_token"].as_str().unwrap(), 1);
    assert_eq!(
        id["sid"],
        jwt_part(first["id_token"].as_str().unwrap(), 1)["sid"],
        "same session"
    );
    assert!(id.get("nonce").is_none(), "no nonce on refresh");
    let at2 = second["access_token"].as_str().unwrap().to_owned();
    assert_eq!(userinfo_status(&server, &at2).await, StatusCode::OK);
    let (s, third) = refresh(&server, REFRESH_APP, &r2).await;
    assert_eq!(s, StatusCode::OK, "{third}");
    let r3 = third["refresh_token"].as_str().unwrap().to_owned();

    // The first token again, after its successor was used (no retry then): refused, and the
    // whole family (r3 and the access tokens) is revoked.
    let (s, body) = refresh(&server, REFRESH_APP, &r1).await;
    assert_eq!(
        (s, body["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_grant"))
    );
    assert_eq!(refresh(&server, REFRESH_APP, &r3).await.1["error"], "invalid_grant");
    assert_eq!(userinfo_status(&server, &at2).await, StatusCode::UNAUTHORIZED);
    // Another client cannot use it either.
    let other = tokens_for(&server, &Browser::new(), REFRESH_APP, "openid").await;
    let other = other["refresh_token"].as_str().unwrap();
    assert_eq!(refresh(&server, RP_ID, other).await.1["error"], "invalid_grant");
}

#[tokio::test]
async fn refresh_with_the_openidconnect_crate_and_scope_rules() {
    let server = server().await;
    let first = tokens_for(&server, &Browser::new(), REFRESH_APP, "openid profile email").await;
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let meta = CoreProviderMetadata::discover_async(IssuerUrl::new(server.issuer.clone()).unwrap(), &http)
        .await
        .unwrap();
    let client = CoreClient::from_provider_metadata(
        meta,
        ClientId::new(REFRESH_APP.into()),
        Some(ClientSecret::new(RP_SECRET.into())),
    );
    let res = client
        .exchange_refresh_token(&RefreshToken::new(first["refresh_token"].as_str().unwrap().into()))
        .unwrap()
        .request_async(&http)
        .await
        .expect("refresh via openidconnect");
    let id_token = res.id_token().expect("new id_token");
    // Verifies signature, iss, aud; a refresh ID token carries no nonce (OIDC Core §12.2).
    id_token
        .claims(&client.id_token_verifier(), |_: Option<&openidconnect::Nonce>| Ok(()))
        .expect("valid ID token");
    let r = res.refresh_token().unwrap().secret().clone();

    let (s, narrower) = post_token(
        &server,
        REFRESH_APP,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", &r),
            ("scope", "openid email"),
        ],
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(narrower["scope"], "openid email");
    let r = narrower["refresh_token"].as_str().unwrap();
    let (s, wider) = post_token(
        &server,
        REFRESH_APP,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", r),
            ("scope", "openid email groups"),
        ],
    )
    .await;
    assert_eq!(
        (s, wider["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_scope"))
    );
}

#[tokio::test]
async fn offline_access_is_honoured_per_client_policy() {
    let server = server().await;
    // Default policy (offline_access): a refresh token only when asked for.
    let plain = tokens_for(&server, &Browser::new(), RP_ID, "openid").await;
    assert!(plain.get("refresh_token").is_none());
    let offline = tokens_for(&server, &Browser::new(), RP_ID, "openid offline_access").await;
    assert!(offline["refresh_token"].is_string());
    assert!(offline["scope"].as_str().unwrap().contains("offline_access"));
    // Policy never: the scope is dropped.
    let never = tokens_for(&server, &Browser::new(), JWT_APP, "openid offline_access").await;
    assert!(never.get("refresh_token").is_none());
    assert_eq!(never["scope"], "openid");
}

#[tokio::test]
async fn refresh_fails_once_the_user_is_disabled() {
    use sea_orm::{ActiveModelTrait, Set};
    let server = server().await;
    let t = tokens_for(&server, &Browser::new(), REFRESH_APP, "openid").await;
    let alice = gatehouse::store::users::find_by_username(&server.state.db, ALICE)
        .await
        .unwrap()
        .unwrap();
    let mut m: gatehouse::store::entities::user::ActiveModel = alice.into();
    m.disabled = Set(true);
    m.update(&server.state.db).await.unwrap();
    let (s, body) = refresh(&server, REFRESH_APP, t["refresh_token"].as_str().unwrap()).await;
    assert_eq!(
        (s, body["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_grant"))
    );
}

#[tokio::test]
async fn revocation_then_introspection_shows_inactive() {
    let server = server().await;
    let t = tokens_for(&server, &Browser::new(), REFRESH_APP, "openid profile").await;
    let (at, rt) = (
        t["access_token"].as_str().unwrap(),
        t["refresh_token"].as_str().unwrap(),
    );
    let i = introspect(&server, REFRESH_APP, at).await;
    assert_eq!(i["active"], true);
    assert_eq!(i["client_id"], REFRESH_APP);
    assert_eq!(i["username"], ALICE);
    assert_eq!(i["scope"], "openid profile");
    assert_eq!(introspect(&server, REFRESH_APP, rt).await["active"], true);

    // Another client cannot revoke the access token either: it stays active and usable.
    let res = revoke(&server, RP_ID, &[("token", at), ("token_type_hint", "access_token")]).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        res.json::<Value>().await.unwrap()["error_description"],
        "the token was issued to another client"
    );
    assert_eq!(introspect(&server, REFRESH_APP, at).await["active"], true);
    assert_eq!(userinfo_status(&server, at).await, StatusCode::OK);
    // Revoking the access token leaves the refresh token alone.
    let res = revoke(
        &server,
        REFRESH_APP,
        &[("token", at), ("token_type_hint", "access_token")],
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        introspect(&server, REFRESH_APP, at).await,
        serde_json::json!({"active": false})
    );
    assert_eq!(introspect(&server, REFRESH_APP, rt).await["active"], true);
    // Another client may not revoke it: refused, and the token stays active for its own
    // client; revoking the refresh token ends the grant.
    let res = revoke(&server, RP_ID, &[("token", rt)]).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let body: Value = res.json().await.unwrap();
    assert_eq!(
        (body["error"].as_str(), body["error_description"].as_str()),
        (
            Some("unauthorized_client"),
            Some("the token was issued to another client")
        ),
        "{body}"
    );
    let still = introspect(&server, REFRESH_APP, rt).await;
    assert_eq!(
        still["active"], true,
        "a foreign revoke leaves the token active: {still}"
    );
    assert_eq!(still["client_id"], REFRESH_APP);
    let (s, refreshed) = refresh(&server, REFRESH_APP, rt).await;
    assert_eq!(s, StatusCode::OK, "and usable: {refreshed}");
    let rt = refreshed["refresh_token"].as_str().unwrap().to_owned();
    let rt = rt.as_str();
    let res = revoke(&server, REFRESH_APP, &[("token", rt)]).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        introspect(&server, REFRESH_APP, rt).await,
        serde_json::json!({"active": false})
    );
    assert_eq!(refresh(&server, REFRESH_APP, rt).await.1["error"], "invalid_grant");
    // Unknown tokens: 200 (RFC 7009 §2.2), inactive.
    let res = revoke(&server, REFRESH_APP, &[("token", "nope")]).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(introspect(&server, REFRESH_APP, "nope").await["active"], false);
}

#[tokio::test]
async fn introspection_needs_a_confidential_client() {
    let server = server().await;
    let res = http()
        .post(server.url("/introspect"))
        .form(&[("token", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let res = http()
        .post(server.url("/introspect"))
        .form(&[("token", "x"), ("client_id", SPA_ID)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert_eq!(res.json::<Value>().await.unwrap()["error"], "unauthorized_client");
}

#[tokio::test]
async fn jwt_access_tokens_follow_rfc9068_and_stay_revocable() {
    let server = server().await;
    let t = tokens_for(&server, &Browser::new(), JWT_APP, "openid email").await;
    let at = t["access_token"].as_str().unwrap();
    let header = jwt_part(at, 0);
    assert_eq!(header["typ"], "at+jwt");
    let claims = jwt_part(at, 1);
    for k in ["iss", "exp", "aud", "sub", "client_id", "iat", "jti"] {
        assert!(claims.get(k).is_some(), "claim {k}");
    }
    assert_eq!(claims["client_id"], JWT_APP);
    assert_eq!(claims["scope"], "openid email");
    // Its signature verifies against the published JWKS.
    let jwks = published_jwks(&server).await;
    let jwk = jwks.find(header["kid"].as_str().unwrap()).unwrap();
    let mut v = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    v.set_audience(&[JWT_APP]);
    v.set_issuer(&[&server.issuer]);
    jsonwebtoken::decode::<Value>(at, &jsonwebtoken::DecodingKey::from_jwk(jwk).unwrap(), &v).expect("verifies");
    assert_eq!(userinfo_status(&server, at).await, StatusCode::OK);
    revoke(&server, JWT_APP, &[("token", at)]).await;
    assert_eq!(userinfo_status(&server, at).await, StatusCode::UNAUTHORIZED);
    assert_eq!(introspect(&server, JWT_APP, at).await["active"], false);
}

#[tokio::test]
async fn logout_sends_a_verifiable_backchannel_logout_token_and_ends_session_refresh_tokens() {
    // A small receiver on loopback, as a client's back-channel endpoint.
    let receiver = LogoutReceiver::start().await;
    let bc = receiver.url.clone();

    // Two clients with a back-channel endpoint (the same receiver; `aud` tells them apart).
    let server = TestServer::start_with(|c| {
        extra_clients(c, Some(bc.clone()));
        c.clients
            .iter_mut()
            .find(|c| c.id == JWT_APP)
            .unwrap()
            .backchannel_logout_uri = Some(bc);
    })
    .await;
    let browser = Browser::new();
    // The session touches refresh-app twice and jwt-app once.
    let session_bound = tokens_for(&server, &browser, REFRESH_APP, "openid").await;
    let offline = tokens_for(&server, &browser, REFRESH_APP, "openid offline_access").await;
    tokens_for(&server, &browser, JWT_APP, "openid").await;
    let id_token = session_bound["id_token"].as_str().unwrap();
    let sid = jwt_part(id_token, 1)["sid"].as_str().unwrap().to_owned();

    let res = browser
        .get(&server.url(&format!("/logout?id_token_hint={id_token}")))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    // Every expected token arrives (bounded wait), then nothing more: the queue was filled
    // before the logout page answered and its deliveries run in parallel, so a duplicate would
    // arrive in the same moment as the first.
    eventually(10, || receiver.tokens().len() >= 2).await;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let tokens = receiver.tokens();
    let mut audiences: Vec<String> = tokens
        .iter()
        .map(|t| jwt_part(t, 1)["aud"].as_str().unwrap_or_default().to_owned())
        .collect();
    audiences.sort();
    assert_eq!(
        audiences,
        vec![JWT_APP.to_owned(), REFRESH_APP.to_owned()],
        "one logout token per client, not per token"
    );
    let token = tokens
        .iter()
        .find(|t| jwt_part(t, 1)["aud"] == REFRESH_APP)
        .unwrap()
        .clone();
    assert_eq!(jwt_part(&token, 0)["typ"], "logout+jwt");
    let jwks = published_jwks(&server).await;
    let jwk = jwks.find(jwt_part(&token, 0)["kid"].as_str().unwrap()).unwrap();
    let mut v = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    v.set_audience(&[REFRESH_APP]);
    v.set_issuer(&[&server.issuer]);
    let claims = jsonwebtoken::decode::<Value>(&token, &jsonwebtoken::DecodingKey::from_jwk(jwk).unwrap(), &v)
        .unwrap()
        .claims;
    assert_eq!(
        claims["sid"], sid,
        "sid consistent across ID token, logout token and session"
    );
    assert!(claims["events"]
        .get("http://schemas.openid.net/event/backchannel-logout")
        .is_some());
    assert!(claims.get("nonce").is_none());
    assert!(claims["jti"].is_string());

    // Session-bound refresh token died with the session; the offline one lives on.
    assert_eq!(
        refresh(&server, REFRESH_APP, session_bound["refresh_token"].as_str().unwrap())
            .await
            .1["error"],
        "invalid_grant"
    );
    assert_eq!(
        refresh(&server, REFRESH_APP, offline["refresh_token"].as_str().unwrap())
            .await
            .0,
        StatusCode::OK
    );
}

#[tokio::test]
async fn rotated_keys_sign_at_once_while_old_tokens_still_verify() {
    let server = server().await;
    let before = tokens_for(&server, &Browser::new(), RP_ID, "openid").await;
    let old_token = before["id_token"].as_str().unwrap().to_owned();
    let old_kid = jwt_part(&old_token, 0)["kid"].as_str().unwrap().to_owned();

    server.state.keys.rotate().await.expect("rotate");

    let after = tokens_for(&server, &Browser::new(), RP_ID, "openid").await;
    let new_kid = jwt_part(after["id_token"].as_str().unwrap(), 0)["kid"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_ne!(old_kid, new_kid, "the new key signs at once");
    let jwks = published_jwks(&server).await;
    let kids: Vec<_> = jwks.keys.iter().filter_map(|k| k.common.key_id.clone()).collect();
    assert!(kids.contains(&old_kid) && kids.contains(&new_kid), "{kids:?}");
    assert_eq!(kids.len(), 4, "old and new, RS256 and ES256");
    let mut v = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    v.set_audience(&[RP_ID]);
    let old_key = jsonwebtoken::DecodingKey::from_jwk(jwks.find(&old_kid).unwrap()).unwrap();
    jsonwebtoken::decode::<Value>(&old_token, &old_key, &v).expect("a token signed by the old key still verifies");
    // The old ID token is still a valid logout hint too.
    let res = Browser::new().get(&logout_url(&server, &old_token, "")).await;
    assert_eq!(res.status(), StatusCode::FOUND);
}

#[tokio::test]
async fn retired_keys_leave_the_jwks_after_their_grace() {
    // The server's grace is the longest token lifetime plus 120 s, too long to wait for here:
    // a store over the same database with zero grace shows the rule.
    let server = server().await;
    let short = gatehouse::keys::KeyStore::new(server.state.db.clone(), 0);
    let first: Vec<_> = short.list().await.unwrap().into_iter().map(|k| k.kid).collect();
    short.rotate().await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    short.rotate().await.unwrap();
    let remaining: Vec<_> = short.list().await.unwrap().into_iter().map(|k| k.kid).collect();
    assert!(
        first.iter().all(|k| !remaining.contains(k)),
        "keys past their grace are deleted"
    );
    let set = short.current().await.unwrap();
    assert_eq!(
        set.jwks().keys.len(),
        2,
        "only the current RS256 and ES256 keys are published"
    );
}

#[tokio::test]
async fn logout_page_loads_front_channel_logout_iframes_then_continues() {
    let server = TestServer::start_with(|c| {
        extra_clients(c, None);
        c.clients[0].frontchannel_logout_uri = Some("http://127.0.0.1:9/fc".into());
    })
    .await;
    let browser = Browser::new();
    let t = tokens_for(&server, &browser, RP_ID, "openid").await;
    let id_token = t["id_token"].as_str().unwrap();
    let sid = jwt_part(id_token, 1)["sid"].as_str().unwrap().to_owned();
    let res = browser.get(&logout_url(&server, id_token, "&state=fc")).await;
    assert_eq!(res.status(), StatusCode::OK, "a page first, to load the iframes");
    let csp = res.headers()["content-security-policy"].to_str().unwrap().to_owned();
    assert!(csp.contains("frame-src http://127.0.0.1:9"), "{csp}");
    let html = res.text().await.unwrap().replace("&amp;", "&").replace("&#x3D;", "=");
    let iframe = format!("http://127.0.0.1:9/fc?iss={}&sid={sid}", urlencode(&server.issuer));
    assert!(html.contains(&format!("<iframe src=\"{iframe}\"")), "{html}");
    assert!(html.contains(&format!("{RP_LOGOUT}?state=fc")), "then on to the client");
}
