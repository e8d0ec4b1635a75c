//! A real SMTP server on loopback: Debian's `python3-aiosmtpd` (installed by scripts/test),
//! run with its Mailbox handler, which writes every message it accepts to a Maildir that the
//! tests read. Each test starts its own (nextest runs every test in a process of its own), on a
//! free port or on a chosen one (to start it only after Gatehouse has queued mail).
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use base64::Engine;
use gatehouse::config::smtp::{SmtpConfig, SmtpTls};

/// The sender address the test configuration uses.
pub const FROM: &str = "Gatehouse <sso@gatehouse.test>";

/// A running aiosmtpd and its Maildir.
pub struct MailServer {
    pub port: u16,
    maildir: PathBuf,
    _dir: tempfile::TempDir,
    child: Child,
}

/// A free loopback port (nothing listens on it once this returns).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// The `[smtp]` of a Gatehouse that sends to 127.0.0.1:`port` without TLS (loopback only).
pub fn smtp_config(port: u16) -> SmtpConfig {
    SmtpConfig::new("127.0.0.1", port, SmtpTls::None, FROM)
}

fn python() -> String {
    // Debian's interpreter, which has the python3-aiosmtpd package (not a pyenv shim's).
    std::env::var("TEST_PYTHON").unwrap_or_else(|_| "/usr/bin/python3".into())
}

impl MailServer {
    /// Starts a server on a free port.
    pub async fn start() -> Self {
        Self::start_on(free_port()).await
    }

    /// Starts a server on `port` and waits until it accepts connections.
    pub async fn start_on(port: u16) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let maildir = dir.path().join("Maildir");
        let mut cmd = Command::new(python());
        cmd.args(["-m", "aiosmtpd", "-n", "-l"])
            .arg(format!("127.0.0.1:{port}"))
            .args(["-c", "aiosmtpd.handlers.Mailbox"])
            .arg(&maildir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        // SAFETY: prctl is async-signal-safe; it only asks the kernel to end the server with
        // the thread that started it, so a test that is killed leaves no server behind.
        unsafe {
            cmd.pre_exec(|| {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM);
                Ok(())
            });
        }
        let child = cmd.spawn().unwrap_or_else(|e| {
            panic!(
                "start aiosmtpd with {} (install python3-aiosmtpd: scripts/test does): {e}",
                python()
            )
        });
        let server = Self {
            port,
            maildir,
            _dir: dir,
            child,
        };
        for _ in 0..250 {
            if tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
                return server;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("aiosmtpd did not listen on 127.0.0.1:{port} within 5 s (is python3-aiosmtpd installed?)");
    }

    /// The `[smtp]` of a Gatehouse that sends here.
    pub fn config(&self) -> SmtpConfig {
        smtp_config(self.port)
    }

    /// Every message received so far, oldest first.
    pub fn messages(&self) -> Vec<Received> {
        let mut files: Vec<(std::time::SystemTime, PathBuf)> = ["new", "cur"]
            .iter()
            .filter_map(|sub| std::fs::read_dir(self.maildir.join(sub)).ok())
            .flatten()
            .filter_map(|e| e.ok())
            .filter_map(|e| Some((e.metadata().ok()?.modified().ok()?, e.path())))
            .collect();
        files.sort();
        files
            .into_iter()
            .filter_map(|(_, p)| std::fs::read(p).ok())
            .map(|raw| Received::parse(&String::from_utf8_lossy(&raw)))
            .collect()
    }

    /// The messages to `to`, once there are at least `n` of them (panics after `secs` seconds).
    pub async fn wait_for(&self, to: &str, n: usize, secs: u64) -> Vec<Received> {
        for _ in 0..secs * 10 {
            let got: Vec<Received> = self.messages().into_iter().filter(|m| m.is_to(to)).collect();
            if got.len() >= n {
                return got;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!(
            "expected {n} mail(s) to {to} within {secs} s; the server has {:?}",
            self.messages().iter().map(|m| (&m.to, &m.subject)).collect::<Vec<_>>()
        );
    }

    /// The newest message to `to` whose subject contains `subject`, waiting up to 10 s.
    pub async fn latest(&self, to: &str, subject: &str) -> Received {
        for _ in 0..100 {
            if let Some(m) = self
                .messages()
                .into_iter()
                .rev()
                .find(|m| m.is_to(to) && m.subject.contains(subject))
            {
                return m;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!(
            "no mail to {to} about {subject:?} within 10 s; the server has {:?}",
            self.messages().iter().map(|m| (&m.to, &m.subject)).collect::<Vec<_>>()
        );
    }

    /// How many messages went to `to`.
    pub fn count_to(&self, to: &str) -> usize {
        self.messages().iter().filter(|m| m.is_to(to)).count()
    }
}

impl Drop for MailServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A received message, its MIME parts decoded.
#[derive(Debug, Clone)]
pub struct Received {
    /// The envelope recipient (aiosmtpd's `X-RcptTo`), or else the `To` header.
    pub to: String,
    pub from: String,
    pub subject: String,
    /// The text/plain part.
    pub text: String,
    /// The text/html part.
    pub html: String,
}

impl Received {
    fn is_to(&self, to: &str) -> bool {
        self.to.to_lowercase().contains(&to.to_lowercase())
    }

    /// The first link in the plain-text part whose URL contains `part`.
    pub fn link(&self, part: &str) -> Option<String> {
        self.text
            .split_whitespace()
            .find(|w| w.starts_with("http") && w.contains(part))
            .map(str::to_owned)
    }

    fn parse(raw: &str) -> Self {
        let raw = raw.replace("\r\n", "\n");
        let (headers, body) = split_message(&raw);
        let header = |name: &str| header_value(&headers, name).unwrap_or_default();
        let content_type = header("content-type");
        let mut text = String::new();
        let mut html = String::new();
        match boundary_of(&content_type) {
            Some(boundary) => {
                for part in body.split(&format!("--{boundary}")).skip(1) {
                    if part.starts_with("--") {
                        break;
                    }
                    let (h, b) = split_message(part.trim_start_matches('\n'));
                    let decoded = decode(b, &header_value(&h, "content-transfer-encoding").unwrap_or_default());
                    let ct = header_value(&h, "content-type").unwrap_or_default().to_lowercase();
                    if ct.starts_with("text/html") {
                        html = decoded;
                    } else if ct.starts_with("text/plain") {
                        text = decoded;
                    }
                }
            }
            None => text = decode(body, &header("content-transfer-encoding")),
        }
        let to = header_value(&headers, "x-rcptto").unwrap_or_else(|| header("to"));
        Received {
            to,
            from: header("from"),
            subject: header("subject"),
            text,
            html,
        }
    }
}

/// Headers (unfolded) and body of a message or a MIME part.
fn split_message(raw: &str) -> (Vec<(String, String)>, &str) {
    let (head, body) = raw.split_once("\n\n").unwrap_or((raw, ""));
    let mut headers: Vec<(String, String)> = Vec::new();
    for line in head.lines() {
        if line.starts_with([' ', '\t']) {
            if let Some(last) = headers.last_mut() {
                last.1.push(' ');
                last.1.push_str(line.trim());
            }
        } else if let Some((name, value)) = line.split_once(':') {
            headers.push((name.trim().to_lowercase(), value.trim().to_owned()));
        }
    }
    (headers, body)
}

fn header_value(headers: &[(String, String)], name: &str) -> Option<String> {
    headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone())
}

fn boundary_of(content_type: &str) -> Option<String> {
    let at = content_type.to_lowercase().find("boundary=")? + "boundary=".len();
    let rest = &content_type[at..];
    let value = rest.split(';').next()?.trim().trim_matches('"');
    Some(value.to_owned())
}

fn decode(body: &str, encoding: &str) -> String {
    match encoding.to_lowercase().as_str() {
        "base64" => {
            let compact: String = body.split_whitespace().collect();
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(compact)
                .expect("base64 body");
            String::from_utf8_lossy(&bytes).into_owned()
        }
        "quoted-printable" => quoted_printable(body),
        _ => body.to_owned(),
    }
}

/// RFC 2045 §6.7: soft line breaks (`=` at a line's end) removed, `=XX` bytes decoded.
fn quoted_printable(body: &str) -> String {
    let joined = body.replace("=\n", "");
    let bytes = joined.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'=' && i + 2 < bytes.len() {
            if let Ok(b) = u8::from_str_radix(std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("zz"), 16) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[test]
fn quoted_printable_bodies_decode() {
    assert_eq!(quoted_printable("a=3Db\nlong=\nline =C3=A9"), "a=b\nlongline é");
}
