//! Second factors from the person's side: enrolling an authenticator app on the account page,
//! the codes the app would show (computed with totp-rs), and answering the challenge page.
use reqwest::StatusCode;

use super::browser::{location, Browser, Page};
use super::TestServer;

/// The `[mfa] secret_key` every test server gets (32 bytes, base64).
pub const TEST_KEY: &str = "dGVzdC1vbmx5IG1mYSBrZXkgLSAzMiBieXRlcyEhISE=";

/// What the person keeps after enrolling: the app's secret and the recovery codes.
pub struct Enrolled {
    /// The secret in base32, as the page showed it.
    pub secret: String,
    pub recovery_codes: Vec<String>,
}

/// Seconds since the epoch.
pub fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// The code the authenticator app shows at `time` for the base32 `secret`.
pub fn code_at(secret: &str, time: u64) -> String {
    let bytes = totp_rs::Secret::try_from_base32(secret).expect("base32 secret");
    totp_rs::Builder::new()
        .with_secret(bytes.as_ref().to_vec())
        .build()
        .expect("totp")
        .generate(time)
        .to_string()
}

/// The code of the time step after the current one: still accepted (one step of skew), and
/// later than the step the enrolment used.
pub fn next_code(secret: &str) -> String {
    code_at(secret, now() + 30)
}

/// The text of the `<code class="secret">` element of an enrolment page.
pub fn secret_on(page: &Page) -> String {
    let start = page.html.find("<code class=\"secret\">").expect("secret on the page") + 21;
    let end = page.html[start..].find("</code>").unwrap() + start;
    page.html[start..end].to_string()
}

/// The recovery codes listed on a page.
pub fn recovery_codes_on(html: &str) -> Vec<String> {
    html.split("<li><code>")
        .skip(1)
        .map(|s| s.split("</code>").next().unwrap().to_owned())
        .collect()
}

/// Confirms the enrolment page `page` (posting to `action`, with its hidden fields) with the
/// current code; returns the recovery codes page.
pub async fn confirm_enrolment(browser: &Browser, server: &TestServer, page: &Page, action: &str) -> (String, Page) {
    confirm_enrolment_with(browser, server, page, action, None).await
}

/// [`confirm_enrolment`], also typing `password` into the page's password field (the account
/// page asks for it).
pub async fn confirm_enrolment_with(
    browser: &Browser,
    server: &TestServer,
    page: &Page,
    action: &str,
    password: Option<&str>,
) -> (String, Page) {
    let secret = secret_on(page);
    let mut form = vec![
        ("csrf", page.field("csrf").expect("csrf")),
        ("code", code_at(&secret, now())),
    ];
    if let Some(password) = password {
        form.push(("confirm", password.to_owned()));
    }
    if let Some(ix) = page.field("interaction") {
        form.push(("interaction", ix));
    }
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let res = browser.post(&server.url(action), &form).await;
    let status = res.status();
    let html = res.text().await.unwrap();
    assert_eq!(status, StatusCode::OK, "enrolment confirmed: {html}");
    (secret, Page { status, html })
}

/// Signs `browser` in on the account page (as `user`), and enrols an authenticator app there.
pub async fn enrol_on_account(browser: &Browser, server: &TestServer, user: &str, password: &str) -> Enrolled {
    let back = browser
        .sign_in_as(server, &server.url("/account"), user, password)
        .await;
    assert_eq!(back, server.url("/account"), "signed in on the account page");
    let page = browser.page(&server.url("/account/mfa/totp")).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.html);
    let (secret, codes_page) =
        confirm_enrolment_with(browser, server, &page, "/account/mfa/totp", Some(password)).await;
    let recovery_codes = recovery_codes_on(&codes_page.html);
    Enrolled { secret, recovery_codes }
}

/// Answers the challenge page at `mfa_url` with `code` (`method`: `totp` or `recovery`);
/// returns the response.
pub async fn answer(browser: &Browser, mfa_url: &str, method: &str, code: &str) -> reqwest::Response {
    let page = browser.page(mfa_url).await;
    assert_eq!(page.status, StatusCode::OK, "challenge page: {}", page.html);
    let action = mfa_url.split('?').next().unwrap();
    browser
        .post(
            action,
            &[
                ("interaction", &page.field("interaction").expect("interaction")),
                ("csrf", &page.field("csrf").expect("csrf")),
                ("method", method),
                ("code", code),
            ],
        )
        .await
}

/// Follows a redirect response to where the browser ends up.
pub async fn onward(browser: &Browser, server: &TestServer, res: &reqwest::Response) -> String {
    let to = location(res).unwrap_or_else(|| panic!("a redirect, got {}", res.status()));
    let to = if to.starts_with('/') { server.url(&to) } else { to };
    browser.follow(server, &to).await
}

/// Password sign-in at the client's `authorize_url` as `user`: the URL it stops at (the
/// challenge page, when a second factor is needed).
pub async fn password_step(
    browser: &Browser,
    server: &TestServer,
    authorize_url: &str,
    user: &str,
    password: &str,
) -> String {
    let at = browser.follow(server, authorize_url).await;
    assert!(at.contains("/login?"), "the login page first: {at}");
    let res = browser.submit_login(&at, user, password).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER, "password accepted");
    onward(browser, server, &res).await
}
