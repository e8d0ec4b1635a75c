//! Starting the two servers on loopback, timing their start-up and reading their memory.
use std::path::Path;
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

/// Where and as whom the load generator talks to a server.
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
}

impl Endpoints {
    /// The account of virtual user `vu`.
    pub fn account(&self, vu: usize) -> String {
        format!("{}{vu}", self.username)
    }
}

/// The password of every benchmark account (strong enough for Gatehouse's password policy).
pub const PASSWORD: &str = "violet kettle orbit drum 42";

/// A running server with one confidential client and one user.
pub struct Server {
    pub kind: Kind,
    child: Child,
    pub pid: u32,
    pub endpoints: Endpoints,
    /// Labelled start-up times.
    pub startup: Vec<(String, Duration)>,
    version: String,
}

pub const REDIRECT: &str = "http://127.0.0.1:9/cb";

fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// Polls `url` until it answers 200 (bounded: 10 s).
async fn wait_ready(http: &reqwest::Client, url: &str, since: Instant) -> anyhow::Result<Duration> {
    while since.elapsed() < Duration::from_secs(10) {
        if let Ok(r) = http.get(url).send().await {
            if r.status().is_success() {
                return Ok(since.elapsed());
            }
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    bail!("{url} did not answer within 10 s")
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

async fn spawn_gatehouse(bin: &Path, config: &Path) -> anyhow::Result<Child> {
    Command::new(bin)
        .args(["serve", "--config"])
        .arg(config)
        // BENCH_GATEHOUSE_LOG (e.g. "sea_orm=debug") shows what the server does per flow.
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

/// Starts one server, with start-up timed.
/// Starts `kind` with `accounts` user accounts (see [`Endpoints::account`]).
pub async fn start(
    kind: Kind,
    gatehouse_bin: &Path,
    peer_dir: &Path,
    work: &Path,
    accounts: usize,
) -> anyhow::Result<Server> {
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    match kind {
        Kind::Gatehouse => {
            let port = free_port()?;
            let issuer = format!("http://127.0.0.1:{port}");
            let config = work.join("gatehouse.toml");
            std::fs::write(
                &config,
                format!(
                    r#"issuer = "{issuer}"
listen = "127.0.0.1:{port}"
database_url = "sqlite://{db}?mode=rwc"
# One account and one address make all the load: guessing limits would measure themselves.
[limits]
sign_in_per_minute = 0
registrations_per_hour = 0
client_auth_failures_per_minute = 0
interactions_per_minute = 0
[limits.account]
free_attempts = 1000000
[[clients]]
id = "bench"
name = "Bench"
redirect_uris = ["{REDIRECT}"]
secret = "bench-secret"
"#,
                    db = work.join("gatehouse.db").display()
                ),
            )?;
            let health = format!("{issuer}/healthz");
            // First start creates the database and the signing keys; the second is the usual case.
            let t = Instant::now();
            let mut first = spawn_gatehouse(gatehouse_bin, &config).await?;
            let fresh = wait_ready(&http, &health, t).await?;
            first.kill().await.ok();
            first.wait().await.ok();
            // Accounts are added between the two starts, so neither start-up time includes
            // their password hashing.
            for vu in 0..accounts {
                add_gatehouse_user(gatehouse_bin, &config, &format!("bench{vu}")).await?;
            }
            let t = Instant::now();
            let child = spawn_gatehouse(gatehouse_bin, &config).await?;
            let again = wait_ready(&http, &health, t).await?;
            let (authorize, token, userinfo) = endpoints(&http, &issuer).await?;
            let version = String::from_utf8_lossy(
                &std::process::Command::new(gatehouse_bin)
                    .arg("--version")
                    .output()?
                    .stdout,
            )
            .trim()
            .to_owned();
            Ok(Server {
                kind,
                pid: child.id().context("pid")?,
                child,
                endpoints: Endpoints {
                    authorize,
                    token,
                    userinfo,
                    client_id: "bench".into(),
                    client_secret: "bench-secret".into(),
                    redirect_uri: REDIRECT.into(),
                    username: "bench".into(),
                    password: PASSWORD.into(),
                },
                startup: vec![
                    ("new SQLite database (migrate + key generation)".into(), fresh),
                    ("existing database".into(), again),
                ],
                version,
            })
        }
        Kind::Panva => {
            let t = Instant::now();
            let mut child = Command::new("node")
                .arg("server.mjs")
                .current_dir(peer_dir)
                .env("PORT", "0")
                .stdout(Stdio::piped())
                .stderr(Stdio::null())
                .kill_on_drop(true)
                .spawn()
                .context("starting node (oidc-provider)")?;
            let mut lines = BufReader::new(child.stdout.take().context("stdout")?).lines();
            let line = tokio::time::timeout(Duration::from_secs(10), lines.next_line())
                .await??
                .unwrap_or_default();
            let issuer = line
                .strip_prefix("READY ")
                .context("oidc-provider did not start")?
                .trim()
                .to_owned();
            // Keep draining its stdout so it never blocks or dies on a closed pipe.
            tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
            let started = wait_ready(&http, &format!("{issuer}/.well-known/openid-configuration"), t).await?;
            let reg: Value = http
                .post(format!("{issuer}/reg"))
                .json(&json!({
                    "redirect_uris": [REDIRECT], "token_endpoint_auth_method": "client_secret_basic",
                    "grant_types": ["authorization_code"], "response_types": ["code"],
                    "id_token_signed_response_alg": "RS256",
                }))
                .send()
                .await?
                .json()
                .await?;
            let (authorize, token, userinfo) = endpoints(&http, &issuer).await?;
            let pkg: Value = serde_json::from_str(&std::fs::read_to_string(
                peer_dir.join("node_modules/oidc-provider/package.json"),
            )?)?;
            let node = String::from_utf8_lossy(&std::process::Command::new("node").arg("--version").output()?.stdout)
                .trim()
                .to_owned();
            Ok(Server {
                kind,
                pid: child.id().context("pid")?,
                child,
                endpoints: Endpoints {
                    authorize,
                    token,
                    userinfo,
                    client_id: reg["client_id"].as_str().context("client_id")?.into(),
                    client_secret: reg["client_secret"].as_str().context("client_secret")?.into(),
                    redirect_uri: REDIRECT.into(),
                    username: "bench".into(),
                    password: PASSWORD.into(),
                },
                startup: vec![("in-memory adapter".into(), started)],
                version: format!(
                    "oidc-provider {} on node {node}",
                    pkg["version"].as_str().unwrap_or("?")
                ),
            })
        }
    }
}

impl Server {
    /// Name and version for the report.
    pub fn describe(&self) -> String {
        match self.kind {
            Kind::Gatehouse => format!("Gatehouse ({}, SQLite)", self.version),
            Kind::Panva => format!("panva {}", self.version),
        }
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
