//! Changing the password from the account page: the current one first (a borrowed open session
//! is not enough), the same policy as at registration; the person's other sessions end.
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::Form;
use serde::Deserialize;
use tower_sessions::Session;

use super::recovery::mail_links;
use crate::flow::signout::end_all_of_user;
use crate::passwords;
use crate::state::AppState;
use crate::store::throttles;
use crate::store::users::{self, User};
use crate::web::continuation::active_login;
use crate::web::csrf;
use crate::web::error::{Link, PageError};
use crate::web::limits::ClientAddress;
use crate::web::login_session::sign_out;
use crate::web::pages::{Layout, NoticePage, PasswordChangePage};
use crate::web::password_attempt::check_password;
use crate::web::see_other;

async fn render(state: &AppState, session: &Session, user: &User, error: Option<&str>) -> Result<Response, PageError> {
    let has_password = user.password_hash.is_some();
    let page = PasswordChangePage {
        layout: Layout::new(
            crate::i18n::text(if has_password {
                "title-change-password"
            } else {
                "title-set-password"
            }),
            state.base(),
        ),
        csrf: csrf::token(session).await?,
        username: user.username.clone(),
        has_password,
        error: error.map(str::to_owned),
    };
    Ok(state.templates.form(&page, error, StatusCode::BAD_REQUEST))
}

/// `GET /account/password`.
pub async fn page(State(state): State<AppState>, session: Session) -> Result<Response, PageError> {
    let Some((_, user)) = active_login(&state, &session).await? else {
        return Ok(see_other(&format!("{}/account", state.base())));
    };
    render(&state, &session, &user, None).await
}

/// The password change form.
#[derive(Deserialize)]
pub struct ChangeForm {
    csrf: Option<String>,
    #[serde(default)]
    current_password: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    password_confirm: String,
}

/// `POST /account/password`.
pub async fn submit(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    session: Session,
    Form(form): Form<ChangeForm>,
) -> Result<Response, PageError> {
    csrf::verify(&session, form.csrf.as_deref()).await?;
    let Some((login, user)) = active_login(&state, &session).await? else {
        return Ok(see_other(&format!("{}/account", state.base())));
    };
    if user.password_hash.is_some() {
        // Counted like a sign-in: per client address and per account.
        let proved = check_password(&state, address, &user.username, &form.current_password).await?;
        if proved.is_none_or(|u| u.id != user.id) {
            return render(
                &state,
                &session,
                &user,
                Some(&crate::i18n::text("password-wrong-current")),
            )
            .await;
        }
    }
    if form.password != form.password_confirm {
        return render(&state, &session, &user, Some(&crate::i18n::text("password-new-differ"))).await;
    }
    let context = [
        user.username.as_str(),
        user.email.as_deref().unwrap_or_default(),
        user.name.as_deref().unwrap_or_default(),
    ];
    if let Err(problem) = passwords::check_new(&form.password, &context) {
        return render(&state, &session, &user, Some(&problem.to_string())).await;
    }
    if form.password == form.current_password {
        return render(&state, &session, &user, Some(&crate::i18n::text("password-same"))).await;
    }
    let user = users::set_password(&state.db, user, &form.password)
        .await
        .map_err(PageError::internal)?;
    let ended = end_all_of_user(sign_out(&state), &user.id, Some(&login.sid)).await?;
    throttles::succeeded(&state.db, &crate::credentials::account_key(&user)).await?;
    tracing::info!(user_id = %user.id, sessions_ended = ended, "password changed");
    if let (Some(links), Some(email)) = (mail_links(&state), user.email.as_deref()) {
        if let Err(e) = crate::mail_links::reset::notify_changed(&links, &user, email).await {
            tracing::error!(user_id = %user.id, error = %e, "could not queue the password-changed notice");
        }
    }
    let page = NoticePage {
        layout: Layout::new(crate::i18n::text("title-password-changed"), state.base()),
        message: crate::i18n::text_with(
            "password-changed",
            &[("username", crate::i18n::arg(user.username.clone()))],
        ),
        link: Some(Link {
            href: format!("{}/account", state.base()),
            label: crate::i18n::text("title-account"),
        }),
    };
    Ok(state.templates.page(StatusCode::OK, &page))
}
