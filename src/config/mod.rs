//! Typed configuration: defaults, then one TOML file, then `GATEHOUSE_…` environment overrides.
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;

pub mod audit;
pub mod declared;
pub mod environment;
pub mod presets;
mod provider;
pub mod server;
pub mod smtp;
pub mod ui;
pub use provider::{
    IdpInitiated, ProfileRequest, ProviderConfig, ProviderKind, ResponseMode, SamlBinding, SamlSettings,
    SignedClientSecret, UpstreamAuthMethod, UpstreamMfa,
};
use serde::{Deserialize, Serialize};
use url::Url;

/// The top-level keys of [`Config`], the only ones `GATEHOUSE_…` variables may set.
const TOP_LEVEL_KEYS: &[&str] = &[
    "issuer",
    "listen",
    "database_url",
    "templates_dir",
    "registration",
    "session",
    "lifetimes",
    "demo",
    "providers_dir",
    "keys",
    "limits",
    "clients",
    "users",
    "providers",
    "server",
    "mfa",
    "log",
    "metrics",
    "smtp",
    "audit",
    "ui",
];

/// Why the configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("configuration file {0} does not exist")]
    Missing(PathBuf),
    #[error("invalid configuration: {0}")]
    Invalid(#[from] Box<figment::Error>),
    #[error("invalid configuration: {0}")]
    Rule(String),
    #[error("invalid configuration: {0}")]
    Preset(#[from] presets::PresetError),
}

/// The whole server configuration.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Public issuer URL; every endpoint hangs below it.
    pub issuer: Url,
    /// Socket address to listen on (host:port).
    pub listen: SocketAddr,
    /// sea-orm database URL (`sqlite://path?mode=rwc` or `postgres://…`).
    pub database_url: String,
    /// Folder with handlebars templates overriding the built-in ones.
    pub templates_dir: Option<PathBuf>,
    pub registration: RegistrationConfig,
    pub session: SessionConfig,
    pub lifetimes: Lifetimes,
    pub demo: DemoConfig,
    pub keys: KeysConfig,
    pub limits: LimitsConfig,
    pub clients: Vec<ClientDecl>,
    pub users: Vec<UserDecl>,
    /// Folder of provider presets (`<name>.toml`); its files are used before the built-in
    /// presets of the same name.
    pub providers_dir: Option<PathBuf>,
    /// `[[providers]]` as written: a preset name, credentials and overrides (merged at load).
    #[serde(rename = "providers")]
    pub provider_entries: Vec<figment::value::Dict>,
    /// Upstream identity providers, presets merged in, shown on the login page in this order.
    #[serde(skip)]
    pub providers: Vec<ProviderConfig>,
    /// Connection and request limits, database fail-fast timeouts.
    #[serde(default)]
    pub server: server::ServerConfig,
    /// Second factors.
    #[serde(default)]
    pub mfa: MfaConfig,
    /// How log lines look.
    #[serde(default)]
    pub log: LogConfig,
    /// `/metrics` (Prometheus).
    #[serde(default)]
    pub metrics: MetricsConfig,
    /// Outgoing mail; without it no mail is sent.
    #[serde(default)]
    pub smtp: Option<smtp::SmtpConfig>,
    /// How long the audit trail keeps events.
    #[serde(default)]
    pub audit: audit::AuditConfig,
    /// The pages' look (`[ui] theme_dir`).
    #[serde(default)]
    pub ui: ui::UiConfig,
}

/// `[metrics]`: Prometheus text at `/metrics`, off by default.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MetricsConfig {
    /// Serve `/metrics` (and record; off = 404 and nothing recorded).
    pub enabled: bool,
    /// Client addresses (IPs or CIDR ranges) that may read `/metrics`; others get 404. The
    /// address is the peer, or `X-Forwarded-For` from `limits.trusted_proxies`.
    pub allow: Vec<String>,
}

impl Default for MetricsConfig {
    fn default() -> Self {
        Self {
            enabled: false,
            allow: vec!["127.0.0.1/32".into(), "::1/128".into()],
        }
    }
}

impl MetricsConfig {
    /// Whether `address` may read the metrics.
    pub fn allows(&self, address: std::net::IpAddr) -> bool {
        self.allow.iter().any(|a| match a.parse::<ipnet::IpNet>() {
            Ok(net) => net.contains(&address),
            Err(_) => a.parse::<std::net::IpAddr>() == Ok(address),
        })
    }
}

/// `[log]`: the format of log lines (written to standard error; the level is `GATEHOUSE_LOG`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LogConfig {
    /// `text` (default; colours only when standard error is a terminal) or `json` (one object
    /// a line, with the request's span fields such as `request_id`).
    pub format: LogFormat,
}

/// A log line format.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

/// Second factors (`[mfa]`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MfaConfig {
    /// The key that encrypts TOTP secrets at rest (AES-256-GCM): 32 bytes, base64 (standard
    /// alphabet), e.g. from `openssl rand -base64 32`; or set `GATEHOUSE_MFA__SECRET_KEY`.
    /// Without it nobody can enrol an authenticator app.
    pub secret_key: Option<String>,
}

/// Self-registration of local accounts.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RegistrationConfig {
    /// Whether the login page offers "create an account".
    pub enabled: bool,
}

/// The browser session cookie.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SessionConfig {
    pub cookie_name: String,
    /// Seconds of inactivity after which the session ends.
    pub idle_timeout: u64,
    /// Seconds after sign-in when the session ends however active (prompting a new sign-in).
    pub absolute_timeout: u64,
}

impl Default for SessionConfig {
    fn default() -> Self {
        Self {
            cookie_name: "gatehouse_session".into(),
            idle_timeout: 8 * 3600,
            absolute_timeout: 24 * 3600,
        }
    }
}

/// How long each artefact lives, in seconds.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Lifetimes {
    pub authorization_code: u64,
    pub access_token: u64,
    pub id_token: u64,
    pub interaction: u64,
    /// Seconds after a refresh token's rotation during which presenting it once more (a client
    /// retrying after a lost answer) returns the same successor instead of revoking the grant
    /// (0 = never).
    pub refresh_retry_window: u64,
}

impl Default for Lifetimes {
    fn default() -> Self {
        Self {
            authorization_code: 60,
            access_token: 3600,
            id_token: 3600,
            interaction: 1800,
            refresh_retry_window: 30,
        }
    }
}

/// Signing-key rotation.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct KeysConfig {
    /// Rotate automatically when the newest key is this many days old (0 = only by hand).
    pub rotate_after_days: u64,
}

/// Limits against guessing and floods.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LimitsConfig {
    /// Password attempts against one account, counted on every node (in the database).
    pub account: crate::store::throttles::ThrottlePolicy,
    /// Reverse proxies (IP addresses or CIDR ranges) whose `X-Forwarded-For` names the client.
    pub trusted_proxies: Vec<String>,
    /// Password and link-confirmation attempts per client address per minute.
    pub sign_in_per_minute: u32,
    /// Accounts one client address may register per hour.
    pub registrations_per_hour: u32,
    /// Failed client authentications (token, introspection, revocation, PAR) per address per minute.
    pub client_auth_failures_per_minute: u32,
    /// Pending sign-ins (stored authorization requests) one address may start per minute.
    pub interactions_per_minute: u32,
    /// Password-reset mails to one address, counted on every node (in the database); past the
    /// limit the page answers as usual but sends nothing.
    pub reset_per_address: crate::store::throttles::ThrottlePolicy,
    /// Password-reset requests from one client address, counted on every node.
    pub reset_per_client: crate::store::throttles::ThrottlePolicy,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        Self {
            account: Default::default(),
            trusted_proxies: Vec::new(),
            sign_in_per_minute: 30,
            registrations_per_hour: 10,
            client_auth_failures_per_minute: 30,
            interactions_per_minute: 120,
            reset_per_address: crate::store::throttles::ThrottlePolicy {
                free_attempts: 3,
                first_delay_secs: 300,
                max_delay_secs: 3600,
            },
            reset_per_client: crate::store::throttles::ThrottlePolicy {
                free_attempts: 10,
                first_delay_secs: 60,
                max_delay_secs: 3600,
            },
        }
    }
}

/// The built-in demo application behind "Try the login flow".
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DemoConfig {
    pub enabled: bool,
}

/// A client declared in the config file (created or updated at start-up).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientDecl {
    pub id: String,
    pub name: Option<String>,
    pub redirect_uris: Vec<String>,
    #[serde(default)]
    pub post_logout_redirect_uris: Vec<String>,
    #[serde(default)]
    pub public: bool,
    pub secret: Option<String>,
    /// Name of an environment variable holding the secret.
    pub secret_env: Option<String>,
    #[serde(default)]
    pub require_consent: bool,
    #[serde(default = "yes")]
    pub require_pkce: bool,
    /// `RS256` (default) or `ES256`.
    pub id_token_signed_response_alg: Option<String>,
    /// Upstream providers this client's users may use (ids); unset = all.
    #[serde(default)]
    pub allowed_providers: Option<Vec<String>>,
    /// `never`, `offline_access` (default) or `always`.
    pub refresh_tokens: Option<crate::store::clients::RefreshPolicy>,
    /// Seconds an unused refresh token stays valid (default 14 days).
    pub refresh_token_sliding_lifetime: Option<i64>,
    /// Seconds until a refresh-token family ends, however used (default 30 days).
    pub refresh_token_absolute_lifetime: Option<i64>,
    /// `opaque` (default) or `jwt` (RFC 9068).
    pub access_token_format: Option<crate::store::clients::AccessTokenFormat>,
    /// OIDC Back-Channel Logout 1.0 endpoint of the client.
    pub backchannel_logout_uri: Option<String>,
    /// Inline JWK Set (JSON text) for `private_key_jwt` client authentication.
    pub jwks: Option<String>,
    /// URL of the client's JWK Set for `private_key_jwt`.
    pub jwks_uri: Option<String>,
    /// Also accept `client_secret_jwt` (HMAC assertions); keeps the secret in the clear.
    #[serde(default)]
    pub client_secret_jwt: bool,
    /// Authorization requests must first be pushed to /par (RFC 9126).
    #[serde(default)]
    pub require_par: bool,
    /// OIDC Front-Channel Logout 1.0 page, loaded in an iframe (with iss and sid) at logout.
    pub frontchannel_logout_uri: Option<String>,
    /// May introspect tokens issued to other clients (RFC 7662 §4: a resource server trusted
    /// with every client's tokens). Without it, a client introspects only its own tokens.
    #[serde(default)]
    pub introspect_any: bool,
    /// Every sign-in for this client needs a second factor (local, or trusted from upstream).
    #[serde(default)]
    pub require_mfa: bool,
    /// Scopes this client may be granted for itself with the `client_credentials` grant
    /// (RFC 6749 §4.4; confidential clients only). Empty (default) = that grant is refused.
    /// A client with machine scopes may have no redirect URIs (a machine-only client).
    #[serde(default)]
    pub machine_scopes: Vec<String>,
}

/// A local user declared in the config file (created when missing).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserDecl {
    pub username: String,
    pub email: Option<String>,
    #[serde(default)]
    pub email_verified: bool,
    pub name: Option<String>,
    pub password: Option<String>,
    /// Name of an environment variable holding the password.
    pub password_env: Option<String>,
}

impl ClientDecl {
    /// A client `id` with every setting at its config-file default (as if declared with `id`
    /// and nothing else).
    pub fn new(id: &str) -> Self {
        Self {
            id: id.into(),
            name: None,
            redirect_uris: vec![],
            post_logout_redirect_uris: vec![],
            public: false,
            secret: None,
            secret_env: None,
            require_consent: false,
            require_pkce: true,
            id_token_signed_response_alg: None,
            allowed_providers: None,
            refresh_tokens: None,
            refresh_token_sliding_lifetime: None,
            refresh_token_absolute_lifetime: None,
            access_token_format: None,
            backchannel_logout_uri: None,
            jwks: None,
            jwks_uri: None,
            client_secret_jwt: false,
            require_par: false,
            frontchannel_logout_uri: None,
            introspect_any: false,
            require_mfa: false,
            machine_scopes: vec![],
        }
    }

    /// The declared token settings, defaults filled in.
    pub fn token_settings(&self) -> crate::store::clients::TokenSettings {
        let d = crate::store::clients::TokenSettings::default();
        crate::store::clients::TokenSettings {
            refresh_tokens: self.refresh_tokens.unwrap_or(d.refresh_tokens),
            refresh_token_sliding_lifetime: self
                .refresh_token_sliding_lifetime
                .unwrap_or(d.refresh_token_sliding_lifetime),
            refresh_token_absolute_lifetime: self
                .refresh_token_absolute_lifetime
                .unwrap_or(d.refresh_token_absolute_lifetime),
            access_token_format: self.access_token_format.unwrap_or(d.access_token_format),
        }
    }
}

fn yes() -> bool {
    true
}

impl ClientDecl {
    /// The rules of one declared client; each message names it.
    fn validate(&self) -> Result<(), ConfigError> {
        let c = self;
        if c.redirect_uris.is_empty() && c.machine_scopes.is_empty() {
            return Err(ConfigError::Rule(format!("client {}: redirect_uris is empty", c.id)));
        }
        if c.public && (c.secret.is_some() || c.secret_env.is_some()) {
            return Err(ConfigError::Rule(format!(
                "client {}: a public client has no secret",
                c.id
            )));
        }
        if !c.public && c.secret.is_none() && c.secret_env.is_none() && c.jwks.is_none() && c.jwks_uri.is_none() {
            return Err(ConfigError::Rule(format!(
                "client {}: a confidential client needs `secret`, `secret_env`, `jwks` or `jwks_uri`",
                c.id
            )));
        }
        if c.public && !c.machine_scopes.is_empty() {
            return Err(ConfigError::Rule(format!(
                "client {}: a public client cannot use client_credentials (machine_scopes)",
                c.id
            )));
        }
        for scope in &c.machine_scopes {
            crate::store::clients::check_machine_scope(scope)
                .map_err(|e| ConfigError::Rule(format!("client {}: {e}", c.id)))?;
        }
        let uris = c
            .redirect_uris
            .iter()
            .chain(&c.post_logout_redirect_uris)
            .chain(&c.backchannel_logout_uri)
            .chain(&c.frontchannel_logout_uri)
            .chain(&c.jwks_uri);
        for uri in uris {
            crate::store::clients::check_uri(uri).map_err(|e| ConfigError::Rule(format!("client {}: {e}", c.id)))?;
        }
        Ok(())
    }
}

impl Default for Config {
    fn default() -> Self {
        Self {
            issuer: Url::parse("http://127.0.0.1:8080").expect("static URL"),
            listen: "127.0.0.1:8080".parse().expect("static address"),
            database_url: "sqlite://data/gatehouse.db?mode=rwc".into(),
            templates_dir: None,
            registration: RegistrationConfig::default(),
            session: SessionConfig::default(),
            lifetimes: Lifetimes::default(),
            demo: DemoConfig::default(),
            keys: KeysConfig::default(),
            limits: LimitsConfig::default(),
            clients: Vec::new(),
            users: Vec::new(),
            providers_dir: None,
            provider_entries: Vec::new(),
            providers: Vec::new(),
            server: server::ServerConfig::default(),
            mfa: MfaConfig::default(),
            log: LogConfig::default(),
            metrics: MetricsConfig::default(),
            smtp: None,
            audit: audit::AuditConfig::default(),
            ui: ui::UiConfig::default(),
        }
    }
}

impl Config {
    /// Loads defaults, then `file` (if given), then `GATEHOUSE_*` variables
    /// (`GATEHOUSE_ISSUER`, `GATEHOUSE_LISTEN`, `GATEHOUSE_DATABASE_URL`, nested keys with `__`).
    pub fn load(file: Option<&Path>) -> Result<Self, ConfigError> {
        let mut fig = Figment::from(Serialized::defaults(Config::default()));
        if let Some(path) = file {
            if !path.exists() {
                return Err(ConfigError::Missing(path.to_path_buf()));
            }
            fig = fig.merge(Toml::file_exact(path));
        }
        // Only variables naming a configuration key: GATEHOUSE_LOG, GATEHOUSE_CONFIG and whatever
        // else shares the prefix in a deployment are not configuration.
        fig = fig.merge(Env::prefixed("GATEHOUSE_").split("__").filter(|k| {
            // Nested keys arrive as `session.idle_timeout` (already split on `__`).
            let top = k.as_str().split('.').next().unwrap_or_default().to_ascii_lowercase();
            // GATEHOUSE_LOG is the log filter; only GATEHOUSE_LOG__FORMAT & co. are `[log]` keys.
            if top == "log" && !k.as_str().contains('.') {
                return false;
            }
            TOP_LEVEL_KEYS.contains(&top.as_str())
        }));
        let mut config: Config = fig.extract().map_err(Box::new)?;
        let catalog = presets::Catalog::load(config.providers_dir.as_deref())?;
        config.providers = catalog.resolve(&config.provider_entries)?;
        config.validate()?;
        environment::check_secret_variables(&config, |var| std::env::var_os(var).is_some())
            .map_err(ConfigError::Rule)?;
        Ok(config)
    }

    /// Checks rules serde cannot express.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if !matches!(self.issuer.scheme(), "http" | "https") {
            return Err(ConfigError::Rule("issuer must be an http(s) URL".into()));
        }
        if self.issuer.query().is_some() || self.issuer.fragment().is_some() {
            return Err(ConfigError::Rule(
                "issuer must not have a query or fragment (OpenID Connect Discovery §3)".into(),
            ));
        }
        self.server.validate().map_err(ConfigError::Rule)?;
        self.audit.validate().map_err(ConfigError::Rule)?;
        if let Some(smtp) = &self.smtp {
            smtp.validate().map_err(ConfigError::Rule)?;
        }
        for a in &self.metrics.allow {
            if a.parse::<ipnet::IpNet>().is_err() && a.parse::<std::net::IpAddr>().is_err() {
                return Err(ConfigError::Rule(format!(
                    "metrics.allow: {a:?} is neither an IP address nor a CIDR range"
                )));
            }
        }
        server::check_issuer_scheme(&self.issuer, self.server.allow_insecure_issuer).map_err(ConfigError::Rule)?;
        let mut seen = std::collections::HashSet::new();
        for p in &self.providers {
            p.validate().map_err(ConfigError::Rule)?;
            if !seen.insert(p.id.as_str()) {
                return Err(ConfigError::Rule(format!("provider id {:?} is declared twice", p.id)));
            }
        }
        self.clients.iter().try_for_each(ClientDecl::validate)?;
        Ok(())
    }

    /// The issuer as a string without a trailing slash, as it appears in `iss`.
    pub fn issuer_str(&self) -> String {
        self.issuer.as_str().trim_end_matches('/').to_string()
    }

    /// An absolute URL for a path below the issuer.
    pub fn endpoint(&self, path: &str) -> String {
        format!("{}{}", self.issuer_str(), path)
    }

    /// Whether cookies must carry the Secure attribute.
    pub fn secure_cookies(&self) -> bool {
        self.issuer.scheme() == "https"
    }
}

#[cfg(test)]
#[allow(clippy::result_large_err)] // figment::Jail's closure signature, not ours
mod tests {
    use super::*;

    #[test]
    fn env_overrides_file_and_defaults() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "g.toml",
                r#"
                issuer = "https://file.example"
                [registration]
                enabled = true
                "#,
            )?;
            jail.set_env("GATEHOUSE_ISSUER", "https://sso.example.com");
            jail.set_env("GATEHOUSE_LISTEN", "127.0.0.1:9999");
            jail.set_env("GATEHOUSE_DATABASE_URL", "postgres://u@127.0.0.1/g");
            // Variables of the command itself are not configuration keys.
            jail.set_env("GATEHOUSE_LOG", "warn");
            jail.set_env("GATEHOUSE_CONFIG", "g.toml");
            jail.set_env("GATEHOUSE_BIN", "/usr/local/bin/gatehouse");
            jail.set_env("GATEHOUSE_SESSION__IDLE_TIMEOUT", "60");
            jail.set_env("GATEHOUSE_LOG__FORMAT", "json");
            let c = Config::load(Some(Path::new("g.toml"))).map_err(|e| e.to_string())?;
            assert_eq!(c.issuer_str(), "https://sso.example.com");
            assert_eq!(c.listen.port(), 9999);
            assert_eq!(c.database_url, "postgres://u@127.0.0.1/g");
            assert!(c.registration.enabled);
            assert!(c.secure_cookies());
            assert_eq!(c.session.idle_timeout, 60, "nested keys with __");
            assert_eq!(c.log.format, LogFormat::Json, "GATEHOUSE_LOG stays the filter");
            Ok(())
        });
    }

    #[test]
    fn unknown_key_is_an_error_naming_it() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("g.toml", "isuer = \"https://typo.example\"\n")?;
            let err = Config::load(Some(Path::new("g.toml"))).unwrap_err().to_string();
            assert!(err.contains("isuer"), "{err}");
            Ok(())
        });
    }

    #[test]
    fn every_top_level_key_is_listed_for_the_environment() {
        let fields = serde_json::to_value(Config::default()).unwrap();
        let mut keys: Vec<&str> = fields.as_object().unwrap().keys().map(String::as_str).collect();
        keys.sort();
        let mut listed = TOP_LEVEL_KEYS.to_vec();
        listed.sort();
        assert_eq!(keys, listed);
    }

    #[test]
    fn machine_scopes_are_for_confidential_clients_and_not_user_scopes() {
        let machine = |public: bool, scopes: &[&str], redirect: bool| {
            let mut c = Config::default();
            c.clients.push(ClientDecl {
                redirect_uris: if redirect {
                    vec!["http://127.0.0.1:3000/cb".into()]
                } else {
                    vec![]
                },
                public,
                secret: (!public).then(|| "s".into()),
                machine_scopes: scopes.iter().map(|s| s.to_string()).collect(),
                ..ClientDecl::new("m")
            });
            c.validate().map_err(|e| e.to_string())
        };
        assert!(
            machine(false, &["api:read"], false).is_ok(),
            "a machine-only client needs no redirect URI"
        );
        assert!(machine(false, &[], false).unwrap_err().contains("redirect_uris"));
        assert!(machine(true, &["api:read"], true).unwrap_err().contains("public"));
        assert!(machine(false, &["openid"], true).unwrap_err().contains("openid"));
        assert!(machine(false, &["two words"], true).is_err());
    }

    #[test]
    fn example_config_is_valid() {
        let c = Config::load(Some(Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/config/gatehouse.example.toml"
        ))))
        .expect("example config loads");
        assert!(c.demo.enabled);
        assert!(!c.users.is_empty());
    }
}
