//! OAuth 2.0 / OpenID Connect error codes.

pub use crate::flow::rejection::AuthorizeErrorCode;
