//! Plain OAuth 2.0 social providers (GitHub, Discord, Facebook, Bitbucket…) through the `oauth2`
//! crate: code flow with state and PKCE, then the profile from the provider's API.
use async_trait::async_trait;
use oauth2::basic::BasicClient;
use oauth2::{
    AuthType, AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointNotSet, EndpointSet, HttpRequest,
    HttpResponse, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, RequestTokenError, Scope, TokenResponse, TokenUrl,
};
use reqwest::header::{self, HeaderValue};
use reqwest::StatusCode;
use sea_orm::DatabaseConnection;
use serde_json::{Map, Value};

use super::secret::ClientSecretSource;
use super::{Arrival, Callback, Finished, LoginStart, Start, Upstream, UpstreamError};
use crate::config::{ProfileRequest, ProviderConfig, UpstreamAuthMethod};
use crate::store::{random_token, upstream_states};

type Client = BasicClient<EndpointSet, EndpointNotSet, EndpointNotSet, EndpointNotSet, EndpointSet>;

/// One OAuth 2.0 provider whose identity comes from API calls, not an ID token.
pub struct OAuth2Upstream {
    config: ProviderConfig,
    secret: ClientSecretSource,
    redirect_uri: String,
    db: DatabaseConnection,
    http: reqwest::Client,
}

impl OAuth2Upstream {
    /// A connector for a validated `kind = "oauth2"` provider.
    pub fn new(
        config: ProviderConfig,
        secret: ClientSecretSource,
        redirect_uri: String,
        db: DatabaseConnection,
        http: reqwest::Client,
    ) -> Self {
        Self {
            config,
            secret,
            redirect_uri,
            db,
            http,
        }
    }

    /// The OAuth client; the secret is needed only to redeem a code.
    fn client(&self, secret: Option<String>) -> Result<Client, UpstreamError> {
        let bad = |e: oauth2::url::ParseError| UpstreamError::Unavailable(e.to_string());
        let endpoint = |u: &Option<url::Url>, name: &str| {
            u.as_ref()
                .map(|u| u.to_string())
                .ok_or_else(|| UpstreamError::Unavailable(format!("no {name}")))
        };
        let mut client = BasicClient::new(ClientId::new(self.config.client_id.clone()));
        if let Some(secret) = secret {
            client = client.set_client_secret(ClientSecret::new(secret));
        }
        Ok(client
            .set_auth_uri(
                AuthUrl::new(endpoint(&self.config.authorization_endpoint, "authorization_endpoint")?).map_err(bad)?,
            )
            .set_token_uri(TokenUrl::new(endpoint(&self.config.token_endpoint, "token_endpoint")?).map_err(bad)?)
            .set_redirect_uri(RedirectUrl::new(self.redirect_uri.clone()).map_err(bad)?)
            .set_auth_type(match self.config.auth_method {
                UpstreamAuthMethod::ClientSecretBasic => AuthType::BasicAuth,
                UpstreamAuthMethod::ClientSecretPost => AuthType::RequestBody,
            }))
    }

    /// `GET url` with the access token; the answer must be JSON.
    async fn get_json(&self, url: &str, access_token: &str) -> Result<Value, UpstreamError> {
        let fail = |e: reqwest::Error| UpstreamError::Userinfo(format!("{url}: {e}"));
        self.http
            .get(url)
            .bearer_auth(access_token)
            .header(header::ACCEPT, "application/json")
            // GitHub's API refuses requests without a User-Agent.
            .header(header::USER_AGENT, concat!("Gatehouse/", env!("CARGO_PKG_VERSION")))
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .map_err(fail)?
            .json()
            .await
            .map_err(fail)
    }

    /// The profile: the userinfo answer with each extra request's result under its claim name.
    async fn profile(&self, access_token: &str) -> Result<Value, UpstreamError> {
        let url = self
            .config
            .userinfo_endpoint
            .as_ref()
            .ok_or_else(|| UpstreamError::Userinfo("no userinfo_endpoint".into()))?;
        let mut claims = match self.get_json(url.as_str(), access_token).await? {
            Value::Object(m) => m,
            _ => return Err(UpstreamError::Userinfo("the profile is not a JSON object".into())),
        };
        for request in &self.config.profile_requests {
            let answer = self.get_json(request.url.as_str(), access_token).await?;
            match select(request, answer) {
                Some(v) => claims.insert(request.claim.clone(), v),
                None => claims.remove(&request.claim),
            };
        }
        Ok(Value::Object(claims))
    }
}

/// What `request` keeps of its answer: the first array element matching every `match` member,
/// or the whole answer (or array) when there is no `match`.
fn select(request: &ProfileRequest, answer: Value) -> Option<Value> {
    let target = if request.array.is_empty() {
        answer
    } else {
        answer.pointer(&request.array)?.clone()
    };
    let Some(wanted) = &request.matching else {
        return Some(target);
    };
    let matches = |item: &Map<String, Value>| wanted.iter().all(|(k, v)| item.get(k) == Some(v));
    match target {
        Value::Array(items) => items.into_iter().find(|i| i.as_object().is_some_and(matches)),
        Value::Object(ref o) if matches(o) => Some(target),
        _ => None,
    }
}

/// Sends the token request and makes the provider's answer what RFC 6749 §5 says it is: some
/// providers (GitHub) answer form-encoded unless told otherwise and report errors with 200.
async fn token_http(http: reqwest::Client, request: HttpRequest) -> Result<HttpResponse, reqwest::Error> {
    let (parts, body) = request.into_parts();
    let response = http
        .request(parts.method, parts.uri.to_string())
        .headers(parts.headers)
        .body(body)
        .send()
        .await?;
    let mut status = response.status();
    let form = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded") || v.starts_with("text/plain"));
    let bytes = response.bytes().await?;
    let mut json: Option<Value> = if form {
        let pairs: Map<String, Value> = url::form_urlencoded::parse(&bytes)
            .map(|(k, v)| (k.into_owned(), Value::String(v.into_owned())))
            .collect();
        Some(Value::Object(pairs))
    } else {
        serde_json::from_slice(&bytes).ok()
    };
    if status.is_success() && json.as_ref().is_some_and(|j| j.get("error").is_some()) {
        status = StatusCode::BAD_REQUEST;
    }
    // `expires_in` must be a number; form answers carry it as text.
    if let Some(Value::Object(m)) = json.as_mut() {
        if let Some(Value::String(s)) = m.get("expires_in") {
            if let Ok(n) = s.parse::<u64>() {
                m.insert("expires_in".into(), Value::from(n));
            }
        }
    }
    let body = match json {
        Some(j) => serde_json::to_vec(&j).unwrap_or_default(),
        None => bytes.to_vec(),
    };
    let mut out = HttpResponse::new(body);
    *out.status_mut() = status;
    out.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    Ok(out)
}

#[async_trait]
impl Upstream for OAuth2Upstream {
    fn config(&self) -> &ProviderConfig {
        &self.config
    }

    async fn probe(&self) -> Result<super::probe::Probe, UpstreamError> {
        let endpoints = [
            &self.config.authorization_endpoint,
            &self.config.token_endpoint,
            &self.config.userinfo_endpoint,
        ];
        for url in endpoints.into_iter().flatten() {
            super::probe::answers(&self.http, url.as_str()).await?;
        }
        Ok(super::probe::Probe::default())
    }

    async fn begin(&self, start: LoginStart<'_>) -> Result<Start, UpstreamError> {
        let client = self.client(None)?;
        let state = random_token();
        let s = state.clone();
        let mut req = client.authorize_url(move || CsrfToken::new(s));
        for scope in &self.config.scopes {
            req = req.add_scope(Scope::new(scope.clone()));
        }
        let verifier = if self.config.pkce {
            let verifier = PkceCodeVerifier::new(random_token() + &random_token());
            req = req.set_pkce_challenge(PkceCodeChallenge::from_code_verifier_sha256(&verifier));
            verifier.secret().clone()
        } else {
            String::new()
        };
        if let Some(hint) = start.login_hint {
            // GitHub calls it `login`; others ignore unknown parameters.
            req = req.add_extra_param("login_hint", hint.to_owned());
        }
        if start.reauthenticate {
            // Not in OAuth 2.0 itself, but what the providers that can re-ask understand.
            req = req.add_extra_param("prompt", "login");
        }
        let (url, _) = req.url();
        // No ID token, so no nonce: the state alone binds the answer to the interaction.
        upstream_states::create(
            &self.db,
            upstream_states::NewUpstreamState {
                state: &state,
                provider_id: &self.config.id,
                interaction_id: start.interaction_id,
                browser_hash: start.browser_hash,
                nonce: "",
                pkce_verifier: &verifier,
            },
        )
        .await?;
        Ok(Start::Redirect(url.to_string()))
    }

    async fn finish(&self, cb: &Callback, arrival: Arrival<'_>) -> Result<Finished, UpstreamError> {
        let row = super::take_state(&self.db, cb.get("state"), &self.config.id, arrival).await?;
        let result = async {
            super::callback_error(cb)?;
            let code = cb.get("code").ok_or(UpstreamError::MissingClaim("code"))?;
            let client = self.client(Some(self.secret.current()?))?;
            let mut exchange = client.exchange_code(AuthorizationCode::new(code.clone()));
            if !row.pkce_verifier.is_empty() {
                exchange = exchange.set_pkce_verifier(PkceCodeVerifier::new(row.pkce_verifier.clone()));
            }
            let http = self.http.clone();
            let send = move |request: HttpRequest| token_http(http.clone(), request);
            let token = exchange.request_async(&send).await.map_err(|e| {
                UpstreamError::TokenExchange(match e {
                    RequestTokenError::ServerResponse(r) => r.to_string(),
                    other => other.to_string(),
                })
            })?;
            let claims = self.profile(token.access_token().secret()).await?;
            self.config.claims.apply(&self.config.id, claims)
        }
        .await;
        Ok(Finished::of(row, result))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn request(array: &str, matching: Option<Value>) -> ProfileRequest {
        ProfileRequest {
            url: "https://api.example/emails".parse().unwrap(),
            claim: "primary_email".into(),
            array: array.into(),
            matching: matching.map(|m| m.as_object().unwrap().clone()),
        }
    }

    #[test]
    fn select_keeps_the_first_element_matching_every_member() {
        let emails = json!([
            {"email": "old@example.com", "primary": false, "verified": true},
            {"email": "ann@example.com", "primary": true, "verified": true},
        ]);
        let r = request("", Some(json!({"primary": true, "verified": true})));
        assert_eq!(select(&r, emails).unwrap()["email"], "ann@example.com");
        let unverified = json!([{"email": "ann@example.com", "primary": true, "verified": false}]);
        assert_eq!(
            select(&r, unverified),
            None,
            "an unverified primary address is not kept"
        );
        let nested = json!({"values": [{"email": "x@example.com", "is_primary": true}]});
        let r = request("/values", Some(json!({"is_primary": true})));
        assert_eq!(select(&r, nested).unwrap()["email"], "x@example.com");
        assert_eq!(select(&request("", None), json!({"a": 1})), Some(json!({"a": 1})));
    }
}
