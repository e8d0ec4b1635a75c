//! The admin API (`/admin/api/v1`): every endpoint authorised with Gatehouse's own
//! client_credentials tokens and refused without the right one, problem+json answers that name
//! the bad field, and what each change does at the protocol endpoints.
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use super::harness::browser::Browser;
use super::harness::client_app::{introspect, post_token, refresh, tokens_for};
use super::harness::urls::urlencode;
use super::harness::*;
use gatehouse::config::ClientDecl;

/// A machine client with both admin scopes, one that may only read, one that may only write.
const ADMIN: &str = "ops-bot";
const READER: &str = "auditor";
const WRITER: &str = "provisioner";
/// A machine client of some other API (its tokens are not for the admin API).
const OTHER_API: &str = "billing-bot";

/// Adds the machine clients (secret `RP_SECRET`, no redirect URIs) to the test config.
fn admin_clients(c: &mut gatehouse::config::Config) {
    let base = c.clients[0].clone();
    for (id, scopes) in [
        (ADMIN, vec!["admin:read", "admin:write"]),
        (READER, vec!["admin:read"]),
        (WRITER, vec!["admin:write"]),
        (OTHER_API, vec!["api:read"]),
    ] {
        c.clients.push(ClientDecl {
            id: id.into(),
            redirect_uris: vec![],
            post_logout_redirect_uris: vec![],
            machine_scopes: scopes.into_iter().map(String::from).collect(),
            ..base.clone()
        });
    }
}

async fn server() -> TestServer {
    TestServer::start_with(|c| {
        extra_clients(c, None);
        admin_clients(c);
        c.lifetimes.refresh_retry_window = 0;
    })
    .await
}

/// A client_credentials token of `client` (all its machine scopes).
async fn machine_token(server: &TestServer, client: &str) -> String {
    let (status, body) = post_token(server, client, &[("grant_type", "client_credentials")]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["access_token"].as_str().unwrap().to_owned()
}

/// An admin API call; returns the status, the headers and the body (JSON, or Null when empty).
async fn call(
    server: &TestServer,
    method: Method,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> (StatusCode, reqwest::header::HeaderMap, Value) {
    let mut req = reqwest::Client::new().request(method, server.url(&format!("/admin/api/v1{path}")));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    if let Some(b) = body {
        req = req.json(&b);
    }
    let res = req.send().await.unwrap();
    let (status, headers) = (res.status(), res.headers().clone());
    let text = res.text().await.unwrap();
    let value = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or_else(|_| panic!("JSON from {path}: {text}"))
    };
    (status, headers, value)
}

fn is_problem(headers: &reqwest::header::HeaderMap) -> bool {
    headers
        .get("content-type")
        .is_some_and(|v| v == "application/problem+json")
}

fn challenge(headers: &reqwest::header::HeaderMap) -> String {
    headers
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default()
}

/// Every (method, path, scope) the OpenAPI document lists.
async fn documented(server: &TestServer) -> Vec<(Method, String, String)> {
    let (status, _, doc) = call(server, Method::GET, "/openapi.json", None, None).await;
    assert_eq!(status, StatusCode::OK);
    let mut ops = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (m, op) in item.as_object().unwrap() {
            let method = Method::from_bytes(m.to_uppercase().as_bytes()).unwrap();
            let scope = op["security"][0]["machine_token"][0]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            ops.push((method, path.clone(), scope));
        }
    }
    ops.sort_by(|a, b| (a.1.as_str(), a.0.as_str()).cmp(&(b.1.as_str(), b.0.as_str())));
    ops
}

/// A documented path with its parameters filled in.
fn concrete(path: &str) -> String {
    path.trim_start_matches("/admin/api/v1")
        .replace("{id}", "nobody")
        .replace("{provider}", "nowhere")
        .replace("{sid}", "no-session")
}

#[tokio::test]
async fn the_openapi_document_lists_exactly_the_served_endpoints_each_behind_a_bearer_challenge() {
    let server = server().await;
    let ops = documented(&server).await;
    let listed: Vec<String> = ops.iter().map(|(m, p, _)| format!("{m} {p}")).collect();
    let mut expected = vec![
        "GET /admin/api/v1/clients",
        "POST /admin/api/v1/clients",
        "GET /admin/api/v1/clients/{id}",
        "PATCH /admin/api/v1/clients/{id}",
        "DELETE /admin/api/v1/clients/{id}",
        "POST /admin/api/v1/clients/{id}/secret",
        "POST /admin/api/v1/clients/{id}/disable",
        "POST /admin/api/v1/clients/{id}/enable",
        "GET /admin/api/v1/users",
        "POST /admin/api/v1/users",
        "GET /admin/api/v1/users/{id}",
        "PATCH /admin/api/v1/users/{id}",
        "DELETE /admin/api/v1/users/{id}",
        "POST /admin/api/v1/users/{id}/disable",
        "POST /admin/api/v1/users/{id}/enable",
        "DELETE /admin/api/v1/users/{id}/throttle",
        "POST /admin/api/v1/users/{id}/password-reset",
        "DELETE /admin/api/v1/users/{id}/identities/{provider}",
        "GET /admin/api/v1/sessions",
        "DELETE /admin/api/v1/sessions/{sid}",
        "GET /admin/api/v1/keys",
        "POST /admin/api/v1/keys/rotate",
        "GET /admin/api/v1/events",
        "GET /admin/api/v1/providers",
        "POST /admin/api/v1/providers",
        "GET /admin/api/v1/providers/{id}",
        "PATCH /admin/api/v1/providers/{id}",
        "DELETE /admin/api/v1/providers/{id}",
        "POST /admin/api/v1/providers/{id}/disable",
        "POST /admin/api/v1/providers/{id}/enable",
    ];
    expected.sort_by_key(|e| {
        let (m, p) = e.split_once(' ').unwrap();
        (p.to_owned(), m.to_owned())
    });
    assert_eq!(listed, expected, "the document lists every endpoint, and only those");
    for (method, path, scope) in &ops {
        let expected_scope = if method == Method::GET {
            "admin:read"
        } else {
            "admin:write"
        };
        assert_eq!(scope, expected_scope, "{method} {path} documents its scope");
        // Served: without a token the answer is the RFC 6750 challenge, not 404 or 405.
        let (status, headers, body) = call(&server, method.clone(), &concrete(path), None, None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{method} {path}: {body}");
        assert_eq!(
            challenge(&headers),
            "Bearer realm=\"gatehouse-admin\"",
            "{method} {path}"
        );
        assert!(is_problem(&headers), "{method} {path}");
        assert_eq!(body["status"], 401);
    }
    // Anything else below the API is a problem+json 404.
    let (status, headers, _) = call(&server, Method::GET, "/nothing-here", None, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(is_problem(&headers));
}

#[tokio::test]
async fn every_endpoint_refuses_a_token_without_its_scope_with_insufficient_scope() {
    let server = server().await;
    let reader = machine_token(&server, READER).await;
    let writer = machine_token(&server, WRITER).await;
    for (method, path, scope) in documented(&server).await {
        let wrong = if scope == "admin:read" { &writer } else { &reader };
        let (status, headers, body) = call(&server, method.clone(), &concrete(&path), Some(wrong), None).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{method} {path}: {body}");
        assert_eq!(
            challenge(&headers),
            format!("Bearer realm=\"gatehouse-admin\", error=\"insufficient_scope\", scope=\"{scope}\""),
            "{method} {path}"
        );
        assert!(is_problem(&headers));
        // The right scope gets past authorization (here to a 404 for the made-up ids, or an answer).
        let right = if scope == "admin:read" { &reader } else { &writer };
        let (status, _, body) = call(&server, method.clone(), &concrete(&path), Some(right), None).await;
        assert!(
            status != StatusCode::UNAUTHORIZED && status != StatusCode::FORBIDDEN,
            "{method} {path} with {scope}: {status} {body}"
        );
    }
}

fn invalid_token(res: &(StatusCode, reqwest::header::HeaderMap, Value)) -> bool {
    res.0 == StatusCode::UNAUTHORIZED && challenge(&res.1).contains("error=\"invalid_token\"") && is_problem(&res.1)
}

#[tokio::test]
async fn persons_expired_forged_revoked_and_foreign_tokens_are_refused_as_invalid() {
    let server = server().await;
    let good = machine_token(&server, ADMIN).await;
    let ok = call(&server, Method::GET, "/users", Some(&good), None).await;
    assert_eq!(ok.0, StatusCode::OK, "{}", ok.2);

    // A person's JWT access token (jwt-app), signed by the same keys.
    let person = tokens_for(&server, &Browser::new(), JWT_APP, "openid profile").await;
    let person_at = person["access_token"].as_str().unwrap();
    assert!(invalid_token(
        &call(&server, Method::GET, "/users", Some(person_at), None).await
    ));

    // A machine token for another API: its audience is that client, not the admin API.
    let foreign = machine_token(&server, OTHER_API).await;
    assert!(invalid_token(
        &call(&server, Method::GET, "/users", Some(&foreign), None).await
    ));

    // Expired: the server's own key, the right audience and scope, an hour past.
    let keys = server.state.keys.current().await.unwrap();
    let now = gatehouse::store::now();
    let claims = |exp: i64| {
        json!({
            "iss": server.issuer, "sub": ADMIN, "client_id": ADMIN,
            "aud": format!("{}/admin/api/v1", server.issuer),
            "scope": "admin:read admin:write", "iat": exp - 300, "exp": exp, "jti": "x",
        })
    };
    let expired = keys
        .sign_typed(gatehouse::keys::SigningAlg::RS256, "at+jwt", &claims(now - 3600))
        .unwrap();
    assert!(invalid_token(
        &call(&server, Method::GET, "/users", Some(&expired), None).await
    ));

    // Well-formed and unexpired but never issued (not recorded): refused as well.
    let unrecorded = keys
        .sign_typed(gatehouse::keys::SigningAlg::RS256, "at+jwt", &claims(now + 300))
        .unwrap();
    assert!(invalid_token(
        &call(&server, Method::GET, "/users", Some(&unrecorded), None).await
    ));

    // Forged: the claims of the good token re-signed by another key under the same kid.
    let header = super::harness::client_app::jwt_part(&good, 0);
    let pem = gatehouse::keys::generate_pem(gatehouse::keys::SigningAlg::RS256).unwrap();
    let forger = gatehouse::keys::SigningKey::from_pem(
        header["kid"].as_str().unwrap().into(),
        gatehouse::keys::SigningAlg::RS256,
        &pem,
    )
    .unwrap();
    let forged = forger
        .sign("at+jwt", &super::harness::client_app::jwt_part(&good, 1))
        .unwrap();
    assert!(invalid_token(
        &call(&server, Method::GET, "/users", Some(&forged), None).await
    ));
    // Tampered: the good token with its scope widened.
    let mut parts: Vec<String> = good.split('.').map(str::to_owned).collect();
    let mut body = super::harness::client_app::jwt_part(&good, 1);
    body["scope"] = json!("admin:read admin:write more");
    parts[1] = base64_url(&serde_json::to_vec(&body).unwrap());
    assert!(invalid_token(
        &call(&server, Method::GET, "/users", Some(&parts.join(".")), None).await
    ));
    // Garbage, and another scheme.
    assert!(invalid_token(
        &call(&server, Method::GET, "/users", Some("not-a-jwt"), None).await
    ));
    let basic = reqwest::Client::new()
        .get(server.url("/admin/api/v1/users"))
        .basic_auth(ADMIN, Some(RP_SECRET))
        .send()
        .await
        .unwrap();
    assert_eq!(basic.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(challenge(basic.headers()), "Bearer realm=\"gatehouse-admin\"");

    // Revoked (RFC 7009): refused from then on.
    // RFC 7009 §2.2: 200 with an empty body.
    let revoked = reqwest::Client::new()
        .post(server.url("/revoke"))
        .basic_auth(ADMIN, Some(super::harness::urls::urlencode(super::harness::RP_SECRET)))
        .form(&[("token", good.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), StatusCode::OK);
    assert!(invalid_token(
        &call(&server, Method::GET, "/users", Some(&good), None).await
    ));
}

fn base64_url(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

#[tokio::test]
async fn admin_scopes_come_in_a_token_of_their_own_for_the_admin_api() {
    let server = server().await;
    let token = machine_token(&server, ADMIN).await;
    let claims = super::harness::client_app::jwt_part(&token, 1);
    assert_eq!(claims["aud"], format!("{}/admin/api/v1", server.issuer));
    assert_eq!(claims["sub"], ADMIN);
    assert_eq!(claims["scope"], "admin:read admin:write");
}

async fn problem(
    server: &TestServer,
    token: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let (status, headers, body) = call(server, method, path, Some(token), body).await;
    assert!(is_problem(&headers), "{path}: {status} {body}");
    assert_eq!(body["status"], status.as_u16(), "{body}");
    (status, body)
}

#[tokio::test]
async fn bad_input_gets_problem_json_naming_the_field() {
    let server = server().await;
    let t = machine_token(&server, ADMIN).await;
    let cases = [
        (Method::POST, "/users", json!({"username": "a@b"}), "username"),
        (
            Method::POST,
            "/users",
            json!({"username": "carol", "password": "password"}),
            "password",
        ),
        (
            Method::POST,
            "/users",
            json!({"username": "carol", "email": "not-an-email"}),
            "email",
        ),
        (
            Method::POST,
            "/users",
            json!({"username": "carol", "email_verified": "yes"}),
            "email_verified",
        ),
        (
            Method::POST,
            "/users",
            json!({"username": "carol", "nickname": "c"}),
            "nickname",
        ),
        (Method::POST, "/users", json!({"email": "c@example.com"}), "username"),
        (
            Method::POST,
            "/clients",
            json!({"client_id": "app", "redirect_uris": ["not a url"]}),
            "redirect_uris",
        ),
        (
            Method::POST,
            "/clients",
            json!({"client_id": "app", "redirect_uris": ["https://a.example/cb", 7]}),
            "redirect_uris[1]",
        ),
        (
            Method::POST,
            "/clients",
            json!({"client_id": "has space", "redirect_uris": []}),
            "client_id",
        ),
        (
            Method::POST,
            "/clients",
            json!({"client_id": "app", "redirect_uris": [], "token_endpoint_auth_method": "magic"}),
            "token_endpoint_auth_method",
        ),
        (
            Method::POST,
            "/clients",
            json!({"client_id": "app", "redirect_uris": [], "refresh_token_sliding_lifetime": -5}),
            "refresh_token_sliding_lifetime",
        ),
        (
            Method::POST,
            "/clients",
            json!({"client_id": "app", "machine_scopes": ["openid"]}),
            "machine_scopes",
        ),
        (
            Method::POST,
            "/clients",
            json!({"client_id": "app", "redirect_uris": [], "token_endpoint_auth_method": "private_key_jwt"}),
            "jwks",
        ),
        (Method::PATCH, "/users/nobody", json!({"groups": [""]}), "groups"),
    ];
    for (method, path, body, field) in cases {
        let (status, p) = problem(&server, &t, method, path, Some(body.clone())).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {p}");
        assert_eq!(p["field"], field, "{body}: {p}");
        assert_eq!(p["type"], "urn:gatehouse:problem:invalid-field");
        assert!(p["detail"].as_str().is_some_and(|d| !d.is_empty()), "{p}");
        assert!(p["errors"][0]["pointer"].as_str().unwrap().starts_with('/'), "{p}");
    }
    for (path, field) in [
        ("/users?limit=0", "limit"),
        ("/users?limit=ten", "limit"),
        ("/users?sort=name", "sort"),
        ("/events?since=yesterday", "since"),
        ("/events?kind=admin.%25", "kind"),
        ("/events?since=20&until=10", "until"),
    ] {
        let (status, p) = problem(&server, &t, Method::GET, path, None).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{path}: {p}");
        assert_eq!(p["field"], field, "{path}: {p}");
    }
    // Not JSON at all, or not sent as JSON.
    let res = reqwest::Client::new()
        .post(server.url("/admin/api/v1/users"))
        .bearer_auth(&t)
        .header("content-type", "application/json")
        .body("{\"username\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert!(is_problem(res.headers()));
    let res = reqwest::Client::new()
        .post(server.url("/admin/api/v1/users"))
        .bearer_auth(&t)
        .form(&[("username", "carol")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    // A missing record, a taken name, a declared client.
    let (status, _) = problem(&server, &t, Method::GET, "/users/nobody", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, p) = problem(&server, &t, Method::POST, "/users", Some(json!({"username": "ALICE"}))).await;
    assert_eq!(
        (status, p["field"].as_str()),
        (StatusCode::CONFLICT, Some("username")),
        "{p}"
    );
    let (status, p) = problem(
        &server,
        &t,
        Method::PATCH,
        &format!("/clients/{RP_ID}"),
        Some(json!({"name": "x"})),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{p}");
    assert_eq!(p["type"], "urn:gatehouse:problem:declared-in-config");
    // Nothing half-written: the refused requests left no user and no client behind.
    let (_, _, users) = call(&server, Method::GET, "/users?search=carol", Some(&t), None).await;
    assert_eq!(users["total"], 0, "{users}");
    let (status, _, _) = call(&server, Method::GET, "/clients/app", Some(&t), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_client_is_created_with_its_secret_shown_once_changed_rotated_disabled_and_deleted() {
    let server = server().await;
    let t = machine_token(&server, ADMIN).await;
    let (status, _, made) = call(
        &server,
        Method::POST,
        "/clients",
        Some(&t),
        Some(json!({
            "client_id": "reports",
            "name": "Reports",
            "redirect_uris": ["https://reports.example/cb"],
            "machine_scopes": ["reports:read"],
            "refresh_token_sliding_lifetime": 3600,
        })),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{made}");
    let secret = made["client_secret"].as_str().expect("the secret, once").to_owned();
    assert_eq!(made["token_endpoint_auth_method"], "client_secret_basic");
    assert_eq!(made["declared"], false);
    assert_eq!(made["refresh_token_sliding_lifetime"], 3600);
    let (_, _, got) = call(&server, Method::GET, "/clients/reports", Some(&t), None).await;
    assert!(got.get("client_secret").is_none(), "never shown again: {got}");
    assert_eq!(got["redirect_uris"], json!(["https://reports.example/cb"]));

    // The secret works at the token endpoint.
    let token_with = |secret: String| {
        let server = &server;
        async move {
            let res = reqwest::Client::new()
                .post(server.url("/token"))
                .basic_auth("reports", Some(urlencode(&secret)))
                .form(&[("grant_type", "client_credentials")])
                .send()
                .await
                .unwrap();
            (res.status(), res.json::<Value>().await.unwrap())
        }
    };
    let (s, issued) = token_with(secret.clone()).await;
    assert_eq!(s, StatusCode::OK, "{issued}");
    let its_token = issued["access_token"].as_str().unwrap().to_owned();

    // Update: redirect URIs, allowed providers, lifetimes.
    let (status, _, changed) = call(
        &server,
        Method::PATCH,
        "/clients/reports",
        Some(&t),
        Some(json!({
            "redirect_uris": ["https://reports.example/cb2"],
            "allowed_providers": ["corp"],
            "refresh_token_absolute_lifetime": 7200,
        })),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{changed}");
    assert_eq!(changed["redirect_uris"], json!(["https://reports.example/cb2"]));
    assert_eq!(changed["allowed_providers"], json!(["corp"]));
    assert_eq!(changed["refresh_token_absolute_lifetime"], 7200);
    assert!(
        changed["client_secret"].is_null(),
        "same kind of auth: the secret is kept"
    );
    assert_eq!(
        token_with(secret.clone()).await.0,
        StatusCode::OK,
        "kept secret still works"
    );

    // Rotate: the old secret stops working, the new one works.
    let (status, _, rotated) = call(&server, Method::POST, "/clients/reports/secret", Some(&t), None).await;
    assert_eq!(status, StatusCode::OK, "{rotated}");
    let new_secret = rotated["client_secret"].as_str().unwrap().to_owned();
    assert_ne!(new_secret, secret);
    assert_eq!(token_with(secret).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(token_with(new_secret.clone()).await.0, StatusCode::OK);

    // Disable: refused at the token endpoint and its tokens end; enable brings it back.
    let (status, _, disabled) = call(&server, Method::POST, "/clients/reports/disable", Some(&t), None).await;
    assert_eq!(
        (status, &disabled["disabled"]),
        (StatusCode::OK, &json!(true)),
        "{disabled}"
    );
    assert_eq!(token_with(new_secret.clone()).await.0, StatusCode::UNAUTHORIZED);
    let row = gatehouse::store::tokens::find_active(&server.state.db, &its_token)
        .await
        .unwrap();
    assert!(row.is_none(), "the client's tokens were revoked");
    let (status, _, _) = call(&server, Method::POST, "/clients/reports/enable", Some(&t), None).await;
    assert_eq!(status, StatusCode::OK);
    let (s, again) = token_with(new_secret.clone()).await;
    assert_eq!(s, StatusCode::OK, "{again}");
    let later_token = again["access_token"].as_str().unwrap().to_owned();

    // Listed, then deleted: gone, and its tokens with it.
    let (_, _, list) = call(&server, Method::GET, "/clients?limit=200", Some(&t), None).await;
    assert!(list["items"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["client_id"] == "reports"));
    assert!(list["items"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["client_id"] == RP_ID && c["declared"] == true));
    let (status, _, _) = call(&server, Method::DELETE, "/clients/reports", Some(&t), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _, _) = call(&server, Method::GET, "/clients/reports", Some(&t), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(token_with(new_secret).await.0, StatusCode::UNAUTHORIZED);
    let row = gatehouse::store::tokens::find_active(&server.state.db, &later_token)
        .await
        .unwrap();
    assert!(row.is_none(), "a deleted client's tokens end");

    // A public client gets no secret; a declared one cannot be disabled or deleted.
    let (status, _, spa) = call(
        &server,
        Method::POST,
        "/clients",
        Some(&t),
        Some(json!({"client_id": "spa2", "redirect_uris": ["https://spa.example/cb"], "token_endpoint_auth_method": "none"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{spa}");
    assert!(spa["client_secret"].is_null());
    for (m, p) in [
        (Method::POST, format!("/clients/{RP_ID}/disable")),
        (Method::DELETE, format!("/clients/{RP_ID}")),
        (Method::POST, format!("/clients/{RP_ID}/secret")),
    ] {
        let (status, _, body) = call(&server, m, &p, Some(&t), None).await;
        assert_eq!(status, StatusCode::CONFLICT, "{p}: {body}");
    }
}

#[tokio::test]
async fn disabling_a_user_ends_their_sessions_and_their_refresh_token_at_the_token_endpoint() {
    let server = server().await;
    let t = machine_token(&server, ADMIN).await;
    let browser = Browser::new();
    let tokens = tokens_for(&server, &browser, REFRESH_APP, "openid profile").await;
    let rt = tokens["refresh_token"].as_str().expect("a refresh token").to_owned();
    let alice = accounts::local_id(&server, ALICE).await;

    let (_, _, detail) = call(&server, Method::GET, &format!("/users/{alice}"), Some(&t), None).await;
    assert_eq!(detail["username"], ALICE);
    assert_eq!(detail["sessions"].as_array().unwrap().len(), 1, "{detail}");
    assert_eq!(detail["mfa"]["totp"], false);
    assert!(detail.get("password_hash").is_none());
    let (_, _, sessions) = call(
        &server,
        Method::GET,
        &format!("/sessions?user_id={alice}"),
        Some(&t),
        None,
    )
    .await;
    assert_eq!(sessions["total"], 1, "{sessions}");

    let (status, _, ended) = call(
        &server,
        Method::POST,
        &format!("/users/{alice}/disable"),
        Some(&t),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{ended}");
    assert_eq!(ended["sessions_ended"], 1);
    assert!(ended["refresh_tokens_revoked"].as_u64().unwrap() >= 1, "{ended}");

    // The refresh token is dead at /token, and the browser is signed out.
    let (status, body) = refresh(&server, REFRESH_APP, &rt).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_grant")),
        "{body}"
    );
    assert!(!super::harness::client_app::signed_in(&browser, &server).await);
    let at = tokens["access_token"].as_str().unwrap();
    assert_eq!(introspect(&server, REFRESH_APP, at).await["active"], false);
    let (_, _, sessions) = call(
        &server,
        Method::GET,
        &format!("/sessions?user_id={alice}"),
        Some(&t),
        None,
    )
    .await;
    assert_eq!(sessions["total"], 0, "{sessions}");
    // Disabled, alice cannot sign in again; enabled, she can.
    let again = Browser::new();
    let login = again
        .follow(&server, &super::harness::client_app::authorize(&server, ""))
        .await;
    let res = again.submit_login(&login, ALICE, ALICE_PASSWORD).await;
    assert_ne!(res.status(), StatusCode::SEE_OTHER, "a disabled account is refused");
    let (status, _, user) = call(&server, Method::POST, &format!("/users/{alice}/enable"), Some(&t), None).await;
    assert_eq!((status, &user["disabled"]), (StatusCode::OK, &json!(false)));
    assert!(!again
        .sign_in(&server, &super::harness::client_app::authorize(&server, ""))
        .await
        .contains("error="));
}

#[tokio::test]
async fn users_are_created_searched_paged_changed_unthrottled_and_deleted() {
    let server = server().await;
    let t = machine_token(&server, ADMIN).await;
    for name in ["carol", "caroline", "dave"] {
        let (status, _, made) = call(
            &server,
            Method::POST,
            "/users",
            Some(&t),
            Some(json!({"username": name, "email": format!("{name}@example.com"), "password": "a-long-glacier-lantern", "groups": ["staff"]})),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{made}");
        assert_eq!(made["has_password"], true);
    }
    let (_, _, found) = call(&server, Method::GET, "/users?search=CAROL&limit=1", Some(&t), None).await;
    assert_eq!(found["total"], 2, "{found}");
    assert_eq!(found["items"].as_array().unwrap().len(), 1);
    assert_eq!(found["items"][0]["username"], "carol");
    let (_, _, second) = call(
        &server,
        Method::GET,
        "/users?search=carol&limit=1&offset=1",
        Some(&t),
        None,
    )
    .await;
    assert_eq!(second["items"][0]["username"], "caroline");
    let (_, _, none) = call(&server, Method::GET, "/users?search=%25", Some(&t), None).await;
    assert_eq!(none["total"], 0, "a % typed is a literal %: {none}");
    let (_, _, all) = call(&server, Method::GET, "/users", Some(&t), None).await;
    assert_eq!(all["total"], 5, "alice, bob and the three: {all}");

    let carol = found["items"][0]["id"].as_str().unwrap().to_owned();
    let (status, _, changed) = call(
        &server,
        Method::PATCH,
        &format!("/users/{carol}"),
        Some(&t),
        Some(json!({"name": "Carol C.", "email": "carol@corp.example", "email_verified": true, "groups": []})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{changed}");
    assert_eq!(changed["name"], "Carol C.");
    assert_eq!(changed["email"], "carol@corp.example");
    assert_eq!(changed["email_verified"], true);
    assert_eq!(changed["groups"], json!([]));
    let (status, _, taken) = call(
        &server,
        Method::PATCH,
        &format!("/users/{carol}"),
        Some(&t),
        Some(json!({"email": "alice@example.com"})),
    )
    .await;
    assert_eq!(
        (status, taken["field"].as_str()),
        (StatusCode::CONFLICT, Some("email")),
        "{taken}"
    );

    // Throttled by wrong passwords, then cleared.
    let browser = Browser::new();
    let login = browser
        .follow(&server, &super::harness::client_app::authorize(&server, ""))
        .await;
    for _ in 0..5 {
        browser.submit_login(&login, "carol", "wrong-password-here").await;
    }
    let res = browser.submit_login(&login, "carol", "a-long-glacier-lantern").await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS, "throttled");
    let (status, _, cleared) = call(
        &server,
        Method::DELETE,
        &format!("/users/{carol}/throttle"),
        Some(&t),
        None,
    )
    .await;
    assert_eq!(
        (status, &cleared["cleared"]),
        (StatusCode::OK, &json!(true)),
        "{cleared}"
    );
    let res = browser.submit_login(&login, "carol", "a-long-glacier-lantern").await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER, "signs in once unthrottled");

    let (status, _, _) = call(&server, Method::DELETE, &format!("/users/{carol}"), Some(&t), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _, _) = call(&server, Method::GET, &format!("/users/{carol}"), Some(&t), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, _, sessions) = call(
        &server,
        Method::GET,
        &format!("/sessions?user_id={carol}"),
        Some(&t),
        None,
    )
    .await;
    assert_eq!(sessions["total"], 0, "her session ended with her: {sessions}");
    let (_, _, gone) = call(&server, Method::GET, "/users?search=carol", Some(&t), None).await;
    assert_eq!(gone["total"], 1, "caroline stays: {gone}");
}

#[tokio::test]
async fn sessions_are_listed_and_ended_and_keys_listed_and_rotated() {
    let server = server().await;
    let t = machine_token(&server, ADMIN).await;
    let browser = Browser::new();
    browser
        .sign_in(&server, &super::harness::client_app::authorize(&server, ""))
        .await;
    assert!(super::harness::client_app::signed_in(&browser, &server).await);
    let (_, _, sessions) = call(&server, Method::GET, "/sessions", Some(&t), None).await;
    assert_eq!(sessions["total"], 1, "{sessions}");
    let sid = sessions["items"][0]["sid"].as_str().unwrap().to_owned();
    assert_eq!(sessions["items"][0]["amr"], json!(["pwd"]));
    let (status, _, _) = call(&server, Method::DELETE, &format!("/sessions/{sid}"), Some(&t), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert!(
        !super::harness::client_app::signed_in(&browser, &server).await,
        "ended everywhere"
    );
    let (status, _, _) = call(&server, Method::DELETE, &format!("/sessions/{sid}"), Some(&t), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "ended already");

    let (_, _, before) = call(&server, Method::GET, "/keys", Some(&t), None).await;
    assert_eq!(before.as_array().unwrap().len(), 2, "{before}");
    let (status, _, made) = call(&server, Method::POST, "/keys/rotate", Some(&t), None).await;
    assert_eq!(status, StatusCode::OK, "{made}");
    let (_, _, after) = call(&server, Method::GET, "/keys", Some(&t), None).await;
    let after = after.as_array().unwrap();
    assert_eq!(after.len(), 4, "two new, two retired: {after:?}");
    assert_eq!(after.iter().filter(|k| k["current"] == true).count(), 2);
    for k in made.as_array().unwrap() {
        assert!(after.iter().any(|a| a["kid"] == k["kid"] && a["current"] == true));
    }
}

/// The events of `kind`, newest first.
async fn events(server: &TestServer, token: &str, query: &str) -> Vec<Value> {
    let (status, _, page) = call(server, Method::GET, &format!("/events?{query}"), Some(token), None).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    page["items"].as_array().unwrap().clone()
}

#[tokio::test]
async fn the_audit_trail_records_sign_ins_failures_mfa_token_reuse_and_admin_changes_with_their_actor() {
    let server = server().await;
    let t = machine_token(&server, ADMIN).await;
    let alice = accounts::local_id(&server, ALICE).await;

    // A failed password, then a success, through the client app (rp).
    let browser = Browser::new();
    let login = browser
        .follow(&server, &super::harness::client_app::authorize(&server, ""))
        .await;
    browser.submit_login(&login, ALICE, "not-her-password").await;
    let tokens = tokens_for(&server, &browser, REFRESH_APP, "openid profile").await;

    let failed = events(&server, &t, "kind=sign_in.failure").await;
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert_eq!(failed[0]["user_id"], alice.as_str());
    assert_eq!(failed[0]["client_id"], RP_ID);
    assert_eq!(failed[0]["method"], "password");
    assert_eq!(failed[0]["address"], "127.0.0.1");
    assert_eq!(failed[0]["detail"]["login"], ALICE);
    assert_eq!(failed[0]["actor_kind"], "anonymous");
    let ok = events(&server, &t, &format!("kind=sign_in.success&user_id={alice}")).await;
    assert_eq!(ok.len(), 1, "{ok:?}");
    assert_eq!(ok[0]["client_id"], REFRESH_APP);
    assert_eq!(ok[0]["method"], "password");
    assert_eq!(ok[0]["actor_kind"], "person");
    assert_eq!(ok[0]["address"], "127.0.0.1");

    // Six wrong passwords for bob: five failures, then refused unchecked.
    let bob_browser = Browser::new();
    let bob_login = bob_browser
        .follow(&server, &super::harness::client_app::authorize(&server, ""))
        .await;
    for _ in 0..6 {
        bob_browser.submit_login(&bob_login, "bob", "wrong-password-here").await;
    }
    let throttled = events(&server, &t, "kind=sign_in.throttled").await;
    assert_eq!(throttled.len(), 1, "{throttled:?}");
    assert_eq!(throttled[0]["detail"]["login"], "bob");

    // A refresh token used twice (no retry window): reuse, and the family revoked.
    let rt = tokens["refresh_token"].as_str().unwrap();
    assert_eq!(refresh(&server, REFRESH_APP, rt).await.0, StatusCode::OK);
    assert_eq!(refresh(&server, REFRESH_APP, rt).await.0, StatusCode::BAD_REQUEST);
    let reuse = events(&server, &t, "kind=refresh_token.reuse").await;
    assert_eq!(reuse.len(), 1, "{reuse:?}");
    assert_eq!(reuse[0]["client_id"], REFRESH_APP);
    assert_eq!(reuse[0]["user_id"], alice.as_str());
    assert_eq!(reuse[0]["actor_kind"], "system");

    // An authenticator app enrolled, recovery codes replaced, the app removed (account page).
    let mfa_browser = Browser::new();
    mfa::enrol_on_account(&mfa_browser, &server, ALICE, ALICE_PASSWORD).await;
    let enrolled = events(&server, &t, "kind=mfa.enrol").await;
    assert_eq!(enrolled.len(), 1, "{enrolled:?}");
    assert_eq!(
        (enrolled[0]["user_id"].as_str(), enrolled[0]["actor_id"].as_str()),
        (Some(alice.as_str()), Some(alice.as_str()))
    );
    let (_, _, detail) = call(&server, Method::GET, &format!("/users/{alice}"), Some(&t), None).await;
    assert_eq!(detail["mfa"]["totp"], true, "{detail}");

    // Admin changes name the machine client that made them.
    let (status, _, _) = call(
        &server,
        Method::POST,
        "/users",
        Some(&t),
        Some(json!({"username": "erin"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    call(
        &server,
        Method::POST,
        &format!("/users/{alice}/disable"),
        Some(&t),
        None,
    )
    .await;
    let admin = events(&server, &t, "kind=admin.*").await;
    let kinds: Vec<&str> = admin.iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["admin.user.disable", "admin.user.create"], "newest first");
    assert!(
        admin
            .iter()
            .all(|e| e["actor_kind"] == "machine" && e["actor_id"] == ADMIN),
        "{admin:?}"
    );
    assert_eq!(admin[0]["user_id"], alice.as_str());
    assert_eq!(
        admin[0]["detail"]["ended"], 2,
        "the browser and the account page sessions"
    );

    // Filters: by user, by client, by time, paged.
    let all_alice = events(&server, &t, &format!("user_id={alice}&limit=200")).await;
    assert!(all_alice.iter().all(|e| e["user_id"] == alice.as_str()));
    assert!(all_alice.len() >= 5, "{all_alice:?}");
    let first_id = all_alice.last().unwrap()["at_ms"].as_i64().unwrap();
    let later = events(
        &server,
        &t,
        &format!("user_id={alice}&since={}&limit=200", first_id + 1),
    )
    .await;
    assert!(later.len() < all_alice.len());
    let until = events(&server, &t, &format!("user_id={alice}&until={}", first_id + 1)).await;
    assert!(until.iter().all(|e| e["at_ms"].as_i64().unwrap() <= first_id));
    let by_client = events(&server, &t, &format!("client_id={REFRESH_APP}")).await;
    assert!(!by_client.is_empty() && by_client.iter().all(|e| e["client_id"] == REFRESH_APP));
    let page = events(&server, &t, &format!("user_id={alice}&limit=2&offset=1")).await;
    assert_eq!(page.len(), 2);
    assert_eq!(page[0]["id"], all_alice[1]["id"]);
}

#[tokio::test]
async fn the_audit_table_refuses_every_update_and_delete() {
    use sea_orm::ConnectionTrait;
    let server = server().await;
    let browser = Browser::new();
    browser
        .sign_in(&server, &super::harness::client_app::authorize(&server, ""))
        .await;
    let db = &server.state.db;
    let count = |db: &sea_orm::DatabaseConnection| {
        let db = db.clone();
        async move {
            let row = db
                .query_one(sea_orm::Statement::from_string(
                    db.get_database_backend(),
                    "SELECT COUNT(*) AS n FROM audit_events",
                ))
                .await
                .unwrap()
                .unwrap();
            row.try_get::<i64>("", "n").unwrap()
        }
    };
    let before = count(db).await;
    assert!(before >= 1);
    assert!(db
        .execute_unprepared("UPDATE audit_events SET kind = 'nothing'")
        .await
        .is_err());
    assert!(db.execute_unprepared("DELETE FROM audit_events").await.is_err());
    assert_eq!(count(db).await, before, "every row still there");
}

#[tokio::test]
async fn unlinking_an_identity_shows_in_the_user_and_in_the_audit_trail() {
    let server = server().await;
    let t = machine_token(&server, ADMIN).await;
    let alice = accounts::local_id(&server, ALICE).await;
    gatehouse::store::federated::link(&server.state.db, "corp", "corp-subject-1", &alice, &json!({}))
        .await
        .unwrap();
    let (_, _, detail) = call(&server, Method::GET, &format!("/users/{alice}"), Some(&t), None).await;
    assert_eq!(detail["identities"][0]["provider"], "corp", "{detail}");
    assert_eq!(detail["identities"][0]["subject"], "corp-subject-1");
    let path = format!("/users/{alice}/identities/corp");
    let (status, _, _) = call(&server, Method::DELETE, &path, Some(&t), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _, _) = call(&server, Method::DELETE, &path, Some(&t), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "nothing left to unlink");
    let (_, _, detail) = call(&server, Method::GET, &format!("/users/{alice}"), Some(&t), None).await;
    assert_eq!(detail["identities"], json!([]));
    let unlinked = events(&server, &t, "kind=identity.unlink").await;
    assert_eq!(unlinked.len(), 1, "{unlinked:?}");
    assert_eq!(unlinked[0]["provider"], "corp");
    assert_eq!(unlinked[0]["user_id"], alice.as_str());
    assert_eq!(
        (unlinked[0]["actor_kind"].as_str(), unlinked[0]["actor_id"].as_str()),
        (Some("machine"), Some(ADMIN))
    );
}

/// A server with the admin clients and a config-declared provider `from-file`, registered at the
/// real upstream OP as client of a provider `corp` that does not exist yet; with that
/// registration's client id and secret.
async fn server_for_runtime_providers() -> (TestServer, String, String) {
    use super::harness::peers::oidc_peer;
    let peer = oidc_peer();
    let mut p = TestServer::prepare().await;
    let (client_id, secret) = peer
        .register_client(
            &p.config.endpoint("/broker/callback/corp"),
            &p.config.endpoint("/logout/upstream/corp"),
        )
        .await;
    extra_clients(&mut p.config, None);
    admin_clients(&mut p.config);
    p.config.providers = vec![gatehouse::config::ProviderConfig {
        id: "from-file".into(),
        name: "From the file".into(),
        issuer: Some(peer.issuer.parse().unwrap()),
        client_id: "file-client".into(),
        client_secret: Some("file-secret-never-shown".into()),
        ..Default::default()
    }];
    (p.launch().await, client_id, secret)
}

/// The login page a client app's sign-in shows, and its URL.
async fn login_page(server: &TestServer, browser: &Browser) -> (String, String) {
    let login = browser
        .follow(server, &super::harness::client_app::authorize(server, ""))
        .await;
    let html = browser.page(&login).await.html;
    (login, html)
}

#[tokio::test]
async fn a_provider_created_through_the_api_signs_people_in_at_once_and_is_changed_disabled_and_deleted() {
    use super::harness::federation::federated_login;
    use super::harness::peers::oidc_peer;
    use super::harness::urls::query_param;

    let (server, upstream_client, upstream_secret) = server_for_runtime_providers().await;
    let admin = machine_token(&server, ADMIN).await;
    let reader = machine_token(&server, READER).await;
    let mut bodies: Vec<String> = Vec::new();
    let corp = json!({
        "id": "corp",
        "name": "Contoso",
        "issuer": oidc_peer().issuer,
        "client_id": upstream_client,
        "client_secret": upstream_secret,
        "scopes": ["openid", "profile", "email", "groups"],
        "fetch_userinfo": true,
        "trust_email": true,
    });

    // Refused without a token, and with a read-only one; nothing made.
    let (status, headers, body) = call(&server, Method::POST, "/providers", None, Some(corp.clone())).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert!(is_problem(&headers));
    let (status, headers, body) = call(&server, Method::POST, "/providers", Some(&reader), Some(corp.clone())).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert!(challenge(&headers).contains("insufficient_scope"));
    // Bad input names the field; nothing half-written.
    let mut no_name = corp.clone();
    no_name.as_object_mut().unwrap().remove("name");
    for (bad, field) in [
        (no_name, "name"),
        (
            json!({"id": "x y", "name": "X", "issuer": oidc_peer().issuer, "client_id": "a", "client_secret": "b"}),
            "id",
        ),
        (
            json!({"id": "corp", "name": "X", "issuer": "not a url", "client_id": "a"}),
            "issuer",
        ),
        (
            json!({"id": "corp", "name": "X", "issuer": oidc_peer().issuer, "client_id": "a", "client_secret_env": "DATABASE_URL"}),
            "client_secret_env",
        ),
        (
            json!({"id": "corp", "name": "X", "issuer": oidc_peer().issuer, "client_id": ""}),
            "client_id",
        ),
    ] {
        let (status, headers, body) = call(&server, Method::POST, "/providers", Some(&admin), Some(bad.clone())).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}: {body}");
        assert!(is_problem(&headers));
        assert_eq!(body["field"], field, "{bad}: {body}");
    }
    let (_, _, listed) = call(&server, Method::GET, "/providers", Some(&reader), None).await;
    assert_eq!(listed["total"], 1, "only the file's provider: {listed}");
    assert_eq!(listed["items"][0]["id"], "from-file");
    assert_eq!(listed["items"][0]["origin"], "config_file");
    assert_eq!(listed["items"][0]["read_only"], true);
    assert_eq!(listed["items"][0]["has_client_secret"], true);
    bodies.push(listed.to_string());
    let (_, html) = login_page(&server, &Browser::new()).await;
    assert!(!html.contains("Sign in with Contoso"));

    // Created: offered and working at once, without a restart.
    let (status, _, made) = call(&server, Method::POST, "/providers", Some(&admin), Some(corp.clone())).await;
    assert_eq!(status, StatusCode::CREATED, "{made}");
    assert_eq!(made["origin"], "runtime");
    assert_eq!(made["read_only"], false);
    assert_eq!(made["has_client_secret"], true);
    assert_eq!(made["settings"]["client_id"], upstream_client.as_str());
    bodies.push(made.to_string());
    let (status, _, _) = call(&server, Method::POST, "/providers", Some(&admin), Some(corp.clone())).await;
    assert_eq!(status, StatusCode::CONFLICT, "the id is taken");
    let end = federated_login(&Browser::new(), &server, "ann").await;
    assert!(end.url.starts_with(RP_REDIRECT), "back at the client: {}", end.url);
    assert!(query_param(&end.url, "code").is_some(), "{}", end.url);
    let (_, _, ann) = call(
        &server,
        Method::GET,
        "/users?search=ann@contoso.test",
        Some(&reader),
        None,
    )
    .await;
    assert_eq!(ann["total"], 1, "the brokered login made her account: {ann}");
    let ann_id = ann["items"][0]["id"].as_str().unwrap().to_owned();
    let (_, _, detail) = call(&server, Method::GET, &format!("/users/{ann_id}"), Some(&reader), None).await;
    assert_eq!(detail["identities"][0]["provider"], "corp", "{detail}");

    // Changed: the given field only (the secret is kept), in force at once.
    let (status, _, changed) = call(
        &server,
        Method::PATCH,
        "/providers/corp",
        Some(&admin),
        Some(json!({"name": "Contoso Group"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{changed}");
    assert_eq!(changed["name"], "Contoso Group");
    assert_eq!(changed["has_client_secret"], true);
    bodies.push(changed.to_string());
    let (status, _, body) = call(
        &server,
        Method::PATCH,
        "/providers/corp",
        Some(&admin),
        Some(json!({"name": "Half", "issuer": "nope"})),
    )
    .await;
    assert_eq!(
        (status, body["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("issuer"))
    );
    let (_, _, got) = call(&server, Method::GET, "/providers/corp", Some(&reader), None).await;
    assert_eq!(got["name"], "Contoso Group", "nothing half-written: {got}");
    bodies.push(got.to_string());
    let (_, html) = login_page(&server, &Browser::new()).await;
    assert!(html.contains("Sign in with Contoso Group"), "{html}");

    // The file's provider is read-only through the API.
    for (method, path, body) in [
        (Method::PATCH, "/providers/from-file", Some(json!({"name": "Renamed"}))),
        (Method::DELETE, "/providers/from-file", None),
        (Method::POST, "/providers/from-file/disable", None),
        (
            Method::POST,
            "/providers",
            Some(
                json!({"id": "from-file", "name": "Again", "issuer": oidc_peer().issuer, "client_id": "a", "client_secret": "b"}),
            ),
        ),
    ] {
        let (status, headers, answer) = call(&server, method.clone(), path, Some(&admin), body).await;
        assert_eq!(status, StatusCode::CONFLICT, "{method} {path}: {answer}");
        assert!(is_problem(&headers));
        assert_eq!(answer["type"], "urn:gatehouse:problem:declared-in-config", "{answer}");
        bodies.push(answer.to_string());
    }
    let (_, _, file) = call(&server, Method::GET, "/providers/from-file", Some(&reader), None).await;
    assert_eq!(file["name"], "From the file");
    bodies.push(file.to_string());

    // Disabled: no longer offered, and its start is refused.
    let (status, _, disabled) = call(&server, Method::POST, "/providers/corp/disable", Some(&admin), None).await;
    assert_eq!(status, StatusCode::OK, "{disabled}");
    assert_eq!(disabled["enabled"], false);
    bodies.push(disabled.to_string());
    let browser = Browser::new();
    let (login, html) = login_page(&server, &browser).await;
    assert!(!html.contains("/broker/start/corp"), "{html}");
    let interaction = query_param(&login, "interaction").expect("an interaction");
    let start = browser
        .get(&server.url(&format!("/broker/start/corp?interaction={interaction}")))
        .await;
    let to_upstream = super::harness::browser::location(&start).is_some_and(|l| l.starts_with(&oidc_peer().issuer));
    assert!(
        !to_upstream,
        "a disabled provider's start is refused: {}",
        start.status()
    );
    let (_, _, listed) = call(&server, Method::GET, "/providers", Some(&reader), None).await;
    assert_eq!(listed["items"][1]["enabled"], false, "still listed: {listed}");
    bodies.push(listed.to_string());
    let (status, _, enabled) = call(&server, Method::POST, "/providers/corp/enable", Some(&admin), None).await;
    assert_eq!((status, &enabled["enabled"]), (StatusCode::OK, &json!(true)));

    // Deleted.
    let (status, _, _) = call(&server, Method::DELETE, "/providers/corp", Some(&admin), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _, gone) = call(&server, Method::GET, "/providers/corp", Some(&reader), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{gone}");
    let (status, _, _) = call(&server, Method::DELETE, "/providers/corp", Some(&admin), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, html) = login_page(&server, &Browser::new()).await;
    assert!(!html.contains("Contoso"));

    // Every change is in the audit trail, by the machine client, in order.
    let changes = events(&server, &admin, "kind=admin.provider.*&limit=200").await;
    let kinds: Vec<&str> = changes.iter().rev().map(|e| e["kind"].as_str().unwrap()).collect();
    assert_eq!(
        kinds,
        [
            "admin.provider.create",
            "admin.provider.update",
            "admin.provider.disable",
            "admin.provider.enable",
            "admin.provider.delete"
        ]
    );
    assert!(
        changes
            .iter()
            .all(|e| e["actor_kind"] == "machine" && e["actor_id"] == ADMIN && e["provider"] == "corp"),
        "{changes:?}"
    );
    assert_eq!(changes[3]["detail"]["changed"], json!(["name"]), "{changes:?}");

    // The secrets are in no answer and no audit row.
    let (_, _, all_events) = call(&server, Method::GET, "/events?limit=200", Some(&reader), None).await;
    bodies.push(all_events.to_string());
    let (_, _, doc) = call(&server, Method::GET, "/openapi.json", None, None).await;
    assert!(doc["paths"]["/admin/api/v1/providers"]["post"].is_object());
    assert_eq!(
        doc["components"]["schemas"]["ProviderSettings"]["properties"]["client_secret"]["writeOnly"], true,
        "documented as write-only"
    );
    use sea_orm::ConnectionTrait;
    let db = &server.state.db;
    let rows = db
        .query_all(sea_orm::Statement::from_string(
            db.get_database_backend(),
            "SELECT kind, detail FROM audit_events",
        ))
        .await
        .unwrap();
    for row in rows {
        let detail: Option<String> = row.try_get("", "detail").unwrap_or_default();
        bodies.push(detail.unwrap_or_default());
    }
    for body in &bodies {
        assert!(!body.contains(&upstream_secret), "the secret leaked: {body}");
        assert!(!body.contains("file-secret-never-shown"), "the secret leaked: {body}");
    }
}

#[tokio::test]
async fn an_operator_mails_a_reset_link_that_sets_a_new_password_and_is_audited() {
    use super::harness::smtp::MailServer;
    const NEW_PASSWORD: &str = "violet kettle orbit drum";

    // Without [smtp] the API says so, and names nothing it did.
    let plain = server().await;
    let t = machine_token(&plain, ADMIN).await;
    let alice = accounts::local_id(&plain, ALICE).await;
    let (status, headers, body) = call(
        &plain,
        Method::POST,
        &format!("/users/{alice}/password-reset"),
        Some(&t),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(is_problem(&headers));
    assert_eq!(body["type"], "urn:gatehouse:problem:not-configured");

    let mail = MailServer::start().await;
    let smtp = mail.config();
    let server = TestServer::start_with(move |c| {
        c.smtp = Some(smtp);
        extra_clients(c, None);
        admin_clients(c);
    })
    .await;
    let admin = machine_token(&server, ADMIN).await;
    let reader = machine_token(&server, READER).await;
    let alice = accounts::local_id(&server, ALICE).await;
    let path = format!("/users/{alice}/password-reset");
    let (status, _, _) = call(&server, Method::POST, &path, None, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _, _) = call(&server, Method::POST, &path, Some(&reader), None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _, _) = call(
        &server,
        Method::POST,
        "/users/nobody/password-reset",
        Some(&admin),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(mail.count_to("alice@example.com"), 0, "no mail for refused calls");

    let (status, _, queued) = call(&server, Method::POST, &path, Some(&admin), None).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{queued}");
    assert_eq!(queued["email"], "alice@example.com");
    assert!(queued["expires_in"].as_i64().unwrap() > 0);

    // The mail arrives at the real SMTP server; its link sets a new password.
    let message = mail.latest("alice@example.com", "Reset your password").await;
    let link = message.link("/login/reset?token=").expect("a reset link in the mail");
    assert!(link.starts_with(&server.issuer), "{link}");
    let browser = Browser::new();
    let form = browser.page(&link).await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.html);
    let res = browser
        .post(
            link.split('?').next().unwrap(),
            &[
                ("csrf", &form.field("csrf").expect("csrf")),
                ("token", &form.field("token").expect("token")),
                ("password", NEW_PASSWORD),
                ("password_confirm", NEW_PASSWORD),
            ],
        )
        .await;
    let done = res.text().await.unwrap();
    assert!(done.contains("Password changed"), "{done}");
    let signs_in = |password: &'static str| {
        let server = &server;
        async move {
            let b = Browser::new();
            let login = b
                .follow(server, &super::harness::client_app::authorize(server, ""))
                .await;
            b.submit_login(&login, ALICE, password).await.status() == StatusCode::SEE_OTHER
        }
    };
    assert!(signs_in(NEW_PASSWORD).await, "the new password works");
    assert!(!signs_in(ALICE_PASSWORD).await, "the old one is gone");

    // Audited with the machine client that asked; the link's token is not in the row.
    let sent = events(&server, &admin, "kind=admin.user.password_reset").await;
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0]["user_id"], alice.as_str());
    assert_eq!(
        (sent[0]["actor_kind"].as_str(), sent[0]["actor_id"].as_str()),
        (Some("machine"), Some(ADMIN))
    );
    let token = link.split("token=").nth(1).unwrap();
    assert!(!sent[0].to_string().contains(token));

    // A disabled account gets no link.
    call(
        &server,
        Method::POST,
        &format!("/users/{alice}/disable"),
        Some(&admin),
        None,
    )
    .await;
    let (status, _, body) = call(&server, Method::POST, &path, Some(&admin), None).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["field"], "id");
}

/// Appends an audit event that happened `age_ms` ago; its id.
async fn old_event(server: &TestServer, age_ms: i64, kind: &str) -> String {
    gatehouse::store::audit::append(
        &server.state.db,
        gatehouse::store::audit::NewAuditRow {
            at_ms: gatehouse::audit::now_ms() - age_ms,
            kind: kind.into(),
            actor_kind: "system".into(),
            ..Default::default()
        },
    )
    .await
    .unwrap()
    .id
}

/// Runs `sql` on the server's database; whether the database accepted it.
async fn accepted(server: &TestServer, sql: &str) -> bool {
    use sea_orm::ConnectionTrait;
    server.state.db.execute_unprepared(sql).await.is_ok()
}

async fn has_event(server: &TestServer, id: &str) -> bool {
    use sea_orm::EntityTrait;
    gatehouse::store::entities::audit_event::Entity::find_by_id(id.to_owned())
        .one(&server.state.db)
        .await
        .unwrap()
        .is_some()
}

#[tokio::test]
async fn the_retention_purge_removes_only_events_past_it_and_the_table_refuses_every_other_change() {
    const DAY: i64 = 86_400_000;
    // The server's own purge (at start, then every ten minutes) keeps a century: the purges
    // below, with a retention of 30 days, are the only ones that remove anything.
    let server = TestServer::start_with(|c| {
        admin_clients(c);
        c.audit.retention_days = 36_500;
    })
    .await;
    let retention = gatehouse::config::audit::AuditConfig { retention_days: 30 };
    let expired = old_event(&server, 40 * DAY, "sign_in.success").await;
    let kept = old_event(&server, 29 * DAY, "sign_in.success").await;
    let recent = old_event(&server, 60_000, "sign_in.success").await;

    // Before the purge raised the cutoff nothing may be deleted, however old.
    assert!(!accepted(&server, &format!("DELETE FROM audit_events WHERE id = '{expired}'")).await);
    assert!(has_event(&server, &expired).await);

    let removed = gatehouse::audit::purge_expired(&server.state.db, &retention, gatehouse::audit::Actor::System)
        .await
        .unwrap();
    assert_eq!(removed, 1);
    assert!(!has_event(&server, &expired).await, "past the retention: purged");
    assert!(has_event(&server, &kept).await, "within the retention: kept");
    assert!(has_event(&server, &recent).await);

    // A recent row cannot be deleted nor changed; the cutoff cannot be pulled up to now.
    assert!(!accepted(&server, &format!("DELETE FROM audit_events WHERE id = '{recent}'")).await);
    assert!(!accepted(&server, &format!("DELETE FROM audit_events WHERE id = '{kept}'")).await);
    assert!(!accepted(&server, "DELETE FROM audit_events").await);
    assert!(
        !accepted(
            &server,
            &format!("UPDATE audit_events SET kind = 'x' WHERE id = '{kept}'")
        )
        .await
    );
    assert!(
        !accepted(&server, "UPDATE audit_events SET at_ms = 0").await,
        "nor aged to be purged"
    );
    let now = gatehouse::audit::now_ms();
    assert!(!accepted(&server, &format!("UPDATE audit_retention SET cutoff_ms = {now}")).await);
    assert!(!accepted(&server, "DELETE FROM audit_retention").await);
    assert!(has_event(&server, &recent).await && has_event(&server, &kept).await);

    // The purge itself is in the trail, and a second one finds nothing.
    let t = machine_token(&server, ADMIN).await;
    let purges = events(&server, &t, "kind=admin.audit.purge").await;
    assert_eq!(purges.len(), 1, "{purges:?}");
    assert_eq!(purges[0]["detail"]["removed"], 1);
    assert_eq!(purges[0]["actor_kind"], "system");
    let again = gatehouse::audit::purge_expired(&server.state.db, &retention, gatehouse::audit::Actor::System)
        .await
        .unwrap();
    assert_eq!(again, 0);
}
