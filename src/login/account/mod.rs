//! The account page: a person's sign-in sessions, each of which they can end.
//!
//! Like Keycloak's account console it is a client of Gatehouse itself ("gatehouse-account"):
//! without a session it starts an ordinary authorization request, so every login method works.
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use tower_sessions::Session;

use crate::oidc::pkce;
use crate::state::AppState;
use crate::store::{login_sessions, random_token};
use crate::web::continuation::active_login;
use crate::web::error::PageError;
use crate::web::pages::{AccountPage, Layout, SessionRow};
use crate::web::{csrf, found, see_other, with_query};

mod second_factor;
mod sessions;

pub use second_factor::{manage, totp_page, totp_submit, ManageForm, TotpForm};
pub use sessions::{end, EndForm};

/// The account page's client id.
pub use crate::config::declared::ACCOUNT_CLIENT_ID as CLIENT_ID;
const STATE_KEY: &str = "account_state";

fn when(t: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(t)
        .ok()
        .and_then(|d| d.format(&time::format_description::well_known::Rfc3339).ok())
        .unwrap_or_default()
}

/// `GET /account`.
pub async fn page(State(state): State<AppState>, session: Session) -> Result<Response, PageError> {
    let Some((login, user)) = active_login(&state, &session).await? else {
        // Not signed in: sign in through the usual authorize flow, then come back here.
        let st = random_token();
        session.insert(STATE_KEY, &st).await?;
        let url = with_query(
            &state.config.endpoint("/authorize"),
            &[
                ("response_type", "code"),
                ("client_id", CLIENT_ID),
                ("redirect_uri", &state.config.endpoint("/account/callback")),
                ("scope", "openid"),
                ("state", &st),
                ("code_challenge", &pkce::s256(&random_token())),
                ("code_challenge_method", "S256"),
            ],
        );
        return Ok(found(&url));
    };
    render(&state, &session, &login, &user, None).await
}

/// The account page for the signed-in `user`, with an `error` from a second-factor action.
pub(super) async fn render(
    state: &AppState,
    session: &Session,
    login: &crate::web::login_session::LoginSession,
    user: &crate::store::users::User,
    error: Option<&str>,
) -> Result<Response, PageError> {
    let c = &state.config.session;
    let rows =
        login_sessions::live_for_user(&state.db, &user.id, c.idle_timeout as i64, c.absolute_timeout as i64).await?;
    let sessions: Vec<_> = rows
        .iter()
        .map(|r| {
            let amr: Vec<String> = serde_json::from_str(&r.amr).unwrap_or_default();
            SessionRow {
                sid: r.sid.clone(),
                current: r.sid == login.sid,
                signed_in: when(r.created_at),
                last_seen: when(r.last_seen_at),
                method: match &r.idp {
                    Some(p) => format!("{} via {p}", amr.join(" + ")),
                    None => amr.join(" + "),
                },
            }
        })
        .collect();
    let factors = crate::mfa::factors(&state.db, &user.id).await?;
    let page = AccountPage {
        layout: Layout::new("Your account", state.base()),
        username: user.username.clone(),
        email: user.email.clone(),
        sessions,
        csrf: csrf::token(session).await?,
        mfa_available: state.mfa_secrets.is_some(),
        totp: factors.totp,
        recovery_codes_left: factors.recovery_codes_left,
        error: error.map(str::to_owned),
    };
    Ok(state.templates.form(&page, error, StatusCode::UNAUTHORIZED))
}

/// The authorization response to the account page.
#[derive(Deserialize)]
pub struct Callback {
    state: Option<String>,
}

/// `GET /account/callback`: back from signing in. Only the browser session matters here, so
/// the code is left to expire unredeemed.
pub async fn callback(
    State(state): State<AppState>,
    session: Session,
    Query(cb): Query<Callback>,
) -> Result<Response, PageError> {
    let expected: Option<String> = session.remove(STATE_KEY).await?;
    if expected.is_none() || expected != cb.state {
        return Err(PageError::with_link(
            "Sign-in not recognised",
            "This sign-in did not start from this browser's account page.",
            format!("{}/account", state.base()),
            "Go to your account",
        ));
    }
    Ok(see_other(&format!("{}/account", state.base())))
}
