//! Handlebars pages: built into the binary, overridable from a folder.
use std::path::Path;

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use handlebars::Handlebars;

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
    ("post_form", include_str!("../../templates/post_form.hbs")),
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
}

/// The page renderer.
pub struct Templates {
    hb: Handlebars<'static>,
}

impl Templates {
    /// Built-in templates, each replaced by `<dir>/<name>.hbs` where that file exists.
    pub fn load(dir: Option<&Path>) -> Result<Self, TemplateError> {
        let mut hb = Handlebars::new();
        hb.set_strict_mode(false);
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
        Ok(Self { hb })
    }

    /// A form page: 200, or `failure` when the form is shown again because of `error`.
    pub fn form<P: Page, E>(&self, page: &P, error: Option<E>, failure: StatusCode) -> Response {
        self.page(if error.is_some() { failure } else { StatusCode::OK }, page)
    }

    /// Renders a page with its template; a broken override becomes a plain error rather than a panic.
    pub fn page<P: Page>(&self, status: StatusCode, page: &P) -> Response {
        match self.render(page) {
            Ok(html) => html_response(status, html),
            Err(e) => {
                tracing::error!(template = P::TEMPLATE, error = %e, "template rendering failed");
                html_response(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "<!doctype html><title>Error</title><p>This page could not be shown.</p>".into(),
                )
            }
        }
    }

    /// The page's HTML.
    pub fn render<P: Page>(&self, page: &P) -> Result<String, handlebars::RenderError> {
        self.hb.render(P::TEMPLATE, page)
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
    use super::*;
    use crate::web::pages::{ErrorPage, Layout};

    #[test]
    fn built_in_templates_render_and_escape() {
        let t = Templates::load(None).unwrap();
        let page = ErrorPage {
            layout: Layout::new("T", "/base".into()),
            message: "<script>x</script>".into(),
            link: None,
        };
        let r = t.render(&page).unwrap();
        assert!(r.contains("&lt;script&gt;"));
        assert!(!r.contains("<script>x"));
    }
}
