//! Which upstream providers may serve a client, and which one a request points at.
use crate::flow::request::AuthorizeRequest;
use crate::store::clients::Client;
use crate::upstream::Registry;

/// Why a provider may not be used for this sign-in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProviderRefusal {
    /// The client does not accept sign-in with this provider.
    NotAllowedForClient,
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

/// The method references a brokered sign-in carries: `base` (`fed`, …), plus, when the
/// provider's second factors are trusted (`mfa = "trust_upstream"`), the upstream's own
/// second-factor `amr` values (RFC 8176: `mfa`, `otp`, `hwk`, `swk`) and with them `mfa`; a
/// SAML `AuthnContextClassRef` the provider lists in `mfa_contexts` adds `mfa` alone (it names
/// no RFC 8176 method). Under any other policy the upstream's claims add nothing.
pub fn brokered_amr(
    base: &[&str],
    policy: crate::config::UpstreamMfa,
    mfa_contexts: &[String],
    raw_claims: &serde_json::Value,
) -> Vec<String> {
    use crate::flow::acr::{AMR_MFA, UPSTREAM_SECOND_FACTORS};
    let mut amr: Vec<String> = base.iter().map(|s| s.to_string()).collect();
    if policy != crate::config::UpstreamMfa::TrustUpstream {
        return amr;
    }
    fn strings<'a>(claims: &'a serde_json::Value, key: &str) -> Vec<&'a str> {
        claims
            .get(key)
            .and_then(|a| a.as_array())
            .map(|a| a.iter().filter_map(|v| v.as_str()).collect())
            .unwrap_or_default()
    }
    let upstream = strings(raw_claims, "amr");
    let mut factors: Vec<&str> = UPSTREAM_SECOND_FACTORS
        .iter()
        .copied()
        .filter(|f| upstream.contains(f))
        .collect();
    let contexts = strings(raw_claims, crate::upstream::AUTHN_CONTEXTS_CLAIM);
    if contexts.iter().any(|c| mfa_contexts.iter().any(|m| m == c)) {
        factors.push(AMR_MFA);
    }
    if factors.is_empty() {
        return amr;
    }
    for f in factors.into_iter().chain([AMR_MFA]) {
        if !amr.iter().any(|a| a == f) {
            amr.push(f.to_owned());
        }
    }
    amr
}

#[cfg(test)]
mod mfa_tests {
    use super::*;
    use crate::config::UpstreamMfa;
    use serde_json::json;

    #[test]
    fn only_a_trusted_upstream_second_factor_counts() {
        let with_otp = json!({"sub": "x", "amr": ["pwd", "otp"]});
        let pwd_only = json!({"sub": "x", "amr": ["pwd"]});
        assert_eq!(
            brokered_amr(&["fed"], UpstreamMfa::TrustUpstream, &[], &with_otp),
            ["fed", "otp", "mfa"]
        );
        assert_eq!(
            brokered_amr(&["fed"], UpstreamMfa::TrustUpstream, &[], &pwd_only),
            ["fed"]
        );
        assert_eq!(
            brokered_amr(&["fed"], UpstreamMfa::TrustUpstream, &[], &json!({})),
            ["fed"]
        );
        assert_eq!(brokered_amr(&["fed"], UpstreamMfa::None, &[], &with_otp), ["fed"]);
        assert_eq!(
            brokered_amr(&["fed"], UpstreamMfa::AlwaysLocal, &[], &with_otp),
            ["fed"]
        );
        assert_eq!(
            brokered_amr(
                &["fed"],
                UpstreamMfa::TrustUpstream,
                &[],
                &json!({"amr": ["hwk", "mfa"]})
            ),
            ["fed", "mfa", "hwk"]
        );
    }

    #[test]
    fn a_listed_saml_authn_context_counts_as_mfa_under_trust_upstream_only() {
        let refeds = vec!["https://refeds.org/profile/mfa".to_string()];
        let mfa_ctx = json!({"authn_context_class_refs": ["https://refeds.org/profile/mfa"]});
        let pwd_ctx = json!({"authn_context_class_refs": ["urn:oasis:names:tc:SAML:2.0:ac:classes:Password"]});
        assert_eq!(
            brokered_amr(&["fed"], UpstreamMfa::TrustUpstream, &refeds, &mfa_ctx),
            ["fed", "mfa"]
        );
        assert_eq!(
            brokered_amr(&["fed"], UpstreamMfa::TrustUpstream, &refeds, &pwd_ctx),
            ["fed"]
        );
        assert_eq!(
            brokered_amr(&["fed"], UpstreamMfa::TrustUpstream, &[], &mfa_ctx),
            ["fed"],
            "unlisted"
        );
        assert_eq!(brokered_amr(&["fed"], UpstreamMfa::None, &refeds, &mfa_ctx), ["fed"]);
        assert_eq!(
            brokered_amr(&["fed"], UpstreamMfa::AlwaysLocal, &refeds, &mfa_ctx),
            ["fed"]
        );
    }
}
