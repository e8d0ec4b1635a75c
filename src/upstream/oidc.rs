//! Upstream OpenID Connect providers (Entra ID, Okta, Keycloak, …) through the `openidconnect` crate.
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreIdToken, CoreJwsSigningAlgorithm, CoreProviderMetadata, CoreTokenResponse,
};
use openidconnect::{
    AccessToken, AuthType, AuthorizationCode, ClaimsVerificationError, ClientId, ClientSecret, CsrfToken, Nonce,
    OAuth2TokenResponse, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope, TokenResponse,
};
use sea_orm::DatabaseConnection;
use serde_json::Value;

use super::secret::ClientSecretSource;
use super::{Arrival, Callback, Finished, LoginStart, Start, Upstream, UpstreamError};
use crate::config::{ProviderConfig, ResponseMode, UpstreamAuthMethod};
use crate::store::{random_token, upstream_states};

/// Asymmetric algorithms accepted on upstream ID tokens (never `none` or HMAC).
const ALLOWED_ALGS: [CoreJwsSigningAlgorithm; 8] = [
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha384,
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha512,
    CoreJwsSigningAlgorithm::RsaSsaPssSha256,
    CoreJwsSigningAlgorithm::RsaSsaPssSha384,
    CoreJwsSigningAlgorithm::RsaSsaPssSha512,
    CoreJwsSigningAlgorithm::EcdsaP256Sha256,
    CoreJwsSigningAlgorithm::EcdsaP384Sha384,
];

/// The provider's discovery document with its JWKS, plus what the core type does not keep.
struct Discovered {
    metadata: CoreProviderMetadata,
    /// `end_session_endpoint` (RP-Initiated Logout).
    end_session: Option<String>,
    /// The published issuer; multi-tenant providers publish a template with `{tenantid}`.
    issuer: String,
}

/// The OIDC client as built from discovery: authorization and token endpoints set, userinfo
/// maybe.
type Client = CoreClient<
    openidconnect::EndpointSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointMaybeSet,
    openidconnect::EndpointMaybeSet,
>;

/// The placeholder Entra ID's multi-tenant discovery documents put in `issuer`.
const TENANT_PLACEHOLDER: &str = "{tenantid}";

/// One upstream OIDC provider.
pub struct OidcUpstream {
    config: ProviderConfig,
    secret: ClientSecretSource,
    redirect_uri: String,
    db: DatabaseConnection,
    http: reqwest::Client,
    /// Discovery document + JWKS, refreshed hourly or on an unknown signing key.
    metadata: moka::future::Cache<(), Arc<Discovered>>,
}

impl OidcUpstream {
    /// A connector; nothing is fetched until the first login.
    pub fn new(
        config: ProviderConfig,
        secret: ClientSecretSource,
        redirect_uri: String,
        db: DatabaseConnection,
        http: reqwest::Client,
    ) -> Self {
        let metadata = moka::future::Cache::builder()
            .max_capacity(1)
            .time_to_live(Duration::from_secs(3600))
            .build();
        Self {
            config,
            secret,
            redirect_uri,
            db,
            http,
            metadata,
        }
    }

    /// Fetches discovery and JWKS (cached). Like `discover_async`, but a multi-tenant provider
    /// may publish an issuer template, which each ID token is then checked against.
    async fn metadata(&self) -> Result<Arc<Discovered>, UpstreamError> {
        let issuer = self.config.issuer_str().to_owned();
        let multi_tenant = self.config.tenant_claim.is_some();
        let http = self.http.clone();
        self.metadata
            .try_get_with((), async move {
                let url = format!("{issuer}/.well-known/openid-configuration");
                let doc: Value = http
                    .get(&url)
                    .send()
                    .await
                    .and_then(reqwest::Response::error_for_status)
                    .map_err(|e| format!("{url}: {}", super::probe::error_chain(&e)))?
                    .json()
                    .await
                    .map_err(|e| format!("{url}: {}", super::probe::error_chain(&e)))?;
                let end_session = doc["end_session_endpoint"].as_str().map(str::to_owned);
                let metadata: CoreProviderMetadata = serde_json::from_value(doc).map_err(|e| format!("{url}: {e}"))?;
                let published = metadata.issuer().as_str().trim_end_matches('/').to_owned();
                let templated = published.contains(TENANT_PLACEHOLDER);
                if published != issuer && !(multi_tenant && templated) {
                    return Err(format!("{url}: issuer {published} is not the configured {issuer}"));
                }
                if templated && !multi_tenant {
                    return Err(format!("{url}: issuer {published} is a template; set tenant_claim"));
                }
                let jwks = openidconnect::JsonWebKeySet::fetch_async(metadata.jwks_uri(), &http)
                    .await
                    .map_err(|e| format!("JWKS: {}", super::probe::error_chain(&e)))?;
                Ok(Arc::new(Discovered {
                    metadata: metadata.set_jwks(jwks),
                    end_session,
                    issuer: published,
                }))
            })
            .await
            .map_err(|e: Arc<String>| UpstreamError::Unavailable(e.to_string()))
    }

    /// The `iss` this ID token must carry: the published issuer, or for a multi-tenant provider
    /// the template with the token's own tenant put in (and that tenant allowed).
    fn expected_issuer(&self, discovered: &Discovered, claims: &Value) -> Result<String, UpstreamError> {
        let Some(tenant_claim) = &self.config.tenant_claim else {
            return Ok(discovered.issuer.clone());
        };
        let tenant = claims
            .get(tenant_claim)
            .and_then(Value::as_str)
            .filter(|t| !t.is_empty() && t.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
            .ok_or_else(|| UpstreamError::InvalidIdToken(format!("no usable `{tenant_claim}` claim")))?;
        if !self.config.allowed_tenants.is_empty() && !self.config.allowed_tenants.iter().any(|t| t == tenant) {
            return Err(UpstreamError::InvalidIdToken(format!("tenant {tenant} is not allowed")));
        }
        Ok(discovered.issuer.replace(TENANT_PLACEHOLDER, tenant))
    }

    /// The OIDC client; the secret is needed (and, for Apple, generated) only to redeem a code.
    fn client(&self, metadata: &CoreProviderMetadata, secret: Option<String>) -> Result<Client, UpstreamError> {
        let redirect =
            RedirectUrl::new(self.redirect_uri.clone()).map_err(|e| UpstreamError::Unavailable(e.to_string()))?;
        Ok(CoreClient::from_provider_metadata(
            metadata.clone(),
            ClientId::new(self.config.client_id.clone()),
            secret.map(ClientSecret::new),
        )
        .set_redirect_uri(redirect)
        .set_auth_type(match self.config.auth_method {
            UpstreamAuthMethod::ClientSecretBasic => AuthType::BasicAuth,
            UpstreamAuthMethod::ClientSecretPost => AuthType::RequestBody,
        }))
    }

    /// The provider's end_session_endpoint, if it has one.
    async fn end_session_endpoint(&self) -> Option<String> {
        self.metadata().await.ok()?.end_session.clone()
    }

    /// Code → tokens → verified claims (ID token, merged with userinfo when configured) and
    /// the raw ID token (the hint for a later upstream logout).
    async fn exchange(&self, code: &str, nonce: &str, verifier: &str) -> Result<(Value, String), UpstreamError> {
        let discovered = self.metadata().await?;
        let client = self.client(&discovered.metadata, Some(self.secret.current()?))?;
        let token = self.redeem(&client, code, verifier).await?;
        let id_token = token
            .id_token()
            .ok_or_else(|| UpstreamError::InvalidIdToken("no id_token in the token response".into()))?;
        self.verify_id_token(&client, id_token, &Nonce::new(nonce.to_owned()))
            .await?;
        // The signature is verified: the payload can be read as raw JSON for the claim mapping.
        let raw = id_token.to_string();
        let mut claims = id_token_payload(&raw)?;
        let expected = self.expected_issuer(&discovered, &claims)?;
        if claims.get("iss").and_then(Value::as_str) != Some(expected.as_str()) {
            return Err(UpstreamError::InvalidIdToken(format!("issuer is not {expected}")));
        }
        if self.config.fetch_userinfo {
            let info = self.userinfo(&discovered, token.access_token()).await?;
            merge_userinfo(&mut claims, info)?;
        }
        Ok((claims, raw))
    }

    /// Redeems the code at the token endpoint, with the PKCE verifier when the login had one.
    async fn redeem(&self, client: &Client, code: &str, verifier: &str) -> Result<CoreTokenResponse, UpstreamError> {
        let mut request = client
            .exchange_code(AuthorizationCode::new(code.to_owned()))
            .map_err(|e| UpstreamError::Unavailable(e.to_string()))?;
        if !verifier.is_empty() {
            request = request.set_pkce_verifier(PkceCodeVerifier::new(verifier.to_owned()));
        }
        request
            .request_async(&self.http)
            .await
            .map_err(|e| UpstreamError::TokenExchange(e.to_string()))
    }

    /// Verifies the ID token's signature (allowed algorithms only), audience, expiry and nonce,
    /// and its issuer unless the provider is multi-tenant (then `exchange` checks it against the
    /// token's own tenant). A bad signature may mean the keys rotated upstream: the JWKS is
    /// fetched again, once, before deciding.
    async fn verify_id_token(
        &self,
        client: &Client,
        id_token: &CoreIdToken,
        nonce: &Nonce,
    ) -> Result<(), UpstreamError> {
        let multi_tenant = self.config.tenant_claim.is_some();
        let check = |client: &Client| {
            let verifier = client
                .id_token_verifier()
                .set_allowed_algs(ALLOWED_ALGS)
                .require_issuer_match(!multi_tenant);
            id_token.claims(&verifier, nonce).map(|_| ())
        };
        match check(client) {
            Ok(()) => return Ok(()),
            Err(ClaimsVerificationError::SignatureVerification(_)) => {}
            Err(e) => return Err(UpstreamError::InvalidIdToken(e.to_string())),
        }
        self.metadata.invalidate(&()).await;
        let fresh = self.metadata().await?;
        check(&self.client(&fresh.metadata, None)?).map_err(|e| UpstreamError::InvalidIdToken(e.to_string()))
    }

    /// The userinfo endpoint's answer for this access token.
    async fn userinfo(&self, discovered: &Discovered, access_token: &AccessToken) -> Result<Value, UpstreamError> {
        let endpoint = discovered
            .metadata
            .userinfo_endpoint()
            .ok_or_else(|| UpstreamError::Userinfo("the provider has no userinfo endpoint".into()))?;
        self.http
            .get(endpoint.url().as_str())
            .bearer_auth(access_token.secret())
            .send()
            .await
            .and_then(|r| r.error_for_status())
            .map_err(|e| UpstreamError::Userinfo(e.to_string()))?
            .json()
            .await
            .map_err(|e| UpstreamError::Userinfo(e.to_string()))
    }
}

/// The payload of a compact JWS (an ID token whose signature was verified) as JSON.
fn id_token_payload(raw: &str) -> Result<Value, UpstreamError> {
    let payload = raw
        .split('.')
        .nth(1)
        .ok_or_else(|| UpstreamError::InvalidIdToken("malformed".into()))?;
    URL_SAFE_NO_PAD
        .decode(payload)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or_else(|| UpstreamError::InvalidIdToken("payload is not JSON".into()))
}

/// Adds the userinfo claims to the ID token's, keeping the token's own iss, aud, exp, iat and
/// nonce. Userinfo about another subject is refused (OIDC Core §5.3.2: a userinfo `sub` that
/// differs from the ID token's must be ignored).
fn merge_userinfo(claims: &mut Value, info: Value) -> Result<(), UpstreamError> {
    if info.get("sub") != claims.get("sub") {
        return Err(UpstreamError::Userinfo(
            "userinfo sub differs from the ID token sub".into(),
        ));
    }
    if let (Some(c), Value::Object(extra)) = (claims.as_object_mut(), info) {
        for (k, v) in extra {
            if !matches!(k.as_str(), "iss" | "aud" | "exp" | "iat" | "nonce") {
                c.insert(k, v);
            }
        }
    }
    Ok(())
}

#[async_trait]
impl Upstream for OidcUpstream {
    fn config(&self) -> &ProviderConfig {
        &self.config
    }

    async fn probe(&self) -> Result<super::probe::Probe, UpstreamError> {
        self.metadata.invalidate(&()).await;
        let discovered = self.metadata().await?;
        if discovered.metadata.jwks().keys().is_empty() {
            return Err(UpstreamError::Unavailable(format!(
                "{}: the JWK Set has no keys",
                discovered.metadata.jwks_uri().as_str()
            )));
        }
        Ok(super::probe::Probe::default())
    }

    async fn begin(&self, start: LoginStart<'_>) -> Result<Start, UpstreamError> {
        let discovered = self.metadata().await?;
        let client = self.client(&discovered.metadata, None)?;
        let state = random_token();
        let nonce = random_token();
        let (s, n) = (state.clone(), nonce.clone());
        let mut req = client.authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            move || CsrfToken::new(s),
            move || Nonce::new(n),
        );
        // Off only for the few providers that refuse it (the preset says so).
        let verifier = if self.config.pkce {
            let verifier = PkceCodeVerifier::new(random_token() + &random_token());
            req = req.set_pkce_challenge(PkceCodeChallenge::from_code_verifier_sha256(&verifier));
            verifier.secret().clone()
        } else {
            String::new()
        };
        for scope in self.config.scopes.iter().filter(|s| *s != "openid") {
            req = req.add_scope(Scope::new(scope.clone()));
        }
        if let Some(hint) = start.login_hint {
            req = req.add_extra_param("login_hint", hint.to_owned());
        }
        if self.config.response_mode == ResponseMode::FormPost {
            req = req.add_extra_param("response_mode", "form_post");
        }
        if start.reauthenticate {
            // max_age=0 also makes the ID token carry auth_time (OIDC Core 3.1.2.1), which the
            // caller checks: a provider that ignored both is caught there.
            req = req
                .add_prompt(openidconnect::core::CoreAuthPrompt::Login)
                .set_max_age(std::time::Duration::ZERO);
        }
        let (url, _, _) = req.url();
        upstream_states::create(
            &self.db,
            upstream_states::NewUpstreamState {
                state: &state,
                provider_id: &self.config.id,
                interaction_id: start.interaction_id,
                browser_hash: start.browser_hash,
                nonce: &nonce,
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
            let (mut claims, id_token) = self.exchange(code, &row.nonce, &row.pkce_verifier).await?;
            // RFC 9207: when the provider names itself in the response, it must be the issuer of
            // the verified ID token.
            if let Some(iss) = cb.get("iss") {
                if Some(iss.trim_end_matches('/')) != claims["iss"].as_str().map(|i| i.trim_end_matches('/')) {
                    return Err(UpstreamError::InvalidIdToken(format!(
                        "authorization response from issuer {iss}"
                    )));
                }
            }
            if self.config.name_from_user_param {
                if let Some(name) = cb.get("user").and_then(|u| name_from_user_param(u)) {
                    claims
                        .as_object_mut()
                        .map(|c| c.entry("name").or_insert(Value::String(name)));
                }
            }
            let mut identity = self.config.claims.apply(&self.config.id, claims)?;
            identity.upstream_session = Some(id_token);
            Ok(identity)
        }
        .await;
        Ok(Finished::of(row, result))
    }

    async fn logout_url(
        &self,
        upstream_session: Option<&str>,
        post_logout_redirect_uri: &str,
        state: &str,
    ) -> Option<String> {
        let endpoint = self.end_session_endpoint().await?;
        let mut params = vec![
            ("post_logout_redirect_uri", post_logout_redirect_uri),
            ("state", state),
            ("client_id", self.config.client_id.as_str()),
        ];
        if let Some(hint) = upstream_session {
            params.push(("id_token_hint", hint));
        }
        Some(crate::urls::with_query(&endpoint, &params))
    }
}

/// The display name from Sign in with Apple's `user` form field
/// (`{"name":{"firstName":…,"lastName":…},"email":…}`), sent once, unsigned: only the name is used.
fn name_from_user_param(user: &str) -> Option<String> {
    let user: Value = serde_json::from_str(user).ok()?;
    let part = |k: &str| user["name"][k].as_str().map(str::trim).filter(|s| !s.is_empty());
    let name = [part("firstName"), part("lastName")]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
    (!name.is_empty()).then_some(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn apple_user_param_gives_only_a_name() {
        let user = r#"{"name":{"firstName":"Ann","lastName":"Lee"},"email":"ann@privaterelay.appleid.com"}"#;
        assert_eq!(name_from_user_param(user).as_deref(), Some("Ann Lee"));
        assert_eq!(name_from_user_param(r#"{"name":{"firstName":" "}}"#), None);
        assert_eq!(name_from_user_param("not json"), None);
    }

    #[test]
    fn the_id_token_payload_is_read_as_json() {
        let payload = URL_SAFE_NO_PAD.encode(r#"{"sub":"u1","iss":"https://op"}"#);
        let claims = id_token_payload(&format!("e30.{payload}.sig")).unwrap();
        assert_eq!(claims["sub"], "u1");
        assert!(matches!(
            id_token_payload("no-dots"),
            Err(UpstreamError::InvalidIdToken(_))
        ));
        let not_json = URL_SAFE_NO_PAD.encode("not json");
        assert!(matches!(
            id_token_payload(&format!("e30.{not_json}.sig")),
            Err(UpstreamError::InvalidIdToken(_))
        ));
    }

    #[test]
    fn userinfo_adds_claims_but_not_the_tokens_own() {
        let mut claims = serde_json::json!({"sub": "u1", "iss": "https://op", "aud": "rp", "nonce": "n"});
        let info = serde_json::json!({"sub": "u1", "email": "a@example.com", "iss": "https://evil", "aud": "x", "exp": 1, "iat": 1, "nonce": "m"});
        merge_userinfo(&mut claims, info).unwrap();
        assert_eq!(
            claims,
            serde_json::json!({"sub": "u1", "iss": "https://op", "aud": "rp", "nonce": "n", "email": "a@example.com"})
        );
        let other = serde_json::json!({"sub": "u2", "email": "b@example.com"});
        assert!(matches!(
            merge_userinfo(&mut claims, other),
            Err(UpstreamError::Userinfo(_))
        ));
        assert_eq!(claims["email"], "a@example.com");
        let no_sub = serde_json::json!({"email": "b@example.com"});
        assert!(merge_userinfo(&mut claims, no_sub).is_err());
    }
}
