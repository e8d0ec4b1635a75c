//! Changes without a restart, on real `gatehouse serve` processes: SIGTERM drains requests in
//! flight, SIGHUP reloads the file's providers and clients, and a change made on one node
//! (runtime providers, clients, keys, a disabled account) takes effect on another node on the
//! same database within seconds (PostgreSQL when `TEST_POSTGRES_URL` is set).
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use gatehouse::audit::Actor;
use gatehouse::config::ProviderConfig;
use gatehouse::oidc::pkce::s256;
use sea_orm::ConnectionTrait;

use super::harness::browser::{location, Browser};
use super::harness::peers::oidc_peer;
use super::harness::urls::{query_param, urlencode};
use super::harness::*;

/// A `gatehouse serve` process on a free loopback port; killed when dropped.
struct Node {
    child: Child,
    base: String,
    log: PathBuf,
    _dir: tempfile::TempDir,
}

impl Node {
    /// Starts `gatehouse serve` on `database_url` with the config file `config` (if any) and
    /// waits until it answers.
    async fn start(database_url: &str, config: Option<&Path>) -> Node {
        let dir = tempfile::tempdir().unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let base = format!("http://127.0.0.1:{port}");
        let log = dir.path().join("stderr.log");
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_gatehouse"));
        for (name, _) in std::env::vars() {
            if name.starts_with("GATEHOUSE_") {
                cmd.env_remove(name);
            }
        }
        if let Some(c) = config {
            cmd.arg("--config").arg(c);
        }
        let child = cmd
            .arg("serve")
            .env("GATEHOUSE_DATABASE_URL", database_url)
            .env("GATEHOUSE_LISTEN", format!("127.0.0.1:{port}"))
            .env("GATEHOUSE_ISSUER", &base)
            .env("GATEHOUSE_LOG", "info")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .expect("run gatehouse serve");
        let node = Node {
            child,
            base,
            log,
            _dir: dir,
        };
        let started = Instant::now();
        loop {
            if reqwest::get(node.url("/healthz"))
                .await
                .is_ok_and(|r| r.status().is_success())
            {
                return node;
            }
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "gatehouse serve did not come up:\n{}",
                node.log()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn signal(&self, signal: libc::c_int) {
        // SAFETY: kill only sends a signal to our own child, by its id.
        let sent = unsafe { libc::kill(self.child.id() as libc::pid_t, signal) };
        assert_eq!(sent, 0, "signal sent");
    }

    /// The login page of a new sign-in for the public client `client` at this node.
    async fn login_page(&self, client: &str, redirect_uri: &str) -> (u16, String) {
        let browser = Browser::new();
        let mut url = self.url(&format!(
            "/authorize?response_type=code&client_id={client}&redirect_uri={}&scope=openid&code_challenge={}&code_challenge_method=S256",
            urlencode(redirect_uri),
            s256("live-changes-verifier-live-changes-verifier-0123")
        ));
        for _ in 0..10 {
            let res = browser.get(&url).await;
            match location(&res) {
                Some(next) if next.starts_with('/') => url = self.url(&next),
                Some(next) => return (res.status().as_u16(), next),
                None => return (res.status().as_u16(), res.text().await.unwrap()),
            }
        }
        panic!("redirect loop at {url}");
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Polls `check` every 100 ms for up to `secs` seconds; the time it took to come true.
async fn within<F, Fut>(secs: u64, mut check: F) -> Option<Duration>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(secs) {
        if check().await {
            return Some(started.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    None
}

#[tokio::test]
async fn sigterm_lets_a_request_in_flight_finish_then_stops_taking_new_ones_and_exits() {
    let dir = tempfile::tempdir().unwrap();
    let mut node = Node::start(&format!("sqlite://{}/g.db?mode=rwc", dir.path().display()), None).await;
    let addr = node.base.trim_start_matches("http://").to_owned();
    // A request whose body is still arriving when the signal comes.
    let body = "grant_type=client_credentials&client_id=nobody&client_secret=wrong";
    let mut conn = std::net::TcpStream::connect(&addr).unwrap();
    write!(
        conn,
        "POST /token HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{}",
        body.len(),
        &body[..10]
    )
    .unwrap();
    conn.flush().unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    node.signal(libc::SIGTERM);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        std::net::TcpStream::connect(&addr).is_err(),
        "no new connections once shutting down"
    );
    assert!(node.child.try_wait().unwrap().is_none(), "still draining");
    conn.write_all(&body.as_bytes()[10..]).unwrap();
    conn.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut answer = String::new();
    conn.read_to_string(&mut answer).unwrap();
    assert!(
        answer.starts_with("HTTP/1.1 401") && answer.contains("invalid_client"),
        "the request in flight got its whole answer: {answer}"
    );
    let started = Instant::now();
    let status = loop {
        if let Some(s) = node.child.try_wait().unwrap() {
            break s;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "did not exit:\n{}",
            node.log()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(status.success(), "exit status {status}:\n{}", node.log());
    assert!(node.log().contains("shutting down"), "{}", node.log());
}

/// A config file with the public client `first-app` and provider `first-idp`, or after the
/// edit, `second-app` and `second-idp`.
fn reloadable_config(path: &Path, edited: bool) {
    let (client, provider) = if edited {
        ("second-app", "second-idp")
    } else {
        ("first-app", "first-idp")
    };
    std::fs::write(
        path,
        format!(
            "[[clients]]\nid = \"{client}\"\npublic = true\nredirect_uris = [\"http://127.0.0.1:9/{client}\"]\n\
             [[providers]]\nid = \"{provider}\"\nname = \"Provider {provider}\"\nissuer = \"{}\"\nclient_id = \"x\"\nclient_secret = \"y\"\n",
            oidc_peer().issuer
        ),
    )
    .unwrap();
}

#[tokio::test]
async fn sighup_puts_the_file_s_new_providers_and_clients_in_force_and_keeps_them_on_a_broken_file() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("gatehouse.toml");
    reloadable_config(&config, false);
    let node = Node::start(
        &format!("sqlite://{}/g.db?mode=rwc", dir.path().display()),
        Some(&config),
    )
    .await;
    let (status, page) = node.login_page("first-app", "http://127.0.0.1:9/first-app").await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("Provider first-idp"), "{page}");
    let (status, _) = node.login_page("second-app", "http://127.0.0.1:9/second-app").await;
    assert_ne!(status, 200, "no such client yet");

    reloadable_config(&config, true);
    node.signal(libc::SIGHUP);
    let node = &node;
    let took = within(5, || async move {
        let (status, page) = node.login_page("second-app", "http://127.0.0.1:9/second-app").await;
        status == 200 && page.contains("Provider second-idp") && !page.contains("Provider first-idp")
    })
    .await;
    assert!(took.is_some(), "reloaded:\n{}", node.log());
    assert!(node.log().contains("SIGHUP: reloaded"), "{}", node.log());

    // A broken file: logged, and everything stays as it was.
    std::fs::write(&config, "[[clients]\nbroken").unwrap();
    node.signal(libc::SIGHUP);
    let logged = within(5, || async move {
        node.log().contains("the configuration was not reloaded")
    })
    .await;
    assert!(logged.is_some(), "{}", node.log());
    let (status, page) = node.login_page("second-app", "http://127.0.0.1:9/second-app").await;
    assert!(status == 200 && page.contains("Provider second-idp"), "{page}");
    assert!(reqwest::get(node.url("/healthz")).await.unwrap().status().is_success());
}

/// Node A in this process, node B a `gatehouse serve` process on A's database.
async fn two_nodes() -> (TestServer, Node) {
    let a = TestServer::start().await;
    let b = Node::start(&a.state.config.database_url, None).await;
    (a, b)
}

#[tokio::test]
async fn a_user_disabled_on_one_node_is_refused_on_the_other_within_seconds() {
    let (a, b) = two_nodes().await;
    // Alice signs in at B and gets an access token there.
    let browser = Browser::new();
    let verifier = "two-nodes-verifier-two-nodes-verifier-0123456789";
    let authorize = b.url(&format!(
        "/authorize?response_type=code&client_id={RP_ID}&redirect_uri={}&scope=openid&code_challenge={}&code_challenge_method=S256",
        urlencode(RP_REDIRECT),
        s256(verifier)
    ));
    let login = location(&browser.get(&authorize).await).unwrap();
    let res = browser.submit_login(&b.url(&login), ALICE, ALICE_PASSWORD).await;
    let mut next = location(&res).expect("signed in");
    while next.starts_with('/') {
        next = location(&browser.get(&b.url(&next)).await).unwrap();
    }
    let code = query_param(&next, "code").unwrap_or_else(|| panic!("{next}"));
    let tokens: serde_json::Value = reqwest::Client::new()
        .post(b.url("/token"))
        .basic_auth(RP_ID, Some(RP_SECRET))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", RP_REDIRECT),
            ("code_verifier", verifier),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let access = tokens["access_token"].as_str().unwrap().to_owned();
    let (node_b, access) = (&b, access.as_str());
    let userinfo = move || async move {
        reqwest::Client::new()
            .get(node_b.url("/userinfo"))
            .bearer_auth(access)
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    };
    assert_eq!(userinfo().await, 200);

    // Disabled through node A's database connection.
    a.state
        .db
        .execute_unprepared(&format!("UPDATE users SET disabled = true WHERE username = '{ALICE}'"))
        .await
        .unwrap();
    let took = within(3, || async move { userinfo().await == 401 }).await;
    assert!(took.is_some(), "B refuses her token");
    // Her session at B no longer signs her in: a new request asks for a login.
    let again = location(&browser.get(&authorize).await).unwrap();
    assert!(again.contains("/login?"), "asked to sign in again: {again}");
    let refused = browser.submit_login(&b.url(&again), ALICE, ALICE_PASSWORD).await;
    assert!(!refused.status().is_redirection(), "her password no longer works at B");
}

#[tokio::test]
async fn runtime_providers_clients_and_keys_changed_on_one_node_take_effect_on_the_other_within_seconds() {
    use gatehouse::upstream::runtime;

    let (a, b) = two_nodes().await;
    let node_b = &b;
    let spa_login = move || async move { node_b.login_page(SPA_ID, RP_REDIRECT).await };
    let (status, page) = spa_login().await;
    assert_eq!(status, 200, "{page}");
    assert!(!page.contains("Runtime Corp"));

    // A provider created on A: in force on A at once, on B within seconds.
    let provider = ProviderConfig {
        id: "runtime-corp".into(),
        name: "Runtime Corp".into(),
        issuer: Some(oidc_peer().issuer.parse().unwrap()),
        client_id: "x".into(),
        client_secret: Some("y".into()),
        ..Default::default()
    };
    runtime::create(&a.state.db, &a.state.upstreams, &Actor::System, provider.clone())
        .await
        .unwrap();
    assert!(a.state.upstreams.current().get("runtime-corp").is_some());
    let shown = within(5, || async move { spa_login().await.1.contains("Runtime Corp") }).await;
    assert!(shown.is_some(), "B shows the new provider:\n{}", b.log());
    // The button leads to the provider (B built a working connector).
    let (_, page) = spa_login().await;
    assert!(page.contains("/broker/start/runtime-corp?interaction"), "{page}");

    // Disabled on A: gone from B.
    runtime::set_enabled(&a.state.db, &a.state.upstreams, &Actor::System, "runtime-corp", false)
        .await
        .unwrap();
    let gone = within(5, || async move { !spa_login().await.1.contains("Runtime Corp") }).await;
    assert!(gone.is_some(), "B hides the disabled provider");
    runtime::delete(&a.state.db, &a.state.upstreams, &Actor::System, "runtime-corp")
        .await
        .unwrap();
    assert!(runtime::list(&a.state.db, &a.state.upstreams).await.unwrap().is_empty());

    // A client changed on A (a new redirect URI): B accepts it within seconds, not after its
    // cache's 30 s.
    let new_redirect = "http://127.0.0.1:9/new-cb";
    let (status, _) = b.login_page(SPA_ID, new_redirect).await;
    assert_ne!(status, 200, "not registered yet");
    let mut spa = a.state.clients.get(SPA_ID).await.unwrap().unwrap().as_ref().clone();
    spa.redirect_uris.push(new_redirect.into());
    let decl = gatehouse::config::ClientDecl {
        public: true,
        redirect_uris: spa.redirect_uris.clone(),
        post_logout_redirect_uris: spa.post_logout_redirect_uris.clone(),
        name: Some(spa.name.clone()),
        ..gatehouse::config::ClientDecl::new(SPA_ID)
    };
    let mut config = a.state.config.clone();
    config.clients = vec![decl];
    config.users.clear();
    gatehouse::config::declared::apply(&a.state.db, &config).await.unwrap();
    let accepted = within(
        5,
        || async move { node_b.login_page(SPA_ID, new_redirect).await.0 == 200 },
    )
    .await;
    assert!(accepted.is_some(), "B sees the new redirect URI");

    // Keys rotated on A: B publishes the new ones within seconds, not after a minute.
    let jwks = move || async move {
        reqwest::get(node_b.url("/jwks"))
            .await
            .unwrap()
            .json::<serde_json::Value>()
            .await
            .unwrap()
    };
    jwks().await;
    let made = a.state.keys.rotate().await.unwrap();
    let made = &made;
    let published = within(5, || async move {
        let keys = jwks().await;
        made.iter().all(|k| {
            keys["keys"]
                .as_array()
                .unwrap()
                .iter()
                .any(|j| j["kid"] == k.kid.as_str())
        })
    })
    .await;
    assert!(published.is_some(), "B publishes A's new keys");
}

#[tokio::test]
async fn runtime_providers_are_refused_with_the_field_named_and_the_file_s_stay_read_only() {
    use gatehouse::upstream::runtime::{self, Origin, ProviderChangeError};

    let server = TestServer::start_with(|c| {
        c.providers = vec![ProviderConfig {
            id: "from-file".into(),
            name: "From file".into(),
            issuer: Some(oidc_peer().issuer.parse().unwrap()),
            client_id: "x".into(),
            client_secret: Some("y".into()),
            ..Default::default()
        }];
    })
    .await;
    let (db, live) = (&server.state.db, &server.state.upstreams);
    let good = ProviderConfig {
        id: "added".into(),
        name: "Added".into(),
        issuer: Some(oidc_peer().issuer.parse().unwrap()),
        client_id: "x".into(),
        client_secret: Some("y".into()),
        ..Default::default()
    };
    fn refused<T>(r: Result<T, ProviderChangeError>) -> ProviderChangeError {
        match r {
            Ok(_) => panic!("accepted"),
            Err(e) => e,
        }
    }
    let e = refused(
        runtime::create(
            db,
            live,
            &Actor::System,
            ProviderConfig {
                id: "from-file".into(),
                ..good.clone()
            },
        )
        .await,
    );
    assert!(matches!(e, ProviderChangeError::DeclaredInFile(_)), "{e}");
    let e = refused(runtime::delete(db, live, &Actor::System, "from-file").await);
    assert!(matches!(e, ProviderChangeError::DeclaredInFile(_)), "{e}");
    let e = refused(
        runtime::create(
            db,
            live,
            &Actor::System,
            ProviderConfig {
                client_id: String::new(),
                ..good.clone()
            },
        )
        .await,
    );
    assert!(
        matches!(e, ProviderChangeError::Invalid { field: "client_id", .. }),
        "{e}"
    );
    let e = refused(
        runtime::create(
            db,
            live,
            &Actor::System,
            ProviderConfig {
                client_secret: None,
                client_secret_env: Some("DATABASE_PASSWORD".into()),
                ..good.clone()
            },
        )
        .await,
    );
    assert!(
        matches!(
            e,
            ProviderChangeError::Invalid {
                field: "client_secret_env",
                ..
            }
        ),
        "the server's environment is not for API callers: {e}"
    );
    let e = refused(runtime::update(db, live, &Actor::System, good.clone()).await);
    assert!(matches!(e, ProviderChangeError::NotFound(_)), "{e}");
    assert!(
        runtime::list(db, live).await.unwrap().len() == 1,
        "nothing half-written"
    );

    runtime::create(db, live, &Actor::System, good.clone()).await.unwrap();
    let e = refused(runtime::create(db, live, &Actor::System, good.clone()).await);
    assert!(matches!(e, ProviderChangeError::Exists(_)), "{e}");
    runtime::update(
        db,
        live,
        &Actor::System,
        ProviderConfig {
            name: "Renamed".into(),
            ..good.clone()
        },
    )
    .await
    .unwrap();
    let listed = runtime::list(db, live).await.unwrap();
    let origins: Vec<(&str, &str, Origin)> = listed
        .iter()
        .map(|p| (p.config.id.as_str(), p.config.name.as_str(), p.origin))
        .collect();
    assert_eq!(
        origins,
        [
            ("from-file", "From file", Origin::ConfigFile),
            ("added", "Renamed", Origin::Runtime)
        ]
    );
    let names: Vec<String> = live.current().all().map(|u| u.config().name.clone()).collect();
    assert_eq!(
        names,
        ["From file", "Renamed"],
        "file first, then runtime, in force at once"
    );
}
