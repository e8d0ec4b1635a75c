//! The identity broker against a real upstream OpenID Provider (panva oidc-provider on loopback):
//! client app → Gatehouse → upstream login → back → code → token.
use reqwest::StatusCode;

use super::harness::accounts::{counts, local_id};
use super::harness::browser::{location, Browser};
use super::harness::client_app::{authorize, id_token_claims, logout_url, prompt_none_error, redeem};
use super::harness::federation::{federated_login, provider, server_with, to_upstream_form, upstream_callback};
use super::harness::peers::oidc_peer;
use super::harness::rogue_idp::{start, Defect};
use super::harness::urls::{query_param, resolve};
use super::harness::*;
use gatehouse::broker::LinkingPolicy;

#[tokio::test]
async fn first_login_creates_a_user_and_returning_login_reuses_it() {
    let server = server_with(|_, _| {}).await;
    let (users_before, _) = counts(&server).await;
    let end = federated_login(&Browser::new(), &server, "ann").await;
    assert!(end.url.starts_with(RP_REDIRECT), "back at the client: {}", end.url);
    assert_eq!(query_param(&end.url, "state").as_deref(), Some("bs"));
    let claims = id_token_claims(&server, &end.url).await;
    assert_eq!(claims["idp"], "corp");
    assert_eq!(claims["amr"], serde_json::json!(["fed"]));
    assert_eq!(claims["preferred_username"], "ann");
    assert_eq!(claims["email"], "ann@contoso.test");
    assert_eq!(claims["email_verified"], true, "trusted provider, verified upstream");
    assert_eq!(
        claims["groups"],
        serde_json::json!(["staff", "team-ann"]),
        "groups mapped from upstream claims"
    );
    assert_eq!(counts(&server).await, (users_before + 1, 1));

    // A new browser, same upstream person: straight back in as the same local user.
    let again = federated_login(&Browser::new(), &server, "ann").await;
    let claims2 = id_token_claims(&server, &again.url).await;
    assert_eq!(claims2["sub"], claims["sub"]);
    assert_eq!(counts(&server).await, (users_before + 1, 1));
}

#[tokio::test]
async fn verified_email_from_a_trusted_provider_links_to_the_existing_account() {
    let server = server_with(|p, _| p.linking = LinkingPolicy::LinkByVerifiedEmail).await;
    let end = federated_login(&Browser::new(), &server, "alice-corp").await;
    assert!(end.url.starts_with(RP_REDIRECT), "{}", end.url);
    let claims = id_token_claims(&server, &end.url).await;
    assert_eq!(
        claims["sub"],
        local_id(&server, ALICE).await,
        "signed in as the existing alice"
    );
    assert_eq!(claims["idp"], "corp");
}

#[tokio::test]
async fn unverified_email_never_links_and_asks_instead() {
    let server = server_with(|p, _| p.linking = LinkingPolicy::LinkByVerifiedEmail).await;
    let before = counts(&server).await;
    let browser = Browser::new();
    let end = federated_login(&browser, &server, "mallory").await;
    assert!(
        end.url.contains("/broker/link?interaction="),
        "asked, not linked: {}",
        end.url
    );
    let page = end.page.expect("the link page");
    assert!(page.html.contains("Link your account"));
    assert!(!page.html.contains("alice@example.com"), "the address is masked");
    assert_eq!(counts(&server).await, before, "nothing linked or created");
    // Not signed in as alice either.
    assert_eq!(
        prompt_none_error(&browser, &server).await.as_deref(),
        Some("login_required")
    );
}

#[tokio::test]
async fn an_untrusted_provider_cannot_link_even_a_verified_email() {
    let server = server_with(|p, _| {
        p.linking = LinkingPolicy::LinkByVerifiedEmail;
        p.trust_email = false;
    })
    .await;
    let end = federated_login(&Browser::new(), &server, "alice-corp").await;
    assert!(end.url.contains("/broker/link?interaction="), "{}", end.url);
}

#[tokio::test]
async fn password_confirmation_links_the_login_to_the_account() {
    let server = server_with(|_, _| {}).await;
    let browser = Browser::new();
    let end = federated_login(&browser, &server, "mallory").await;
    let page = end.page.expect("link page");
    let (ix, csrf) = (page.field("interaction").unwrap(), page.field("csrf").unwrap());
    let wrong = browser
        .post(
            &server.url("/broker/link"),
            &[
                ("interaction", &ix),
                ("csrf", &csrf),
                ("username", ALICE),
                ("password", "nope"),
            ],
        )
        .await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    assert!(wrong.text().await.unwrap().contains("Invalid username or password."));
    assert_eq!(counts(&server).await.1, 0);

    let ok = browser
        .post(
            &server.url("/broker/link"),
            &[
                ("interaction", &ix),
                ("csrf", &csrf),
                ("username", ALICE),
                ("password", ALICE_PASSWORD),
            ],
        )
        .await;
    assert_eq!(ok.status(), StatusCode::SEE_OTHER);
    let back = browser.walk(&server.url(&location(&ok).unwrap()), RP_REDIRECT).await;
    let claims = id_token_claims(&server, &back.url).await;
    assert_eq!(claims["sub"], local_id(&server, ALICE).await);
    assert_eq!(claims["amr"], serde_json::json!(["fed", "pwd"]));
    // From now on the upstream login alone signs in as alice.
    let again = federated_login(&Browser::new(), &server, "mallory").await;
    assert_eq!(id_token_claims(&server, &again.url).await["sub"], claims["sub"]);
}

#[tokio::test]
async fn username_collision_and_missing_email_go_through_review_profile() {
    let server = server_with(|_, _| {}).await;
    let browser = Browser::new();
    let end = federated_login(&browser, &server, "bob-clash").await;
    assert!(end.url.contains("/broker/profile?interaction="), "{}", end.url);
    let page = end.page.unwrap();
    assert_eq!(
        page.status,
        StatusCode::OK,
        "a page asking for input is a 200, notice or not"
    );
    assert!(page.html.contains("username is taken"), "{}", page.html);
    let (ix, csrf) = (page.field("interaction").unwrap(), page.field("csrf").unwrap());
    let form = |username: &'static str| {
        vec![
            ("interaction", ix.clone()),
            ("csrf", csrf.clone()),
            ("username", username.into()),
            ("email", "bob.clash@contoso.test".into()),
            ("name", "".into()),
        ]
    };
    let res = browser
        .http
        .post(server.url("/broker/profile"))
        .form(&form("bob"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST, "still taken");
    let res = browser
        .http
        .post(server.url("/broker/profile"))
        .form(&form("bob-contoso"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let back = browser.walk(&server.url(&location(&res).unwrap()), RP_REDIRECT).await;
    let claims = id_token_claims(&server, &back.url).await;
    assert_eq!(claims["preferred_username"], "bob-contoso");
    assert_eq!(
        claims["email_verified"], true,
        "the provider's own verified address, kept as is"
    );

    let browser = Browser::new();
    let end = federated_login(&browser, &server, "noemail").await;
    assert!(end.url.contains("/broker/profile?interaction="), "{}", end.url);
    let page = end.page.unwrap();
    assert!(page.html.contains("did not share an email"));
    let res = browser
        .post(
            &server.url("/broker/profile"),
            &[
                ("interaction", &page.field("interaction").unwrap()),
                ("csrf", &page.field("csrf").unwrap()),
                ("username", "noemail"),
                ("email", "typed@example.org"),
                ("name", ""),
            ],
        )
        .await;
    let back = browser.walk(&server.url(&location(&res).unwrap()), RP_REDIRECT).await;
    let claims = id_token_claims(&server, &back.url).await;
    assert_eq!(claims["email"], "typed@example.org");
    assert_eq!(
        claims["email_verified"], false,
        "an address the person typed is unverified"
    );
}

#[tokio::test]
async fn link_only_refuses_strangers_and_keeps_the_request() {
    let server = server_with(|p, _| p.linking = LinkingPolicy::LinkOnly).await;
    let before = counts(&server).await;
    let browser = Browser::new();
    let end = federated_login(&browser, &server, "stranger").await;
    let page = end.page.expect("a refusal page");
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert!(
        page.html.contains("Only people who already have an account"),
        "{}",
        page.html
    );
    assert_eq!(counts(&server).await, before);
    // The pending request is intact: the person can still sign in with a password.
    let login = page
        .html
        .split("href=\"")
        .map(|h| h.split('"').next().unwrap().replace("&#x3D;", "="))
        .find(|h| h.contains("/login?interaction="))
        .expect("a link back to the sign-in page");
    assert!(login.contains("/login?interaction="), "{login}");
    let res = browser.submit_login(&server.url(&login), ALICE, ALICE_PASSWORD).await;
    let back = browser.walk(&server.url(&location(&res).unwrap()), RP_REDIRECT).await;
    assert!(query_param(&back.url, "code").is_some());
}

#[tokio::test]
async fn idp_hint_and_home_realm_discovery_skip_the_login_page() {
    let server = server_with(|_, _| {}).await;
    let issuer = &oidc_peer().issuer;
    for extra in [
        "&idp_hint=corp",
        "&kc_idp_hint=corp",
        "&login_hint=someone%40contoso.test",
    ] {
        let res = Browser::new().get(&authorize(&server, extra)).await;
        let loc = location(&res).unwrap();
        assert!(
            loc.starts_with(issuer),
            "{extra}: straight to the upstream OP, got {loc}"
        );
    }
    // An unknown hint is ignored: the login page.
    let res = Browser::new().get(&authorize(&server, "&idp_hint=nope")).await;
    assert!(location(&res).unwrap().contains("/login?interaction="));

    // The work-email form on the login page.
    let browser = Browser::new();
    let login = browser.follow(&server, &authorize(&server, "")).await;
    let page = browser.page(&login).await;
    assert!(page.html.contains("Work email"));
    let form = [
        ("interaction", page.field("interaction").unwrap()),
        ("csrf", page.field("csrf").unwrap()),
    ];
    let res = browser
        .http
        .post(server.url("/login/discover"))
        .form(&[&form[..], &[("email", "zed@Contoso.test".into())]].concat())
        .send()
        .await
        .unwrap();
    let loc = location(&res).unwrap();
    assert!(
        loc.starts_with(issuer) && loc.contains("login_hint=zed%40Contoso.test"),
        "{loc}"
    );
    let res = browser
        .http
        .post(server.url("/login/discover"))
        .form(&[&form[..], &[("email", "zed@elsewhere.test".into())]].concat())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert!(res.text().await.unwrap().contains("No company sign-in"));
}

#[tokio::test]
async fn a_client_may_restrict_its_providers() {
    let server = server_with(|_, c| {
        for client in c.clients.iter_mut().filter(|c| c.id == RP_ID) {
            client.allowed_providers = Some(vec![]);
        }
    })
    .await;
    let browser = Browser::new();
    let login = browser.follow(&server, &authorize(&server, "")).await;
    assert!(!browser.page(&login).await.html.contains("Sign in with Contoso"));
    let ix = query_param(&login, "interaction").unwrap();
    let res = browser
        .get(&server.url(&format!("/broker/start/corp?interaction={ix}")))
        .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert!(location(&res).is_none());
    let res = browser.get(&authorize(&server, "&idp_hint=corp")).await;
    assert!(
        location(&res).unwrap().contains("/login?interaction="),
        "hint ignored for a disallowed provider"
    );
}

#[tokio::test]
async fn cancelling_upstream_keeps_the_request_and_tells_the_client_nothing() {
    let server = server_with(|_, _| {}).await;
    let browser = Browser::new();
    let form = to_upstream_form(&browser, &server).await;
    let end = browser.upstream_submit(&form, "/abort", "", RP_REDIRECT).await;
    assert!(!end.url.starts_with(RP_REDIRECT), "the client is not told: {}", end.url);
    let page = end.page.unwrap();
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert!(page.html.contains("Sign-in with Contoso did not work"), "{}", page.html);
    assert!(!page.html.contains("End-User aborted"), "no raw upstream error");
    assert!(page.html.contains("Use another sign-in method"));
}

#[tokio::test]
async fn replayed_or_forged_callbacks_are_refused() {
    let server = server_with(|_, _| {}).await;
    let browser = Browser::new();
    let callback = upstream_callback(&browser, &server, "ann").await;
    let first = browser.walk(&callback.url, RP_REDIRECT).await;
    assert!(first.url.starts_with(RP_REDIRECT));
    // The same callback again (state already used), and one with a made-up state.
    for url in [
        callback.url.clone(),
        server.url("/broker/callback/corp?code=x&state=forged"),
    ] {
        let res = browser.get(&url).await;
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{url}");
        assert!(location(&res).is_none());
    }
}

#[tokio::test]
async fn an_unreachable_provider_gets_a_page_not_a_500() {
    let server =
        TestServer::start_with(|c| c.providers = vec![provider("http://127.0.0.1:9", "x".into(), "y".into())]).await;
    let browser = Browser::new();
    let login = browser.follow(&server, &authorize(&server, "")).await;
    let ix = query_param(&login, "interaction").unwrap();
    let res = browser
        .get(&server.url(&format!("/broker/start/corp?interaction={ix}")))
        .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let html = res.text().await.unwrap().replace("&#x3D;", "=");
    assert!(html.contains("could not be reached"), "{html}");
    assert!(
        html.contains(&format!("/login?interaction={ix}")),
        "a way back to the pending request"
    );
}

#[tokio::test]
async fn tampered_upstream_id_tokens_are_refused_with_nothing_created() {
    for defect in [
        Defect::None,
        Defect::OtherKey,
        Defect::WrongNonce,
        Defect::WrongAudience,
        Defect::WrongIssuer,
        Defect::Expired,
        Defect::Unsigned,
    ] {
        let issuer = start(defect, "gh-client").await;
        let server = TestServer::start_with(|c| {
            let mut p = provider(&issuer, "gh-client".into(), "gh-secret".into());
            // The most dangerous policy: a verified email links to alice's account.
            p.linking = LinkingPolicy::LinkByVerifiedEmail;
            p.fetch_userinfo = false;
            c.providers = vec![p];
        })
        .await;
        let before = counts(&server).await;
        let browser = Browser::new();
        let end = browser.walk(&authorize(&server, "&idp_hint=corp"), RP_REDIRECT).await;
        if defect == Defect::None {
            // The control: the stand-in is a correct OP, so this signs in (as alice, by verified email).
            assert!(end.url.starts_with(RP_REDIRECT), "control case: {}", end.url);
            assert_eq!(
                id_token_claims(&server, &end.url).await["sub"],
                local_id(&server, ALICE).await
            );
            continue;
        }
        assert!(
            !end.url.starts_with(RP_REDIRECT),
            "{defect:?} must not reach the client"
        );
        let page = end.page.unwrap_or_else(|| panic!("{defect:?}: a page"));
        assert_eq!(page.status, StatusCode::BAD_REQUEST, "{defect:?}");
        assert!(page.html.contains("could not be verified"), "{defect:?}: {}", page.html);
        assert_eq!(counts(&server).await, before, "{defect:?}: nothing linked or created");
        assert_eq!(
            prompt_none_error(&browser, &server).await.as_deref(),
            Some("login_required"),
            "{defect:?}: not signed in"
        );
    }
}

#[tokio::test]
async fn logout_of_a_brokered_session_ends_the_upstream_session_too() {
    let server = server_with(|_, _| {}).await;
    let browser = Browser::new();
    let end = federated_login(&browser, &server, "ann").await;
    let tokens = redeem(&server, &end.url).await;
    let id_token = tokens["id_token"].as_str().unwrap();
    let res = browser.get(&logout_url(&server, id_token, "&state=bye")).await;
    let upstream = location(&res).expect("off to the upstream provider's logout");
    assert!(upstream.starts_with(&oidc_peer().issuer), "{upstream}");
    assert!(upstream.contains("id_token_hint="), "the upstream ID token as hint");
    // The provider asks for confirmation (its own form), then comes back.
    let at = browser.walk(&upstream, RP_LOGOUT).await;
    let page = at.page.expect("the provider's logout confirmation");
    let form = &page.html;
    let action = form
        .split("action=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .replace("&amp;", "&");
    let xsrf = form
        .split("name=\"xsrf\" value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_owned();
    let res = browser
        .post(&resolve(&at.url, &action), &[("xsrf", &xsrf), ("logout", "yes")])
        .await;
    let back = browser
        .walk(
            &resolve(&at.url, &location(&res).expect("redirect after upstream logout")),
            RP_LOGOUT,
        )
        .await;
    assert!(back.url.starts_with(RP_LOGOUT), "finally at the client: {}", back.url);
    assert_eq!(query_param(&back.url, "state").as_deref(), Some("bye"));
    // Signed out upstream too: the next federated login asks for credentials again.
    let again = to_upstream_form(&browser, &server).await;
    assert!(
        again.page.as_ref().is_some_and(|p| p.html.contains("Contoso sign-in")),
        "login form again at the provider"
    );
}
