//! Why an authorization request is refused, in the protocol's terms.
use serde::Serialize;

/// Error codes of the authorization endpoint (RFC 6749 §4.1.2.1, OIDC Core §3.1.2.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AuthorizeErrorCode {
    InvalidRequest,
    UnauthorizedClient,
    AccessDenied,
    UnsupportedResponseType,
    InvalidScope,
    ServerError,
    LoginRequired,
    ConsentRequired,
    /// A page would be needed (a second factor) but `prompt=none` forbids one.
    InteractionRequired,
    RequestNotSupported,
    RequestUriNotSupported,
}

impl AuthorizeErrorCode {
    /// The wire value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InvalidRequest => "invalid_request",
            Self::UnauthorizedClient => "unauthorized_client",
            Self::AccessDenied => "access_denied",
            Self::UnsupportedResponseType => "unsupported_response_type",
            Self::InvalidScope => "invalid_scope",
            Self::ServerError => "server_error",
            Self::LoginRequired => "login_required",
            Self::ConsentRequired => "consent_required",
            Self::InteractionRequired => "interaction_required",
            Self::RequestNotSupported => "request_not_supported",
            Self::RequestUriNotSupported => "request_uri_not_supported",
        }
    }
}

/// A refusal answered to the client at its (already checked) redirect URI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    pub code: AuthorizeErrorCode,
    pub description: String,
}

impl Rejection {
    /// A refusal with this code and description.
    pub fn new(code: AuthorizeErrorCode, description: impl Into<String>) -> Self {
        Self {
            code,
            description: description.into(),
        }
    }

    /// `invalid_request` with a description.
    pub fn invalid(description: impl Into<String>) -> Self {
        Self::new(AuthorizeErrorCode::InvalidRequest, description)
    }

    /// The client's redirect URI with this error, the client's `state` and our `iss` (RFC 9207).
    pub fn redirect_url(&self, redirect_uri: &str, state: Option<&str>, issuer: &str) -> String {
        let mut params = vec![
            ("error", self.code.as_str()),
            ("error_description", self.description.as_str()),
        ];
        if let Some(s) = state {
            params.push(("state", s));
        }
        params.push(("iss", issuer));
        crate::urls::with_query(redirect_uri, &params)
    }
}
