//! `[ui]`: how the pages look to people (the operator's theme).
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// `[ui]`: the pages' look, beyond the markup `templates_dir` changes.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct UiConfig {
    /// A folder with `theme.css` (loaded after the built-in stylesheet) and the images and
    /// fonts it uses, served under `/static/theme/` from this origin (so the CSP admits it).
    pub theme_dir: Option<PathBuf>,
}
