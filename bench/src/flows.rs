//! The measured flows, each with its own cookie jar per virtual user:
//! - signed-in: authorize with an existing session → code → token → userinfo;
//! - first login: authorize → login page → password → code → token → userinfo.
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

use crate::servers::Endpoints;

/// Which flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    SignedIn,
    FirstLogin,
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
}

impl Outcome {
    pub fn per_second(&self) -> f64 {
        self.flows as f64 / self.elapsed.as_secs_f64()
    }

    /// The server's CPU time per successful flow.
    pub fn cpu_per_flow(&self) -> Duration {
        self.server_cpu / self.flows.max(1) as u32
    }

    pub fn percentile(&self, p: f64) -> Duration {
        if self.latencies.is_empty() {
            return Duration::ZERO;
        }
        let i = ((self.latencies.len() as f64 - 1.0) * p).round() as usize;
        self.latencies[i]
    }
}

fn random() -> String {
    let mut b = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut b);
    URL_SAFE_NO_PAD.encode(b)
}

/// One browser: a cookie jar (every cookie sent everywhere; both servers are on one host).
struct Browser<'a> {
    http: &'a reqwest::Client,
    jar: HashMap<String, String>,
    /// The account this virtual user signs in to (one each: a shared account would measure
    /// the account throttle's handling of concurrent attempts instead of the server).
    username: String,
}

impl<'a> Browser<'a> {
    fn new(http: &'a reqwest::Client, username: String) -> Self {
        Self {
            http,
            jar: HashMap::new(),
            username,
        }
    }

    fn cookies(&self) -> String {
        self.jar
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    fn keep(&mut self, res: &reqwest::Response) {
        for c in res.headers().get_all(SET_COOKIE) {
            if let Some((kv, _)) = c
                .to_str()
                .unwrap_or_default()
                .split_once(';')
                .or(Some((c.to_str().unwrap_or_default(), "")))
            {
                if let Some((k, v)) = kv.split_once('=') {
                    if v.is_empty() {
                        self.jar.remove(k.trim());
                    } else {
                        self.jar.insert(k.trim().to_owned(), v.to_owned());
                    }
                }
            }
        }
    }

    async fn send(&mut self, req: reqwest::RequestBuilder) -> anyhow::Result<reqwest::Response> {
        let res = req.header(COOKIE, self.cookies()).send().await?;
        self.keep(&res);
        Ok(res)
    }

    /// Runs authorize until the browser is sent to the client; fills in a login form if shown.
    async fn authorize(&mut self, s: &Endpoints, challenge: &str, may_log_in: bool) -> anyhow::Result<String> {
        let mut url = url::Url::parse(&s.authorize)?;
        url.query_pairs_mut()
            .append_pair("response_type", "code")
            .append_pair("client_id", &s.client_id)
            .append_pair("redirect_uri", &s.redirect_uri)
            .append_pair("scope", "openid profile email")
            .append_pair("state", &random()[..16])
            .append_pair("nonce", &random()[..16])
            .append_pair("code_challenge", challenge)
            .append_pair("code_challenge_method", "S256");
        let mut next = url.to_string();
        let mut logged_in = false;
        for _ in 0..12 {
            if next.starts_with(&s.redirect_uri) {
                let u = url::Url::parse(&next)?;
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
            let page = res.text().await?;
            if !may_log_in || logged_in {
                bail!("unexpected page at {next}");
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

    /// Code → tokens → userinfo, as a confidential client.
    async fn redeem(&self, s: &Endpoints, code: &str, verifier: &str) -> anyhow::Result<()> {
        let tokens: Value = self
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
            .await?
            .error_for_status()?
            .json()
            .await?;
        tokens["id_token"].as_str().context("no id_token")?;
        let at = tokens["access_token"].as_str().context("no access_token")?;
        self.http
            .get(&s.userinfo)
            .bearer_auth(at)
            .send()
            .await?
            .error_for_status()?;
        Ok(())
    }

    async fn flow(&mut self, s: &Endpoints, may_log_in: bool) -> anyhow::Result<()> {
        let verifier = random() + &random()[..20];
        let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
        let code = self.authorize(s, &challenge, may_log_in).await?;
        self.redeem(s, &code, &verifier).await
    }
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

/// Runs `flow` with `vus` concurrent virtual users for `duration` (each VU at most 100 000 flows).
/// Runs `flow` with `vus` virtual users for `duration` against the server process `pid`.
pub async fn run(s: &Endpoints, flow: Flow, vus: usize, duration: Duration, pid: u32) -> anyhow::Result<Outcome> {
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .pool_max_idle_per_host(vus)
        .timeout(Duration::from_secs(10))
        .build()?;
    let s = Arc::new(s.clone());
    // Signed-in VUs sign in once, untimed.
    let mut browsers = Vec::new();
    for vu in 0..vus {
        let mut b = Browser::new(&http, s.account(vu));
        if flow == Flow::SignedIn {
            b.flow(&s, true).await.context("warm-up sign-in")?;
        }
        browsers.push((b.jar, b.username));
    }
    let cpu_before = crate::servers::cpu_time(pid);
    let start = Instant::now();
    let deadline = start + duration;
    let mut tasks = Vec::new();
    for (jar, username) in browsers {
        let http = http.clone();
        let s = s.clone();
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            let (mut errors, mut first_error) = (0usize, None);
            let mut b = Browser {
                http: &http,
                jar,
                username,
            };
            for _ in 0..100_000 {
                if Instant::now() >= deadline {
                    break;
                }
                if flow == Flow::FirstLogin {
                    b.jar.clear();
                }
                let t = Instant::now();
                match b.flow(&s, flow == Flow::FirstLogin).await {
                    Ok(()) => lat.push(t.elapsed()),
                    Err(e) => {
                        errors += 1;
                        first_error.get_or_insert_with(|| format!("{e:#}"));
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
    out.server_cpu = crate::servers::cpu_time(pid).saturating_sub(cpu_before);
    out.latencies.sort();
    Ok(out)
}
