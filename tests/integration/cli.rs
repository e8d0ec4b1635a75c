//! The command line, run as a real process against a SQLite file, or a PostgreSQL database when
//! `TEST_POSTGRES_URL` is set.
use std::io::Write;
use std::process::{Command, Stdio};

use super::harness::browser::Browser;
use super::harness::urls::{query_param, urlencode};
use super::harness::{database_url, TestServer};
use gatehouse::oidc::pkce::s256;

fn gatehouse(db: &str, args: &[&str], stdin: Option<&str>) -> (bool, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_gatehouse"))
        .args(args)
        .env("GATEHOUSE_DATABASE_URL", db)
        .env_remove("GATEHOUSE_CONFIG")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run gatehouse");
    if let Some(input) = stdin {
        child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    }
    drop(child.stdin.take());
    let out = child.wait_with_output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

#[tokio::test]
async fn users_and_clients_added_by_cli_can_sign_in() {
    let dir = tempfile::tempdir().unwrap();
    let db = database_url(dir.path()).await;
    let (ok, out, err) = gatehouse(&db, &["migrate"], None);
    assert!(ok, "{out}{err}");
    let (ok, out, err) = gatehouse(
        &db,
        &["user", "add", "dora", "--email", "dora@example.com", "--password-stdin"],
        Some("dora-glacier-lantern\n"),
    );
    assert!(ok && out.contains("created user dora"), "{out}{err}");
    let (ok, _, err) = gatehouse(
        &db,
        &["user", "add", "dora", "--password-stdin"],
        Some("another-glacier-lantern\n"),
    );
    assert!(!ok && err.contains("taken"), "duplicate refused: {err}");
    let (ok, out, err) = gatehouse(
        &db,
        &[
            "client",
            "add",
            "cli-app",
            "--redirect-uri",
            "http://127.0.0.1:9/cb",
            "--secret-stdin",
            "--post-logout-redirect-uri",
            "http://127.0.0.1:9/",
            "--require-consent",
        ],
        Some("cli-app-secret\n"),
    );
    assert!(ok && out.contains("confidential"), "{out}{err}");
    let (ok, out, _) = gatehouse(
        &db,
        &[
            "client",
            "add",
            "cli-spa",
            "--redirect-uri",
            "http://127.0.0.1:9/cb",
            "--public",
        ],
        None,
    );
    assert!(ok && out.contains("public"));
    let (ok, out, _) = gatehouse(
        &db,
        &["client", "add", "cli-gen", "--redirect-uri", "http://127.0.0.1:9/cb"],
        None,
    );
    assert!(
        ok && out.contains("client secret (shown once): "),
        "generated secret printed: {out}"
    );
    let (ok, out, _) = gatehouse(&db, &["client", "list"], None);
    assert!(
        ok && out.contains("cli-app\tconfidential") && out.contains("cli-spa\tpublic"),
        "{out}"
    );
    let (ok, _, err) = gatehouse(
        &db,
        &["client", "add", "bad", "--redirect-uri", "not a url", "--public"],
        None,
    );
    assert!(!ok && err.contains("redirect URI"), "{err}");
    // A machine-only client: no redirect URI, scopes for client_credentials.
    let (ok, out, err) = gatehouse(
        &db,
        &[
            "client",
            "add",
            "cli-job",
            "--machine-scope",
            "api:read",
            "--secret-stdin",
        ],
        Some("cli-job-secret\n"),
    );
    assert!(ok && out.contains("confidential"), "{out}{err}");
    let (ok, _, err) = gatehouse(
        &db,
        &["client", "add", "cli-bad-job", "--machine-scope", "openid"],
        None,
    );
    assert!(!ok && err.contains("openid"), "user scopes refused: {err}");

    let server = TestServer::start_with(|c| {
        c.database_url = db.clone();
        c.clients.clear();
        c.users.clear();
    })
    .await;
    let browser = Browser::new();
    let url = server.url(&format!(
        "/authorize?response_type=code&client_id=cli-spa&redirect_uri={}&scope=openid&code_challenge={}&code_challenge_method=S256",
        urlencode("http://127.0.0.1:9/cb"),
        s256("cli-verifier-cli-verifier-cli-verifier-cli-verifier")
    ));
    let back = browser.sign_in_as(&server, &url, "dora", "dora-glacier-lantern").await;
    assert!(query_param(&back, "code").is_some(), "{back}");
    let res = reqwest::Client::new()
        .post(server.url("/token"))
        .basic_auth("cli-job", Some("cli-job-secret"))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    let machine: serde_json::Value = res.json().await.unwrap();
    assert_eq!(machine["scope"], "api:read", "{machine}");

    // The server made its keys; rotate them from the command line.
    let (ok, out, _) = gatehouse(&db, &["keys", "list"], None);
    assert!(
        ok && out.lines().count() == 2 && out.matches("current").count() == 2,
        "{out}"
    );
    let (ok, out, _) = gatehouse(&db, &["keys", "rotate"], None);
    assert!(
        ok && out.contains("new RS256 key") && out.contains("new ES256 key"),
        "{out}"
    );
    let (ok, out, _) = gatehouse(&db, &["keys", "list"], None);
    assert!(
        ok && out.matches("current").count() == 2 && out.matches("retired at").count() == 2,
        "{out}"
    );
}

#[test]
fn unknown_config_file_is_a_clear_error() {
    let out = Command::new(env!("CARGO_BIN_EXE_gatehouse"))
        .args(["--config", "/nonexistent/g.toml", "migrate"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/g.toml"));
}

#[test]
fn an_unknown_preset_or_a_malformed_preset_file_stops_the_start_naming_file_and_field() {
    let dir = tempfile::tempdir().unwrap();
    // The configuration is refused before any database is opened: SQLite is enough here.
    let db = format!("sqlite://{}/cli.db?mode=rwc", dir.path().display());
    let config = dir.path().join("gatehouse.toml");
    std::fs::write(
        &config,
        "[[providers]]\npreset = \"githib\"\nclient_id = \"x\"\nclient_secret = \"y\"\n",
    )
    .unwrap();
    let (ok, _, err) = gatehouse(&db, &["migrate", "--config", config.to_str().unwrap()], None);
    assert!(!ok, "refused");
    assert!(err.contains("providers[0]") && err.contains("githib"), "{err}");
    assert!(err.contains("github"), "the known presets are listed: {err}");

    let presets = dir.path().join("presets");
    std::fs::create_dir(&presets).unwrap();
    std::fs::write(
        presets.join("acme.toml"),
        "name = \"Acme\"\nkind = \"oidc\"\nscopes = 3\n",
    )
    .unwrap();
    std::fs::write(
        &config,
        format!(
            "providers_dir = \"{}\"\n[[providers]]\npreset = \"acme\"\nclient_id = \"x\"\nclient_secret = \"y\"\n",
            presets.display()
        ),
    )
    .unwrap();
    let (ok, _, err) = gatehouse(&db, &["migrate", "--config", config.to_str().unwrap()], None);
    assert!(!ok, "refused");
    assert!(err.contains("acme.toml") && err.contains("scopes"), "{err}");
}
