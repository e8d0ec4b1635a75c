//! Brokered sign-in through the real upstream OpenID Provider (`peers::oidc_peer`), which
//! Gatehouse knows as provider `corp` ("Contoso"): client app → Gatehouse → upstream login →
//! back → code → token.
use super::browser::{link_href, Browser, Walk};
use super::client_app::authorize;
use super::peers::oidc_peer;
use super::urls::resolve;
use super::{TestServer, RP_REDIRECT};
use gatehouse::broker::{LinkingPolicy, SyncMode};
use gatehouse::config::{Config, ProviderConfig};

/// Provider `corp` ("Contoso") at `issuer`: trusted for email, home realm `contoso.test`, creating
/// accounts and importing the profile at each login.
pub fn provider(issuer: &str, client_id: String, secret: String) -> ProviderConfig {
    ProviderConfig {
        id: "corp".into(),
        name: "Contoso".into(),
        issuer: Some(issuer.parse().unwrap()),
        client_id,
        client_secret: Some(secret),
        scopes: vec!["openid".into(), "profile".into(), "email".into(), "groups".into()],
        fetch_userinfo: true,
        trust_email: true,
        linking: LinkingPolicy::Create,
        sync: SyncMode::Import,
        email_domains: vec!["contoso.test".into()],
        ..Default::default()
    }
}

/// A Gatehouse whose provider "corp" is the real upstream OP, registered for this server.
pub async fn server_with(adjust: impl FnOnce(&mut ProviderConfig, &mut Config)) -> TestServer {
    let peer = oidc_peer();
    let mut p = TestServer::prepare().await;
    let (id, secret) = peer
        .register_client(
            &p.config.endpoint("/broker/callback/corp"),
            &p.config.endpoint("/logout/upstream/corp"),
        )
        .await;
    let mut prov = provider(&peer.issuer, id, secret);
    adjust(&mut prov, &mut p.config);
    p.config.providers = vec![prov];
    p.launch().await
}

/// Client app → Gatehouse login page → "Sign in with Contoso" → the upstream login form.
pub async fn to_upstream_form(browser: &Browser, server: &TestServer) -> Walk {
    let login = browser.follow(server, &authorize(server, "")).await;
    let page = browser.page(&login).await;
    let href = link_href(&page.html, "/broker/start/corp").expect("a Sign in with Contoso button");
    assert!(page.html.contains("Sign in with Contoso"));
    let at = browser.walk(&resolve(&login, &href), RP_REDIRECT).await;
    assert!(
        at.url.starts_with(&oidc_peer().issuer),
        "at the upstream OP: {}",
        at.url
    );
    at
}

/// The whole double flow as `account` at the upstream OP; stops at the client or a Gatehouse page.
pub async fn federated_login(browser: &Browser, server: &TestServer, account: &str) -> Walk {
    let form = to_upstream_form(browser, server).await;
    browser.upstream_submit(&form, "/login", account, RP_REDIRECT).await
}

/// Signs in at the upstream OP as `account` and stops at Gatehouse's callback, the URL the OP
/// sends the browser back to, without opening it.
pub async fn upstream_callback(browser: &Browser, server: &TestServer, account: &str) -> Walk {
    let form = to_upstream_form(browser, server).await;
    let callback = browser
        .upstream_submit(&form, "/login", account, &server.url("/broker/callback/"))
        .await;
    assert!(callback.url.contains("/broker/callback/corp?"), "{}", callback.url);
    callback
}
