//! The test harness: everything the test files share. This module starts a Gatehouse per test
//! on 127.0.0.1 with its own database; the submodules drive it and stand in for its peers.
pub mod accounts;
pub mod browser;
pub mod client_app;
pub mod federation;
pub mod logout_receiver;
pub mod loopback;
pub mod mfa;
pub mod passkey;
pub mod peers;
pub mod pg_cluster;
pub mod rogue_idp;
pub mod saml;
pub mod smtp;
pub mod social_standins;
pub mod urls;

use gatehouse::app::serve_on;
use gatehouse::config::{ClientDecl, Config, UserDecl};
use gatehouse::state::AppState;
use gatehouse::store::clients::{AccessTokenFormat, RefreshPolicy};
use sea_orm::ConnectionTrait;
use tokio::net::TcpListener;

/// The confidential client every flow test uses.
pub const RP_ID: &str = "rp";
pub const RP_SECRET: &str = "rp-secret with spaces & symbols";
pub const RP_REDIRECT: &str = "http://127.0.0.1:9/cb";
pub const RP_LOGOUT: &str = "http://127.0.0.1:9/bye";
/// A public client (PKCE, no secret).
pub const SPA_ID: &str = "spa";
/// A confidential client that requires consent.
pub const CONSENT_ID: &str = "consent-app";
/// A confidential client whose ID tokens are ES256.
pub const ES_ID: &str = "es-app";
pub const ALICE: &str = "alice";
pub const ALICE_PASSWORD: &str = "alice-correct-horse";

/// A confidential client that always gets refresh tokens (see [`extra_clients`]).
pub const REFRESH_APP: &str = "refresh-app";
/// A confidential client whose access tokens are JWTs, and never refresh tokens.
pub const JWT_APP: &str = "jwt-app";

/// Adds [`REFRESH_APP`] (with `backchannel` as its back-channel logout URI) and [`JWT_APP`], both
/// like the first client otherwise.
pub fn extra_clients(c: &mut Config, backchannel: Option<String>) {
    let base = c.clients[0].clone();
    c.clients.push(ClientDecl {
        id: REFRESH_APP.into(),
        refresh_tokens: Some(RefreshPolicy::Always),
        backchannel_logout_uri: backchannel,
        ..base.clone()
    });
    c.clients.push(ClientDecl {
        id: JWT_APP.into(),
        access_token_format: Some(AccessTokenFormat::Jwt),
        refresh_tokens: Some(RefreshPolicy::Never),
        ..base
    });
}

/// A running server and what it was started with.
pub struct TestServer {
    pub issuer: String,
    pub state: AppState,
    _dir: tempfile::TempDir,
    stop: tokio::sync::oneshot::Sender<()>,
    served: tokio::task::JoinHandle<anyhow::Result<()>>,
}

fn client(id: &str, public: bool, consent: bool, alg: Option<&str>) -> ClientDecl {
    ClientDecl {
        name: Some(format!("{id} application")),
        redirect_uris: vec![RP_REDIRECT.into()],
        post_logout_redirect_uris: vec![RP_LOGOUT.into()],
        public,
        secret: (!public).then(|| RP_SECRET.into()),
        require_consent: consent,
        id_token_signed_response_alg: alg.map(str::to_owned),
        ..ClientDecl::new(id)
    }
}

/// A fresh database URL: a new PostgreSQL database when `TEST_POSTGRES_URL` is set, or else a
/// SQLite file in `dir`.
pub async fn database_url(dir: &std::path::Path) -> String {
    match std::env::var("TEST_POSTGRES_URL") {
        Ok(base) if !base.is_empty() => {
            let base = base.trim_end_matches('/');
            let name = format!(
                "gh_{}",
                gatehouse::store::random_token()[..16].to_lowercase().replace('-', "_")
            );
            let admin = sea_orm::Database::connect(format!("{base}/postgres"))
                .await
                .expect("connect to PostgreSQL");
            admin
                .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
                .await
                .expect("create database");
            admin.close().await.ok();
            format!("{base}/{name}")
        }
        _ => format!("sqlite://{}/gatehouse.db?mode=rwc", dir.display()),
    }
}

impl TestServer {
    /// Default test configuration.
    pub async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    /// Test configuration, adjusted by `adjust` before start.
    pub async fn start_with(adjust: impl FnOnce(&mut Config)) -> Self {
        let mut prepared = Self::prepare().await;
        adjust(&mut prepared.config);
        prepared.launch().await
    }

    /// Binds the port and builds the default test config, for a test that must know its
    /// address before start (to register at an upstream provider, say).
    pub async fn prepare() -> Prepared {
        // TEST_LOG=debug (say) shows the server's log in a failing test's output.
        if let Ok(filter) = std::env::var("TEST_LOG") {
            let _ = tracing_subscriber::fmt()
                .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
                .with_test_writer()
                .try_init();
        }
        let dir = tempfile::tempdir().expect("temp dir");
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind loopback");
        let addr = listener.local_addr().expect("local addr");
        let mut config = Config {
            issuer: format!("http://{addr}").parse().expect("issuer"),
            listen: addr,
            database_url: database_url(dir.path()).await,
            ..Config::default()
        };
        config.mfa.secret_key = Some(mfa::TEST_KEY.into());
        config.clients = vec![
            client(RP_ID, false, false, None),
            client(SPA_ID, true, false, None),
            client(CONSENT_ID, false, true, None),
            client(ES_ID, false, false, Some("ES256")),
        ];
        config.users = vec![
            UserDecl {
                username: ALICE.into(),
                email: Some("alice@example.com".into()),
                email_verified: true,
                name: Some("Alice Liddell".into()),
                password: Some(ALICE_PASSWORD.into()),
                password_env: None,
            },
            UserDecl {
                username: "bob".into(),
                email: Some("bob@example.com".into()),
                email_verified: false,
                name: None,
                password: Some("bob-password-123".into()),
                password_env: None,
            },
        ];
        Prepared { listener, config, dir }
    }
}

/// Polls `check` every 20 ms for up to `secs` seconds; whether it came true.
pub async fn eventually(secs: u64, mut check: impl FnMut() -> bool) -> bool {
    for _ in 0..secs * 50 {
        if check() {
            return true;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    check()
}

/// A stopped server's configuration and database, to start again.
pub struct Stopped {
    pub config: Config,
    dir: tempfile::TempDir,
}

impl Stopped {
    /// Starts a new node on the same database and address.
    pub async fn restart(self) -> TestServer {
        let listener = TcpListener::bind(self.config.listen)
            .await
            .expect("bind loopback again");
        Prepared {
            listener,
            config: self.config,
            dir: self.dir,
        }
        .launch()
        .await
    }
}

/// A bound but not yet started server.
pub struct Prepared {
    listener: TcpListener,
    pub config: Config,
    dir: tempfile::TempDir,
}

impl Prepared {
    /// Starts serving and waits until ready.
    pub async fn launch(self) -> TestServer {
        let Prepared { listener, config, dir } = self;
        let addr = listener.local_addr().expect("local addr");
        let issuer = config.issuer_str();
        let state = AppState::build(config).await.expect("build app");
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let served = tokio::spawn(serve_on(listener, state.clone(), async move {
            let _ = stopped.await;
        }));
        // Ready once the router answers (the listener already accepts; this waits for the task).
        let health = format!("http://{addr}/healthz");
        for _ in 0..200 {
            if state.local_base_url().is_some() && reqwest::get(&health).await.is_ok_and(|r| r.status().is_success()) {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        TestServer {
            issuer,
            state,
            _dir: dir,
            stop,
            served,
        }
    }
}

impl TestServer {
    /// Stops this node as a restart would: the listener closes and its state, with the
    /// background tasks tied to it, is dropped. The database (and its folder) is handed back.
    pub async fn stop(self) -> Stopped {
        let TestServer {
            state,
            _dir: dir,
            stop,
            served,
            ..
        } = self;
        let config = state.config.clone();
        let _ = stop.send(());
        served.await.expect("server task").expect("server ran");
        drop(state);
        Stopped { config, dir }
    }

    /// Absolute URL of a path on this server.
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.issuer, path)
    }
}
