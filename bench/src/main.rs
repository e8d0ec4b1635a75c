//! Side-by-side benchmark: Gatehouse and panva `oidc-provider`, the same flows, the same
//! machine, one run. Loopback only; every loop is bounded by time and by count.
//!
//! `bench/run` builds everything and calls this; results go to BENCHMARKS.md.
mod flows;
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
    /// Only this server ("gatehouse" or "panva"); both by default.
    only: Option<String>,
    /// Only print the single-thread signing cost, start no server.
    signing_only: bool,
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
            "--only" => s.only = Some(val()?),
            "--signing-only" => s.signing_only = true,
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

    eprintln!("measuring the raw signing rate (the ceiling: one signature per flow)…");
    let signing = signing::measure(Duration::from_secs(2));

    let mut rows = Vec::new();
    for target in [servers::Kind::Gatehouse, servers::Kind::Panva] {
        if s.only
            .as_deref()
            .is_some_and(|o| !format!("{target:?}").eq_ignore_ascii_case(o))
        {
            continue;
        }
        eprintln!("starting {target:?}…");
        let server = servers::start(target, &s.gatehouse_bin, &s.peer_dir, &work, s.vus).await?;
        tokio::time::sleep(Duration::from_millis(500)).await;
        let idle_rss = servers::rss_kb(server.pid).0;
        eprintln!("{target:?}: signed-in flow, {} VUs, {}s…", s.vus, s.seconds);
        let signed_in = flows::run(&server.endpoints, flows::Flow::SignedIn, s.vus, duration, server.pid).await?;
        let after_signed_in = servers::rss_kb(server.pid).1;
        eprintln!("{target:?}: peak RSS after the signed-in flow: {} KiB", after_signed_in);
        eprintln!(
            "{target:?}: first login with a password, {} VUs, {}s…",
            s.vus, s.seconds
        );
        let first_login = flows::run(&server.endpoints, flows::Flow::FirstLogin, s.vus, duration, server.pid).await?;
        let peak_rss = servers::rss_kb(server.pid).1;
        rows.push(report::Row {
            server: server.describe(),
            startup: server.startup.clone(),
            idle_rss,
            peak_rss,
            signed_in,
            first_login,
        });
        server.stop().await;
    }
    let _ = std::fs::remove_dir_all(&work);
    let mut md = report::markdown(&s.vus, s.seconds, &signing, &rows);
    // Hand-written analysis below the marker survives a re-run.
    if let Ok(old) = std::fs::read_to_string(&s.out) {
        if let Some(i) = old.find(report::NOTES_MARKER) {
            md.push_str(&old[i..]);
        }
    }
    std::fs::write(&s.out, &md).with_context(|| format!("writing {}", s.out.display()))?;
    println!("{md}");
    Ok(())
}
