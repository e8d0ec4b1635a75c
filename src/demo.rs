//! The built-in demo relying party behind "Try the login flow": a real code flow with PKCE.
//!
//! It talks to this server over HTTP on its own listening socket, exactly like an outside
//! application would, and verifies the ID token with the published JWKS.
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use jsonwebtoken::jwk::JwkSet;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tower_sessions::Session;

use crate::oidc::pkce;
use crate::state::AppState;
use crate::store::random_token;
use crate::web::error::PageError;
use crate::web::pages::{DemoResultPage, Layout};
use crate::web::{found, with_query};

/// The demo client's id.
pub use crate::config::declared::DEMO_CLIENT_ID as CLIENT_ID;
const KEY: &str = "demo_pending";

#[derive(Serialize, Deserialize)]
struct Pending {
    state: String,
    nonce: String,
    verifier: String,
}

/// The demo client's redirect URI.
pub fn redirect_uri(state: &AppState) -> String {
    state.config.endpoint("/demo/callback")
}

fn enabled(state: &AppState) -> Result<(), PageError> {
    if state.config.demo.enabled {
        Ok(())
    } else {
        Err(PageError::NotFound)
    }
}

/// `GET /demo/start`: begins an authorization-code flow as the demo client.
pub async fn start(State(state): State<AppState>, session: Session) -> Result<Response, PageError> {
    enabled(&state)?;
    let pending = Pending {
        state: random_token(),
        nonce: random_token(),
        verifier: random_token(),
    };
    let challenge = pkce::s256(&pending.verifier);
    session.insert(KEY, &pending).await?;
    let url = with_query(
        &state.config.endpoint("/authorize"),
        &[
            ("response_type", "code"),
            ("client_id", CLIENT_ID),
            ("redirect_uri", &redirect_uri(&state)),
            ("scope", "openid profile email"),
            ("state", &pending.state),
            ("nonce", &pending.nonce),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
        ],
    );
    Ok(found(&url))
}

/// The authorization response.
#[derive(Deserialize)]
pub struct Callback {
    code: Option<String>,
    state: Option<String>,
    iss: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

fn demo_error(state: &AppState, message: String) -> PageError {
    PageError::with_link(
        "Demo sign-in failed",
        &message,
        format!("{}/demo/start", state.base()),
        "Try again",
    )
}

/// `GET /demo/callback`: checks state and iss, redeems the code, verifies the ID token.
pub async fn callback(
    State(state): State<AppState>,
    session: Session,
    Query(cb): Query<Callback>,
) -> Result<Response, PageError> {
    enabled(&state)?;
    let pending: Pending = session
        .remove(KEY)
        .await?
        .ok_or_else(|| demo_error(&state, "No demo sign-in was in progress in this browser.".into()))?;
    let code = checked_code(&state, &pending, cb).map_err(|m| demo_error(&state, m))?;
    // Talk to ourselves over loopback: the public issuer URL may not be reachable from inside.
    let local = state
        .local_base_url()
        .ok_or_else(|| PageError::internal("listening address unknown"))?;
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", &redirect_uri(&state)),
        ("client_id", CLIENT_ID),
        ("code_verifier", &pending.verifier),
    ];
    let token: Value = fetch_json(state.http.post(format!("{local}/token")).form(&form)).await?;
    let (Some(id_token), Some(access_token)) = (token["id_token"].as_str(), token["access_token"].as_str()) else {
        return Err(demo_error(&state, format!("The token endpoint answered: {token}")));
    };
    let jwks: JwkSet = fetch_json(state.http.get(format!("{local}/jwks"))).await?;
    let claims = verify_id_token(&state, &jwks, id_token, &pending.nonce).map_err(|m| demo_error(&state, m))?;
    let userinfo: Value = fetch_json(state.http.get(format!("{local}/userinfo")).bearer_auth(access_token)).await?;
    Ok(result_page(&state, &claims, &userinfo, id_token))
}

/// The code of an authorization response that answers our pending request, from our issuer.
fn checked_code(state: &AppState, pending: &Pending, cb: Callback) -> Result<String, String> {
    if cb.state.as_deref() != Some(pending.state.as_str()) {
        return Err("The state parameter did not match.".into());
    }
    if cb.iss.as_deref() != Some(state.issuer.as_str()) {
        return Err("The iss parameter did not name this issuer (RFC 9207).".into());
    }
    if let Some(e) = cb.error {
        return Err(format!(
            "The server answered {e}: {}",
            cb.error_description.unwrap_or_default()
        ));
    }
    cb.code.ok_or_else(|| "The response carried no code.".into())
}

/// Sends a request to our own endpoints and reads its JSON answer.
async fn fetch_json<T: serde::de::DeserializeOwned>(req: reqwest::RequestBuilder) -> Result<T, PageError> {
    req.send()
        .await
        .map_err(PageError::internal)?
        .json()
        .await
        .map_err(PageError::internal)
}

/// The page showing what the demo client received, with a way to sign out.
fn result_page(state: &AppState, claims: &Value, userinfo: &Value, id_token: &str) -> Response {
    let logout = with_query(
        &state.config.endpoint("/logout"),
        &[
            ("id_token_hint", id_token),
            ("post_logout_redirect_uri", &state.config.endpoint("/")),
            ("state", &random_token()),
        ],
    );
    let page = DemoResultPage {
        layout: Layout::new(crate::i18n::text("title-signed-in"), state.base()),
        issuer: state.issuer.clone(),
        id_token_claims: serde_json::to_string_pretty(claims).unwrap_or_default(),
        userinfo: serde_json::to_string_pretty(userinfo).unwrap_or_default(),
        logout_href: logout,
    };
    state.templates.page(StatusCode::OK, &page)
}

fn verify_id_token(state: &AppState, jwks: &JwkSet, token: &str, nonce: &str) -> Result<Value, String> {
    let header = jsonwebtoken::decode_header(token).map_err(|e| format!("ID token header: {e}"))?;
    let kid = header.kid.ok_or("ID token has no kid")?;
    let jwk = jwks.find(&kid).ok_or("ID token kid is not in the JWKS")?;
    let key = jsonwebtoken::DecodingKey::from_jwk(jwk).map_err(|e| e.to_string())?;
    if !matches!(
        header.alg,
        jsonwebtoken::Algorithm::RS256 | jsonwebtoken::Algorithm::ES256
    ) {
        return Err("unexpected ID token algorithm".into());
    }
    let mut v = jsonwebtoken::Validation::new(header.alg);
    v.set_audience(&[CLIENT_ID]);
    v.set_issuer(&[&state.issuer]);
    let data = jsonwebtoken::decode::<Value>(token, &key, &v).map_err(|e| format!("ID token rejected: {e}"))?;
    if data.claims["nonce"].as_str() != Some(nonce) {
        return Err("ID token nonce does not match".into());
    }
    Ok(data.claims)
}
