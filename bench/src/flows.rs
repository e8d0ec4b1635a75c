//! The measured flows, each with its own cookie jar per virtual user:
//! - signed-in: authorize with an existing session → code → token → userinfo;
//! - first login: authorize → login page → password → code → token → userinfo;
//! - refresh: refresh_token grant with rotation; client_credentials: a machine token;
//! - brokered: authorize at Gatehouse → upstream OP (session kept) → callback → code → token →
//!   userinfo, a new Gatehouse session each time.
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::RngCore;
use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::servers::{Endpoints, Machine};

/// Which flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    SignedIn,
    FirstLogin,
    /// refresh_token grant → a new (rotated) refresh token, after one untimed sign-in per VU.
    Refresh,
    /// client_credentials grant → a machine access token.
    ClientCredentials,
    /// Returning brokered login: new browser session at the broker, upstream session kept.
    Brokered,
}

/// What a load run measured.
pub struct Outcome {
    pub flows: usize,
    pub errors: usize,
    pub elapsed: Duration,
    /// Sorted latencies of successful flows.
    pub latencies: Vec<Duration>,
    pub first_error: Option<String>,
    /// CPU time (user + system) the server process spent during the timed part.
    pub server_cpu: Duration,
    /// CPU time of the second process measured, if any (the upstream OP of the brokered flow).
    pub upstream_cpu: Option<Duration>,
}

impl Outcome {
    pub fn per_second(&self) -> f64 {
        self.flows as f64 / self.elapsed.as_secs_f64()
    }

    /// The server's CPU time per successful flow.
    pub fn cpu_per_flow(&self) -> Duration {
        self.server_cpu / self.flows.max(1) as u32
    }

    /// The upstream's CPU time per successful flow.
    pub fn upstream_cpu_per_flow(&self) -> Option<Duration> {
        self.upstream_cpu.map(|c| c / self.flows.max(1) as u32)
    }

    pub fn percentile(&self, p: f64) -> Duration {
        if self.latencies.is_empty() {
            return Duration::ZERO;
        }
        let i = ((self.latencies.len() as f64 - 1.0) * p).round() as usize;
        self.latencies[i]
    }
}

/// 32 random bytes, base64url.
pub fn random() -> String {
    let mut b = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut b);
    URL_SAFE_NO_PAD.encode(b)
}

/// A fresh PKCE pair: (verifier, S256 challenge).
pub fn pkce() -> (String, String) {
    let verifier = random() + &random()[..20];
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    (verifier, challenge)
}

/// `host:port` of a URL: cookies are kept per server (two servers share 127.0.0.1 in the
/// brokered flow, and each must see only its own).
fn origin(url: &url::Url) -> String {
    format!(
        "{}:{}",
        url.host_str().unwrap_or_default(),
        url.port_or_known_default().unwrap_or(0)
    )
}

/// Cookie jars, one per server.
pub type Jars = HashMap<String, HashMap<String, String>>;

/// One browser: a cookie jar per server (path and expiry ignored: the flows never need them).
pub struct Browser<'a> {
    pub http: &'a reqwest::Client,
    pub jars: Jars,
    /// The account this virtual user signs in to (one each: a shared account would measure
    /// the account throttle's handling of concurrent attempts instead of the server).
    pub username: String,
}

impl<'a> Browser<'a> {
    pub fn new(http: &'a reqwest::Client, username: String) -> Self {
        Self {
            http,
            jars: HashMap::new(),
            username,
        }
    }

    /// Forgets the cookies of the server at `url` (a new browser session there).
    pub fn forget(&mut self, url: &str) {
        if let Ok(u) = url::Url::parse(url) {
            self.jars.remove(&origin(&u));
        }
    }

    fn keep(&mut self, at: &str, res: &reqwest::Response) {
        let jar = self.jars.entry(at.to_owned()).or_default();
        for c in res.headers().get_all(SET_COOKIE) {
            let c = c.to_str().unwrap_or_default();
            let kv = c.split_once(';').map(|(kv, _)| kv).unwrap_or(c);
            if let Some((k, v)) = kv.split_once('=') {
                if v.is_empty() {
                    jar.remove(k.trim());
                } else {
                    jar.insert(k.trim().to_owned(), v.to_owned());
                }
            }
        }
    }

    pub async fn send(&mut self, req: reqwest::RequestBuilder) -> anyhow::Result<reqwest::Response> {
        let mut req = req.build()?;
        let at = origin(req.url());
        if let Some(jar) = self.jars.get(&at) {
            let cookies = jar
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join("; ");
            if !cookies.is_empty() {
                req.headers_mut().insert(COOKIE, cookies.parse()?);
            }
        }
        let res = self.http.execute(req).await?;
        self.keep(&at, &res);
        Ok(res)
    }

    /// The authorize URL for `s` with a fresh state and nonce.
    pub fn authorize_url(s: &Endpoints, challenge: &str) -> anyhow::Result<String> {
        let mut url = url::Url::parse(&s.authorize)?;
        url.query_pairs_mut()
            .append_pair("response_type", "code")
            .append_pair("client_id", &s.client_id)
            .append_pair("redirect_uri", &s.redirect_uri)
            .append_pair("scope", &s.scope)
            .append_pair("state", &random()[..16])
            .append_pair("nonce", &random()[..16])
            .append_pair("code_challenge", challenge)
            .append_pair("code_challenge_method", "S256")
            .extend_pairs(&s.extra);
        Ok(url.to_string())
    }

    /// Runs authorize until the browser is sent to the client; fills in a login form if shown.
    pub async fn authorize(&mut self, s: &Endpoints, challenge: &str, may_log_in: bool) -> anyhow::Result<String> {
        let mut next = Self::authorize_url(s, challenge)?;
        let mut logged_in = false;
        for _ in 0..20 {
            if next.starts_with(&s.redirect_uri) {
                let u = url::Url::parse(&next)?;
                if let Some((_, e)) = u.query_pairs().find(|(k, _)| k == "error") {
                    bail!("the client was sent error={e}");
                }
                return u
                    .query_pairs()
                    .find(|(k, _)| k == "code")
                    .map(|(_, v)| v.into_owned())
                    .context("no code");
            }
            let res = self.send(self.http.get(&next)).await?;
            if let Some(loc) = res.headers().get(LOCATION) {
                next = url::Url::parse(&next)?.join(loc.to_str()?)?.to_string();
                continue;
            }
            let status = res.status();
            let page = res.text().await?;
            if !may_log_in || logged_in {
                bail!("unexpected page ({status}) at {next}");
            }
            let (action, form) = login_form(&page, &self.username, &s.password).context("no login form")?;
            let action = url::Url::parse(&next)?.join(&action)?.to_string();
            let res = self.send(self.http.post(&action).form(&form)).await?;
            let loc = res
                .headers()
                .get(LOCATION)
                .with_context(|| format!("login answered {}", res.status()))?;
            next = url::Url::parse(&action)?.join(loc.to_str()?)?.to_string();
            logged_in = true;
        }
        bail!("too many redirects")
    }

    /// Code → tokens (as a confidential client), checking the ID token's `alg`.
    pub async fn tokens(&self, s: &Endpoints, code: &str, verifier: &str) -> anyhow::Result<Value> {
        let res = self
            .http
            .post(&s.token)
            .basic_auth(&s.client_id, Some(&s.client_secret))
            .form(&[
                ("grant_type", "authorization_code"),
                ("code", code),
                ("redirect_uri", &s.redirect_uri),
                ("code_verifier", verifier),
            ])
            .send()
            .await?;
        let tokens = answer(res).await?;
        let id_token = tokens["id_token"].as_str().context("no id_token")?;
        let header: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(id_token.split('.').next().unwrap_or(""))?)?;
        anyhow::ensure!(
            header["alg"] == s.id_token_alg,
            "ID token signed with {} instead of {}",
            header["alg"],
            s.id_token_alg
        );
        Ok(tokens)
    }

    /// Code → tokens → userinfo; the token response.
    async fn redeem(&self, s: &Endpoints, code: &str, verifier: &str) -> anyhow::Result<Value> {
        let tokens = self.tokens(s, code, verifier).await?;
        let at = tokens["access_token"].as_str().context("no access_token")?;
        self.http
            .get(&s.userinfo)
            .bearer_auth(at)
            .send()
            .await?
            .error_for_status()?;
        Ok(tokens)
    }

    async fn flow(&mut self, s: &Endpoints, may_log_in: bool) -> anyhow::Result<Value> {
        let (verifier, challenge) = pkce();
        let code = self.authorize(s, &challenge, may_log_in).await?;
        self.redeem(s, &code, &verifier).await
    }
}

/// A JSON answer, or an error naming the status and the body.
async fn answer(res: reqwest::Response) -> anyhow::Result<Value> {
    let status = res.status();
    if !status.is_success() {
        let body = res.text().await.unwrap_or_default();
        bail!("{status}: {}", body.chars().take(300).collect::<String>());
    }
    Ok(res.json().await?)
}

/// One refresh_token grant; the new refresh token (it must differ: rotation).
async fn refresh(http: &reqwest::Client, s: &Endpoints, token: &str) -> anyhow::Result<String> {
    let res = http
        .post(&s.token)
        .basic_auth(&s.client_id, Some(&s.client_secret))
        .form(&[("grant_type", "refresh_token"), ("refresh_token", token)])
        .send()
        .await?;
    let tokens = answer(res).await?;
    tokens["access_token"].as_str().context("no access_token")?;
    let next = tokens["refresh_token"].as_str().context("no refresh_token")?;
    anyhow::ensure!(next != token, "the refresh token was not rotated");
    Ok(next.to_owned())
}

/// One client_credentials grant.
async fn machine_token(http: &reqwest::Client, m: &Machine) -> anyhow::Result<()> {
    let mut form = vec![
        ("grant_type".to_owned(), "client_credentials".to_owned()),
        ("scope".into(), m.scope.clone()),
    ];
    form.extend(m.extra.iter().cloned());
    let res = http
        .post(&m.token)
        .basic_auth(&m.client_id, Some(&m.client_secret))
        .form(&form)
        .send()
        .await?;
    answer(res).await?["access_token"].as_str().context("no access_token")?;
    Ok(())
}

/// The first form on the page that posts credentials: its action and fields (hidden ones kept).
fn login_form(html: &str, username: &str, password: &str) -> Option<(String, Vec<(String, String)>)> {
    for form in html.split("<form").skip(1) {
        let form = form.split("</form>").next()?;
        let action = form
            .split("action=\"")
            .nth(1)?
            .split('"')
            .next()?
            .replace("&amp;", "&")
            .replace("&#x3D;", "=");
        if !action.contains("login") {
            continue;
        }
        let mut fields: Vec<(String, String)> = Vec::new();
        for input in form.split("<input").skip(1) {
            let attr = |name: &str| {
                input
                    .split(&format!("{name}=\""))
                    .nth(1)
                    .and_then(|r| r.split('"').next())
                    .map(str::to_owned)
            };
            let Some(name) = attr("name") else { continue };
            let value = match name.as_str() {
                "username" | "login" => username.to_owned(),
                "password" => password.to_owned(),
                _ => attr("value").unwrap_or_default(),
            };
            fields.push((name, value));
        }
        return Some((action, fields));
    }
    None
}

/// What one virtual user carries from one flow to the next.
struct Vu {
    jars: Jars,
    username: String,
    /// The refresh token to present next (refresh flow).
    refresh_token: Option<String>,
}

/// The ordinary-flow endpoints of the run, and the machine client.
pub struct Target<'a> {
    pub endpoints: &'a Endpoints,
    pub machine: &'a Machine,
}

/// One timed iteration of `flow` for `vu`.
async fn step(http: &reqwest::Client, t: &Target<'_>, flow: Flow, vu: &mut Vu) -> anyhow::Result<()> {
    let s = t.endpoints;
    match flow {
        Flow::ClientCredentials => machine_token(http, t.machine).await,
        Flow::Refresh => {
            let current = vu
                .refresh_token
                .take()
                .context("no refresh token left (a failed rotation)")?;
            vu.refresh_token = Some(refresh(http, s, &current).await?);
            Ok(())
        }
        Flow::SignedIn | Flow::FirstLogin | Flow::Brokered => {
            let mut b = Browser {
                http,
                jars: std::mem::take(&mut vu.jars),
                username: vu.username.clone(),
            };
            match flow {
                Flow::FirstLogin => b.jars.clear(),
                // A new browser session at the broker; the one at the upstream is kept.
                Flow::Brokered => b.forget(&s.authorize),
                _ => {}
            }
            let r = b.flow(s, flow == Flow::FirstLogin).await.map(drop);
            vu.jars = b.jars;
            r
        }
    }
}

/// Runs `flow` with `vus` concurrent virtual users for `duration` (each VU at most 100 000
/// flows), measuring the CPU time of the processes `pids` (the server first, then an upstream).
pub async fn run(t: Target<'_>, flow: Flow, vus: usize, duration: Duration, pids: Vec<u32>) -> anyhow::Result<Outcome> {
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .pool_max_idle_per_host(vus)
        .timeout(Duration::from_secs(10))
        .build()?;
    let s = t.endpoints;
    // Untimed set-up per VU: a browser session (signed-in, brokered: the first brokered login
    // creates and links the account) or a refresh token.
    let mut vus_state = Vec::new();
    for vu in 0..vus {
        let mut b = Browser::new(&http, s.account(vu));
        let mut refresh_token = None;
        match flow {
            Flow::SignedIn | Flow::Brokered => {
                b.flow(s, true).await.context("warm-up sign-in")?;
            }
            Flow::Refresh => {
                let tokens = b.flow(s, true).await.context("warm-up sign-in")?;
                refresh_token = Some(
                    tokens["refresh_token"]
                        .as_str()
                        .context("no refresh token for offline_access")?
                        .to_owned(),
                );
            }
            Flow::FirstLogin | Flow::ClientCredentials => {}
        }
        vus_state.push(Vu {
            jars: b.jars,
            username: b.username,
            refresh_token,
        });
    }
    let cpu_before: Vec<Duration> = pids.iter().map(|p| crate::servers::cpu_time(*p)).collect();
    let start = Instant::now();
    let deadline = start + duration;
    let target = Arc::new((s.clone(), t.machine.clone()));
    let mut tasks = Vec::new();
    for mut vu in vus_state {
        let http = http.clone();
        let target = target.clone();
        tasks.push(tokio::spawn(async move {
            let t = Target {
                endpoints: &target.0,
                machine: &target.1,
            };
            let mut lat = Vec::new();
            let (mut errors, mut first_error) = (0usize, None);
            for _ in 0..100_000 {
                if Instant::now() >= deadline {
                    break;
                }
                let started = Instant::now();
                match step(&http, &t, flow, &mut vu).await {
                    Ok(()) => lat.push(started.elapsed()),
                    Err(e) => {
                        errors += 1;
                        first_error.get_or_insert_with(|| format!("{e:#}"));
                        // A broken refresh chain cannot continue; the rest of this VU's time
                        // would only count the same error.
                        if flow == Flow::Refresh && vu.refresh_token.is_none() {
                            break;
                        }
                    }
                }
            }
            (lat, errors, first_error)
        }));
    }
    let mut out = Outcome {
        flows: 0,
        errors: 0,
        elapsed: Duration::ZERO,
        latencies: Vec::new(),
        first_error: None,
        server_cpu: Duration::ZERO,
        upstream_cpu: None,
    };
    for t in tasks {
        let (lat, errors, first_error) = t.await?;
        out.flows += lat.len();
        out.latencies.extend(lat);
        out.errors += errors;
        if out.first_error.is_none() {
            out.first_error = first_error;
        }
    }
    out.elapsed = start.elapsed();
    let used: Vec<Duration> = pids
        .iter()
        .zip(cpu_before)
        .map(|(p, before)| crate::servers::cpu_time(*p).saturating_sub(before))
        .collect();
    out.server_cpu = used.first().copied().unwrap_or_default();
    out.upstream_cpu = used.get(1).copied();
    out.latencies.sort();
    Ok(out)
}
