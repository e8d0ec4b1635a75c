//! Loopback stand-ins for social providers that cannot be reached from here. Each answers the
//! way the real API does, quirks included (as documented by the provider), so the presets and
//! connectors meet the same protocol shapes they meet in production.
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use jsonwebtoken::jwk::{Jwk, JwkSet};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde_json::{json, Value};

use super::loopback::{listen, rsa_jwk, rsa_key, serve};

fn s256(verifier: &str) -> String {
    use base64::Engine;
    use sha2::Digest;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(verifier.as_bytes()))
}

// ---------------------------------------------------------------------------------------------
// GitHub: OAuth 2.0 (not OIDC), REST profile.

/// How the GitHub stand-in behaves.
#[derive(Clone)]
pub struct GitHubSetup {
    pub client_id: String,
    pub client_secret: String,
    /// The primary address in `/user/emails`, and whether GitHub verified it.
    pub primary_email: String,
    pub primary_verified: bool,
    /// Answer the token endpoint form-encoded even when JSON was asked for.
    pub always_form: bool,
}

/// A running GitHub stand-in.
pub struct GitHub {
    pub base: String,
    state: Arc<GitHubState>,
}

struct GitHubState {
    setup: GitHubSetup,
    /// code → (PKCE challenge, redirect_uri).
    codes: Mutex<HashMap<String, (String, String)>>,
    tokens: Mutex<Vec<String>>,
    /// The Accept header of each token request.
    token_accepts: Mutex<Vec<String>>,
}

impl GitHub {
    pub async fn start(setup: GitHubSetup) -> Self {
        let state = Arc::new(GitHubState {
            setup,
            codes: Mutex::default(),
            tokens: Mutex::default(),
            token_accepts: Mutex::default(),
        });
        let app = Router::new()
            .route("/login/oauth/authorize", get(gh_authorize))
            .route("/login/oauth/access_token", post(gh_token))
            .route("/user", get(gh_user))
            .route("/user/emails", get(gh_emails))
            .with_state(state.clone());
        let (listener, base) = listen().await;
        serve(listener, app);
        Self { base, state }
    }

    /// The `[[providers]]` overrides that point the built-in preset at this stand-in.
    pub fn overrides(&self) -> String {
        let b = &self.base;
        let s = &self.state.setup;
        format!(
            r#"
            client_id = "{}"
            client_secret = "{}"
            authorization_endpoint = "{b}/login/oauth/authorize"
            token_endpoint = "{b}/login/oauth/access_token"
            userinfo_endpoint = "{b}/user"
            [[profile_requests]]
            url = "{b}/user/emails"
            claim = "primary_email"
            match = {{ primary = true, verified = true }}
            "#,
            s.client_id, s.client_secret
        )
    }

    /// The Accept header of every token request so far.
    pub fn token_accepts(&self) -> Vec<String> {
        self.state.token_accepts.lock().unwrap().clone()
    }
}

/// GitHub signs the person in (here: at once) and redirects with code and state.
async fn gh_authorize(State(gh): State<Arc<GitHubState>>, Query(q): Query<HashMap<String, String>>) -> Response {
    if q.get("client_id") != Some(&gh.setup.client_id) {
        return (StatusCode::NOT_FOUND, "unknown client").into_response();
    }
    let code = gatehouse::store::random_token();
    let challenge = q.get("code_challenge").cloned().unwrap_or_default();
    let redirect = q["redirect_uri"].clone();
    gh.codes
        .lock()
        .unwrap()
        .insert(code.clone(), (challenge, redirect.clone()));
    Redirect::to(&gatehouse::web::with_query(
        &redirect,
        &[("code", &code), ("state", &q["state"])],
    ))
    .into_response()
}

/// Answers `application/x-www-form-urlencoded` unless the request accepts JSON, and reports
/// errors with status 200, as GitHub does.
async fn gh_token(
    State(gh): State<Arc<GitHubState>>,
    headers: HeaderMap,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    let accept = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    gh.token_accepts.lock().unwrap().push(accept.clone());
    let json_wanted = accept.contains("application/json") && !gh.setup.always_form;
    let answer = |fields: Vec<(&str, String)>| -> Response {
        if json_wanted {
            let map: serde_json::Map<String, Value> = fields
                .into_iter()
                .map(|(k, v)| (k.to_owned(), Value::String(v)))
                .collect();
            Json(Value::Object(map)).into_response()
        } else {
            let body = url::form_urlencoded::Serializer::new(String::new())
                .extend_pairs(fields.iter().map(|(k, v)| (*k, v.as_str())))
                .finish();
            (
                [(header::CONTENT_TYPE, "application/x-www-form-urlencoded; charset=utf-8")],
                body,
            )
                .into_response()
        }
    };
    let error = |code: &str| {
        answer(vec![
            ("error", code.to_owned()),
            (
                "error_description",
                "The code passed is incorrect or expired.".to_owned(),
            ),
        ])
    };
    if f.get("client_id") != Some(&gh.setup.client_id) || f.get("client_secret") != Some(&gh.setup.client_secret) {
        return error("incorrect_client_credentials");
    }
    let Some((challenge, redirect)) = f.get("code").and_then(|c| gh.codes.lock().unwrap().remove(c)) else {
        return error("bad_verification_code");
    };
    let verifier_ok = f.get("code_verifier").is_some_and(|v| s256(v) == challenge);
    if !verifier_ok || f.get("redirect_uri") != Some(&redirect) {
        return error("bad_verification_code");
    }
    let token = format!("gho_{}", gatehouse::store::random_token());
    gh.tokens.lock().unwrap().push(token.clone());
    answer(vec![
        ("access_token", token),
        ("scope", "read:user,user:email".to_owned()),
        ("token_type", "bearer".to_owned()),
    ])
}

/// GitHub's API: a bearer token it issued, and a User-Agent header, or no answer.
fn gh_auth(gh: &GitHubState, headers: &HeaderMap) -> Result<(), Box<Response>> {
    if !headers.contains_key(header::USER_AGENT) {
        return Err(Box::new(
            (
                StatusCode::FORBIDDEN,
                "Request forbidden by administrative rules. Please make sure your request has a User-Agent header",
            )
                .into_response(),
        ));
    }
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("token ")))
        .unwrap_or_default();
    if gh.tokens.lock().unwrap().iter().any(|t| t == token) {
        Ok(())
    } else {
        Err(Box::new(
            (StatusCode::UNAUTHORIZED, Json(json!({"message": "Bad credentials"}))).into_response(),
        ))
    }
}

/// `/user`: the profile, with only the public email (null here, the common case).
async fn gh_user(State(gh): State<Arc<GitHubState>>, headers: HeaderMap) -> Response {
    if let Err(r) = gh_auth(&gh, &headers) {
        return *r;
    }
    Json(json!({
        "login": "octo-ann", "id": 583231, "node_id": "MDQ6VXNlcjU4MzIzMQ==",
        "avatar_url": "https://avatars.githubusercontent.com/u/583231?v=4",
        "type": "User", "name": "Ann Octo", "company": null, "email": null,
    }))
    .into_response()
}

/// `/user/emails`: a verified secondary address and the primary one.
async fn gh_emails(State(gh): State<Arc<GitHubState>>, headers: HeaderMap) -> Response {
    if let Err(r) = gh_auth(&gh, &headers) {
        return *r;
    }
    Json(json!([
        {"email": "583231+octo-ann@users.noreply.github.com", "primary": false, "verified": true, "visibility": null},
        {"email": gh.setup.primary_email, "primary": true, "verified": gh.setup.primary_verified, "visibility": "private"},
    ]))
    .into_response()
}

// ---------------------------------------------------------------------------------------------
// An OpenID provider with Microsoft's or Apple's particulars.

/// Which provider's particulars the stand-in OP has.
#[derive(Clone)]
pub enum OpFlavour {
    /// Entra ID multi-tenant: discovery under `/common/v2.0` publishes the issuer
    /// `…/{tenantid}/v2.0`; each ID token carries its tenant's issuer and `tid`.
    Microsoft {
        tenant: String,
        /// Put this tenant in `iss` while `tid` says `tenant` (a token that must be refused).
        issuer_tenant: Option<String>,
    },
    /// Sign in with Apple: form_post response with the `user` JSON on the first login only,
    /// `email_verified` as a string, client secret an ES256 JWT from the developer's key.
    Apple {
        developer_key_pem: String,
        team_id: String,
        key_id: String,
    },
}

/// A running stand-in OP.
pub struct StandInOp {
    /// The issuer to configure at Gatehouse.
    pub issuer: String,
    state: Arc<OpState>,
}

struct OpState {
    base: String,
    flavour: OpFlavour,
    client_id: String,
    client_secret: String,
    key: EncodingKey,
    jwk: Jwk,
    /// code → nonce.
    codes: Mutex<HashMap<String, String>>,
    /// Apple posts `user` only the first time a person authorizes the app.
    seen: Mutex<bool>,
    /// Client secrets Apple would have refused (wrong signature or claims).
    refused_secrets: Mutex<Vec<String>>,
}

impl StandInOp {
    pub async fn start(flavour: OpFlavour, client_id: &str, client_secret: &str) -> Self {
        let (listener, base) = listen().await;
        let key = rsa_key();
        let jwk = rsa_jwk(&key, "standin-1");
        let issuer = match flavour {
            OpFlavour::Microsoft { .. } => format!("{base}/common/v2.0"),
            OpFlavour::Apple { .. } => base.clone(),
        };
        let state = Arc::new(OpState {
            base: base.clone(),
            flavour,
            client_id: client_id.into(),
            client_secret: client_secret.into(),
            key,
            jwk,
            codes: Mutex::default(),
            seen: Mutex::new(false),
            refused_secrets: Mutex::default(),
        });
        let app = Router::new()
            .route("/.well-known/openid-configuration", get(op_discovery))
            .route("/common/v2.0/.well-known/openid-configuration", get(op_discovery))
            .route("/keys", get(op_jwks))
            .route("/auth", get(op_authorize))
            .route("/token", post(op_token))
            .with_state(state.clone());
        serve(listener, app);
        Self { issuer, state }
    }

    /// Client secrets that were not what the provider demands.
    pub fn refused_secrets(&self) -> Vec<String> {
        self.state.refused_secrets.lock().unwrap().clone()
    }
}

fn published_issuer(op: &OpState) -> String {
    match op.flavour {
        OpFlavour::Microsoft { .. } => format!("{}/{{tenantid}}/v2.0", op.base),
        OpFlavour::Apple { .. } => op.base.clone(),
    }
}

async fn op_discovery(State(op): State<Arc<OpState>>) -> Json<Value> {
    let b = &op.base;
    Json(json!({
        "issuer": published_issuer(&op),
        "authorization_endpoint": format!("{b}/auth"),
        "token_endpoint": format!("{b}/token"),
        "jwks_uri": format!("{b}/keys"),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query", "fragment", "form_post"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
        "scopes_supported": ["openid", "email", "name", "profile"],
    }))
}

async fn op_jwks(State(op): State<Arc<OpState>>) -> Json<JwkSet> {
    Json(JwkSet {
        keys: vec![op.jwk.clone()],
    })
}

async fn op_authorize(State(op): State<Arc<OpState>>, Query(q): Query<HashMap<String, String>>) -> Response {
    if q.get("client_id") != Some(&op.client_id) {
        return (StatusCode::BAD_REQUEST, "invalid_client").into_response();
    }
    let code = gatehouse::store::random_token();
    op.codes
        .lock()
        .unwrap()
        .insert(code.clone(), q.get("nonce").cloned().unwrap_or_default());
    let redirect = &q["redirect_uri"];
    let state = &q["state"];
    match op.flavour {
        OpFlavour::Microsoft { .. } => Redirect::to(&gatehouse::web::with_query(
            redirect,
            &[("code", &code), ("state", state)],
        ))
        .into_response(),
        OpFlavour::Apple { .. } => {
            // Apple refuses name/email scopes without form_post.
            if q.get("response_mode").map(String::as_str) != Some("form_post") {
                return Redirect::to(&gatehouse::web::with_query(
                    redirect,
                    &[("error", "invalid_request"), ("state", state)],
                ))
                .into_response();
            }
            let first = !std::mem::replace(&mut *op.seen.lock().unwrap(), true);
            let user = first.then(|| {
                json!({"name": {"firstName": "Ann", "lastName": "Apple"}, "email": "ann@privaterelay.appleid.com"})
                    .to_string()
            });
            let mut fields = format!(
                r#"<input type="hidden" name="code" value="{code}"><input type="hidden" name="state" value="{state}">"#
            );
            if let Some(user) = user {
                fields.push_str(&format!(
                    r#"<input type="hidden" name="user" value="{}">"#,
                    user.replace('"', "&quot;")
                ));
            }
            Html(format!(
                r#"<!doctype html><html><body onload="document.forms[0].submit()"><form method="post" action="{redirect}">{fields}</form></body></html>"#
            ))
            .into_response()
        }
    }
}

async fn op_token(
    State(op): State<Arc<OpState>>,
    headers: HeaderMap,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    let refuse = |e: &str| (StatusCode::BAD_REQUEST, Json(json!({"error": e}))).into_response();
    // client_secret_basic or client_secret_post, as both providers accept.
    let basic = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|b| {
            use base64::Engine;
            base64::engine::general_purpose::STANDARD.decode(b).ok()
        })
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|s| {
            let (id, secret) = s.split_once(':')?;
            let decode = |x: &str| {
                url::form_urlencoded::parse(format!("x={x}").as_bytes())
                    .next()
                    .map(|(_, v)| v.into_owned())
            };
            Some((decode(id)?, decode(secret)?))
        });
    let (client_id, secret) = match basic {
        Some(pair) => pair,
        None => (
            f.get("client_id").cloned().unwrap_or_default(),
            f.get("client_secret").cloned().unwrap_or_default(),
        ),
    };
    if client_id != op.client_id {
        return refuse("invalid_client");
    }
    match &op.flavour {
        OpFlavour::Apple {
            developer_key_pem,
            team_id,
            key_id,
        } => {
            // Apple: an ES256 JWT, kid = the key's id, iss = team, sub = client, aud = Apple.
            let public = {
                use p256::pkcs8::{DecodePrivateKey, EncodePublicKey};
                p256::SecretKey::from_pkcs8_pem(developer_key_pem)
                    .unwrap()
                    .public_key()
                    .to_public_key_pem(p256::pkcs8::LineEnding::LF)
                    .unwrap()
            };
            let mut v = Validation::new(Algorithm::ES256);
            v.set_audience(&[&op.base]);
            v.set_issuer(&[team_id]);
            v.sub = Some(op.client_id.clone());
            v.set_required_spec_claims(&["exp", "iat", "aud", "iss", "sub"]);
            let header_ok = jsonwebtoken::decode_header(&secret).is_ok_and(|h| h.kid.as_deref() == Some(key_id));
            let ok = header_ok
                && jsonwebtoken::decode::<Value>(&secret, &DecodingKey::from_ec_pem(public.as_bytes()).unwrap(), &v)
                    .is_ok();
            if !ok {
                op.refused_secrets.lock().unwrap().push(secret);
                return refuse("invalid_client");
            }
        }
        OpFlavour::Microsoft { .. } => {
            if secret != op.client_secret {
                return refuse("invalid_client");
            }
        }
    }
    let Some(nonce) = f.get("code").and_then(|c| op.codes.lock().unwrap().remove(c)) else {
        return refuse("invalid_grant");
    };
    let now = gatehouse::store::now();
    let claims = match &op.flavour {
        OpFlavour::Microsoft { tenant, issuer_tenant } => json!({
            "ver": "2.0",
            "iss": format!("{}/{}/v2.0", op.base, issuer_tenant.as_ref().unwrap_or(tenant)),
            "sub": "AAAAAAAAAAAAAAAAAAAAAIkzqFVrSaSaFHy782bbtaQ", "aud": op.client_id,
            "exp": now + 3600, "iat": now, "nbf": now, "nonce": nonce,
            "tid": tenant, "oid": "00000000-0000-0000-66f3-3332eca7ea81",
            "name": "Megan Bowen", "preferred_username": "meganb@contoso.example",
            // Entra's `email` is whatever an admin typed: not verified.
            "email": "alice@example.com",
        }),
        OpFlavour::Apple { .. } => json!({
            "iss": op.base, "aud": op.client_id, "exp": now + 600, "iat": now,
            "sub": "001234.5f3ee8b2c4a74e0c8a2b6a3d9a7c0d11.1234", "nonce": nonce, "nonce_supported": true,
            "email": "ann@privaterelay.appleid.com", "email_verified": "true", "is_private_email": "true",
            "auth_time": now, "real_user_status": 2,
        }),
    };
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some("standin-1".into());
    let id_token = jsonwebtoken::encode(&header, &claims, &op.key).unwrap();
    Json(json!({"access_token": gatehouse::store::random_token(), "token_type": "Bearer", "expires_in": 3600, "id_token": id_token}))
        .into_response()
}
