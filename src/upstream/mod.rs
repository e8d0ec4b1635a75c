//! Upstream identity providers behind one small trait: begin a login, finish it from the
//! callback, and hand the broker an [`ExternalIdentity`] — whatever the protocol.
pub mod mapping;
#[cfg(test)]
pub mod mock;
pub mod oauth;
pub mod oidc;
pub mod probe;
pub mod runtime;
pub mod saml;
pub mod secret;

/// The raw claim in which the SAML connector reports the assertion's `AuthnContextClassRef`s
/// (read by the broker under `mfa = "trust_upstream"`).
pub const AUTHN_CONTEXTS_CLAIM: &str = "authn_context_class_refs";

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde::{Deserialize, Serialize};

use crate::config::{Config, ProviderConfig, ProviderKind};

/// Who a person is at an upstream provider.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExternalIdentity {
    /// The provider's id in Gatehouse's config.
    pub provider: String,
    /// The provider's stable subject identifier.
    pub subject: String,
    pub email: Option<String>,
    pub email_verified: bool,
    pub name: Option<String>,
    pub username: Option<String>,
    /// URL of the person's picture at the provider.
    #[serde(default)]
    pub picture: Option<String>,
    pub groups: Vec<String>,
    /// Every claim received (ID token merged with userinfo).
    pub raw_claims: serde_json::Value,
    /// The protocol's handle for ending the upstream session later (OIDC: the ID token).
    #[serde(default)]
    pub upstream_session: Option<String>,
}

/// The IdP's answer at the callback: its query (or form) parameters.
pub type Callback = HashMap<String, String>;

/// Why an upstream login failed. The person sees a generic page; details go to the log.
#[derive(Debug, thiserror::Error)]
pub enum UpstreamError {
    #[error("the provider could not be reached or its metadata is invalid: {0}")]
    Unavailable(String),
    #[error("the provider answered {error}: {description}")]
    Denied { error: String, description: String },
    #[error("unknown, expired or already used state")]
    UnknownState,
    #[error("the login was started in another browser")]
    OtherBrowser,
    #[error("code exchange failed: {0}")]
    TokenExchange(String),
    #[error("ID token rejected: {0}")]
    InvalidIdToken(String),
    #[error("userinfo failed: {0}")]
    Userinfo(String),
    #[error("SAML response refused: {0}")]
    InvalidSaml(String),
    #[error("required claim missing: {0}")]
    MissingClaim(&'static str),
    #[error("database: {0}")]
    Db(#[from] sea_orm::DbErr),
}

/// Where an IdP's answer arrived, for the check that it continues in the browser that started
/// the login (otherwise whoever opens a victim's callback URL, or is sent to an attacker's,
/// is signed in as someone else: login CSRF, RFC 9700 §4.7).
#[derive(Debug, Clone, Copy)]
pub enum Arrival<'a> {
    /// A same-site request with the session: the hash of the browser secret it holds, if any.
    Browser(Option<&'a str>),
    /// A cross-site POST, which carries no cookie: checked when the result is handed to the
    /// browser's next, same-site request.
    CrossSite,
}

impl Arrival<'_> {
    /// Whether a login started by the browser with `expected` may continue here.
    pub fn admits(self, expected: Option<&str>) -> bool {
        match self {
            Arrival::CrossSite => true,
            Arrival::Browser(held) => same_browser(expected, held),
        }
    }
}

/// Whether the held browser-secret hash is the expected one (constant time; `None` never matches).
pub fn same_browser(expected: Option<&str>, held: Option<&str>) -> bool {
    use subtle::ConstantTimeEq;
    match (expected, held) {
        (Some(e), Some(h)) => e.as_bytes().ct_eq(h.as_bytes()).into(),
        _ => false,
    }
}

/// The started login that `state` (OIDC/OAuth 2.0 `state`, SAML `RelayState`) names, taken
/// once — but only in the browser that started it: elsewhere nothing is consumed, and the login
/// stays usable where it began.
async fn take_state(
    db: &sea_orm::DatabaseConnection,
    state: Option<&String>,
    provider_id: &str,
    arrival: Arrival<'_>,
) -> Result<crate::store::upstream_states::UpstreamStateRow, UpstreamError> {
    use crate::store::upstream_states;
    let state = state.ok_or(UpstreamError::UnknownState)?;
    let taken = match arrival {
        Arrival::CrossSite => upstream_states::take(db, state, provider_id).await?,
        Arrival::Browser(Some(held)) => upstream_states::take_in_browser(db, state, provider_id, held).await?,
        Arrival::Browser(None) => None,
    };
    if let Some(row) = taken {
        return Ok(row);
    }
    // Only a refusal reads the row again, to say why.
    match upstream_states::find(db, state, provider_id).await? {
        Some(row) if !arrival.admits(row.browser_hash.as_deref()) => Err(UpstreamError::OtherBrowser),
        _ => Err(UpstreamError::UnknownState),
    }
}

/// The provider's error answer (RFC 6749 §4.1.2.1), when the callback is one.
fn callback_error(cb: &Callback) -> Result<(), UpstreamError> {
    match cb.get("error") {
        Some(error) => Err(UpstreamError::Denied {
            error: error.clone(),
            description: cb.get("error_description").cloned().unwrap_or_default(),
        }),
        None => Ok(()),
    }
}

/// What starting an upstream login needs to know.
#[derive(Debug, Clone, Copy)]
pub struct LoginStart<'a> {
    /// The pending interaction the login is for.
    pub interaction_id: &'a str,
    /// Passed on to the provider when it takes one.
    pub login_hint: Option<&'a str>,
    /// Hash of a secret only the starting browser's session holds: the answer is accepted only
    /// in that browser.
    pub browser_hash: &'a str,
    /// The person must prove who they are at the provider now, whatever session they have
    /// there (OIDC `prompt=login` and `max_age=0`, OAuth 2.0 `prompt=login`, SAML
    /// `ForceAuthn`): for confirming something grave, such as deleting the account.
    pub reauthenticate: bool,
}

/// What finishing at the callback found.
#[derive(Debug)]
pub struct Finished {
    /// The interaction the login was started for (from server-side state, not the browser).
    pub interaction_id: String,
    /// The starting browser's [`LoginStart::browser_hash`] (`None` for IdP-initiated logins).
    pub browser_hash: Option<String>,
    pub result: Result<ExternalIdentity, UpstreamError>,
}

impl Finished {
    /// The outcome of a login started as `row`.
    pub fn of(
        row: crate::store::upstream_states::UpstreamStateRow,
        result: Result<ExternalIdentity, UpstreamError>,
    ) -> Self {
        Self {
            interaction_id: row.interaction_id,
            browser_hash: row.browser_hash,
            result,
        }
    }
}

/// A logout the upstream provider asked for, verified.
#[derive(Debug, Clone, PartialEq)]
pub struct UpstreamLogout {
    /// The request's id, for the answer's InResponseTo.
    pub request_id: String,
    /// Whom to log out (the NameID the provider gave at login).
    pub subject: String,
    /// Echoed back with the answer.
    pub relay_state: Option<String>,
}

/// Where the browser goes to start an upstream login.
#[derive(Debug, Clone, PartialEq)]
pub enum Start {
    /// A redirect (OIDC, OAuth 2.0, SAML HTTP-Redirect binding).
    Redirect(String),
    /// A form the browser posts at once (SAML HTTP-POST binding).
    PostForm {
        action: String,
        fields: Vec<(String, String)>,
    },
}

/// One upstream identity provider: what every protocol does. What only some do is a
/// capability, reached through an accessor that answers `None` when this provider lacks it
/// (as Dex's connectors offer CallbackConnector, SAMLConnector, RefreshConnector…).
#[async_trait]
pub trait Upstream: Send + Sync {
    /// The provider's config.
    fn config(&self) -> &ProviderConfig;
    /// Starts a login for a pending interaction: where to send the browser.
    async fn begin(&self, start: LoginStart<'_>) -> Result<Start, UpstreamError>;
    /// Finishes from the IdP's callback. `Err` only when the state is unknown (no interaction)
    /// or the answer arrived in another browser than the one that started the login.
    async fn finish(&self, callback: &Callback, arrival: Arrival<'_>) -> Result<Finished, UpstreamError>;
    /// Contacts the provider as a login would (discovery and keys, endpoints, metadata) and
    /// tells what it found; `Err` names what does not answer as it should.
    async fn probe(&self) -> Result<probe::Probe, UpstreamError>;
    /// Where to send the browser to end the upstream session too; `None` when the provider has
    /// no upstream logout (or this session cannot use it).
    async fn logout_url(
        &self,
        _upstream_session: Option<&str>,
        _post_logout_redirect_uri: &str,
        _state: &str,
    ) -> Option<String> {
        None
    }
    /// Logins the provider starts itself, when it accepts them.
    fn idp_initiated(&self) -> Option<&dyn IdpInitiated> {
        None
    }
    /// Logouts exchanged with the provider on Gatehouse's logout endpoint, when it has one.
    fn single_logout(&self) -> Option<&dyn SingleLogout> {
        None
    }
    /// Gatehouse described for the provider's admin to import, when the protocol has that.
    fn sp_metadata(&self) -> Option<&dyn SpMetadata> {
        None
    }
}

/// Capability: logins started at the provider, which answer no request of Gatehouse's (SAML
/// IdP-initiated SSO).
#[async_trait]
pub trait IdpInitiated: Send + Sync {
    /// Verifies an answer nobody asked for (posted cross-site) and reads the identity in it.
    async fn finish_unsolicited(&self, callback: &Callback) -> Result<ExternalIdentity, UpstreamError>;
}

/// Capability: single logout with the provider, both ways, on Gatehouse's logout endpoint for
/// it (SAML SLO, HTTP-Redirect binding). Messages arrive as the endpoint's raw query, whose
/// exact bytes a redirect-binding signature covers.
#[async_trait]
pub trait SingleLogout: Send + Sync {
    /// The provider's answer to the logout [`Upstream::logout_url`] asked for, verified: the
    /// `state` given there, to continue with.
    async fn logout_returned(&self, raw_query: &str) -> Result<String, UpstreamError>;
    /// A logout the provider started, verified.
    async fn logout_requested(&self, raw_query: &str) -> Result<UpstreamLogout, UpstreamError>;
    /// Whether a login that left `upstream_session` (its [`ExternalIdentity::upstream_session`])
    /// is one `request` ends. Only the connector reads the session's contents.
    fn is_session_of(&self, upstream_session: Option<&str>, request: &UpstreamLogout) -> bool;
    /// Where to send the browser with the answer to `request`.
    async fn answer_url(&self, request: &UpstreamLogout) -> Result<String, UpstreamError>;
}

/// Capability: the document the provider's admin imports to trust Gatehouse (SAML
/// service-provider metadata).
#[async_trait]
pub trait SpMetadata: Send + Sync {
    /// The metadata document (XML).
    async fn document(&self) -> Result<String, UpstreamError>;
}

/// Where the providers in force come from: the config file (read-only at run time, replaced by
/// a SIGHUP reload) and the database (runtime providers, see `upstream::runtime`).
#[derive(Default)]
struct Sources {
    file: Vec<ProviderConfig>,
    runtime: Vec<ProviderConfig>,
}

/// What building a connector needs beyond the provider's own settings.
#[derive(Clone)]
struct Builder {
    issuer: String,
    db: sea_orm::DatabaseConnection,
    http: reqwest::Client,
}

/// The registry in force, replaced as a whole when a source changes (SIGHUP reloads the config
/// file's providers; runtime providers change in the database): a request takes the
/// [`LiveRegistry::current`] one and keeps it to its end, so a reload never changes a provider
/// under a login that has begun.
#[derive(Clone)]
pub struct LiveRegistry(Arc<Live>);

struct Live {
    current: std::sync::RwLock<Arc<Registry>>,
    sources: std::sync::Mutex<Sources>,
    builder: Builder,
}

impl LiveRegistry {
    /// The config file's providers, for `issuer`; runtime ones are added with
    /// [`LiveRegistry::set_runtime`].
    pub fn new(config: &Config, db: &sea_orm::DatabaseConnection, http: &reqwest::Client) -> Result<Self, String> {
        let builder = Builder {
            issuer: config.issuer_str(),
            db: db.clone(),
            http: http.clone(),
        };
        let registry = Registry::from_providers(&config.providers, &builder.issuer, db, http)?;
        Ok(Self(Arc::new(Live {
            current: std::sync::RwLock::new(Arc::new(registry)),
            sources: std::sync::Mutex::new(Sources {
                file: config.providers.clone(),
                runtime: Vec::new(),
            }),
            builder,
        })))
    }

    /// The registry in force now.
    pub fn current(&self) -> Arc<Registry> {
        // A poisoned lock still holds a whole registry (a swap cannot be half-done).
        self.0.current.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// The config file's providers (enabled or not), in file order.
    pub fn file_providers(&self) -> Vec<ProviderConfig> {
        self.0.sources.lock().unwrap_or_else(|p| p.into_inner()).file.clone()
    }

    /// The config file's providers are now `file` (a reload): refused as a whole, the registry
    /// in force unchanged, when one cannot be built.
    pub fn set_file(&self, file: Vec<ProviderConfig>) -> Result<(), String> {
        let mut sources = self.0.sources.lock().unwrap_or_else(|p| p.into_inner());
        let registry = self.build(&file, &sources.runtime)?;
        sources.file = file;
        self.put(registry);
        Ok(())
    }

    /// The database's providers are now `runtime` (enabled ones only are used). A runtime
    /// provider whose id the config file also declares, or that cannot be built, is left out
    /// (with a warning) rather than stopping the others.
    pub fn set_runtime(&self, runtime: Vec<ProviderConfig>) {
        let mut sources = self.0.sources.lock().unwrap_or_else(|p| p.into_inner());
        let usable: Vec<ProviderConfig> = runtime
            .into_iter()
            .filter(|p| {
                if sources.file.iter().any(|f| f.id == p.id) {
                    tracing::warn!(provider = %p.id, "a runtime provider has the id of one in the config file; the file's is used");
                    return false;
                }
                match Registry::from_providers(std::slice::from_ref(p), &self.0.builder.issuer, &self.0.builder.db, &self.0.builder.http) {
                    Ok(_) => true,
                    Err(e) => {
                        tracing::warn!(provider = %p.id, error = %e, "runtime provider left out");
                        false
                    }
                }
            })
            .collect();
        match self.build(&sources.file, &usable) {
            Ok(registry) => {
                sources.runtime = usable;
                self.put(registry);
            }
            Err(e) => tracing::warn!(error = %e, "runtime providers not applied"),
        }
    }

    /// The config file's providers first (in file order), then the runtime ones.
    fn build(&self, file: &[ProviderConfig], runtime: &[ProviderConfig]) -> Result<Registry, String> {
        let all: Vec<ProviderConfig> = file.iter().chain(runtime).cloned().collect();
        let b = &self.0.builder;
        Registry::from_providers(&all, &b.issuer, &b.db, &b.http)
    }

    fn put(&self, registry: Registry) {
        *self.0.current.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(registry);
    }
}

/// The configured, enabled providers, in login-page order.
#[derive(Clone, Default)]
pub struct Registry {
    order: Vec<String>,
    by_id: HashMap<String, Arc<dyn Upstream>>,
    /// Each provider's icon as a `data:` URI for the login page's `<img>`.
    icons: HashMap<String, String>,
}

impl Registry {
    /// Builds a connector per enabled provider of the config file.
    pub fn from_config(
        config: &Config,
        db: &sea_orm::DatabaseConnection,
        http: &reqwest::Client,
    ) -> Result<Self, String> {
        Self::from_providers(&config.providers, &config.issuer_str(), db, http)
    }

    /// Builds a connector per enabled provider, for Gatehouse at `issuer` (no trailing slash).
    pub fn from_providers(
        providers: &[ProviderConfig],
        issuer: &str,
        db: &sea_orm::DatabaseConnection,
        http: &reqwest::Client,
    ) -> Result<Self, String> {
        let mut reg = Registry::default();
        for p in providers.iter().filter(|p| p.enabled) {
            let callback = || format!("{issuer}/broker/callback/{}", p.id);
            let connector: Arc<dyn Upstream> = match p.kind {
                ProviderKind::Oidc => Arc::new(oidc::OidcUpstream::new(
                    p.clone(),
                    secret::ClientSecretSource::from_config(p)?,
                    callback(),
                    db.clone(),
                    http.clone(),
                )),
                ProviderKind::Oauth2 => Arc::new(oauth::OAuth2Upstream::new(
                    p.clone(),
                    secret::ClientSecretSource::from_config(p)?,
                    callback(),
                    db.clone(),
                    http.clone(),
                )),
                ProviderKind::Saml => Arc::new(saml::SamlUpstream::new(p.clone(), issuer, db.clone(), http.clone())),
            };
            if let Some(svg) = &p.icon {
                // As an image, not inline markup: an SVG loaded by <img> cannot run script.
                let src = format!("data:image/svg+xml;base64,{}", STANDARD.encode(svg));
                reg.icons.insert(p.id.clone(), src);
            }
            reg.order.push(p.id.clone());
            reg.by_id.insert(p.id.clone(), connector);
        }
        Ok(reg)
    }

    /// The provider's icon as an `<img>` source, if it has one.
    pub fn icon_src(&self, id: &str) -> Option<&str> {
        self.icons.get(id).map(String::as_str)
    }

    /// The provider with this id.
    pub fn get(&self, id: &str) -> Option<&Arc<dyn Upstream>> {
        self.by_id.get(id)
    }

    /// Every provider, in configured order.
    pub fn all(&self) -> impl Iterator<Item = &Arc<dyn Upstream>> {
        self.order.iter().filter_map(|id| self.by_id.get(id))
    }

    /// Home-realm discovery: the provider that owns this email's domain.
    pub fn for_email(&self, email: &str) -> Option<&Arc<dyn Upstream>> {
        let domain = email.rsplit_once('@')?.1.trim().to_lowercase();
        self.all()
            .find(|u| u.config().email_domains.iter().any(|d| d.eq_ignore_ascii_case(&domain)))
    }
}
