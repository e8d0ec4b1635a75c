//! Where every handler of the sign-in flow continues: it gathers what [`next_step`] needs (the
//! browser's sign-in, the person's grants), asks it, and turns the step into a response.

use axum::response::Response;
use tower_sessions::Session;

use super::interaction::{self, client_of, Interaction};
use super::login_session::{self as login_session, LoginSession};
use super::upstream_start::redirect_to_provider;
use crate::flow::issue::{self, IssueError};
use crate::flow::rejection::{AuthorizeErrorCode, Rejection};
use crate::flow::request::AuthorizeRequest;
use crate::flow::step::{next_step, Consent, MfaPolicy, Situation, Step};
use crate::state::AppState;
use crate::store::clients::Client;
use crate::store::login_sessions::LiveUser;
use crate::store::{consent, now, users};
use crate::web::error::PageError;
use crate::web::found;

/// The signed-in session, if its user still exists and is enabled.
pub async fn active_login(
    state: &AppState,
    session: &Session,
) -> Result<Option<(LoginSession, users::User)>, PageError> {
    Ok(active(state, session).await?.map(|(login, live)| (login, live.user)))
}

/// The signed-in session and its live user (with whether they have a second factor).
async fn active(state: &AppState, session: &Session) -> Result<Option<(LoginSession, LiveUser)>, PageError> {
    let Some(login) = login_session::current(session).await? else {
        return Ok(None);
    };
    let expired = now() - login.auth_time > state.config.session.absolute_timeout as i64;
    // None when ended from the account page (possibly on another node), or never recorded.
    let live = match expired {
        true => None,
        false => crate::store::login_sessions::live_user(&state.db, &login.sid).await?,
    };
    match live {
        Some(live) if !live.user.disabled && live.user.id == login.user_id => Ok(Some((login, live))),
        _ => {
            login_session::end_session(state, session).await?;
            Ok(None)
        }
    }
}

/// The browser's sign-in as far as this client is concerned, with its live user: a session
/// from a provider the client does not accept is no session for it (it must never receive that
/// identity).
async fn login_for(
    state: &AppState,
    session: &Session,
    client: &Client,
) -> Result<Option<(LoginSession, LiveUser)>, PageError> {
    Ok(active(state, session)
        .await?
        .filter(|(login, _)| login.idp.as_deref().is_none_or(|p| client.allows_provider(p))))
}

/// The next step for `req` in this browser, with the sign-in it would continue with and its
/// user.
pub async fn decide(
    state: &AppState,
    session: &Session,
    client: &Client,
    req: &AuthorizeRequest,
    ix: Option<&Interaction>,
) -> Result<(Step, Option<(LoginSession, users::User)>), PageError> {
    let (login, user, enrolled) = match login_for(state, session, client).await? {
        Some((login, live)) => (Some(login), Some(live.user), live.second_factor),
        None => (None, None, false),
    };
    // Grants are read only when they can matter.
    let granted = match &login {
        Some(login) if client.require_consent => Some(consent::granted(&state.db, &login.user_id, &client.id).await?),
        _ => None,
    };
    let mfa = match &login {
        Some(login) => MfaPolicy {
            enrolled,
            client_requires: client.require_mfa,
            upstream: login
                .idp
                .as_deref()
                .and_then(|p| state.upstreams.current().get(p).map(|u| u.config().mfa)),
        },
        None => MfaPolicy::default(),
    };
    let step = next_step(&Situation {
        request: req,
        login: login.as_ref(),
        interaction: ix.map(|ix| ix.id.as_str()),
        mfa,
        consent: match &granted {
            Some(g) => Consent::Granted(g),
            None => Consent::NotRequired,
        },
        now: now(),
    });
    Ok((step, login.zip(user)))
}

/// Decides what the request needs next and answers: the login page (or straight to a hinted
/// provider), the consent page, the code, or an error for the client.
pub async fn proceed(
    state: &AppState,
    session: &Session,
    client: &Client,
    req: AuthorizeRequest,
    ix: Option<&Interaction>,
) -> Result<Response, PageError> {
    let base = state.base();
    match decide(state, session, client, &req, ix).await? {
        (Step::Reject(rejection), _) => Ok(reject(state, &req, &rejection)),
        (Step::Issue, Some((login, _))) => issue_code(state, &req, &login, ix).await,
        (Step::Issue, None) => Err(PageError::internal("issue without a sign-in")),
        (Step::Consent, _) => {
            let ix = pending(state, &req, ix).await?;
            Ok(found(&ix.consent_url(&base)))
        }
        (Step::Mfa, _) => {
            let ix = pending(state, &req, ix).await?;
            Ok(found(&ix.mfa_url(&base)))
        }
        (Step::MfaEnrolment, _) => {
            let ix = pending(state, &req, ix).await?;
            Ok(found(&ix.mfa_enrol_url(&base)))
        }
        (Step::Login, _) => {
            let ix = pending(state, &req, ix).await?;
            match crate::broker::policy::hinted_provider(&state.upstreams.current(), &req, client) {
                Some(provider) => redirect_to_provider(state, session, &ix, &provider, req.login_hint.as_deref()).await,
                None => Ok(found(&ix.login_url(&base))),
            }
        }
    }
}

/// The interaction the request is pending in: the given one, or a new one.
async fn pending(state: &AppState, req: &AuthorizeRequest, ix: Option<&Interaction>) -> Result<Interaction, PageError> {
    match ix {
        Some(ix) => Ok(ix.clone()),
        None => interaction::start(state, req).await,
    }
}

/// Sends the browser back to the client with `rejection`.
pub fn reject(state: &AppState, req: &AuthorizeRequest, rejection: &Rejection) -> Response {
    found(&rejection.redirect_url(&req.redirect_uri, req.state.as_deref(), &state.issuer))
}

/// Issues the code and sends the browser back to the client (completing the interaction).
pub async fn issue_code(
    state: &AppState,
    req: &AuthorizeRequest,
    login: &LoginSession,
    ix: Option<&Interaction>,
) -> Result<Response, PageError> {
    let lifetime = state.config.lifetimes.authorization_code;
    match issue::issue_code(&state.db, req, login, ix, lifetime, &state.issuer).await {
        Ok(url) => Ok(found(&url)),
        Err(IssueError::AlreadyFinished) => Err(PageError::with_link(
            &crate::i18n::text("ix-finished-title"),
            &crate::i18n::text("continuation-finished"),
            req.restart_url(&state.base()),
            &crate::i18n::text("ix-start-again"),
        )),
        Err(IssueError::Db(e)) => Err(e.into()),
    }
}

/// Sends `access_denied` for an interaction the person declined.
pub async fn deny(state: &AppState, ix: &Interaction) -> Result<Response, PageError> {
    crate::store::interactions::complete(&state.db, &ix.id).await?;
    let denied = Rejection::new(AuthorizeErrorCode::AccessDenied, "the user denied the request");
    Ok(reject(state, &ix.request, &denied))
}

/// A page of a pending interaction in a browser that, meanwhile, signed in acceptably (in
/// another tab, say): where to continue instead of asking again. `None` when a sign-in is still
/// needed.
pub async fn already_signed_in(
    state: &AppState,
    session: &Session,
    ix: &Interaction,
) -> Result<Option<Response>, PageError> {
    let client = client_of(state, ix).await?;
    match decide(state, session, &client, &ix.request, Some(ix)).await?.0 {
        Step::Login => Ok(None),
        _ => Ok(Some(crate::web::see_other(&ix.resume_url(&state.base())))),
    }
}
