//! The pages: interactions that expire or finish, registration, the demo, cookies.
use reqwest::StatusCode;

use super::harness::browser::{location, unescape, Browser};
use super::harness::urls::{query_param, urlencode};
use super::harness::*;
use gatehouse::oidc::pkce::s256;

fn authorize_url(server: &TestServer, client_id: &str) -> String {
    server.url(&format!(
        "/authorize?response_type=code&client_id={client_id}&redirect_uri={}&scope=openid&state=abc&code_challenge={}&code_challenge_method=S256&login_hint=alice",
        urlencode(RP_REDIRECT),
        s256("verifier-verifier-verifier-verifier-verifier-1")
    ))
}

#[tokio::test]
async fn login_page_shows_client_name_and_login_hint() {
    let server = TestServer::start().await;
    let browser = Browser::new();
    let login = browser.follow(&server, &authorize_url(&server, RP_ID)).await;
    assert!(login.contains("/login?interaction="), "{login}");
    let page = browser.page(&login).await;
    assert!(page.html.contains("rp application"));
    assert!(
        page.html.contains("value=\"alice\""),
        "login_hint prefills the username"
    );
    assert!(page.field("csrf").is_some_and(|c| c.len() >= 32));
}

#[tokio::test]
async fn expired_interaction_offers_a_clean_restart() {
    // Expiry is kept in whole seconds, so a lifetime of N lasts N-1 to N seconds. Three keeps
    // the restart below (a whole sign-in) clear of the deadline on a busy machine.
    let server = TestServer::start_with(|c| c.lifetimes.interaction = 3).await;
    let browser = Browser::new();
    let login = browser.follow(&server, &authorize_url(&server, RP_ID)).await;
    let page = browser.page(&login).await;
    tokio::time::sleep(std::time::Duration::from_millis(3100)).await;
    let res = browser
        .post(
            &server.url("/login"),
            &[
                ("interaction", &page.field("interaction").unwrap()),
                ("csrf", &page.field("csrf").unwrap()),
                ("username", ALICE),
                ("password", ALICE_PASSWORD),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let html = res.text().await.unwrap();
    assert!(html.contains("expired"), "{html}");
    assert!(html.contains("Start again"));
    // The restart link replays the original request and works.
    let start = html.find("href=\"").map(|i| i + 6).unwrap();
    let hrefs: Vec<&str> = html[start..]
        .split("href=\"")
        .map(|s| s.split('"').next().unwrap())
        .collect();
    let restart = hrefs
        .iter()
        .find(|h| h.contains("/authorize?"))
        .expect("restart link")
        .replace("&amp;", "&")
        .replace("&#x3D;", "=");
    let back = browser.sign_in(&server, &server.url(&restart)).await;
    assert!(query_param(&back, "code").is_some(), "{back}");
    assert_eq!(query_param(&back, "state").as_deref(), Some("abc"));
}

#[tokio::test]
async fn unknown_and_finished_interactions_are_pages_not_errors() {
    let server = TestServer::start().await;
    let browser = Browser::new();
    let res = browser.get(&server.url("/login?interaction=does-not-exist")).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert!(res.text().await.unwrap().contains("not found"));
    let res = browser.get(&server.url("/login")).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);

    // Finish a login, then try to resume the same interaction again (back button, second tab).
    let login = browser.follow(&server, &authorize_url(&server, RP_ID)).await;
    let res = browser.submit_login(&login, ALICE, ALICE_PASSWORD).await;
    let resume = server.url(&location(&res).unwrap());
    let first = browser.get(&resume).await;
    assert!(location(&first).unwrap().starts_with(RP_REDIRECT));
    let again = browser.get(&resume).await;
    assert_eq!(again.status(), StatusCode::BAD_REQUEST);
    assert!(again.text().await.unwrap().contains("already finished"));
}

#[tokio::test]
async fn session_cookie_is_httponly_lax_and_rotated_at_login() {
    let server = TestServer::start().await;
    let browser = Browser::new();
    let first = browser.get(&authorize_url(&server, RP_ID)).await;
    assert!(
        first.headers().get("set-cookie").is_none(),
        "no session before it is needed"
    );
    let res = browser.get(&server.url(&location(&first).unwrap())).await;
    let before = res
        .headers()
        .get("set-cookie")
        .expect("session cookie")
        .to_str()
        .unwrap()
        .to_owned();
    assert!(before.contains("HttpOnly"), "{before}");
    assert!(before.contains("SameSite=Lax"), "{before}");
    assert!(!before.contains("Secure"), "plain-http issuer: no Secure");
    let html = res.text().await.unwrap();
    let field = |name: &str| {
        let m = format!("name=\"{name}\" value=\"");
        let s = html.find(&m).unwrap() + m.len();
        html[s..s + html[s..].find('"').unwrap()].to_string()
    };
    let res = browser
        .post(
            &server.url("/login"),
            &[
                ("interaction", &field("interaction")),
                ("csrf", &field("csrf")),
                ("username", ALICE),
                ("password", ALICE_PASSWORD),
            ],
        )
        .await;
    let after = res
        .headers()
        .get("set-cookie")
        .expect("new session id at login")
        .to_str()
        .unwrap()
        .to_owned();
    let id = |c: &str| c.split(';').next().unwrap().to_string();
    assert_ne!(id(&before), id(&after), "session id rotated at login");
}

#[tokio::test]
async fn https_issuer_sets_secure_cookies() {
    let server = TestServer::start_with(|c| c.issuer = "https://sso.example.test".parse().unwrap()).await;
    let local = server.state.local_base_url().unwrap();
    let browser = Browser::new();
    let res = browser
        .get(&format!(
            "{local}/authorize?response_type=code&client_id={RP_ID}&redirect_uri={}&scope=openid&code_challenge={}&code_challenge_method=S256",
            urlencode(RP_REDIRECT),
            s256("verifier-verifier-verifier-verifier-verifier-1")
        ))
        .await;
    let loc = location(&res).unwrap();
    assert!(loc.starts_with("/login?interaction="), "{loc}");
    let res = browser.get(&format!("{local}{loc}")).await;
    let cookie = res.headers().get("set-cookie").unwrap().to_str().unwrap();
    assert!(cookie.contains("Secure") && cookie.contains("HttpOnly"), "{cookie}");
}

#[tokio::test]
async fn registration_creates_an_account_and_continues_to_the_client() {
    let server = TestServer::start_with(|c| c.registration.enabled = true).await;
    let browser = Browser::new();
    let login = browser.follow(&server, &authorize_url(&server, RP_ID)).await;
    let ix = query_param(&login, "interaction").unwrap();
    assert!(browser.page(&login).await.html.contains("Create an account"));
    let page = browser.page(&server.url(&format!("/register?interaction={ix}"))).await;
    assert_eq!(page.status, StatusCode::OK);
    let csrf = page.field("csrf").unwrap();
    let form = |username: &'static str, confirm: &'static str| {
        vec![
            ("interaction", ix.clone()),
            ("csrf", csrf.clone()),
            ("username", username.to_string()),
            ("email", "carol@example.com".to_string()),
            ("name", "Carol".to_string()),
            ("password", "carol-tundra-violin".to_string()),
            ("password_confirm", confirm.to_string()),
        ]
    };
    let res = browser
        .http
        .post(server.url("/register"))
        .form(&form("alice", "carol-tundra-violin"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert!(res.text().await.unwrap().contains("username is taken"));
    let res = browser
        .http
        .post(server.url("/register"))
        .form(&form("carol", "different"))
        .send()
        .await
        .unwrap();
    assert!(res.text().await.unwrap().contains("passwords differ"));
    let res = browser
        .http
        .post(server.url("/register"))
        .form(&form("carol", "carol-tundra-violin"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let back = browser.follow(&server, &server.url(&location(&res).unwrap())).await;
    assert!(query_param(&back, "code").is_some(), "{back}");
    let carol = gatehouse::store::users::find_by_username(&server.state.db, "carol")
        .await
        .unwrap()
        .unwrap();
    assert!(!carol.email_verified, "self-registered email is unverified");
}

#[tokio::test]
async fn registration_is_off_unless_enabled() {
    let server = TestServer::start().await;
    let browser = Browser::new();
    let login = browser.follow(&server, &authorize_url(&server, RP_ID)).await;
    assert!(!browser.page(&login).await.html.contains("Create an account"));
    let ix = query_param(&login, "interaction").unwrap();
    let closed = |html: &str| {
        let html = unescape(html);
        html.contains("<h1>Registration is closed</h1>")
            && html.contains("This server does not offer self-registration. Ask your administrator for an account.")
    };
    let res = browser.get(&server.url(&format!("/register?interaction={ix}"))).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert!(closed(&res.text().await.unwrap()), "GET /register is closed");

    // A hand-made POST, with this browser's valid CSRF token, is refused the same way and
    // creates no one.
    use sea_orm::{EntityTrait, PaginatorTrait};
    let users = || gatehouse::store::entities::user::Entity::find().count(&server.state.db);
    let before = users().await.unwrap();
    let csrf = browser.page(&login).await.field("csrf").unwrap();
    let res = browser
        .post(
            &server.url("/register"),
            &[
                ("interaction", ix.as_str()),
                ("csrf", csrf.as_str()),
                ("username", "mallory"),
                ("email", "mallory@example.com"),
                ("name", "Mallory"),
                ("password", "mallory-tundra-violin"),
                ("password_confirm", "mallory-tundra-violin"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert!(location(&res).is_none());
    assert!(closed(&res.text().await.unwrap()), "POST /register is closed");
    assert_eq!(users().await.unwrap(), before, "no user created");
    assert!(gatehouse::store::users::find_by_username(&server.state.db, "mallory")
        .await
        .unwrap()
        .is_none());
    // The pending request is untouched: signing in still works.
    let res = browser.submit_login(&login, ALICE, ALICE_PASSWORD).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn home_page_demo_runs_a_full_flow_and_shows_claims() {
    let server = TestServer::start_with(|c| c.demo.enabled = true).await;
    let browser = Browser::new();
    let home = browser.page(&server.url("/")).await;
    assert!(home.html.contains("Try the login flow"));
    let login = browser.follow(&server, &server.url("/demo/start")).await;
    let res = browser.submit_login(&login, ALICE, ALICE_PASSWORD).await;
    let resume = browser.get(&server.url(&location(&res).unwrap())).await;
    let callback = location(&resume).unwrap();
    assert!(callback.starts_with(&server.url("/demo/callback?")), "{callback}");
    let result = browser.page(&callback).await;
    assert_eq!(result.status, StatusCode::OK, "{}", result.html);
    assert!(result.html.contains("id-token-claims"));
    assert!(
        result
            .html
            .contains("&quot;preferred_username&quot;: &quot;alice&quot;"),
        "{}",
        result.html
    );
}

#[tokio::test]
async fn unknown_paths_get_the_error_page() {
    let server = TestServer::start().await;
    let res = reqwest::get(server.url("/nope")).await.unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert!(res.text().await.unwrap().contains("Not found"));
}
