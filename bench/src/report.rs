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
    /// A short name for the tables of further flows.
    pub short: String,
    pub is_panva: bool,
    pub startup: Vec<(String, Duration)>,
    pub idle_rss: u64,
    pub peak_rss: u64,
    pub signed_in: Outcome,
    pub first_login: Outcome,
    /// The further flows, measured after the two above (so the RSS figures are theirs).
    pub more: Vec<(More, Outcome)>,
}

/// The further flows of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum More {
    Es256SignedIn,
    Refresh,
    ClientCredentials,
}

impl More {
    fn name(self) -> &'static str {
        match self {
            More::Es256SignedIn => "signed-in, ES256 ID token",
            More::Refresh => "refresh-token rotation",
            More::ClientCredentials => "client_credentials",
        }
    }

    fn unit(self) -> &'static str {
        match self {
            More::Es256SignedIn => "flow",
            More::Refresh => "refresh",
            More::ClientCredentials => "token",
        }
    }
}

/// The returning brokered login: Gatehouse in front of an upstream OP.
pub struct Brokered {
    pub gatehouse: String,
    pub upstream: String,
    pub outcome: Outcome,
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
pub fn markdown(
    vus: &usize,
    seconds: u64,
    signing: &SigningRates,
    rows: &[Row],
    brokered: Option<&Brokered>,
    notes: &[String],
) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# Benchmarks\n");
    let at = commit().map(|c| format!(" at commit {c}")).unwrap_or_default();
    let _ = writeln!(out, "Produced by `bench/run`{at} (that is: `cargo build --release -p gatehouse -p gatehouse-bench` then `target/release/gatehouse-bench --vus {vus} --seconds {seconds}`).");
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
    let gatehouse = rows.iter().find(|r| !r.is_panva);
    let panva = rows.iter().find(|r| r.is_panva);
    if let (Some(g), Some(p)) = (gatehouse, panva) {
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
    more_flows(&mut out, rows, *vus, seconds);
    if let Some(b) = brokered {
        brokered_table(&mut out, b, *vus, seconds);
    }
    for n in notes {
        let _ = writeln!(out, "\n> {n}");
    }
    out
}

fn ratio(a: f64, b: f64) -> String {
    if b > 0.0 && a > 0.0 {
        format!("{:.2}×", a / b)
    } else {
        "–".into()
    }
}

/// One table per further flow, every server a row, with Gatehouse ÷ panva where panva ran it.
fn more_flows(out: &mut String, rows: &[Row], vus: usize, seconds: u64) {
    let kinds = [More::Es256SignedIn, More::Refresh, More::ClientCredentials];
    if rows.iter().all(|r| r.more.is_empty()) {
        return;
    }
    let _ = writeln!(
        out,
        "\n## Further flows (same run, {vus} virtual users, {seconds} s each)\n"
    );
    let _ = writeln!(out, "- **signed-in, ES256 ID token**: the signed-in flow with a second client whose ID tokens are ES256 (Gatehouse `id_token_signed_response_alg = \"ES256\"`; panva: a client registered with that alg, its P-256 key in the JWKS).");
    let _ = writeln!(out, "- **refresh-token rotation**: each virtual user signs in once with `offline_access` (untimed; panva needs `prompt=consent` for it), then loops refresh_token grant → new refresh token (rotated every time on both: panva configured with `rotateRefreshToken: () => true`; each answer also has an access token and an ID token).");
    let _ = writeln!(out, "- **client_credentials**: a machine client asks for `scope=api:read`; both answer an RFC 9068 JWT access token signed RS256 (panva: `resource=urn:gatehouse-bench:api` with a JWT resource server; Gatehouse also records the token for introspection/revocation, panva keeps JWT access tokens stateless).\n");
    for kind in kinds {
        let with: Vec<(&Row, &Outcome)> = rows
            .iter()
            .filter_map(|r| r.more.iter().find(|(k, _)| *k == kind).map(|(_, o)| (r, o)))
            .collect();
        if with.is_empty() {
            continue;
        }
        let panva = with.iter().find(|(r, _)| r.is_panva).map(|(_, o)| *o);
        let unit = kind.unit();
        let _ = writeln!(out, "### {}\n", kind.name());
        let _ = writeln!(
            out,
            "| server | {unit}s/s | server CPU per {unit} | p50 | p99 | {unit}s | errors | {unit}s/s ÷ panva | CPU per {unit} ÷ panva |\n|---|---|---|---|---|---|---|---|---|"
        );
        for (r, o) in &with {
            let (per_s, cpu) = match (r.is_panva, panva) {
                (false, Some(p)) => (
                    ratio(o.per_second(), p.per_second()),
                    ratio(o.cpu_per_flow().as_secs_f64(), p.cpu_per_flow().as_secs_f64()),
                ),
                _ => ("–".into(), "–".into()),
            };
            let _ = writeln!(
                out,
                "| {} | {:.0} | {:.2} ms | {} | {} | {} | {} | {per_s} | {cpu} |",
                r.short,
                o.per_second(),
                o.cpu_per_flow().as_secs_f64() * 1000.0,
                ms(o.percentile(0.5)),
                ms(o.percentile(0.99)),
                o.flows,
                o.errors
            );
        }
        let _ = writeln!(out);
        for (r, o) in &with {
            if let Some(e) = &o.first_error {
                let _ = writeln!(out, "- {}: first error: `{e}`", r.short);
            }
        }
    }
}

/// The returning brokered login, the broker's and the upstream's CPU apart.
fn brokered_table(out: &mut String, b: &Brokered, vus: usize, seconds: u64) {
    let o = &b.outcome;
    let _ = writeln!(
        out,
        "\n## Brokered login, returning user ({vus} virtual users, {seconds} s)\n"
    );
    let _ = writeln!(out, "{} in front of {} (the integration tests' upstream OP, tests/peers/oidc-provider/server.mjs) as provider `corp`. Untimed, each virtual user logs in once through the upstream (which creates and links its Gatehouse account); each timed flow is then a new Gatehouse browser session: authorize (`idp_hint=corp`) → upstream authorize (its session kept: no login page) → Gatehouse callback (code exchange and userinfo at the upstream) → code → token → userinfo. panva is no broker, so there is no panva row.\n", b.gatehouse, b.upstream);
    let _ = writeln!(
        out,
        "| flows/s | Gatehouse CPU per flow | upstream CPU per flow | p50 | p99 | flows | errors |\n|---|---|---|---|---|---|---|"
    );
    let _ = writeln!(
        out,
        "| {:.0} | {:.2} ms | {} | {} | {} | {} | {} |",
        o.per_second(),
        o.cpu_per_flow().as_secs_f64() * 1000.0,
        o.upstream_cpu_per_flow()
            .map(|d| format!("{:.2} ms", d.as_secs_f64() * 1000.0))
            .unwrap_or_else(|| "–".into()),
        ms(o.percentile(0.5)),
        ms(o.percentile(0.99)),
        o.flows,
        o.errors
    );
    if let Some(e) = &o.first_error {
        let _ = writeln!(out, "\n- first error: `{e}`");
    }
}

/// The checked-out commit the benchmark was built from, when git can say.
fn commit() -> Option<String> {
    let out = std::process::Command::new("git")
        .args(["rev-parse", "--short", "HEAD"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .ok()
        .filter(|o| o.status.success())?;
    Some(String::from_utf8_lossy(&out.stdout).trim().to_owned())
}
