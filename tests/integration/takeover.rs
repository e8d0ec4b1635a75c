//! Nobody signs in as someone else: the account-takeover routes found by outside testing, each
//! driven the way an attacker would (several cookie jars, the real upstream OP), each with a
//! passing control case beside the refused one.
use reqwest::StatusCode;
use serde_json::Value;

use super::harness::accounts::{counts, register};
use super::harness::browser::{location, Browser};
use super::harness::client_app::{
    authorize, id_token_claims, introspect, prompt_none_error, redeem, refresh, userinfo_status,
};
use super::harness::federation::{federated_login, server_with, to_upstream_form, upstream_callback};
use super::harness::urls::{query_param, urlencode};
use super::harness::*;
use gatehouse::broker::LinkingPolicy;
use gatehouse::oidc::pkce::s256;

const MALLORY_PASSWORD: &str = "quartz lantern fjord 9";

/// Registers an account named "Someone" through the real register page; returns the final
/// response.
async fn register_someone(server: &TestServer, username: &str, email: &str, password: &str) -> reqwest::Response {
    register(server, username, email, "Someone", password).await
}

/// Signs in with a password in a new browser; the client's redirect (with a code) or the page.
async fn password_login(server: &TestServer, login: &str, password: &str) -> reqwest::Response {
    let browser = Browser::new();
    let at = browser.follow(server, &authorize(server, "")).await;
    browser.submit_login(&at, login, password).await
}

async fn password_sub(server: &TestServer, login: &str, password: &str) -> Option<String> {
    let browser = Browser::new();
    let at = browser.follow(server, &authorize(server, "")).await;
    let res = browser.submit_login(&at, login, password).await;
    if res.status() != StatusCode::SEE_OTHER {
        return None;
    }
    let back = browser.follow(server, &server.url(&location(&res)?)).await;
    Some(id_token_claims(server, &back).await["sub"].as_str()?.to_owned())
}

fn registration_on(c: &mut gatehouse::config::Config) {
    c.registration.enabled = true;
}

#[tokio::test]
async fn a_verified_upstream_email_links_silently_only_to_a_local_account_that_verified_it_too() {
    let server = server_with(|p, c| {
        p.linking = LinkingPolicy::LinkByVerifiedEmail;
        registration_on(c);
    })
    .await;
    // Control: alice's own email is verified, so the corporate login links to her at once.
    let control = federated_login(&Browser::new(), &server, "alice-corp").await;
    assert!(control.url.starts_with(RP_REDIRECT), "{}", control.url);

    // The attacker registers first, with the victim's corporate address and a password of theirs.
    let res = register_someone(&server, "mallory2", "victim@contoso.test", MALLORY_PASSWORD).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER, "registration itself is allowed");
    let mallory_sub = password_sub(&server, "mallory2", MALLORY_PASSWORD)
        .await
        .expect("mallory signs in");
    let before = counts(&server).await;

    // The victim signs in through the corporate IdP: asked, not linked to the attacker's account.
    let browser = Browser::new();
    let end = federated_login(&browser, &server, "victim").await;
    assert!(
        end.url.contains("/broker/link?interaction="),
        "asked, not linked: {}",
        end.url
    );
    assert_eq!(counts(&server).await, before, "nothing linked or created");

    // The victim creates a separate account: it keeps the address the IdP proved.
    let ix = query_param(&end.url, "interaction").unwrap();
    let page = browser
        .page(&server.url(&format!("/broker/profile?interaction={ix}")))
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.html);
    let res = browser
        .post(
            &server.url("/broker/profile"),
            &[
                ("interaction", ix.as_str()),
                ("csrf", &page.field("csrf").unwrap()),
                ("username", "victim"),
                ("email", "victim@contoso.test"),
                ("name", "Victim"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER, "account created");
    let back = browser.follow(&server, &server.url(&location(&res).unwrap())).await;
    let claims = id_token_claims(&server, &back).await;
    assert_ne!(
        claims["sub"],
        mallory_sub.as_str(),
        "the victim is not the attacker's account"
    );
    assert_eq!(claims["email"], "victim@contoso.test");
    assert_eq!(claims["email_verified"], true);

    // The attacker's password opens only the attacker's account, which lost the unproven address.
    assert_eq!(
        password_sub(&server, "mallory2", MALLORY_PASSWORD).await.as_deref(),
        Some(mallory_sub.as_str())
    );
    let mallory = gatehouse::store::users::find_by_username(&server.state.db, "mallory2")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        mallory.email, None,
        "an unverified claim on an address yields to its proven owner"
    );
    // And the victim's login by the corporate IdP stays the victim's.
    let again = federated_login(&Browser::new(), &server, "victim").await;
    assert_eq!(id_token_claims(&server, &again.url).await["sub"], claims["sub"]);
}

#[tokio::test]
async fn an_upstream_callback_opened_in_another_browser_signs_nobody_in_and_stays_usable_in_the_first() {
    let server = server_with(|_, _| {}).await;
    let a = Browser::new();
    // A signs in at the provider and stops before the redirect back.
    let callback = upstream_callback(&a, &server, "ann").await;
    let before = counts(&server).await;

    // B, with no cookies, opens A's callback URL.
    let b = Browser::new();
    let res = b.get(&callback.url).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert!(location(&res).is_none(), "no redirect anywhere");
    let html = res.text().await.unwrap();
    assert!(html.contains("started in another browser"), "{html}");
    assert!(!html.contains("interaction="), "A's interaction is not offered to B");
    assert_eq!(counts(&server).await, before, "no user or link created");
    assert_eq!(
        prompt_none_error(&b, &server).await.as_deref(),
        Some("login_required"),
        "no session in B"
    );

    // A browser with a session of its own (a different secret) is refused the same way.
    let c = Browser::new();
    let _ = to_upstream_form(&c, &server).await;
    let res = c.get(&callback.url).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert!(res.text().await.unwrap().contains("started in another browser"));

    // A's pending sign-in still finishes in A, once.
    let end = a.walk(&callback.url, RP_REDIRECT).await;
    assert!(end.url.starts_with(RP_REDIRECT), "{}", end.url);
    assert_eq!(id_token_claims(&server, &end.url).await["preferred_username"], "ann");
}

#[tokio::test]
async fn a_session_from_a_provider_the_client_refuses_is_no_session_for_that_client() {
    const CORP_ONLY: &str = "local-only-app";
    let server = server_with(|_, c| {
        let mut only = c.clients.iter().find(|x| x.id == RP_ID).unwrap().clone();
        only.id = CORP_ONLY.into();
        only.allowed_providers = Some(vec!["some-other-idp".into()]);
        c.clients.push(only);
    })
    .await;
    let browser = Browser::new();
    let end = federated_login(&browser, &server, "ann").await;
    assert!(end.url.starts_with(RP_REDIRECT), "signed in through corp for the rp");
    let url = |client: &str, extra: &str| {
        server.url(&format!(
            "/authorize?response_type=code&client_id={client}&redirect_uri={}&scope=openid&state=s&code_challenge={}&code_challenge_method=S256{extra}",
            urlencode(RP_REDIRECT),
            s256("takeover-verifier-takeover-verifier-takeover-v")
        ))
    };
    // Control: the rp, which accepts corp, gets a code silently.
    let ok = browser.follow(&server, &url(RP_ID, "&prompt=none")).await;
    assert!(query_param(&ok, "code").is_some(), "{ok}");
    // The restricted client gets login_required, and a login page without corp otherwise.
    let none = browser.follow(&server, &url(CORP_ONLY, "&prompt=none")).await;
    assert!(none.starts_with(RP_REDIRECT), "{none}");
    assert_eq!(query_param(&none, "error").as_deref(), Some("login_required"));
    assert!(query_param(&none, "code").is_none());
    let login = browser.follow(&server, &url(CORP_ONLY, "")).await;
    assert!(login.contains("/login?interaction="), "{login}");
    let page = browser.page(&login).await;
    assert!(
        !page.html.contains("Sign in with Contoso"),
        "only the methods it accepts"
    );
    // Signing in again (with a password) replaces the session, and then the client is served.
    let res = browser.submit_login(&login, ALICE, ALICE_PASSWORD).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let back = browser.follow(&server, &server.url(&location(&res).unwrap())).await;
    assert!(query_param(&back, "code").is_some(), "{back}");
}

#[tokio::test]
async fn registration_cannot_take_an_email_or_a_login_name_from_an_existing_account() {
    let server = TestServer::start_with(registration_on).await;
    // Control: bob signs in by his email.
    let bob = password_sub(&server, "bob@example.com", "bob-password-123").await;
    assert!(bob.is_some(), "bob signs in by email");

    // Another account on bob's address is refused, and bob's login by email keeps working.
    let res = register_someone(&server, "notbob", "Bob@Example.com", "violet kettle orbit drum").await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert!(res
        .text()
        .await
        .unwrap()
        .contains("An account with that email address already exists"));
    assert_eq!(password_sub(&server, "bob@example.com", "bob-password-123").await, bob);

    // A username shaped like alice's email is refused; her email still signs her in.
    let res = register_someone(
        &server,
        "alice@example.com",
        "other@example.net",
        "violet kettle orbit drum",
    )
    .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert!(res.text().await.unwrap().contains("may not contain @"));
    assert!(password_sub(&server, "alice@example.com", ALICE_PASSWORD)
        .await
        .is_some());

    // Case, width and look-alike variants of "alice" are taken; a mixed-script one is refused.
    for variant in [
        "Alice",
        "ALICE",
        "ａｌｉｃｅ",
        "a1ice",
        "\u{430}\u{4cf}\u{456}\u{441}\u{435}",
    ] {
        let res = register_someone(
            &server,
            variant,
            &format!("{}@example.net", variant.len()),
            "violet kettle orbit drum",
        )
        .await;
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{variant}");
        assert!(res.text().await.unwrap().contains("username is taken"), "{variant}");
    }
    let res = register_someone(&server, "\u{430}lice", "mixed@example.net", "violet kettle orbit drum").await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert!(res
        .text()
        .await
        .unwrap()
        .contains("may not mix letters of different scripts"));
    let users = gatehouse::store::entities::user::Entity::find()
        .all(&server.state.db)
        .await
        .unwrap();
    assert_eq!(users.len(), 2, "only alice and bob exist");
    // Alice signs in whatever case she types.
    let sub = password_sub(&server, ALICE, ALICE_PASSWORD).await;
    assert_eq!(password_sub(&server, "ALICE", ALICE_PASSWORD).await, sub);
    assert_eq!(
        password_login(&server, "ａｌｉｃｅ", "wrong").await.status(),
        StatusCode::UNAUTHORIZED
    );
}

use sea_orm::EntityTrait;

/// A token for `RP_ID` as alice: (access token, refresh token).
async fn tokens_for_rp(server: &TestServer) -> (String, Option<String>) {
    let back = Browser::new()
        .sign_in(
            server,
            &authorize(server, "").replace("scope=openid", "scope=openid%20offline_access"),
        )
        .await;
    let tokens = redeem(server, &back).await;
    (
        tokens["access_token"].as_str().expect("access token").to_owned(),
        tokens["refresh_token"].as_str().map(str::to_owned),
    )
}

#[tokio::test]
async fn a_client_introspects_only_its_own_tokens_unless_trusted_with_all() {
    const RESOURCE: &str = "resource-server";
    let server = TestServer::start_with(|c| {
        let mut rs = c.clients.iter().find(|x| x.id == RP_ID).unwrap().clone();
        rs.id = RESOURCE.into();
        rs.introspect_any = true;
        c.clients.push(rs);
    })
    .await;
    let (access, refresh) = tokens_for_rp(&server).await;
    let refresh = refresh.expect("a refresh token");
    for token in [&access, &refresh] {
        let own = introspect(&server, RP_ID, token).await;
        assert_eq!(own["active"], true, "control: the token's own client");
        assert_eq!(own["username"], ALICE);
        let other = introspect(&server, CONSENT_ID, token).await;
        assert_eq!(
            other,
            serde_json::json!({"active": false}),
            "nothing about another client's token"
        );
        let trusted = introspect(&server, RESOURCE, token).await;
        assert_eq!(
            trusted["active"], true,
            "a resource server allowed to introspect any token"
        );
    }
}

#[tokio::test]
async fn two_simultaneous_redemptions_of_one_code_leave_no_usable_token() {
    let server = TestServer::start().await;
    let browser = Browser::new();
    let url = authorize(&server, "").replace("scope=openid", "scope=openid%20offline_access");
    for round in 0..15 {
        let back = browser.follow(&server, &url).await;
        let back = if back.contains("/login?") {
            browser.sign_in(&server, &url).await
        } else {
            back
        };
        let (a, b) = tokio::join!(redeem(&server, &back), redeem(&server, &back));
        let winners: Vec<&Value> = [&a, &b].into_iter().filter(|t| t["access_token"].is_string()).collect();
        assert!(winners.len() <= 1, "round {round}: one code, one redemption at most");
        for w in winners {
            let at = w["access_token"].as_str().unwrap();
            assert_eq!(
                userinfo_status(&server, at).await,
                StatusCode::UNAUTHORIZED,
                "round {round}: access token revoked"
            );
            let rt = w["refresh_token"].as_str().expect("refresh token");
            let (_, refreshed) = refresh(&server, RP_ID, rt).await;
            assert_eq!(
                refreshed["error"], "invalid_grant",
                "round {round}: refresh token revoked"
            );
        }
        // Control: every round, the replay itself is answered invalid_grant.
        assert!([&a, &b].iter().any(|t| t["error"] == "invalid_grant"), "round {round}");
    }
}

#[tokio::test]
async fn strict_transport_security_is_sent_only_for_an_https_issuer() {
    let plain = TestServer::start().await;
    let res = reqwest::get(plain.url("/healthz")).await.unwrap();
    assert!(
        res.headers().get("strict-transport-security").is_none(),
        "not over http"
    );

    let mut prepared = TestServer::prepare().await;
    let listen = prepared.config.listen;
    prepared.config.issuer = format!("https://{listen}").parse().unwrap();
    let secure = prepared.launch().await;
    let res = reqwest::get(format!("http://{listen}/healthz")).await.unwrap();
    assert_eq!(
        res.headers()
            .get("strict-transport-security")
            .map(|v| v.to_str().unwrap()),
        Some("max-age=31536000")
    );
    drop(secure);
}

#[tokio::test]
async fn a_disabled_account_cannot_come_back_through_its_linked_provider() {
    use sea_orm::{ActiveModelTrait, Set};
    let server = server_with(|_, _| {}).await;
    // Control: the first login creates and links "dora-corp"; a second one comes back in.
    let first = federated_login(&Browser::new(), &server, "dora-corp").await;
    assert!(first.url.starts_with(RP_REDIRECT), "{}", first.url);
    let again = federated_login(&Browser::new(), &server, "dora-corp").await;
    assert!(again.url.starts_with(RP_REDIRECT), "{}", again.url);
    let dora = gatehouse::store::users::find_by_username(&server.state.db, "dora-corp")
        .await
        .unwrap()
        .expect("created");
    let mut disabled: gatehouse::store::entities::user::ActiveModel = dora.into();
    disabled.disabled = Set(true);
    disabled.update(&server.state.db).await.unwrap();
    let before = counts(&server).await;

    let browser = Browser::new();
    let end = federated_login(&browser, &server, "dora-corp").await;
    assert!(
        !end.url.starts_with(RP_REDIRECT),
        "no code for a disabled account: {}",
        end.url
    );
    let page = end.page.expect("a page");
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert!(page.html.contains("This account is disabled."), "{}", page.html);
    assert_eq!(counts(&server).await, before, "nothing created or relinked");
    assert_eq!(
        prompt_none_error(&browser, &server).await.as_deref(),
        Some("login_required")
    );
}
