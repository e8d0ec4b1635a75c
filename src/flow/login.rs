//! What a sign-in is: how a person just proved who they are, and the session that remembers it.
use serde::{Deserialize, Serialize};

/// How a person just proved who they are: what every login method (password, upstream IdP) ends in.
#[derive(Debug, Clone)]
pub struct Authenticated {
    pub user_id: String,
    /// Authentication method references (RFC 8176), e.g. `pwd`, `fed`.
    pub amr: Vec<String>,
    /// The upstream provider, for brokered logins.
    pub idp: Option<String>,
    /// The upstream's handle for ending its session (see `Upstream::logout_url`).
    pub upstream_session: Option<String>,
    /// The pending interaction the person signed in for, if any.
    pub interaction: Option<String>,
}

/// A signed-in session as stored server-side.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LoginSession {
    pub user_id: String,
    /// Session id as it appears in ID tokens (`sid`).
    pub sid: String,
    pub auth_time: i64,
    pub amr: Vec<String>,
    pub idp: Option<String>,
    #[serde(default)]
    pub upstream_session: Option<String>,
    /// The interaction this sign-in was made for: it counts as fresh for that request only.
    #[serde(default)]
    pub interaction: Option<String>,
}
