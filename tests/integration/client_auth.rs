//! private_key_jwt client authentication and pushed authorization requests.
use jsonwebtoken::jwk::{Jwk, JwkSet};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::StatusCode;
use serde_json::{json, Value};

use super::browser::{query_param, Browser};
use super::flow::urlencode;
use super::harness::*;
use gatehouse::config::ClientDecl;
use gatehouse::oidc::pkce::s256;

const VERIFIER: &str = "client-auth-verifier-client-auth-verifier-client-1";
const PKJ: &str = "pkj-app";
const PAR_ONLY: &str = "par-only-app";

fn key(kid: &str) -> (EncodingKey, Jwk) {
    let pem = gatehouse::keys::generate_pem(gatehouse::keys::SigningAlg::RS256).unwrap();
    let enc = EncodingKey::from_rsa_pem(pem.as_bytes()).unwrap();
    let mut jwk = Jwk::from_encoding_key(&enc, Algorithm::RS256).unwrap();
    jwk.common.key_id = Some(kid.into());
    (enc, jwk)
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
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let uri = format!("http://{}/jwks", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    let server = TestServer::start_with(|c| {
        let base = c.clients[0].clone();
        c.clients.push(pkj_client(&base, None, Some(uri)));
    })
    .await;
    let c = code(&server, PKJ).await;
    let (s, body) = redeem_with_assertion(&server, &c, &assertion(&enc, "u1", &server.url("/token"), 60, "u-1")).await;
    assert_eq!(s, StatusCode::OK, "{body}");
}

async fn push(server: &TestServer, client_id: &str, params: &[(&str, &str)]) -> (StatusCode, Value) {
    let res = reqwest::Client::new()
        .post(server.url("/par"))
        .basic_auth(client_id, Some(urlencode(RP_SECRET)))
        .form(params)
        .send()
        .await
        .unwrap();
    (res.status(), res.json().await.unwrap())
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
    let res = browser.get(&url).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    // Another client cannot use someone else's request_uri.
    let (_, body) = push(&server, PAR_ONLY, &params).await;
    let stolen = server.url(&format!(
        "/authorize?client_id={RP_ID}&request_uri={}",
        urlencode(body["request_uri"].as_str().unwrap())
    ));
    assert_eq!(browser.get(&stolen).await.status(), StatusCode::BAD_REQUEST);

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
    assert_eq!(
        redeem_with_assertion(&server, &c, &hs(RP_SECRET, "h1")).await.0,
        StatusCode::UNAUTHORIZED,
        "replay"
    );
    let c = code(&server, PKJ).await;
    assert_eq!(
        redeem_with_assertion(&server, &c, &hs("a-guess", "h2")).await.0,
        StatusCode::UNAUTHORIZED,
        "wrong secret"
    );
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
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
}
