//! Pages in the person's language: the client's `ui_locales` (kept with the interaction), else
//! the browser's `Accept-Language`, else English; discovery lists the languages.
use reqwest::StatusCode;

use super::harness::browser::Browser;
use super::harness::urls::urlencode;
use super::harness::*;
use gatehouse::oidc::pkce::s256;

fn authorize_url(server: &TestServer, extra: &str) -> String {
    server.url(&format!(
        "/authorize?response_type=code&client_id={RP_ID}&redirect_uri={}&scope=openid&state=abc&code_challenge={}&code_challenge_method=S256{extra}",
        urlencode(RP_REDIRECT),
        s256("verifier-verifier-verifier-verifier-verifier-1")
    ))
}

/// The login page of a new sign-in, fetched with `accept_language` (if any) on every request.
async fn login_page(server: &TestServer, extra: &str, accept_language: Option<&str>) -> (String, String) {
    let mut headers = reqwest::header::HeaderMap::new();
    if let Some(al) = accept_language {
        headers.insert(reqwest::header::ACCEPT_LANGUAGE, al.parse().unwrap());
    }
    let http = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .default_headers(headers)
        .build()
        .unwrap();
    let res = http.get(authorize_url(server, extra)).send().await.unwrap();
    assert!(res.status().is_redirection(), "a redirect to the login page");
    let login = res.headers()["location"].to_str().unwrap().to_owned();
    let login = if login.starts_with("http") {
        login
    } else {
        server.url(&login)
    };
    let res = http.get(&login).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let language = res.headers()["content-language"].to_str().unwrap().to_owned();
    (language, res.text().await.unwrap())
}

#[tokio::test]
async fn the_login_page_is_in_english_by_default_and_in_german_for_accept_language_de() {
    let server = TestServer::start().await;
    let (lang, html) = login_page(&server, "", None).await;
    assert_eq!(lang, "en");
    assert!(html.contains("<html lang=\"en\">"), "{html}");
    assert!(
        html.contains("<h1>Sign in</h1>") && html.contains("Username or email"),
        "{html}"
    );
    assert!(html.contains("<title>Sign in · Gatehouse</title>"), "{html}");

    let (lang, html) = login_page(&server, "", Some("de-DE,de;q=0.9,en;q=0.5")).await;
    assert_eq!(lang, "de");
    assert!(html.contains("<html lang=\"de\">"), "{html}");
    assert!(html.contains("<h1>Anmelden</h1>"), "{html}");
    assert!(
        html.contains("Benutzername oder E-Mail")
            && html.contains("um mit <strong>rp application</strong> fortzufahren"),
        "{html}"
    );
    assert!(html.contains("<title>Anmelden · Gatehouse</title>"), "{html}");
    assert!(
        !html.contains("Username or email"),
        "no English left on the German page: {html}"
    );

    // A language Gatehouse does not have falls back to English.
    let (lang, html) = login_page(&server, "", Some("fr-FR, ja;q=0.5")).await;
    assert_eq!(lang, "en");
    assert!(html.contains("<h1>Sign in</h1>"));
}

#[tokio::test]
async fn ui_locales_outranks_accept_language_and_is_remembered_through_the_interaction() {
    let server = TestServer::start().await;
    let (lang, html) = login_page(&server, "&ui_locales=fr%20de", Some("en")).await;
    assert_eq!(lang, "de", "the first supported ui_locales wins over Accept-Language");
    assert!(html.contains("<h1>Anmelden</h1>"), "{html}");

    // A wrong password shows the page again, still in German, with the error in German.
    let browser = Browser::new();
    let login = browser.follow(&server, &authorize_url(&server, "&ui_locales=de")).await;
    let page = browser.page(&login).await;
    assert!(page.html.contains("<html lang=\"de\">"), "{}", page.html);
    let res = browser
        .post(
            &server.url("/login"),
            &[
                ("interaction", &page.field("interaction").unwrap()),
                ("csrf", &page.field("csrf").unwrap()),
                ("username", ALICE),
                ("password", "not-her-password"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let html = res.text().await.unwrap();
    assert!(html.contains("Benutzername oder Passwort ist falsch."), "{html}");
    assert!(html.contains("<html lang=\"de\">"), "{html}");
}

#[tokio::test]
async fn error_pages_follow_accept_language() {
    let server = TestServer::start().await;
    let http = reqwest::Client::new();
    let de = http
        .get(server.url("/login?interaction=unknown"))
        .header("accept-language", "de")
        .send()
        .await
        .unwrap();
    assert_eq!(de.status(), StatusCode::BAD_REQUEST);
    let html = de.text().await.unwrap();
    assert!(
        html.contains("Anmeldeanfrage nicht gefunden") && html.contains("Gatehouse-Startseite"),
        "{html}"
    );
    let en = http.get(server.url("/no-such-page")).send().await.unwrap();
    assert_eq!(en.status(), StatusCode::NOT_FOUND);
    assert!(en.text().await.unwrap().contains("There is no page at this address."));
    let de = http
        .get(server.url("/no-such-page"))
        .header("accept-language", "de")
        .send()
        .await
        .unwrap();
    assert!(de
        .text()
        .await
        .unwrap()
        .contains("Unter dieser Adresse gibt es keine Seite."));
}

#[tokio::test]
async fn discovery_lists_the_supported_ui_locales() {
    let server = TestServer::start().await;
    let doc: serde_json::Value = reqwest::get(server.url("/.well-known/openid-configuration"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(doc["ui_locales_supported"], serde_json::json!(["en", "de"]));
}
