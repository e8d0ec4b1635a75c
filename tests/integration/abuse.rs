//! Standing up to guessing and floods: the per-account throttle every node shares (in the
//! database), per-address limits, the password policy and bounded stored fields.
use reqwest::StatusCode;
use sea_orm::{EntityTrait, PaginatorTrait};
use serde_json::Value;

use super::harness::accounts::register;
use super::harness::browser::{location, Browser};
use super::harness::client_app::authorize;
use super::harness::urls::{query_param, urlencode};
use super::harness::*;
use gatehouse::config::Config;
use gatehouse::store::entities::{interaction, user};
use gatehouse::store::throttles::ThrottlePolicy;

/// One password attempt for `login` from a new browser: the answer's status and body.
async fn attempt(server: &TestServer, login: &str, password: &str) -> (StatusCode, String, Option<String>) {
    let browser = Browser::new();
    let at = browser.follow(server, &authorize(server, "")).await;
    let res = browser.submit_login(&at, login, password).await;
    let retry_after = res.headers().get("retry-after").map(|v| v.to_str().unwrap().to_owned());
    (res.status(), res.text().await.unwrap(), retry_after)
}

fn quick_throttle(c: &mut Config) {
    c.limits.account = ThrottlePolicy {
        free_attempts: 3,
        first_delay_secs: 2,
        max_delay_secs: 4,
    };
    c.limits.sign_in_per_minute = 1000;
}

#[tokio::test]
async fn guesses_against_one_account_must_wait_and_the_right_password_is_not_checked_meanwhile() {
    let server = TestServer::start_with(|c| {
        quick_throttle(c);
        c.limits.account.first_delay_secs = 60;
        c.limits.account.max_delay_secs = 60;
    })
    .await;
    // Control: the right password works at once.
    assert_eq!(attempt(&server, ALICE, ALICE_PASSWORD).await.0, StatusCode::SEE_OTHER);
    for n in 1..=3 {
        assert_eq!(
            attempt(&server, ALICE, "wrong-guess").await.0,
            StatusCode::UNAUTHORIZED,
            "guess {n} is checked"
        );
    }
    // Now every attempt waits, the right password included: it is not even checked.
    let (status, html, retry_after) = attempt(&server, ALICE, ALICE_PASSWORD).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert!(
        html.contains("Too many attempts") && html.contains("try again in 1 minute"),
        "{html}"
    );
    let wait: u64 = retry_after.expect("Retry-After").parse().unwrap();
    assert!((50..=60).contains(&wait), "{wait}");
    // Another account is not affected, and asking by email is the same account.
    assert_eq!(
        attempt(&server, "bob", "bob-password-123").await.0,
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        attempt(&server, "alice@example.com", ALICE_PASSWORD).await.0,
        StatusCode::TOO_MANY_REQUESTS
    );
    // Bounded loop: of 20 fast guesses none is checked while the wait lasts.
    let mut checked = 0;
    for _ in 0..20 {
        if attempt(&server, ALICE, "wrong-again").await.0 != StatusCode::TOO_MANY_REQUESTS {
            checked += 1;
        }
    }
    assert_eq!(checked, 0, "no guess is checked during the wait");
}

#[tokio::test]
async fn the_wait_doubles_up_to_its_cap_ends_by_itself_and_a_success_forgets_the_count() {
    use gatehouse::store::throttles::{admit, succeeded, Admission};
    let server = TestServer::start().await;
    let db = &server.state.db;
    let policy = ThrottlePolicy {
        free_attempts: 2,
        first_delay_secs: 10,
        max_delay_secs: 40,
    };
    // In the future, so the purge of idle counts (which runs at start-up) leaves them alone.
    let t0 = gatehouse::store::now() + 100_000;
    // Two free attempts, then 10, 20, 40, 40… seconds before each further one.
    let mut t = t0;
    let mut waits = vec![];
    for _ in 0..20 {
        if let Admission::Wait { secs } = admit(db, "user:x", &policy, t).await.unwrap() {
            waits.push(secs);
            t += secs;
        }
        if waits.len() == 5 {
            break;
        }
    }
    assert_eq!(waits, [10, 20, 40, 40, 40]);
    assert_eq!(
        admit(db, "user:x", &policy, t - 1).await.unwrap(),
        Admission::Wait { secs: 1 }
    );
    // A success forgets it all: the next failures are free again.
    assert_eq!(admit(db, "user:x", &policy, t).await.unwrap(), Admission::Admitted);
    succeeded(db, "user:x").await.unwrap();
    assert_eq!(admit(db, "user:x", &policy, t).await.unwrap(), Admission::Admitted);
    assert_eq!(admit(db, "user:x", &policy, t).await.unwrap(), Admission::Admitted);
    // Parallel attempts at one moment: exactly the free ones are admitted.
    let key = "user:parallel";
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let db = db.clone();
            tokio::spawn(async move { admit(&db, key, &policy, t0).await.unwrap() })
        })
        .collect();
    let mut tries = vec![];
    for task in tasks {
        tries.push(task.await.unwrap());
    }
    let admitted = tries.iter().filter(|a| **a == Admission::Admitted).count();
    assert_eq!(admitted, 2, "{tries:?}");
}

#[tokio::test]
async fn unknown_names_are_throttled_exactly_like_known_ones() {
    let server = TestServer::start_with(quick_throttle).await;
    for login in ["nobody-here", ALICE] {
        for _ in 0..3 {
            assert_eq!(attempt(&server, login, "wrong-guess").await.0, StatusCode::UNAUTHORIZED);
        }
        assert_eq!(
            attempt(&server, login, "wrong-guess").await.0,
            StatusCode::TOO_MANY_REQUESTS,
            "{login}"
        );
    }
}

#[tokio::test]
async fn an_administrator_clears_a_throttle_from_the_command_line() {
    let server = TestServer::start_with(|c| {
        quick_throttle(c);
        c.limits.account.first_delay_secs = 600;
        c.limits.account.max_delay_secs = 600;
    })
    .await;
    for _ in 0..3 {
        attempt(&server, ALICE, "wrong-guess").await;
    }
    assert_eq!(
        attempt(&server, ALICE, ALICE_PASSWORD).await.0,
        StatusCode::TOO_MANY_REQUESTS
    );
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_gatehouse"))
        .args(["user", "unlock", "alice"])
        .env("GATEHOUSE_DATABASE_URL", &server.state.config.database_url)
        .env_remove("GATEHOUSE_CONFIG")
        .output()
        .expect("run gatehouse");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("cleared the password throttle of alice"), "{stdout}");
    assert_eq!(attempt(&server, ALICE, ALICE_PASSWORD).await.0, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn one_address_is_limited_across_many_accounts() {
    let server = TestServer::start_with(|c| c.limits.sign_in_per_minute = 5).await;
    for n in 0..5 {
        let (status, _, _) = attempt(&server, &format!("someone{n}"), "wrong-guess").await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "attempt {n} is checked");
    }
    let (status, html, retry_after) = attempt(&server, ALICE, ALICE_PASSWORD).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert!(html.contains("try again in 1 minute"), "{html}");
    assert!(retry_after.is_some());
}

/// Registers `username` (at example.org, no name) with `password`: the answer's status and body.
async fn register_with(server: &TestServer, username: &str, password: &str) -> (StatusCode, String) {
    let res = register(server, username, &format!("{username}@example.org"), "", password).await;
    (res.status(), res.text().await.unwrap())
}

#[tokio::test]
async fn registration_refuses_common_and_guessable_passwords() {
    let server = TestServer::start_with(|c| c.registration.enabled = true).await;
    let (status, html) = register_with(&server, "newbie", "12345678").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(html.contains("most commonly used passwords"), "{html}");
    let (status, html) = register_with(&server, "newbie", "newbie2024").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(html.contains("too easy to guess"), "{html}");
    let (status, html) = register_with(&server, "newbie", "short").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(html.contains("at least 8 characters"), "{html}");
    let (status, html) = register_with(&server, "newbie", &"x".repeat(300)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(html.contains("at most 256 characters"), "{html}");
    assert_eq!(
        user::Entity::find().count(&server.state.db).await.unwrap(),
        2,
        "nothing created"
    );
    // Control: an unusual phrase is accepted.
    assert_eq!(
        register_with(&server, "newbie", "violet kettle orbit drum").await.0,
        StatusCode::SEE_OTHER
    );
}

#[tokio::test]
async fn one_address_can_register_only_a_few_accounts_an_hour() {
    let server = TestServer::start_with(|c| {
        c.registration.enabled = true;
        c.limits.registrations_per_hour = 2;
    })
    .await;
    assert_eq!(
        register_with(&server, "first", "violet kettle orbit drum").await.0,
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        register_with(&server, "second", "violet kettle orbit drum").await.0,
        StatusCode::SEE_OTHER
    );
    let (status, html) = register_with(&server, "third", "violet kettle orbit drum").await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert!(html.contains("try again in"), "{html}");
    assert_eq!(user::Entity::find().count(&server.state.db).await.unwrap(), 4);
}

async fn token_with_secret(server: &TestServer, secret: &str) -> (StatusCode, Value, Option<String>) {
    let res = reqwest::Client::new()
        .post(server.url("/token"))
        .basic_auth(RP_ID, Some(urlencode(secret)))
        .form(&[("grant_type", "refresh_token"), ("refresh_token", "unknown")])
        .send()
        .await
        .unwrap();
    let retry_after = res.headers().get("retry-after").map(|v| v.to_str().unwrap().to_owned());
    (res.status(), res.json().await.unwrap(), retry_after)
}

#[tokio::test]
async fn failed_client_authentications_from_one_address_are_limited() {
    let server = TestServer::start_with(|c| c.limits.client_auth_failures_per_minute = 3).await;
    // Control: the right secret authenticates (the grant itself is then refused).
    let (status, body, _) = token_with_secret(&server, RP_SECRET).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_grant"))
    );
    for _ in 0..3 {
        let (status, body, _) = token_with_secret(&server, "wrong secret").await;
        assert_eq!(
            (status, body["error"].as_str()),
            (StatusCode::UNAUTHORIZED, Some("invalid_client"))
        );
    }
    let (status, body, retry_after) = token_with_secret(&server, "wrong secret").await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(body["error"], "temporarily_unavailable");
    assert!(retry_after.is_some());
    // While blocked, even the right secret is not checked from this address.
    let (status, _, _) = token_with_secret(&server, RP_SECRET).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    let introspect = reqwest::Client::new()
        .post(server.url("/introspect"))
        .basic_auth(RP_ID, Some(urlencode(RP_SECRET)))
        .form(&[("token", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(
        introspect.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "every client-authenticating endpoint"
    );
}

#[tokio::test]
async fn oversized_authorization_parameters_are_refused_and_nothing_is_stored() {
    let server = TestServer::start().await;
    let browser = Browser::new();
    // Control: a normal request stores one pending sign-in.
    let login = browser.follow(&server, &authorize(&server, "")).await;
    assert!(login.contains("/login?interaction="), "{login}");
    let stored = interaction::Entity::find().count(&server.state.db).await.unwrap();
    for (url, name) in [
        (
            authorize(&server, &format!("&login_hint={}", "a".repeat(300))),
            "login_hint",
        ),
        (
            authorize(&server, "").replace("nonce=bn", &format!("nonce={}", "n".repeat(600))),
            "nonce",
        ),
    ] {
        let back = Browser::new().follow(&server, &url).await;
        assert!(back.starts_with(RP_REDIRECT), "{back}");
        assert_eq!(query_param(&back, "error").as_deref(), Some("invalid_request"));
        assert!(query_param(&back, "error_description").unwrap().contains(name));
    }
    // An oversized state is refused and not echoed back.
    let url = authorize(&server, "").replace("state=bs", &format!("state={}", "s".repeat(3000)));
    let back = Browser::new().follow(&server, &url).await;
    assert_eq!(query_param(&back, "error").as_deref(), Some("invalid_request"));
    assert_eq!(query_param(&back, "state"), None);
    assert_eq!(
        interaction::Entity::find().count(&server.state.db).await.unwrap(),
        stored,
        "nothing stored"
    );
    // A body of megabytes is refused before it is read into memory.
    let res = reqwest::Client::new()
        .post(server.url("/authorize"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("client_id={RP_ID}&state={}", "s".repeat(2_000_000)))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test]
async fn one_address_cannot_make_the_server_store_unbounded_pending_sign_ins() {
    let server = TestServer::start_with(|c| c.limits.interactions_per_minute = 5).await;
    for n in 0..5 {
        let res = Browser::new().get(&authorize(&server, "")).await;
        assert!(location(&res).unwrap().contains("/login?interaction="), "request {n}");
    }
    let res = Browser::new().get(&authorize(&server, "")).await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(interaction::Entity::find().count(&server.state.db).await.unwrap(), 5);
    // A signed-in browser stores nothing and is not limited.
    let browser = Browser::new();
    let mut prepared = TestServer::prepare().await;
    prepared.config.limits.interactions_per_minute = 1;
    let other = prepared.launch().await;
    let back = browser.sign_in(&other, &authorize(&other, "")).await;
    assert!(query_param(&back, "code").is_some());
    for _ in 0..5 {
        let back = browser.follow(&other, &authorize(&other, "")).await;
        assert!(query_param(&back, "code").is_some(), "{back}");
    }
}
