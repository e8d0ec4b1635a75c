//! The account page: see your sign-in sessions and end any of them.
use reqwest::StatusCode;

use super::browser::{location, query_param, Browser};
use super::flow::urlencode;
use super::harness::*;
use gatehouse::oidc::pkce::s256;

fn authorize(server: &TestServer, extra: &str) -> String {
    server.url(&format!(
        "/authorize?response_type=code&client_id={RP_ID}&redirect_uri={}&scope=openid&code_challenge={}&code_challenge_method=S256{extra}",
        urlencode(RP_REDIRECT),
        s256("account-verifier-account-verifier-account-verifier")
    ))
}

#[tokio::test]
async fn the_account_page_signs_in_then_lists_and_ends_sessions() {
    let server = TestServer::start().await;
    let (laptop, phone) = (Browser::new(), Browser::new());
    phone.sign_in(&server, &authorize(&server, "")).await;

    // Not signed in yet: the account page sends the laptop through an ordinary sign-in.
    let res = laptop.get(&server.url("/account")).await;
    let to = location(&res).expect("off to sign in");
    assert!(
        to.contains("/authorize?") && to.contains("client_id=gatehouse-account"),
        "{to}"
    );
    let back = laptop.sign_in(&server, &to).await;
    assert_eq!(back, server.url("/account"), "through /account/callback and back");
    let page = laptop.page(&back).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.html);
    assert!(page.html.contains("Your account") && page.html.contains(ALICE));
    assert!(
        page.html.contains("This browser") && page.html.contains("Another browser or device"),
        "{}",
        page.html
    );

    // End the phone's session from the laptop.
    let sids: Vec<String> = page
        .html
        .split("name=\"sid\" value=\"")
        .skip(1)
        .map(|s| s.split('"').next().unwrap().to_owned())
        .collect();
    assert_eq!(sids.len(), 2);
    let other = page
        .html
        .split("<li>")
        .find(|li| li.contains("Another browser"))
        .and_then(|li| li.split("name=\"sid\" value=\"").nth(1))
        .map(|s| s.split('"').next().unwrap().to_owned())
        .unwrap();
    let res = laptop
        .post(
            &server.url("/account/sessions/end"),
            &[("csrf", &page.field("csrf").unwrap()), ("sid", &other)],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let back = phone.follow(&server, &authorize(&server, "&prompt=none")).await;
    assert_eq!(
        query_param(&back, "error").as_deref(),
        Some("login_required"),
        "the phone's cookie no longer signs in"
    );
    // The laptop is still signed in, with one session left.
    let page = laptop.page(&server.url("/account")).await;
    assert_eq!(page.html.matches("name=\"sid\"").count(), 1);
    // Someone else's (or a made-up) sid is refused; a missing CSRF token too.
    let res = laptop
        .post(
            &server.url("/account/sessions/end"),
            &[("csrf", &page.field("csrf").unwrap()), ("sid", "not-mine")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let res = laptop
        .post(&server.url("/account/sessions/end"), &[("sid", &other)])
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
}
