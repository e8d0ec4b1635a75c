//! The operator's theme (`[ui] theme_dir`): `theme.css` and the files it uses, which
//! `web::theme` serves under `/static/theme/…` from this origin, so the CSP's
//! `style-src 'self'` admits it and no inline style or other origin is needed to change the look.
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

/// The stylesheet every page links after the built-in one.
const STYLESHEET: &str = "theme.css";

/// Deepest folder nesting served (`img/logos/dark/x.svg`): enough for a theme, bounded.
const MAX_DEPTH: usize = 4;

/// Why the theme folder cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ThemeError {
    #[error("[ui] theme_dir {path}: {source}")]
    Folder { path: String, source: std::io::Error },
    #[error("[ui] theme_dir {path} has no theme.css")]
    NoStylesheet { path: String },
}

/// A theme folder, checked at start-up.
#[derive(Debug)]
pub struct Theme {
    /// The folder, canonical: every served file must resolve inside it.
    dir: PathBuf,
    /// A digest of `theme.css` at start-up, in its URL: a changed theme is fetched anew
    /// after a restart although browsers may keep the file for an hour.
    version: String,
}

impl Theme {
    /// Opens `dir`, which must hold a `theme.css`.
    pub fn load(dir: &Path) -> Result<Self, ThemeError> {
        let shown = dir.display().to_string();
        let dir = dir.canonicalize().map_err(|source| ThemeError::Folder {
            path: shown.clone(),
            source,
        })?;
        let css = std::fs::read(dir.join(STYLESHEET)).map_err(|_| ThemeError::NoStylesheet { path: shown })?;
        let digest = Sha256::digest(&css);
        let version = digest.iter().take(8).map(|b| format!("{b:02x}")).collect();
        Ok(Self { dir, version })
    }

    /// The stylesheet's path below the issuer's base (`/static/theme/theme.css?v=…`).
    pub fn stylesheet_path(&self) -> String {
        format!("/static/theme/{STYLESHEET}?v={}", self.version)
    }

    /// The file at `path` (relative, `/`-separated) and its content type; `None` for a name
    /// that is not a plain file of the theme with a known type, whatever the reason.
    pub async fn file(&self, path: &str) -> Option<(&'static str, Vec<u8>)> {
        let relative = plain_relative_path(path)?;
        let content_type = content_type(&relative)?;
        // A symbolic link may point out of the folder: the resolved path must stay inside.
        let resolved = tokio::fs::canonicalize(self.dir.join(&relative)).await.ok()?;
        if !resolved.starts_with(&self.dir) {
            return None;
        }
        if !tokio::fs::metadata(&resolved).await.ok()?.is_file() {
            return None;
        }
        let bytes = tokio::fs::read(&resolved).await.ok()?;
        Some((content_type, bytes))
    }
}

/// `path` as segments of letters, digits, `-`, `_` and `.`, none empty or starting with a dot
/// (so no `..`, no hidden file, no absolute path, no backslash, no encoded separator).
fn plain_relative_path(path: &str) -> Option<PathBuf> {
    let segments: Vec<&str> = path.split('/').collect();
    if segments.is_empty() || segments.len() > MAX_DEPTH {
        return None;
    }
    let plain = |s: &&str| {
        !s.is_empty()
            && !s.starts_with('.')
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    };
    segments.iter().all(plain).then(|| segments.iter().collect())
}

/// The content types a theme may serve, by extension; anything else (HTML, scripts) is not
/// served, so a theme folder cannot put active content on this origin.
fn content_type(path: &Path) -> Option<&'static str> {
    let ext = path.extension()?.to_str()?.to_ascii_lowercase();
    Some(match ext.as_str() {
        "css" => "text/css; charset=utf-8",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "avif" => "image/avif",
        "svg" => "image/svg+xml",
        "ico" => "image/x-icon",
        "woff2" => "font/woff2",
        "woff" => "font/woff",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_relative_paths_are_accepted() {
        assert_eq!(plain_relative_path("theme.css"), Some(PathBuf::from("theme.css")));
        assert_eq!(plain_relative_path("img/logo.svg"), Some(PathBuf::from("img/logo.svg")));
        for bad in [
            "",
            "../secret.css",
            "img/../../x.css",
            "/etc/passwd",
            ".hidden.css",
            "img//x.css",
            "a\\..\\b.css",
            "%2e%2e/x.css",
            "a/b/c/d/e.css",
        ] {
            assert_eq!(plain_relative_path(bad), None, "{bad}");
        }
    }

    #[test]
    fn only_known_types_are_served() {
        assert_eq!(content_type(Path::new("theme.css")), Some("text/css; charset=utf-8"));
        assert_eq!(content_type(Path::new("logo.SVG")), Some("image/svg+xml"));
        assert_eq!(content_type(Path::new("page.html")), None);
        assert_eq!(content_type(Path::new("app.js")), None);
        assert_eq!(content_type(Path::new("README")), None);
    }

    #[tokio::test]
    async fn a_link_out_of_the_folder_is_not_served() {
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("secret.css"), "secret").unwrap();
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("theme.css"), "body{}").unwrap();
        std::os::unix::fs::symlink(outside.path().join("secret.css"), dir.path().join("leak.css")).unwrap();
        let theme = Theme::load(dir.path()).unwrap();
        assert_eq!(theme.file("theme.css").await.map(|(_, b)| b), Some(b"body{}".to_vec()));
        assert_eq!(theme.file("leak.css").await, None);
        assert!(theme.stylesheet_path().starts_with("/static/theme/theme.css?v="));
    }

    #[test]
    fn a_folder_without_theme_css_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        assert!(matches!(Theme::load(dir.path()), Err(ThemeError::NoStylesheet { .. })));
        assert!(matches!(
            Theme::load(&dir.path().join("missing")),
            Err(ThemeError::Folder { .. })
        ));
    }
}
