//! Binding an upstream login to the browser that started it: a random secret lives in that
//! browser's server-side session, and the login's server-side state remembers only its hash.
//! An answer that arrives elsewhere is refused (login CSRF, RFC 9700 §4.7).
use crate::store::{hash_secret, random_token};

/// A browser's secret (kept in its session, never sent to a provider).
#[derive(Debug, Clone)]
pub struct BrowserSecret(String);

impl BrowserSecret {
    /// A new random secret.
    #[allow(clippy::new_without_default)]
    pub fn new() -> Self {
        Self(random_token())
    }

    /// The secret as stored in the session.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// What the login's server-side state remembers.
    pub fn hash(&self) -> String {
        hash_secret(&self.0)
    }
}

impl From<String> for BrowserSecret {
    fn from(s: String) -> Self {
        Self(s)
    }
}

pub use crate::upstream::same_browser;
