//! Translations: every text a person reads comes from `locales/<language>/*.ftl` (Fluent),
//! compiled into the binary, in the language chosen for the request: the client's
//! `ui_locales` (OIDC Core §3.1.2.1, kept with the interaction), else the browser's
//! `Accept-Language`, else English.
//!
//! The language of the request being served is a task-local set by [`scope`] (the
//! `web::locale` middleware), so code far from the request (a `PageError` built in a core
//! module's error mapping, a template) reads it without every function passing it on.
//! Outside a request (the mail task, a unit test) it is English.
use std::borrow::Cow;
use std::cell::Cell;
use std::collections::HashMap;
use std::future::Future;

use fluent_templates::fluent_bundle::FluentValue;

mod template_helper;
use fluent_templates::{static_loader, LanguageIdentifier, Loader};
pub use template_helper::Translate;

static_loader! {
    static LOCALES = {
        locales: "./locales",
        fallback_language: "en",
        // No Unicode isolation marks around arguments: they would end up inside attributes,
        // mail subjects and the tests' expectations.
        customise: |bundle| bundle.set_use_isolating(false),
    };
}

/// A language every text exists in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Lang {
    En,
    De,
}

impl Lang {
    /// Every supported language, the default first.
    pub const ALL: [Lang; 2] = [Lang::En, Lang::De];

    /// The BCP 47 tag (`<html lang>`, discovery's `ui_locales_supported`).
    pub fn tag(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::De => "de",
        }
    }

    fn id(self) -> LanguageIdentifier {
        self.tag().parse().expect("a static language tag")
    }

    /// The language a tag names, if supported (`de-AT` → German).
    pub fn from_tag(tag: &str) -> Option<Lang> {
        Self::best(&[tag.parse().ok()?])
    }

    /// The first language of `requested` (in order of preference) that is supported, matching
    /// a region or script variant to its language (`de-CH` → `de`).
    fn best(requested: &[LanguageIdentifier]) -> Option<Lang> {
        let available: Vec<LanguageIdentifier> = Self::ALL.iter().map(|l| l.id()).collect();
        let chosen = fluent_langneg::negotiate_languages(
            requested,
            &available,
            None,
            fluent_langneg::NegotiationStrategy::Lookup,
        );
        let first = chosen.first()?;
        Self::ALL.into_iter().find(|l| l.id() == **first)
    }

    /// The language for `ui_locales` (space-separated tags, most preferred first), if any of
    /// them is supported.
    pub fn from_ui_locales(ui_locales: &str) -> Option<Lang> {
        let requested: Vec<LanguageIdentifier> = ui_locales
            .split_ascii_whitespace()
            .filter_map(|t| t.parse().ok())
            .collect();
        Self::best(&requested)
    }

    /// The language for an `Accept-Language` header (q-values honoured), if any is supported.
    pub fn from_accept_language(header: &str) -> Option<Lang> {
        Self::best(&fluent_langneg::accepted_languages::parse(header))
    }

    /// `ui_locales` first, then `Accept-Language`, then English.
    pub fn negotiate(ui_locales: Option<&str>, accept_language: Option<&str>) -> Lang {
        ui_locales
            .and_then(Self::from_ui_locales)
            .or_else(|| accept_language.and_then(Self::from_accept_language))
            .unwrap_or(Lang::En)
    }

    /// The message `key` in this language, arguments filled in (falls back to English).
    pub fn text_with(self, key: &str, args: &[(&str, FluentValue<'static>)]) -> String {
        let args: HashMap<Cow<'static, str>, FluentValue<'static>> = args
            .iter()
            .map(|(k, v)| (Cow::Owned((*k).to_owned()), v.clone()))
            .collect();
        LOCALES.lookup_complete(&self.id(), key, (!args.is_empty()).then_some(&args))
    }
}

tokio::task_local! {
    /// The language of the request this task serves.
    static CURRENT: Cell<Lang>;
}

/// Runs `f` (a request) in `lang`; [`prefer`] may change it on the way.
pub async fn scope<F: Future>(lang: Lang, f: F) -> F::Output {
    CURRENT.scope(Cell::new(lang), f).await
}

/// The language of the request being served (English outside one).
pub fn current() -> Lang {
    CURRENT.try_with(Cell::get).unwrap_or(Lang::En)
}

/// Switches the rest of this request to `lang` (an interaction's `ui_locales`).
pub fn prefer(lang: Lang) {
    let _ = CURRENT.try_with(|c| c.set(lang));
}

/// The message `key` in the request's language.
pub fn text(key: &str) -> String {
    current().text_with(key, &[])
}

/// The message `key` in the request's language, with arguments (`{ $name }`).
pub fn text_with(key: &str, args: &[(&str, FluentValue<'static>)]) -> String {
    current().text_with(key, args)
}

/// A string argument for [`text_with`].
pub fn arg(value: impl Into<String>) -> FluentValue<'static> {
    FluentValue::String(Cow::Owned(value.into()))
}

/// A number argument for [`text_with`] (plural forms select on it).
pub fn number(value: i64) -> FluentValue<'static> {
    FluentValue::from(value)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;
    use std::path::Path;

    use super::*;

    impl Lang {
        /// The message ids of this language's own files.
        fn own_keys(self) -> BTreeSet<String> {
            sources(self).iter().flat_map(|text| message_ids(text)).collect()
        }
    }

    /// The `.ftl` sources of a language (for the completeness test).
    fn sources(lang: Lang) -> Vec<&'static str> {
        match lang {
            Lang::En => vec![
                include_str!("../../locales/en/pages.ftl"),
                include_str!("../../locales/en/messages.ftl"),
                include_str!("../../locales/en/mail.ftl"),
            ],
            Lang::De => vec![
                include_str!("../../locales/de/pages.ftl"),
                include_str!("../../locales/de/messages.ftl"),
                include_str!("../../locales/de/mail.ftl"),
            ],
        }
    }

    /// The message ids defined in a Fluent source (lines starting with an identifier and `=`).
    fn message_ids(text: &str) -> impl Iterator<Item = String> + '_ {
        text.lines().filter_map(|line| {
            let (id, _) = line.split_once('=')?;
            let id = id.trim_end();
            let plain = !id.is_empty()
                && id.chars().next().is_some_and(|c| c.is_ascii_lowercase())
                && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
            plain.then(|| id.to_owned())
        })
    }

    #[test]
    fn ui_locales_come_first_then_accept_language_then_english() {
        assert_eq!(Lang::negotiate(Some("fr de-CH"), Some("en")), Lang::De);
        assert_eq!(Lang::negotiate(Some("fr"), Some("fr, de;q=0.5, en;q=0.4")), Lang::De);
        assert_eq!(Lang::negotiate(None, Some("en-GB, de;q=0.9")), Lang::En);
        assert_eq!(Lang::negotiate(None, Some("de-AT,de;q=0.9,en;q=0.8")), Lang::De);
        assert_eq!(Lang::negotiate(None, Some("fr-FR, ja")), Lang::En);
        assert_eq!(Lang::negotiate(Some("not a tag!"), Some("*")), Lang::En);
        assert_eq!(Lang::negotiate(None, None), Lang::En);
        assert_eq!(Lang::from_tag("de-DE"), Some(Lang::De));
        assert_eq!(Lang::from_tag("xx"), None);
    }

    #[test]
    fn the_language_is_the_requests_and_english_outside_one() {
        assert_eq!(current(), Lang::En);
        let inside = futures_lite_block_on(scope(Lang::De, async {
            let before = text("layout-brand");
            prefer(Lang::En);
            (before, current())
        }));
        assert_eq!(inside, ("Gatehouse".to_owned(), Lang::En));
    }

    /// Runs a future to completion on a fresh current-thread runtime.
    fn futures_lite_block_on<F: Future>(f: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(f)
    }

    #[test]
    fn arguments_are_filled_in_without_isolation_marks() {
        let s = Lang::De.text_with("login-lead", &[("client", arg("App"))]);
        assert!(s.contains("App") && !s.contains('\u{2068}'), "{s}");
    }

    #[test]
    fn every_language_has_every_message_and_no_other() {
        let en = Lang::En.own_keys();
        assert!(en.len() > 50, "the English files hold the messages");
        for lang in Lang::ALL {
            let keys = lang.own_keys();
            let missing: Vec<_> = en.difference(&keys).collect();
            let extra: Vec<_> = keys.difference(&en).collect();
            assert!(missing.is_empty(), "{} lacks {missing:?}", lang.tag());
            assert!(extra.is_empty(), "{} has keys English lacks: {extra:?}", lang.tag());
            for source in sources(lang) {
                fluent_templates::fluent_bundle::FluentResource::try_new(source.to_owned())
                    .unwrap_or_else(|(_, e)| panic!("{}: {e:?}", lang.tag()));
            }
        }
    }

    /// Every key the templates (`{{t "key"}}`) and the Rust code (`i18n::text("key")`,
    /// `i18n::text_with("key", …)`) use exists in every language.
    #[test]
    fn every_key_used_exists_in_every_language() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut used = BTreeSet::new();
        let mut files = Vec::new();
        collect(&root.join("templates"), &mut files);
        collect(&root.join("src"), &mut files);
        for file in files {
            let text = std::fs::read_to_string(&file).unwrap();
            let markers: &[&str] = if file.extension().is_some_and(|e| e == "hbs") {
                &["{{t \""]
            } else {
                &["i18n::text(\"", "i18n::text_with(\""]
            };
            for marker in markers {
                for piece in text.split(marker).skip(1) {
                    if let Some(key) = piece.split('"').next() {
                        if key
                            .chars()
                            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
                            && !key.is_empty()
                        {
                            used.insert((key.to_owned(), file.display().to_string()));
                        }
                    }
                }
            }
        }
        assert!(used.len() > 50, "keys are found: {}", used.len());
        let mut missing = Vec::new();
        for (key, file) in &used {
            for lang in Lang::ALL {
                if !lang.own_keys().contains(key) {
                    missing.push(format!("{} {key} (used in {file})", lang.tag()));
                }
            }
        }
        assert!(missing.is_empty(), "missing translations:\n{}", missing.join("\n"));
    }

    fn collect(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                collect(&path, out);
            } else if path.extension().is_some_and(|e| e == "hbs" || e == "rs") && !path.ends_with("i18n/mod.rs") {
                out.push(path);
            }
        }
    }
}
