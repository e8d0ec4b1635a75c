//! The shared state every handler is given: built once at start, cheap to clone. It sits
//! below everything that takes it (handlers, the router), and imports only the ground (config,
//! store, keys, upstream connectors, templates).
use std::net::SocketAddr;
use std::ops::Deref;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use anyhow::Context;
use sea_orm::DatabaseConnection;

use crate::config::{declared, Config};
use crate::keys::KeyStore;
use crate::store;
use crate::store::clients::ClientRegistry;
use crate::web::templates::Templates;

/// Everything a handler may need; cheap to clone.
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

/// The shared parts behind [`AppState`].
pub struct Inner {
    pub config: Config,
    /// The issuer identifier as it appears in tokens (no trailing slash).
    pub issuer: String,
    pub db: DatabaseConnection,
    pub clients: ClientRegistry,
    pub keys: KeyStore,
    pub templates: Templates,
    /// The operator's theme (`[ui] theme_dir`), served under `/static/theme/`.
    pub theme: Option<crate::theme::Theme>,
    /// Clients' JWK Sets fetched for private_key_jwt.
    pub client_jwks: ClientJwksCache,
    /// Back-channel logout deliveries.
    pub backchannel: crate::backchannel::BackchannelNotifier,
    /// Upstream identity providers (the broker's connectors).
    pub upstreams: crate::upstream::LiveRegistry,
    /// Outgoing HTTP (the demo client; upstream IdPs later): no redirects, short timeouts.
    pub http: reqwest::Client,
    /// Per-client-address rate limits of this node.
    pub limits: Arc<crate::web::limits::AddressLimits>,
    /// The key sealing TOTP secrets (`[mfa] secret_key`); without it nobody can enrol.
    pub mfa_secrets: Option<crate::mfa::SecretBox>,
    /// The WebAuthn relying party (passkeys); `None` when the issuer's host is no domain name.
    pub webauthn: Option<Arc<webauthn_rs::Webauthn>>,
    /// Outgoing mail (`[smtp]`): queues messages and wakes this node's sending task.
    pub mailer: crate::mail::Mailer,
    /// Renders `/metrics` when `[metrics] enabled`.
    pub metrics: Option<metrics_exporter_prometheus::PrometheusHandle>,
    /// Which clients this node has already recorded as taking part in a session.
    pub participants: crate::store::session_clients::RecordedParticipants,
    local_addr: OnceLock<SocketAddr>,
}

/// Substates: a handler that needs one part takes `State<Part>` (axum's `FromRef`), not the whole.
macro_rules! substate {
    ($($field:ident: $ty:ty),* $(,)?) => {$(
        impl axum::extract::FromRef<AppState> for $ty {
            fn from_ref(state: &AppState) -> Self {
                state.$field.clone()
            }
        }
    )*};
}

substate! {
    limits: Arc<crate::web::limits::AddressLimits>,
    keys: KeyStore,
    db: DatabaseConnection,
    clients: ClientRegistry,
    upstreams: crate::upstream::LiveRegistry,
}

impl Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl AppState {
    /// Connects, migrates, applies the config's declarations and makes sure signing keys exist.
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        let (db, early_rsa) = open_database(&config).await?;
        // Nodes starting together take turns seeding, as they do migrating.
        let seeding = store::SchemaLock::acquire(&db)
            .await
            .context("waiting for the schema lock")?;
        let lifetimes = &config.lifetimes;
        // A retired key must verify every token it signed: the longest lifetime, plus skew.
        let grace = lifetimes.id_token.max(lifetimes.access_token) as i64 + 120;
        let keys = KeyStore::new(db.clone(), grace);
        let seeded = async {
            declared::apply(&db, &config)
                .await
                .context("applying clients and users from the config")?;
            keys.ensure_with(early_rsa).await.context("preparing signing keys")
        }
        .await;
        seeding.release().await;
        seeded?;
        let theme = match config.ui.theme_dir.as_deref() {
            Some(dir) => Some(crate::theme::Theme::load(dir)?),
            None => None,
        };
        let templates = Templates::load(config.templates_dir.as_deref())?
            .with_theme_stylesheet(theme.as_ref().map(crate::theme::Theme::stylesheet_path));
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(10))
            .build()?;
        let upstreams = crate::upstream::LiveRegistry::new(&config, &db, &http).map_err(anyhow::Error::msg)?;
        crate::upstream::runtime::refresh(&db, &upstreams)
            .await
            .context("reading the runtime providers")?;
        let backchannel = crate::backchannel::BackchannelNotifier::spawn(&db, &http, &keys, config.issuer_str());
        let limits = Arc::new(crate::web::limits::AddressLimits::new(&config.limits).map_err(anyhow::Error::msg)?);
        let mfa_secrets = match config.mfa.secret_key.as_deref() {
            Some(k) => Some(crate::mfa::SecretBox::from_base64(k).context("[mfa] secret_key")?),
            None => {
                tracing::warn!("no [mfa] secret_key: authenticator apps cannot be enrolled or checked");
                None
            }
        };
        let webauthn = crate::mfa::passkey::relying_party(&config.issuer, "Gatehouse").map(Arc::new);
        if webauthn.is_none() {
            tracing::warn!(issuer = %config.issuer, "the issuer's host is not a domain name: passkeys are off");
        }
        let mailer = crate::mail::Mailer::spawn(
            &db,
            config.smtp.as_ref(),
            config.issuer.host_str().unwrap_or("localhost"),
            config.templates_dir.as_deref(),
        )
        .context("starting outgoing mail")?;
        let metrics = if config.metrics.enabled {
            crate::metrics::install()
        } else {
            None
        };
        Ok(Self(Arc::new(Inner {
            metrics,
            participants: Default::default(),
            mailer,
            backchannel,
            client_jwks: new_client_jwks_cache(),
            upstreams,
            clients: ClientRegistry::new(db.clone()),
            keys,
            templates,
            theme,
            http,
            limits,
            mfa_secrets,
            webauthn,
            db,
            issuer: config.issuer_str(),
            config,
            local_addr: OnceLock::new(),
        })))
    }

    /// Second-factor checks against this state's database, key and password throttle.
    pub fn mfa(&self) -> crate::mfa::Verifier<'_, DatabaseConnection> {
        crate::mfa::Verifier {
            db: &self.db,
            secrets: self.mfa_secrets.as_ref(),
            throttle: &self.config.limits.account,
            issuer_label: self.config.issuer.host_str().unwrap_or("Gatehouse"),
        }
    }

    /// Passkey operations against this state's database, relying party and password throttle;
    /// `None` when passkeys are off.
    pub fn passkeys(&self) -> Option<crate::mfa::passkey::Passkeys<'_, DatabaseConnection>> {
        Some(crate::mfa::passkey::Passkeys {
            db: &self.db,
            webauthn: self.webauthn.as_deref()?,
            throttle: &self.config.limits.account,
        })
    }

    /// The issuer's path ("" at the root): prefix for every link in pages.
    pub fn base(&self) -> String {
        self.config.issuer.path().trim_end_matches('/').to_string()
    }

    /// `http://<loopback>:<port><base>` of this process's own listener.
    pub fn local_base_url(&self) -> Option<String> {
        let addr = self.local_addr.get()?;
        let host = if addr.ip().is_unspecified() {
            "127.0.0.1".to_string()
        } else {
            addr.ip().to_string()
        };
        let host = if host.contains(':') { format!("[{host}]") } else { host };
        Some(format!("http://{host}:{}{}", addr.port(), self.base()))
    }

    /// Records the address this process listens on (once, when serving starts).
    pub fn set_local_addr(&self, addr: SocketAddr) {
        let _ = self.local_addr.set(addr);
    }
}

/// Clients' JWK Sets fetched from their `jwks_uri` (private_key_jwt), by URI.
pub type ClientJwksCache = moka::future::Cache<String, Arc<jsonwebtoken::jwk::JwkSet>>;

/// A cache whose entries live five minutes.
fn new_client_jwks_cache() -> ClientJwksCache {
    moka::future::Cache::builder()
        .max_capacity(1000)
        .time_to_live(Duration::from_secs(300))
        .build()
}

/// Opens and migrates the database; on a brand-new one the RSA signing key is generated
/// meanwhile (its ≈ 0.2 s of CPU beside the migrations instead of after them).
async fn open_database(config: &Config) -> anyhow::Result<(DatabaseConnection, Option<crate::keys::EarlyRsaKey>)> {
    let db = store::connect_with(&config.database_url, config.server.database_acquire())
        .await
        .with_context(|| "opening the database")?;
    let early_rsa = crate::keys::EarlyRsaKey::start_if_needed(&db).await;
    store::migrate(&db).await.context("migrating the database")?;
    Ok((db, early_rsa))
}
