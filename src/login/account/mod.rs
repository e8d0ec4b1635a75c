//! The account page: a person's profile, ways to sign in (password, linked logins), sign-in
//! sessions, the applications with access, second factors, and deleting the account. One file
//! per section; the decisions are in the core `crate::account`.
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
use crate::store::users::User;
use crate::store::{login_sessions, random_token};
use crate::web::continuation::active_login;
use crate::web::error::PageError;
use crate::web::login_session::LoginSession;
use crate::web::pages::{AccountPage, Layout, PasskeyRow, SessionRow};
use crate::web::{csrf, found, see_other, with_query};

mod consents;
mod deletion;
pub mod display;
mod linked;
pub mod passkeys;
mod profile;
mod second_factor;
mod sessions;
mod upstream;

pub use consents::{revoke_app, RevokeForm};
pub use deletion::{confirm_with_provider, delete, delete_page, DeleteForm, ProviderForm};
pub use linked::{link_start, unlink, LinkForm, UnlinkForm};
pub use profile::{update_profile, ProfileForm};
pub use second_factor::{manage, totp_page, totp_submit, ManageForm, TotpForm};
pub use sessions::{end, EndForm};
pub use upstream::{finish_upstream, upstream_intent, UpstreamIntent};

use display::when;

/// The account page's client id.
pub use crate::config::declared::ACCOUNT_CLIENT_ID as CLIENT_ID;
const STATE_KEY: &str = "account_state";
/// What the last action did, for the next account page.
const NOTICE_KEY: &str = "account_notice";

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
    login: &LoginSession,
    user: &User,
    error: Option<&str>,
) -> Result<Response, PageError> {
    let mut page = gather(state, session, login, user).await?;
    page.error = error.map(str::to_owned);
    Ok(state.templates.form(&page, error, StatusCode::UNAUTHORIZED))
}

/// The account page with an action's refusal on top, answered with `status`.
pub(super) async fn refuse(
    state: &AppState,
    session: &Session,
    login: &LoginSession,
    user: &User,
    alert: &str,
    status: StatusCode,
) -> Result<Response, PageError> {
    let mut page = gather(state, session, login, user).await?;
    page.alert = Some(alert.to_owned());
    Ok(state.templates.page(status, &page))
}

/// Remembers what an action did, for the account page it redirects to (shown once).
pub(super) async fn tell(session: &Session, notice: impl Into<String>) -> Result<(), PageError> {
    Ok(session.insert(NOTICE_KEY, notice.into()).await?)
}

/// Where the account page is.
pub(super) fn account_url(state: &AppState) -> String {
    format!("{}/account", state.base())
}

/// The signed-in account behind a form post: the CSRF token checked first, then the browser's
/// sign-in re-checked (live, its account still there and enabled). Every action acts on this
/// account only, whatever the form names.
pub(super) async fn account_of_form(
    state: &AppState,
    session: &Session,
    csrf_token: Option<&str>,
) -> Result<Option<(LoginSession, User)>, PageError> {
    csrf::verify(session, csrf_token).await?;
    active_login(state, session).await
}

/// Everything the account page shows about `user`.
async fn gather(
    state: &AppState,
    session: &Session,
    login: &LoginSession,
    user: &User,
) -> Result<AccountPage, PageError> {
    let now = crate::store::now();
    let c = &state.config.session;
    let rows =
        login_sessions::live_for_user(&state.db, &user.id, c.idle_timeout as i64, c.absolute_timeout as i64).await?;
    let provider_name = |id: &str| {
        state
            .upstreams
            .current()
            .get(id)
            .map(|u| u.config().name.clone())
            .unwrap_or_else(|| id.to_owned())
    };
    let sessions: Vec<_> = rows
        .iter()
        .map(|r| {
            let amr: Vec<String> = serde_json::from_str(&r.amr).unwrap_or_default();
            let provider = r.idp.as_deref().map(provider_name);
            SessionRow {
                sid: r.sid.clone(),
                current: r.sid == login.sid,
                signed_in: when(r.created_at, now),
                last_seen: when(r.last_seen_at, now),
                method: display::methods(&amr, provider.as_deref()),
            }
        })
        .collect();
    let (linked, linkable) = linked::rows(state, user, now).await?;
    let apps = consents::rows(state, user, now).await?;
    let factors = crate::mfa::factors(&state.db, &user.id).await?;
    Ok(AccountPage {
        layout: Layout::new(crate::i18n::text("title-account"), state.base()),
        username: user.username.clone(),
        name: user.name.clone(),
        email: user.email.clone(),
        email_verified: user.email_verified,
        sessions,
        has_password: user.password_hash.is_some(),
        linked,
        linkable,
        apps,
        csrf: csrf::token(session).await?,
        mfa_available: state.mfa_secrets.is_some(),
        totp: factors.totp,
        recovery_codes_left: factors.recovery_codes_left,
        passkeys_available: state.webauthn.is_some(),
        passkeys: crate::mfa::passkey::list(&state.db, &user.id)
            .await?
            .into_iter()
            .map(|p| PasskeyRow {
                id: p.id,
                name: p.name,
                added: when(p.created_at, now),
                last_used: p.last_used_at.map(|t| when(t, now)),
            })
            .collect(),
        error: None,
        notice: session.remove::<String>(NOTICE_KEY).await?,
        alert: None,
    })
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
            &crate::i18n::text("account-callback-unknown-title"),
            &crate::i18n::text("account-callback-unknown"),
            format!("{}/account", state.base()),
            &crate::i18n::text("way-out-account"),
        ));
    }
    Ok(see_other(&format!("{}/account", state.base())))
}
