//! Claim mapping: JSON pointers into the upstream claims → the fields of an `ExternalIdentity`.
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{ExternalIdentity, UpstreamError};

/// Where each attribute is found in the upstream claims (RFC 6901 JSON pointers; "" = the
/// provider does not supply it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ClaimMapping {
    pub subject: String,
    pub email: String,
    pub email_verified: String,
    pub name: String,
    pub username: String,
    pub picture: String,
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
            picture: "/picture".into(),
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

/// The value at `pointer`; an empty pointer maps nothing (not the whole document).
fn at<'a>(claims: &'a Value, pointer: &str) -> Option<&'a Value> {
    if pointer.is_empty() {
        None
    } else {
        claims.pointer(pointer)
    }
}

impl ClaimMapping {
    /// Every field with its pointer, by field name.
    pub fn fields(&self) -> [(&'static str, &str); 7] {
        [
            ("subject", &self.subject),
            ("email", &self.email),
            ("email_verified", &self.email_verified),
            ("name", &self.name),
            ("username", &self.username),
            ("picture", &self.picture),
            ("groups", &self.groups),
        ]
    }

    /// Checks every pointer is "" or starts with `/`; `Err` names the first bad field.
    pub fn validate(&self) -> Result<(), &'static str> {
        if self.subject.is_empty() {
            return Err("subject");
        }
        match self
            .fields()
            .into_iter()
            .find(|(_, p)| !p.is_empty() && !p.starts_with('/'))
        {
            Some((field, _)) => Err(field),
            None => Ok(()),
        }
    }

    /// Applies the mapping. Some IdPs send `email_verified` as the string "true".
    pub fn apply(&self, provider: &str, claims: Value) -> Result<ExternalIdentity, UpstreamError> {
        let subject = text(at(&claims, &self.subject)).ok_or(UpstreamError::MissingClaim("subject"))?;
        let email_verified = match at(&claims, &self.email_verified) {
            Some(Value::Bool(b)) => *b,
            Some(Value::String(s)) => s.eq_ignore_ascii_case("true"),
            _ => false,
        };
        let groups = match at(&claims, &self.groups) {
            Some(Value::Array(a)) => a.iter().filter_map(|v| text(Some(v))).collect(),
            Some(v @ Value::String(_)) => text(Some(v)).into_iter().collect(),
            _ => vec![],
        };
        Ok(ExternalIdentity {
            provider: provider.to_owned(),
            subject,
            email: text(at(&claims, &self.email)).map(|e| e.to_lowercase()),
            email_verified,
            name: text(at(&claims, &self.name)),
            username: text(at(&claims, &self.username)),
            picture: text(at(&claims, &self.picture)),
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

    #[test]
    fn an_empty_pointer_maps_nothing() {
        let m = ClaimMapping {
            name: String::new(),
            ..Default::default()
        };
        let id = m.apply("p", json!({"sub": "1", "name": "Ann"})).unwrap();
        assert_eq!(id.name, None);
        assert_eq!(m.validate(), Ok(()));
        let bad = ClaimMapping {
            email: "email".into(),
            ..Default::default()
        };
        assert_eq!(bad.validate(), Err("email"));
    }
}
