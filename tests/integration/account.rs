//! The account page: see your sign-in sessions and end any of them.
use reqwest::StatusCode;

use super::harness::browser::{location, unescape, Browser};
use super::harness::urls::{query_param, urlencode};
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
    // A made-up sid is refused; a missing CSRF token too.
    let res = laptop
        .post(
            &server.url("/account/sessions/end"),
            &[("csrf", &page.field("csrf").unwrap()), ("sid", "not-mine")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert!(
        unescape(&res.text().await.unwrap()).contains("That session does not exist or is not yours."),
        "a made-up sid"
    );
    let res = laptop
        .post(&server.url("/account/sessions/end"), &[("sid", &other)])
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert!(unescape(&res.text().await.unwrap()).contains("This form has expired or did not come from this site."));
}

/// The sids of `user`'s live sessions, from the database.
async fn live_sids(server: &TestServer, username: &str) -> Vec<String> {
    let user = gatehouse::store::users::find_by_username(&server.state.db, username)
        .await
        .unwrap()
        .expect("user");
    let c = &server.state.config.session;
    gatehouse::store::login_sessions::live_for_user(
        &server.state.db,
        &user.id,
        c.idle_timeout as i64,
        c.absolute_timeout as i64,
    )
    .await
    .unwrap()
    .into_iter()
    .map(|r| r.sid)
    .collect()
}

#[tokio::test]
async fn someone_elses_real_session_cannot_be_ended_from_the_account_page() {
    let server = TestServer::start().await;
    // Bob signs in in his own browser; his session's real sid is read from the database (as an
    // attacker might learn it: from a logout token, a log, a shared screen).
    let bob = Browser::new();
    let back = bob
        .sign_in_as(&server, &authorize(&server, ""), "bob", "bob-password-123")
        .await;
    assert!(query_param(&back, "code").is_some(), "{back}");
    let bob_sids = live_sids(&server, "bob").await;
    assert_eq!(bob_sids.len(), 1, "bob has one session");
    let bob_sid = bob_sids[0].clone();

    // Alice, on her account page.
    let alice = Browser::new();
    let to = location(&alice.get(&server.url("/account")).await).expect("off to sign in");
    let page_url = alice.sign_in(&server, &to).await;
    let page = alice.page(&page_url).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.html);
    assert!(!page.html.contains(&bob_sid), "bob's session is not listed for alice");
    let csrf = page.field("csrf").unwrap();

    // Control: with the same request, alice can end a session of her own.
    let spare = Browser::new();
    spare.sign_in(&server, &authorize(&server, "")).await;
    let alice_sids = live_sids(&server, ALICE).await;
    assert_eq!(alice_sids.len(), 2, "the account page's and the spare browser's");
    let listed: Vec<&String> = alice_sids.iter().filter(|s| page.html.contains(s.as_str())).collect();
    assert_eq!(
        listed.len(),
        1,
        "the account page lists the session it knew when it was shown"
    );
    let spare_sid = alice_sids
        .iter()
        .find(|s| !page.html.contains(s.as_str()))
        .unwrap()
        .clone();
    let res = alice
        .post(
            &server.url("/account/sessions/end"),
            &[("csrf", &csrf), ("sid", &spare_sid)],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER, "her own other session is ended");
    assert_eq!(live_sids(&server, ALICE).await.len(), 1);
    let silent = spare.follow(&server, &authorize(&server, "&prompt=none")).await;
    assert_eq!(query_param(&silent, "error").as_deref(), Some("login_required"));

    // Bob's session: refused with the owner check's message, and nothing changes.
    let res = alice
        .post(
            &server.url("/account/sessions/end"),
            &[("csrf", &csrf), ("sid", &bob_sid)],
        )
        .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert!(location(&res).is_none());
    let html = unescape(&res.text().await.unwrap());
    assert!(html.contains("No such session"), "{html}");
    assert!(html.contains("That session does not exist or is not yours."), "{html}");
    assert_eq!(
        live_sids(&server, "bob").await,
        vec![bob_sid.clone()],
        "bob's session is live"
    );
    let row = gatehouse::store::login_sessions::find(&server.state.db, &bob_sid)
        .await
        .unwrap()
        .expect("bob's session row");
    assert!(row.ended_at.is_none(), "not ended");
    // Bob is still signed in: prompt=none gives him a code.
    let silent = bob.follow(&server, &authorize(&server, "&prompt=none")).await;
    assert!(
        query_param(&silent, "code").is_some(),
        "bob is still signed in: {silent}"
    );
    // And alice too.
    let page = alice.page(&server.url("/account")).await;
    assert_eq!(page.status, StatusCode::OK);
}
