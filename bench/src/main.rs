//! Side-by-side benchmark: Gatehouse and panva `oidc-provider`, the same flows, the same
//! machine, one run. Loopback only; every loop is bounded by time and by count.
//!
//! `bench/run` builds everything and calls this; results go to BENCHMARKS.md.
//! `--crash-check` instead kills Gatehouse with SIGKILL under load and checks that nothing it
//! acknowledged was lost (exit status 1 if something was).
mod crash;
mod flows;
mod layout;
mod pg;
mod report;
mod servers;
mod signing;

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;

/// Command-line settings.
struct Settings {
    vus: usize,
    seconds: u64,
    out: PathBuf,
    gatehouse_bin: PathBuf,
    peer_dir: PathBuf,
    /// Only these parts (comma-separated: gatehouse, postgres, panva, brokered); all by default.
    only: Option<Vec<String>>,
    /// Only print the single-thread signing cost, start no server.
    signing_only: bool,
    /// Run the kill -9 durability check instead of the benchmark.
    crash_check: bool,
}

impl Settings {
    fn wants(&self, part: &str) -> bool {
        self.only.as_ref().is_none_or(|o| o.iter().any(|p| p == part))
    }
}

fn settings() -> anyhow::Result<Settings> {
    let mut s = Settings {
        vus: 16,
        seconds: 10,
        out: "BENCHMARKS.md".into(),
        gatehouse_bin: "target/release/gatehouse".into(),
        peer_dir: "tests/peers/oidc-provider".into(),
        only: None,
        signing_only: false,
        crash_check: false,
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut val = || it.next().cloned().with_context(|| format!("{a} needs a value"));
        match a.as_str() {
            "--vus" => s.vus = val()?.parse()?,
            "--seconds" => s.seconds = val()?.parse()?,
            "--out" => s.out = val()?.into(),
            "--gatehouse" => s.gatehouse_bin = val()?.into(),
            "--peer" => s.peer_dir = val()?.into(),
            "--only" => {
                let parts: Vec<String> = val()?.split(',').map(|p| p.trim().to_ascii_lowercase()).collect();
                for p in &parts {
                    anyhow::ensure!(
                        ["gatehouse", "postgres", "panva", "brokered"].contains(&p.as_str()),
                        "--only takes gatehouse, postgres, panva, brokered (comma-separated), not {p}"
                    );
                }
                s.only = Some(parts);
            }
            "--signing-only" => s.signing_only = true,
            "--crash-check" => s.crash_check = true,
            other => anyhow::bail!("unknown argument {other}"),
        }
    }
    anyhow::ensure!(s.vus >= 1 && s.vus <= 256, "--vus must be 1..=256");
    anyhow::ensure!(s.seconds >= 1 && s.seconds <= 120, "--seconds must be 1..=120");
    Ok(s)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let s = settings()?;
    let duration = Duration::from_secs(s.seconds);
    if s.signing_only {
        print!(
            "{}",
            signing::single_thread_report(Duration::from_secs(s.seconds.min(10)))
        );
        return Ok(());
    }
    let work = std::env::temp_dir().join(format!("gatehouse-bench-{}", std::process::id()));
    std::fs::create_dir_all(&work)?;
    if s.crash_check {
        let kept = crash::check(&s.gatehouse_bin, &work, s.vus, s.seconds).await;
        let _ = std::fs::remove_dir_all(&work);
        if !kept? {
            std::process::exit(1);
        }
        return Ok(());
    }
    let result = benchmark(&s, &work, duration).await;
    let _ = std::fs::remove_dir_all(&work);
    let md = result?;
    std::fs::write(&s.out, &md).with_context(|| format!("writing {}", s.out.display()))?;
    println!("{md}");
    Ok(())
}

/// Which server a row is.
enum Target {
    Gatehouse,
    GatehousePostgres,
    Panva,
}

/// Starts one server of the comparison.
async fn start(
    target: &Target,
    s: &Settings,
    work: &std::path::Path,
    cluster: Option<&pg::Cluster>,
) -> anyhow::Result<servers::Server> {
    let setup = |dir: &str, store| servers::GatehouseSetup {
        bin: &s.gatehouse_bin,
        dir: work.join(dir),
        port: None,
        store,
        accounts: s.vus,
        registration: false,
        providers: String::new(),
    };
    match target {
        Target::Gatehouse => servers::start_gatehouse(setup("sqlite", servers::Store::Sqlite)).await,
        Target::GatehousePostgres => {
            let c = cluster.context("no PostgreSQL cluster")?;
            servers::start_gatehouse(setup(
                "postgres",
                servers::Store::Postgres {
                    url: c.url(),
                    label: format!("{} on 127.0.0.1, default settings", c.version),
                },
            ))
            .await
        }
        Target::Panva => servers::start_panva(&s.peer_dir).await,
    }
}

/// Measures one server: the two original flows, then the further ones.
async fn measure(server: &servers::Server, s: &Settings, duration: Duration) -> anyhow::Result<report::Row> {
    let name = server.short();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let idle_rss = servers::rss_kb(server.pid).0;
    let run = |endpoints, flow| {
        let target = flows::Target {
            endpoints,
            machine: &server.machine,
        };
        flows::run(target, flow, s.vus, duration, vec![server.pid])
    };
    eprintln!("{name}: signed-in flow, {} VUs, {}s…", s.vus, s.seconds);
    let signed_in = run(&server.endpoints, flows::Flow::SignedIn).await?;
    let after_signed_in = servers::rss_kb(server.pid).1;
    eprintln!("{name}: peak RSS after the signed-in flow: {after_signed_in} KiB");
    eprintln!("{name}: first login with a password, {} VUs, {}s…", s.vus, s.seconds);
    let first_login = run(&server.endpoints, flows::Flow::FirstLogin).await?;
    let peak_rss = servers::rss_kb(server.pid).1;
    let mut more = Vec::new();
    for (kind, endpoints, flow) in [
        (report::More::Es256SignedIn, &server.es256, flows::Flow::SignedIn),
        (report::More::Refresh, &server.refresh, flows::Flow::Refresh),
        (
            report::More::ClientCredentials,
            &server.endpoints,
            flows::Flow::ClientCredentials,
        ),
    ] {
        eprintln!("{name}: {kind:?}, {} VUs, {}s…", s.vus, s.seconds);
        more.push((kind, run(endpoints, flow).await?));
    }
    Ok(report::Row {
        server: server.describe(),
        short: name,
        is_panva: server.kind == servers::Kind::Panva,
        startup: server.startup.clone(),
        idle_rss,
        peak_rss,
        signed_in,
        first_login,
        more,
    })
}

/// The returning brokered login: Gatehouse (SQLite) with the upstream OP as provider `corp`.
async fn brokered(s: &Settings, work: &std::path::Path, duration: Duration) -> anyhow::Result<report::Brokered> {
    eprintln!("brokered: starting the upstream OP and a Gatehouse that brokers to it…");
    let upstream = servers::start_upstream(&s.peer_dir).await?;
    let result: anyhow::Result<report::Brokered> = async {
        // Gatehouse's callback must be registered at the upstream before Gatehouse starts.
        let port = servers::free_port()?;
        let issuer = format!("http://127.0.0.1:{port}");
        let (client_id, secret) = servers::register(
            &servers::http_client()?,
            &upstream.issuer,
            serde_json::json!({
                "redirect_uris": [format!("{issuer}/broker/callback/corp")],
                "post_logout_redirect_uris": [format!("{issuer}/logout/upstream/corp")],
                "token_endpoint_auth_method": "client_secret_basic",
                "grant_types": ["authorization_code"],
                "response_types": ["code"],
            }),
        )
        .await?;
        // As the integration tests configure it (tests/integration/harness/federation.rs).
        let providers = format!(
            r#"[[providers]]
id = "corp"
name = "Contoso"
issuer = "{}"
client_id = "{client_id}"
client_secret = "{secret}"
scopes = ["openid", "profile", "email", "groups"]
fetch_userinfo = true
trust_email = true
linking = "create"
sync = "import"
email_domains = ["contoso.test"]
"#,
            upstream.issuer
        );
        let server = servers::start_gatehouse(servers::GatehouseSetup {
            bin: &s.gatehouse_bin,
            dir: work.join("brokered"),
            port: Some(port),
            store: servers::Store::Sqlite,
            accounts: 0,
            registration: false,
            providers,
        })
        .await?;
        let endpoints = servers::Endpoints {
            // The upstream login names: brokered0, brokered1, …
            username: "brokered".into(),
            extra: vec![("idp_hint".into(), "corp".into())],
            ..server.endpoints.clone()
        };
        eprintln!("brokered: returning brokered login, {} VUs, {}s…", s.vus, s.seconds);
        let target = flows::Target {
            endpoints: &endpoints,
            machine: &server.machine,
        };
        let outcome = flows::run(
            target,
            flows::Flow::Brokered,
            s.vus,
            duration,
            vec![server.pid, upstream.pid],
        )
        .await;
        let gatehouse = server.describe();
        server.stop().await;
        Ok(report::Brokered {
            gatehouse,
            upstream: format!("panva {}", upstream.version),
            outcome: outcome?,
        })
    }
    .await;
    upstream.stop().await;
    result
}

/// The whole comparison; the report.
async fn benchmark(s: &Settings, work: &std::path::Path, duration: Duration) -> anyhow::Result<String> {
    eprintln!("measuring the raw signing rate (the ceiling: one signature per flow)…");
    let signing = signing::measure(Duration::from_secs(2));
    let mut notes = vec![layout::coverage(&s.gatehouse_bin)];
    let cluster = if s.wants("postgres") {
        match pg::Cluster::start(work)? {
            Some(c) => Some(c),
            None => {
                let note =
                    "PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb): no PostgreSQL row.".to_owned();
                eprintln!("{note}");
                notes.push(note);
                None
            }
        }
    } else {
        None
    };
    let mut rows = Vec::new();
    for (part, target) in [
        ("gatehouse", Target::Gatehouse),
        ("postgres", Target::GatehousePostgres),
        ("panva", Target::Panva),
    ] {
        if !s.wants(part) || (matches!(target, Target::GatehousePostgres) && cluster.is_none()) {
            continue;
        }
        eprintln!("starting {part}…");
        let server = start(&target, s, work, cluster.as_ref()).await?;
        let row = measure(&server, s, duration).await;
        server.stop().await;
        rows.push(row?);
    }
    // The cluster goes before the brokered run: it is no part of it.
    drop(cluster);
    let brokered = if s.wants("brokered") {
        Some(brokered(s, work, duration).await?)
    } else {
        None
    };
    let mut md = report::markdown(&s.vus, s.seconds, &signing, &rows, brokered.as_ref(), &notes);
    // Hand-written analysis below the marker survives a re-run.
    if let Ok(old) = std::fs::read_to_string(&s.out) {
        if let Some(i) = old.find(report::NOTES_MARKER) {
            md.push_str(&old[i..]);
        }
    }
    Ok(md)
}
