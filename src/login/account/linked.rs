//! The linked-logins section: the external identities that sign in to the account, linking
//! another provider (a full upstream round trip, see `upstream`), and unlinking one, never the
//! last way to sign in.
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::Form;
use serde::Deserialize;
use tower_sessions::Session;

use super::display::when;
use super::upstream::{self, Purpose};
use super::{account_of_form, account_url, refuse, tell};
use crate::account::sign_in_methods::{self, Method, Offered, RemovalError};
use crate::state::AppState;
use crate::store::federated;
use crate::store::users::User;
use crate::web::error::PageError;
use crate::web::pages::{LinkedLoginRow, ProviderChoice};
use crate::web::see_other;

/// What counts as a way in now: providers configured and enabled (a link to any other signs nobody in), and passkeys when they are on.
pub(super) fn offered(state: &AppState) -> Offered<impl Fn(&str) -> bool + '_> {
    Offered {
        provider: |provider: &str| state.upstreams.current().get(provider).is_some(),
        passkeys: state.webauthn.is_some(),
    }
}

/// Who the person is at the provider, from the claims it last sent: an email, a username or a
/// name, whichever it gave.
fn label(claims: &str) -> Option<String> {
    let claims: serde_json::Value = serde_json::from_str(claims).ok()?;
    ["email", "preferred_username", "login", "name"]
        .iter()
        .find_map(|k| claims.get(*k).and_then(|v| v.as_str()).map(str::to_owned))
}

/// The linked logins, and the providers that can still be linked.
pub(super) async fn rows(
    state: &AppState,
    user: &User,
    now: i64,
) -> Result<(Vec<LinkedLoginRow>, Vec<ProviderChoice>), PageError> {
    let links = federated::for_user(&state.db, &user.id).await?;
    let methods = sign_in_methods::of_user(&state.db, &user.id, &offered(state))
        .await?
        .unwrap_or(sign_in_methods::SignInMethods {
            password: false,
            linked: vec![],
            passkeys: 0,
        });
    let upstreams = state.upstreams.current();
    let linked = links
        .iter()
        .map(|l| LinkedLoginRow {
            provider: l.provider_id.clone(),
            provider_name: upstreams
                .get(&l.provider_id)
                .map(|u| u.config().name.clone())
                .unwrap_or_else(|| format!("{} (no longer offered)", l.provider_id)),
            subject: l.subject.clone(),
            label: label(&l.last_claims),
            linked: when(l.linked_at, now),
            last_used: when(l.last_login_at, now),
            removable: methods.may_unlink(&l.provider_id, &l.subject),
        })
        .collect();
    let linkable = upstreams
        .all()
        .filter(|u| !links.iter().any(|l| l.provider_id == u.config().id))
        .map(|u| ProviderChoice {
            id: u.config().id.clone(),
            name: u.config().name.clone(),
        })
        .collect();
    Ok((linked, linkable))
}

/// The "link another provider" form.
#[derive(Deserialize)]
pub struct LinkForm {
    csrf: Option<String>,
    #[serde(default)]
    provider: String,
}

/// `POST /account/links`: off to the provider; the answer links it (see `upstream`).
pub async fn link_start(
    State(state): State<AppState>,
    session: Session,
    Form(form): Form<LinkForm>,
) -> Result<Response, PageError> {
    let Some((login, _)) = account_of_form(&state, &session, form.csrf.as_deref()).await? else {
        return Ok(see_other(&account_url(&state)));
    };
    upstream::start(&state, &session, &login, &form.provider, Purpose::Link).await
}

/// The "unlink" form.
#[derive(Deserialize)]
pub struct UnlinkForm {
    csrf: Option<String>,
    #[serde(default)]
    provider: String,
    #[serde(default)]
    subject: String,
}

/// `POST /account/links/remove`.
pub async fn unlink(
    State(state): State<AppState>,
    session: Session,
    Form(form): Form<UnlinkForm>,
) -> Result<Response, PageError> {
    let Some((login, user)) = account_of_form(&state, &session, form.csrf.as_deref()).await? else {
        return Ok(see_other(&account_url(&state)));
    };
    let name = state
        .upstreams
        .current()
        .get(&form.provider)
        .map(|u| u.config().name.clone())
        .unwrap_or_else(|| form.provider.clone());
    let link = Method::Link {
        provider: &form.provider,
        subject: &form.subject,
    };
    match sign_in_methods::remove(&state.db, &user.id, link, &offered(&state)).await {
        Ok(()) => {
            tracing::info!(user_id = %user.id, provider = %form.provider, "external identity unlinked");
            tell(
                &session,
                crate::i18n::text_with("linked-removed", &[("provider", crate::i18n::arg(name.clone()))]),
            )
            .await?;
            Ok(see_other(&account_url(&state)))
        }
        Err(RemovalError::LastMethod) => {
            let alert = crate::i18n::text_with("linked-last", &[("provider", crate::i18n::arg(name.clone()))]);
            refuse(&state, &session, &login, &user, &alert, StatusCode::CONFLICT).await
        }
        Err(RemovalError::NotFound) => Err(PageError::bad_request(
            &crate::i18n::text("linked-none-title"),
            &crate::i18n::text("linked-none"),
        )),
        Err(RemovalError::Db(e)) => Err(e.into()),
    }
}
