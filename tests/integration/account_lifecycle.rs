//! The account page as people use it: words and dates instead of codes, linking and unlinking
//! upstream logins through the real upstream OP, the applications with access, the profile,
//! and deleting the account (with back-channel logout to the applications).
use reqwest::StatusCode;

use super::harness::accounts::{counts, local_id};
use super::harness::browser::{location, unescape, Browser, Page, Walk};
use super::harness::client_app::{
    introspect, jwt_part, post_token, prompt_none_error, redeem, refresh, tokens_for, VERIFIER,
};
use super::harness::federation::{federated_login, server_with};
use super::harness::logout_receiver::LogoutReceiver;
use super::harness::peers::oidc_peer;
use super::harness::urls::{query_param, urlencode};
use super::harness::*;
use gatehouse::oidc::pkce::s256;
use gatehouse::store::{federated, users};

/// The account page in `browser`, signing in as alice first when it is not signed in.
async fn account_page(browser: &Browser, server: &TestServer) -> Page {
    let at = browser.sign_in(server, &server.url("/account")).await;
    assert_eq!(at, server.url("/account"), "at the account page");
    let page = browser.page(&at).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.html);
    page
}

/// The account page of a browser already signed in (through any method).
async fn signed_in_account_page(browser: &Browser, server: &TestServer) -> Page {
    let at = browser.follow(server, &server.url("/account")).await;
    assert_eq!(at, server.url("/account"), "signed in already");
    let page = browser.page(&at).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.html);
    page
}

/// Posts an account-page form with the page's CSRF token.
async fn post_form(
    browser: &Browser,
    server: &TestServer,
    page: &Page,
    path: &str,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    let csrf = page.field("csrf").expect("csrf");
    let mut form = vec![("csrf", csrf.as_str())];
    form.extend_from_slice(fields);
    browser.post(&server.url(path), &form).await
}

/// Starts linking `provider` from the account page: the walk to the upstream OP's login form.
async fn start_linking(browser: &Browser, server: &TestServer, page: &Page) -> Walk {
    let res = post_form(browser, server, page, "/account/links", &[("provider", "corp")]).await;
    let to = location(&res).unwrap_or_else(|| panic!("off to the provider, got {}", res.status()));
    assert!(to.starts_with(&oidc_peer().issuer), "{to}");
    let at = browser.walk(&to, &server.url("/account")).await;
    assert!(at.page.is_some(), "the upstream login form at {}", at.url);
    at
}

/// The account page's text between `<h2 id="{id}-heading">` and the next section.
fn section<'a>(html: &'a str, id: &str) -> &'a str {
    let start = html
        .find(&format!("id=\"{id}-heading\""))
        .unwrap_or_else(|| panic!("no {id} section"));
    let rest = &html[start..];
    &rest[..rest.find("</section>").unwrap_or(rest.len())]
}

#[tokio::test]
async fn the_account_page_shows_dates_and_method_names_instead_of_codes() {
    let server = TestServer::start().await;
    let browser = Browser::new();
    let page = account_page(&browser, &server).await;
    let sessions = unescape(section(&page.html, "sessions"));
    assert!(sessions.contains("with Password;"), "{sessions}");
    assert!(!sessions.contains("with pwd"), "{sessions}");
    assert!(sessions.contains("(just now)"), "{sessions}");
    // "30 Nov 2026, 06:32 UTC" shown; RFC 3339 only in the machine-readable attribute.
    let shown = sessions
        .split("<time datetime=\"")
        .nth(1)
        .and_then(|t| t.split_once("\">"))
        .map(|(iso, rest)| (iso.to_owned(), rest.split("</time>").next().unwrap().to_owned()))
        .expect("a <time> element");
    assert!(shown.0.ends_with('Z') && shown.0.contains('T'), "{shown:?}");
    let year = &shown.0[..4];
    assert!(
        shown.1.ends_with(" UTC") && shown.1.contains(&format!(" {year}, ")) && !shown.1.contains(&format!("{year}-")),
        "{shown:?}"
    );
    let profile = section(&page.html, "profile");
    assert!(profile.contains("value=\"Alice Liddell\""), "{profile}");
    assert!(page.html.contains("Password: <strong>set</strong>"));
}

#[tokio::test]
async fn the_display_name_is_changed_from_the_account_page_and_reaches_the_id_token() {
    let server = TestServer::start().await;
    let browser = Browser::new();
    let page = account_page(&browser, &server).await;
    let res = post_form(
        &browser,
        &server,
        &page,
        "/account/profile",
        &[("name", "  Alice Pleasance  ")],
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let page = browser.page(&server.url("/account")).await;
    assert!(page.html.contains("Your name is saved."), "a notice, once");
    assert!(page.html.contains("value=\"Alice Pleasance\""));
    assert!(!browser
        .page(&server.url("/account"))
        .await
        .html
        .contains("Your name is saved."));
    let back = browser
        .follow(&server, &super::harness::client_app::authorize(&server, ""))
        .await;
    let claims = jwt_part(redeem(&server, &back).await["id_token"].as_str().unwrap(), 1);
    assert_eq!(claims["name"], "Alice Pleasance");

    // Too long: refused with the reason, nothing saved; without the CSRF token: refused.
    let page = browser.page(&server.url("/account")).await;
    let res = post_form(
        &browser,
        &server,
        &page,
        "/account/profile",
        &[("name", &"x".repeat(200))],
    )
    .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert!(res.text().await.unwrap().contains("at most 128 characters"));
    let res = browser
        .post(&server.url("/account/profile"), &[("name", "Mallory")])
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let alice = users::find_by_username(&server.state.db, ALICE).await.unwrap().unwrap();
    assert_eq!(alice.name.as_deref(), Some("Alice Pleasance"));
}

#[tokio::test]
async fn a_provider_linked_from_the_account_page_signs_in_to_that_account_and_can_be_unlinked() {
    let server = server_with(|_, _| {}).await;
    let alice_id = local_id(&server, ALICE).await;
    let before = counts(&server).await;
    let browser = Browser::new();
    let page = account_page(&browser, &server).await;
    assert!(
        page.html.contains("<option value=\"corp\">Contoso</option>"),
        "{}",
        page.html
    );

    let form = start_linking(&browser, &server, &page).await;
    let back = browser
        .upstream_submit(&form, "/login", "alice-elsewhere", &server.url("/account"))
        .await;
    assert_eq!(back.url, server.url("/account"), "{:?}", back.page.map(|p| p.html));
    let page = browser.page(&back.url).await;
    assert!(
        unescape(&page.html).contains("Your Contoso login is linked"),
        "{}",
        page.html
    );
    let methods = unescape(section(&page.html, "methods"));
    assert!(methods.contains("<strong>Contoso</strong>"), "{methods}");
    assert!(methods.contains("as alice-elsewhere@contoso.test"), "{methods}");
    assert!(methods.contains("Unlink Contoso"), "a password remains: {methods}");
    let links = federated::for_user(&server.state.db, &alice_id).await.unwrap();
    assert_eq!(links.len(), 1);
    assert_eq!(links[0].subject, "sub-alice-elsewhere");
    assert_eq!(counts(&server).await, (before.0, before.1 + 1), "no new account");

    // A sign-in with that upstream account is alice's.
    let other = Browser::new();
    let done = federated_login(&other, &server, "alice-elsewhere").await;
    let claims = jwt_part(redeem(&server, &done.url).await["id_token"].as_str().unwrap(), 1);
    assert_eq!(claims["sub"], alice_id.as_str());

    // Unlinked: the next upstream sign-in no longer reaches alice.
    let res = post_form(
        &browser,
        &server,
        &page,
        "/account/links/remove",
        &[("provider", "corp"), ("subject", "sub-alice-elsewhere")],
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert!(federated::for_user(&server.state.db, &alice_id)
        .await
        .unwrap()
        .is_empty());
    let page = browser.page(&server.url("/account")).await;
    assert!(unescape(&page.html).contains("Your Contoso login is no longer linked."));
}

#[tokio::test]
async fn a_login_that_belongs_to_another_account_is_not_linked() {
    let server = server_with(|_, _| {}).await;
    // carol's account is made by her first upstream sign-in.
    let carol = Browser::new();
    let done = federated_login(&carol, &server, "carol").await;
    assert!(query_param(&done.url, "code").is_some(), "{}", done.url);
    let carol_id = local_id(&server, "carol").await;

    let alice = Browser::new();
    let page = account_page(&alice, &server).await;
    let form = start_linking(&alice, &server, &page).await;
    let back = alice
        .upstream_submit(&form, "/login", "carol", &server.url("/account"))
        .await;
    let refused = back.page.expect("a refusal page, not the account page");
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    let html = unescape(&refused.html);
    assert!(html.contains("Linked to another account"), "{html}");
    assert!(html.contains("already signs in to another account here"), "{html}");
    let alice_id = local_id(&server, ALICE).await;
    assert!(federated::for_user(&server.state.db, &alice_id)
        .await
        .unwrap()
        .is_empty());
    let link = federated::find(&server.state.db, "corp", "sub-carol")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(link.user_id, carol_id, "still carol's");
}

#[tokio::test]
async fn the_link_answer_opened_in_another_browser_is_refused_and_still_works_where_it_began() {
    let server = server_with(|_, _| {}).await;
    let alice = Browser::new();
    let page = account_page(&alice, &server).await;
    let form = start_linking(&alice, &server, &page).await;
    let callback = alice
        .upstream_submit(&form, "/login", "alice-elsewhere", &server.url("/broker/callback/"))
        .await;
    assert!(callback.url.contains("/broker/callback/corp?"), "{}", callback.url);

    // Bob, signed in to his own account, is sent the answer (login CSRF): refused.
    let bob = Browser::new();
    let bob_page = bob
        .sign_in_as(&server, &server.url("/account"), "bob", "bob-password-123")
        .await;
    assert_eq!(bob_page, server.url("/account"));
    let res = bob.get(&callback.url).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let html = unescape(&res.text().await.unwrap());
    assert!(html.contains("started in another browser"), "{html}");
    let bob_id = local_id(&server, "bob").await;
    assert!(federated::for_user(&server.state.db, &bob_id).await.unwrap().is_empty());
    assert!(federated::find(&server.state.db, "corp", "sub-alice-elsewhere")
        .await
        .unwrap()
        .is_none());

    // In alice's browser the same answer links to alice.
    let res = alice.get(&callback.url).await;
    assert_eq!(location(&res).as_deref(), Some("/account"));
    let link = federated::find(&server.state.db, "corp", "sub-alice-elsewhere")
        .await
        .unwrap()
        .expect("linked");
    assert_eq!(link.user_id, local_id(&server, ALICE).await);
}

#[tokio::test]
async fn the_last_way_to_sign_in_cannot_be_unlinked() {
    let server = server_with(|_, _| {}).await;
    // dana has no password: her upstream login is her only way in.
    let dana = Browser::new();
    let done = federated_login(&dana, &server, "dana").await;
    assert!(query_param(&done.url, "code").is_some(), "{}", done.url);
    let page = signed_in_account_page(&dana, &server).await;
    let methods = unescape(section(&page.html, "methods"));
    assert!(methods.contains("Password: <span class=\"hint\">none"), "{methods}");
    assert!(
        methods.contains("cannot be unlinked") && !methods.contains("Unlink Contoso"),
        "{methods}"
    );

    // Posted anyway: refused with the reason, and the link stays.
    let res = post_form(
        &dana,
        &server,
        &page,
        "/account/links/remove",
        &[("provider", "corp"), ("subject", "sub-dana")],
    )
    .await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    let html = unescape(&res.text().await.unwrap());
    assert!(html.contains("the only way to sign in to this account"), "{html}");
    assert!(federated::find(&server.state.db, "corp", "sub-dana")
        .await
        .unwrap()
        .is_some());
    // Someone else's link cannot be named either, and a post without the CSRF token is refused.
    let res = post_form(
        &dana,
        &server,
        &page,
        "/account/links/remove",
        &[("provider", "corp"), ("subject", "sub-someone")],
    )
    .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let res = dana
        .post(
            &server.url("/account/links/remove"),
            &[("provider", "corp"), ("subject", "sub-dana")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    // She can still sign in with it.
    let again = Browser::new();
    let done = federated_login(&again, &server, "dana").await;
    assert!(query_param(&done.url, "code").is_some(), "{}", done.url);
}

fn consent_authorize(server: &TestServer, extra: &str) -> String {
    server.url(&format!(
        "/authorize?response_type=code&client_id={CONSENT_ID}&redirect_uri={}&scope={}&code_challenge={}&code_challenge_method=S256{extra}",
        urlencode(RP_REDIRECT),
        urlencode("openid profile offline_access"),
        s256(VERIFIER)
    ))
}

#[tokio::test]
async fn a_revoked_application_loses_its_consent_and_its_tokens() {
    let server = TestServer::start().await;
    let browser = Browser::new();
    let at = browser.sign_in(&server, &consent_authorize(&server, "")).await;
    assert!(at.contains("/consent?interaction="), "{at}");
    let consent = browser.page(&at).await;
    let res = browser
        .post(
            &server.url("/consent"),
            &[
                ("interaction", &consent.field("interaction").unwrap()),
                ("csrf", &consent.field("csrf").unwrap()),
                ("decision", "allow"),
            ],
        )
        .await;
    let back = location(&res).expect("back to the client");
    let code = query_param(&back, "code").expect("a code");
    let (status, tokens) = post_token(
        &server,
        CONSENT_ID,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", RP_REDIRECT),
            ("code_verifier", VERIFIER),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    let rt = tokens["refresh_token"].as_str().expect("a refresh token").to_owned();
    let access = tokens["access_token"].as_str().unwrap().to_owned();

    let page = account_page(&browser, &server).await;
    let apps = unescape(section(&page.html, "apps"));
    assert!(apps.contains("consent-app application"), "{apps}");
    assert!(apps.contains("See your name and username"), "scopes in words: {apps}");
    assert!(apps.contains("can act while you are away"), "{apps}");
    assert!(!apps.contains("gatehouse-account") && !apps.contains("Your Gatehouse account"));

    let res = post_form(
        &browser,
        &server,
        &page,
        "/account/apps/revoke",
        &[("client_id", CONSENT_ID)],
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let page = browser.page(&server.url("/account")).await;
    assert!(unescape(&page.html).contains("consent-app application no longer has access"));
    assert!(section(&page.html, "apps").contains("No application holds access"));

    let (status, answer) = refresh(&server, CONSENT_ID, &rt).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    assert_eq!(answer["error"], "invalid_grant");
    assert_eq!(introspect(&server, CONSENT_ID, &access).await["active"], false);
    // The consent is forgotten: a silent request now needs it again.
    let back = browser
        .follow(&server, &consent_authorize(&server, "&prompt=none"))
        .await;
    assert_eq!(query_param(&back, "error").as_deref(), Some("consent_required"));
    // An application without access cannot be "revoked".
    let res = post_form(
        &browser,
        &server,
        &page,
        "/account/apps/revoke",
        &[("client_id", RP_ID)],
    )
    .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn deleting_the_account_asks_the_password_removes_everything_and_tells_the_applications() {
    let receiver = LogoutReceiver::start().await;
    let url = receiver.url.clone();
    let server = TestServer::start_with(|c| extra_clients(c, Some(url))).await;
    let alice_id = local_id(&server, ALICE).await;
    // A phone with a refresh token of an application that takes back-channel logouts.
    let phone = Browser::new();
    let tokens = tokens_for(&server, &phone, REFRESH_APP, "openid").await;
    let rt = tokens["refresh_token"].as_str().expect("refresh token").to_owned();
    let phone_sid = jwt_part(tokens["id_token"].as_str().unwrap(), 1)["sid"]
        .as_str()
        .unwrap()
        .to_owned();
    // The laptop on the account page.
    let laptop = Browser::new();
    account_page(&laptop, &server).await;
    let page = laptop.page(&server.url("/account/delete")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.html.contains("name=\"password\""), "{}", page.html);

    // A wrong password deletes nothing.
    let res = post_form(&laptop, &server, &page, "/account/delete", &[("password", "not-it")]).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert!(unescape(&res.text().await.unwrap()).contains("Your account was not deleted."));
    assert!(users::find(&server.state.db, &alice_id).await.unwrap().is_some());
    let (status, rotated) = refresh(&server, REFRESH_APP, &rt).await;
    assert_eq!(status, StatusCode::OK, "still usable: {rotated}");
    let rt = rotated["refresh_token"].as_str().expect("the successor").to_owned();
    let access = rotated["access_token"].as_str().unwrap().to_owned();
    let page = laptop.page(&server.url("/account/delete")).await;
    let res = post_form(
        &laptop,
        &server,
        &page,
        "/account/delete",
        &[("password", ALICE_PASSWORD)],
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.text().await.unwrap().contains("Your account is deleted"));

    assert!(users::find(&server.state.db, &alice_id).await.unwrap().is_none());
    // The application's tokens are dead.
    let (status, answer) = refresh(&server, REFRESH_APP, &rt).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    assert_eq!(answer["error"], "invalid_grant");
    assert_eq!(introspect(&server, REFRESH_APP, &access).await["active"], false);
    assert!(
        eventually(10, || receiver.sids().contains(&phone_sid)).await,
        "the application heard of the phone's session: {:?}",
        receiver.sids()
    );
    let token = receiver.tokens().pop().unwrap();
    assert_eq!(jwt_part(&token, 1)["sub"], alice_id.as_str());
    // Every browser is signed out, and the old username and password sign nobody in.
    assert_eq!(
        prompt_none_error(&phone, &server).await.as_deref(),
        Some("login_required")
    );
    assert_eq!(
        prompt_none_error(&laptop, &server).await.as_deref(),
        Some("login_required")
    );
    let fresh = Browser::new();
    let login = fresh
        .follow(&server, &super::harness::client_app::authorize(&server, ""))
        .await;
    let res = fresh.submit_login(&login, ALICE, ALICE_PASSWORD).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn an_account_without_a_password_is_deleted_after_signing_in_again_upstream() {
    let server = server_with(|_, _| {}).await;
    let erin = Browser::new();
    let done = federated_login(&erin, &server, "erin").await;
    assert!(query_param(&done.url, "code").is_some(), "{}", done.url);
    let erin_id = local_id(&server, "erin").await;
    let (users_before, links_before) = counts(&server).await;
    signed_in_account_page(&erin, &server).await;
    let page = erin.page(&server.url("/account/delete")).await;
    assert!(!page.html.contains("name=\"password\""), "no password to ask for");
    assert!(page.html.contains("Confirm with Contoso"), "{}", page.html);

    // Without the new upstream login nothing happens.
    let res = post_form(&erin, &server, &page, "/account/delete", &[]).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert!(users::find(&server.state.db, &erin_id).await.unwrap().is_some());

    let res = post_form(
        &erin,
        &server,
        &page,
        "/account/delete/confirm",
        &[("provider", "corp")],
    )
    .await;
    let to = location(&res).expect("off to the provider");
    // The provider is asked to make her sign in again, whatever session she has there.
    assert_eq!(query_param(&to, "prompt").as_deref(), Some("login"), "{to}");
    assert_eq!(query_param(&to, "max_age").as_deref(), Some("0"), "{to}");
    let stop = server.url("/account/delete");
    let at = erin.walk(&to, &stop).await;
    let form = at
        .page
        .as_ref()
        .expect("the provider's login form, though erin has a session there");
    assert!(form.html.contains("Contoso sign-in"), "{}", form.html);
    let at = erin.upstream_submit(&at, "/login", "erin", &stop).await;
    assert_eq!(at.url, stop, "{:?}", at.page.map(|p| p.html));
    let page = erin.page(&stop).await;
    assert!(
        page.html.contains("You confirmed it is you with Contoso"),
        "{}",
        page.html
    );
    let res = post_form(&erin, &server, &page, "/account/delete", &[]).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(users::find(&server.state.db, &erin_id).await.unwrap().is_none());
    assert_eq!(
        counts(&server).await,
        (users_before - 1, links_before - 1),
        "the link went too"
    );
    assert!(federated::find(&server.state.db, "corp", "sub-erin")
        .await
        .unwrap()
        .is_none());
}

/// `url` without the query parameters `names`.
fn without_params(url: &str, names: &[&str]) -> String {
    let mut parsed = url::Url::parse(url).unwrap();
    let kept: Vec<(String, String)> = parsed
        .query_pairs()
        .filter(|(k, _)| !names.contains(&k.as_ref()))
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    parsed.query_pairs_mut().clear().extend_pairs(kept);
    parsed.to_string()
}

#[tokio::test]
async fn a_live_upstream_session_alone_does_not_confirm_deleting_the_account() {
    let server = server_with(|_, _| {}).await;
    let erin = Browser::new();
    let done = federated_login(&erin, &server, "erin").await;
    assert!(query_param(&done.url, "code").is_some(), "{}", done.url);
    let erin_id = local_id(&server, "erin").await;
    signed_in_account_page(&erin, &server).await;
    let page = erin.page(&server.url("/account/delete")).await;
    let res = post_form(
        &erin,
        &server,
        &page,
        "/account/delete/confirm",
        &[("provider", "corp")],
    )
    .await;
    let to = location(&res).expect("off to the provider");
    let stop = server.url("/account/delete");

    // max_age=0 alone already makes this provider ask again.
    let at = erin.walk(&without_params(&to, &["prompt"]), &stop).await;
    let form = at.page.expect("the provider's login form");
    assert!(form.html.contains("Contoso sign-in"), "{}", form.html);

    // A provider that ignored both would answer from erin's session, with no new sign-in:
    // Gatehouse does not take that as a confirmation. (Her sign-in there is made older than
    // the leeway allowed for the provider's clock, should the provider name it.)
    let leeway = gatehouse::account::deletion::UPSTREAM_CLOCK_LEEWAY_SECS as u64;
    tokio::time::sleep(std::time::Duration::from_secs(leeway + 1)).await;
    let res = post_form(
        &erin,
        &server,
        &erin.page(&stop).await,
        "/account/delete/confirm",
        &[("provider", "corp")],
    )
    .await;
    let to = location(&res).expect("off to the provider");
    let at = erin.walk(&without_params(&to, &["prompt", "max_age"]), &stop).await;
    let refused = at.page.expect("a refusal, not the delete page");
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.html);
    assert!(
        unescape(&refused.html).contains("answered without a new sign-in"),
        "{}",
        refused.html
    );
    let page = erin.page(&stop).await;
    assert!(!page.html.contains("You confirmed it is you"), "{}", page.html);
    let res = post_form(&erin, &server, &page, "/account/delete", &[]).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert!(users::find(&server.state.db, &erin_id).await.unwrap().is_some());
}

#[tokio::test]
async fn a_confirmation_with_a_login_of_another_account_does_not_delete() {
    let server = server_with(|_, _| {}).await;
    let erin = Browser::new();
    federated_login(&erin, &server, "erin").await;
    let erin_id = local_id(&server, "erin").await;
    signed_in_account_page(&erin, &server).await;
    let page = erin.page(&server.url("/account/delete")).await;
    let res = post_form(
        &erin,
        &server,
        &page,
        "/account/delete/confirm",
        &[("provider", "corp")],
    )
    .await;
    let to = location(&res).expect("off to the provider");
    let stop = server.url("/account/delete");
    // The OP still has erin's session from her sign-in and asks again (prompt=login); she
    // signs in there as frank. The OP first ends erin's session there (its self-posting
    // /session/end/confirm form), then answers with frank.
    let at = erin.walk(&to, &stop).await;
    let at = erin.upstream_submit(&at, "/login", "frank", &stop).await;
    let at = match &at.page {
        Some(page) if page.html.contains("/session/end/confirm") => erin.submit_self_posting_form(&at, &stop).await,
        _ => at,
    };
    let refused = at.page.expect("a refusal, not the delete page");
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.html);
    assert!(unescape(&refused.html).contains("cannot confirm deleting it"));
    assert!(users::find(&server.state.db, &erin_id).await.unwrap().is_some());
}
