//! The authorization endpoint: validate, then sign in / consent through an interaction, then answer.
use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Query, RawQuery, State};
use axum::http::Method;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use tower_sessions::Session;

use super::error::AuthorizeErrorCode;
use super::{pkce, SUPPORTED_SCOPES};
use crate::login::federated::redirect_to_provider;
use crate::login::interaction::{self, Interaction};
use crate::login::session::{self as login_session, LoginSession};
use crate::state::AppState;
use crate::store::clients::Client;
use crate::store::codes::{self, NewCode};
use crate::store::{consent, interactions, now, users};
use crate::web::error::PageError;
use crate::web::limits::{Bucket, ClientAddress};
use crate::web::{found, get_or_post_params, with_query};

/// What the `prompt` parameter asks for (OIDC Core §3.1.2.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum Prompt {
    /// No prompt: show pages only when needed.
    #[default]
    Auto,
    /// `prompt=none`: never show a page; fail with `login_required` / `consent_required`.
    None,
    /// `prompt=login` and/or `prompt=consent`: show that page even when not needed.
    Force { login: bool, consent: bool },
}

impl Prompt {
    fn parse(v: Option<&str>) -> Result<Self, &'static str> {
        let Some(v) = v else { return Ok(Prompt::Auto) };
        let values: Vec<&str> = v.split(' ').filter(|s| !s.is_empty()).collect();
        if values.contains(&"none") {
            return if values.len() == 1 {
                Ok(Prompt::None)
            } else {
                Err("prompt=none cannot be combined with other values")
            };
        }
        // select_account and unknown values are ignored: there is one account per session.
        let login = values.contains(&"login");
        let consent = values.contains(&"consent");
        Ok(if login || consent {
            Prompt::Force { login, consent }
        } else {
            Prompt::Auto
        })
    }

    fn forces_login(self) -> bool {
        matches!(self, Prompt::Force { login: true, .. })
    }

    fn forces_consent(self) -> bool {
        matches!(self, Prompt::Force { consent: true, .. })
    }

    fn as_param(self) -> Option<String> {
        match self {
            Prompt::Auto => None,
            Prompt::None => Some("none".into()),
            Prompt::Force { login, consent } => Some(
                [login.then_some("login"), consent.then_some("consent")]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join(" "),
            ),
        }
    }
}

/// A validated authorization request (response_type=code), safe to store and resume.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AuthorizeRequest {
    pub client_id: String,
    pub redirect_uri: String,
    /// Requested scopes Gatehouse supports, in request order.
    pub scopes: Vec<String>,
    pub state: Option<String>,
    pub nonce: Option<String>,
    /// S256 code challenge.
    pub code_challenge: Option<String>,
    pub prompt: Prompt,
    pub max_age: Option<u64>,
    pub login_hint: Option<String>,
    /// `idp_hint` (or Keycloak's `kc_idp_hint`): go straight to this upstream provider.
    #[serde(default)]
    pub idp_hint: Option<String>,
}

impl AuthorizeRequest {
    /// An authorize URL that replays this request (offered when an interaction is gone).
    pub fn restart_url(&self, base: &str) -> String {
        let mut p: Vec<(&str, String)> = vec![
            ("response_type", "code".into()),
            ("client_id", self.client_id.clone()),
            ("redirect_uri", self.redirect_uri.clone()),
            ("scope", self.scopes.join(" ")),
        ];
        let optional = [
            ("state", self.state.clone()),
            ("nonce", self.nonce.clone()),
            ("code_challenge", self.code_challenge.clone()),
            (
                "code_challenge_method",
                self.code_challenge.as_ref().map(|_| "S256".into()),
            ),
            ("prompt", self.prompt.as_param()),
            ("max_age", self.max_age.map(|m| m.to_string())),
            ("login_hint", self.login_hint.clone()),
            ("idp_hint", self.idp_hint.clone()),
        ];
        p.extend(optional.into_iter().filter_map(|(k, v)| v.map(|v| (k, v))));
        let qs = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(p)
            .finish();
        format!("{base}/authorize?{qs}")
    }

    /// Whether an ID token is asked for.
    pub fn is_openid(&self) -> bool {
        self.scopes.iter().any(|s| s == "openid")
    }
}

/// An error answered to the client at its redirect URI (only once that URI is known good).
pub struct ErrorRedirect {
    redirect_uri: String,
    state: Option<String>,
    code: AuthorizeErrorCode,
    description: String,
    issuer: String,
}

impl ErrorRedirect {
    /// An error for a client at a redirect URI already checked against its registration.
    pub fn to(
        state: &AppState,
        redirect_uri: &str,
        client_state: Option<&str>,
        code: AuthorizeErrorCode,
        description: &str,
    ) -> Self {
        Self {
            redirect_uri: redirect_uri.into(),
            state: client_state.map(str::to_owned),
            code,
            description: description.into(),
            issuer: state.config.issuer_str(),
        }
    }

    /// An error answering a validated request.
    pub fn new(state: &AppState, req: &AuthorizeRequest, code: AuthorizeErrorCode, description: &str) -> Self {
        Self::to(state, &req.redirect_uri, req.state.as_deref(), code, description)
    }
}

impl IntoResponse for ErrorRedirect {
    fn into_response(self) -> Response {
        let mut params = vec![
            ("error", self.code.as_str()),
            ("error_description", self.description.as_str()),
        ];
        if let Some(s) = &self.state {
            params.push(("state", s));
        }
        params.push(("iss", &self.issuer));
        found(&with_query(&self.redirect_uri, &params))
    }
}

/// The longest value each stored authorization parameter may have, in bytes: a pending sign-in
/// is kept server-side for everyone who asks, so what one request can make us store is bounded.
pub const PARAMETER_LIMITS: &[(&str, usize)] = &[
    ("state", 2048),
    ("nonce", 512),
    ("scope", 1024),
    ("login_hint", 256),
    ("idp_hint", 128),
    ("kc_idp_hint", 128),
    ("code_challenge", 128),
    ("prompt", 64),
    ("max_age", 20),
];

/// The first parameter longer than its limit in [`PARAMETER_LIMITS`].
pub fn oversized(params: &HashMap<String, String>) -> Option<(&'static str, usize)> {
    PARAMETER_LIMITS
        .iter()
        .copied()
        .find(|(name, max)| params.get(*name).is_some_and(|v| v.len() > *max))
}

/// Validates every parameter but client_id and redirect_uri (already checked).
pub fn validate(
    params: &HashMap<String, String>,
    client: &Client,
    redirect_uri: &str,
) -> Result<AuthorizeRequest, (AuthorizeErrorCode, String)> {
    use AuthorizeErrorCode::*;
    let get = |k: &str| params.get(k).map(String::as_str).filter(|v| !v.is_empty());
    if params.contains_key("request") {
        return Err((RequestNotSupported, "request objects are not supported".into()));
    }
    if let Some((name, max)) = oversized(params) {
        return Err((InvalidRequest, format!("{name} is longer than {max} bytes")));
    }

    match get("response_type") {
        None => return Err((InvalidRequest, "response_type is missing".into())),
        Some("code") => {}
        Some(_) => return Err((UnsupportedResponseType, "only response_type=code is supported".into())),
    }
    if let Some(mode) = get("response_mode") {
        if mode != "query" {
            return Err((InvalidRequest, "only response_mode=query is supported".into()));
        }
    }
    let requested: Vec<&str> = get("scope")
        .map(|s| s.split(' ').filter(|s| !s.is_empty()).collect())
        .unwrap_or_default();
    if requested.is_empty() {
        return Err((InvalidScope, "scope is missing".into()));
    }
    let mut scopes: Vec<String> = Vec::new();
    for s in requested {
        let refused =
            s == "offline_access" && client.tokens.refresh_tokens == crate::store::clients::RefreshPolicy::Never;
        if SUPPORTED_SCOPES.contains(&s) && !refused && !scopes.iter().any(|x| x == s) {
            scopes.push(s.to_owned());
        }
    }
    if scopes.is_empty() {
        return Err((InvalidScope, "none of the requested scopes is supported".into()));
    }
    let code_challenge = match (get("code_challenge"), get("code_challenge_method")) {
        (None, None) if client.pkce_required() => {
            return Err((
                InvalidRequest,
                "code_challenge (PKCE, S256) is required for this client".into(),
            ))
        }
        (None, None) => None,
        (None, Some(_)) => return Err((InvalidRequest, "code_challenge_method without code_challenge".into())),
        (Some(_), None) | (Some(_), Some("plain")) => {
            return Err((
                InvalidRequest,
                "code_challenge_method must be S256; plain is not allowed".into(),
            ))
        }
        (Some(c), Some("S256")) if pkce::is_valid_challenge(c) => Some(c.to_owned()),
        (Some(_), Some("S256")) => return Err((InvalidRequest, "code_challenge is malformed".into())),
        (Some(_), Some(_)) => return Err((InvalidRequest, "unsupported code_challenge_method".into())),
    };
    let prompt = Prompt::parse(get("prompt")).map_err(|e| (InvalidRequest, e.to_string()))?;
    let max_age = match get("max_age") {
        None => None,
        Some(v) => Some(
            v.parse::<u64>()
                .map_err(|_| (InvalidRequest, "max_age must be a non-negative integer".to_string()))?,
        ),
    };
    Ok(AuthorizeRequest {
        client_id: client.id.clone(),
        redirect_uri: redirect_uri.to_owned(),
        scopes,
        state: params.get("state").cloned(),
        nonce: get("nonce").map(str::to_owned),
        code_challenge,
        prompt,
        max_age,
        login_hint: get("login_hint").map(str::to_owned),
        idp_hint: get("idp_hint").or_else(|| get("kc_idp_hint")).map(str::to_owned),
    })
}

/// `GET|POST /authorize`.
pub async fn authorize(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    session: Session,
    method: Method,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> Result<Response, PageError> {
    let mut params = get_or_post_params(&method, query, &body).map_err(|e| {
        PageError::bad_request(
            "Invalid sign-in request",
            &format!("The application sent an invalid request: {e}."),
        )
    })?;
    let Some(client_id) = params.get("client_id").filter(|c| !c.is_empty()) else {
        return Err(PageError::bad_request(
            "Invalid sign-in request",
            "The application did not say who it is (client_id is missing).",
        ));
    };
    let Some(client) = state.clients.get(client_id).await? else {
        return Err(PageError::bad_request(
            "Unknown application",
            "The application that sent you here is not registered with Gatehouse.",
        ));
    };
    // A pushed request replaces every parameter (RFC 9126 §4); only client_id must agree.
    let pushed = match params.get("request_uri").cloned() {
        Some(uri) => {
            params = super::par::take(&state, &client, &uri).await?;
            true
        }
        None => false,
    };
    let Some(redirect_uri) = params.get("redirect_uri").filter(|r| client.has_redirect_uri(r)) else {
        // Never redirect to an unregistered URI: that is an open redirector (RFC 6749 §4.1.2.1).
        return Err(PageError::bad_request(
            "Invalid redirect address",
            "The application asked Gatehouse to send you back to an address it has not registered, so Gatehouse stopped here.",
        ));
    };
    if client.require_par && !pushed {
        let client_state = params.get("state").map(String::as_str);
        let e = ErrorRedirect::to(
            &state,
            redirect_uri,
            client_state,
            AuthorizeErrorCode::InvalidRequest,
            "this client must use pushed authorization requests",
        );
        return Ok(e.into_response());
    }
    let req = match validate(&params, &client, redirect_uri) {
        Ok(req) => req,
        Err((code, description)) => {
            // An oversized state is not echoed back.
            let client_state = params.get("state").map(String::as_str).filter(|s| s.len() <= 2048);
            return Ok(ErrorRedirect::to(&state, redirect_uri, client_state, code, &description).into_response());
        }
    };
    // A browser without a session makes us store a pending sign-in: bounded per address.
    if login_session::current(&session).await?.is_none() {
        if let Err(retry_after_secs) = state.limits.hit(Bucket::Interaction, address) {
            return Err(PageError::TooManyAttempts { retry_after_secs });
        }
    }
    proceed(&state, &session, &client, req, None).await
}

/// Query of `GET /authorize/resume`.
#[derive(Deserialize)]
pub struct ResumeQuery {
    interaction: Option<String>,
}

/// `GET /authorize/resume`: continue an interaction once the person has signed in.
pub async fn resume(
    State(state): State<AppState>,
    session: Session,
    Query(q): Query<ResumeQuery>,
) -> Result<Response, PageError> {
    let ix = interaction::load_pending(&state, q.interaction.as_deref()).await?;
    let Some(client) = state.clients.get(&ix.request.client_id).await? else {
        return Err(PageError::bad_request(
            "Unknown application",
            "The application is no longer registered with Gatehouse.",
        ));
    };
    let req = ix.request.clone();
    proceed(&state, &session, &client, req, Some(&ix)).await
}

/// The signed-in session, if its user still exists and is enabled.
pub async fn active_login(
    state: &AppState,
    session: &Session,
) -> Result<Option<(LoginSession, users::User)>, PageError> {
    let Some(login) = login_session::current(session).await? else {
        return Ok(None);
    };
    let expired = now() - login.auth_time > state.config.session.absolute_timeout as i64
        // Ended from the account page (possibly on another node), or never recorded.
        || !crate::store::login_sessions::still_live(&state.db, &login.sid).await?;
    match users::find(&state.db, &login.user_id).await? {
        Some(user) if !user.disabled && !expired => Ok(Some((login, user))),
        _ => {
            crate::login::session::end_session(state, session).await?;
            Ok(None)
        }
    }
}

/// Decides what the request needs next: the login page, the consent page, or the code.
pub async fn proceed(
    state: &AppState,
    session: &Session,
    client: &Client,
    req: AuthorizeRequest,
    ix: Option<&Interaction>,
) -> Result<Response, PageError> {
    let base = state.base();
    // A session from a provider this client does not accept is no session for this client: it
    // must never receive that identity (the login page offers the methods it accepts).
    let login = active_login(state, session)
        .await?
        .filter(|(ls, _)| ls.idp.as_deref().is_none_or(|p| client.allows_provider(p)));
    let needs_login = match &login {
        None => true,
        Some((ls, _)) => {
            // A sign-in during this interaction satisfies prompt=login and max_age.
            let fresh = ix.is_some_and(|ix| ls.auth_time >= ix.created_at);
            // max_age=0 means "authenticate now" (elapsed whole seconds can be 0).
            let too_old = req.max_age.is_some_and(|m| m == 0 || now() - ls.auth_time > m as i64);
            !fresh && (req.prompt.forces_login() || too_old)
        }
    };
    if needs_login {
        if req.prompt == Prompt::None {
            return Ok(ErrorRedirect::new(
                state,
                &req,
                AuthorizeErrorCode::LoginRequired,
                "the user is not signed in",
            )
            .into_response());
        }
        let ix = match ix {
            Some(ix) => ix.clone(),
            None => interaction::start(state, &req).await?,
        };
        // idp_hint, or home-realm discovery on an email login_hint, skips the login page.
        let hinted = req
            .idp_hint
            .as_deref()
            .and_then(|h| state.upstreams.get(h))
            .or_else(|| req.login_hint.as_deref().and_then(|e| state.upstreams.for_email(e)))
            .map(|u| u.config().id.clone())
            .filter(|p| client.allows_provider(p));
        if let Some(provider) = hinted {
            return redirect_to_provider(state, session, &ix, &provider, req.login_hint.as_deref()).await;
        }
        return Ok(found(&ix.login_url(&base)));
    }
    let Some((login, _user)) = login else {
        return Err(PageError::internal("login vanished"));
    };
    if client.require_consent {
        let granted = consent::granted(&state.db, &login.user_id, &client.id).await?;
        if req.prompt.forces_consent() || !req.scopes.iter().all(|s| granted.contains(s)) {
            if req.prompt == Prompt::None {
                return Ok(ErrorRedirect::new(
                    state,
                    &req,
                    AuthorizeErrorCode::ConsentRequired,
                    "the user has not consented",
                )
                .into_response());
            }
            let ix = match ix {
                Some(ix) => ix.clone(),
                None => interaction::start(state, &req).await?,
            };
            return Ok(found(&format!("{base}/consent?interaction={}", ix.id)));
        }
    }
    issue_code(state, &req, &login, ix).await
}

/// Issues the code and sends the browser back to the client (completing the interaction).
pub async fn issue_code(
    state: &AppState,
    req: &AuthorizeRequest,
    login: &LoginSession,
    ix: Option<&Interaction>,
) -> Result<Response, PageError> {
    if let Some(ix) = ix {
        if !interactions::complete(&state.db, &ix.id).await? {
            return Err(PageError::with_link(
                "This sign-in is already finished",
                "This sign-in request was already completed, perhaps in another tab.",
                req.restart_url(&state.base()),
                "Start again",
            ));
        }
    }
    let code = codes::issue(
        &state.db,
        NewCode {
            client_id: req.client_id.clone(),
            user_id: login.user_id.clone(),
            redirect_uri: req.redirect_uri.clone(),
            scope: req.scopes.join(" "),
            nonce: req.nonce.clone(),
            code_challenge: req.code_challenge.clone(),
            auth_time: login.auth_time,
            amr: login.amr.clone(),
            sid: login.sid.clone(),
            idp: login.idp.clone(),
        },
        state.config.lifetimes.authorization_code,
    )
    .await?;
    let issuer = state.config.issuer_str();
    let mut params = vec![("code", code.as_str())];
    if let Some(s) = &req.state {
        params.push(("state", s));
    }
    params.push(("iss", &issuer));
    Ok(found(&with_query(&req.redirect_uri, &params)))
}

/// Sends `access_denied` for an interaction the person declined.
pub async fn deny(state: &AppState, ix: &Interaction) -> Result<Response, PageError> {
    interactions::complete(&state.db, &ix.id).await?;
    Ok(ErrorRedirect::new(
        state,
        &ix.request,
        AuthorizeErrorCode::AccessDenied,
        "the user denied the request",
    )
    .into_response())
}

/// Looks up the client of an interaction.
pub async fn client_of(state: &AppState, ix: &Interaction) -> Result<Arc<Client>, PageError> {
    state.clients.get(&ix.request.client_id).await?.ok_or_else(|| {
        PageError::bad_request(
            "Unknown application",
            "The application is no longer registered with Gatehouse.",
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prompt_values() {
        assert_eq!(Prompt::parse(None), Ok(Prompt::Auto));
        assert_eq!(Prompt::parse(Some("none")), Ok(Prompt::None));
        assert!(Prompt::parse(Some("none login")).is_err());
        assert_eq!(
            Prompt::parse(Some("login consent")),
            Ok(Prompt::Force {
                login: true,
                consent: true
            })
        );
        assert_eq!(Prompt::parse(Some("select_account")), Ok(Prompt::Auto));
        assert_eq!(
            Prompt::Force {
                login: true,
                consent: true
            }
            .as_param()
            .as_deref(),
            Some("login consent")
        );
    }
}
