//! Upstream OpenID Connect providers (Entra ID, Okta, Keycloak, …) through the `openidconnect` crate.
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use openidconnect::core::{CoreAuthenticationFlow, CoreClient, CoreJwsSigningAlgorithm, CoreProviderMetadata};
use openidconnect::{
    AuthType, AuthorizationCode, ClaimsVerificationError, ClientId, ClientSecret, CsrfToken, IssuerUrl, Nonce,
    OAuth2TokenResponse, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope, TokenResponse,
};
use sea_orm::DatabaseConnection;
use serde_json::Value;

use super::{Callback, Finished, Upstream, UpstreamError};
use crate::config::{ProviderConfig, UpstreamAuthMethod};
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

/// One upstream OIDC provider.
pub struct OidcUpstream {
    config: ProviderConfig,
    secret: String,
    redirect_uri: String,
    db: DatabaseConnection,
    http: reqwest::Client,
    /// Discovery document + JWKS, refreshed hourly or on an unknown signing key.
    metadata: moka::future::Cache<(), Arc<CoreProviderMetadata>>,
    /// `end_session_endpoint` (RP-Initiated Logout), not part of the core metadata type.
    end_session: moka::future::Cache<(), Option<String>>,
}

impl OidcUpstream {
    /// A connector; nothing is fetched until the first login.
    pub fn new(
        config: ProviderConfig,
        secret: String,
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
            end_session: moka::future::Cache::builder()
                .max_capacity(1)
                .time_to_live(Duration::from_secs(3600))
                .build(),
        }
    }

    async fn metadata(&self) -> Result<Arc<CoreProviderMetadata>, UpstreamError> {
        let issuer = self.config.issuer.as_str().trim_end_matches('/').to_owned();
        let http = self.http.clone();
        self.metadata
            .try_get_with((), async move {
                let issuer = IssuerUrl::new(issuer).map_err(|e| e.to_string())?;
                CoreProviderMetadata::discover_async(issuer, &http)
                    .await
                    .map(Arc::new)
                    .map_err(|e| {
                        let mut msg = e.to_string();
                        let mut src = std::error::Error::source(&e);
                        while let Some(s) = src {
                            msg.push_str(": ");
                            msg.push_str(&s.to_string());
                            src = s.source();
                        }
                        msg
                    })
            })
            .await
            .map_err(|e: Arc<String>| UpstreamError::Unavailable(e.to_string()))
    }

    fn client(
        &self,
        metadata: &CoreProviderMetadata,
    ) -> Result<
        CoreClient<
            openidconnect::EndpointSet,
            openidconnect::EndpointNotSet,
            openidconnect::EndpointNotSet,
            openidconnect::EndpointNotSet,
            openidconnect::EndpointMaybeSet,
            openidconnect::EndpointMaybeSet,
        >,
        UpstreamError,
    > {
        let redirect =
            RedirectUrl::new(self.redirect_uri.clone()).map_err(|e| UpstreamError::Unavailable(e.to_string()))?;
        Ok(CoreClient::from_provider_metadata(
            metadata.clone(),
            ClientId::new(self.config.client_id.clone()),
            Some(ClientSecret::new(self.secret.clone())),
        )
        .set_redirect_uri(redirect)
        .set_auth_type(match self.config.auth_method {
            UpstreamAuthMethod::ClientSecretBasic => AuthType::BasicAuth,
            UpstreamAuthMethod::ClientSecretPost => AuthType::RequestBody,
        }))
    }

    /// The provider's end_session_endpoint, if it has one.
    async fn end_session_endpoint(&self) -> Option<String> {
        let url = format!(
            "{}/.well-known/openid-configuration",
            self.config.issuer.as_str().trim_end_matches('/')
        );
        let http = self.http.clone();
        self.end_session
            .try_get_with((), async move {
                let doc: Value = http.get(url).send().await?.error_for_status()?.json().await?;
                Ok::<_, reqwest::Error>(doc["end_session_endpoint"].as_str().map(str::to_owned))
            })
            .await
            .ok()
            .flatten()
    }

    /// Code → tokens → verified claims (ID token, merged with userinfo when configured) and
    /// the raw ID token (the hint for a later upstream logout).
    async fn exchange(&self, code: &str, nonce: &str, verifier: &str) -> Result<(Value, String), UpstreamError> {
        let metadata = self.metadata().await?;
        let client = self.client(&metadata)?;
        let token = client
            .exchange_code(AuthorizationCode::new(code.to_owned()))
            .map_err(|e| UpstreamError::Unavailable(e.to_string()))?
            .set_pkce_verifier(PkceCodeVerifier::new(verifier.to_owned()))
            .request_async(&self.http)
            .await
            .map_err(|e| UpstreamError::TokenExchange(e.to_string()))?;
        let id_token = token
            .id_token()
            .ok_or_else(|| UpstreamError::InvalidIdToken("no id_token in the token response".into()))?;
        let nonce = Nonce::new(nonce.to_owned());
        let verified = {
            let v = client.id_token_verifier().set_allowed_algs(ALLOWED_ALGS);
            match id_token.claims(&v, &nonce) {
                Ok(_) => Ok(()),
                Err(ClaimsVerificationError::SignatureVerification(_)) => Err(true),
                Err(e) => return Err(UpstreamError::InvalidIdToken(e.to_string())),
            }
        };
        if verified == Err(true) {
            // Keys may have rotated upstream: refetch the JWKS once, then decide.
            self.metadata.invalidate(&()).await;
            let fresh = self.metadata().await?;
            let client = self.client(&fresh)?;
            let v = client.id_token_verifier().set_allowed_algs(ALLOWED_ALGS);
            id_token
                .claims(&v, &nonce)
                .map_err(|e| UpstreamError::InvalidIdToken(e.to_string()))?;
        }
        // The signature is verified: the payload can be read as raw JSON for the claim mapping.
        let raw = id_token.to_string();
        let payload = raw
            .split('.')
            .nth(1)
            .ok_or_else(|| UpstreamError::InvalidIdToken("malformed".into()))?;
        let mut claims: Value = URL_SAFE_NO_PAD
            .decode(payload)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .ok_or_else(|| UpstreamError::InvalidIdToken("payload is not JSON".into()))?;

        if self.config.fetch_userinfo {
            let endpoint = metadata
                .userinfo_endpoint()
                .ok_or_else(|| UpstreamError::Userinfo("the provider has no userinfo endpoint".into()))?;
            let info: Value = self
                .http
                .get(endpoint.url().as_str())
                .bearer_auth(token.access_token().secret())
                .send()
                .await
                .and_then(|r| r.error_for_status())
                .map_err(|e| UpstreamError::Userinfo(e.to_string()))?
                .json()
                .await
                .map_err(|e| UpstreamError::Userinfo(e.to_string()))?;
            // OIDC Core §5.3.2: a userinfo `sub` that differs from the ID token's must be ignored.
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
        }
        Ok((claims, raw))
    }
}

#[async_trait]
impl Upstream for OidcUpstream {
    fn config(&self) -> &ProviderConfig {
        &self.config
    }

    async fn begin(&self, interaction_id: &str, login_hint: Option<&str>) -> Result<String, UpstreamError> {
        let metadata = self.metadata().await?;
        let client = self.client(&metadata)?;
        let state = random_token();
        let nonce = random_token();
        let verifier = PkceCodeVerifier::new(random_token() + &random_token());
        let challenge = PkceCodeChallenge::from_code_verifier_sha256(&verifier);
        let (s, n) = (state.clone(), nonce.clone());
        let mut req = client
            .authorize_url(
                CoreAuthenticationFlow::AuthorizationCode,
                move || CsrfToken::new(s),
                move || Nonce::new(n),
            )
            .set_pkce_challenge(challenge);
        for scope in self.config.scopes.iter().filter(|s| *s != "openid") {
            req = req.add_scope(Scope::new(scope.clone()));
        }
        if let Some(hint) = login_hint {
            req = req.add_extra_param("login_hint", hint.to_owned());
        }
        let (url, _, _) = req.url();
        upstream_states::create(
            &self.db,
            &state,
            &self.config.id,
            interaction_id,
            &nonce,
            verifier.secret(),
        )
        .await?;
        Ok(url.to_string())
    }

    async fn finish(&self, cb: &Callback) -> Result<Finished, UpstreamError> {
        let state = cb.get("state").ok_or(UpstreamError::UnknownState)?;
        let row = upstream_states::take(&self.db, state, &self.config.id)
            .await?
            .ok_or(UpstreamError::UnknownState)?;
        let result = async {
            if let Some(error) = cb.get("error") {
                return Err(UpstreamError::Denied {
                    error: error.clone(),
                    description: cb.get("error_description").cloned().unwrap_or_default(),
                });
            }
            // RFC 9207: when the provider names itself in the response, it must be this one.
            if let Some(iss) = cb.get("iss") {
                if iss.trim_end_matches('/') != self.config.issuer.as_str().trim_end_matches('/') {
                    return Err(UpstreamError::InvalidIdToken(format!(
                        "authorization response from issuer {iss}"
                    )));
                }
            }
            let code = cb.get("code").ok_or(UpstreamError::MissingClaim("code"))?;
            let (claims, id_token) = self.exchange(code, &row.nonce, &row.pkce_verifier).await?;
            let mut identity = self.config.claims.apply(&self.config.id, claims)?;
            identity.upstream_session = Some(id_token);
            Ok(identity)
        }
        .await;
        Ok(Finished {
            interaction_id: row.interaction_id,
            result,
        })
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
        Some(crate::web::with_query(&endpoint, &params))
    }
}
