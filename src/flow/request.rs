//! The authorization request as the flow remembers it: validated, stored with the
//! interaction, and replayable.
use serde::{Deserialize, Serialize};

/// Scopes Gatehouse understands; others are ignored, as OpenID Connect Core §3.1.2.1 allows.
pub const SUPPORTED_SCOPES: &[&str] = &["openid", "profile", "email", "groups", "offline_access"];

/// What the `prompt` parameter asks for (OIDC Core §3.1.2.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum Prompt {
    /// No prompt: show pages only when needed.
    #[default]
    Auto,
    /// `prompt=none`: never show a page; fail with `login_required` / `consent_required`.
    None,
    /// `prompt=login` and/or `prompt=consent`: show that page even when not needed.
    Force { login: bool, consent: bool },
}

impl Prompt {
    /// Parses the space-separated `prompt` value.
    pub fn parse(v: Option<&str>) -> Result<Self, &'static str> {
        let Some(v) = v else { return Ok(Prompt::Auto) };
        let values: Vec<&str> = v.split(' ').filter(|s| !s.is_empty()).collect();
        if values.contains(&"none") {
            return if values.len() == 1 {
                Ok(Prompt::None)
            } else {
                Err("prompt=none cannot be combined with other values")
            };
        }
        // select_account and unknown values are ignored: there is one account per session.
        let login = values.contains(&"login");
        let consent = values.contains(&"consent");
        Ok(if login || consent {
            Prompt::Force { login, consent }
        } else {
            Prompt::Auto
        })
    }

    /// Whether the login page must be shown even with a session.
    pub fn forces_login(self) -> bool {
        matches!(self, Prompt::Force { login: true, .. })
    }

    /// Whether the consent page must be shown even with a grant.
    pub fn forces_consent(self) -> bool {
        matches!(self, Prompt::Force { consent: true, .. })
    }

    /// The parameter value that asks for this again.
    pub fn as_param(self) -> Option<String> {
        match self {
            Prompt::Auto => None,
            Prompt::None => Some("none".into()),
            Prompt::Force { login, consent } => Some(
                [login.then_some("login"), consent.then_some("consent")]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join(" "),
            ),
        }
    }
}

/// A validated authorization request (response_type=code), safe to store and resume.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AuthorizeRequest {
    pub client_id: String,
    pub redirect_uri: String,
    /// Requested scopes Gatehouse supports, in request order.
    pub scopes: Vec<String>,
    pub state: Option<String>,
    pub nonce: Option<String>,
    /// S256 code challenge.
    pub code_challenge: Option<String>,
    pub prompt: Prompt,
    pub max_age: Option<u64>,
    pub login_hint: Option<String>,
    /// `idp_hint` (or Keycloak's `kc_idp_hint`): go straight to this upstream provider.
    #[serde(default)]
    pub idp_hint: Option<String>,
    /// `acr_values`, in order of preference (see `flow::acr`).
    #[serde(default)]
    pub acr_values: Vec<String>,
    /// `ui_locales` as sent (OIDC Core §3.1.2.1): the pages of this sign-in use the first
    /// supported one.
    #[serde(default)]
    pub ui_locales: Option<String>,
}

impl AuthorizeRequest {
    /// An authorize URL that replays this request (offered when an interaction is gone).
    pub fn restart_url(&self, base: &str) -> String {
        let mut p: Vec<(&str, String)> = vec![
            ("response_type", "code".into()),
            ("client_id", self.client_id.clone()),
            ("redirect_uri", self.redirect_uri.clone()),
            ("scope", self.scopes.join(" ")),
        ];
        let optional = [
            ("state", self.state.clone()),
            ("nonce", self.nonce.clone()),
            ("code_challenge", self.code_challenge.clone()),
            (
                "code_challenge_method",
                self.code_challenge.as_ref().map(|_| "S256".into()),
            ),
            ("prompt", self.prompt.as_param()),
            ("max_age", self.max_age.map(|m| m.to_string())),
            ("login_hint", self.login_hint.clone()),
            ("idp_hint", self.idp_hint.clone()),
            ("ui_locales", self.ui_locales.clone()),
            (
                "acr_values",
                (!self.acr_values.is_empty()).then(|| self.acr_values.join(" ")),
            ),
        ];
        p.extend(optional.into_iter().filter_map(|(k, v)| v.map(|v| (k, v))));
        let qs = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(p)
            .finish();
        format!("{base}/authorize?{qs}")
    }

    /// Whether an ID token is asked for.
    pub fn is_openid(&self) -> bool {
        self.scopes.iter().any(|s| s == "openid")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_scopes_are_never_machine_scopes() {
        assert_eq!(SUPPORTED_SCOPES, crate::store::clients::USER_SCOPES);
        for s in SUPPORTED_SCOPES {
            assert!(crate::store::clients::check_machine_scope(s).is_err(), "{s}");
        }
        assert!(crate::store::clients::check_machine_scope("admin:read").is_ok());
        assert!(crate::store::clients::check_machine_scope("bad scope").is_err());
        assert!(crate::store::clients::check_machine_scope("quote\"").is_err());
    }

    #[test]
    fn prompt_values() {
        assert_eq!(Prompt::parse(None), Ok(Prompt::Auto));
        assert_eq!(Prompt::parse(Some("none")), Ok(Prompt::None));
        assert!(Prompt::parse(Some("none login")).is_err());
        assert_eq!(
            Prompt::parse(Some("login consent")),
            Ok(Prompt::Force {
                login: true,
                consent: true
            })
        );
        assert_eq!(Prompt::parse(Some("select_account")), Ok(Prompt::Auto));
        assert_eq!(
            Prompt::Force {
                login: true,
                consent: true
            }
            .as_param()
            .as_deref(),
            Some("login consent")
        );
    }
}
