//! A SAML IdP's second factor under `mfa = "trust_upstream"`: the real SimpleSAMLphp IdP states
//! the REFEDS MFA `AuthnContextClassRef` for mia (an authproc filter in its test config) and the
//! Password class for everybody else; only a class ref the provider lists counts.
use serde_json::json;

use super::harness::browser::Browser;
use super::harness::client_app::id_token_claims;
use super::harness::saml::*;
use super::harness::RP_REDIRECT;
use gatehouse::config::UpstreamMfa;
use gatehouse::flow::acr::{ACR_MFA, ACR_SINGLE};

const REFEDS_MFA: &str = "https://refeds.org/profile/mfa";

#[tokio::test]
async fn a_listed_authn_context_class_from_the_real_idp_is_the_second_factor() {
    let server = saml_server_with(None, |p, c| {
        p.mfa = UpstreamMfa::TrustUpstream;
        p.mfa_authn_contexts = vec![REFEDS_MFA.into()];
        c.clients[0].require_mfa = true;
    })
    .await;
    let end = saml_login(&Browser::new(), &server, "mia", "mia-password").await;
    assert!(end.url.starts_with(RP_REDIRECT), "no local factor asked: {}", end.url);
    let claims = id_token_claims(&server, &end.url).await;
    assert_eq!(claims["amr"], json!(["fed", "mfa"]));
    assert_eq!(claims["acr"], ACR_MFA);

    // The IdP's Password class is one factor: the client requiring two gets a local one first.
    let end = saml_login(&Browser::new(), &server, "ann", "ann-password").await;
    assert!(
        end.url.contains("/login/mfa/enrol?interaction="),
        "never the client: {}",
        end.url
    );
}

#[tokio::test]
async fn an_authn_context_class_the_provider_does_not_list_counts_for_nothing() {
    let server = saml_server_with(None, |p, _| {
        p.mfa = UpstreamMfa::TrustUpstream;
        p.mfa_authn_contexts = vec!["https://example.com/some-other-profile".into()];
    })
    .await;
    let end = saml_login(&Browser::new(), &server, "mia", "mia-password").await;
    assert!(end.url.starts_with(RP_REDIRECT), "{}", end.url);
    let claims = id_token_claims(&server, &end.url).await;
    assert_eq!(claims["amr"], json!(["fed"]));
    assert_eq!(claims["acr"], ACR_SINGLE);
}
