//! The second step of a sign-in: the challenge page (`/login/mfa`: a passkey, an app's code or a
//! recovery code; the passkey ceremony itself is in `login::passkey`) and, when policy demands a
//! factor the person has not set up, the enrolment page (`/login/mfa/enrol`).
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Form;
use serde::Deserialize;
use tower_sessions::Session;

use super::password::InteractionQuery;
use crate::flow::step::Step;
use crate::mfa::{CodeCheck, Enrolment, MfaError};
use crate::state::AppState;
use crate::store::users::User;
use crate::web::continuation::decide;
use crate::web::error::PageError;
use crate::web::interaction::client_of;
use crate::web::interaction::{self, Interaction};
use crate::web::limits::{Bucket, ClientAddress};
use crate::web::login_session::LoginSession;
use crate::web::pages::{Layout, MfaEnrolPage, MfaPage, RecoveryCodesPage};
use crate::web::second_factor::{add_second_factor, check_code, CodeKind};
use crate::web::{csrf, see_other};

/// The interaction's sign-in, when `want` is its next step; otherwise where to go instead.
pub(crate) async fn at_step(
    state: &AppState,
    session: &Session,
    ix: &Interaction,
    want: Step,
) -> Result<Result<(LoginSession, User), Response>, PageError> {
    let client = client_of(state, ix).await?;
    match decide(state, session, &client, &ix.request, Some(ix)).await? {
        (step, Some(signed_in)) if step == want => Ok(Ok(signed_in)),
        // Done meanwhile (another tab), or not signed in at all: the flow knows where to go.
        _ => Ok(Err(see_other(&ix.resume_url(&state.base())))),
    }
}

/// The challenge page: the person's factors, each a clear choice.
pub(crate) async fn render(
    state: &AppState,
    session: &Session,
    ix: &Interaction,
    user: &User,
    error: Option<&str>,
    recovery: bool,
) -> Result<Response, PageError> {
    let client = client_of(state, ix).await?;
    let factors = crate::mfa::factors(&state.db, &user.id).await?;
    let page = MfaPage {
        layout: Layout::new(crate::i18n::text("title-confirm"), state.base()),
        client_name: client.name.clone(),
        interaction: ix.id.clone(),
        csrf: csrf::token(session).await?,
        error: error.map(str::to_owned),
        recovery,
        recovery_codes_left: factors.recovery_codes_left,
        totp: factors.totp,
        passkeys: factors.passkeys > 0 && state.webauthn.is_some(),
    };
    Ok(state.templates.form(&page, error, StatusCode::UNAUTHORIZED))
}

/// `GET /login/mfa?interaction=…`.
pub async fn page(
    State(state): State<AppState>,
    session: Session,
    Query(q): Query<InteractionQuery>,
) -> Result<Response, PageError> {
    let ix = interaction::load_pending(&state, q.interaction.as_deref()).await?;
    match at_step(&state, &session, &ix, Step::Mfa).await? {
        Ok((_, user)) => render(&state, &session, &ix, &user, None, false).await,
        Err(onward) => Ok(onward),
    }
}

/// The challenge form.
#[derive(Deserialize)]
pub struct CodeForm {
    interaction: Option<String>,
    csrf: Option<String>,
    /// `totp` (default) or `recovery`.
    method: Option<String>,
    #[serde(default)]
    code: String,
}

/// `POST /login/mfa`.
pub async fn submit(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    session: Session,
    Form(form): Form<CodeForm>,
) -> Result<Response, PageError> {
    csrf::verify(&session, form.csrf.as_deref()).await?;
    let ix = interaction::load_pending(&state, form.interaction.as_deref()).await?;
    let (login, user) = match at_step(&state, &session, &ix, Step::Mfa).await? {
        Ok(found) => found,
        Err(onward) => return Ok(onward),
    };
    let kind = CodeKind::from_form(form.method.as_deref());
    if let Some(error) = check_code(&state, address, &user, kind, &form.code).await? {
        return render(&state, &session, &ix, &user, Some(&error), kind == CodeKind::Recovery).await;
    }
    add_second_factor(&state, &session, login).await?;
    Ok(see_other(&ix.resume_url(&state.base())))
}

/// The enrolment in progress for `user`, or a new one.
pub async fn enrolment(state: &AppState, user: &User) -> Result<Enrolment, PageError> {
    let now = crate::store::now();
    match state.mfa().enrolment(user).await {
        Ok(e) => Ok(e),
        Err(MfaError::NoEnrolment) => Ok(state.mfa().start_enrolment(user, now).await?),
        Err(e) => Err(e.into()),
    }
}

/// The enrolment page, posting to `action`.
pub async fn render_enrolment(
    state: &AppState,
    session: &Session,
    user: &User,
    action: String,
    during: Option<(&Interaction, String)>,
    error: Option<&str>,
) -> Result<Response, PageError> {
    let e = enrolment(state, user).await?;
    let interaction = during.as_ref().map(|(ix, _)| ix.id.clone());
    let page = MfaEnrolPage {
        layout: Layout::new(crate::i18n::text("title-enrol"), state.base()),
        action,
        interaction: interaction.clone(),
        client_name: during.map(|(_, name)| name),
        csrf: csrf::token(session).await?,
        qr_data_uri: crate::mfa::totp::qr_svg(&e.otpauth_uri).map(|svg| {
            use base64::Engine;
            format!(
                "data:image/svg+xml;base64,{}",
                base64::engine::general_purpose::STANDARD.encode(svg)
            )
        }),
        otpauth_uri: e.otpauth_uri,
        secret: e.secret_base32,
        passkey_option: interaction.is_some() && state.webauthn.is_some(),
        ask_password: interaction.is_none() && user.password_hash.is_some(),
        error: error.map(str::to_owned),
    };
    Ok(state.templates.form(&page, error, StatusCode::UNAUTHORIZED))
}

/// Confirms an enrolment with its first code: `Ok(codes)` (the new recovery codes, the
/// factor now on) or `Err(message)` to show.
pub async fn confirm_enrolment(
    state: &AppState,
    address: std::net::IpAddr,
    user: &User,
    code: &str,
) -> Result<Result<Vec<String>, String>, PageError> {
    if let Err(retry_after_secs) = state.limits.hit(Bucket::SignIn, address) {
        return Err(PageError::TooManyAttempts { retry_after_secs });
    }
    match state.mfa().confirm_enrolment(user, code, crate::store::now()).await {
        Ok((CodeCheck::Accepted, codes)) => Ok(Ok(codes)),
        Ok((CodeCheck::Throttled { retry_after_secs }, _)) => Err(PageError::TooManyAttempts { retry_after_secs }),
        Ok(_) => Ok(Err(crate::i18n::text("mfa-enrol-wrong-code"))),
        Err(MfaError::NoEnrolment) => Ok(Err(crate::i18n::text("mfa-enrol-expired"))),
        Err(e) => Err(e.into()),
    }
}

/// The recovery codes page, then on to `continue_href`.
pub fn recovery_codes_page(state: &AppState, codes: Vec<String>, continue_href: String) -> Response {
    let page = RecoveryCodesPage {
        layout: Layout::new(crate::i18n::text("title-recovery-codes"), state.base()),
        codes,
        continue_href,
    };
    state.templates.page(StatusCode::OK, &page)
}

/// `GET /login/mfa/enrol?interaction=…`: the factor the client or request requires.
pub async fn enrol_page(
    State(state): State<AppState>,
    session: Session,
    Query(q): Query<InteractionQuery>,
) -> Result<Response, PageError> {
    let ix = interaction::load_pending(&state, q.interaction.as_deref()).await?;
    let (_, user) = match at_step(&state, &session, &ix, Step::MfaEnrolment).await? {
        Ok(found) => found,
        Err(onward) => return Ok(onward),
    };
    render_sign_in_enrolment(&state, &session, &ix, &user, None).await
}

/// The enrolment page of the pending sign-in `ix`, naming the application that requires it,
/// with `error` from the last attempt.
pub(crate) async fn render_sign_in_enrolment(
    state: &AppState,
    session: &Session,
    ix: &Interaction,
    user: &User,
    error: Option<&str>,
) -> Result<Response, PageError> {
    let client = client_of(state, ix).await?;
    let action = format!("{}/login/mfa/enrol", state.base());
    render_enrolment(state, session, user, action, Some((ix, client.name.clone())), error).await
}

/// The enrolment form.
#[derive(Deserialize)]
pub struct EnrolForm {
    interaction: Option<String>,
    csrf: Option<String>,
    #[serde(default)]
    code: String,
}

/// `POST /login/mfa/enrol`.
pub async fn enrol_submit(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    session: Session,
    Form(form): Form<EnrolForm>,
) -> Result<Response, PageError> {
    csrf::verify(&session, form.csrf.as_deref()).await?;
    let ix = interaction::load_pending(&state, form.interaction.as_deref()).await?;
    let (login, user) = match at_step(&state, &session, &ix, Step::MfaEnrolment).await? {
        Ok(found) => found,
        Err(onward) => return Ok(onward),
    };
    match confirm_enrolment(&state, address, &user, &form.code).await? {
        Ok(codes) => {
            add_second_factor(&state, &session, login).await?;
            Ok(recovery_codes_page(&state, codes, ix.resume_url(&state.base())))
        }
        Err(error) => render_sign_in_enrolment(&state, &session, &ix, &user, Some(&error)).await,
    }
}
