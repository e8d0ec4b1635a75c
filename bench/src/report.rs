//! BENCHMARKS.md: the numbers side by side, with the machine and the command.
use std::fmt::Write;
use std::time::Duration;

use crate::flows::Outcome;
use crate::signing::SigningRates;

/// Everything after this line in BENCHMARKS.md is kept when the numbers are regenerated.
pub const NOTES_MARKER: &str = "<!-- notes: kept across runs -->";

/// One server's results.
pub struct Row {
    pub server: String,
    pub startup: Vec<(String, Duration)>,
    pub idle_rss: u64,
    pub peak_rss: u64,
    pub signed_in: Outcome,
    pub first_login: Outcome,
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

fn mib(kb: u64) -> String {
    format!("{:.1} MiB", kb as f64 / 1024.0)
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0);
    let mem = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines()
                .next()
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse::<u64>().ok())
        })
        .map(|kb| format!("{:.0} GiB", kb as f64 / 1024.0 / 1024.0))
        .unwrap_or_default();
    format!("{cpu}, {cores} cores, {mem} RAM")
}

fn flow_row(out: &mut String, name: &str, o: &Outcome) {
    let _ = writeln!(
        out,
        "| {name} | {:.0} | {:.2} ms | {} | {} | {} | {} |",
        o.per_second(),
        o.cpu_per_flow().as_secs_f64() * 1000.0,
        ms(o.percentile(0.5)),
        ms(o.percentile(0.99)),
        o.flows,
        o.errors
    );
}

/// The whole report.
pub fn markdown(vus: &usize, seconds: u64, signing: &SigningRates, rows: &[Row]) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# Benchmarks\n");
    let _ = writeln!(out, "Produced by `bench/run` (that is: `cargo build --release -p gatehouse -p gatehouse-bench` then `target/release/gatehouse-bench --vus {vus} --seconds {seconds}`).");
    let _ = writeln!(
        out,
        "Machine: {}. Both servers and the load generator share it; everything on 127.0.0.1.\n",
        machine()
    );
    let _ = writeln!(
        out,
        "Flows, each a fresh PKCE pair, as a confidential client (client_secret_basic), RS256 ID tokens:"
    );
    let _ = writeln!(out, "- **signed-in**: authorize with an existing session → code → token → userinfo ({vus} virtual users, {seconds} s);");
    let _ = writeln!(out, "- **first login**: authorize → login page → password form → code → token → userinfo, new cookie jar each time.\n");
    let _ = writeln!(out, "Raw signing rate on this machine, same run, {} threads (Gatehouse's signer: aws-lc, key parsed once): RS256 **{:.0}/s**, ES256 **{:.0}/s**. Each signed-in flow signs exactly one JWT (the ID token), so RS256 signing is the ceiling for that flow.\n", signing.threads, signing.rs256, signing.es256);
    for r in rows {
        let _ = writeln!(out, "## {}\n", r.server);
        let _ = writeln!(
            out,
            "| flow | flows/s | server CPU per flow | p50 | p99 | flows | errors |\n|---|---|---|---|---|---|---|"
        );
        flow_row(&mut out, "signed-in", &r.signed_in);
        flow_row(&mut out, "first login", &r.first_login);
        let _ = writeln!(out);
        for (label, d) in &r.startup {
            let _ = writeln!(out, "- start-up to first answer ({label}): {}", ms(*d));
        }
        let _ = writeln!(
            out,
            "- RSS idle: {}; peak during the run (VmHWM): {}",
            mib(r.idle_rss),
            mib(r.peak_rss)
        );
        let _ = writeln!(
            out,
            "- signed-in flows/s as a share of the RS256 ceiling: {:.0}%",
            100.0 * r.signed_in.per_second() / signing.rs256
        );
        for (name, o) in [("signed-in", &r.signed_in), ("first login", &r.first_login)] {
            if let Some(e) = &o.first_error {
                let _ = writeln!(out, "- first {name} error: `{e}`");
            }
        }
        let _ = writeln!(out);
    }
    if let [g, p] = rows {
        let _ = writeln!(out, "## Side by side\n");
        let _ = writeln!(out, "| | Gatehouse ÷ panva |\n|---|---|");
        let _ = writeln!(
            out,
            "| signed-in flows/s | {:.2}× |",
            g.signed_in.per_second() / p.signed_in.per_second().max(1e-9)
        );
        let _ = writeln!(
            out,
            "| signed-in server CPU per flow | {:.2}× |",
            g.signed_in.cpu_per_flow().as_secs_f64() / p.signed_in.cpu_per_flow().as_secs_f64().max(1e-9)
        );
        let _ = writeln!(
            out,
            "| first-login server CPU per flow | {:.2}× |",
            g.first_login.cpu_per_flow().as_secs_f64() / p.first_login.cpu_per_flow().as_secs_f64().max(1e-9)
        );
        let _ = writeln!(
            out,
            "| signed-in p99 | {:.2}× |",
            g.signed_in.percentile(0.99).as_secs_f64() / p.signed_in.percentile(0.99).as_secs_f64().max(1e-9)
        );
        let _ = writeln!(
            out,
            "| first-login flows/s | {:.2}× |",
            g.first_login.per_second() / p.first_login.per_second().max(1e-9)
        );
        let _ = writeln!(
            out,
            "| RSS idle | {:.2}× |",
            g.idle_rss as f64 / p.idle_rss.max(1) as f64
        );
        let _ = writeln!(
            out,
            "| RSS peak | {:.2}× |",
            g.peak_rss as f64 / p.peak_rss.max(1) as f64
        );
    }
    out
}
