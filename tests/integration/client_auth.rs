//! private_key_jwt client authentication and pushed authorization requests.
use jsonwebtoken::jwk::{Jwk, JwkSet};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::StatusCode;
use serde_json::{json, Value};

use super::harness::browser::{location, unescape, Browser};
use super::harness::client_app::post_as_client;
use super::harness::loopback::{listen, serve};
use super::harness::urls::{query_param, urlencode};
use super::harness::*;
use gatehouse::config::ClientDecl;
use gatehouse::oidc::pkce::s256;

const VERIFIER: &str = "client-auth-verifier-client-auth-verifier-client-1";
const PKJ: &str = "pkj-app";
const PAR_ONLY: &str = "par-only-app";

fn key(kid: &str) -> (EncodingKey, Jwk) {
    let (enc, jwk, _) = key_and_public_pem(kid);
    (enc, jwk)
}

/// A client key pair: the signing key, its public JWK, and its public key as PEM (what an
/// attacker who knows the registered keys holds).
fn key_and_public_pem(kid: &str) -> (EncodingKey, Jwk, String) {
    let pem = gatehouse::keys::generate_pem(gatehouse::keys::SigningAlg::RS256).unwrap();
    let public_pem = String::from_utf8(
        openssl::pkey::PKey::private_key_from_pem(pem.as_bytes())
            .unwrap()
            .public_key_to_pem()
            .unwrap(),
    )
    .unwrap();
    let enc = EncodingKey::from_rsa_pem(pem.as_bytes()).unwrap();
    let mut jwk = Jwk::from_encoding_key(&enc, Algorithm::RS256).unwrap();
    jwk.common.key_id = Some(kid.into());
    (enc, jwk, public_pem)
}

/// An HS256 assertion for the `PKJ` client, its HMAC key being `secret`.
fn hs256_assertion(server: &TestServer, secret: &[u8], jti: &str) -> String {
    let now = gatehouse::store::now();
    let claims = json!({"iss": PKJ, "sub": PKJ, "aud": server.url("/token"), "iat": now, "exp": now + 60, "jti": jti});
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(secret),
    )
    .unwrap()
}

/// Asserts a refused client authentication: 401 `invalid_client` with exactly this description.
#[track_caller]
fn assert_invalid_client(got: (StatusCode, Value), description: &str, what: &str) {
    let (status, body) = got;
    assert_eq!(
        (status, body["error"].as_str(), body["error_description"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("invalid_client"), Some(description)),
        "{what}: {body}"
    );
}

fn assertion(enc: &EncodingKey, kid: &str, aud: &str, exp_in: i64, jti: &str) -> String {
    let mut h = Header::new(Algorithm::RS256);
    h.kid = Some(kid.into());
    let now = gatehouse::store::now();
    jsonwebtoken::encode(
        &h,
        &json!({"iss": PKJ, "sub": PKJ, "aud": aud, "iat": now, "exp": now + exp_in, "jti": jti}),
        enc,
    )
    .unwrap()
}

async fn code(server: &TestServer, client_id: &str) -> String {
    let url = server.url(&format!(
        "/authorize?response_type=code&client_id={client_id}&redirect_uri={}&scope=openid&code_challenge={}&code_challenge_method=S256",
        urlencode(RP_REDIRECT),
        s256(VERIFIER)
    ));
    let back = Browser::new().sign_in(server, &url).await;
    query_param(&back, "code").unwrap_or_else(|| panic!("{back}"))
}

async fn redeem_with_assertion(server: &TestServer, code: &str, assertion: &str) -> (StatusCode, Value) {
    let res = reqwest::Client::new()
        .post(server.url("/token"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", RP_REDIRECT),
            ("code_verifier", VERIFIER),
            ("client_id", PKJ),
            (
                "client_assertion_type",
                "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            ),
            ("client_assertion", assertion),
        ])
        .send()
        .await
        .unwrap();
    (res.status(), res.json().await.unwrap())
}

fn pkj_client(base: &ClientDecl, jwks: Option<String>, jwks_uri: Option<String>) -> ClientDecl {
    ClientDecl {
        id: PKJ.into(),
        secret: None,
        jwks,
        jwks_uri,
        ..base.clone()
    }
}

#[tokio::test]
async fn private_key_jwt_authenticates_once_per_assertion() {
    let (enc, jwk) = key("c1");
    let (other, _) = key("c1");
    let jwks = serde_json::to_string(&JwkSet { keys: vec![jwk] }).unwrap();
    let server = TestServer::start_with(|c| {
        let base = c.clients[0].clone();
        c.clients.push(pkj_client(&base, Some(jwks), None));
    })
    .await;
    let token_endpoint = server.url("/token");

    for (what, a) in [
        (
            "wrong audience",
            assertion(&enc, "c1", "https://elsewhere.example/token", 60, "j1"),
        ),
        ("expired", assertion(&enc, "c1", &token_endpoint, -120, "j2")),
        ("another key", assertion(&other, "c1", &token_endpoint, 60, "j3")),
        ("too long-lived", assertion(&enc, "c1", &token_endpoint, 3600, "j4")),
    ] {
        let c = code(&server, PKJ).await;
        let (s, body) = redeem_with_assertion(&server, &c, &a).await;
        assert_eq!(
            (s, body["error"].as_str()),
            (StatusCode::UNAUTHORIZED, Some("invalid_client")),
            "{what}"
        );
    }

    let good = assertion(&enc, "c1", &token_endpoint, 60, "j-good");
    let c = code(&server, PKJ).await;
    let (s, body) = redeem_with_assertion(&server, &c, &good).await;
    assert_eq!(s, StatusCode::OK, "{body}");
    assert!(body["id_token"].is_string());
    // The same assertion again is a replay.
    let c = code(&server, PKJ).await;
    let (s, body) = redeem_with_assertion(&server, &c, &good).await;
    assert_eq!(
        (s, body["error"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("invalid_client"))
    );
    // The issuer is accepted as audience too (OIDC Core §9).
    let c = code(&server, PKJ).await;
    assert_eq!(
        redeem_with_assertion(&server, &c, &assertion(&enc, "c1", &server.issuer, 60, "j-iss"))
            .await
            .0,
        StatusCode::OK
    );
}

#[tokio::test]
async fn private_key_jwt_with_a_jwks_uri() {
    let (enc, jwk) = key("u1");
    let set = JwkSet { keys: vec![jwk] };
    let app = axum::Router::new().route(
        "/jwks",
        axum::routing::get(move || async move { axum::Json(set.clone()) }),
    );
    let (listener, base) = listen().await;
    let uri = format!("{base}/jwks");
    serve(listener, app);
    let server = TestServer::start_with(|c| {
        let base = c.clients[0].clone();
        c.clients.push(pkj_client(&base, None, Some(uri)));
    })
    .await;
    let c = code(&server, PKJ).await;
    let (s, body) = redeem_with_assertion(&server, &c, &assertion(&enc, "u1", &server.url("/token"), 60, "u-1")).await;
    assert_eq!(s, StatusCode::OK, "{body}");
}

/// Pushes an authorization request (RFC 9126) as `client_id`.
async fn push(server: &TestServer, client_id: &str, params: &[(&str, &str)]) -> (StatusCode, Value) {
    post_as_client(server, "/par", client_id, params).await
}

#[tokio::test]
async fn pushed_authorization_requests_are_single_use_and_can_be_required() {
    let server = TestServer::start_with(|c| {
        let base = c.clients[0].clone();
        c.clients.push(ClientDecl {
            id: PAR_ONLY.into(),
            require_par: true,
            ..base
        });
    })
    .await;
    let challenge = s256(VERIFIER);
    let params = [
        ("response_type", "code"),
        ("redirect_uri", RP_REDIRECT),
        ("scope", "openid"),
        ("state", "pushed-state"),
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
    ];
    let (s, body) = push(&server, PAR_ONLY, &params).await;
    assert_eq!(s, StatusCode::CREATED, "{body}");
    assert_eq!(body["expires_in"], 60);
    let request_uri = body["request_uri"].as_str().unwrap();
    assert!(request_uri.starts_with("urn:ietf:params:oauth:request_uri:"));

    let url = server.url(&format!(
        "/authorize?client_id={PAR_ONLY}&request_uri={}",
        urlencode(request_uri)
    ));
    let browser = Browser::new();
    let back = browser.sign_in(&server, &url).await;
    assert!(query_param(&back, "code").is_some(), "{back}");
    assert_eq!(query_param(&back, "state").as_deref(), Some("pushed-state"));
    // Single use.
    let expired = |res: reqwest::Response, what: &'static str| async move {
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{what}");
        assert!(location(&res).is_none(), "{what}: no redirect");
        let html = unescape(&res.text().await.unwrap());
        assert!(html.contains("<h1>Sign-in request expired</h1>"), "{what}: {html}");
        assert!(
            html.contains("The application's sign-in request is unknown, expired or already used."),
            "{what}: {html}"
        );
    };
    expired(browser.get(&url).await, "the same request_uri again").await;
    // Another client cannot use someone else's request_uri, and does not spend it.
    let (_, body) = push(&server, PAR_ONLY, &params).await;
    let request_uri = body["request_uri"].as_str().unwrap().to_owned();
    let stolen = server.url(&format!(
        "/authorize?client_id={RP_ID}&request_uri={}",
        urlencode(&request_uri)
    ));
    expired(browser.get(&stolen).await, "another client's request_uri").await;
    let own = server.url(&format!(
        "/authorize?client_id={PAR_ONLY}&request_uri={}",
        urlencode(&request_uri)
    ));
    let back = browser.follow(&server, &own).await;
    assert!(
        query_param(&back, "code").is_some(),
        "its own client still uses it: {back}"
    );

    // A PAR-only client's front-channel request is refused (to its registered redirect URI).
    let direct = server.url(&format!(
        "/authorize?response_type=code&client_id={PAR_ONLY}&redirect_uri={}&scope=openid&state=d&code_challenge={challenge}&code_challenge_method=S256",
        urlencode(RP_REDIRECT)
    ));
    let back = browser.follow(&server, &direct).await;
    assert_eq!(query_param(&back, "error").as_deref(), Some("invalid_request"));
    // Bad pushes are refused at once, as JSON.
    let (s, body) = push(
        &server,
        PAR_ONLY,
        &[
            ("response_type", "code"),
            ("redirect_uri", "https://evil.example/"),
            ("scope", "openid"),
        ],
    )
    .await;
    assert_eq!(
        (s, body["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_request"))
    );
    let (s, body) = push(
        &server,
        PAR_ONLY,
        &[
            ("response_type", "code"),
            ("redirect_uri", RP_REDIRECT),
            ("scope", "openid"),
            ("code_challenge_method", "plain"),
            ("code_challenge", "x"),
        ],
    )
    .await;
    assert_eq!(
        (s, body["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_request"))
    );
}

#[tokio::test]
async fn client_secret_jwt_only_for_clients_that_opted_in() {
    let server = TestServer::start_with(|c| {
        let base = c.clients[0].clone();
        c.clients.push(ClientDecl {
            id: PKJ.into(),
            client_secret_jwt: true,
            ..base
        });
    })
    .await;
    let hs = |secret: &str, jti: &str| {
        let now = gatehouse::store::now();
        let claims =
            json!({"iss": PKJ, "sub": PKJ, "aud": server.url("/token"), "iat": now, "exp": now + 60, "jti": jti});
        jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &EncodingKey::from_secret(secret.as_bytes()),
        )
        .unwrap()
    };
    let c = code(&server, PKJ).await;
    let (s, body) = redeem_with_assertion(&server, &c, &hs(RP_SECRET, "h1")).await;
    assert_eq!(s, StatusCode::OK, "{body}");
    let c = code(&server, PKJ).await;
    assert_invalid_client(
        redeem_with_assertion(&server, &c, &hs(RP_SECRET, "h1")).await,
        "client assertion already used",
        "replay",
    );
    assert_invalid_client(
        redeem_with_assertion(&server, &c, &hs("a-guess", "h2")).await,
        "client assertion rejected",
        "wrong secret",
    );
    // Neither refusal spent the code: its own client still redeems it.
    let (s, body) = redeem_with_assertion(&server, &c, &hs(RP_SECRET, "h3")).await;
    assert_eq!(s, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn client_secret_jwt_is_refused_by_the_opt_in_check_for_a_client_with_keys_and_a_secret() {
    // A private_key_jwt client that also has a client secret, and did not opt into
    // client_secret_jwt: it passes the "has assertion keys" gate, so only the opt-in check
    // stands between an HMAC assertion made with its secret and a token.
    let (enc, jwk) = key("k1");
    let jwks = serde_json::to_string(&JwkSet { keys: vec![jwk] }).unwrap();
    let server = TestServer::start_with(|c| {
        let base = c.clients[0].clone();
        c.clients.push(ClientDecl {
            id: PKJ.into(),
            secret: Some(RP_SECRET.into()),
            jwks: Some(jwks),
            client_secret_jwt: false,
            ..base
        });
    })
    .await;
    let token_endpoint = server.url("/token");
    // Control: the client's own RS256 assertion is accepted.
    let c = code(&server, PKJ).await;
    let (s, body) = redeem_with_assertion(&server, &c, &assertion(&enc, "k1", &token_endpoint, 60, "rs-1")).await;
    assert_eq!(s, StatusCode::OK, "{body}");

    // HS256 with the client's own secret: refused by the opt-in check, and the code survives.
    let c = code(&server, PKJ).await;
    assert_invalid_client(
        redeem_with_assertion(&server, &c, &hs256_assertion(&server, RP_SECRET.as_bytes(), "hs-1")).await,
        "client_secret_jwt is not enabled for this client",
        "HS256 with the client secret",
    );
    let (s, body) = redeem_with_assertion(&server, &c, &assertion(&enc, "k1", &token_endpoint, 60, "rs-2")).await;
    assert_eq!(s, StatusCode::OK, "the refused attempt did not spend the code: {body}");
}

#[tokio::test]
async fn an_hs256_assertion_keyed_with_a_private_key_jwt_clients_public_key_or_secret_is_refused() {
    // Algorithm confusion: the verifier must not take the registered public key (or anything
    // else an attacker knows) as an HMAC secret because the assertion says HS256.
    let (enc, jwk, public_pem) = key_and_public_pem("k1");
    let jwk_json = serde_json::to_string(&jwk).unwrap();
    let jwks = serde_json::to_string(&JwkSet {
        keys: vec![jwk.clone()],
    })
    .unwrap();
    let modulus = match &jwk.algorithm {
        jsonwebtoken::jwk::AlgorithmParameters::RSA(rsa) => rsa.n.clone(),
        other => panic!("an RSA key: {other:?}"),
    };
    let server = TestServer::start_with(|c| {
        let base = c.clients[0].clone();
        c.clients.push(pkj_client(&base, Some(jwks.clone()), None));
    })
    .await;
    let c = code(&server, PKJ).await;
    for (what, secret) in [
        ("the public key PEM", public_pem.as_bytes()),
        ("the registered JWK", jwk_json.as_bytes()),
        ("the registered JWKS", jwks.as_bytes()),
        ("the modulus", modulus.as_bytes()),
        ("another client's secret", RP_SECRET.as_bytes()),
    ] {
        let mut h = Header::new(Algorithm::HS256);
        h.kid = Some("k1".into());
        let now = gatehouse::store::now();
        let claims =
            json!({"iss": PKJ, "sub": PKJ, "aud": server.url("/token"), "iat": now, "exp": now + 60, "jti": what});
        let forged = jsonwebtoken::encode(&h, &claims, &EncodingKey::from_secret(secret)).unwrap();
        assert_invalid_client(
            redeem_with_assertion(&server, &c, &forged).await,
            "client_secret_jwt is not enabled for this client",
            what,
        );
    }
    // The code is still good for the client's real assertion.
    let (s, body) = redeem_with_assertion(&server, &c, &assertion(&enc, "k1", &server.url("/token"), 60, "rs-1")).await;
    assert_eq!(s, StatusCode::OK, "{body}");
    assert!(body["id_token"].is_string());
}

#[tokio::test]
async fn hmac_assertions_are_refused_for_other_clients() {
    let server = TestServer::start().await;
    let now = gatehouse::store::now();
    let claims =
        json!({"iss": RP_ID, "sub": RP_ID, "aud": server.url("/token"), "iat": now, "exp": now + 60, "jti": "x"});
    let a = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(RP_SECRET.as_bytes()),
    )
    .unwrap();
    let res = reqwest::Client::new()
        .post(server.url("/token"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", "irrelevant"),
            (
                "client_assertion_type",
                "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            ),
            ("client_assertion", &a),
        ])
        .send()
        .await
        .unwrap();
    // The client has no assertion keys at all: refused before any key is chosen.
    assert_invalid_client(
        (res.status(), res.json().await.unwrap()),
        "client authentication failed",
        "HS256 for a client without assertion keys",
    );
}
