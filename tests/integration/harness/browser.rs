//! A cookie-keeping HTTP client that follows nothing by itself, like a careful browser script.
use reqwest::header::LOCATION;
use reqwest::{Response, StatusCode};

use super::urls::resolve;
use super::{TestServer, ALICE, ALICE_PASSWORD};

/// One browser: its own cookie jar.
pub struct Browser {
    pub http: reqwest::Client,
}

/// A page with its status and HTML.
pub struct Page {
    pub status: StatusCode,
    pub html: String,
}

impl Page {
    /// The value of a hidden form field.
    pub fn field(&self, name: &str) -> Option<String> {
        let marker = format!("name=\"{name}\" value=\"");
        let start = self.html.find(&marker)? + marker.len();
        let end = self.html[start..].find('"')? + start;
        Some(
            self.html[start..end]
                .replace("&amp;", "&")
                .replace("&#x3D;", "=")
                .replace("&quot;", "\""),
        )
    }
}

impl Default for Browser {
    fn default() -> Self {
        Self::new()
    }
}

impl Browser {
    pub fn new() -> Self {
        let http = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("http client");
        Self { http }
    }

    pub async fn get(&self, url: &str) -> Response {
        self.http.get(url).send().await.expect("GET")
    }

    pub async fn post(&self, url: &str, form: &[(&str, &str)]) -> Response {
        self.http.post(url).form(form).send().await.expect("POST")
    }

    pub async fn page(&self, url: &str) -> Page {
        let res = self.get(url).await;
        let status = res.status();
        Page {
            status,
            html: res.text().await.expect("body"),
        }
    }

    /// Follows redirects until the browser would leave the server (or a page is shown).
    /// Returns the final URL: a page on the server, or the off-server redirect target.
    pub async fn follow(&self, server: &TestServer, start: &str) -> String {
        let mut url = start.to_string();
        for _ in 0..10 {
            if !url.starts_with(&server.issuer) {
                return url;
            }
            let res = self.get(&url).await;
            match location(&res) {
                Some(next) => url = absolute(server, &next),
                None => return url,
            }
        }
        panic!("redirect loop from {start}");
    }

    /// Posts the login form found at `login_url`; returns the response.
    pub async fn submit_login(&self, login_url: &str, username: &str, password: &str) -> Response {
        let page = self.page(login_url).await;
        assert_eq!(page.status, StatusCode::OK, "login page: {}", page.html);
        let interaction = page.field("interaction").expect("interaction field");
        let csrf = page.field("csrf").expect("csrf field");
        let action = login_url.split("/login").next().unwrap().to_string() + "/login";
        self.post(
            &action,
            &[
                ("interaction", &interaction),
                ("csrf", &csrf),
                ("username", username),
                ("password", password),
            ],
        )
        .await
    }

    /// authorize URL → login as alice → back at the client's redirect URI (returned).
    pub async fn sign_in(&self, server: &TestServer, authorize_url: &str) -> String {
        self.sign_in_as(server, authorize_url, ALICE, ALICE_PASSWORD).await
    }

    pub async fn sign_in_as(&self, server: &TestServer, authorize_url: &str, user: &str, password: &str) -> String {
        let at = self.follow(server, authorize_url).await;
        if !at.contains("/login?") {
            return at;
        }
        let res = self.submit_login(&at, user, password).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "login must succeed");
        let next = absolute(server, &location(&res).expect("redirect after login"));
        self.follow(server, &next).await
    }
}

/// The Location header of a redirect.
pub fn location(res: &Response) -> Option<String> {
    if !res.status().is_redirection() {
        return None;
    }
    res.headers()
        .get(LOCATION)
        .map(|v| v.to_str().expect("ascii location").to_string())
}

fn absolute(server: &TestServer, loc: &str) -> String {
    if loc.starts_with('/') {
        server.url(loc)
    } else {
        loc.to_string()
    }
}

/// Where a walk across hosts stopped.
pub struct Walk {
    pub url: String,
    /// The page shown there, when it was not a redirect.
    pub page: Option<Page>,
}

impl Browser {
    /// Follows redirects across any host until a URL starting with `stop` or a page.
    pub async fn walk(&self, start: &str, stop: &str) -> Walk {
        let mut url = start.to_string();
        for _ in 0..25 {
            if url.starts_with(stop) {
                return Walk { url, page: None };
            }
            let res = self.get(&url).await;
            match location(&res) {
                Some(next) => url = resolve(&url, &next),
                None => {
                    let status = res.status();
                    return Walk {
                        url,
                        page: Some(Page {
                            status,
                            html: res.text().await.expect("body"),
                        }),
                    };
                }
            }
        }
        panic!("redirect loop from {start}");
    }

    /// At the upstream OP's login form (`walk.page`), submits the form whose action ends with
    /// `action_suffix` ("/login" with `login=account`, or "/abort"), then walks on to `stop`.
    pub async fn upstream_submit(&self, at: &Walk, action_suffix: &str, account: &str, stop: &str) -> Walk {
        let page = at
            .page
            .as_ref()
            .unwrap_or_else(|| panic!("expected the upstream login form at {}", at.url));
        let action = page
            .html
            .split("action=\"")
            .skip(1)
            .map(|s| s.split('"').next().unwrap())
            .find(|a| a.ends_with(action_suffix))
            .unwrap_or_else(|| panic!("no form ending {action_suffix} in {}", page.html));
        let action = resolve(&at.url, action);
        let res = self
            .post(&action, &[("login", account), ("password", "anything")])
            .await;
        let next = location(&res).unwrap_or_else(|| panic!("upstream form answered {}", res.status()));
        self.walk(&resolve(&action, &next), stop).await
    }
}

impl Browser {
    /// At a page that posts its one form on by script (the upstream OP's `form_post` pages,
    /// such as "end the session of the account signed in here first"), posts that form's
    /// hidden fields as a browser would, then walks on to `stop`.
    pub async fn submit_self_posting_form(&self, at: &Walk, stop: &str) -> Walk {
        let page = at
            .page
            .as_ref()
            .unwrap_or_else(|| panic!("expected a self-posting form at {}", at.url));
        let form = page
            .html
            .split("<form")
            .nth(1)
            .unwrap_or_else(|| panic!("no form at {}: {}", at.url, page.html));
        let attribute = |tag: &str, name: &str| -> Option<String> {
            let rest = tag.split(&format!("{name}=\"")).nth(1)?;
            Some(unescape(rest.split('"').next()?))
        };
        let action = attribute(form, "action").expect("the form's action");
        let fields: Vec<(String, String)> = form
            .split("<input")
            .skip(1)
            .filter(|input| input.contains("type=\"hidden\""))
            .filter_map(|input| Some((attribute(input, "name")?, attribute(input, "value").unwrap_or_default())))
            .collect();
        let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let action = resolve(&at.url, &action);
        let res = self.post(&action, &fields).await;
        let next = location(&res).unwrap_or_else(|| panic!("the form at {action} answered {}", res.status()));
        self.walk(&resolve(&action, &next), stop).await
    }
}

/// The href of the first link whose target contains `part` (HTML entities undone).
pub fn link_href(html: &str, part: &str) -> Option<String> {
    html.split("href=\"")
        .skip(1)
        .map(|s| {
            s.split('"')
                .next()
                .unwrap_or_default()
                .replace("&amp;", "&")
                .replace("&#x3D;", "=")
        })
        .find(|h| h.contains(part))
}

/// Page text with the HTML escapes the templates make undone (`'` is `&#x27;`, `=` is `&#x3D;`).
pub fn unescape(html: &str) -> String {
    html.replace("&#x27;", "'")
        .replace("&#x3D;", "=")
        .replace("&quot;", "\"")
        .replace("&#x60;", "`")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}
