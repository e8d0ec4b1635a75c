//! Second factors: an authenticator app enrolled on the account page and asked at every
//! password sign-in, codes single-use, recovery codes, step-up by `acr_values`, clients that
//! require a second factor, and honest `amr`/`acr` in ID tokens.
use reqwest::StatusCode;
use sea_orm::{ConnectionTrait, Statement};

use super::harness::browser::{unescape, Browser};
use super::harness::client_app::{authorize, id_token_claims, jwt_part, post_token, VERIFIER};
use super::harness::federation;
use super::harness::mfa::*;
use super::harness::urls::{query_param, urlencode};
use super::harness::*;
use gatehouse::config::{ClientDecl, UpstreamMfa};
use gatehouse::flow::acr::{ACR_MFA, ACR_SINGLE};

const BOB: &str = "bob";
const BOB_PASSWORD: &str = "bob-password-123";
/// A client that requires a second factor.
const MFA_APP: &str = "mfa-app";

fn amr(claims: &serde_json::Value) -> Vec<String> {
    serde_json::from_value(claims["amr"].clone()).unwrap()
}

/// The client app's request, for `client_id`.
fn authorize_for(server: &TestServer, client_id: &str, extra: &str) -> String {
    authorize(server, extra).replace(&format!("client_id={RP_ID}&"), &format!("client_id={client_id}&"))
}

/// The "continue" link of the recovery codes page, absolute.
fn continue_href(server: &TestServer, html: &str) -> String {
    let href = html
        .split("class=\"button\" href=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap();
    server.url(&unescape(href))
}

#[tokio::test]
async fn an_enrolled_app_is_asked_at_every_password_sign_in_and_the_id_token_says_so() {
    let server = TestServer::start().await;
    let enrolled = enrol_on_account(&Browser::new(), &server, ALICE, ALICE_PASSWORD).await;
    assert_eq!(enrolled.recovery_codes.len(), 10, "a set of recovery codes shown once");

    // The secret is stored sealed: neither its base32 form nor anything readable is in the table.
    let row = server
        .state
        .db
        .query_one(Statement::from_string(
            server.state.db.get_database_backend(),
            "SELECT secret_enc FROM totp_factors",
        ))
        .await
        .unwrap()
        .unwrap();
    let sealed: String = row.try_get("", "secret_enc").unwrap();
    assert!(!sealed.contains(&enrolled.secret) && sealed.len() > 40, "{sealed}");

    // A password alone no longer signs in: the challenge page comes next.
    let browser = Browser::new();
    let at = password_step(&browser, &server, &authorize(&server, ""), ALICE, ALICE_PASSWORD).await;
    assert!(at.contains("/login/mfa?interaction="), "{at}");
    assert!(
        query_param(
            &browser.follow(&server, &authorize(&server, "&prompt=none")).await,
            "error"
        )
        .as_deref()
            == Some("interaction_required"),
        "prompt=none cannot show the challenge"
    );
    // A wrong code is refused on the page.
    let wrong = if next_code(&enrolled.secret) == "000000" {
        "111111"
    } else {
        "000000"
    };
    let res = answer(&browser, &at, "totp", wrong).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert!(res.text().await.unwrap().contains("not right"));
    // The app's code completes the sign-in.
    let res = answer(&browser, &at, "totp", &next_code(&enrolled.secret)).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let back = onward(&browser, &server, &res).await;
    assert!(back.starts_with(RP_REDIRECT), "{back}");
    let claims = id_token_claims(&server, &back).await;
    assert_eq!(amr(&claims), ["pwd", "otp", "mfa"]);
    assert_eq!(claims["acr"], ACR_MFA);
    // The session remembers the factor: the next request is answered at once.
    let again = browser.follow(&server, &authorize(&server, "&prompt=none")).await;
    assert!(query_param(&again, "code").is_some(), "{again}");
}

#[tokio::test]
async fn a_code_is_accepted_once_and_recovery_codes_once_each() {
    let server = TestServer::start().await;
    let enrolled = enrol_on_account(&Browser::new(), &server, ALICE, ALICE_PASSWORD).await;
    let code = next_code(&enrolled.secret);

    let first = Browser::new();
    let at = password_step(&first, &server, &authorize(&server, ""), ALICE, ALICE_PASSWORD).await;
    let res = answer(&first, &at, "totp", &code).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER, "first use");

    // The same code, from another browser that knows the password: refused as a replay.
    let second = Browser::new();
    let at = password_step(&second, &server, &authorize(&server, ""), ALICE, ALICE_PASSWORD).await;
    let res = answer(&second, &at, "totp", &code).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert!(res.text().await.unwrap().contains("used already"));

    // A recovery code works once…
    let recovery = &enrolled.recovery_codes[3];
    let res = answer(&second, &at, "recovery", &recovery.to_lowercase()).await;
    assert_eq!(
        res.status(),
        StatusCode::SEE_OTHER,
        "recovery code accepted, however typed"
    );
    let back = onward(&second, &server, &res).await;
    assert_eq!(amr(&id_token_claims(&server, &back).await), ["pwd", "otp", "mfa"]);
    // …and never again.
    let third = Browser::new();
    let at = password_step(&third, &server, &authorize(&server, ""), ALICE, ALICE_PASSWORD).await;
    let res = answer(&third, &at, "recovery", recovery).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let page = third.page(&at).await;
    assert!(page.html.contains("9 left"), "one of ten spent");
}

#[tokio::test]
async fn wrong_codes_count_toward_the_password_throttle() {
    let server = TestServer::start_with(|c| {
        c.limits.account.free_attempts = 3;
        c.limits.account.first_delay_secs = 60;
    })
    .await;
    let enrolled = enrol_on_account(&Browser::new(), &server, ALICE, ALICE_PASSWORD).await;
    let browser = Browser::new();
    let at = password_step(&browser, &server, &authorize(&server, ""), ALICE, ALICE_PASSWORD).await;
    let wrong = if next_code(&enrolled.secret) == "000000" {
        "111111"
    } else {
        "000000"
    };
    let mut statuses = Vec::new();
    for _ in 0..4 {
        statuses.push(answer(&browser, &at, "totp", wrong).await.status());
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
    // The account is throttled for passwords too, and the right code waits as well.
    let res = answer(&browser, &at, "totp", &next_code(&enrolled.secret)).await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    let other = Browser::new();
    let login = other.follow(&server, &authorize(&server, "")).await;
    let res = other.submit_login(&login, ALICE, ALICE_PASSWORD).await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn acr_values_step_an_existing_session_up_without_a_new_password() {
    let server = TestServer::start().await;
    // Signed in with a password only (no factor enrolled yet): one factor, and the token says so.
    let browser = Browser::new();
    let back = browser.sign_in(&server, &authorize(&server, "")).await;
    let claims = id_token_claims(&server, &back).await;
    assert_eq!(
        (amr(&claims), claims["acr"].clone()),
        (vec!["pwd".to_string()], ACR_SINGLE.into())
    );

    // Asking for two factors without one set up: the enrolment page, right away (no password).
    let mfa_request = authorize(&server, &format!("&acr_values={}", urlencode(ACR_MFA)));
    let at = browser.follow(&server, &mfa_request).await;
    assert!(at.contains("/login/mfa/enrol?interaction="), "{at}");
    let page = browser.page(&at).await;
    assert!(page.html.contains("requires a second step"), "{}", page.html);
    let (secret, codes) = confirm_enrolment(&browser, &server, &page, "/login/mfa/enrol").await;
    assert_eq!(recovery_codes_on(&codes.html).len(), 10);
    let back = browser.follow(&server, &continue_href(&server, &codes.html)).await;
    let claims = id_token_claims(&server, &back).await;
    assert_eq!(amr(&claims), ["pwd", "otp", "mfa"]);
    assert_eq!(claims["acr"], ACR_MFA);

    // Another browser with a password session of a person who has a factor: step-up asks only
    // for the code.
    let other = Browser::new();
    let at = password_step(&other, &server, &authorize(&server, ""), ALICE, ALICE_PASSWORD).await;
    assert!(
        at.contains("/login/mfa?"),
        "enrolled: the code is asked at password sign-in: {at}"
    );
    let at = other.follow(&server, &mfa_request).await;
    assert!(
        at.contains("/login/mfa?interaction="),
        "the challenge, not the login page: {at}"
    );
    let res = answer(&other, &at, "totp", &next_code(&secret)).await;
    let back = onward(&other, &server, &res).await;
    assert_eq!(id_token_claims(&server, &back).await["acr"], ACR_MFA);
}

#[tokio::test]
async fn a_client_that_requires_mfa_never_gets_a_single_factor_sign_in() {
    let server = TestServer::start_with(|c| {
        c.clients.push(ClientDecl {
            id: MFA_APP.into(),
            require_mfa: true,
            ..c.clients[0].clone()
        });
    })
    .await;
    let browser = Browser::new();
    // Bob has no factor: the ordinary client signs him in with his password…
    let back = browser
        .sign_in_as(&server, &authorize(&server, ""), BOB, BOB_PASSWORD)
        .await;
    assert!(query_param(&back, "code").is_some(), "{back}");
    // …the MFA client sends the same session to set one up, and gets it only then.
    let at = browser
        .follow(&server, &authorize_for(&server, MFA_APP, "&prompt=none"))
        .await;
    assert_eq!(query_param(&at, "error").as_deref(), Some("interaction_required"));
    let at = browser.follow(&server, &authorize_for(&server, MFA_APP, "")).await;
    assert!(at.contains("/login/mfa/enrol?"), "{at}");
    let page = browser.page(&at).await;
    let (_, codes) = confirm_enrolment(&browser, &server, &page, "/login/mfa/enrol").await;
    let back = browser.follow(&server, &continue_href(&server, &codes.html)).await;
    let code = query_param(&back, "code").unwrap_or_else(|| panic!("{back}"));
    let (status, tokens) = post_token(
        &server,
        MFA_APP,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", RP_REDIRECT),
            ("code_verifier", VERIFIER),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    let claims = jwt_part(tokens["id_token"].as_str().unwrap(), 1);
    assert_eq!(amr(&claims), ["pwd", "otp", "mfa"]);
    assert_eq!(claims["acr"], ACR_MFA);
}

#[tokio::test]
async fn discovery_lists_the_acr_values_and_the_account_page_manages_the_factor() {
    let server = TestServer::start().await;
    let meta: serde_json::Value = reqwest::get(server.url("/.well-known/openid-configuration"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(meta["acr_values_supported"], serde_json::json!([ACR_SINGLE, ACR_MFA]));
    assert!(meta["claims_supported"].as_array().unwrap().contains(&"acr".into()));

    let browser = Browser::new();
    let enrolled = enrol_on_account(&browser, &server, ALICE, ALICE_PASSWORD).await;
    let page = browser.page(&server.url("/account")).await;
    assert!(
        page.html
            .contains("Authenticator app: <strong>on</strong>. 10 recovery codes left"),
        "{}",
        page.html
    );
    let csrf = page.field("csrf").unwrap();
    // New recovery codes need a code from the app; the old set stops working.
    let res = browser
        .post(
            &server.url("/account/mfa/manage"),
            &[("csrf", csrf.as_str()), ("code", "12"), ("action", "recovery")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let res = browser
        .post(
            &server.url("/account/mfa/manage"),
            &[
                ("csrf", csrf.as_str()),
                ("code", &next_code(&enrolled.secret)),
                ("action", "recovery"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let fresh = recovery_codes_on(&res.text().await.unwrap());
    assert_eq!(fresh.len(), 10);
    assert!(fresh.iter().all(|c| !enrolled.recovery_codes.contains(c)));
    let other = Browser::new();
    let at = password_step(&other, &server, &authorize(&server, ""), ALICE, ALICE_PASSWORD).await;
    let res = answer(&other, &at, "recovery", &enrolled.recovery_codes[0]).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "the old set is gone");
    let res = answer(&other, &at, "recovery", &fresh[0]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER, "the new set works");

    // The app lost: a recovery code turns it off, and password sign-in is one step again.
    let page = browser.page(&server.url("/account")).await;
    let res = browser
        .post(
            &server.url("/account/mfa/manage"),
            &[
                ("csrf", &page.field("csrf").unwrap()),
                ("code", &fresh[1]),
                ("action", "remove"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let page = browser.page(&server.url("/account")).await;
    assert!(page.html.contains("Authenticator app: off."), "{}", page.html);
    let back = Browser::new().sign_in(&server, &authorize(&server, "")).await;
    assert!(back.starts_with(RP_REDIRECT), "no second step any more: {back}");
}

/// Through the real upstream OP ("corp"), with the provider's `mfa` policy and the client
/// app requiring a second factor or not; returns where the double flow stopped.
async fn brokered(policy: UpstreamMfa, client_requires: bool, account: &str) -> (TestServer, Browser, String) {
    let server = federation::server_with(|p, c| {
        p.mfa = policy;
        c.clients[0].require_mfa = client_requires;
    })
    .await;
    let browser = Browser::new();
    let end = federation::federated_login(&browser, &server, account).await;
    (server, browser, end.url)
}

#[tokio::test]
async fn trust_upstream_accepts_the_upstream_second_factor_and_nothing_less() {
    // The upstream signed in with a second factor: the client requiring one is satisfied.
    let (server, _, end) = brokered(UpstreamMfa::TrustUpstream, true, "carol-mfa").await;
    assert!(end.starts_with(RP_REDIRECT), "{end}");
    let claims = id_token_claims(&server, &end).await;
    assert_eq!(
        amr(&claims),
        ["fed", "mfa", "otp"],
        "the upstream's own methods, and mfa"
    );
    assert_eq!(claims["acr"], ACR_MFA);
    assert_eq!(claims["idp"], "corp");

    // A password only upstream: a local factor is required first (here: set one up).
    let (_, _, end) = brokered(UpstreamMfa::TrustUpstream, true, "dave").await;
    assert!(end.contains("/login/mfa/enrol?interaction="), "never the client: {end}");
}

#[tokio::test]
async fn always_local_asks_the_local_factor_after_every_brokered_login() {
    let (server, browser, end) = brokered(UpstreamMfa::AlwaysLocal, false, "erin-mfa").await;
    assert!(
        end.contains("/login/mfa/enrol?interaction="),
        "the upstream's factor does not count: {end}"
    );
    let page = browser.page(&end).await;
    let (_, codes) = confirm_enrolment(&browser, &server, &page, "/login/mfa/enrol").await;
    let back = browser.follow(&server, &continue_href(&server, &codes.html)).await;
    let claims = id_token_claims(&server, &back).await;
    assert_eq!(
        amr(&claims),
        ["fed", "otp", "mfa"],
        "the local factor, not the upstream's"
    );
    assert_eq!(claims["acr"], ACR_MFA);
}

#[tokio::test]
async fn policy_none_ignores_the_upstream_amr_but_still_serves_a_client_requiring_mfa_locally() {
    let (server, _, end) = brokered(UpstreamMfa::None, false, "frank-mfa").await;
    assert!(end.starts_with(RP_REDIRECT), "{end}");
    let claims = id_token_claims(&server, &end).await;
    assert_eq!(amr(&claims), ["fed"]);
    assert_eq!(claims["acr"], ACR_SINGLE);

    let (_, _, end) = brokered(UpstreamMfa::None, true, "frank-mfa").await;
    assert!(end.contains("/login/mfa/enrol?interaction="), "never the client: {end}");
}

#[tokio::test]
async fn the_enrolment_page_shows_the_key_as_a_qr_code_of_its_otpauth_uri() {
    use base64::Engine;
    let server = TestServer::start().await;
    let browser = Browser::new();
    browser
        .sign_in_as(&server, &server.url("/account"), ALICE, ALICE_PASSWORD)
        .await;
    let page = browser.page(&server.url("/account/mfa/totp")).await;
    let uri = unescape(
        page.html
            .split("<a href=\"otpauth://")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap(),
    );
    let uri = format!("otpauth://{uri}");
    let secret = secret_on(&page);
    assert!(
        uri.contains(&format!("secret={secret}")),
        "the QR code's URI carries the key shown next to it"
    );
    let src = unescape(
        page.html
            .split("<img class=\"qr\" src=\"")
            .nth(1)
            .expect("a QR code")
            .split('"')
            .next()
            .unwrap(),
    );
    let svg = base64::engine::general_purpose::STANDARD
        .decode(src.strip_prefix("data:image/svg+xml;base64,").expect("an SVG data URI"))
        .unwrap();
    // The same URI encoded independently gives the same picture.
    let expected = qrcode::QrCode::with_error_correction_level(uri.as_bytes(), qrcode::EcLevel::M)
        .unwrap()
        .render::<qrcode::render::svg::Color>()
        .min_dimensions(200, 200)
        .quiet_zone(true)
        .build();
    assert_eq!(String::from_utf8(svg).unwrap(), expected);
}
