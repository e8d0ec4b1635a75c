//! The full authorization-code flow with the `openidconnect` crate as the relying party.
use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreJwsSigningAlgorithm, CoreProviderMetadata, CoreUserInfoClaims,
};
use openidconnect::{
    AccessTokenHash, AuthType, AuthenticationMethodReference, AuthorizationCode, ClientId, ClientSecret, CsrfToken,
    IssuerUrl, Nonce, OAuth2TokenResponse, PkceCodeChallenge, RedirectUrl, Scope, TokenResponse,
};

use super::harness::browser::Browser;
use super::harness::client_app::jwt_part;
use super::harness::urls::{query_param, urlencode};
use super::harness::*;

fn rp_http() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

struct FlowOutcome {
    claims_sub: String,
    amr: Vec<String>,
    email: Option<String>,
    sid: Option<String>,
}

/// Runs discovery → authorize → login → code → token → ID token checks → userinfo.
async fn run_flow(
    server: &TestServer,
    client_id: &str,
    secret: Option<&str>,
    auth: AuthType,
    alg: CoreJwsSigningAlgorithm,
) -> FlowOutcome {
    let http = rp_http();
    let meta = CoreProviderMetadata::discover_async(IssuerUrl::new(server.issuer.clone()).unwrap(), &http)
        .await
        .expect("discovery");
    let client = CoreClient::from_provider_metadata(
        meta,
        ClientId::new(client_id.into()),
        secret.map(|s| ClientSecret::new(s.into())),
    )
    .set_redirect_uri(RedirectUrl::new(RP_REDIRECT.into()).unwrap())
    .set_auth_type(auth);
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, csrf, nonce) = client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_scope(Scope::new("profile".into()))
        .add_scope(Scope::new("email".into()))
        .set_pkce_challenge(challenge)
        .url();

    let browser = Browser::new();
    let back = browser.sign_in(server, url.as_str()).await;
    assert!(back.starts_with(RP_REDIRECT), "back at the client: {back}");
    assert_eq!(query_param(&back, "state").as_deref(), Some(csrf.secret().as_str()));
    assert_eq!(
        query_param(&back, "iss").as_deref(),
        Some(server.issuer.as_str()),
        "RFC 9207 iss"
    );
    let code = query_param(&back, "code").expect("code");

    let token = client
        .exchange_code(AuthorizationCode::new(code))
        .unwrap()
        .set_pkce_verifier(verifier)
        .request_async(&http)
        .await
        .expect("token exchange");
    let id_token = token.id_token().expect("id_token");
    let id_verifier = client.id_token_verifier().set_allowed_algs(vec![alg.clone()]);
    let claims = id_token
        .claims(&id_verifier, &nonce)
        .expect("ID token verifies (signature, iss, aud, nonce)");
    assert_eq!(id_token.signing_alg().unwrap(), &alg);
    let expected_hash = AccessTokenHash::from_token(
        token.access_token(),
        id_token.signing_alg().unwrap(),
        id_token.signing_key(&id_verifier).unwrap(),
    )
    .unwrap();
    assert_eq!(claims.access_token_hash(), Some(&expected_hash), "at_hash");
    assert!(claims.auth_time().is_some(), "auth_time");
    assert_eq!(claims.preferred_username().map(|u| u.as_str()), Some(ALICE));

    let userinfo: CoreUserInfoClaims = client
        .user_info(token.access_token().clone(), Some(claims.subject().clone()))
        .unwrap()
        .request_async(&http)
        .await
        .expect("userinfo");
    assert_eq!(userinfo.subject(), claims.subject());
    assert_eq!(userinfo.email().map(|e| e.as_str()), Some("alice@example.com"));
    assert_eq!(userinfo.email_verified(), Some(true));

    let raw = jwt_part(&id_token.to_string(), 1);
    FlowOutcome {
        claims_sub: claims.subject().to_string(),
        amr: claims
            .auth_method_refs()
            .map(|v| {
                v.iter()
                    .map(|a: &AuthenticationMethodReference| a.to_string())
                    .collect()
            })
            .unwrap_or_default(),
        email: claims.email().map(|e| e.to_string()),
        sid: raw["sid"].as_str().map(str::to_owned),
    }
}

#[tokio::test]
async fn confidential_client_basic_auth_full_flow() {
    let server = TestServer::start().await;
    let out = run_flow(
        &server,
        RP_ID,
        Some(RP_SECRET),
        AuthType::BasicAuth,
        CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
    )
    .await;
    assert_eq!(out.amr, vec!["pwd"]);
    assert_eq!(out.email.as_deref(), Some("alice@example.com"));
    assert!(out.sid.is_some_and(|s| !s.is_empty()), "sid claim");
    assert!(!out.claims_sub.is_empty());
}

#[tokio::test]
async fn confidential_client_post_auth_full_flow() {
    let server = TestServer::start().await;
    run_flow(
        &server,
        RP_ID,
        Some(RP_SECRET),
        AuthType::RequestBody,
        CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
    )
    .await;
}

#[tokio::test]
async fn public_client_with_pkce_full_flow() {
    let server = TestServer::start().await;
    run_flow(
        &server,
        SPA_ID,
        None,
        AuthType::RequestBody,
        CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
    )
    .await;
}

#[tokio::test]
async fn es256_client_gets_es256_id_tokens() {
    let server = TestServer::start().await;
    run_flow(
        &server,
        ES_ID,
        Some(RP_SECRET),
        AuthType::BasicAuth,
        CoreJwsSigningAlgorithm::EcdsaP256Sha256,
    )
    .await;
}

#[tokio::test]
async fn discovery_and_jwks_publish_both_algorithms_with_kids() {
    let server = TestServer::start().await;
    let http = rp_http();
    let d: serde_json::Value = http
        .get(server.url("/.well-known/openid-configuration"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(d["issuer"], server.issuer);
    assert_eq!(d["code_challenge_methods_supported"], serde_json::json!(["S256"]));
    assert_eq!(d["authorization_response_iss_parameter_supported"], true);
    assert_eq!(d["request_uri_parameter_supported"], false);
    let jwks: serde_json::Value = http
        .get(server.url("/jwks"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let keys = jwks["keys"].as_array().unwrap();
    let algs: Vec<&str> = keys.iter().map(|k| k["alg"].as_str().unwrap()).collect();
    assert!(algs.contains(&"RS256") && algs.contains(&"ES256"), "{algs:?}");
    assert!(
        keys.iter()
            .all(|k| k["kid"].as_str().is_some_and(|s| !s.is_empty()) && k.get("d").is_none()),
        "kids, no private parts"
    );
}

#[tokio::test]
async fn signing_keys_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let db = database_url(dir.path()).await;
    let kids = |s: &TestServer| {
        let url = s.url("/jwks");
        async move {
            let j: serde_json::Value = reqwest::get(url).await.unwrap().json().await.unwrap();
            let mut k: Vec<String> = j["keys"]
                .as_array()
                .unwrap()
                .iter()
                .map(|k| k["kid"].as_str().unwrap().to_owned())
                .collect();
            k.sort();
            k
        }
    };
    let first = TestServer::start_with(|c| c.database_url = db.clone()).await;
    let before = kids(&first).await;
    let second = TestServer::start_with(|c| c.database_url = db.clone()).await;
    assert_eq!(before, kids(&second).await);
}

#[tokio::test]
async fn session_is_reused_and_prompt_none_answers_silently() {
    let server = TestServer::start().await;
    let browser = Browser::new();
    let authorize = |extra: &str| {
        server.url(&format!(
            "/authorize?response_type=code&client_id={RP_ID}&redirect_uri={}&scope=openid&state=s1&code_challenge={}&code_challenge_method=S256{extra}",
            urlencode(RP_REDIRECT),
            gatehouse::oidc::pkce::s256("a-verifier-that-is-long-enough-to-pass-the-rfc-7636-rules")
        ))
    };
    // No session yet: prompt=none must answer login_required with state and iss.
    let back = browser.follow(&server, &authorize("&prompt=none")).await;
    assert_eq!(query_param(&back, "error").as_deref(), Some("login_required"));
    assert_eq!(query_param(&back, "state").as_deref(), Some("s1"));
    assert_eq!(query_param(&back, "iss").as_deref(), Some(server.issuer.as_str()));

    let back = browser.sign_in(&server, &authorize("")).await;
    assert!(query_param(&back, "code").is_some());
    // Signed in: prompt=none now gets a code without any page.
    let back = browser.follow(&server, &authorize("&prompt=none")).await;
    assert!(query_param(&back, "code").is_some(), "{back}");
    // prompt=login forces the login page again.
    let at = browser.follow(&server, &authorize("&prompt=login")).await;
    assert!(at.contains("/login?interaction="), "{at}");
    // max_age=0 too.
    let at = browser.follow(&server, &authorize("&max_age=0")).await;
    assert!(at.contains("/login?interaction="), "{at}");
}
