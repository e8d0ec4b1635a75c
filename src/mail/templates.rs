//! Mail templates: for each message a subject, a plain-text body and an HTML body, built into
//! the binary and overridable from `<templates_dir>/mail/`. Text is rendered unescaped, HTML
//! escaped; both strictly in debug builds (a field the message lacks is an error).
use std::path::Path;

use handlebars::Handlebars;
use serde::Serialize;

use super::MailError;

/// A message rendered with the templates `mail/<TEMPLATE>.{subject,txt,html}.hbs`.
pub trait Mail: Serialize {
    /// The templates' common name.
    const TEMPLATE: &'static str;
}

/// The built-in mail templates, by file name below `templates/mail/`.
const BUILT_IN: &[(&str, &str)] = &[
    ("layout.html", include_str!("../../templates/mail/layout.html.hbs")),
    (
        "verify_email.subject",
        include_str!("../../templates/mail/verify_email.subject.hbs"),
    ),
    (
        "verify_email.txt",
        include_str!("../../templates/mail/verify_email.txt.hbs"),
    ),
    (
        "verify_email.html",
        include_str!("../../templates/mail/verify_email.html.hbs"),
    ),
    (
        "reset_password.subject",
        include_str!("../../templates/mail/reset_password.subject.hbs"),
    ),
    (
        "reset_password.txt",
        include_str!("../../templates/mail/reset_password.txt.hbs"),
    ),
    (
        "reset_password.html",
        include_str!("../../templates/mail/reset_password.html.hbs"),
    ),
    (
        "password_changed.subject",
        include_str!("../../templates/mail/password_changed.subject.hbs"),
    ),
    (
        "password_changed.txt",
        include_str!("../../templates/mail/password_changed.txt.hbs"),
    ),
    (
        "password_changed.html",
        include_str!("../../templates/mail/password_changed.html.hbs"),
    ),
    (
        "email_change_requested.subject",
        include_str!("../../templates/mail/email_change_requested.subject.hbs"),
    ),
    (
        "email_change_requested.txt",
        include_str!("../../templates/mail/email_change_requested.txt.hbs"),
    ),
    (
        "email_change_requested.html",
        include_str!("../../templates/mail/email_change_requested.html.hbs"),
    ),
];

/// Why the mail templates could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum MailTemplateError {
    #[error("mail template {name}: {source}")]
    Parse {
        name: String,
        source: Box<handlebars::TemplateError>,
    },
    #[error("reading mail template {path}: {source}")]
    Io { path: String, source: std::io::Error },
}

/// A message as it goes into the outbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// The mail renderer: one registry for text (no escaping), one for HTML.
pub struct MailTemplates {
    text: Handlebars<'static>,
    html: Handlebars<'static>,
}

impl MailTemplates {
    /// Built-in templates, each replaced by `<dir>/mail/<name>.hbs` where that file exists.
    pub fn load(dir: Option<&Path>) -> Result<Self, MailTemplateError> {
        let mut text = Handlebars::new();
        text.register_escape_fn(handlebars::no_escape);
        let mut html = Handlebars::new();
        for hb in [&mut text, &mut html] {
            hb.set_strict_mode(cfg!(debug_assertions));
            hb.register_helper("t", Box::new(crate::i18n::Translate));
        }
        for (name, built_in) in BUILT_IN {
            let path = dir
                .map(|d| d.join("mail").join(format!("{name}.hbs")))
                .filter(|p| p.exists());
            let source = match path {
                Some(p) => std::fs::read_to_string(&p).map_err(|source| MailTemplateError::Io {
                    path: p.display().to_string(),
                    source,
                })?,
                None => (*built_in).to_owned(),
            };
            let registry = if name.ends_with(".html") { &mut html } else { &mut text };
            // Registered as `verify_email_txt` &c.: a dot would read as a path in a partial's name.
            registry
                .register_template_string(&name.replace('.', "_"), source)
                .map_err(|e| MailTemplateError::Parse {
                    name: (*name).into(),
                    source: Box::new(e),
                })?;
        }
        Ok(Self { text, html })
    }

    /// The subject (first line only: a header cannot hold more), text and HTML of `mail`.
    pub fn render<M: Mail>(&self, mail: &M) -> Result<Rendered, MailError> {
        let fail = |e: handlebars::RenderError| MailError::Render {
            template: M::TEMPLATE,
            reason: e.to_string(),
        };
        let name = M::TEMPLATE;
        let mut data =
            serde_json::to_value(mail).map_err(|e| fail(handlebars::RenderErrorReason::SerdeError(e).into()))?;
        // The mail is in the language of the request that sends it.
        if let Some(fields) = data.as_object_mut() {
            fields.insert("lang".into(), crate::i18n::current().tag().into());
        }
        let mail = &data;
        let subject = self.text.render(&format!("{name}_subject"), mail).map_err(fail)?;
        Ok(Rendered {
            subject: subject
                .lines()
                .map(str::trim)
                .find(|l| !l.is_empty())
                .unwrap_or_default()
                .to_owned(),
            text: self.text.render(&format!("{name}_txt"), mail).map_err(fail)?,
            html: self.html.render(&format!("{name}_html"), mail).map_err(fail)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::messages::*;
    use super::*;

    fn sample_reset() -> ResetPassword {
        ResetPassword {
            site: "sso.example.com".into(),
            username: "<alice>".into(),
            link: "https://sso.example.com/login/reset?token=abc&x=1".into(),
            valid_for: "15 minutes".into(),
        }
    }

    #[test]
    fn every_mail_renders_strictly_in_text_and_html() {
        let t = MailTemplates::load(None).unwrap();
        let reset = t.render(&sample_reset()).unwrap();
        assert_eq!(reset.subject, "Reset your password for sso.example.com");
        assert!(
            reset.text.contains("https://sso.example.com/login/reset?token=abc&x=1"),
            "{}",
            reset.text
        );
        assert!(reset.text.contains("<alice>"), "text is not escaped");
        // Handlebars escapes `=` too (`&#x3D;`), which HTML reads back as `=`.
        assert!(reset.html.contains("token&#x3D;abc&amp;x&#x3D;1"), "{}", reset.html);
        assert!(reset.html.contains("&lt;alice&gt;"), "HTML is escaped");
        let verify = t
            .render(&VerifyEmail {
                site: "sso.example.com".into(),
                username: "alice".into(),
                email: "alice@example.com".into(),
                link: "https://sso.example.com/email/verify?token=abc".into(),
                valid_for: "24 hours".into(),
            })
            .unwrap();
        assert!(verify.subject.contains("Confirm"), "{}", verify.subject);
        assert!(verify.text.contains("alice@example.com") && verify.html.contains("verify?token&#x3D;abc"));
        let changed = t
            .render(&PasswordChanged {
                site: "sso.example.com".into(),
                username: "alice".into(),
                reset_link: "https://sso.example.com/login/forgot".into(),
            })
            .unwrap();
        assert!(changed.subject.contains("password was changed"), "{}", changed.subject);
        assert!(changed.text.contains("/login/forgot") && changed.html.contains("/login/forgot"));
        let notice = t
            .render(&EmailChangeRequested {
                site: "sso.example.com".into(),
                username: "alice".into(),
                new_email_hint: "n…@example.org".into(),
                reset_link: "https://sso.example.com/login/forgot".into(),
                account_link: "https://sso.example.com/account".into(),
            })
            .unwrap();
        assert!(notice.subject.contains("email address"), "{}", notice.subject);
        for body in [&notice.text, &notice.html] {
            assert!(
                body.contains("n…@example.org") && body.contains("/login/forgot"),
                "{body}"
            );
            assert!(!body.contains("token"), "nothing that confirms: {body}");
        }
    }

    #[test]
    fn a_templates_dir_overrides_one_mail_template_and_keeps_the_others() {
        let dir = tempfile_dir();
        std::fs::create_dir_all(dir.join("mail")).unwrap();
        std::fs::write(
            dir.join("mail/reset_password.subject.hbs"),
            "Acme: new password for {{username}}\nignored second line",
        )
        .unwrap();
        let t = MailTemplates::load(Some(&dir)).unwrap();
        let reset = t.render(&sample_reset()).unwrap();
        assert_eq!(reset.subject, "Acme: new password for <alice>");
        assert!(reset.text.contains("token=abc"), "the body stays built in");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    fn tempfile_dir() -> std::path::PathBuf {
        std::env::temp_dir().join(format!("gatehouse-mail-templates-{}", random_suffix()))
    }

    fn random_suffix() -> String {
        crate::store::random_token()[..12].to_string()
    }
}
