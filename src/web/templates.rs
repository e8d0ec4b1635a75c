//! Handlebars pages: built into the binary, overridable from a folder.
use std::path::Path;

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use handlebars::{
    Context, Handlebars, Helper, HelperDef, HelperResult, JsonTruthy, Output, RenderContext, RenderErrorReason,
    Renderable,
};

use super::pages::Page;

/// The built-in templates, by name.
const BUILT_IN: &[(&str, &str)] = &[
    ("layout", include_str!("../../templates/layout.hbs")),
    ("home", include_str!("../../templates/home.hbs")),
    ("login", include_str!("../../templates/login.hbs")),
    ("register", include_str!("../../templates/register.hbs")),
    ("consent", include_str!("../../templates/consent.hbs")),
    ("logout", include_str!("../../templates/logout.hbs")),
    ("logged_out", include_str!("../../templates/logged_out.hbs")),
    ("error", include_str!("../../templates/error.hbs")),
    ("demo_result", include_str!("../../templates/demo_result.hbs")),
    ("broker_link", include_str!("../../templates/broker_link.hbs")),
    ("broker_profile", include_str!("../../templates/broker_profile.hbs")),
    ("account", include_str!("../../templates/account.hbs")),
    ("account_delete", include_str!("../../templates/account_delete.hbs")),
    ("account_deleted", include_str!("../../templates/account_deleted.hbs")),
    ("post_form", include_str!("../../templates/post_form.hbs")),
    ("mfa", include_str!("../../templates/mfa.hbs")),
    ("mfa_enrol", include_str!("../../templates/mfa_enrol.hbs")),
    (
        "mfa_recovery_codes",
        include_str!("../../templates/mfa_recovery_codes.hbs"),
    ),
    ("notice", include_str!("../../templates/notice.hbs")),
    ("forgot_password", include_str!("../../templates/forgot_password.hbs")),
    ("reset_password", include_str!("../../templates/reset_password.hbs")),
    ("verify_email", include_str!("../../templates/verify_email.hbs")),
    ("account_email", include_str!("../../templates/account_email.hbs")),
    ("account_password", include_str!("../../templates/account_password.hbs")),
];

/// Why templates could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    #[error("template {name}: {source}")]
    Parse {
        name: String,
        source: Box<handlebars::TemplateError>,
    },
    #[error("reading template {path}: {source}")]
    Io { path: String, source: std::io::Error },
    #[error("templates_dir {path}: {file} overrides no template (known: {known})")]
    Unknown { path: String, file: String, known: String },
}

/// The page renderer.
pub struct Templates {
    hb: Handlebars<'static>,
    /// The operator's stylesheet below the base (`[ui] theme_dir`), linked after the built-in one.
    theme_css: Option<String>,
}

impl Templates {
    /// Built-in templates, each replaced by `<dir>/<name>.hbs` where that file exists; strict
    /// in debug builds (so under `cargo test`), lenient in release.
    pub fn load(dir: Option<&Path>) -> Result<Self, TemplateError> {
        Self::load_with(dir, cfg!(debug_assertions))
    }

    /// As `load`, strict or not. Strict: a template reading a field its page lacks fails to
    /// render, in `{{x}}`, `{{#each x}}` and (with the helpers below) `{{#if x}}`/`{{#unless x}}`.
    /// A field that is there but `null` (a `None`) is not missing.
    pub fn load_with(dir: Option<&Path>, strict: bool) -> Result<Self, TemplateError> {
        let mut hb = Handlebars::new();
        hb.set_strict_mode(strict);
        hb.register_helper("t", Box::new(crate::i18n::Translate));
        if strict {
            // The built-in `if`/`unless` treat a missing field as false even in strict mode.
            hb.register_helper("if", Box::new(StrictIf { positive: true }));
            hb.register_helper("unless", Box::new(StrictIf { positive: false }));
        }
        if let Some(dir) = dir {
            refuse_unknown_overrides(dir)?;
        }
        for (name, text) in BUILT_IN {
            let override_path = dir.map(|d| d.join(format!("{name}.hbs"))).filter(|p| p.exists());
            let source = match override_path {
                Some(p) => std::fs::read_to_string(&p).map_err(|source| TemplateError::Io {
                    path: p.display().to_string(),
                    source,
                })?,
                None => (*text).to_owned(),
            };
            hb.register_template_string(name, source)
                .map_err(|e| TemplateError::Parse {
                    name: (*name).into(),
                    source: Box::new(e),
                })?;
        }
        Ok(Self { hb, theme_css: None })
    }

    /// Every page links `path` (below the issuer's base) after the built-in stylesheet.
    pub fn with_theme_stylesheet(mut self, path: Option<String>) -> Self {
        self.theme_css = path;
        self
    }

    /// A form page: 200, or `failure` when the form is shown again because of `error`.
    pub fn form<P: Page, E>(&self, page: &P, error: Option<E>, failure: StatusCode) -> Response {
        self.page(if error.is_some() { failure } else { StatusCode::OK }, page)
    }

    /// Renders a page with its template; a failure (a broken override, or in a strict build a
    /// field the template reads that the page lacks) is logged and becomes a plain error page.
    ///
    /// A page answering with an error status tells of a failure: it is logged (with the
    /// request's id, a field of the request's span) and shows the request's id, so what the
    /// person quotes finds the log line.
    pub fn page<P: Page>(&self, status: StatusCode, page: &P) -> Response {
        let failure = status.is_client_error() || status.is_server_error();
        let request_id = failure.then(super::request_id::current).flatten();
        match self.render_with(page, request_id.as_deref()) {
            Ok((html, title)) => {
                if failure {
                    log_failure(status, P::TEMPLATE, &title);
                }
                html_response(status, html)
            }
            Err(e) => {
                tracing::error!(template = P::TEMPLATE, error = %e, "template rendering failed");
                let reference = request_id
                    .or_else(super::request_id::current)
                    .map(|id| format!("<p>Request id: <code>{}</code></p>", handlebars::html_escape(&id)))
                    .unwrap_or_default();
                html_response(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    format!("<!doctype html><title>Error</title><p>This page could not be shown.</p>{reference}"),
                )
            }
        }
    }

    /// The page's HTML.
    pub fn render<P: Page>(&self, page: &P) -> Result<String, handlebars::RenderError> {
        self.render_with(page, None).map(|(html, _)| html)
    }

    /// The page's HTML and title. The layout shows `failure_request_id` when set: `request_id`
    /// given here, unless the page has a `request_id` of its own (the error page), which its
    /// template shows itself.
    fn render_with<P: Page>(
        &self,
        page: &P,
        request_id: Option<&str>,
    ) -> Result<(String, String), handlebars::RenderError> {
        let mut data = serde_json::to_value(page).map_err(RenderErrorReason::SerdeError)?;
        let title = data["title"].as_str().unwrap_or_default().to_owned();
        // What every page's layout reads besides its own fields.
        if let Some(fields) = data.as_object_mut() {
            let shown = request_id.filter(|_| !fields.contains_key("request_id"));
            fields.insert("failure_request_id".into(), shown.into());
            fields.insert("theme_css".into(), self.theme_css.clone().into());
            fields.insert("lang".into(), crate::i18n::current().tag().into());
        }
        Ok((self.hb.render(P::TEMPLATE, &data)?, title))
    }
}

/// The log line of a page that tells of a failure (inside the request's span: it carries the
/// request id the page shows).
fn log_failure(status: StatusCode, template: &str, title: &str) {
    let status = status.as_u16();
    if status >= 500 {
        tracing::warn!(status, page = template, title, "failure page shown");
    } else {
        tracing::info!(status, page = template, title, "failure page shown");
    }
}

/// A misspelled override (`logn.hbs`) would be ignored in silence: every `.hbs` file in the
/// folder must name a built-in template, and the folder must exist.
fn refuse_unknown_overrides(dir: &Path) -> Result<(), TemplateError> {
    let path = dir.display().to_string();
    let entries = std::fs::read_dir(dir).map_err(|source| TemplateError::Io {
        path: path.clone(),
        source,
    })?;
    let mut unknown: Vec<String> = entries
        .filter_map(Result::ok)
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|f| {
            f.strip_suffix(".hbs")
                .is_some_and(|n| !BUILT_IN.iter().any(|(b, _)| *b == n))
        })
        .collect();
    unknown.sort();
    match unknown.into_iter().next() {
        None => Ok(()),
        Some(file) => Err(TemplateError::Unknown {
            path,
            file,
            known: BUILT_IN
                .iter()
                .map(|(n, _)| format!("{n}.hbs"))
                .collect::<Vec<_>>()
                .join(", "),
        }),
    }
}

/// `if` (or `unless`) that refuses a missing field: registered in strict mode only.
struct StrictIf {
    positive: bool,
}

impl HelperDef for StrictIf {
    fn call<'reg: 'rc, 'rc>(
        &self,
        h: &Helper<'rc>,
        r: &'reg Handlebars<'reg>,
        ctx: &'rc Context,
        rc: &mut RenderContext<'reg, 'rc>,
        out: &mut dyn Output,
    ) -> HelperResult {
        let name = if self.positive { "if" } else { "unless" };
        let param = h.param(0).ok_or(RenderErrorReason::ParamNotFoundForIndex(name, 0))?;
        if param.is_value_missing() {
            return Err(RenderErrorReason::MissingVariable(param.relative_path().cloned()).into());
        }
        let include_zero = h
            .hash_get("includeZero")
            .and_then(|v| v.value().as_bool())
            .unwrap_or(false);
        let chosen = if param.value().is_truthy(include_zero) == self.positive {
            h.template()
        } else {
            h.inverse()
        };
        match chosen {
            Some(t) => t.render(r, ctx, rc, out),
            None => Ok(()),
        }
    }
}

fn html_response(status: StatusCode, html: String) -> Response {
    (
        status,
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
        html,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use serde::Serialize;

    use super::*;
    use crate::web::error::Link;
    use crate::web::pages::*;

    fn layout(title: &str) -> Layout {
        Layout::new(title, "/base".into())
    }

    /// Renders `page` (panicking with the template's complaint) and notes its template.
    fn renders<P: Page>(t: &Templates, seen: &mut BTreeSet<&'static str>, page: P) -> String {
        seen.insert(P::TEMPLATE);
        t.render(&page).unwrap_or_else(|e| {
            panic!(
                "template {} with {page:?}: {e}",
                P::TEMPLATE,
                page = serde_json::to_string(&page).unwrap()
            )
        })
    }

    fn sample_when() -> When {
        When {
            date: "30 Nov 2026, 06:32 UTC".into(),
            ago: "2 hours ago".into(),
            iso: "2026-11-30T06:32:07Z".into(),
        }
    }

    /// Every built-in template, rendered strictly with its page: once with every optional
    /// field set and every list filled, once with none, so both sides of each `{{#if}}` run.
    #[test]
    fn every_template_renders_strictly_with_its_page() {
        let t = Templates::load_with(None, true).unwrap();
        let seen = &mut BTreeSet::new();
        for full in [true, false] {
            let some = |s: &str| full.then(|| s.to_owned());
            let list = |items: Vec<String>| if full { items } else { vec![] };
            renders(
                &t,
                seen,
                HomePage {
                    layout: layout("Home"),
                    issuer: "https://issuer.example".into(),
                    demo: full,
                    demo_user: some("alice"),
                },
            );
            renders(
                &t,
                seen,
                LoginPage {
                    layout: layout("Sign in"),
                    client_name: "App".into(),
                    interaction: "ix".into(),
                    csrf: "token".into(),
                    username: some("alice"),
                    error: some("Invalid username or password."),
                    registration_enabled: full,
                    forgot_password: full,
                    scopes: list(vec!["openid".into()]),
                    providers: if full {
                        vec![
                            ProviderButton {
                                name: "Acme".into(),
                                href: "/base/broker/start/acme".into(),
                                icon: Some("data:,".into()),
                            },
                            ProviderButton {
                                name: "Plain".into(),
                                href: "/base/broker/start/plain".into(),
                                icon: None,
                            },
                        ]
                    } else {
                        vec![]
                    },
                    hrd: full,
                    passkeys: full,
                },
            );
            renders(
                &t,
                seen,
                RegisterPage {
                    layout: layout("Create an account"),
                    client_name: "App".into(),
                    interaction: "ix".into(),
                    csrf: "token".into(),
                    username: "alice".into(),
                    email: "alice@example.com".into(),
                    name: "Alice".into(),
                    error: some("Passwords differ."),
                },
            );
            renders(
                &t,
                seen,
                ConsentPage {
                    layout: layout("Allow access"),
                    client_name: "App".into(),
                    interaction: "ix".into(),
                    csrf: "token".into(),
                    username: "alice".into(),
                    scopes: list(vec!["See your email address".into()]),
                },
            );
            renders(
                &t,
                seen,
                ConfirmLogoutPage {
                    layout: layout("Sign out"),
                    csrf: "token".into(),
                    username: some("alice"),
                    post_logout_redirect_uri: some("https://app.example/bye"),
                    client_id: some("app"),
                    state: some("st"),
                },
            );
            renders(
                &t,
                seen,
                LoggedOutPage::new(
                    "/base".into(),
                    list(vec!["https://app.example/fc".into()]),
                    some("https://app.example/bye"),
                ),
            );
            renders(
                &t,
                seen,
                ErrorPage {
                    layout: layout("Not found"),
                    message: "There is no page at this address.".into(),
                    link: full.then(|| Link {
                        href: "/base/".into(),
                        label: "Home".into(),
                    }),
                    request_id: full.then(|| "0b7e4a52-request".into()),
                },
            );
            renders(
                &t,
                seen,
                DemoResultPage {
                    layout: layout("Signed in"),
                    issuer: "https://issuer.example".into(),
                    id_token_claims: "{}".into(),
                    userinfo: "{}".into(),
                    logout_href: "/base/logout".into(),
                },
            );
            renders(
                &t,
                seen,
                LinkAccountPage {
                    layout: layout("Link your account"),
                    provider_name: "Acme".into(),
                    email: some("a…@example.com"),
                    interaction: "ix".into(),
                    csrf: "token".into(),
                    may_create: full,
                    error: some("Invalid username or password."),
                },
            );
            renders(
                &t,
                seen,
                ReviewProfilePage {
                    layout: layout("Review your profile"),
                    provider_name: "Acme".into(),
                    interaction: "ix".into(),
                    csrf: "token".into(),
                    username: "alice".into(),
                    email: "alice@example.com".into(),
                    name: "Alice".into(),
                    error: some("That username is taken."),
                },
            );
            renders(
                &t,
                seen,
                AccountPage {
                    layout: layout("Your account"),
                    username: "alice".into(),
                    name: some("Alice Liddell"),
                    email: some("alice@example.com"),
                    email_verified: full,
                    sessions: if full {
                        ["sid-1", "sid-2"]
                            .iter()
                            .map(|sid| SessionRow {
                                sid: (*sid).into(),
                                current: *sid == "sid-1",
                                signed_in: sample_when(),
                                last_seen: sample_when(),
                                method: "Password".into(),
                            })
                            .collect()
                    } else {
                        vec![]
                    },
                    has_password: full,
                    linked: if full {
                        [true, false]
                            .iter()
                            .map(|removable| LinkedLoginRow {
                                provider: "acme".into(),
                                provider_name: "Acme".into(),
                                subject: "sub".into(),
                                label: removable.then(|| "alice@acme.example".into()),
                                linked: sample_when(),
                                last_used: sample_when(),
                                removable: *removable,
                            })
                            .collect()
                    } else {
                        vec![]
                    },
                    linkable: if full {
                        vec![ProviderChoice {
                            id: "gh".into(),
                            name: "GitHub".into(),
                        }]
                    } else {
                        vec![]
                    },
                    apps: if full {
                        [true, false]
                            .iter()
                            .map(|offline| AppAccessRow {
                                client_id: "app".into(),
                                client_name: "App".into(),
                                scopes: vec!["See your email address".into()],
                                since: sample_when(),
                                offline: *offline,
                            })
                            .collect()
                    } else {
                        vec![]
                    },
                    csrf: "token".into(),
                    mfa_available: full,
                    totp: full,
                    recovery_codes_left: 7,
                    error: some("That code is not right."),
                    passkeys_available: full,
                    passkeys: if full {
                        vec![PasskeyRow {
                            id: "Y3JlZA".into(),
                            name: "Laptop".into(),
                            added: sample_when(),
                            last_used: full.then(sample_when),
                        }]
                    } else {
                        vec![]
                    },
                    notice: some("Your name is saved."),
                    alert: some("That login is your only way in."),
                },
            );
            for has_password in [true, false] {
                renders(
                    &t,
                    seen,
                    AccountDeletePage {
                        layout: layout("Delete your account"),
                        username: "alice".into(),
                        csrf: "token".into(),
                        has_password,
                        providers: if full {
                            vec![ProviderChoice {
                                id: "acme".into(),
                                name: "Acme".into(),
                            }]
                        } else {
                            vec![]
                        },
                        confirmed_with: some("Acme"),
                        error: some("That is not your password."),
                    },
                );
            }
            renders(
                &t,
                seen,
                AccountDeletedPage {
                    layout: layout("Account deleted"),
                    username: "alice".into(),
                },
            );
            renders(
                &t,
                seen,
                MfaPage {
                    layout: layout("Second factor"),
                    client_name: "App".into(),
                    interaction: "ix".into(),
                    csrf: "token".into(),
                    error: some("That code is not right."),
                    recovery: full,
                    recovery_codes_left: if full { 3 } else { 0 },
                    totp: full,
                    passkeys: full,
                },
            );
            renders(
                &t,
                seen,
                MfaEnrolPage {
                    layout: layout("Set up an authenticator app"),
                    action: "/base/login/mfa/enrol".into(),
                    interaction: some("ix"),
                    client_name: some("App"),
                    csrf: "token".into(),
                    otpauth_uri: "otpauth://totp/Gatehouse:alice?secret=ABC".into(),
                    secret: "ABC".into(),
                    qr_data_uri: some("data:image/svg+xml;base64,PHN2Zy8+"),
                    passkey_option: full,
                    ask_password: full,
                    error: some("That code is not right."),
                },
            );
            renders(
                &t,
                seen,
                RecoveryCodesPage {
                    layout: layout("Your recovery codes"),
                    codes: if full {
                        vec!["AAAA-BBBB-CCCC-DDDD".into()]
                    } else {
                        vec![]
                    },
                    continue_href: "/base/account".into(),
                },
            );
            renders(
                &t,
                seen,
                PostFormPage {
                    layout: layout("Continue to Acme"),
                    provider: "Acme".into(),
                    action: "https://idp.example/sso".into(),
                    fields: if full {
                        vec![HiddenField {
                            name: "SAMLRequest".into(),
                            value: "PHNhbWw+".into(),
                        }]
                    } else {
                        vec![]
                    },
                },
            );
            renders(
                &t,
                seen,
                NoticePage {
                    layout: layout("Check your inbox"),
                    message: "A link is on its way.".into(),
                    link: full.then(|| Link {
                        href: "/base/login?interaction=ix".into(),
                        label: "Back to sign in".into(),
                    }),
                },
            );
            renders(
                &t,
                seen,
                ForgotPasswordPage {
                    layout: layout("Forgot your password?"),
                    csrf: "token".into(),
                    interaction: some("ix"),
                    email: "alice@example.com".into(),
                    error: some("Enter a valid email address."),
                },
            );
            renders(
                &t,
                seen,
                ResetPasswordPage {
                    layout: layout("Choose a new password"),
                    csrf: "token".into(),
                    token: "tok".into(),
                    username: "alice".into(),
                    error: some("The two passwords differ."),
                },
            );
            renders(
                &t,
                seen,
                VerifyEmailPage {
                    layout: layout("Confirm your email address"),
                    csrf: "token".into(),
                    token: "tok".into(),
                    email: "alice@example.com".into(),
                    username: "alice".into(),
                },
            );
            renders(
                &t,
                seen,
                EmailSettingsPage {
                    layout: layout("Email address"),
                    csrf: "token".into(),
                    email: some("alice@example.com"),
                    email_verified: full,
                    pending_email: some("alice@new.example"),
                    needs_password: full,
                    new_email: "alice@new.example".into(),
                    error: some("Enter a valid email address."),
                    notice: some("We sent a confirmation link."),
                },
            );
            renders(
                &t,
                seen,
                PasswordChangePage {
                    layout: layout("Change your password"),
                    csrf: "token".into(),
                    username: "alice".into(),
                    has_password: full,
                    error: some("Your current password is not right."),
                },
            );
        }
        let pages: BTreeSet<&str> = BUILT_IN
            .iter()
            .map(|(name, _)| *name)
            .filter(|n| *n != "layout")
            .collect();
        assert_eq!(*seen, pages, "every template has a page above");
    }

    /// The error template without its `message`, or without `link` (read only by `{{#if}}`).
    #[derive(Serialize)]
    struct Incomplete {
        #[serde(flatten)]
        layout: Layout,
        #[serde(skip_serializing_if = "Option::is_none")]
        message: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        link: Option<Option<Link>>,
        request_id: Option<String>,
    }

    impl Page for Incomplete {
        const TEMPLATE: &'static str = "error";
    }

    #[test]
    fn strict_mode_refuses_a_missing_field_and_lenient_mode_does_not() {
        let strict = Templates::load_with(None, true).unwrap();
        let lenient = Templates::load_with(None, false).unwrap();
        let no_message = Incomplete {
            layout: layout("T"),
            message: None,
            link: Some(None),
            request_id: None,
        };
        let no_link = Incomplete {
            layout: layout("T"),
            message: Some("m".into()),
            link: None,
            request_id: None,
        };
        let complete = Incomplete {
            layout: layout("T"),
            message: Some("m".into()),
            link: Some(None),
            request_id: None,
        };

        let e = strict.render(&no_message).unwrap_err().to_string();
        assert!(e.contains("message"), "{e}");
        let e = strict.render(&no_link).unwrap_err().to_string();
        assert!(e.contains("link"), "{e}");
        assert!(strict.render(&complete).is_ok(), "a None is null, which is present");

        assert!(lenient.render(&no_message).is_ok());
        assert!(lenient.render(&no_link).is_ok());
        assert_eq!(lenient.render(&no_link).unwrap(), strict.render(&complete).unwrap());

        // A failure is a plain 500 page, never a panic.
        let res = strict.page(StatusCode::OK, &no_message);
        assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
    }

    #[test]
    fn strict_unless_and_each_refuse_a_missing_field() {
        let mut t = Templates::load_with(None, true).unwrap();
        t.hb.register_template_string("unless", "{{#unless gone}}x{{/unless}}")
            .unwrap();
        t.hb.register_template_string("each", "{{#each gone}}x{{/each}}")
            .unwrap();
        let data = serde_json::json!({"here": null});
        assert!(t.hb.render("unless", &data).is_err());
        assert!(t.hb.render("each", &data).is_err());
        let data = serde_json::json!({"gone": null});
        assert_eq!(t.hb.render("unless", &data).unwrap(), "x");
    }

    #[test]
    fn built_in_templates_escape() {
        let t = Templates::load_with(None, true).unwrap();
        let page = ErrorPage {
            layout: layout("T"),
            message: "<script>x</script>".into(),
            link: None,
            request_id: Some("<b>id</b>".into()),
        };
        let r = t.render(&page).unwrap();
        assert!(r.contains("&lt;script&gt;"));
        assert!(!r.contains("<script>x"));
        assert!(r.contains("&lt;b&gt;id&lt;/b&gt;") && !r.contains("<b>id"), "{r}");
    }

    #[test]
    fn a_failure_page_shows_the_request_id_once() {
        let t = Templates::load_with(None, true).unwrap();
        let notice = NoticePage {
            layout: layout("Wrong"),
            message: "m".into(),
            link: None,
        };
        let (html, title) = t.render_with(&notice, Some("rid-1")).unwrap();
        assert_eq!(title, "Wrong");
        assert_eq!(html.matches("Request id: <code>rid-1</code>").count(), 1, "{html}");
        assert!(
            !t.render(&notice).unwrap().contains("Request id"),
            "not on a page that did not fail"
        );
        // The error page shows its own, and the layout does not repeat it.
        let page = ErrorPage {
            layout: layout("T"),
            message: "m".into(),
            link: None,
            request_id: Some("rid-2".into()),
        };
        let (html, _) = t.render_with(&page, Some("rid-2")).unwrap();
        assert_eq!(html.matches("Request id:").count(), 1, "{html}");
    }

    #[test]
    fn templates_dir_overrides_a_built_in_template() {
        let dir = std::env::temp_dir().join(format!("gatehouse-templates-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("error.hbs"), "custom {{title}}: {{message}}").unwrap();
        let t = Templates::load_with(Some(&dir), true).unwrap();
        let page = ErrorPage {
            layout: layout("T"),
            message: "m".into(),
            link: None,
            request_id: None,
        };
        assert_eq!(t.render(&page).unwrap(), "custom T: m");
        // The others stay built in.
        assert!(t
            .render(&LoggedOutPage::new("/base".into(), vec![], None))
            .unwrap()
            .contains("You are signed out"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
