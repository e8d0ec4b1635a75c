//! Servers on loopback that stand in for Gatehouse's peers: a free port to serve on, and what a
//! stand-in OpenID provider signs with and publishes.
use axum::Router;
use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{Algorithm, EncodingKey};
use serde_json::{json, Value};
use tokio::net::TcpListener;

/// A listener on a free loopback port, and its base URL (`http://127.0.0.1:…`).
pub async fn listen() -> (TcpListener, String) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    (listener, base)
}

/// Serves `app` on `listener` for the rest of the test.
pub fn serve(listener: TcpListener, app: Router) {
    tokio::spawn(async move { axum::serve(listener, app).await });
}

/// A fresh RSA key to sign ID tokens with.
pub fn rsa_key() -> EncodingKey {
    let pem = gatehouse::keys::generate_pem(gatehouse::keys::SigningAlg::RS256).unwrap();
    EncodingKey::from_rsa_pem(pem.as_bytes()).unwrap()
}

/// The public half of `key` as an RS256 JWK with the id `kid`.
pub fn rsa_jwk(key: &EncodingKey, kid: &str) -> Jwk {
    let mut jwk = Jwk::from_encoding_key(key, Algorithm::RS256).unwrap();
    jwk.common.key_id = Some(kid.into());
    jwk
}

/// The discovery document of a plain OpenID provider at `issuer`: `/authorize`, `/token` and
/// `/jwks` under it, public subjects, RS256 ID tokens.
pub fn discovery(issuer: &str) -> Value {
    json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{issuer}/authorize"),
        "token_endpoint": format!("{issuer}/token"),
        "jwks_uri": format!("{issuer}/jwks"),
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
    })
}
