//! A throw-away PostgreSQL cluster on 127.0.0.1 for the PostgreSQL row (as scripts/test starts
//! one: initdb into a temp folder, pg_ctl on loopback, `runuser -u postgres` when root).
//! PostgreSQL's own defaults otherwise (fsync on, synchronous_commit on).
use std::path::PathBuf;
use std::process::Command;

use anyhow::{ensure, Context};

/// A running cluster; stopped and deleted when dropped.
pub struct Cluster {
    bin: PathBuf,
    dir: PathBuf,
    pub port: u16,
    /// "PostgreSQL 15.4" (from `postgres --version`).
    pub version: String,
}

/// The newest installed PostgreSQL's `bin` folder (Debian layout), if any.
fn pg_bin() -> Option<PathBuf> {
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let v = e.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").exists().then_some((v, bin))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, b)| b)
}

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

impl Cluster {
    /// initdb and start on a free loopback port; `Ok(None)` when PostgreSQL is not installed.
    pub fn start(work: &std::path::Path) -> anyhow::Result<Option<Self>> {
        let Some(bin) = pg_bin() else { return Ok(None) };
        let dir = work.join("postgresql");
        std::fs::create_dir_all(&dir)?;
        if is_root() {
            // initdb refuses to run as root: the cluster belongs to the postgres user (the
            // work folder above it is world-readable, as temp folders made by create_dir are).
            ensure!(
                Command::new("chown").arg("postgres").arg(&dir).status()?.success(),
                "chown the cluster folder to postgres"
            );
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let version = String::from_utf8_lossy(&Command::new(bin.join("postgres")).arg("--version").output()?.stdout)
            .split(')')
            .nth(1)
            .unwrap_or("")
            .split_whitespace()
            .next()
            .map(|v| format!("PostgreSQL {v}"))
            .unwrap_or_else(|| "PostgreSQL".into());
        let cluster = Self {
            bin,
            dir,
            port,
            version,
        };
        let data = cluster.data();
        cluster.run("initdb", &["-D", &data, "-U", "postgres", "--auth=trust", "-E", "UTF8"])?;
        let options = format!(
            "-c listen_addresses=127.0.0.1 -c port={} -c unix_socket_directories={}",
            cluster.port,
            cluster.dir.display()
        );
        let log = cluster.dir.join("server.log").display().to_string();
        cluster.run("pg_ctl", &["-D", &data, "-l", &log, "-w", "-o", &options, "start"])?;
        Ok(Some(cluster))
    }

    fn data(&self) -> String {
        self.dir.join("data").display().to_string()
    }

    fn command(&self, tool: &str) -> Command {
        let exe = self.bin.join(tool);
        if is_root() {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(exe);
            c
        } else {
            Command::new(exe)
        }
    }

    fn run(&self, tool: &str, args: &[&str]) -> anyhow::Result<()> {
        let out = self
            .command(tool)
            .args(args)
            .output()
            .with_context(|| format!("running {tool}"))?;
        ensure!(
            out.status.success(),
            "{tool} {args:?}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        Ok(())
    }

    /// `postgres://` URL of the cluster's `postgres` database.
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let data = self.data();
        let _ = self
            .command("pg_ctl")
            .args(["-D", data.as_str(), "-m", "immediate", "-w", "stop"])
            .output();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
