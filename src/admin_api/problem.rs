//! Errors of the admin API as RFC 9457 problem details (`application/problem+json`), with the
//! RFC 6750 `WWW-Authenticate` challenge on 401 and 403.
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::admin::AdminError;

/// The realm named in every challenge.
const REALM: &str = "gatehouse-admin";

/// A problem to answer with.
#[derive(Debug, Clone)]
pub struct Problem {
    status: StatusCode,
    /// `None` = `about:blank` (the status says it all); else the last part of our type URI.
    kind: Option<&'static str>,
    title: &'static str,
    detail: String,
    field: Option<String>,
    challenge: Option<String>,
}

/// The body (RFC 9457 §3), with the bad field as an extension member.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ProblemBody {
    /// `about:blank`, or `urn:gatehouse:problem:<kind>`.
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// The request field that is wrong, as its JSON name (`redirect_uris`, `limit`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// The same as a list of JSON Pointers into the request body or query (RFC 9457 §3, example).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

/// One wrong field.
#[derive(Serialize, utoipa::ToSchema)]
pub struct FieldError {
    /// A JSON Pointer (RFC 6901) to the field.
    pub pointer: String,
    pub detail: String,
}

impl Problem {
    fn new(status: StatusCode, kind: Option<&'static str>, title: &'static str, detail: impl Into<String>) -> Self {
        Self {
            status,
            kind,
            title,
            detail: detail.into(),
            field: None,
            challenge: None,
        }
    }

    /// The request field the problem is about.
    pub fn field(&self) -> Option<&str> {
        self.field.as_deref()
    }

    /// The status it answers with.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// 401 without a challenge error: no bearer token was sent (RFC 6750 §3.1).
    pub fn no_token() -> Self {
        let mut p = Self::new(
            StatusCode::UNAUTHORIZED,
            None,
            "Unauthorized",
            "send an access token from the client_credentials grant as Authorization: Bearer",
        );
        p.challenge = Some(format!("Bearer realm=\"{REALM}\""));
        p
    }

    /// 401 `invalid_token`: expired, revoked, forged, or not a machine client's token.
    pub fn invalid_token(why: &str) -> Self {
        let mut p = Self::new(StatusCode::UNAUTHORIZED, None, "Unauthorized", why);
        p.challenge = Some(format!(
            "Bearer realm=\"{REALM}\", error=\"invalid_token\", error_description=\"{}\"",
            quotable(why)
        ));
        p
    }

    /// 403 `insufficient_scope`, naming the scope needed.
    pub fn insufficient_scope(scope: &str) -> Self {
        let mut p = Self::new(
            StatusCode::FORBIDDEN,
            None,
            "Forbidden",
            format!("this needs the {scope} scope"),
        );
        p.challenge = Some(format!(
            "Bearer realm=\"{REALM}\", error=\"insufficient_scope\", scope=\"{scope}\""
        ));
        p
    }

    /// 422: a field of the request is wrong.
    pub fn invalid_field(field: &str, detail: impl Into<String>) -> Self {
        let mut p = Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("invalid-field"),
            "A field of the request is invalid",
            detail,
        );
        p.field = Some(field.to_owned());
        p
    }

    /// 400: the body is not JSON at all.
    pub fn malformed(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            Some("malformed-body"),
            "The request body is not valid JSON",
            detail,
        )
    }

    /// 415: the body is not sent as JSON.
    pub fn unsupported_media_type() -> Self {
        Self::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            None,
            "Unsupported Media Type",
            "send the body as application/json",
        )
    }

    /// 404 for a path the API does not have.
    pub fn no_such_endpoint() -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            None,
            "Not Found",
            "the admin API has no such endpoint",
        )
    }
}

/// A header parameter value with `"` and `\` taken out, and only visible ASCII (RFC 6750 §3).
fn quotable(s: &str) -> String {
    s.chars()
        .filter(|c| (' '..='~').contains(c) && *c != '"' && *c != '\\')
        .collect()
}

impl From<AdminError> for Problem {
    fn from(e: AdminError) -> Self {
        match e {
            AdminError::NotFound { .. } => Problem::new(StatusCode::NOT_FOUND, None, "Not Found", e.to_string()),
            AdminError::Invalid { field, problem } => Problem::invalid_field(&field, problem),
            AdminError::Conflict { field, problem } => {
                let mut p = Problem::new(
                    StatusCode::CONFLICT,
                    Some("conflict"),
                    "A field names something that exists already",
                    problem,
                );
                p.field = Some(field);
                p
            }
            AdminError::Declared(_) | AdminError::DeclaredProvider(_) => Problem::new(
                StatusCode::CONFLICT,
                Some("declared-in-config"),
                "Declared in the configuration file",
                e.to_string(),
            ),
            AdminError::Unavailable(_) => Problem::new(
                StatusCode::CONFLICT,
                Some("not-configured"),
                "Not set up on this server",
                e.to_string(),
            ),
            AdminError::Mail(_)
            | AdminError::Keys(_)
            | AdminError::Hash(_)
            | AdminError::Db(_)
            | AdminError::ProviderStore(_) => {
                tracing::error!(error = %e, "admin API fault");
                Problem::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    None,
                    "Internal Server Error",
                    "the change was not made; see the server log",
                )
            }
        }
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let body = ProblemBody {
            kind: match self.kind {
                Some(k) => format!("urn:gatehouse:problem:{k}"),
                None => "about:blank".into(),
            },
            title: self.title.into(),
            status: self.status.as_u16(),
            errors: self
                .field
                .iter()
                .map(|f| FieldError {
                    pointer: format!("/{}", f.replace('~', "~0").replace('/', "~1")),
                    detail: self.detail.clone(),
                })
                .collect(),
            detail: self.detail,
            field: self.field,
        };
        let json = serde_json::to_vec(&body).unwrap_or_default();
        let mut res = (self.status, json).into_response();
        let h = res.headers_mut();
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        if let Some(c) = self.challenge.and_then(|c| HeaderValue::from_str(&c).ok()) {
            h.insert(header::WWW_AUTHENTICATE, c);
        }
        res
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_challenge_never_carries_a_quote_or_a_control_character() {
        assert_eq!(quotable("a \"b\"\n\\c"), "a bc");
    }
}
