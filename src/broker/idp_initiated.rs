//! IdP-initiated sign-in (SAML unsolicited responses): nobody started it here, so it lands on
//! one client and redirect URI the operator configured for the provider, checked here.
use sea_orm::ConnectionTrait;

use crate::config::ProviderConfig;
use crate::flow::interaction::{self, InteractionError};
use crate::flow::request::AuthorizeRequest;
use crate::store::clients::ClientRegistry;
use crate::upstream::{ExternalIdentity, Finished};

/// Why an unsolicited answer has nowhere to land (an operator's mistake, logged).
#[derive(Debug, thiserror::Error)]
pub enum LandingError {
    #[error("IdP-initiated sign-in is not enabled")]
    NotEnabled,
    #[error("the landing client does not exist")]
    UnknownClient,
    #[error("the landing redirect_uri is not registered for the client")]
    UnregisteredRedirectUri,
    #[error("the landing client requires PKCE (no challenge exists here)")]
    RequiresPkce,
    #[error("the landing client does not accept this provider")]
    ProviderNotAllowed,
    #[error(transparent)]
    Interaction(#[from] InteractionError),
    #[error("database: {0}")]
    Db(#[from] sea_orm::DbErr),
}

/// The authorization request an unsolicited login from `provider` stands for.
pub async fn landing_request(
    clients: &ClientRegistry,
    provider: &ProviderConfig,
) -> Result<AuthorizeRequest, LandingError> {
    let target = provider
        .saml
        .as_ref()
        .and_then(|s| s.idp_initiated.clone())
        .ok_or(LandingError::NotEnabled)?;
    let client = clients
        .get(&target.client_id)
        .await?
        .ok_or(LandingError::UnknownClient)?;
    if !client.redirect_uris.contains(&target.redirect_uri) {
        return Err(LandingError::UnregisteredRedirectUri);
    }
    if client.require_pkce || client.public {
        return Err(LandingError::RequiresPkce);
    }
    if !client.allows_provider(&provider.id) {
        return Err(LandingError::ProviderNotAllowed);
    }
    Ok(AuthorizeRequest {
        client_id: client.id.clone(),
        redirect_uri: target.redirect_uri.clone(),
        scopes: target.scope.split_whitespace().map(str::to_owned).collect(),
        state: None,
        nonce: None,
        code_challenge: None,
        prompt: Default::default(),
        max_age: None,
        login_hint: None,
        idp_hint: None,
        acr_values: Vec::new(),
        ui_locales: None,
    })
}

/// An interaction for the provider's landing client, with `identity` as its result.
pub async fn land(
    db: &impl ConnectionTrait,
    clients: &ClientRegistry,
    provider: &ProviderConfig,
    identity: ExternalIdentity,
    interaction_lifetime: u64,
) -> Result<Finished, LandingError> {
    let request = landing_request(clients, provider).await?;
    let ix = interaction::start(db, &request, interaction_lifetime).await?;
    Ok(Finished {
        interaction_id: ix.id,
        browser_hash: None,
        result: Ok(identity),
    })
}
