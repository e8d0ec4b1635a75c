//! The command line: `serve`, `migrate`, `user add|list|disable|delete`,
//! `client add|list|disable|delete`, `provider list|disable|enable|delete`, `audit list|purge`.
pub mod operate;

use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context};
use clap::{Args, Parser, Subcommand};
use sea_orm::DatabaseConnection;

use crate::config::Config;
use crate::keys::SigningAlg;
use crate::store::clients::{self, NewClient};
use crate::store::users::{self, NewUser};
use crate::store::{self, random_token};

mod check;

/// Gatehouse single sign-on server.
#[derive(Parser, Debug)]
#[command(name = "gatehouse", version, about)]
pub struct Cli {
    /// Configuration file (TOML); `GATEHOUSE_…` variables override it.
    #[arg(long, global = true, env = "GATEHOUSE_CONFIG", value_name = "PATH")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

/// What to do.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the server (migrates the database first).
    Serve,
    /// Create or upgrade the database schema, then exit.
    Migrate,
    /// Validate the configuration and contact every upstream provider; one line per problem,
    /// exit code 1 when there is any.
    Check,
    /// Manage local users.
    #[command(subcommand)]
    User(UserCommand),
    /// Manage client applications.
    #[command(subcommand)]
    Client(ClientCommand),
    /// Manage token signing keys.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Manage upstream identity providers (runtime ones; the config file's are read-only).
    #[command(subcommand)]
    Provider(operate::ProviderCommand),
    /// Read the audit trail.
    #[command(subcommand)]
    Audit(operate::AuditCommand),
    /// List and end live sign-in sessions.
    #[command(subcommand)]
    Session(operate::SessionCommand),
}

/// `gatehouse keys …`.
#[derive(Subcommand, Debug)]
pub enum KeysCommand {
    /// Make new signing keys current; old ones keep verifying until their tokens expire.
    Rotate,
    /// List signing keys and their state.
    List,
}

/// `gatehouse user …`.
#[derive(Subcommand, Debug)]
pub enum UserCommand {
    /// Create a local user.
    Add(UserAdd),
    /// Clear the password-attempt throttle of a user (after many wrong passwords).
    Unlock {
        /// The user's username or email address.
        username: String,
    },
    /// List users (search by part of a username, email or name).
    List(operate::UserList),
    /// Disable a user: every session ends and every token is revoked at once.
    Disable {
        /// The user's id, username or email address.
        user: String,
    },
    /// Mail a user a single-use password reset link (sent by the running server's mail task).
    ResetPassword {
        /// The user's id, username or email address.
        user: String,
    },
    /// Enable a disabled user again.
    Enable {
        /// The user's id, username or email address.
        user: String,
    },
    /// Delete a user and everything attached to it.
    Delete {
        /// The user's id, username or email address.
        user: String,
        /// Confirm: deleting cannot be undone.
        #[arg(long)]
        yes: bool,
    },
}

/// `gatehouse user add`.
#[derive(Args, Debug)]
pub struct UserAdd {
    pub username: String,
    #[arg(long)]
    pub email: Option<String>,
    /// Mark the email as verified (you checked it yourself).
    #[arg(long)]
    pub email_verified: bool,
    #[arg(long)]
    pub name: Option<String>,
    /// Read the password from the first line of standard input.
    #[arg(long)]
    pub password_stdin: bool,
}

/// `gatehouse client …`.
#[derive(Subcommand, Debug)]
pub enum ClientCommand {
    /// Register a client (or replace the settings of an existing one).
    Add(ClientAdd),
    /// List registered clients.
    List,
    /// Disable a client: unknown to every endpoint, and every token it holds ends.
    Disable { client_id: String },
    /// Enable a disabled client again.
    Enable { client_id: String },
    /// Delete a client; every token it holds ends.
    Delete {
        client_id: String,
        /// Confirm: deleting cannot be undone.
        #[arg(long)]
        yes: bool,
    },
}

/// `gatehouse client add`.
#[derive(Args, Debug)]
pub struct ClientAdd {
    pub client_id: String,
    /// Exact redirect URI; repeat for several.
    #[arg(
        long = "redirect-uri",
        required_unless_present = "machine_scopes",
        value_name = "URI"
    )]
    pub redirect_uris: Vec<String>,
    /// A public client (SPA, native app): no secret, PKCE required.
    #[arg(long)]
    pub public: bool,
    /// Read the client secret from standard input (otherwise one is generated and printed).
    #[arg(long, conflicts_with = "public")]
    pub secret_stdin: bool,
    /// Exact post-logout redirect URI; repeat for several.
    #[arg(long = "post-logout-redirect-uri", value_name = "URI")]
    pub post_logout_redirect_uris: Vec<String>,
    /// Ask the user for consent before releasing tokens.
    #[arg(long)]
    pub require_consent: bool,
    /// Every sign-in for this client needs a second factor.
    #[arg(long)]
    pub require_mfa: bool,
    /// Display name on the login and consent pages.
    #[arg(long)]
    pub name: Option<String>,
    /// ID token signature algorithm: RS256 (default) or ES256.
    #[arg(long, default_value = "RS256")]
    pub id_token_alg: String,
    /// Let a confidential client skip PKCE (legacy applications only).
    #[arg(long)]
    pub no_pkce: bool,
    /// Also accept client_secret_jwt (keeps the secret in the clear: HMAC needs it).
    #[arg(long, conflicts_with = "public")]
    pub client_secret_jwt: bool,
    /// A scope the client may get for itself with the client_credentials grant; repeat for
    /// several (confidential clients only).
    #[arg(long = "machine-scope", value_name = "SCOPE", conflicts_with = "public")]
    pub machine_scopes: Vec<String>,
}

/// Parses arguments, runs, and maps failures to exit code 1 with a one-line message.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    // Loaded once: the log format is configuration, and a configuration that does not load is
    // reported once, with the default format.
    let config = Config::load(cli.config.as_deref());
    init_tracing(config.as_ref().map(|c| &c.log).unwrap_or(&Default::default()));
    let config = match config {
        Ok(c) => c,
        Err(e) => return fail(&anyhow::Error::new(e)),
    };
    for warning in crate::config::environment::unknown_variables(std::env::vars()) {
        tracing::warn!("{warning}");
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: starting the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli, config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(&e),
    }
}

/// Prints `error: …` once and answers exit code 1.
fn fail(e: &anyhow::Error) -> ExitCode {
    eprintln!("error: {}", one_line(e));
    ExitCode::FAILURE
}

/// The error and its causes on one line, each cause only when the text so far does not already
/// say it (many errors repeat their source in their own message).
fn one_line(e: &anyhow::Error) -> String {
    let mut line = String::new();
    for cause in e.chain() {
        let text = cause.to_string();
        if line.contains(&text) {
            continue;
        }
        if !line.is_empty() {
            line.push_str(": ");
        }
        line.push_str(&text);
    }
    line
}

fn init_tracing(log: &crate::config::LogConfig) {
    use std::io::IsTerminal;
    use tracing_subscriber::EnvFilter;
    let filter =
        EnvFilter::try_from_env("GATEHOUSE_LOG").unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,sea_orm=warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match log.format {
        crate::config::LogFormat::Json => builder.json().with_current_span(true).with_span_list(true).try_init(),
        // Colour codes only for a person at a terminal, never into files or journald.
        crate::config::LogFormat::Text => builder.with_ansi(std::io::stderr().is_terminal()).try_init(),
    };
}

fn read_stdin_line(what: &str) -> anyhow::Result<String> {
    let mut buf = String::new();
    std::io::stdin()
        .read_to_string(&mut buf)
        .with_context(|| format!("reading the {what} from standard input"))?;
    let line = buf.lines().next().unwrap_or_default().to_string();
    if line.is_empty() {
        bail!("the {what} on standard input is empty");
    }
    Ok(line)
}

/// Runs one command with the configuration loaded from `cli.config`.
pub async fn run(cli: Cli, config: Config) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve => crate::app::serve(config, cli.config).await,
        Command::Check => crate::cli::check::run(&config).await,
        Command::Migrate => migrate(&config).await,
        Command::User(UserCommand::Add(a)) => add_user(&config, a).await,
        Command::User(UserCommand::Unlock { username }) => unlock_user(&config, &username).await,
        Command::Client(ClientCommand::Add(a)) => add_client(&config, a).await,
        Command::Keys(cmd) => keys(&config, cmd).await,
        Command::Client(ClientCommand::List) => list_clients(&config).await,
        Command::User(UserCommand::List(a)) => operate::list_users(&config, a).await,
        Command::User(UserCommand::Disable { user }) => operate::set_user_disabled(&config, &user, true).await,
        Command::User(UserCommand::ResetPassword { user }) => operate::send_password_reset(&config, &user).await,
        Command::User(UserCommand::Enable { user }) => operate::set_user_disabled(&config, &user, false).await,
        Command::User(UserCommand::Delete { user, yes }) => operate::delete_user(&config, &user, yes).await,
        Command::Client(ClientCommand::Disable { client_id }) => {
            operate::set_client_disabled(&config, &client_id, true).await
        }
        Command::Client(ClientCommand::Enable { client_id }) => {
            operate::set_client_disabled(&config, &client_id, false).await
        }
        Command::Client(ClientCommand::Delete { client_id, yes }) => {
            operate::delete_client(&config, &client_id, yes).await
        }
        Command::Audit(operate::AuditCommand::List(a)) => operate::list_events(&config, a).await,
        Command::Audit(operate::AuditCommand::Purge) => operate::purge_events(&config).await,
        Command::Provider(cmd) => operate::provider(&config, cmd).await,
        Command::Session(cmd) => operate::session(&config, cmd).await,
    }
}

/// Connects to the database and brings its schema up to date, as every command but `serve` does
/// first (`serve` migrates on its own).
async fn open_database(config: &Config) -> anyhow::Result<DatabaseConnection> {
    let db = store::connect(&config.database_url).await?;
    store::migrate(&db).await?;
    Ok(db)
}

/// `gatehouse migrate`.
async fn migrate(config: &Config) -> anyhow::Result<()> {
    open_database(config).await?;
    println!("database is up to date");
    Ok(())
}

/// `gatehouse user add`.
async fn add_user(config: &Config, a: UserAdd) -> anyhow::Result<()> {
    // Read and checked before the database is touched: a refused password changes nothing.
    let password = if a.password_stdin {
        Some(new_user_password(&a)?)
    } else {
        None
    };
    let db = open_database(config).await?;
    let user = users::create(
        &db,
        NewUser {
            username: a.username,
            email: a.email,
            email_verified: a.email_verified,
            name: a.name,
            password,
            groups: vec![],
        },
    )
    .await?;
    println!("created user {} (id {})", user.username, user.id);
    Ok(())
}

/// The new user's password from standard input, refused when too weak or too close to the
/// user's own names.
fn new_user_password(a: &UserAdd) -> anyhow::Result<String> {
    let password = read_stdin_line("password")?;
    let context = [
        a.username.as_str(),
        a.email.as_deref().unwrap_or(""),
        a.name.as_deref().unwrap_or(""),
    ];
    if let Err(problem) = crate::passwords::check_new(&password, &context) {
        bail!("{problem}");
    }
    Ok(password)
}

/// `gatehouse user unlock`.
async fn unlock_user(config: &Config, username: &str) -> anyhow::Result<()> {
    let db = open_database(config).await?;
    let user = users::find_by_login(&db, username)
        .await?
        .with_context(|| format!("no user {username:?}"))?;
    let cleared = store::throttles::clear(&db, &crate::credentials::account_key(&user)).await?;
    println!(
        "{} {}",
        if cleared {
            "cleared the password throttle of"
        } else {
            "no password throttle on"
        },
        user.username
    );
    Ok(())
}

/// `gatehouse client add`.
async fn add_client(config: &Config, a: ClientAdd) -> anyhow::Result<()> {
    let alg = SigningAlg::parse(&a.id_token_alg).context("--id-token-alg must be RS256 or ES256")?;
    let (secret, generated) = match (a.public, a.secret_stdin) {
        (true, _) => (None, false),
        (false, true) => (Some(read_stdin_line("client secret")?), false),
        (false, false) => (Some(random_token()), true),
    };
    let db = open_database(config).await?;
    let client = clients::upsert(&db, new_client(a, alg, secret.clone())).await?;
    println!("registered client {} ({})", client.id, client_kind(client.public));
    if let (true, Some(s)) = (generated, secret) {
        println!("client secret (shown once): {s}");
    }
    Ok(())
}

/// The registration `client add` asks for: defaults for everything the command line does not set.
fn new_client(a: ClientAdd, alg: SigningAlg, secret: Option<String>) -> NewClient {
    NewClient {
        name: a.name.unwrap_or_else(|| a.client_id.clone()),
        id: a.client_id,
        secret: secret.clone(),
        public: a.public,
        redirect_uris: a.redirect_uris,
        post_logout_redirect_uris: a.post_logout_redirect_uris,
        require_consent: a.require_consent,
        require_pkce: !a.no_pkce,
        id_token_alg: alg,
        allowed_providers: None,
        tokens: Default::default(),
        backchannel_logout_uri: None,
        assertion_keys: crate::store::clients::AssertionKeys {
            hmac_secret: if a.client_secret_jwt { secret } else { None },
            ..Default::default()
        },
        require_par: false,
        introspect_any: false,
        frontchannel_logout_uri: None,
        require_mfa: a.require_mfa,
        machine_scopes: a.machine_scopes,
    }
}

/// "public" or "confidential", as the client commands print it.
fn client_kind(public: bool) -> &'static str {
    if public {
        "public"
    } else {
        "confidential"
    }
}

/// `gatehouse keys rotate|list`.
async fn keys(config: &Config, cmd: KeysCommand) -> anyhow::Result<()> {
    let db = open_database(config).await?;
    let l = &config.lifetimes;
    let keys = crate::keys::KeyStore::new(db, l.id_token.max(l.access_token) as i64 + 120);
    match cmd {
        KeysCommand::Rotate => {
            for k in keys.rotate().await? {
                println!("new {} key {}", k.alg, k.kid);
            }
            println!("running servers sign with the new keys within seconds");
        }
        KeysCommand::List => {
            for k in keys.list().await? {
                println!(
                    "{}\t{}\tcreated at {}\t{}",
                    k.kid,
                    k.alg,
                    k.created_at,
                    key_state(k.retired_at)
                );
            }
        }
    }
    Ok(())
}

/// A signing key's state as `keys list` prints it.
fn key_state(retired_at: Option<i64>) -> String {
    match retired_at {
        None => "current".to_string(),
        Some(t) => format!("retired at {t}"),
    }
}

/// `gatehouse client list`.
async fn list_clients(config: &Config) -> anyhow::Result<()> {
    let db = open_database(config).await?;
    for c in clients::list(&db).await? {
        println!(
            "{}\t{}\t{}\t{}{}",
            c.id,
            client_kind(c.public),
            c.name,
            c.redirect_uris.join(" "),
            if c.disabled { "\tdisabled" } else { "" }
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client_add(args: &[&str]) -> ClientAdd {
        let cli = Cli::parse_from([&["gatehouse", "client", "add"], args].concat());
        match cli.command {
            Command::Client(ClientCommand::Add(a)) => a,
            other => panic!("parsed as {other:?}"),
        }
    }

    #[test]
    fn a_client_from_the_command_line_gets_its_defaults() {
        let a = client_add(&["app", "--redirect-uri", "https://app.example/cb"]);
        let c = new_client(a, SigningAlg::RS256, Some("s3cret".into()));
        assert_eq!(c.id, "app");
        assert_eq!(c.name, "app", "the name defaults to the id");
        assert_eq!(c.secret.as_deref(), Some("s3cret"));
        assert!(c.require_pkce);
        assert_eq!(c.assertion_keys.hmac_secret, None, "client_secret_jwt is opt-in");
    }

    #[test]
    fn client_secret_jwt_keeps_the_secret_for_hmac_and_no_pkce_turns_pkce_off() {
        let a = client_add(&[
            "app",
            "--redirect-uri",
            "https://app.example/cb",
            "--name",
            "App",
            "--client-secret-jwt",
            "--no-pkce",
        ]);
        let c = new_client(a, SigningAlg::ES256, Some("s3cret".into()));
        assert_eq!(c.name, "App");
        assert_eq!(c.assertion_keys.hmac_secret.as_deref(), Some("s3cret"));
        assert!(!c.require_pkce);
        assert_eq!(c.id_token_alg, SigningAlg::ES256);
    }

    #[test]
    fn an_error_repeated_by_its_source_is_said_once() {
        #[derive(Debug, thiserror::Error)]
        #[error("invalid configuration: {0}")]
        struct Outer(#[source] std::io::Error);
        let e = anyhow::Error::new(Outer(std::io::Error::other("bad key `isuer`"))).context("loading");
        assert_eq!(one_line(&e), "loading: invalid configuration: bad key `isuer`");
    }

    #[test]
    fn reports_read_as_before() {
        assert_eq!(client_kind(true), "public");
        assert_eq!(client_kind(false), "confidential");
        assert_eq!(key_state(None), "current");
        assert_eq!(key_state(Some(42)), "retired at 42");
    }
}
