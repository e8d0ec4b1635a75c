//! `--crash-check`: does what Gatehouse acknowledged survive a `kill -9`?
//!
//! Gatehouse runs on SQLite under load; every result it ACKNOWLEDGED is recorded: authorization
//! codes it redirected with (half of them left unredeemed), access tokens it returned, accounts
//! it created through `/register` (the answer after the form: a redirect onwards). Mid-load the
//! server is killed with SIGKILL, started again on the same database, and each acknowledged
//! result is checked: tokens still accepted at /userinfo, unredeemed codes still redeem (while
//! within their lifetime), registered accounts can sign in.
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use reqwest::header::LOCATION;

use crate::flows::{pkce, random, Browser};
use crate::servers::{self, Endpoints, GatehouseSetup, Store};

/// An authorization code the server redirected with, not redeemed before the crash.
struct Code {
    code: String,
    verifier: String,
    at: Instant,
}

/// Everything the server acknowledged before it was killed.
#[derive(Default)]
struct Acknowledged {
    codes: Vec<Code>,
    access_tokens: Vec<String>,
    /// Usernames registered through /register (password: [`servers::PASSWORD`]).
    registrations: Vec<String>,
    /// Attempts that failed before the crash (for the printout; not a loss).
    errors_before_kill: usize,
}

/// Gatehouse's default authorization-code lifetime; older codes are not expected to redeem.
const CODE_LIFETIME: Duration = Duration::from_secs(60);

/// The username of the `n`th registration of virtual user `vu` (unique across runs).
fn new_username(vu: usize, n: usize) -> String {
    format!(
        "crash{vu}x{n}{}",
        &random()[..6].to_lowercase().replace(['-', '_'], "a")
    )
}

/// The value of `<input name="{name}" … value="…">` on a page.
fn hidden(html: &str, name: &str) -> Option<String> {
    html.split("<input")
        .find(|i| i.contains(&format!("name=\"{name}\"")))?
        .split("value=\"")
        .nth(1)?
        .split('"')
        .next()
        .map(str::to_owned)
}

/// A new browser: authorize → login page → registration form → posted. `Ok(true)` when the
/// server acknowledged the account (it redirected onwards).
async fn register(http: &reqwest::Client, s: &Endpoints, username: &str) -> anyhow::Result<bool> {
    let mut b = Browser::new(http, username.to_owned());
    let (_, challenge) = pkce();
    let mut next = Browser::authorize_url(s, &challenge)?;
    for _ in 0..5 {
        let res = b.send(http.get(&next)).await?;
        match res.headers().get(LOCATION) {
            Some(loc) => next = url::Url::parse(&next)?.join(loc.to_str()?)?.to_string(),
            None => break,
        }
    }
    let login = url::Url::parse(&next)?;
    let interaction = login
        .query_pairs()
        .find(|(k, _)| k == "interaction")
        .map(|(_, v)| v.into_owned())
        .with_context(|| format!("no interaction at {next}"))?;
    let register = login.join("/register")?;
    let page = b
        .send(http.get(register.clone()).query(&[("interaction", &interaction)]))
        .await?
        .text()
        .await?;
    let csrf = hidden(&page, "csrf").context("no csrf field on /register")?;
    let email = format!("{username}@crash.test");
    let res = b
        .send(http.post(register).form(&[
            ("interaction", interaction.as_str()),
            ("csrf", &csrf),
            ("username", username),
            ("email", &email),
            ("name", "Crash Check"),
            ("password", servers::PASSWORD),
            ("password_confirm", servers::PASSWORD),
        ]))
        .await?;
    Ok(res.status().is_redirection())
}

/// One VU's load: signed-in codes (every other one redeemed) and, every fourth step, a
/// registration; until `stop` (or 100 000 steps).
async fn load(
    http: reqwest::Client,
    s: Arc<Endpoints>,
    vu: usize,
    stop: Arc<AtomicBool>,
    acked: Arc<Mutex<Acknowledged>>,
) {
    let mut b = Browser::new(&http, s.account(vu));
    let mut signed_in = false;
    for n in 0..100_000usize {
        if stop.load(Ordering::Relaxed) {
            break;
        }
        let result: anyhow::Result<()> = async {
            if n % 4 == 3 {
                let name = new_username(vu, n);
                if register(&http, &s, &name).await? {
                    acked.lock().expect("lock").registrations.push(name);
                }
                return Ok(());
            }
            let (verifier, challenge) = pkce();
            let code = b.authorize(&s, &challenge, !signed_in).await?;
            signed_in = true;
            if n % 2 == 0 {
                acked.lock().expect("lock").codes.push(Code {
                    code,
                    verifier,
                    at: Instant::now(),
                });
            } else {
                let tokens = b.tokens(&s, &code, &verifier).await?;
                let at = tokens["access_token"].as_str().context("no access_token")?.to_owned();
                acked.lock().expect("lock").access_tokens.push(at);
            }
            Ok(())
        }
        .await;
        if result.is_err() {
            acked.lock().expect("lock").errors_before_kill += 1;
            if stop.load(Ordering::Relaxed) {
                break;
            }
        }
    }
}

/// A loss found after the restart.
fn lost(what: &str, detail: impl std::fmt::Display, losses: &mut Vec<String>) {
    losses.push(format!("{what}: {detail}"));
}

/// Runs the check; `Ok(false)` when something acknowledged was lost.
pub async fn check(bin: &std::path::Path, work: &std::path::Path, vus: usize, seconds: u64) -> anyhow::Result<bool> {
    let mut server = servers::start_gatehouse(GatehouseSetup {
        bin,
        dir: work.join("crash"),
        port: None,
        store: Store::Sqlite,
        accounts: vus,
        registration: true,
        providers: String::new(),
    })
    .await?;
    let s = Arc::new(server.endpoints.clone());
    let http = servers::http_client()?;
    let stop = Arc::new(AtomicBool::new(false));
    let acked = Arc::new(Mutex::new(Acknowledged::default()));
    eprintln!("crash check: {vus} VUs of load on SQLite for {seconds}s, then kill -9…");
    let tasks: Vec<_> = (0..vus)
        .map(|vu| tokio::spawn(load(http.clone(), s.clone(), vu, stop.clone(), acked.clone())))
        .collect();
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    // Kill first, then stop the VUs: every answer they recorded was read before the process was
    // gone, so the server sent it before it died.
    server.crash().await?;
    stop.store(true, Ordering::Relaxed);
    let killed_at = Instant::now();
    for t in tasks {
        t.await?;
    }
    let acked = std::mem::take(&mut *acked.lock().expect("lock"));
    eprintln!(
        "killed: acknowledged {} unredeemed codes, {} access tokens, {} registrations ({} steps failed or were cut off); restarting…",
        acked.codes.len(),
        acked.access_tokens.len(),
        acked.registrations.len(),
        acked.errors_before_kill
    );
    let restart = server.restart(bin).await?;
    eprintln!(
        "restarted in {:.0} ms ({:.1} s after the kill); checking…",
        restart.as_secs_f64() * 1000.0,
        killed_at.elapsed().as_secs_f64()
    );

    let mut losses = Vec::new();
    let mut tokens_ok = 0;
    for at in &acked.access_tokens {
        let res = http.get(&s.userinfo).bearer_auth(at).send().await?;
        if res.status().is_success() {
            tokens_ok += 1;
        } else {
            lost("access token refused at /userinfo", res.status(), &mut losses);
        }
    }
    let (mut codes_ok, mut codes_expired) = (0, 0);
    let b = Browser::new(&http, String::new());
    for c in &acked.codes {
        if c.at.elapsed() + Duration::from_secs(2) >= CODE_LIFETIME {
            codes_expired += 1;
            continue;
        }
        match b.tokens(&s, &c.code, &c.verifier).await {
            Ok(_) => codes_ok += 1,
            Err(e) => lost("unredeemed code refused", format!("{e:#}"), &mut losses),
        }
    }
    let mut registrations_ok = 0;
    for name in &acked.registrations {
        let mut b = Browser::new(&http, name.clone());
        let (_, challenge) = pkce();
        match b.authorize(&s, &challenge, true).await {
            Ok(_) => registrations_ok += 1,
            Err(e) => lost(
                &format!("registered account {name} cannot sign in"),
                format!("{e:#}"),
                &mut losses,
            ),
        }
    }
    server.stop().await;
    println!("crash check (SQLite, kill -9 under load of {vus} VUs for {seconds} s):");
    println!(
        "  access tokens still accepted at /userinfo: {tokens_ok} of {}",
        acked.access_tokens.len()
    );
    println!(
        "  unredeemed codes still redeemed: {codes_ok} of {} ({codes_expired} past their lifetime, not checked)",
        acked.codes.len()
    );
    println!(
        "  accounts registered through /register that sign in: {registrations_ok} of {}",
        acked.registrations.len()
    );
    if acked.access_tokens.is_empty() || acked.codes.is_empty() || acked.registrations.is_empty() {
        bail!("too little was acknowledged before the kill to check anything: run longer (--seconds)");
    }
    for l in losses.iter().take(20) {
        println!("  LOST {l}");
    }
    if losses.is_empty() {
        println!("  nothing acknowledged was lost");
    } else {
        println!("  {} acknowledged results lost", losses.len());
    }
    Ok(losses.is_empty())
}
