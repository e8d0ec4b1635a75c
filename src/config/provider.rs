//! One upstream identity provider (`[[providers]]`), after its preset was merged in.
use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use url::Url;

use crate::broker::{LinkingPolicy, SyncMode};
use crate::upstream::mapping::ClaimMapping;

/// The protocol an upstream provider speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProviderKind {
    /// OpenID Connect (discovery, code flow with PKCE, ID token).
    #[default]
    Oidc,
    /// Plain OAuth 2.0 (explicit endpoints, code flow, profile from API calls; no ID token).
    Oauth2,
    /// SAML 2.0 Web Browser SSO: Gatehouse is the service provider (settings in `saml`).
    Saml,
}

/// How the AuthnRequest travels to a SAML IdP.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SamlBinding {
    /// HTTP-Redirect: deflated in the query (signed with SigAlg/Signature when signing).
    #[default]
    Redirect,
    /// HTTP-POST: an auto-submitted form (the request signed inside when signing).
    Post,
}

/// A SAML 2.0 identity provider's settings (`[providers.saml]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SamlSettings {
    /// The IdP's metadata, fetched and cached (refreshed every `metadata_refresh` seconds, and
    /// at once when a response's signature does not verify: rotated certificates need no restart).
    pub idp_metadata_url: Option<Url>,
    /// Or the IdP's metadata from a file (re-read on the same schedule).
    pub idp_metadata_file: Option<PathBuf>,
    #[serde(default = "default_metadata_refresh")]
    pub metadata_refresh: u64,
    /// The SP entity id Gatehouse uses with this IdP; default `<issuer>/broker/saml/<id>/metadata`.
    pub sp_entity_id: Option<String>,
    /// PEM files of the SP's signing/decryption key and certificate; when unset a key pair is
    /// generated at first use and kept in the database.
    pub sp_key_file: Option<PathBuf>,
    pub sp_cert_file: Option<PathBuf>,
    #[serde(default)]
    pub binding: SamlBinding,
    /// Sign AuthnRequests; unset = when the IdP's metadata says `WantAuthnRequestsSigned`.
    pub sign_requests: Option<bool>,
    /// NameIDPolicy Format to ask for; unset = the IdP's choice.
    pub name_id_format: Option<String>,
    /// Attribute (Name or FriendlyName) holding the stable subject, instead of the NameID
    /// (needed when the IdP sends transient NameIDs).
    pub subject_attribute: Option<String>,
    /// Seconds of clock difference tolerated on NotBefore / NotOnOrAfter.
    #[serde(default = "default_clock_skew")]
    pub clock_skew: u64,
    /// IdP-initiated SSO (unsolicited responses): refused unless this names where people land.
    pub idp_initiated: Option<IdpInitiated>,
}

/// Where an IdP-initiated sign-in lands: an authorization response to this client.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IdpInitiated {
    /// The client that receives the code; it must not require PKCE (nobody made a challenge).
    pub client_id: String,
    /// One of the client's registered redirect URIs.
    pub redirect_uri: String,
    /// Scopes granted, space-separated.
    #[serde(default = "default_idp_initiated_scope")]
    pub scope: String,
}

fn default_idp_initiated_scope() -> String {
    "openid".into()
}

impl Default for SamlSettings {
    fn default() -> Self {
        Self {
            idp_metadata_url: None,
            idp_metadata_file: None,
            metadata_refresh: default_metadata_refresh(),
            sp_entity_id: None,
            sp_key_file: None,
            sp_cert_file: None,
            binding: SamlBinding::Redirect,
            sign_requests: None,
            name_id_format: None,
            subject_attribute: None,
            clock_skew: default_clock_skew(),
            idp_initiated: None,
        }
    }
}

fn default_metadata_refresh() -> u64 {
    3600
}

fn default_clock_skew() -> u64 {
    60
}

/// How Gatehouse authenticates to the upstream token endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UpstreamAuthMethod {
    #[default]
    ClientSecretBasic,
    ClientSecretPost,
}

/// How the provider returns the authorization response.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResponseMode {
    /// In the query of a GET to the callback.
    #[default]
    Query,
    /// In a form POSTed to the callback (OAuth 2.0 Form Post Response Mode).
    FormPost,
}

/// An extra profile call after the token exchange (GitHub's `/user/emails`, say).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProfileRequest {
    /// Fetched with `GET` and the access token as a bearer token.
    pub url: Url,
    /// Top-level claim name the result is stored under (mapped with `/<claim>/…` pointers).
    pub claim: String,
    /// JSON pointer to an array inside the answer to search ("" = the answer itself).
    #[serde(default)]
    pub array: String,
    /// Keep the first array element whose members equal all of these; without it the whole
    /// answer (or array) is stored.
    #[serde(default, rename = "match")]
    pub matching: Option<serde_json::Map<String, serde_json::Value>>,
}

/// A client secret that is a JWT signed with the developer's ES256 key (Sign in with Apple).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignedClientSecret {
    /// `iss` of the JWT: Apple's Team ID.
    pub team_id: String,
    /// `kid` of the JWT header: the key's id at the provider.
    pub key_id: String,
    /// PEM file with the PKCS#8 P-256 private key (Apple's `AuthKey_<kid>.p8`).
    pub private_key_file: PathBuf,
    /// `aud` of the JWT; the issuer when unset.
    pub audience: Option<String>,
    /// Seconds each generated secret is valid (Apple allows at most six months).
    #[serde(default = "default_secret_lifetime")]
    pub lifetime: u64,
}

fn default_secret_lifetime() -> u64 {
    300
}

/// An upstream identity provider (`[[providers]]`), with its preset merged in.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProviderConfig {
    /// The preset file this provider was built from (`providers/<preset>.toml`).
    pub preset: Option<String>,
    /// Stable id: appears in URLs (`/broker/callback/<id>`), the `idp` claim and `idp_hint`.
    pub id: String,
    /// Button label: "Sign in with <name>".
    pub name: String,
    #[serde(default)]
    pub kind: ProviderKind,
    /// SVG markup shown on the login button, next to the label.
    pub icon: Option<String>,
    /// OIDC issuer; its discovery document is fetched from `<issuer>/.well-known/openid-configuration`.
    pub issuer: Option<Url>,
    /// OAuth 2.0 endpoints (kind `oauth2`).
    pub authorization_endpoint: Option<Url>,
    pub token_endpoint: Option<Url>,
    /// Where the profile is fetched with the access token (kind `oauth2`).
    pub userinfo_endpoint: Option<Url>,
    /// Further profile calls whose answers are merged into the claims.
    #[serde(default)]
    pub profile_requests: Vec<ProfileRequest>,
    #[serde(default)]
    pub client_id: String,
    pub client_secret: Option<String>,
    /// Name of an environment variable holding the client secret.
    pub client_secret_env: Option<String>,
    /// A client secret generated as a signed JWT (Apple) instead of a fixed one.
    pub signed_client_secret: Option<SignedClientSecret>,
    #[serde(default = "default_scopes")]
    pub scopes: Vec<String>,
    #[serde(default)]
    pub auth_method: UpstreamAuthMethod,
    /// Send a PKCE S256 challenge (off only for providers that reject it).
    #[serde(default = "yes")]
    pub pkce: bool,
    #[serde(default)]
    pub response_mode: ResponseMode,
    /// Also call the upstream userinfo endpoint and merge its claims (kind `oidc`).
    #[serde(default)]
    pub fetch_userinfo: bool,
    /// Read the display name from the `user` JSON the provider posts with the first login's
    /// callback (Apple). That JSON is unsigned, so only the name is taken from it.
    #[serde(default)]
    pub name_from_user_param: bool,
    /// Multi-tenant issuers (Entra ID `common`): the claim whose value replaces `{tenantid}` in
    /// the discovery document's issuer to give the `iss` each ID token must carry.
    pub tenant_claim: Option<String>,
    /// With `tenant_claim`: only these tenants may sign in (empty = any tenant).
    #[serde(default)]
    pub allowed_tenants: Vec<String>,
    /// SAML settings (kind `saml`).
    pub saml: Option<SamlSettings>,
    /// Whether this provider's `email_verified` is believed (needed to link by email). For SAML
    /// it means the IdP's email attribute is authoritative (SAML has no `email_verified`).
    #[serde(default)]
    pub trust_email: bool,
    #[serde(default)]
    pub linking: LinkingPolicy,
    #[serde(default)]
    pub sync: SyncMode,
    /// Home-realm discovery: people whose email is in these domains are sent here.
    #[serde(default)]
    pub email_domains: Vec<String>,
    #[serde(default)]
    pub claims: ClaimMapping,
    /// No button on the login page; still reachable by `idp_hint` and home-realm discovery.
    #[serde(default)]
    pub hide_on_login: bool,
    /// At logout, also end the session at this provider (when it has an end_session_endpoint).
    /// Register `<issuer>/logout/upstream/<id>` there as a post-logout redirect URI.
    #[serde(default = "yes")]
    pub upstream_logout: bool,
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Second factors after a login through this provider.
    #[serde(default)]
    pub mfa: UpstreamMfa,
    /// SAML `AuthnContextClassRef` values that mean the IdP used a second factor (e.g.
    /// `https://refeds.org/profile/mfa`); they count under `mfa = "trust_upstream"`.
    #[serde(default)]
    pub mfa_authn_contexts: Vec<String>,
}

/// What a login through an upstream provider counts for, second-factor-wise.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UpstreamMfa {
    /// The upstream's own second factor counts: an `amr` with `mfa`, `otp`, `hwk` or `swk`
    /// (or, from a SAML IdP, an `AuthnContextClassRef` listed in `mfa_authn_contexts`) satisfies a client or request that requires one (a local factor is asked otherwise).
    TrustUpstream,
    /// A local factor is asked after every login through this provider.
    AlwaysLocal,
    /// The upstream login is one factor; a local one is asked only when the client or the
    /// request requires a second factor.
    #[default]
    None,
}

fn default_scopes() -> Vec<String> {
    vec!["openid".into(), "profile".into(), "email".into()]
}

fn yes() -> bool {
    true
}

impl Default for ProviderConfig {
    fn default() -> Self {
        Self {
            preset: None,
            id: String::new(),
            name: String::new(),
            kind: ProviderKind::Oidc,
            icon: None,
            issuer: None,
            authorization_endpoint: None,
            token_endpoint: None,
            userinfo_endpoint: None,
            profile_requests: Vec::new(),
            client_id: String::new(),
            client_secret: None,
            client_secret_env: None,
            signed_client_secret: None,
            scopes: default_scopes(),
            auth_method: UpstreamAuthMethod::ClientSecretBasic,
            pkce: true,
            response_mode: ResponseMode::Query,
            fetch_userinfo: false,
            name_from_user_param: false,
            tenant_claim: None,
            allowed_tenants: Vec::new(),
            saml: None,
            trust_email: false,
            linking: LinkingPolicy::Create,
            sync: SyncMode::Import,
            email_domains: Vec::new(),
            claims: ClaimMapping::default(),
            hide_on_login: false,
            upstream_logout: true,
            enabled: true,
            mfa: UpstreamMfa::None,
            mfa_authn_contexts: Vec::new(),
        }
    }
}

impl ProviderConfig {
    /// Checks the rules serde cannot express; the message names the provider and the field.
    pub fn validate(&self) -> Result<(), String> {
        self.check_id()?;
        let id = &self.id;
        if self.name.trim().is_empty() {
            return Err(format!("provider {id}: `name` is empty"));
        }
        if self.kind == ProviderKind::Saml {
            return self.validate_saml();
        }
        if self.saml.is_some() {
            return Err(format!("provider {id}: [providers.saml] is for kind saml"));
        }
        if !self.mfa_authn_contexts.is_empty() {
            return Err(format!(
                "provider {id}: `mfa_authn_contexts` is for kind saml (OIDC providers send `amr`)"
            ));
        }
        self.check_client_credentials()?;
        match self.kind {
            ProviderKind::Oidc => self.check_oidc()?,
            ProviderKind::Saml => unreachable!("checked above"),
            ProviderKind::Oauth2 => self.check_oauth2()?,
        }
        if !self.allowed_tenants.is_empty() && self.tenant_claim.is_none() {
            return Err(format!("provider {id}: `allowed_tenants` needs `tenant_claim`"));
        }
        self.check_profile_requests()?;
        self.check_claims()
    }

    /// The id appears in URLs: letters, digits, `-` and `_` only.
    fn check_id(&self) -> Result<(), String> {
        let id = &self.id;
        if id.is_empty() || !id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
            return Err(format!("provider id {id:?}: use letters, digits, - and _"));
        }
        Ok(())
    }

    /// An OAuth 2.0 client needs its id and some kind of secret.
    fn check_client_credentials(&self) -> Result<(), String> {
        let id = &self.id;
        if self.client_id.is_empty() {
            return Err(format!("provider {id}: `client_id` is not set"));
        }
        let secrets = [
            self.client_secret.is_some(),
            self.client_secret_env.is_some(),
            self.signed_client_secret.is_some(),
        ];
        if !secrets.contains(&true) {
            return Err(format!(
                "provider {id}: set client_secret, client_secret_env or signed_client_secret"
            ));
        }
        Ok(())
    }

    /// Kind oidc: discovery needs the issuer, and an ID token needs the openid scope.
    fn check_oidc(&self) -> Result<(), String> {
        let id = &self.id;
        if self.issuer.is_none() {
            return Err(format!("provider {id}: kind oidc needs `issuer`"));
        }
        if !self.scopes.iter().any(|s| s == "openid") {
            return Err(format!("provider {id}: `scopes` must include openid"));
        }
        Ok(())
    }

    /// Kind oauth2: every endpoint explicit (no discovery), and no ID-token-only settings.
    fn check_oauth2(&self) -> Result<(), String> {
        let id = &self.id;
        for (field, v) in [
            ("authorization_endpoint", &self.authorization_endpoint),
            ("token_endpoint", &self.token_endpoint),
            ("userinfo_endpoint", &self.userinfo_endpoint),
        ] {
            if v.is_none() {
                return Err(format!("provider {id}: kind oauth2 needs `{field}`"));
            }
        }
        if self.tenant_claim.is_some() || self.fetch_userinfo || self.name_from_user_param {
            return Err(format!(
                "provider {id}: tenant_claim, fetch_userinfo and name_from_user_param are for kind oidc"
            ));
        }
        Ok(())
    }

    /// Each profile request is stored under a plain claim name, searched at a JSON pointer.
    fn check_profile_requests(&self) -> Result<(), String> {
        let id = &self.id;
        for (i, r) in self.profile_requests.iter().enumerate() {
            if r.claim.is_empty() || r.claim.contains('/') {
                return Err(format!(
                    "provider {id}: profile_requests[{i}].claim must be a plain claim name"
                ));
            }
            if !r.array.is_empty() && !r.array.starts_with('/') {
                return Err(format!(
                    "provider {id}: profile_requests[{i}].array must be a JSON pointer (\"\" or /…)"
                ));
            }
        }
        Ok(())
    }

    /// The claim mapping's pointers must be JSON pointers.
    fn check_claims(&self) -> Result<(), String> {
        self.claims.validate().map_err(|field| {
            format!(
                "provider {}: claims.{field} must be a JSON pointer (\"\" or /…)",
                self.id
            )
        })
    }

    fn validate_saml(&self) -> Result<(), String> {
        let id = &self.id;
        let Some(saml) = &self.saml else {
            return Err(format!("provider {id}: kind saml needs a [providers.saml] table"));
        };
        match (&saml.idp_metadata_url, &saml.idp_metadata_file) {
            (Some(_), None) | (None, Some(_)) => {}
            _ => {
                return Err(format!(
                    "provider {id}: set exactly one of saml.idp_metadata_url and saml.idp_metadata_file"
                ))
            }
        }
        if saml.sp_key_file.is_some() != saml.sp_cert_file.is_some() {
            return Err(format!(
                "provider {id}: saml.sp_key_file and saml.sp_cert_file go together"
            ));
        }
        if self.issuer.is_some() || self.authorization_endpoint.is_some() || self.token_endpoint.is_some() {
            return Err(format!(
                "provider {id}: kind saml takes its endpoints from the IdP metadata"
            ));
        }
        self.check_claims()
    }

    /// The issuer as configured, without a trailing slash ("" when none).
    pub fn issuer_str(&self) -> &str {
        self.issuer.as_ref().map_or("", |u| u.as_str().trim_end_matches('/'))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn oidc() -> ProviderConfig {
        ProviderConfig {
            id: "corp".into(),
            name: "Corp".into(),
            issuer: Some("https://idp.example".parse().unwrap()),
            client_id: "gatehouse".into(),
            client_secret: Some("s".into()),
            ..Default::default()
        }
    }

    fn oauth2() -> ProviderConfig {
        let url = |path: &str| Some(Url::parse("https://api.example").unwrap().join(path).unwrap());
        ProviderConfig {
            kind: ProviderKind::Oauth2,
            issuer: None,
            authorization_endpoint: url("/authorize"),
            token_endpoint: url("/token"),
            userinfo_endpoint: url("/user"),
            ..oidc()
        }
    }

    fn refused(p: ProviderConfig) -> String {
        p.validate().unwrap_err()
    }

    #[test]
    fn complete_oidc_and_oauth2_providers_pass() {
        assert_eq!(oidc().validate(), Ok(()));
        assert_eq!(oauth2().validate(), Ok(()));
    }

    #[test]
    fn each_rule_names_the_provider_and_the_field() {
        let p = |f: fn(&mut ProviderConfig)| {
            let mut p = oidc();
            f(&mut p);
            refused(p)
        };
        assert_eq!(
            p(|p| p.id = "a b".into()),
            r#"provider id "a b": use letters, digits, - and _"#
        );
        assert_eq!(p(|p| p.name = " ".into()), "provider corp: `name` is empty");
        assert_eq!(
            p(|p| p.saml = Some(SamlSettings::default())),
            "provider corp: [providers.saml] is for kind saml"
        );
        assert_eq!(p(|p| p.client_id.clear()), "provider corp: `client_id` is not set");
        assert_eq!(
            p(|p| p.client_secret = None),
            "provider corp: set client_secret, client_secret_env or signed_client_secret"
        );
        assert_eq!(p(|p| p.issuer = None), "provider corp: kind oidc needs `issuer`");
        assert_eq!(
            p(|p| p.scopes = vec!["email".into()]),
            "provider corp: `scopes` must include openid"
        );
        assert_eq!(
            p(|p| p.allowed_tenants = vec!["t".into()]),
            "provider corp: `allowed_tenants` needs `tenant_claim`"
        );
    }

    #[test]
    fn claim_mappings_must_be_json_pointers_for_every_kind() {
        let bad = ClaimMapping {
            email: "email".into(),
            ..Default::default()
        };
        let message = r#"provider corp: claims.email must be a JSON pointer ("" or /…)"#;
        assert_eq!(
            refused(ProviderConfig {
                claims: bad.clone(),
                ..oidc()
            }),
            message
        );
        let saml = SamlSettings {
            idp_metadata_file: Some("idp.xml".into()),
            ..Default::default()
        };
        let saml = ProviderConfig {
            kind: ProviderKind::Saml,
            issuer: None,
            saml: Some(saml),
            ..oidc()
        };
        assert_eq!(saml.validate(), Ok(()));
        assert_eq!(refused(ProviderConfig { claims: bad, ..saml }), message);
    }

    #[test]
    fn oauth2_needs_every_endpoint_and_no_oidc_settings() {
        let mut p = oauth2();
        p.token_endpoint = None;
        assert_eq!(refused(p), "provider corp: kind oauth2 needs `token_endpoint`");
        let mut p = oauth2();
        p.fetch_userinfo = true;
        assert_eq!(
            refused(p),
            "provider corp: tenant_claim, fetch_userinfo and name_from_user_param are for kind oidc"
        );
    }

    #[test]
    fn profile_requests_name_a_plain_claim_and_a_json_pointer() {
        let request = |claim: &str, array: &str| ProfileRequest {
            url: "https://api.example/emails".parse().unwrap(),
            claim: claim.into(),
            array: array.into(),
            matching: None,
        };
        let mut p = oauth2();
        p.profile_requests = vec![request("emails", "/items"), request("a/b", "")];
        assert_eq!(
            refused(p),
            "provider corp: profile_requests[1].claim must be a plain claim name"
        );
        let mut p = oauth2();
        p.profile_requests = vec![request("emails", "items")];
        assert_eq!(
            refused(p),
            r#"provider corp: profile_requests[0].array must be a JSON pointer ("" or /…)"#
        );
    }
}
