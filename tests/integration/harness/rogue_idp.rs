//! A stand-in upstream OP on loopback that answers like a real one but mints ID tokens with one
//! chosen defect, to prove Gatehouse refuses each. (The real OP never mints such tokens.)
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use base64::Engine;
use jsonwebtoken::jwk::{Jwk, JwkSet};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{json, Value};

use super::loopback::{discovery, listen, rsa_jwk, rsa_key, serve};

/// What is wrong with the ID token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Defect {
    /// Nothing: the control case.
    None,
    /// Signed by a key that is not in the JWKS (same kid).
    OtherKey,
    WrongNonce,
    WrongAudience,
    WrongIssuer,
    Expired,
    /// `alg: none`, no signature.
    Unsigned,
}

struct Rogue {
    issuer: String,
    client_id: String,
    defect: Defect,
    good: EncodingKey,
    other: EncodingKey,
    jwk: Jwk,
    nonces: Mutex<HashMap<String, String>>,
}

/// Starts a rogue OP for `client_id`; returns its issuer URL.
pub async fn start(defect: Defect, client_id: &str) -> String {
    let (listener, issuer) = listen().await;
    let good = rsa_key();
    let jwk = rsa_jwk(&good, "k1");
    let rogue = Arc::new(Rogue {
        issuer: issuer.clone(),
        client_id: client_id.into(),
        defect,
        good,
        other: rsa_key(),
        jwk,
        nonces: Mutex::new(HashMap::new()),
    });
    let app = Router::new()
        .route("/.well-known/openid-configuration", get(rogue_discovery))
        .route("/jwks", get(jwks))
        .route("/authorize", get(authorize))
        .route("/token", post(token))
        .with_state(rogue);
    serve(listener, app);
    issuer
}

async fn rogue_discovery(State(r): State<Arc<Rogue>>) -> Json<Value> {
    Json(discovery(&r.issuer))
}

async fn jwks(State(r): State<Arc<Rogue>>) -> Json<JwkSet> {
    Json(JwkSet {
        keys: vec![r.jwk.clone()],
    })
}

/// Signs the person in at once and sends the code back.
async fn authorize(State(r): State<Arc<Rogue>>, Query(q): Query<HashMap<String, String>>) -> impl IntoResponse {
    let code = gatehouse::store::random_token();
    r.nonces
        .lock()
        .unwrap()
        .insert(code.clone(), q.get("nonce").cloned().unwrap_or_default());
    let url = gatehouse::web::with_query(&q["redirect_uri"], &[("code", &code), ("state", &q["state"])]);
    Redirect::to(&url)
}

async fn token(State(r): State<Arc<Rogue>>, Form(f): Form<HashMap<String, String>>) -> Json<Value> {
    let nonce = r.nonces.lock().unwrap().remove(&f["code"]).unwrap_or_default();
    let now = gatehouse::store::now();
    let mut claims = json!({
        "iss": r.issuer, "sub": "rogue-subject", "aud": r.client_id, "iat": now, "exp": now + 300,
        "nonce": nonce, "email": "alice@example.com", "email_verified": true, "preferred_username": "rogue",
    });
    match r.defect {
        Defect::WrongNonce => claims["nonce"] = json!("not-the-nonce"),
        Defect::WrongAudience => claims["aud"] = json!("another-client"),
        Defect::WrongIssuer => claims["iss"] = json!("https://evil.example"),
        Defect::Expired => {
            claims["iat"] = json!(now - 7200);
            claims["exp"] = json!(now - 3600);
        }
        Defect::None | Defect::OtherKey | Defect::Unsigned => {}
    }
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some("k1".into());
    let id_token = match r.defect {
        Defect::OtherKey => jsonwebtoken::encode(&header, &claims, &r.other).unwrap(),
        Defect::Unsigned => {
            let b64 = |v: &Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
            format!("{}.{}.", b64(&json!({"alg": "none", "kid": "k1"})), b64(&claims))
        }
        _ => jsonwebtoken::encode(&header, &claims, &r.good).unwrap(),
    };
    Json(json!({"access_token": "rogue-at", "token_type": "Bearer", "expires_in": 300, "id_token": id_token}))
}
