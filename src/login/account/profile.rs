//! The profile section: the display name. (The email address is changed through its own
//! verified flow, not here.)
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::Form;
use serde::Deserialize;
use tower_sessions::Session;

use super::{account_of_form, account_url, refuse, tell};
use crate::names::NAME_MAX_CHARS;
use crate::state::AppState;
use crate::store::users;
use crate::web::error::PageError;
use crate::web::see_other;

/// The profile form.
#[derive(Deserialize)]
pub struct ProfileForm {
    csrf: Option<String>,
    #[serde(default)]
    name: String,
}

/// Why a typed display name is refused, if it is.
fn problem_with(name: &str) -> Option<String> {
    if name.chars().count() > NAME_MAX_CHARS {
        return Some(crate::i18n::text_with(
            "profile-name-too-long",
            &[("max", crate::i18n::arg(NAME_MAX_CHARS.to_string()))],
        ));
    }
    if name.chars().any(char::is_control) {
        return Some(crate::i18n::text("profile-name-control"));
    }
    None
}

/// `POST /account/profile`.
pub async fn update_profile(
    State(state): State<AppState>,
    session: Session,
    Form(form): Form<ProfileForm>,
) -> Result<Response, PageError> {
    let Some((login, user)) = account_of_form(&state, &session, form.csrf.as_deref()).await? else {
        return Ok(see_other(&account_url(&state)));
    };
    let name = form.name.trim();
    if let Some(problem) = problem_with(name) {
        return refuse(&state, &session, &login, &user, &problem, StatusCode::BAD_REQUEST).await;
    }
    let name = Some(name.to_owned()).filter(|n| !n.is_empty());
    users::set_name(&state.db, &user.id, name).await?;
    tracing::info!(user_id = %user.id, "display name changed");
    tell(&session, crate::i18n::text("profile-saved")).await?;
    Ok(see_other(&account_url(&state)))
}

#[cfg(test)]
mod tests {
    use super::problem_with;

    #[test]
    fn a_name_too_long_or_with_control_characters_is_refused() {
        assert!(problem_with("Alice Liddell").is_none());
        assert!(problem_with(&"a".repeat(129)).is_some());
        assert!(problem_with("Alice\u{7}").is_some());
    }
}
