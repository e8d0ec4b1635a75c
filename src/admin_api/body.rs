//! Reading requests of the admin API: a JSON body, or query parameters, whose errors name the
//! field that is wrong (never axum's plain-text rejections).
use std::collections::HashMap;
use std::str::FromStr;

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::header;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use super::problem::Problem;
use crate::state::AppState;

/// A JSON request body.
pub struct JsonBody<T>(pub T);

/// The field a serde error is about: the path where it happened, or, for a missing or unknown
/// field (reported at the object itself), the name serde quotes in backticks.
fn field_of(path: &str, message: &str) -> String {
    if path != "." && !path.is_empty() {
        return path.to_owned();
    }
    message
        .split('`')
        .nth(1)
        .map(str::to_owned)
        .unwrap_or_else(|| "body".into())
}

/// Parses `bytes` as `T`, naming the wrong field.
pub fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, Problem> {
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if inner.is_syntax() || inner.is_eof() {
            return Problem::malformed(inner.to_string());
        }
        let message = inner.to_string();
        Problem::invalid_field(&field_of(&path, &message), message)
    })
}

impl<T: DeserializeOwned> FromRequest<AppState> for JsonBody<T> {
    type Rejection = Problem;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Problem> {
        let json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|v| {
                let v = v.trim().to_ascii_lowercase();
                v == "application/json" || (v.starts_with("application/") && v.ends_with("+json"))
            });
        if !json {
            return Err(Problem::unsupported_media_type());
        }
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|e| Problem::malformed(e.body_text()))?;
        parse(&bytes).map(JsonBody)
    }
}

/// The query parameters, each once, checked by name.
pub struct QueryParams(HashMap<String, String>);

impl QueryParams {
    /// Refuses a parameter not among `known`.
    pub fn only(&self, known: &[&str]) -> Result<(), Problem> {
        match self.0.keys().find(|k| !known.contains(&k.as_str())) {
            Some(k) => Err(Problem::invalid_field(
                k,
                format!("unknown parameter; known ones: {}", known.join(", ")),
            )),
            None => Ok(()),
        }
    }

    /// A text parameter (an empty one counts as absent).
    pub fn text(&self, name: &str) -> Option<String> {
        self.0.get(name).filter(|v| !v.is_empty()).cloned()
    }

    /// A parameter parsed as `T`, its error naming it.
    pub fn parsed<T: FromStr>(&self, name: &str, what: &str) -> Result<Option<T>, Problem> {
        self.text(name)
            .map(|v| {
                v.parse()
                    .map_err(|_| Problem::invalid_field(name, format!("must be {what}")))
            })
            .transpose()
    }
}

impl<S: Send + Sync> FromRequestParts<S> for QueryParams {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Problem> {
        let mut map = HashMap::new();
        for (k, v) in url::form_urlencoded::parse(parts.uri.query().unwrap_or_default().as_bytes()) {
            if map.insert(k.to_string(), v.into_owned()).is_some() {
                return Err(Problem::invalid_field(&k, "given more than once"));
            }
        }
        Ok(Self(map))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, Debug)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Sample {
        name: String,
        uris: Option<Vec<String>>,
        on: Option<bool>,
    }

    fn field(body: &str) -> Option<String> {
        parse::<Sample>(body.as_bytes()).unwrap_err().field().map(str::to_owned)
    }

    #[test]
    fn errors_name_the_field_that_is_wrong() {
        assert_eq!(field(r#"{"name": "a", "on": "yes"}"#).as_deref(), Some("on"));
        assert_eq!(field(r#"{"name": "a", "uris": ["x", 3]}"#).as_deref(), Some("uris[1]"));
        assert_eq!(field(r#"{"uris": []}"#).as_deref(), Some("name"), "missing");
        assert_eq!(field(r#"{"name": "a", "nmae": 1}"#).as_deref(), Some("nmae"), "unknown");
        let broken = parse::<Sample>(br#"{"name": "#).unwrap_err();
        assert_eq!(
            (broken.field(), broken.status().as_u16()),
            (None, 400),
            "not JSON at all"
        );
    }
}
