//! Which upstream providers may serve a client, and which one a request points at.
use crate::flow::request::AuthorizeRequest;
use crate::store::clients::Client;
use crate::upstream::Registry;

/// Why a provider may not be used for this sign-in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProviderRefusal {
    /// The client does not accept sign-in with this provider.
    NotAllowedForClient,
    /// The provider only serves people who already have an account (`link_only`).
    LinkOnly,
}

/// Checks `client` accepts sign-in with `provider_id`.
pub fn allowed(client: &Client, provider_id: &str) -> Result<(), ProviderRefusal> {
    match client.allows_provider(provider_id) {
        true => Ok(()),
        false => Err(ProviderRefusal::NotAllowedForClient),
    }
}

/// The provider the request names (`idp_hint`), or whose email domain its `login_hint` has
/// (home-realm discovery), if the client accepts it: the login page is skipped for it.
pub fn hinted_provider(upstreams: &Registry, req: &AuthorizeRequest, client: &Client) -> Option<String> {
    req.idp_hint
        .as_deref()
        .and_then(|h| upstreams.get(h))
        .or_else(|| req.login_hint.as_deref().and_then(|e| upstreams.for_email(e)))
        .map(|u| u.config().id.clone())
        .filter(|p| client.allows_provider(p))
}
