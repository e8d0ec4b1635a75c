//! The CLI's operating verbs (`user list|disable|enable|delete`, `client disable|enable|delete`,
//! `provider list|disable|enable|delete`, `session list|end`, `audit list|purge`), run as real processes on the database
//! of a running server.
use std::process::Command;

use reqwest::StatusCode;

use super::harness::browser::Browser;
use super::harness::client_app::{authorize, post_token, signed_in};
use super::harness::*;

fn gatehouse(server: &TestServer, args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_gatehouse"))
        .args(args)
        .env("GATEHOUSE_DATABASE_URL", &server.state.config.database_url)
        .env("USER", "ops-person")
        .env_remove("GATEHOUSE_CONFIG")
        .output()
        .expect("run gatehouse");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn users_are_listed_disabled_enabled_and_deleted_from_the_command_line() {
    let server = TestServer::start().await;
    let browser = Browser::new();
    browser.sign_in(&server, &authorize(&server, "")).await;
    assert!(signed_in(&browser, &server).await);

    let (ok, out, err) = tokio::task::block_in_place(|| gatehouse(&server, &["user", "list", "--search", "ALI"]));
    assert!(ok, "{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 1, "{out}");
    assert!(lines[0].contains("\talice\talice@example.com\tenabled"), "{out}");

    let (ok, out, err) = tokio::task::block_in_place(|| gatehouse(&server, &["user", "disable", "alice@example.com"]));
    assert!(ok, "{err}");
    assert!(out.contains("disabled alice: 1 sessions ended"), "{out}");
    assert!(
        !signed_in(&browser, &server).await,
        "her session ended on the server at once"
    );
    let (_, out, _) = tokio::task::block_in_place(|| gatehouse(&server, &["user", "list"]));
    assert!(
        out.lines().any(|l| l.contains("\talice\t") && l.ends_with("disabled")),
        "{out}"
    );

    let (ok, out, err) = tokio::task::block_in_place(|| gatehouse(&server, &["user", "enable", "alice"]));
    assert!(ok && out.contains("enabled alice"), "{out}{err}");
    assert!(!browser
        .sign_in(&server, &authorize(&server, ""))
        .await
        .contains("error="));

    let (ok, _, err) = tokio::task::block_in_place(|| gatehouse(&server, &["user", "delete", "bob"]));
    assert!(!ok && err.contains("--yes"), "deleting asks for confirmation: {err}");
    let (ok, out, err) = tokio::task::block_in_place(|| gatehouse(&server, &["user", "delete", "bob", "--yes"]));
    assert!(ok && out.contains("deleted user bob"), "{out}{err}");
    let (_, out, _) = tokio::task::block_in_place(|| gatehouse(&server, &["user", "list"]));
    assert!(!out.contains("\tbob\t"), "{out}");
    let (ok, _, err) = tokio::task::block_in_place(|| gatehouse(&server, &["user", "disable", "nobody"]));
    assert!(!ok && err.contains("no user"), "{err}");

    // Each change is in the audit trail, naming the operating-system user.
    let (ok, out, err) =
        tokio::task::block_in_place(|| gatehouse(&server, &["audit", "list", "--kind", "admin.*", "--json"]));
    assert!(ok, "{err}");
    let events: Vec<serde_json::Value> = out.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let kinds: Vec<&str> = events.iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert_eq!(
        kinds,
        ["admin.user.delete", "admin.user.enable", "admin.user.disable"],
        "{out}"
    );
    assert!(events
        .iter()
        .all(|e| e["actor_kind"] == "operator" && e["actor_id"] == "ops-person"));
    let (ok, out, _) = tokio::task::block_in_place(|| {
        gatehouse(
            &server,
            &["audit", "list", "--user", "alice", "--kind", "sign_in.success"],
        )
    });
    assert!(ok && out.lines().count() == 2, "two sign-ins of alice: {out}");
    assert!(out.lines().all(|l| l.contains("\tsign_in.success\tperson:")), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clients_are_disabled_and_deleted_from_the_command_line_unless_declared_in_the_config() {
    let server = TestServer::start().await;
    // A client registered at run time (by `client add`), not in the configuration.
    let (ok, out, err) =
        tokio::task::block_in_place(|| gatehouse(&server, &["client", "add", "batch", "--machine-scope", "batch:run"]));
    assert!(ok, "{out}{err}");
    let secret = out
        .lines()
        .find_map(|l| l.strip_prefix("client secret (shown once): "))
        .unwrap()
        .to_owned();
    let token = |secret: String| {
        let server = &server;
        async move {
            reqwest::Client::new()
                .post(server.url("/token"))
                .basic_auth("batch", Some(super::harness::urls::urlencode(&secret)))
                .form(&[("grant_type", "client_credentials")])
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    assert_eq!(token(secret.clone()).await, StatusCode::OK);

    let (ok, out, err) = tokio::task::block_in_place(|| gatehouse(&server, &["client", "disable", "batch"]));
    assert!(ok && out.contains("disabled client batch"), "{out}{err}");
    // The running server forgets its cached copy within its cache lifetime; this node never
    // cached a refusal, so the next request reads the database.
    let refused = eventually_async(|| token(secret.clone())).await;
    assert_eq!(refused, StatusCode::UNAUTHORIZED);
    let (_, out, _) = tokio::task::block_in_place(|| gatehouse(&server, &["client", "list"]));
    assert!(
        out.lines()
            .any(|l| l.starts_with("batch\t") && l.ends_with("\tdisabled")),
        "{out}"
    );
    let (ok, _, _) = tokio::task::block_in_place(|| gatehouse(&server, &["client", "enable", "batch"]));
    assert!(ok);
    let (ok, out, err) = tokio::task::block_in_place(|| gatehouse(&server, &["client", "delete", "batch", "--yes"]));
    assert!(ok && out.contains("deleted client batch"), "{out}{err}");
    let (_, out, _) = tokio::task::block_in_place(|| gatehouse(&server, &["client", "list"]));
    assert!(!out.contains("batch"), "{out}");

    // The configuration file's clients stay as declared.
    let (ok, _, err) = tokio::task::block_in_place(|| gatehouse(&server, &["client", "delete", RP_ID, "--yes"]));
    assert!(!ok && err.contains("declared in the configuration file"), "{err}");
    let (status, _) = post_token(&server, RP_ID, &[("grant_type", "client_credentials")]).await;
    assert_ne!(status, StatusCode::UNAUTHORIZED, "rp still authenticates");
}

/// The status `check` answers once it is 401, polling for up to 35 s (the client cache's
/// lifetime on a node that cached the client before the change).
async fn eventually_async<F, Fut>(mut check: F) -> StatusCode
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = StatusCode>,
{
    let mut last = StatusCode::OK;
    for _ in 0..70 {
        last = check().await;
        if last == StatusCode::UNAUTHORIZED {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
    last
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_purge_removes_the_events_past_the_retention_from_the_command_line() {
    // The server's own purge keeps a century; the command's config has the default 365 days.
    let server = TestServer::start_with(|c| c.audit.retention_days = 36_500).await;
    let old = gatehouse::store::audit::append(
        &server.state.db,
        gatehouse::store::audit::NewAuditRow {
            at_ms: gatehouse::audit::now_ms() - 400 * 86_400_000,
            kind: "sign_in.success".into(),
            actor_kind: "system".into(),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let (ok, out, err) = tokio::task::block_in_place(|| gatehouse(&server, &["audit", "purge"]));
    assert!(ok, "{err}");
    assert!(out.contains("1 audit event(s) older than 365 day(s) removed"), "{out}");
    let (_, listed, _) = tokio::task::block_in_place(|| gatehouse(&server, &["audit", "list", "--limit", "200"]));
    assert!(!listed.contains(&old.id), "{listed}");
    assert!(
        listed
            .lines()
            .any(|l| l.contains("admin.audit.purge") && l.contains("operator:ops-person")),
        "{listed}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runtime_providers_are_listed_disabled_and_deleted_from_the_command_line_and_the_server_follows() {
    use gatehouse::upstream::runtime;
    let server = TestServer::start().await;
    runtime::create(
        &server.state.db,
        &server.state.upstreams,
        &gatehouse::audit::Actor::System,
        gatehouse::config::ProviderConfig {
            id: "runtime-corp".into(),
            name: "Runtime Corp".into(),
            issuer: Some(super::harness::peers::oidc_peer().issuer.parse().unwrap()),
            client_id: "x".into(),
            client_secret: Some("cli-secret-value".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let offered = || async {
        let b = Browser::new();
        let login = b.follow(&server, &authorize(&server, "")).await;
        b.page(&login).await.html.contains("Runtime Corp")
    };
    assert!(offered().await);

    let (ok, out, err) = tokio::task::block_in_place(|| gatehouse(&server, &["provider", "list"]));
    assert!(ok, "{err}");
    assert_eq!(out.trim(), "runtime-corp\tRuntime Corp\truntime\tenabled");
    assert!(!out.contains("cli-secret-value"));

    let (ok, out, err) = tokio::task::block_in_place(|| gatehouse(&server, &["provider", "disable", "runtime-corp"]));
    assert!(ok && out.contains("disabled provider runtime-corp"), "{out}{err}");
    let mut gone = false;
    for _ in 0..50 {
        if !offered().await {
            gone = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(gone, "the running server stops offering it within seconds");

    let (ok, _, err) = tokio::task::block_in_place(|| gatehouse(&server, &["provider", "delete", "runtime-corp"]));
    assert!(!ok && err.contains("--yes"), "{err}");
    let (ok, _, err) =
        tokio::task::block_in_place(|| gatehouse(&server, &["provider", "delete", "runtime-corp", "--yes"]));
    assert!(ok, "{err}");
    let (_, out, _) = tokio::task::block_in_place(|| gatehouse(&server, &["provider", "list"]));
    assert_eq!(out.trim(), "");
    let (ok, _, err) =
        tokio::task::block_in_place(|| gatehouse(&server, &["provider", "delete", "runtime-corp", "--yes"]));
    assert!(!ok && err.contains("runtime-corp"), "{err}");

    let (_, listed, _) =
        tokio::task::block_in_place(|| gatehouse(&server, &["audit", "list", "--kind", "admin.provider.*"]));
    let kinds: Vec<&str> = listed
        .lines()
        .filter(|l| l.contains("operator:ops-person"))
        .filter_map(|l| l.split('\t').nth(1))
        .collect();
    assert_eq!(kinds, ["admin.provider.delete", "admin.provider.disable"], "{listed}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reset_link_queued_from_the_command_line_is_mailed_by_the_server_and_sets_a_password() {
    use super::harness::smtp::{MailServer, FROM};
    let mail = MailServer::start().await;
    let smtp = mail.config();
    let server = TestServer::start_with(move |c| c.smtp = Some(smtp)).await;
    let port = mail.port.to_string();
    let out = tokio::task::block_in_place(|| {
        Command::new(env!("CARGO_BIN_EXE_gatehouse"))
            .args(["user", "reset-password", "alice"])
            .env("GATEHOUSE_DATABASE_URL", &server.state.config.database_url)
            .env("GATEHOUSE_ISSUER", &server.issuer)
            .env("GATEHOUSE_SMTP__HOST", "127.0.0.1")
            .env("GATEHOUSE_SMTP__PORT", &port)
            .env("GATEHOUSE_SMTP__TLS", "none")
            .env("GATEHOUSE_SMTP__FROM", FROM)
            .env("USER", "ops-person")
            .env_remove("GATEHOUSE_CONFIG")
            .output()
            .expect("run gatehouse")
    });
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(out.status.success(), "{stderr}");
    assert!(stdout.contains("queued to alice@example.com"), "{stdout}");

    // The running server's mail task sends it; its link sets a new password.
    let message = mail.latest("alice@example.com", "Reset your password").await;
    let link = message.link("/login/reset?token=").expect("a reset link");
    assert!(link.starts_with(&server.issuer), "{link}");
    let browser = Browser::new();
    let form = browser.page(&link).await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.html);
    let new_password = "violet kettle orbit drum";
    let res = browser
        .post(
            link.split('?').next().unwrap(),
            &[
                ("csrf", &form.field("csrf").expect("csrf")),
                ("token", &form.field("token").expect("token")),
                ("password", new_password),
                ("password_confirm", new_password),
            ],
        )
        .await;
    assert!(res.text().await.unwrap().contains("Password changed"));
    let b = Browser::new();
    let login = b.follow(&server, &authorize(&server, "")).await;
    assert_eq!(
        b.submit_login(&login, ALICE, new_password).await.status(),
        StatusCode::SEE_OTHER
    );

    let (_, listed, _) =
        tokio::task::block_in_place(|| gatehouse(&server, &["audit", "list", "--kind", "admin.user.password_reset"]));
    assert!(listed.contains("operator:ops-person"), "{listed}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_are_listed_and_ended_from_the_command_line() {
    let server = TestServer::start().await;
    let alice = Browser::new();
    alice.sign_in(&server, &authorize(&server, "")).await;
    let bob = Browser::new();
    bob.sign_in_as(&server, &authorize(&server, ""), "bob", "bob-password-123")
        .await;
    assert!(signed_in(&alice, &server).await && signed_in(&bob, &server).await);

    let (ok, out, err) = tokio::task::block_in_place(|| gatehouse(&server, &["session", "list"]));
    assert!(ok, "{err}");
    assert_eq!(out.lines().count(), 2, "{out}");
    let (ok, out, err) = tokio::task::block_in_place(|| gatehouse(&server, &["session", "list", "--user", "alice"]));
    assert!(ok, "{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 1, "{out}");
    assert!(lines[0].contains("\tpwd\t-\t"), "{out}");
    let sid = lines[0].split('\t').next().unwrap().to_owned();

    let (ok, out, err) = tokio::task::block_in_place(|| gatehouse(&server, &["session", "end", &sid]));
    assert!(ok && out.contains(&format!("ended session {sid}")), "{out}{err}");
    assert!(
        !signed_in(&alice, &server).await,
        "her session ended on the server at once"
    );
    assert!(signed_in(&bob, &server).await, "only hers");
    let (ok, _, err) = tokio::task::block_in_place(|| gatehouse(&server, &["session", "end", &sid]));
    assert!(
        !ok && err.contains("live session"),
        "an ended session is not found again: {err}"
    );
    let (ok, out, _) =
        tokio::task::block_in_place(|| gatehouse(&server, &["audit", "list", "--kind", "admin.session.end", "--json"]));
    assert!(ok && out.lines().count() == 1 && out.contains("ops-person"), "{out}");
}
