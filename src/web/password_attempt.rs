//! A typed password as an attempt: counted against the client's address (this node) and the
//! account (the database), refused with a wait when either is over its limit.
use std::net::IpAddr;

use crate::audit::{self, Actor, Event, EventKind};
use crate::credentials::{self, PasswordCheck};
use crate::passwords;
use crate::state::AppState;
use crate::store::users::User;
use crate::web::error::PageError;
use crate::web::limits::Bucket;

/// Checks a typed login name and password, counting the attempt against the client's address
/// and (in the database) against the account.
pub async fn check_password(
    state: &AppState,
    address: IpAddr,
    login: &str,
    password: &str,
) -> Result<Option<User>, PageError> {
    if let Err(retry_after_secs) = state.limits.hit(Bucket::SignIn, address) {
        crate::metrics::throttled("sign_in_address");
        crate::metrics::sign_in("password", "local", "throttled");
        return Err(PageError::TooManyAttempts { retry_after_secs });
    }
    if login.is_empty() || password.is_empty() || password.len() > passwords::MAX_BYTES {
        return Ok(None);
    }
    match credentials::check(&state.db, &state.config.limits.account, login, password).await? {
        PasswordCheck::Accepted(user) => Ok(Some(user)),
        PasswordCheck::Refused => {
            audit::record_refusal(&state.db, refused(state, EventKind::SignInFailure, login).await).await;
            tracing::info!(%address, login, "failed password login");
            crate::metrics::sign_in("password", "local", "failure");
            Ok(None)
        }
        PasswordCheck::Throttled { retry_after_secs } => {
            audit::record_refusal(&state.db, refused(state, EventKind::SignInThrottled, login).await).await;
            tracing::warn!(%address, login, retry_after_secs, "password attempt refused: account throttled");
            crate::metrics::throttled("password_account");
            crate::metrics::sign_in("password", "local", "throttled");
            Err(PageError::TooManyAttempts { retry_after_secs })
        }
    }
}

/// The audit event of a refused password: the name typed (cut to 256 characters), and the
/// account it names when there is one.
async fn refused(state: &AppState, kind: EventKind, login: &str) -> Event {
    let typed: String = login.chars().take(256).collect();
    let event = Event::new(kind, Actor::Anonymous)
        .method("password")
        .detail(serde_json::json!({"login": typed}));
    match crate::store::users::find_by_login(&state.db, login).await {
        Ok(Some(user)) => event.user(user.id),
        _ => event,
    }
}
