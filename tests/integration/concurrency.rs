//! A bounded load test: many first sign-ins at once (local passwords, and brokered first
//! logins that create users), each redeeming its code. On the embedded SQLite and on
//! PostgreSQL (`TEST_POSTGRES_URL`) alike, not one may fail.
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use jsonwebtoken::jwk::{Jwk, JwkSet};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use sea_orm::{EntityTrait, PaginatorTrait};
use serde_json::{json, Value};

use super::harness::browser::{link_href, Browser};
use super::harness::client_app::{authorize, redeem};
use super::harness::loopback::{discovery, listen, rsa_jwk, rsa_key, serve};
use super::harness::urls::resolve;
use super::harness::*;
use gatehouse::broker::{LinkingPolicy, SyncMode};
use gatehouse::config::{ProviderConfig, UserDecl};
use gatehouse::store::entities::{federated_identity, user};

/// Concurrent flows of each kind.
const FLOWS: usize = 16;

/// An upstream OP on loopback that signs in a new person at every authorization.
struct Crowd {
    issuer: String,
    key: EncodingKey,
    jwk: Jwk,
    next: AtomicUsize,
    /// code → (person number, nonce).
    codes: Mutex<HashMap<String, (usize, String)>>,
}

async fn start_crowd() -> String {
    let (listener, issuer) = listen().await;
    let key = rsa_key();
    let jwk = rsa_jwk(&key, "crowd");
    let crowd = Arc::new(Crowd {
        issuer: issuer.clone(),
        key,
        jwk,
        next: AtomicUsize::new(0),
        codes: Mutex::new(HashMap::new()),
    });
    let app = Router::new()
        .route("/.well-known/openid-configuration", get(crowd_discovery))
        .route("/jwks", get(crowd_jwks))
        .route("/authorize", get(crowd_authorize))
        .route("/token", post(crowd_token))
        .with_state(crowd);
    serve(listener, app);
    issuer
}

async fn crowd_discovery(State(c): State<Arc<Crowd>>) -> Json<Value> {
    Json(discovery(&c.issuer))
}

async fn crowd_jwks(State(c): State<Arc<Crowd>>) -> Json<JwkSet> {
    Json(JwkSet {
        keys: vec![c.jwk.clone()],
    })
}

async fn crowd_authorize(State(c): State<Arc<Crowd>>, Query(q): Query<HashMap<String, String>>) -> impl IntoResponse {
    let person = c.next.fetch_add(1, Ordering::SeqCst);
    let code = gatehouse::store::random_token();
    let nonce = q.get("nonce").cloned().unwrap_or_default();
    c.codes.lock().unwrap().insert(code.clone(), (person, nonce));
    Redirect::to(&gatehouse::web::with_query(
        &q["redirect_uri"],
        &[("code", &code), ("state", &q["state"])],
    ))
}

async fn crowd_token(State(c): State<Arc<Crowd>>, Form(f): Form<HashMap<String, String>>) -> Json<Value> {
    let (person, nonce) = c
        .codes
        .lock()
        .unwrap()
        .remove(&f["code"])
        .expect("a code this OP issued");
    let now = gatehouse::store::now();
    let claims = json!({
        "iss": c.issuer, "sub": format!("person-{person}"), "aud": "gatehouse", "iat": now, "exp": now + 300,
        "nonce": nonce, "email": format!("person{person}@crowd.test"), "email_verified": true,
        "preferred_username": format!("person{person}"),
    });
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some("crowd".into());
    let id_token = jsonwebtoken::encode(&header, &claims, &c.key).unwrap();
    Json(json!({"access_token": "crowd-at", "token_type": "Bearer", "expires_in": 300, "id_token": id_token}))
}

/// One local first sign-in: login page, password, code, tokens.
async fn local_flow(server: Arc<TestServer>, n: usize) -> Result<(), String> {
    let browser = Browser::new();
    let back = browser
        .sign_in_as(
            &server,
            &authorize(&server, ""),
            &format!("local{n}"),
            "load-test-password-1",
        )
        .await;
    let tokens = redeem(&server, &back).await;
    tokens["id_token"]
        .as_str()
        .map(|_| ())
        .ok_or_else(|| format!("local{n}: {tokens}"))
}

/// One brokered first login: login page, "Sign in with Crowd", a new user, code, tokens.
async fn brokered_flow(server: Arc<TestServer>, n: usize) -> Result<(), String> {
    let browser = Browser::new();
    let login = browser.follow(&server, &authorize(&server, "")).await;
    let page = browser.page(&login).await;
    let start = link_href(&page.html, "/broker/start/crowd").ok_or_else(|| format!("brokered {n}: no button"))?;
    let at = browser.walk(&resolve(&login, &start), RP_REDIRECT).await;
    if let Some(page) = at.page {
        return Err(format!(
            "brokered {n}: stopped at {} with {}: {}",
            at.url, page.status, page.html
        ));
    }
    let tokens = redeem(&server, &at.url).await;
    tokens["id_token"]
        .as_str()
        .map(|_| ())
        .ok_or_else(|| format!("brokered {n}: {tokens}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sixteen_local_and_sixteen_brokered_first_sign_ins_at_once_all_succeed() {
    let crowd = start_crowd().await;
    let server = Arc::new(
        TestServer::start_with(|c| {
            for n in 0..FLOWS {
                c.users.push(UserDecl {
                    username: format!("local{n}"),
                    email: Some(format!("local{n}@example.com")),
                    email_verified: true,
                    name: None,
                    password: Some("load-test-password-1".into()),
                    password_env: None,
                });
            }
            c.providers = vec![ProviderConfig {
                id: "crowd".into(),
                name: "Crowd".into(),
                issuer: Some(crowd.parse().unwrap()),
                client_id: "gatehouse".into(),
                client_secret: Some("crowd-secret".into()),
                scopes: vec!["openid".into(), "profile".into(), "email".into()],
                trust_email: true,
                linking: LinkingPolicy::Create,
                sync: SyncMode::Import,
                ..Default::default()
            }];
        })
        .await,
    );
    let users_before = user::Entity::find().count(&server.state.db).await.unwrap();

    let started = Instant::now();
    let mut tasks = Vec::new();
    for n in 0..FLOWS {
        tasks.push(tokio::spawn(local_flow(server.clone(), n)));
        tasks.push(tokio::spawn(brokered_flow(server.clone(), n)));
    }
    let mut errors = Vec::new();
    for task in tasks {
        match task.await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => errors.push(e),
            Err(panicked) => errors.push(format!("flow panicked: {panicked}")),
        }
    }
    let took = started.elapsed();
    let backend = if std::env::var("TEST_POSTGRES_URL").is_ok_and(|u| !u.is_empty()) {
        "PostgreSQL"
    } else {
        "SQLite"
    };
    eprintln!(
        "{backend}: {} concurrent first sign-ins ({FLOWS} local, {FLOWS} brokered) in {took:?}: {} errors",
        2 * FLOWS,
        errors.len()
    );
    assert!(
        errors.is_empty(),
        "{} of {} flows failed: {errors:#?}",
        errors.len(),
        2 * FLOWS
    );

    let users_after = user::Entity::find().count(&server.state.db).await.unwrap();
    let links = federated_identity::Entity::find()
        .count(&server.state.db)
        .await
        .unwrap();
    assert_eq!(
        users_after - users_before,
        FLOWS as u64,
        "one new user per brokered first login"
    );
    assert_eq!(links, FLOWS as u64, "one link per brokered first login");
}
