//! The edge under abuse: connections that never finish their headers or bodies, more
//! connections than the cap, NUL bytes in parameters, SIGHUP, and a plain-http public issuer.
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine;
use reqwest::StatusCode;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::harness::browser::Browser;
use super::harness::urls::urlencode;
use super::harness::*;

/// Slow-client limits small enough for a test.
fn short_timeouts(c: &mut gatehouse::config::Config) {
    c.server.header_read_timeout = 1.0;
    c.server.body_read_timeout = 1.0;
    c.server.request_timeout = 5.0;
}

/// Everything the server sends until it closes the connection (or `limit` passes), and when
/// it closed.
async fn read_until_closed(mut stream: TcpStream, opened: Instant, limit: Duration) -> (Vec<u8>, Option<Duration>) {
    let mut received = Vec::new();
    let mut buf = [0u8; 1024];
    let deadline = opened + limit;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, stream.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return (received, Some(opened.elapsed())),
            Ok(Ok(n)) => received.extend_from_slice(&buf[..n]),
            Err(_) => return (received, None),
        }
    }
}

/// A fresh connection per probe, so a probe never rides on a connection already accepted.
async fn probe_healthz(url: &str) -> (StatusCode, Duration) {
    let http = reqwest::Client::builder().pool_max_idle_per_host(0).build().unwrap();
    let started = Instant::now();
    let status = http.get(url).send().await.expect("healthz answers").status();
    (status, started.elapsed())
}

#[tokio::test]
async fn unfinished_headers_and_stalled_bodies_are_closed_after_their_timeouts_while_healthz_answers() {
    let server = TestServer::start_with(short_timeouts).await;
    let addr = server.state.config.listen;

    // Control: a complete request is answered, and the connection is kept alive for another.
    let mut control = TcpStream::connect(addr).await.unwrap();
    control
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
        .await
        .unwrap();
    let mut head = [0u8; 64];
    let n = control.read(&mut head).await.unwrap();
    assert!(
        head[..n].starts_with(b"HTTP/1.1 200"),
        "{:?}",
        String::from_utf8_lossy(&head[..n])
    );

    // A body announced as 100 GB is refused at once, before any of it is read.
    let mut huge = TcpStream::connect(addr).await.unwrap();
    let started = Instant::now();
    huge.write_all(
        b"POST /token HTTP/1.1\r\nHost: t\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100000000000\r\n\r\nabc",
    )
    .await
    .unwrap();
    let (answer, closed) = read_until_closed(huge, started, Duration::from_secs(5)).await;
    assert!(
        answer.starts_with(b"HTTP/1.1 413"),
        "{}",
        String::from_utf8_lossy(&answer)
    );
    let huge_closed = closed.expect("closed after the 413");
    assert!(
        huge_closed < Duration::from_millis(800),
        "refused at once, not after a timeout: {huge_closed:?}"
    );

    // 150 connections that never finish their headers, 50 that announce 200 kB (under the body
    // limit) and send 3 bytes.
    const HEADERS: usize = 150;
    const BODIES: usize = 50;
    let mut slow = Vec::new();
    for i in 0..HEADERS + BODIES {
        let mut s = TcpStream::connect(addr).await.unwrap();
        let opened = Instant::now();
        let bytes: &[u8] = if i < HEADERS {
            b"GET /healthz HTTP/1.1\r\nHost: t\r\nX-Slow: "
        } else {
            b"POST /token HTTP/1.1\r\nHost: t\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 200000\r\n\r\nabc"
        };
        s.write_all(bytes).await.unwrap();
        slow.push(tokio::spawn(read_until_closed(s, opened, Duration::from_secs(6))));
    }

    // While they are held, /healthz answers on fresh connections.
    let health = server.url("/healthz");
    let mut worst = Duration::ZERO;
    for _ in 0..8 {
        let (status, took) = probe_healthz(&health).await;
        assert_eq!(status, StatusCode::OK);
        worst = worst.max(took);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        worst < Duration::from_millis(500),
        "healthz under the flood took {worst:?}"
    );

    let mut header_close = Vec::new();
    let mut body_close = Vec::new();
    for (i, task) in slow.into_iter().enumerate() {
        let (answer, closed) = task.await.unwrap();
        let closed = closed.unwrap_or_else(|| panic!("connection {i} was still open after 6 s"));
        if i < HEADERS {
            assert!(
                answer.is_empty(),
                "no answer to unfinished headers: {}",
                String::from_utf8_lossy(&answer)
            );
            header_close.push(closed);
        } else {
            assert!(
                answer.starts_with(b"HTTP/1.1 408"),
                "{}",
                String::from_utf8_lossy(&answer)
            );
            body_close.push(closed);
        }
    }
    let range = |v: &[Duration]| (*v.iter().min().unwrap(), *v.iter().max().unwrap());
    let (h_min, h_max) = range(&header_close);
    let (b_min, b_max) = range(&body_close);
    eprintln!(
        "{HEADERS} unfinished headers closed after {h_min:?}..{h_max:?}; {BODIES} stalled bodies answered 408 \
         and closed after {b_min:?}..{b_max:?}; healthz meanwhile at most {worst:?}; 100 GB body refused in {huge_closed:?}"
    );
    assert!(
        h_min >= Duration::from_millis(900) && h_max < Duration::from_secs(3),
        "{h_min:?}..{h_max:?}"
    );
    assert!(
        b_min >= Duration::from_millis(900) && b_max < Duration::from_secs(3),
        "{b_min:?}..{b_max:?}"
    );
}

#[tokio::test]
async fn connections_beyond_the_cap_wait_until_held_ones_time_out() {
    const CAP: usize = 20;
    let server = TestServer::start_with(|c| {
        short_timeouts(c);
        c.server.max_connections = CAP;
    })
    .await;
    let addr = server.state.config.listen;
    let health = server.url("/healthz");
    // Let the harness's readiness probe connection close first.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let (status, fast) = probe_healthz(&health).await;
    assert_eq!(status, StatusCode::OK, "control: answered below the cap");

    let mut idle = Vec::new();
    for _ in 0..CAP {
        let s = TcpStream::connect(addr).await.unwrap();
        let opened = Instant::now();
        idle.push(tokio::spawn(read_until_closed(s, opened, Duration::from_secs(5))));
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    let (status, waited) = probe_healthz(&health).await;
    assert_eq!(status, StatusCode::OK);
    for task in idle {
        let (_, closed) = task.await.unwrap();
        assert!(closed.is_some(), "an idle connection was never closed");
    }
    eprintln!("healthz below the cap: {fast:?}; with {CAP} idle connections holding the cap: {waited:?}");
    assert!(fast < Duration::from_millis(300), "{fast:?}");
    // The probe waited in the backlog until the idle ones timed out (1 s after they opened).
    assert!(
        waited >= Duration::from_millis(600) && waited < Duration::from_secs(3),
        "{waited:?}"
    );
}

#[tokio::test]
async fn near_the_cap_new_connections_get_the_short_header_timeout_so_a_probe_soon_gets_a_slot() {
    const CAP: usize = 20;
    let server = TestServer::start_with(|c| {
        c.server.header_read_timeout = 4.0;
        c.server.header_read_timeout_when_busy = 0.5;
        c.server.max_connections = CAP;
    })
    .await;
    let addr = server.state.config.listen;
    tokio::time::sleep(Duration::from_millis(200)).await;

    let mut idle = Vec::new();
    for _ in 0..CAP {
        let s = TcpStream::connect(addr).await.unwrap();
        let opened = Instant::now();
        idle.push(tokio::spawn(read_until_closed(s, opened, Duration::from_secs(8))));
        // One at a time, so that each is accepted before the next arrives.
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let (status, waited) = probe_healthz(&server.url("/healthz")).await;
    assert_eq!(status, StatusCode::OK);
    let mut closed = Vec::new();
    for task in idle {
        closed.push(task.await.unwrap().1.expect("closed by the server"));
    }
    let early = closed.iter().filter(|t| **t < Duration::from_millis(1500)).count();
    let late = closed.iter().filter(|t| **t >= Duration::from_millis(3500)).count();
    eprintln!("cap {CAP}: {early} connections accepted while busy closed within 1.5 s, {late} after ≥ 3.5 s; healthz waited {waited:?}");
    // Fewer than a quarter of the slots free: at least the last 4 of 20 were accepted while
    // busy (one more when the harness's readiness probe still held a slot).
    assert!((4..=5).contains(&early) && early + late == CAP, "{closed:?}");
    assert!(
        waited < Duration::from_millis(1500),
        "the probe got a slot freed by a busy-time connection: {waited:?}"
    );
}

#[tokio::test]
async fn nul_bytes_in_any_parameter_are_refused_as_bad_input() {
    let server = TestServer::start().await;
    let browser = Browser::new();
    let pages = [
        "/authorize?response_type=code&client_id=%00&redirect_uri=x",
        "/authorize?response_type=code&client_id=rp&state=a%00b",
        "/login?interaction=%00",
        "/logout?client_id=%00",
        "/broker/callback/corp?handoff=%00",
        "/broker/start/c%00rp",
        "/account/callback?code=%00&state=x",
    ];
    for path in pages {
        let page = browser.page(&server.url(path)).await;
        assert_eq!(page.status, StatusCode::BAD_REQUEST, "{path}: {}", page.html);
        assert!(page.html.contains("NUL character"), "{path}: {}", page.html);
    }
    let login = browser
        .post(
            &server.url("/login"),
            &[("interaction", "x"), ("username", "al\0ice"), ("password", "p")],
        )
        .await;
    assert_eq!(login.status(), StatusCode::BAD_REQUEST);
    assert!(login.text().await.unwrap().contains("NUL character"));

    let http = reqwest::Client::new();
    let basic = base64::engine::general_purpose::STANDARD.encode("rp%00:secret");
    let cases = [
        http.post(server.url("/token"))
            .header("authorization", format!("Basic {basic}"))
            .form(&[("grant_type", "authorization_code"), ("code", "x")]),
        http.post(server.url("/token")).form(&[
            ("grant_type", "authorization_code"),
            ("client_id", "\0"),
            ("code", "x"),
        ]),
        http.post(server.url("/revoke"))
            .form(&[("token", "a\0b"), ("client_id", "rp")]),
        http.post(server.url("/userinfo")).form(&[("access_token", "\0")]),
    ];
    for case in cases {
        let res = case.send().await.unwrap();
        assert_eq!(res.status(), StatusCode::BAD_REQUEST);
        let body: serde_json::Value = res.json().await.unwrap();
        assert_eq!(body["error"], "invalid_request", "{body}");
        assert_eq!(body["error_description"], "a parameter contains a NUL character");
    }

    // Control: the same requests without the NUL reach their handlers.
    let res = http
        .post(server.url("/token"))
        .basic_auth(RP_ID, Some(urlencode(RP_SECRET)))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", "x"),
            ("redirect_uri", RP_REDIRECT),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["error"], "invalid_grant", "{body}");
    let page = browser.page(&server.url("/login?interaction=unknown")).await;
    assert!(!page.html.contains("NUL character"), "{}", page.html);
}

/// A config file for the real binary on a free loopback port, SQLite in `dir`.
fn binary_config(dir: &std::path::Path, port: u16) -> std::path::PathBuf {
    let path = dir.join("gatehouse.toml");
    std::fs::write(
        &path,
        format!(
            "issuer = \"http://127.0.0.1:{port}\"\nlisten = \"127.0.0.1:{port}\"\ndatabase_url = \"sqlite://{}/g.db?mode=rwc\"\n",
            dir.display()
        ),
    )
    .unwrap();
    path
}

/// A child process killed when the test ends, however it ends.
struct Reaped(Option<std::process::Child>);

impl Drop for Reaped {
    fn drop(&mut self) {
        if let Some(mut child) = self.0.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

#[tokio::test]
async fn sighup_reloads_without_ending_the_server_while_sigterm_still_stops_it() {
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let config = binary_config(dir.path(), port);
    let log_path = dir.path().join("server.log");
    let child = Command::new(env!("CARGO_BIN_EXE_gatehouse"))
        .args(["serve", "--config", config.to_str().unwrap()])
        .env_remove("GATEHOUSE_CONFIG")
        .env("GATEHOUSE_LOG", "info")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log_path).unwrap())
        .spawn()
        .unwrap();
    let pid = child.id() as libc::pid_t;
    let mut child = Reaped(Some(child));
    let health = format!("http://127.0.0.1:{port}/healthz");
    let mut up = false;
    for _ in 0..100 {
        if reqwest::get(&health).await.is_ok_and(|r| r.status().is_success()) {
            up = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(up, "the server started");
    // SAFETY: signals a child process this test started and still owns.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGHUP) }, 0);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let running = child.0.as_mut().unwrap();
    assert!(running.try_wait().unwrap().is_none(), "SIGHUP did not end the server");
    let res = reqwest::get(&health).await.expect("still answering after SIGHUP");
    assert_eq!(res.status(), StatusCode::OK);

    // SAFETY: as above.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0);
    let mut status = None;
    for _ in 0..100 {
        status = running.try_wait().unwrap();
        if status.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let status = status.expect("SIGTERM stops the server within 10 s");
    assert!(status.success(), "{status:?}");
    let log = std::fs::read_to_string(&log_path).unwrap();
    // SIGHUP reloads the file (live_changes.rs tests what it puts in force).
    assert!(log.contains("SIGHUP: reloaded"), "{log}");
}

#[test]
fn a_plain_http_issuer_off_loopback_stops_the_start_unless_allowed() {
    let dir = tempfile::tempdir().unwrap();
    let config = binary_config(dir.path(), 9);
    let run = |extra: &[(&str, &str)]| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_gatehouse"));
        cmd.args(["migrate", "--config", config.to_str().unwrap()])
            .env_remove("GATEHOUSE_CONFIG")
            .env("GATEHOUSE_ISSUER", "http://sso.example.com");
        for (k, v) in extra {
            cmd.env(k, v);
        }
        cmd.output().unwrap()
    };
    let refused = run(&[]);
    assert!(!refused.status.success());
    let err = String::from_utf8_lossy(&refused.stderr);
    assert!(
        err.contains("http://sso.example.com") && err.contains("allow_insecure_issuer"),
        "{err}"
    );

    let allowed = run(&[("GATEHOUSE_SERVER__ALLOW_INSECURE_ISSUER", "true")]);
    assert!(allowed.status.success(), "{}", String::from_utf8_lossy(&allowed.stderr));
}
