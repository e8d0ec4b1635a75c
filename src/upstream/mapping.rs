//! Claim mapping: JSON pointers into the upstream claims → the fields of an `ExternalIdentity`.
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{ExternalIdentity, UpstreamError};

/// Where each attribute is found in the upstream claims (RFC 6901 JSON pointers).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ClaimMapping {
    pub subject: String,
    pub email: String,
    pub email_verified: String,
    pub name: String,
    pub username: String,
    pub groups: String,
}

impl Default for ClaimMapping {
    fn default() -> Self {
        Self {
            subject: "/sub".into(),
            email: "/email".into(),
            email_verified: "/email_verified".into(),
            name: "/name".into(),
            username: "/preferred_username".into(),
            groups: "/groups".into(),
        }
    }
}

fn text(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

impl ClaimMapping {
    /// Applies the mapping. Some IdPs send `email_verified` as the string "true".
    pub fn apply(&self, provider: &str, claims: Value) -> Result<ExternalIdentity, UpstreamError> {
        let subject = text(claims.pointer(&self.subject)).ok_or(UpstreamError::MissingClaim("subject"))?;
        let email_verified = match claims.pointer(&self.email_verified) {
            Some(Value::Bool(b)) => *b,
            Some(Value::String(s)) => s.eq_ignore_ascii_case("true"),
            _ => false,
        };
        let groups = match claims.pointer(&self.groups) {
            Some(Value::Array(a)) => a.iter().filter_map(|v| text(Some(v))).collect(),
            Some(v @ Value::String(_)) => text(Some(v)).into_iter().collect(),
            _ => vec![],
        };
        Ok(ExternalIdentity {
            provider: provider.to_owned(),
            subject,
            email: text(claims.pointer(&self.email)).map(|e| e.to_lowercase()),
            email_verified,
            name: text(claims.pointer(&self.name)),
            username: text(claims.pointer(&self.username)),
            groups,
            raw_claims: claims,
            upstream_session: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn default_mapping_reads_standard_claims() {
        let id = ClaimMapping::default()
            .apply(
                "p",
                json!({"sub": "42", "email": "Ann@Contoso.com", "email_verified": "true", "groups": ["a", "b"]}),
            )
            .unwrap();
        assert_eq!(id.subject, "42");
        assert_eq!(id.email.as_deref(), Some("ann@contoso.com"));
        assert!(id.email_verified);
        assert_eq!(id.groups, vec!["a", "b"]);
    }

    #[test]
    fn custom_pointers_and_numeric_subjects() {
        let m = ClaimMapping {
            subject: "/id".into(),
            username: "/login".into(),
            ..Default::default()
        };
        let id = m.apply("gh", json!({"id": 1234, "login": "octo"})).unwrap();
        assert_eq!(id.subject, "1234");
        assert_eq!(id.username.as_deref(), Some("octo"));
        assert!(!id.email_verified);
        assert!(m.apply("gh", json!({"login": "x"})).is_err());
    }
}
