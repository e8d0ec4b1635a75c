//! The account's email address: the verification link's page, and changing the address
//! (verification first: the old address stays until the new one is proved).
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Form;
use serde::Deserialize;
use tower_sessions::Session;

use super::recovery::mail_links;
use crate::mail_links::email_change;
use crate::mail_links::verification::{self, Refusal};
use crate::mail_links::Links;
use crate::state::AppState;
use crate::store::email_tokens::{self, Purpose};
use crate::store::throttles::{self, Admission};
use crate::store::users::{self, User};
use crate::web::continuation::active_login;
use crate::web::csrf;
use crate::web::error::{Link, PageError};
use crate::web::limits::ClientAddress;
use crate::web::pages::{EmailSettingsPage, Layout, NoticePage, VerifyEmailPage};
use crate::web::password_attempt::check_password;
use crate::web::see_other;

fn links_or_404(state: &AppState) -> Result<Links, PageError> {
    mail_links(state).ok_or(PageError::NotFound)
}

fn unusable_link(state: &AppState) -> PageError {
    PageError::with_link(
        &crate::i18n::text("email-link-broken-title"),
        &crate::i18n::text("email-link-broken"),
        format!("{}/account/email", state.base()),
        &crate::i18n::text("link-your-email"),
    )
}

fn other_account(state: &AppState) -> PageError {
    PageError::with_link(
        &crate::i18n::text("email-link-other-title"),
        &crate::i18n::text("email-link-other"),
        format!("{}/account", state.base()),
        &crate::i18n::text("link-your-account"),
    )
}

/// Asks a browser that is not signed in to sign in first (only the account itself may confirm).
fn sign_in_first(state: &AppState) -> Response {
    let page = NoticePage {
        layout: Layout::new(crate::i18n::text("title-sign-in-to-confirm"), state.base()),
        message: crate::i18n::text("email-sign-in-first"),
        link: Some(Link {
            href: format!("{}/account", state.base()),
            label: crate::i18n::text("link-sign-in"),
        }),
    };
    state.templates.page(StatusCode::OK, &page)
}

/// `?token=` of the verification link.
#[derive(Deserialize)]
pub struct TokenQuery {
    token: Option<String>,
}

/// `GET /email/verify?token=…`: the confirmation button (opening the link spends nothing).
pub async fn verify_page(
    State(state): State<AppState>,
    session: Session,
    Query(q): Query<TokenQuery>,
) -> Result<Response, PageError> {
    let links = links_or_404(&state)?;
    let token = q.token.unwrap_or_default();
    let Some(row) = verification::pending(&links, &token)
        .await
        .map_err(PageError::internal)?
    else {
        return Err(unusable_link(&state));
    };
    let Some((_, user)) = active_login(&state, &session).await? else {
        return Ok(sign_in_first(&state));
    };
    if user.id != row.user_id {
        return Err(other_account(&state));
    }
    let page = VerifyEmailPage {
        layout: Layout::new(crate::i18n::text("title-confirm-email"), state.base()),
        csrf: csrf::token(&session).await?,
        token,
        email: row.email,
        username: user.username,
    };
    Ok(state.templates.page(StatusCode::OK, &page))
}

/// The confirmation form.
#[derive(Deserialize)]
pub struct VerifyForm {
    csrf: Option<String>,
    #[serde(default)]
    token: String,
}

/// `POST /email/verify`.
pub async fn verify_submit(
    State(state): State<AppState>,
    session: Session,
    Form(form): Form<VerifyForm>,
) -> Result<Response, PageError> {
    let links = links_or_404(&state)?;
    csrf::verify(&session, form.csrf.as_deref()).await?;
    let Some((_, user)) = active_login(&state, &session).await? else {
        return Ok(sign_in_first(&state));
    };
    match verification::confirm(&links, &form.token, &user)
        .await
        .map_err(PageError::internal)?
    {
        Ok(user) => {
            let page = NoticePage {
                layout: Layout::new(crate::i18n::text("title-email-confirmed"), state.base()),
                message: crate::i18n::text_with(
                    "email-now-confirmed",
                    &[
                        ("email", crate::i18n::arg(user.email.unwrap_or_default())),
                        ("username", crate::i18n::arg(user.username.clone())),
                    ],
                ),
                link: Some(Link {
                    href: format!("{}/account", state.base()),
                    label: crate::i18n::text("link-your-account"),
                }),
            };
            Ok(state.templates.page(StatusCode::OK, &page))
        }
        Err(Refusal::Unusable) => Err(unusable_link(&state)),
        Err(Refusal::OtherAccount) => Err(other_account(&state)),
        Err(Refusal::AddressTaken) => Err(PageError::with_link(
            &crate::i18n::text("email-taken-title"),
            &crate::i18n::text("email-taken-first"),
            format!("{}/account/email", state.base()),
            &crate::i18n::text("link-your-email"),
        )),
    }
}

async fn render_settings(
    state: &AppState,
    session: &Session,
    user: &User,
    new_email: &str,
    error: Option<&str>,
    notice: Option<String>,
) -> Result<Response, PageError> {
    let pending = email_tokens::pending_for(&state.db, Purpose::VerifyEmail, &user.id).await?;
    let page = EmailSettingsPage {
        layout: Layout::new(crate::i18n::text("title-email-address"), state.base()),
        csrf: csrf::token(session).await?,
        email: user.email.clone(),
        email_verified: user.email_verified,
        pending_email: pending.map(|p| p.email),
        needs_password: user.password_hash.is_some(),
        new_email: new_email.into(),
        error: error.map(str::to_owned),
        notice,
    };
    Ok(state.templates.form(&page, error, StatusCode::BAD_REQUEST))
}

/// `GET /account/email`.
pub async fn settings_page(State(state): State<AppState>, session: Session) -> Result<Response, PageError> {
    let Some((_, user)) = active_login(&state, &session).await? else {
        return Ok(see_other(&format!("{}/account", state.base())));
    };
    if mail_links(&state).is_none() {
        let page = NoticePage {
            layout: Layout::new(crate::i18n::text("title-email-address"), state.base()),
            message: crate::i18n::text("email-no-mail"),
            link: Some(Link {
                href: format!("{}/account", state.base()),
                label: crate::i18n::text("link-your-account"),
            }),
        };
        return Ok(state.templates.page(StatusCode::OK, &page));
    }
    render_settings(&state, &session, &user, "", None, None).await
}

/// Verification mails one account may ask for, counted like reset mails per address.
async fn admit_mail(state: &AppState, user: &User) -> Result<Result<(), i64>, PageError> {
    let key = format!("verify-user:{}", user.id);
    Ok(
        match throttles::admit(
            &state.db,
            &key,
            &state.config.limits.reset_per_address,
            crate::store::now(),
        )
        .await?
        {
            Admission::Admitted => Ok(()),
            Admission::Wait { secs } => Err(secs),
        },
    )
}

/// The email change form.
#[derive(Deserialize)]
pub struct ChangeForm {
    csrf: Option<String>,
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
}

/// `POST /account/email`: sends a verification link to the new address; the account keeps its
/// address until the link is opened.
pub async fn change_submit(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    session: Session,
    Form(form): Form<ChangeForm>,
) -> Result<Response, PageError> {
    let links = links_or_404(&state)?;
    csrf::verify(&session, form.csrf.as_deref()).await?;
    let Some((_, user)) = active_login(&state, &session).await? else {
        return Ok(see_other(&format!("{}/account", state.base())));
    };
    let typed = form.email.trim();
    let Ok(email) = crate::names::normalize_email(typed) else {
        return render_settings(
            &state,
            &session,
            &user,
            typed,
            Some(crate::i18n::text("email-invalid").as_str()),
            None,
        )
        .await;
    };
    if user.email.as_deref() == Some(email.as_str()) && user.email_verified {
        return render_settings(
            &state,
            &session,
            &user,
            typed,
            Some(crate::i18n::text("email-already-yours").as_str()),
            None,
        )
        .await;
    }
    if user.password_hash.is_some() {
        // Whoever borrowed an open session must not move the account (and its resets) away.
        let proved = check_password(&state, address, &user.username, &form.password).await?;
        if proved.is_none_or(|u| u.id != user.id) {
            return render_settings(
                &state,
                &session,
                &user,
                typed,
                Some(crate::i18n::text("email-wrong-password").as_str()),
                None,
            )
            .await;
        }
    }
    let held = users::find_by_email(&state.db, &email).await?;
    if held.is_some_and(|h| h.id != user.id && h.email_verified) {
        return render_settings(
            &state,
            &session,
            &user,
            typed,
            Some(crate::i18n::text("email-taken").as_str()),
            None,
        )
        .await;
    }
    if let Err(retry_after_secs) = admit_mail(&state, &user).await? {
        return Err(PageError::TooManyAttempts { retry_after_secs });
    }
    email_change::request(&links, &user, &email)
        .await
        .map_err(PageError::internal)?;
    tracing::info!(user_id = %user.id, "email change asked for; waiting for verification");
    let notice = crate::i18n::text_with("email-sent", &[("email", crate::i18n::arg(email.to_string()))]);
    render_settings(&state, &session, &user, "", None, Some(notice)).await
}

/// The "send the link again" form.
#[derive(Deserialize)]
pub struct ResendForm {
    csrf: Option<String>,
}

/// `POST /account/email/resend`: a new link for the address waiting to be confirmed (or the
/// account's own unconfirmed address).
pub async fn resend(
    State(state): State<AppState>,
    session: Session,
    Form(form): Form<ResendForm>,
) -> Result<Response, PageError> {
    let links = links_or_404(&state)?;
    csrf::verify(&session, form.csrf.as_deref()).await?;
    let Some((_, user)) = active_login(&state, &session).await? else {
        return Ok(see_other(&format!("{}/account", state.base())));
    };
    let pending = email_tokens::pending_for(&state.db, Purpose::VerifyEmail, &user.id).await?;
    let target = pending
        .map(|p| p.email)
        .or_else(|| user.email.clone().filter(|_| !user.email_verified));
    let Some(email) = target else {
        return render_settings(
            &state,
            &session,
            &user,
            "",
            Some(crate::i18n::text("email-none-pending").as_str()),
            None,
        )
        .await;
    };
    if let Err(retry_after_secs) = admit_mail(&state, &user).await? {
        return Err(PageError::TooManyAttempts { retry_after_secs });
    }
    verification::send(&links, &user, &email)
        .await
        .map_err(PageError::internal)?;
    let notice = crate::i18n::text_with("email-resent", &[("email", crate::i18n::arg(email.to_string()))]);
    render_settings(&state, &session, &user, "", None, Some(notice)).await
}

/// Sends the first verification link after registration; a failure is logged, not shown (the
/// account exists, and the account page can send another link).
pub async fn after_registration(state: &AppState, user: &User) {
    let (Some(links), Some(email)) = (mail_links(state), user.email.as_deref()) else {
        return;
    };
    if let Err(e) = verification::send(&links, user, email).await {
        tracing::error!(user_id = %user.id, error = %e, "could not queue the verification mail");
    }
}
