//! "Forgot password?" and the reset link's page (see `mail_links::reset`). Both exist only
//! when mail can be sent (`[smtp]`).
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Form;
use serde::Deserialize;
use tower_sessions::Session;

use crate::mail_links::reset::{self, Requested, ResetError};
use crate::mail_links::Links;
use crate::passwords;
use crate::state::AppState;
use crate::web::csrf;
use crate::web::error::{Link, PageError};
use crate::web::limits::ClientAddress;
use crate::web::login_session::sign_out;
use crate::web::pages::{ForgotPasswordPage, Layout, NoticePage, ResetPasswordPage};

/// The session key of the sign-in to go back to after a reset in this browser.
const RETURN_KEY: &str = "reset_return_interaction";

/// The mail-link context of this server, when it can send mail.
pub fn mail_links(state: &AppState) -> Option<Links> {
    Links::of(&state.config, &state.db, &state.mailer)
}

fn links_or_404(state: &AppState) -> Result<Links, PageError> {
    mail_links(state).ok_or(PageError::NotFound)
}

/// An interaction id as pages carry it (random, base64url); anything else is dropped.
fn interaction_id(raw: Option<&str>) -> Option<String> {
    raw.filter(|s| {
        !s.is_empty() && s.len() <= 64 && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    })
    .map(str::to_owned)
}

/// `?interaction=` of the forgot page.
#[derive(Deserialize)]
pub struct ForgotQuery {
    interaction: Option<String>,
}

async fn render_forgot(
    state: &AppState,
    session: &Session,
    interaction: Option<String>,
    email: &str,
    error: Option<&str>,
) -> Result<Response, PageError> {
    let page = ForgotPasswordPage {
        layout: Layout::new(crate::i18n::text("title-forgot-password"), state.base()),
        csrf: csrf::token(session).await?,
        interaction,
        email: email.into(),
        error: error.map(str::to_owned),
    };
    Ok(state.templates.form(&page, error, StatusCode::BAD_REQUEST))
}

/// `GET /login/forgot`.
pub async fn forgot_page(
    State(state): State<AppState>,
    session: Session,
    Query(q): Query<ForgotQuery>,
) -> Result<Response, PageError> {
    links_or_404(&state)?;
    render_forgot(&state, &session, interaction_id(q.interaction.as_deref()), "", None).await
}

/// The forgot-password form.
#[derive(Deserialize)]
pub struct ForgotForm {
    csrf: Option<String>,
    interaction: Option<String>,
    #[serde(default)]
    email: String,
}

/// `POST /login/forgot`: the same answer whether or not an account has the address.
pub async fn forgot_submit(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    session: Session,
    Form(form): Form<ForgotForm>,
) -> Result<Response, PageError> {
    let links = links_or_404(&state)?;
    csrf::verify(&session, form.csrf.as_deref()).await?;
    let interaction = interaction_id(form.interaction.as_deref());
    let Ok(email) = crate::names::normalize_email(&form.email) else {
        return render_forgot(
            &state,
            &session,
            interaction,
            &form.email,
            Some(&crate::i18n::text("recovery-invalid-email")),
        )
        .await;
    };
    match reset::request(&links, &state.config.limits, &email, address).await? {
        Requested::Throttled { retry_after_secs } => Err(PageError::TooManyAttempts { retry_after_secs }),
        Requested::Answered => {
            match &interaction {
                Some(ix) => session.insert(RETURN_KEY, ix).await?,
                None => {
                    session.remove::<String>(RETURN_KEY).await?;
                }
            }
            let minutes = crate::mail::messages::in_words(links.smtp.reset_link_secs);
            let page = NoticePage {
                layout: Layout::new(crate::i18n::text("title-check-inbox"), state.base()),
                message: crate::i18n::text_with(
                    "recovery-sent",
                    &[
                        ("email", crate::i18n::arg(email.to_string())),
                        ("valid_for", crate::i18n::arg(minutes)),
                    ],
                ),
                link: interaction.map(|ix| Link {
                    href: format!("{}/login?interaction={ix}", state.base()),
                    label: crate::i18n::text("common-back-to-sign-in"),
                }),
            };
            Ok(state.templates.page(StatusCode::OK, &page))
        }
    }
}

fn unusable_link(state: &AppState) -> PageError {
    PageError::with_link(
        &crate::i18n::text("recovery-link-dead-title"),
        &crate::i18n::text("recovery-link-dead"),
        format!("{}{}", state.base(), reset::REQUEST_PATH),
        &crate::i18n::text("recovery-ask-again"),
    )
}

/// `?token=` of the reset page.
#[derive(Deserialize)]
pub struct TokenQuery {
    token: Option<String>,
}

async fn render_reset(
    state: &AppState,
    session: &Session,
    token: &str,
    username: &str,
    error: Option<&str>,
) -> Result<Response, PageError> {
    let page = ResetPasswordPage {
        layout: Layout::new(crate::i18n::text("title-new-password"), state.base()),
        csrf: csrf::token(session).await?,
        token: token.into(),
        username: username.into(),
        error: error.map(str::to_owned),
    };
    Ok(state.templates.form(&page, error, StatusCode::BAD_REQUEST))
}

/// `GET /login/reset?token=…`: the form, when the link still works (opening it uses nothing:
/// mail scanners that fetch links cannot spend it).
pub async fn reset_page(
    State(state): State<AppState>,
    session: Session,
    Query(q): Query<TokenQuery>,
) -> Result<Response, PageError> {
    let links = links_or_404(&state)?;
    let token = q.token.unwrap_or_default();
    let Some((_, user)) = reset::pending(&links, &token).await.map_err(PageError::internal)? else {
        return Err(unusable_link(&state));
    };
    render_reset(&state, &session, &token, &user.username, None).await
}

/// The new-password form.
#[derive(Deserialize)]
pub struct ResetForm {
    csrf: Option<String>,
    #[serde(default)]
    token: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    password_confirm: String,
}

/// `POST /login/reset`.
pub async fn reset_submit(
    State(state): State<AppState>,
    session: Session,
    Form(form): Form<ResetForm>,
) -> Result<Response, PageError> {
    let links = links_or_404(&state)?;
    csrf::verify(&session, form.csrf.as_deref()).await?;
    let Some((_, user)) = reset::pending(&links, &form.token).await.map_err(PageError::internal)? else {
        return Err(unusable_link(&state));
    };
    let problem = if form.password != form.password_confirm {
        Some(crate::i18n::text("recovery-passwords-differ"))
    } else {
        let context = [
            user.username.as_str(),
            user.email.as_deref().unwrap_or_default(),
            user.name.as_deref().unwrap_or_default(),
        ];
        passwords::check_new(&form.password, &context)
            .err()
            .map(|p| p.to_string())
    };
    if let Some(problem) = problem {
        // The link stays usable: a refused password spends nothing.
        return render_reset(&state, &session, &form.token, &user.username, Some(&problem)).await;
    }
    match reset::complete(&links, sign_out(&state), &form.token, &form.password).await {
        Ok(user) => {
            // A sign-in of this account in this browser ended with the others (its record is
            // gone); the rest of the browser session, such as a pending sign-in, stays.
            let back: Option<String> = session.remove(RETURN_KEY).await?;
            let pending = match back {
                Some(ix) => crate::flow::interaction::load_pending(&state.db, Some(&ix), crate::store::now())
                    .await
                    .ok()
                    .map(|ix| ix.id),
                None => None,
            };
            let link = match pending {
                Some(ix) => Link {
                    href: format!("{}/login?interaction={ix}", state.base()),
                    label: crate::i18n::text("common-sign-in"),
                },
                None => Link {
                    href: format!("{}/account", state.base()),
                    label: crate::i18n::text("recovery-sign-in-account"),
                },
            };
            let page = NoticePage {
                layout: Layout::new(crate::i18n::text("title-password-changed"), state.base()),
                message: crate::i18n::text_with(
                    "recovery-changed",
                    &[("username", crate::i18n::arg(user.username.clone()))],
                ),
                link: Some(link),
            };
            Ok(state.templates.page(StatusCode::OK, &page))
        }
        Err(ResetError::Unusable) => Err(unusable_link(&state)),
        Err(e) => Err(PageError::internal(e)),
    }
}
