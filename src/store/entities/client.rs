//! A registered relying party (client application).
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "clients")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub name: String,
    pub secret_hash: Option<String>,
    pub public: bool,
    /// JSON array of exact redirect URIs.
    pub redirect_uris: String,
    /// JSON array of exact post-logout redirect URIs.
    pub post_logout_redirect_uris: String,
    pub require_consent: bool,
    pub require_pkce: bool,
    pub id_token_signed_response_alg: String,
    pub created_at: i64,
    /// JSON array of provider ids this client's users may use; `None` = all.
    pub allowed_providers: Option<String>,
    /// `never`, `offline_access` (when that scope is granted) or `always`.
    pub refresh_tokens: String,
    pub refresh_sliding_secs: i64,
    pub refresh_absolute_secs: i64,
    /// `opaque` or `jwt` (RFC 9068).
    pub access_token_format: String,
    pub backchannel_logout_uri: Option<String>,
    /// Inline JWK Set for `private_key_jwt`.
    pub jwks: Option<String>,
    /// Where to fetch the JWK Set for `private_key_jwt`.
    pub jwks_uri: Option<String>,
    /// Authorization requests must be pushed first (RFC 9126).
    pub require_par: bool,
    /// OIDC Front-Channel Logout 1.0 page of the client (loaded in an iframe at logout).
    pub frontchannel_logout_uri: Option<String>,
    /// The client secret in the clear, kept only for clients that opted into `client_secret_jwt`
    /// (an HMAC key cannot be checked against a hash).
    pub secret_for_jwt: Option<String>,
    /// May introspect tokens issued to other clients (a resource server trusted by all).
    pub introspect_any: bool,
    /// Every sign-in for this client needs a second factor.
    pub require_mfa: bool,
    /// JSON array of the scopes the client may be granted for itself (client_credentials);
    /// `None` = that grant is refused.
    pub machine_scopes: Option<String>,
    /// Refused everywhere (an unknown client to the protocol) until enabled again.
    pub disabled: bool,
    /// Declared in the configuration file (read-only through the admin API and the CLI).
    pub declared: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
