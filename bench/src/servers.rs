//! Starting the servers on loopback, timing their start-up and reading their memory.
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// Which server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Gatehouse,
    Panva,
}

/// Where and as whom the load generator talks to a server, for one client.
#[derive(Debug, Clone)]
pub struct Endpoints {
    pub authorize: String,
    pub token: String,
    pub userinfo: String,
    pub client_id: String,
    pub client_secret: String,
    pub redirect_uri: String,
    /// Accounts are `{username}0`, `{username}1`, … one per virtual user.
    pub username: String,
    pub password: String,
    /// The scopes asked for at authorize.
    pub scope: String,
    /// Further authorize parameters (panva grants `offline_access` only with `prompt=consent`;
    /// the brokered flow names its provider with `idp_hint`).
    pub extra: Vec<(String, String)>,
    /// The `alg` every ID token must be signed with.
    pub id_token_alg: &'static str,
}

impl Endpoints {
    /// The account of virtual user `vu`.
    pub fn account(&self, vu: usize) -> String {
        format!("{}{vu}", self.username)
    }

    /// The same server as another client.
    fn as_client(&self, id: &str, secret: &str) -> Self {
        Self {
            client_id: id.into(),
            client_secret: secret.into(),
            ..self.clone()
        }
    }
}

/// A confidential client that asks for tokens for itself (client_credentials grant).
#[derive(Debug, Clone)]
pub struct Machine {
    pub token: String,
    pub client_id: String,
    pub client_secret: String,
    pub scope: String,
    /// Further token-request parameters (panva: the resource indicator that makes its token a JWT).
    pub extra: Vec<(String, String)>,
}

/// The password of every benchmark account (strong enough for Gatehouse's password policy).
pub const PASSWORD: &str = "violet kettle orbit drum 42";

/// The scopes of the ordinary flows.
const SCOPE: &str = "openid profile email";

/// The scopes of a machine token (Gatehouse: `machine_scopes`; panva: its resource server's).
const MACHINE_SCOPE: &str = "api:read";

/// The resource server bench/panva.mjs issues JWT machine tokens for.
const PANVA_API: &str = "urn:gatehouse-bench:api";

/// A running server with its benchmark clients and accounts.
pub struct Server {
    pub kind: Kind,
    child: Child,
    pub pid: u32,
    /// The RS256 client (the original two flows).
    pub endpoints: Endpoints,
    /// A client whose ID tokens are ES256.
    pub es256: Endpoints,
    /// A client allowed refresh tokens, asking for `offline_access`.
    pub refresh: Endpoints,
    /// A machine client (client_credentials).
    pub machine: Machine,
    /// Labelled start-up times.
    pub startup: Vec<(String, Duration)>,
    version: String,
    /// "SQLite", "PostgreSQL 15.4", … (Gatehouse only).
    storage: String,
    /// Gatehouse's config file (to start it again on the same database).
    pub config: Option<PathBuf>,
    pub issuer: String,
}

pub const REDIRECT: &str = "http://127.0.0.1:9/cb";
/// The secret of every client the benchmark configures in panva (loopback only).
const PANVA_SECRET: &str = "bench-secret-for-panva-0123456789abcdef";

/// A loopback port nobody listens on right now.
pub fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// An HTTP client that does not follow redirects.
pub fn http_client() -> anyhow::Result<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(10))
        .build()?)
}

/// Polls `url` until it answers 200 (bounded: 20 s).
pub async fn wait_ready(http: &reqwest::Client, url: &str, since: Instant) -> anyhow::Result<Duration> {
    while since.elapsed() < Duration::from_secs(20) {
        if let Ok(r) = http.get(url).send().await {
            if r.status().is_success() {
                return Ok(since.elapsed());
            }
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    bail!("{url} did not answer within 20 s")
}

async fn endpoints(http: &reqwest::Client, issuer: &str) -> anyhow::Result<(String, String, String)> {
    let d: Value = http
        .get(format!("{issuer}/.well-known/openid-configuration"))
        .send()
        .await?
        .json()
        .await?;
    let s = |k: &str| {
        d[k].as_str()
            .map(str::to_owned)
            .with_context(|| format!("discovery has no {k}"))
    };
    Ok((
        s("authorization_endpoint")?,
        s("token_endpoint")?,
        s("userinfo_endpoint")?,
    ))
}

/// CPU time (user + system) a process has used so far, from `/proc/<pid>/stat`.
pub fn cpu_time(pid: u32) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name (which may hold spaces) start at field 3, "state".
    let after = stat.rsplit_once(')').map(|(_, rest)| rest).unwrap_or_default();
    let field = |n: usize| -> u64 {
        after
            .split_whitespace()
            .nth(n - 3)
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    // SAFETY: sysconf has no preconditions.
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as u64;
    Duration::from_micros((field(14) + field(15)) * 1_000_000 / ticks)
}

/// Resident and peak resident memory of a process, in KiB.
pub fn rss_kb(pid: u32) -> (u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// `gatehouse user add NAME --password-stdin` against the benchmark's database.
async fn add_gatehouse_user(bin: &Path, config: &Path, name: &str) -> anyhow::Result<()> {
    use tokio::io::AsyncWriteExt;
    let mut child = Command::new(bin)
        .arg("--config")
        .arg(config)
        .args(["user", "add", name, "--password-stdin"])
        .env("GATEHOUSE_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .context("running gatehouse user add")?;
    let mut stdin = child.stdin.take().context("stdin")?;
    stdin.write_all(format!("{PASSWORD}\n").as_bytes()).await?;
    drop(stdin);
    let status = child.wait().await?;
    anyhow::ensure!(status.success(), "gatehouse user add {name} failed");
    Ok(())
}

/// Starts `gatehouse serve` (its log level from BENCH_GATEHOUSE_LOG, e.g. "sea_orm=debug", to
/// see what the server does per flow; "warn" by default).
pub async fn spawn_gatehouse(bin: &Path, config: &Path) -> anyhow::Result<Child> {
    Command::new(bin)
        .args(["serve", "--config"])
        .arg(config)
        .env(
            "GATEHOUSE_LOG",
            std::env::var("BENCH_GATEHOUSE_LOG").unwrap_or_else(|_| "warn".into()),
        )
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .with_context(|| format!("starting {}", bin.display()))
}

/// Where a Gatehouse keeps its data.
pub enum Store {
    /// A new SQLite file in the work folder.
    Sqlite,
    /// A PostgreSQL database (URL) and how to name it in the report.
    Postgres { url: String, label: String },
}

/// How to set up a Gatehouse.
pub struct GatehouseSetup<'a> {
    pub bin: &'a Path,
    /// Its own folder (config file, SQLite database).
    pub dir: PathBuf,
    /// The loopback port to listen on (a free one when `None`).
    pub port: Option<u16>,
    pub store: Store,
    /// Accounts `bench0`, `bench1`, … added with `gatehouse user add`.
    pub accounts: usize,
    /// Self-registration on (the crash check drives /register).
    pub registration: bool,
    /// `[[providers]]` entries (TOML).
    pub providers: String,
}

/// The benchmark's clients, as Gatehouse config.
fn gatehouse_clients() -> String {
    format!(
        r#"[[clients]]
id = "bench"
name = "Bench"
redirect_uris = ["{REDIRECT}"]
secret = "bench-secret"

[[clients]]
id = "bench-es256"
name = "Bench ES256"
redirect_uris = ["{REDIRECT}"]
secret = "bench-secret"
id_token_signed_response_alg = "ES256"

[[clients]]
id = "bench-refresh"
name = "Bench refresh"
redirect_uris = ["{REDIRECT}"]
secret = "bench-secret"
refresh_tokens = "offline_access"

[[clients]]
id = "bench-machine"
name = "Bench machine"
redirect_uris = []
secret = "bench-secret"
machine_scopes = ["api:read", "api:write"]
"#
    )
}

/// Starts Gatehouse twice (new database, then existing), timing both start-ups.
pub async fn start_gatehouse(setup: GatehouseSetup<'_>) -> anyhow::Result<Server> {
    let http = http_client()?;
    std::fs::create_dir_all(&setup.dir)?;
    let port = match setup.port {
        Some(p) => p,
        None => free_port()?,
    };
    let issuer = format!("http://127.0.0.1:{port}");
    let config = setup.dir.join("gatehouse.toml");
    let (database_url, storage, fresh_label) = match &setup.store {
        Store::Sqlite => (
            format!("sqlite://{}?mode=rwc", setup.dir.join("gatehouse.db").display()),
            "SQLite".to_owned(),
            "new SQLite database (migrate + key generation)".to_owned(),
        ),
        Store::Postgres { url, label } => (
            url.clone(),
            label.clone(),
            "new PostgreSQL database (migrate + key generation)".to_owned(),
        ),
    };
    std::fs::write(
        &config,
        format!(
            r#"issuer = "{issuer}"
listen = "127.0.0.1:{port}"
database_url = "{database_url}"
[registration]
enabled = {registration}
# One address makes all the load: guessing limits would measure themselves.
[limits]
sign_in_per_minute = 0
registrations_per_hour = 0
client_auth_failures_per_minute = 0
interactions_per_minute = 0
[limits.account]
free_attempts = 1000000

{clients}
{providers}"#,
            registration = setup.registration,
            clients = gatehouse_clients(),
            providers = setup.providers,
        ),
    )?;
    let health = format!("{issuer}/healthz");
    // First start creates the database and the signing keys; the second is the usual case.
    let t = Instant::now();
    let mut first = spawn_gatehouse(setup.bin, &config).await?;
    let fresh = wait_ready(&http, &health, t).await?;
    first.kill().await.ok();
    first.wait().await.ok();
    // Accounts are added between the two starts, so neither start-up time includes
    // their password hashing.
    for vu in 0..setup.accounts {
        add_gatehouse_user(setup.bin, &config, &format!("bench{vu}")).await?;
    }
    let t = Instant::now();
    let child = spawn_gatehouse(setup.bin, &config).await?;
    let again = wait_ready(&http, &health, t).await?;
    let (authorize, token, userinfo) = endpoints(&http, &issuer).await?;
    let version = String::from_utf8_lossy(&std::process::Command::new(setup.bin).arg("--version").output()?.stdout)
        .trim()
        .to_owned();
    let endpoints = Endpoints {
        authorize,
        token: token.clone(),
        userinfo,
        client_id: "bench".into(),
        client_secret: "bench-secret".into(),
        redirect_uri: REDIRECT.into(),
        username: "bench".into(),
        password: PASSWORD.into(),
        scope: SCOPE.into(),
        extra: Vec::new(),
        id_token_alg: "RS256",
    };
    Ok(Server {
        kind: Kind::Gatehouse,
        pid: child.id().context("pid")?,
        child,
        es256: Endpoints {
            id_token_alg: "ES256",
            ..endpoints.as_client("bench-es256", "bench-secret")
        },
        refresh: Endpoints {
            scope: format!("{SCOPE} offline_access"),
            ..endpoints.as_client("bench-refresh", "bench-secret")
        },
        machine: Machine {
            token,
            client_id: "bench-machine".into(),
            client_secret: "bench-secret".into(),
            scope: MACHINE_SCOPE.into(),
            extra: Vec::new(),
        },
        endpoints,
        startup: vec![(fresh_label, fresh), ("existing database".into(), again)],
        version,
        storage,
        config: Some(config),
        issuer,
    })
}

/// Runs `node script` (which prints `READY <issuer>` once listening) in `dir`.
async fn spawn_node(
    script: &Path,
    dir: &Path,
    peer_dir: &Path,
    envs: &[(&str, String)],
) -> anyhow::Result<(Child, String)> {
    let mut child = Command::new("node")
        .arg(script)
        .current_dir(dir)
        .envs(envs.iter().map(|(k, v)| (k, v)))
        .env("PORT", "0")
        .env("PEER_DIR", peer_dir.canonicalize()?)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .context("starting node (oidc-provider)")?;
    let mut lines = BufReader::new(child.stdout.take().context("stdout")?).lines();
    let line = tokio::time::timeout(Duration::from_secs(20), lines.next_line())
        .await??
        .unwrap_or_default();
    let issuer = line
        .strip_prefix("READY ")
        .context("oidc-provider did not start")?
        .trim()
        .to_owned();
    // Keep draining its stdout so it never blocks or dies on a closed pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    Ok((child, issuer))
}

/// Registers a client at an oidc-provider (RFC 7591): `(client_id, client_secret)`.
pub async fn register(http: &reqwest::Client, issuer: &str, metadata: Value) -> anyhow::Result<(String, String)> {
    let reg: Value = http
        .post(format!("{issuer}/reg"))
        .json(&metadata)
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    Ok((
        reg["client_id"].as_str().context("client_id")?.into(),
        reg["client_secret"].as_str().context("client_secret")?.into(),
    ))
}

fn panva_version(peer_dir: &Path) -> anyhow::Result<String> {
    let pkg: Value = serde_json::from_str(&std::fs::read_to_string(
        peer_dir.join("node_modules/oidc-provider/package.json"),
    )?)?;
    let node = String::from_utf8_lossy(&std::process::Command::new("node").arg("--version").output()?.stdout)
        .trim()
        .to_owned();
    Ok(format!(
        "oidc-provider {} on node {node}",
        pkg["version"].as_str().unwrap_or("?")
    ))
}

/// Starts panva oidc-provider with the benchmark's configuration (bench/panva.mjs).
pub async fn start_panva(peer_dir: &Path) -> anyhow::Result<Server> {
    let http = http_client()?;
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("panva.mjs");
    // Static clients, not dynamic registration: the in-memory adapter is an LRU of 1,000
    // entries, and a registered client unused for a few thousand flows falls out of it.
    let code_client = |id: &str, alg: &str, grants: &[&str]| {
        json!({
            "client_id": id, "client_secret": PANVA_SECRET,
            "redirect_uris": [REDIRECT], "token_endpoint_auth_method": "client_secret_basic",
            "grant_types": grants, "response_types": ["code"],
            "id_token_signed_response_alg": alg,
        })
    };
    let clients = json!([
        code_client("bench-rs256", "RS256", &["authorization_code"]),
        code_client("bench-es256", "ES256", &["authorization_code"]),
        code_client("bench-refresh", "RS256", &["authorization_code", "refresh_token"]),
        {
            "client_id": "bench-machine", "client_secret": PANVA_SECRET,
            "redirect_uris": [], "token_endpoint_auth_method": "client_secret_basic",
            "grant_types": ["client_credentials"], "response_types": [],
            "scope": "api:read api:write",
        },
    ]);
    let t = Instant::now();
    let (child, issuer) = spawn_node(&script, peer_dir, peer_dir, &[("BENCH_CLIENTS", clients.to_string())]).await?;
    let started = wait_ready(&http, &format!("{issuer}/.well-known/openid-configuration"), t).await?;
    let (id, secret) = ("bench-rs256".to_owned(), PANVA_SECRET.to_owned());
    let (es_id, es_secret) = ("bench-es256", PANVA_SECRET);
    let (rt_id, rt_secret) = ("bench-refresh", PANVA_SECRET);
    let (m_id, m_secret) = ("bench-machine".to_owned(), PANVA_SECRET.to_owned());
    let (authorize, token, userinfo) = endpoints(&http, &issuer).await?;
    let endpoints = Endpoints {
        authorize,
        token: token.clone(),
        userinfo,
        client_id: id,
        client_secret: secret,
        redirect_uri: REDIRECT.into(),
        username: "bench".into(),
        password: PASSWORD.into(),
        scope: SCOPE.into(),
        extra: Vec::new(),
        id_token_alg: "RS256",
    };
    Ok(Server {
        kind: Kind::Panva,
        pid: child.id().context("pid")?,
        child,
        es256: Endpoints {
            id_token_alg: "ES256",
            ..endpoints.as_client(es_id, es_secret)
        },
        refresh: Endpoints {
            scope: format!("{SCOPE} offline_access"),
            // OIDC Core §11: offline_access only with prompt=consent (panva holds to it).
            extra: vec![("prompt".into(), "consent".into())],
            ..endpoints.as_client(rt_id, rt_secret)
        },
        machine: Machine {
            token,
            client_id: m_id,
            client_secret: m_secret,
            scope: MACHINE_SCOPE.into(),
            extra: vec![("resource".into(), PANVA_API.into())],
        },
        endpoints,
        startup: vec![("in-memory adapter".into(), started)],
        version: panva_version(peer_dir)?,
        storage: String::new(),
        config: None,
        issuer,
    })
}

/// The test suite's upstream OpenID Provider (tests/peers/oidc-provider/server.mjs), for the
/// brokered flow: its process and issuer.
pub struct Upstream {
    child: Child,
    pub pid: u32,
    pub issuer: String,
    pub version: String,
}

/// Starts the upstream OP the integration tests broker to.
pub async fn start_upstream(peer_dir: &Path) -> anyhow::Result<Upstream> {
    let http = http_client()?;
    let t = Instant::now();
    let (child, issuer) = spawn_node(Path::new("server.mjs"), peer_dir, peer_dir, &[]).await?;
    wait_ready(&http, &format!("{issuer}/.well-known/openid-configuration"), t).await?;
    Ok(Upstream {
        pid: child.id().context("pid")?,
        child,
        issuer,
        version: panva_version(peer_dir)?,
    })
}

impl Upstream {
    /// Stops the process.
    pub async fn stop(mut self) {
        self.child.kill().await.ok();
        self.child.wait().await.ok();
    }
}

impl Server {
    /// Name and version for the report.
    pub fn describe(&self) -> String {
        match self.kind {
            Kind::Gatehouse => format!("Gatehouse ({}, {})", self.version, self.storage),
            Kind::Panva => format!("panva {}", self.version),
        }
    }

    /// A short name for tables.
    pub fn short(&self) -> String {
        match self.kind {
            Kind::Gatehouse => format!("Gatehouse, {}", self.storage),
            Kind::Panva => "panva".into(),
        }
    }

    /// Kills the process with SIGKILL, as a crash would, and waits for it to be gone.
    pub async fn crash(&mut self) -> anyhow::Result<()> {
        // SAFETY: kill has no memory preconditions; the pid is our own child's, not yet reaped.
        let rc = unsafe { libc::kill(self.pid as libc::pid_t, libc::SIGKILL) };
        anyhow::ensure!(rc == 0, "kill -9 {} failed", self.pid);
        self.child.wait().await?;
        Ok(())
    }

    /// Starts Gatehouse again on the same config and database (after [`Server::crash`]).
    pub async fn restart(&mut self, bin: &Path) -> anyhow::Result<Duration> {
        let config = self.config.clone().context("only Gatehouse restarts")?;
        let t = Instant::now();
        self.child = spawn_gatehouse(bin, &config).await?;
        self.pid = self.child.id().context("pid")?;
        wait_ready(&http_client()?, &format!("{}/healthz", self.issuer), t).await
    }

    /// Stops the process.
    pub async fn stop(mut self) {
        self.child.kill().await.ok();
        self.child.wait().await.ok();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_time_counts_this_process_working() {
        // On a loaded machine wall time says little: work until the counter moves, or give up.
        let pid = std::process::id();
        let before = cpu_time(pid);
        let t = Instant::now();
        let mut x = 0u64;
        while cpu_time(pid) - before < Duration::from_millis(50) && t.elapsed() < Duration::from_secs(20) {
            for _ in 0..1_000_000 {
                x = x.wrapping_mul(6364136223846793005).wrapping_add(1);
            }
        }
        std::hint::black_box(x);
        let used = cpu_time(pid) - before;
        assert!(used >= Duration::from_millis(50), "{used:?} after {:?}", t.elapsed());
        assert!(
            used <= t.elapsed() * 2 + Duration::from_millis(20),
            "one thread cannot use more than its share"
        );
    }
}
