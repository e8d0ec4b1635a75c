//! Accounts: listed and searched, looked at with everything attached to them, created,
//! changed, disabled (every session and token ends at once), deleted, unthrottled.
use sea_orm::sea_query::{Expr, Func, LikeExpr};
use sea_orm::{ActiveModelTrait, ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder, Set, TransactionTrait};
use serde::{Deserialize, Serialize};

use super::sessions::{end_rows, open_sessions_of, revoke_tokens, SessionView, TokensOf};
use super::{like_pattern, AdminError, Operator, Page, Paging};
use crate::audit::{self, Event, EventKind};
use crate::store::entities::{
    consent_grant, federated_identity, login_session, recovery_code, session_client, totp_factor, user,
};
use crate::store::users::{self, NewUser, User, UserError};
use crate::store::{login_sessions, now, throttles};

/// An account as the admin API shows it (never its password hash).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct UserView {
    pub id: String,
    pub username: String,
    pub email: Option<String>,
    pub email_verified: bool,
    pub name: Option<String>,
    pub groups: Vec<String>,
    /// Whether a local password is set.
    pub has_password: bool,
    pub disabled: bool,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds.
    pub updated_at: i64,
}

impl From<User> for UserView {
    fn from(u: User) -> Self {
        Self {
            groups: users::groups_of(&u),
            has_password: u.password_hash.is_some(),
            id: u.id,
            username: u.username,
            email: u.email,
            email_verified: u.email_verified,
            name: u.name,
            disabled: u.disabled,
            created_at: u.created_at,
            updated_at: u.updated_at,
        }
    }
}

/// An external identity linked to an account.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct IdentityView {
    pub provider: String,
    /// The provider's subject identifier.
    pub subject: String,
    /// Unix seconds.
    pub linked_at: i64,
    /// Unix seconds.
    pub last_login_at: i64,
}

/// The account's second factors.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FactorsView {
    /// A confirmed authenticator app (TOTP).
    pub totp: bool,
    pub recovery_codes_left: u64,
}

/// An account with its linked identities, second factors and live sessions.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct UserDetail {
    #[serde(flatten)]
    pub user: UserView,
    pub identities: Vec<IdentityView>,
    pub mfa: FactorsView,
    pub sessions: Vec<SessionView>,
}

/// A new account.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUserInput {
    pub username: String,
    pub email: Option<String>,
    #[serde(default)]
    pub email_verified: bool,
    pub name: Option<String>,
    /// A local password (8 to 256 characters, not a common one); none = federated sign-in only.
    pub password: Option<String>,
    #[serde(default)]
    pub groups: Vec<String>,
}

/// Changes to an account; a field left out stays as it is.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserPatch {
    /// A new email address; an empty string removes it.
    pub email: Option<String>,
    pub email_verified: Option<bool>,
    /// A new display name; an empty string removes it.
    pub name: Option<String>,
    pub groups: Option<Vec<String>>,
    /// Disable (true) or enable (false) the account.
    pub disabled: Option<bool>,
}

/// What disabling an account ended.
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct Ended {
    pub sessions_ended: u64,
    pub refresh_tokens_revoked: u64,
    /// Back-channel logout notifications queued for the sessions' clients.
    pub logouts_queued: u64,
}

/// Accounts whose username, email or name contains `search` (any case), by username.
pub async fn list(op: &Operator<'_>, search: Option<&str>, paging: Paging) -> Result<Page<UserView>, AdminError> {
    let mut find = user::Entity::find();
    if let Some(s) = search.map(str::trim).filter(|s| !s.is_empty()) {
        let pattern = like_pattern(s);
        let lower_like = |col: user::Column| {
            Expr::expr(Func::lower(Expr::col(col))).like(LikeExpr::new(pattern.clone()).escape('\\'))
        };
        find = find.filter(
            Condition::any()
                .add(lower_like(user::Column::Username))
                .add(lower_like(user::Column::Email))
                .add(lower_like(user::Column::Name)),
        );
    }
    let ordered = find.order_by_asc(user::Column::Username).order_by_asc(user::Column::Id);
    Ok(paging.fetch(ordered, op.db).await?)
}

/// The account by id, or by username / email (what the CLI is given).
pub async fn find(op: &Operator<'_>, id_or_login: &str) -> Result<User, AdminError> {
    if let Some(u) = users::find(op.db, id_or_login).await? {
        return Ok(u);
    }
    users::find_by_login(op.db, id_or_login)
        .await?
        .ok_or_else(|| not_found(id_or_login))
}

fn not_found(id: &str) -> AdminError {
    AdminError::NotFound {
        what: "user",
        id: id.into(),
    }
}

/// The account by id with its identities, factors and live sessions.
pub async fn get(op: &Operator<'_>, id: &str) -> Result<UserDetail, AdminError> {
    let user = users::find(op.db, id).await?.ok_or_else(|| not_found(id))?;
    let identities = crate::store::federated::for_user(op.db, id)
        .await?
        .into_iter()
        .map(|i| IdentityView {
            provider: i.provider_id,
            subject: i.subject,
            linked_at: i.linked_at,
            last_login_at: i.last_login_at,
        })
        .collect();
    let factors = crate::mfa::factors(op.db, id).await?;
    let s = &op.config.session;
    let sessions = login_sessions::live_for_user(op.db, id, s.idle_timeout as i64, s.absolute_timeout as i64)
        .await?
        .into_iter()
        .map(SessionView::from)
        .collect();
    Ok(UserDetail {
        user: user.into(),
        identities,
        mfa: FactorsView {
            totp: factors.totp,
            recovery_codes_left: factors.recovery_codes_left,
        },
        sessions,
    })
}

fn user_error(e: UserError) -> AdminError {
    match e {
        UserError::UsernameTaken(name) => AdminError::Conflict {
            field: "username".into(),
            problem: format!("the username {name:?} is taken"),
        },
        UserError::InvalidUsername(p) => AdminError::invalid("username", p.to_string()),
        UserError::EmailTaken => AdminError::Conflict {
            field: "email".into(),
            problem: "the email address is used by another account".into(),
        },
        UserError::InvalidEmail(p) => AdminError::invalid("email", p.to_string()),
        UserError::Hash(h) => AdminError::Hash(h),
        UserError::Db(e) => AdminError::Db(e),
    }
}

/// Creates an account (its password checked as registration checks it).
pub async fn create(op: &Operator<'_>, new: NewUserInput) -> Result<UserView, AdminError> {
    if let Some(p) = &new.password {
        let context = [
            new.username.as_str(),
            new.email.as_deref().unwrap_or(""),
            new.name.as_deref().unwrap_or(""),
        ];
        crate::passwords::check_new(p, &context).map_err(|e| AdminError::invalid("password", e.to_string()))?;
    }
    check_groups(&new.groups)?;
    let txn = op.db.begin().await?;
    let user = users::create(
        &txn,
        NewUser {
            username: new.username,
            email: new.email.filter(|e| !e.trim().is_empty()),
            email_verified: new.email_verified,
            name: new.name.filter(|n| !n.trim().is_empty()),
            password: new.password,
            groups: new.groups,
        },
    )
    .await
    .map_err(user_error)?;
    let event = Event::new(EventKind::Admin("user.create"), op.actor.clone())
        .user(user.id.clone())
        .detail(serde_json::json!({"username": user.username}));
    audit::record(&txn, event).await?;
    txn.commit().await?;
    Ok(user.into())
}

fn check_groups(groups: &[String]) -> Result<(), AdminError> {
    if groups.iter().any(|g| g.trim().is_empty() || g.len() > 256) {
        return Err(AdminError::invalid("groups", "every group is 1 to 256 characters"));
    }
    Ok(())
}

/// Changes an account; disabling it ends its sessions and tokens in the same transaction.
pub async fn update(op: &Operator<'_>, id: &str, patch: UserPatch) -> Result<(UserView, Option<Ended>), AdminError> {
    if let Some(g) = &patch.groups {
        check_groups(g)?;
    }
    let txn = op.db.begin().await?;
    let current = users::find(&txn, id).await?.ok_or_else(|| not_found(id))?;
    let mut changed = Vec::new();
    let mut m: user::ActiveModel = current.clone().into();
    if let Some(email) = &patch.email {
        let email = match email.trim() {
            "" => None,
            e => Some(crate::names::normalize_email(e).map_err(|p| AdminError::invalid("email", p.to_string()))?),
        };
        if let Some(e) = &email {
            if users::find_by_email(&txn, e)
                .await?
                .is_some_and(|holder| holder.id != id)
            {
                return Err(user_error(UserError::EmailTaken));
            }
        }
        if email != current.email {
            // A new address is unproven unless the same request says otherwise.
            m.email_verified = Set(false);
        }
        m.email = Set(email);
        changed.push("email");
    }
    if let Some(v) = patch.email_verified {
        m.email_verified = Set(v
            && patch
                .email
                .as_deref()
                .map_or(current.email.is_some(), |e| !e.trim().is_empty()));
        changed.push("email_verified");
    }
    if let Some(name) = &patch.name {
        m.name = Set(Some(name.trim().to_owned()).filter(|n| !n.is_empty()));
        changed.push("name");
    }
    if let Some(groups) = &patch.groups {
        m.groups = Set((!groups.is_empty()).then(|| serde_json::to_string(groups).unwrap_or_default()));
        changed.push("groups");
    }
    let mut ended = None;
    if let Some(disabled) = patch.disabled {
        m.disabled = Set(disabled);
        changed.push("disabled");
    }
    m.updated_at = Set(now());
    let saved = m.update(&txn).await?;
    if patch.disabled == Some(true) {
        ended = Some(end_everything(&txn, id).await?);
    }
    let kind = match patch.disabled {
        Some(true) => "user.disable",
        Some(false) if current.disabled => "user.enable",
        _ => "user.update",
    };
    let event = Event::new(EventKind::Admin(kind), op.actor.clone())
        .user(id)
        .detail(serde_json::json!({"fields": changed, "ended": ended.as_ref().map(|e: &Ended| e.sessions_ended)}));
    audit::record(&txn, event).await?;
    txn.commit().await?;
    Ok((saved.into(), ended))
}

/// Disables the account: every session ends and every token is revoked, at once.
pub async fn disable(op: &Operator<'_>, id: &str) -> Result<Ended, AdminError> {
    let patch = UserPatch {
        disabled: Some(true),
        ..Default::default()
    };
    Ok(update(op, id, patch).await?.1.unwrap_or_default())
}

/// Ends every session of the account and revokes every token it holds.
async fn end_everything<C: sea_orm::ConnectionTrait>(txn: &C, user_id: &str) -> Result<Ended, sea_orm::DbErr> {
    // Every token first (offline ones too), so the count says what was live.
    let refresh_tokens_revoked = revoke_tokens(txn, TokensOf::User(user_id)).await?;
    let sessions = open_sessions_of(txn, user_id).await?;
    let sessions_ended = sessions.len() as u64;
    let logouts_queued = end_rows(txn, sessions).await?;
    Ok(Ended {
        sessions_ended,
        refresh_tokens_revoked,
        logouts_queued,
    })
}

/// Deletes the account and what is attached to it (identities, factors, consents, sessions);
/// its tokens are revoked first, and its clients told of the ended sessions.
pub async fn delete(op: &Operator<'_>, id: &str) -> Result<Ended, AdminError> {
    let txn = op.db.begin().await?;
    let user = users::find(&txn, id).await?.ok_or_else(|| not_found(id))?;
    let ended = end_everything(&txn, id).await?;
    federated_identity::Entity::delete_many()
        .filter(federated_identity::Column::UserId.eq(id))
        .exec(&txn)
        .await?;
    totp_factor::Entity::delete_many()
        .filter(totp_factor::Column::UserId.eq(id))
        .exec(&txn)
        .await?;
    recovery_code::Entity::delete_many()
        .filter(recovery_code::Column::UserId.eq(id))
        .exec(&txn)
        .await?;
    consent_grant::Entity::delete_many()
        .filter(consent_grant::Column::UserId.eq(id))
        .exec(&txn)
        .await?;
    session_client::Entity::delete_many()
        .filter(session_client::Column::UserId.eq(id))
        .exec(&txn)
        .await?;
    login_session::Entity::delete_many()
        .filter(login_session::Column::UserId.eq(id))
        .exec(&txn)
        .await?;
    throttles::clear(&txn, &crate::credentials::account_key(&user)).await?;
    user::Entity::delete_by_id(id.to_owned()).exec(&txn).await?;
    let event = Event::new(EventKind::Admin("user.delete"), op.actor.clone())
        .user(id)
        .detail(serde_json::json!({"username": user.username}));
    audit::record(&txn, event).await?;
    txn.commit().await?;
    Ok(ended)
}

/// Clears the account's password-attempt throttle; whether there was one.
pub async fn clear_throttle(op: &Operator<'_>, id: &str) -> Result<bool, AdminError> {
    let txn = op.db.begin().await?;
    let user = users::find(&txn, id).await?.ok_or_else(|| not_found(id))?;
    let cleared = throttles::clear(&txn, &crate::credentials::account_key(&user)).await?;
    let event = Event::new(EventKind::Admin("user.clear_throttle"), op.actor.clone())
        .user(id)
        .detail(serde_json::json!({"cleared": cleared}));
    audit::record(&txn, event).await?;
    txn.commit().await?;
    Ok(cleared)
}

/// Removes the link between the account and its identity at `provider`.
pub async fn unlink(op: &Operator<'_>, id: &str, provider: &str) -> Result<(), AdminError> {
    let txn = op.db.begin().await?;
    users::find(&txn, id).await?.ok_or_else(|| not_found(id))?;
    let removed = federated_identity::Entity::delete_many()
        .filter(federated_identity::Column::UserId.eq(id))
        .filter(federated_identity::Column::ProviderId.eq(provider))
        .exec(&txn)
        .await?
        .rows_affected;
    if removed == 0 {
        return Err(AdminError::NotFound {
            what: "linked identity at provider",
            id: provider.into(),
        });
    }
    let event = Event::new(EventKind::IdentityUnlinked, op.actor.clone())
        .user(id)
        .provider(provider)
        .method("admin");
    audit::record(&txn, event).await?;
    txn.commit().await?;
    Ok(())
}

/// Where a password reset link went, and for how long it works.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ResetMailQueued {
    /// The account's address the link was sent to.
    pub email: String,
    /// Seconds the link works (once).
    pub expires_in: i64,
}

/// Mails the account a password reset link (as "forgot password" does, without its throttles:
/// an operator asked), audited in the same transaction as the link and the queued mail.
pub async fn send_password_reset(
    op: &Operator<'_>,
    links: Option<&crate::mail_links::Links>,
    id: &str,
) -> Result<ResetMailQueued, AdminError> {
    let links = links.ok_or(AdminError::Unavailable(
        "this server sends no mail: configure [smtp] to send reset links",
    ))?;
    let txn = op.db.begin().await?;
    let user = users::find(&txn, id).await?.ok_or_else(|| not_found(id))?;
    if user.disabled {
        return Err(AdminError::Conflict {
            field: "id".into(),
            problem: "the account is disabled: enable it first".into(),
        });
    }
    let Some(email) = user.email.clone() else {
        return Err(AdminError::Conflict {
            field: "email".into(),
            problem: "the account has no email address to send a link to".into(),
        });
    };
    let expires_in = crate::mail_links::reset::mail_link(links, &txn, &user, &email)
        .await
        .map_err(|e| match e {
            crate::mail_links::LinkError::Mail(m) => AdminError::Mail(m),
            crate::mail_links::LinkError::Db(d) => AdminError::Db(d),
        })?;
    let event = Event::new(EventKind::Admin("user.password_reset"), op.actor.clone())
        .user(id)
        .detail(serde_json::json!({"expires_in": expires_in}));
    audit::record(&txn, event).await?;
    txn.commit().await?;
    Ok(ResetMailQueued { email, expires_in })
}
