//! The account page: a person's sign-in sessions, each of which they can end, and their second
//! factors (passkeys are managed in `login::account_passkeys`).
//!
//! Like Keycloak's account console it is a client of Gatehouse itself ("gatehouse-account"):
//! without a session it starts an ordinary authorization request, so every login method works.
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Form;
use serde::Deserialize;
use tower_sessions::Session;

use crate::flow::signout::terminate;
use crate::oidc::pkce;
use crate::state::AppState;
use crate::store::{login_sessions, random_token};
use crate::web::continuation::active_login;
use crate::web::error::PageError;
use crate::web::limits::ClientAddress;
use crate::web::login_session::{end_session, sign_out};
use crate::web::pages::{AccountPage, Layout, LoggedOutPage, PasskeyRow, SessionRow};
use crate::web::second_factor::{add_second_factor, check_code, CodeKind};
use crate::web::{csrf, found, see_other, with_query};

use super::mfa;

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
pub(crate) async fn render(
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
        passkeys_available: state.webauthn.is_some(),
        passkeys: crate::mfa::passkey::list(&state.db, &user.id)
            .await?
            .into_iter()
            .map(|p| PasskeyRow {
                id: p.id,
                name: p.name,
                added: when(p.created_at),
                last_used: p.last_used_at.map(when),
            })
            .collect(),
        has_password: user.password_hash.is_some(),
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

/// The "end this session" form.
#[derive(Deserialize)]
pub struct EndForm {
    csrf: Option<String>,
    sid: String,
}

/// `POST /account/sessions/end`.
pub async fn end(
    State(state): State<AppState>,
    session: Session,
    Form(form): Form<EndForm>,
) -> Result<Response, PageError> {
    csrf::verify(&session, form.csrf.as_deref()).await?;
    let Some((login, user)) = active_login(&state, &session).await? else {
        return Ok(see_other(&format!("{}/account", state.base())));
    };
    if form.sid == login.sid {
        end_session(&state, &session).await?;
        return Ok(state
            .templates
            .page(StatusCode::OK, &LoggedOutPage::new(state.base(), vec![], None)));
    }
    // Only the person's own sessions.
    let Some(row) = login_sessions::find(&state.db, &form.sid)
        .await?
        .filter(|r| r.user_id == user.id)
    else {
        return Err(PageError::bad_request(
            "No such session",
            "That session does not exist or is not yours.",
        ));
    };
    let other = crate::web::login_session::LoginSession {
        user_id: row.user_id,
        sid: row.sid,
        auth_time: row.created_at,
        amr: serde_json::from_str(&row.amr).unwrap_or_default(),
        idp: row.idp,
        upstream_session: None,
        interaction: None,
    };
    terminate(sign_out(&state), &other).await?;
    tracing::info!(user_id = %user.id, sid = %other.sid, "session ended from the account page");
    Ok(see_other(&format!("{}/account", state.base())))
}

/// `GET /account/mfa/totp`: set up an authenticator app.
pub async fn totp_page(State(state): State<AppState>, session: Session) -> Result<Response, PageError> {
    let account = format!("{}/account", state.base());
    let Some((_, user)) = active_login(&state, &session).await? else {
        return Ok(see_other(&account));
    };
    if crate::mfa::factors(&state.db, &user.id).await?.totp {
        return Ok(see_other(&account));
    }
    let action = format!("{}/account/mfa/totp", state.base());
    mfa::render_enrolment(&state, &session, &user, action, None, None).await
}

/// The enrolment confirmation on the account page.
#[derive(Deserialize)]
pub struct TotpForm {
    csrf: Option<String>,
    #[serde(default)]
    code: String,
}

/// `POST /account/mfa/totp`: the first code turns the app on; the recovery codes are shown once.
pub async fn totp_submit(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    session: Session,
    Form(form): Form<TotpForm>,
) -> Result<Response, PageError> {
    csrf::verify(&session, form.csrf.as_deref()).await?;
    let account = format!("{}/account", state.base());
    let Some((login, user)) = active_login(&state, &session).await? else {
        return Ok(see_other(&account));
    };
    match mfa::confirm_enrolment(&state, address, &user, &form.code).await? {
        Ok(codes) => {
            // The person just proved the factor: this sign-in has it now.
            add_second_factor(&state, &session, login).await?;
            tracing::info!(user_id = %user.id, "authenticator app enrolled");
            Ok(mfa::recovery_codes_page(&state, codes, account))
        }
        Err(error) => {
            let action = format!("{}/account/mfa/totp", state.base());
            mfa::render_enrolment(&state, &session, &user, action, None, Some(error)).await
        }
    }
}

/// New recovery codes, or turning the app off: either re-asks for a code from the app (or a
/// recovery code).
#[derive(Deserialize)]
pub struct ManageForm {
    csrf: Option<String>,
    #[serde(default)]
    code: String,
    /// `recovery` or `remove`.
    action: String,
}

/// `POST /account/mfa/manage`.
pub async fn manage(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    session: Session,
    Form(form): Form<ManageForm>,
) -> Result<Response, PageError> {
    csrf::verify(&session, form.csrf.as_deref()).await?;
    let account = format!("{}/account", state.base());
    let Some((login, user)) = active_login(&state, &session).await? else {
        return Ok(see_other(&account));
    };
    // A lost app can still be turned off (or replaced) with a recovery code.
    let kind = match crate::mfa::recovery::hash(&form.code) {
        Some(_) => CodeKind::Recovery,
        None => CodeKind::Totp,
    };
    if let Some(error) = check_code(&state, address, &user, kind, &form.code).await? {
        return render(&state, &session, &login, &user, Some(error)).await;
    }
    match form.action.as_str() {
        "recovery" => {
            let codes = state.mfa().new_recovery_codes(&user.id, crate::store::now()).await?;
            tracing::info!(user_id = %user.id, "recovery codes regenerated");
            Ok(mfa::recovery_codes_page(&state, codes, account))
        }
        "remove" => {
            state.mfa().remove(&user.id).await?;
            tracing::info!(user_id = %user.id, "authenticator app removed");
            Ok(see_other(&account))
        }
        _ => Err(PageError::bad_request(
            "Unknown action",
            "That is not something the account page does.",
        )),
    }
}
