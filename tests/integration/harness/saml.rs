//! SAML 2.0 through the broker against the real IdP (`peers::saml_peer`), which Gatehouse
//! knows as provider `corp-saml`.
use gatehouse::config::{ProviderConfig, ProviderKind, SamlSettings};
use reqwest::StatusCode;
use serde_json::Value;

use super::browser::{link_href, location, Browser, Page, Walk};
use super::client_app::authorize;
use super::peers::saml_peer;
use super::urls::resolve;
use super::{TestServer, RP_REDIRECT};

/// The id under which Gatehouse knows the IdP.
pub const PROVIDER: &str = "corp-saml";

/// A Gatehouse whose provider `corp-saml` is the SimpleSAMLphp IdP, with Gatehouse's SP
/// metadata imported there (with these SimpleSAMLphp options for it).
pub async fn saml_server(options: Option<Value>, adjust: impl FnOnce(&mut ProviderConfig)) -> TestServer {
    saml_server_with(options, |p, _| adjust(p)).await
}

/// As [`saml_server`], with the whole config at hand.
pub async fn saml_server_with(
    options: Option<Value>,
    adjust: impl FnOnce(&mut ProviderConfig, &mut gatehouse::config::Config),
) -> TestServer {
    let peer = saml_peer();
    let mut p = TestServer::prepare().await;
    let mut provider = ProviderConfig {
        id: PROVIDER.into(),
        name: "Contoso SAML".into(),
        kind: ProviderKind::Saml,
        saml: Some(SamlSettings {
            idp_metadata_url: Some(peer.metadata_url.parse().unwrap()),
            ..Default::default()
        }),
        trust_email: true,
        ..Default::default()
    };
    adjust(&mut provider, &mut p.config);
    p.config.providers = vec![provider];
    let server = p.launch().await;
    let xml = sp_metadata(&server).await;
    let port = server.issuer.rsplit(':').next().unwrap().to_owned();
    peer.register_sp(&format!("gatehouse-{port}"), &xml, options.as_ref());
    server
}

/// Gatehouse's SP metadata for the provider, as the IdP's admin downloads it.
pub async fn sp_metadata(server: &TestServer) -> String {
    let res = reqwest::get(server.url(&format!("/broker/saml/{PROVIDER}/metadata")))
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    res.text().await.unwrap()
}

pub fn form_action(html: &str) -> String {
    html.split("<form")
        .nth(1)
        .and_then(|f| f.split("action=\"").nth(1))
        .and_then(|a| a.split('"').next())
        .unwrap_or_else(|| panic!("a form in {html}"))
        .replace("&amp;", "&")
}

/// What the IdP's HTTP-POST binding page asks the browser to post to Gatehouse's ACS.
pub struct Posted {
    pub acs: String,
    pub saml_response: String,
    pub relay_state: String,
}

/// The client app's authorize → Gatehouse's login page → the SAML button → the IdP's login
/// form, signed in there as `user` → the form the IdP has the browser post to the ACS.
pub async fn saml_response_for(browser: &Browser, server: &TestServer, user: &str, password: &str) -> Posted {
    let login = browser.follow(server, &authorize(server, "")).await;
    let page = browser.page(&login).await;
    let href = link_href(&page.html, &format!("/broker/start/{PROVIDER}")).expect("a SAML button");
    let mut at: Walk = browser.walk(&resolve(&login, &href), RP_REDIRECT).await;
    // HTTP-POST binding: Gatehouse's page posts the AuthnRequest to the IdP.
    if at.url.starts_with(&server.issuer) {
        let page = at.page.as_ref().expect("the AuthnRequest form");
        assert!(page.html.contains("id=\"autosubmit\""), "{}", page.html);
        let action = form_action(&page.html);
        let fields = [
            ("SAMLRequest", page.field("SAMLRequest").unwrap()),
            ("RelayState", page.field("RelayState").unwrap()),
        ];
        let res = browser
            .post(&action, &[(fields[0].0, &fields[0].1), (fields[1].0, &fields[1].1)])
            .await;
        let next = location(&res).unwrap_or_else(|| panic!("IdP answered the POST with {}", res.status()));
        at = browser.walk(&resolve(&action, &next), RP_REDIRECT).await;
    }
    sign_in_at_idp(browser, &at, user, password).await
}

/// At the IdP's login form: signs in; returns what the IdP's page posts to the ACS.
pub async fn sign_in_at_idp(browser: &Browser, at: &Walk, user: &str, password: &str) -> Posted {
    let form = at
        .page
        .as_ref()
        .unwrap_or_else(|| panic!("the IdP login form at {}", at.url));
    assert!(form.html.contains("name=\"password\""), "IdP login form: {}", form.html);
    let auth_state = form.field("AuthState").expect("AuthState");
    let res = browser
        .post(
            &resolve(&at.url, "?"),
            &[("username", user), ("password", password), ("AuthState", &auth_state)],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let posted = Page {
        status: StatusCode::OK,
        html: res.text().await.unwrap(),
    };
    Posted {
        acs: form_action(&posted.html),
        saml_response: posted
            .field("SAMLResponse")
            .unwrap_or_else(|| panic!("a SAMLResponse in {}", posted.html)),
        relay_state: posted.field("RelayState").expect("RelayState"),
    }
}

/// Posts to the ACS as the IdP's page does: cross-site, so without Gatehouse's cookies.
pub async fn post_to_acs(acs: &str, saml_response: &str, relay_state: &str) -> reqwest::Response {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .post(acs)
        .form(&[("SAMLResponse", saml_response), ("RelayState", relay_state)])
        .send()
        .await
        .unwrap()
}

/// The whole flow as `user`; ends at the client app or a Gatehouse page.
pub async fn saml_login(browser: &Browser, server: &TestServer, user: &str, password: &str) -> Walk {
    let posted = saml_response_for(browser, server, user, password).await;
    assert!(
        posted.acs.starts_with(&server.issuer),
        "the IdP posts to Gatehouse's ACS: {}",
        posted.acs
    );
    post_to_acs_then_walk(browser, &posted).await
}

/// Posts to the ACS as the IdP's page does, then walks on from where the ACS sends the browser:
/// to the client app or a page.
pub async fn post_to_acs_then_walk(browser: &Browser, posted: &Posted) -> Walk {
    let res = post_to_acs(&posted.acs, &posted.saml_response, &posted.relay_state).await;
    let next = location(&res).unwrap_or_else(|| panic!("ACS answered {}", res.status()));
    browser.walk(&resolve(&posted.acs, &next), RP_REDIRECT).await
}

/// The decoded XML of a base64 SAML message.
pub fn decoded(b64: &str) -> String {
    use base64::Engine;
    String::from_utf8(base64::engine::general_purpose::STANDARD.decode(b64).unwrap()).unwrap()
}
