//! Passkeys (WebAuthn) driven without a browser, by a software authenticator
//! (`harness::passkey`): registered on the account page after re-confirming the password, used
//! alone and as a second factor with an honest `amr`, ceremonies bound to their browser and
//! single use, unknown or removed credentials refused, wrong assertions on the password throttle.
use reqwest::StatusCode;

use super::harness::browser::Browser;
use super::harness::client_app::{authorize, id_token_claims};
use super::harness::mfa::password_step;
use super::harness::passkey::*;
use super::harness::*;
use gatehouse::flow::acr::{ACR_MFA, ACR_SINGLE};

fn amr(claims: &serde_json::Value) -> Vec<String> {
    serde_json::from_value(claims["amr"].clone()).unwrap()
}

/// A browser signed in as alice on the account page, with a passkey named "Laptop".
async fn alice_with_passkey(server: &TestServer) -> (Browser, SoftPasskey) {
    let browser = Browser::new();
    let back = browser
        .sign_in_as(server, &server.url("/account"), ALICE, ALICE_PASSWORD)
        .await;
    assert_eq!(back, server.url("/account"));
    let (passkey, res) = register(&browser, server, "Laptop", ALICE_PASSWORD).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER, "{}", res.text().await.unwrap());
    (browser, passkey)
}

#[tokio::test]
async fn a_passkey_added_on_the_account_page_signs_in_alone_as_two_factors() {
    let server = server_on_localhost(|_| {}).await;
    let (browser, mut passkey) = alice_with_passkey(&server).await;
    let account = browser.page(&server.url("/account")).await;
    assert!(account.html.contains("<strong>Laptop</strong>"), "{}", account.html);

    // Another browser, nobody named: the authenticator says who.
    let other = Browser::new();
    let login = other.follow(&server, &authorize(&server, "")).await;
    assert!(login.contains("/login?"), "{login}");
    let res = sign_in(&other, &server, &login, &mut passkey).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER, "{}", res.text().await.unwrap());
    let back = other.follow(&server, &redirect_target(&server, &res)).await;
    let claims = id_token_claims(&server, &back).await;
    assert_eq!(claims["preferred_username"], ALICE);
    // A device-bound key with user verification: hwk, and two factors.
    assert_eq!(amr(&claims), ["hwk", "mfa"]);
    assert_eq!(claims["acr"], ACR_MFA);
    // The use is recorded on the account page.
    let account = browser.page(&server.url("/account")).await;
    assert!(account.html.contains("last used"), "{}", account.html);
}

#[tokio::test]
async fn a_passkey_is_asked_after_the_password_and_makes_it_two_factors() {
    let server = server_on_localhost(|_| {}).await;
    let (_, mut passkey) = alice_with_passkey(&server).await;
    let browser = Browser::new();
    let at = password_step(&browser, &server, &authorize(&server, ""), ALICE, ALICE_PASSWORD).await;
    assert!(
        at.contains("/login/mfa?interaction="),
        "a password alone is not enough now: {at}"
    );
    let page = browser.page(&at).await;
    assert!(page.html.contains("Use a passkey"), "{}", page.html);
    assert!(
        !page.html.contains("Code from your authenticator app"),
        "only the factors the person has are offered"
    );
    let res = second_factor(&browser, &server, &at, &mut passkey).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER, "{}", res.text().await.unwrap());
    let back = browser.follow(&server, &redirect_target(&server, &res)).await;
    let claims = id_token_claims(&server, &back).await;
    assert_eq!(amr(&claims), ["pwd", "hwk", "mfa"]);
    assert_eq!(claims["acr"], ACR_MFA);
}

#[tokio::test]
async fn adding_a_passkey_re_asks_for_the_password() {
    let server = server_on_localhost(|_| {}).await;
    let browser = Browser::new();
    browser
        .sign_in_as(&server, &server.url("/account"), ALICE, ALICE_PASSWORD)
        .await;
    let page = browser.page(&server.url("/account")).await;
    let csrf = page.field("csrf").unwrap();
    let url = server.url("/account/passkeys/options");
    let (status, body) = options(
        &browser,
        &url,
        &[("csrf", &csrf), ("name", "Laptop"), ("confirm", "wrong-password")],
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["error"], "That password or code is not right.");
    let (status, body) = options(
        &browser,
        &url,
        &[("csrf", &csrf), ("name", " "), ("confirm", ALICE_PASSWORD)],
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "a passkey needs a name: {body}");
    // Without the page's CSRF token nothing starts.
    let (status, _) = options(&browser, &url, &[("name", "Laptop"), ("confirm", ALICE_PASSWORD)]).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // Signed out: no options at all.
    let (status, _) = options(
        &Browser::new(),
        &url,
        &[("csrf", &csrf), ("name", "Laptop"), ("confirm", ALICE_PASSWORD)],
    )
    .await;
    assert_ne!(status, StatusCode::OK);
}

#[tokio::test]
async fn an_answer_without_a_ceremony_in_this_browser_or_twice_is_refused() {
    let server = server_on_localhost(|_| {}).await;
    let (_, mut passkey) = alice_with_passkey(&server).await;
    // Browser A fetches the options; the answer is posted from browser B (its own interaction
    // and CSRF token): B never started a ceremony.
    let a = Browser::new();
    let login_a = a.follow(&server, &authorize(&server, "")).await;
    let page_a = a.page(&login_a).await;
    let (ix_a, csrf_a) = (page_a.field("interaction").unwrap(), page_a.field("csrf").unwrap());
    let (_, opts) = options(
        &a,
        &server.url("/login/passkey/options"),
        &[("interaction", &ix_a), ("csrf", &csrf_a)],
    )
    .await;
    let answer = passkey.get(&opts, &origin(&server)).to_string();
    let b = Browser::new();
    let login_b = b.follow(&server, &authorize(&server, "")).await;
    let page_b = b.page(&login_b).await;
    let (ix_b, csrf_b) = (page_b.field("interaction").unwrap(), page_b.field("csrf").unwrap());
    let res = b
        .post(
            &server.url("/login/passkey"),
            &[("interaction", &ix_b), ("csrf", &csrf_b), ("credential", &answer)],
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert!(res
        .text()
        .await
        .unwrap()
        .contains("expired or started in another browser"));
    // In A it works once; posting the same answer again finds no ceremony.
    let res = a
        .post(
            &server.url("/login/passkey"),
            &[("interaction", &ix_a), ("csrf", &csrf_a), ("credential", &answer)],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let replay = Browser::new();
    let login_r = replay.follow(&server, &authorize(&server, "")).await;
    let page_r = replay.page(&login_r).await;
    let (ix_r, csrf_r) = (page_r.field("interaction").unwrap(), page_r.field("csrf").unwrap());
    let (_, _fresh) = options(
        &replay,
        &server.url("/login/passkey/options"),
        &[("interaction", &ix_r), ("csrf", &csrf_r)],
    )
    .await;
    let res = replay
        .post(
            &server.url("/login/passkey"),
            &[("interaction", &ix_r), ("csrf", &csrf_r), ("credential", &answer)],
        )
        .await;
    assert_eq!(
        res.status(),
        StatusCode::UNAUTHORIZED,
        "an old answer does not meet a new challenge"
    );
}

#[tokio::test]
async fn an_unknown_credential_is_refused() {
    let server = server_on_localhost(|_| {}).await;
    // A credential created against real options but never stored (the final post was skipped).
    let browser = Browser::new();
    browser
        .sign_in_as(&server, &server.url("/account"), ALICE, ALICE_PASSWORD)
        .await;
    let page = browser.page(&server.url("/account")).await;
    let csrf = page.field("csrf").unwrap();
    let (_, opts) = options(
        &browser,
        &server.url("/account/passkeys/options"),
        &[("csrf", &csrf), ("name", "Phone"), ("confirm", ALICE_PASSWORD)],
    )
    .await;
    let (mut stranger, _) = SoftPasskey::create(&opts, &origin(&server));
    let other = Browser::new();
    let login = other.follow(&server, &authorize(&server, "")).await;
    let res = sign_in(&other, &server, &login, &mut stranger).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let html = res.text().await.unwrap();
    assert!(
        html.contains("could not be verified, or it is not registered here"),
        "{html}"
    );
    assert!(other
        .follow(&server, &authorize(&server, "&prompt=none"))
        .await
        .contains("error=login_required"));
}

#[tokio::test]
async fn a_removed_passkey_no_longer_signs_in_and_removal_re_asks_for_the_password() {
    let server = server_on_localhost(|_| {}).await;
    let (browser, mut laptop) = alice_with_passkey(&server).await;
    let (_, res) = register(&browser, &server, "YubiKey", ALICE_PASSWORD).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER, "several passkeys per account");
    let page = browser.page(&server.url("/account")).await;
    assert!(page.html.contains("<strong>Laptop</strong>") && page.html.contains("<strong>YubiKey</strong>"));
    let csrf = page.field("csrf").unwrap();
    let id = base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, &laptop.credential_id);
    let remove = server.url("/account/passkeys/remove");
    // The wrong password removes nothing.
    let res = browser
        .post(&remove, &[("csrf", &csrf), ("id", &id), ("confirm", "nope")])
        .await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    // Bob cannot remove alice's passkey, even with his own password.
    let bob = Browser::new();
    bob.sign_in_as(&server, &server.url("/account"), "bob", "bob-password-123")
        .await;
    let bob_csrf = bob.page(&server.url("/account")).await.field("csrf").unwrap();
    let res = bob
        .post(
            &remove,
            &[("csrf", &bob_csrf), ("id", &id), ("confirm", "bob-password-123")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    // Alice, with her password, removes it.
    let res = browser
        .post(&remove, &[("csrf", &csrf), ("id", &id), ("confirm", ALICE_PASSWORD)])
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let page = browser.page(&server.url("/account")).await;
    assert!(!page.html.contains("<strong>Laptop</strong>") && page.html.contains("<strong>YubiKey</strong>"));
    let other = Browser::new();
    let login = other.follow(&server, &authorize(&server, "")).await;
    let res = sign_in(&other, &server, &login, &mut laptop).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "the removed passkey is refused");
}

#[tokio::test]
async fn wrong_assertions_count_toward_the_password_throttle() {
    let server = server_on_localhost(|c| {
        c.limits.account.free_attempts = 3;
        c.limits.account.first_delay_secs = 60;
    })
    .await;
    let (_, mut passkey) = alice_with_passkey(&server).await;
    let mut statuses = Vec::new();
    for _ in 0..4 {
        let b = Browser::new();
        let login = b.follow(&server, &authorize(&server, "")).await;
        let page = b.page(&login).await;
        let (ix, csrf) = (page.field("interaction").unwrap(), page.field("csrf").unwrap());
        let (_, opts) = options(
            &b,
            &server.url("/login/passkey/options"),
            &[("interaction", &ix), ("csrf", &csrf)],
        )
        .await;
        let mut answer = passkey.get(&opts, &origin(&server));
        // A signature over something else: the authenticator's key, but not this challenge.
        let other = passkey.get(
            &serde_json::json!({"publicKey": {"challenge": "AAAA", "rpId": "localhost"}}),
            &origin(&server),
        );
        answer["response"]["signature"] = other["response"]["signature"].clone();
        let res = b
            .post(
                &server.url("/login/passkey"),
                &[
                    ("interaction", &ix),
                    ("csrf", &csrf),
                    ("credential", &answer.to_string()),
                ],
            )
            .await;
        statuses.push(res.status());
    }
    assert_eq!(
        statuses,
        [
            StatusCode::UNAUTHORIZED,
            StatusCode::UNAUTHORIZED,
            StatusCode::UNAUTHORIZED,
            StatusCode::TOO_MANY_REQUESTS
        ]
    );
    // The password waits too.
    let b = Browser::new();
    let login = b.follow(&server, &authorize(&server, "")).await;
    let res = b.submit_login(&login, ALICE, ALICE_PASSWORD).await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn on_an_issuer_without_a_domain_name_passkeys_are_not_offered() {
    let server = TestServer::start().await;
    let browser = Browser::new();
    let login = browser.follow(&server, &authorize(&server, "")).await;
    let page = browser.page(&login).await;
    assert!(!page.html.contains("Sign in with a passkey"));
    let back = browser.sign_in(&server, &authorize(&server, "")).await;
    let claims = id_token_claims(&server, &back).await;
    assert_eq!(claims["acr"], ACR_SINGLE);
}

#[tokio::test]
async fn a_client_requiring_a_second_step_lets_a_person_without_one_set_up_a_passkey_instead_of_an_app() {
    let server = server_on_localhost(|c| c.clients[0].require_mfa = true).await;
    let browser = Browser::new();
    let at = password_step(&browser, &server, &authorize(&server, ""), ALICE, ALICE_PASSWORD).await;
    assert!(at.contains("/login/mfa/enrol?interaction="), "{at}");
    let page = browser.page(&at).await;
    assert!(page.html.contains("Set up a passkey"), "{}", page.html);
    let ix = page.field("interaction").expect("interaction");
    let csrf = page.field("csrf").expect("csrf");
    // A nameless passkey is refused before any ceremony.
    let (status, _) = options(
        &browser,
        &server.url("/login/mfa/enrol/passkey/options"),
        &[("interaction", &ix), ("csrf", &csrf), ("name", " ")],
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, opts) = options(
        &browser,
        &server.url("/login/mfa/enrol/passkey/options"),
        &[("interaction", &ix), ("csrf", &csrf), ("name", "Phone")],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{opts}");
    let (mut passkey, answer) = SoftPasskey::create(&opts, &origin(&server));
    let form = [
        ("interaction", ix.as_str()),
        ("csrf", csrf.as_str()),
        ("credential", &answer.to_string()),
    ];
    let res = browser.post(&server.url("/login/mfa/enrol/passkey"), &form).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER, "{}", res.text().await.unwrap());
    let back = browser.follow(&server, &redirect_target(&server, &res)).await;
    let claims = id_token_claims(&server, &back).await;
    assert_eq!(
        amr(&claims),
        ["pwd", "hwk", "mfa"],
        "the new passkey is the second step"
    );
    assert_eq!(claims["acr"], ACR_MFA);
    // The same answer again does nothing: the ceremony was used up.
    let again = browser.post(&server.url("/login/mfa/enrol/passkey"), &form).await;
    assert_ne!(again.status(), StatusCode::SEE_OTHER);
    // From now on the passkey is asked after the password, and it alone signs in too.
    let other = Browser::new();
    let at = password_step(&other, &server, &authorize(&server, ""), ALICE, ALICE_PASSWORD).await;
    assert!(at.contains("/login/mfa?interaction="), "{at}");
    let res = second_factor(&other, &server, &at, &mut passkey).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
}
