//! Pages of a brokered login: start at an upstream provider, come back, then link / create /
//! ask. The broker decides (`broker::resolve`); these handlers parse, call, match and render.
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Form;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::Arc;
use tower_sessions::Session;

use super::password::InteractionQuery;
use crate::broker::profile::{self, ProfileAnswer, ProfileError};
use crate::broker::resolve::{resolve, Question, Resolution};
use crate::broker::{self, handoff, idp_initiated, BrokerError, ProfileProblem, Refusal};
use crate::state::AppState;
use crate::store::users::User;
use crate::upstream::{Arrival, ExternalIdentity, Finished, Upstream, UpstreamError};
use crate::web::error::PageError;
use crate::web::interaction::{self, Interaction};
use crate::web::limits::ClientAddress;
use crate::web::login_session::{self as login_session, Authenticated};
use crate::web::pages::{Layout, LinkAccountPage, ReviewProfilePage};
use crate::web::upstream_start::{
    browser_hash, check_allowed, explain, provider_of, redirect_to_provider, started_interaction, upstream_failure,
};
use crate::web::{csrf, see_other};

/// An upstream identity waiting for the person's answer (kept in the server-side session),
/// with the question the broker asked.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct PendingIdentity {
    interaction_id: String,
    identity: ExternalIdentity,
    question: Question,
}

const PENDING: &str = "broker_pending";

/// `GET /broker/start/{provider}?interaction=…`.
pub async fn start(
    State(state): State<AppState>,
    session: Session,
    Path(provider): Path<String>,
    Query(q): Query<InteractionQuery>,
) -> Result<Response, PageError> {
    let ix = interaction::load_pending(&state, q.interaction.as_deref()).await?;
    let hint = ix.request.login_hint.clone();
    redirect_to_provider(&state, &session, &ix, &provider, hint.as_deref()).await
}

/// Signs the browser in as `user` after a brokered login and continues the interaction.
async fn sign_in(
    state: &AppState,
    session: &Session,
    ix: &Interaction,
    user: &User,
    identity: &ExternalIdentity,
    amr: &[&str],
) -> Result<Response, PageError> {
    session.remove_value(PENDING).await?;
    let registry = state.upstreams.current();
    let provider = registry.get(&identity.provider).map(|u| u.config());
    let policy = provider.map(|p| p.mfa).unwrap_or_default();
    let contexts = provider.map(|p| p.mfa_authn_contexts.as_slice()).unwrap_or_default();
    tracing::debug!(provider = %identity.provider, upstream_amr = ?identity.raw_claims.get("amr"), ?policy, "brokered sign-in");
    login_session::establish(
        state,
        session,
        Authenticated {
            user_id: user.id.clone(),
            amr: crate::broker::policy::brokered_amr(amr, policy, contexts, &identity.raw_claims),
            idp: Some(identity.provider.clone()),
            upstream_session: identity.upstream_session.clone(),
            interaction: Some(ix.id.clone()),
        },
    )
    .await?;
    Ok(see_other(&ix.resume_url(&state.base())))
}

fn broker_failure(state: &AppState, ix: &Interaction, e: BrokerError) -> PageError {
    match e {
        BrokerError::AlreadyLinked => PageError::with_link(
            &crate::i18n::text("broker-already-linked-title"),
            &crate::i18n::text("broker-already-linked"),
            ix.request.restart_url(&state.base()),
            &crate::i18n::text("ix-start-again"),
        ),
        other => PageError::internal(other),
    }
}

/// What a refusal tells the person.
fn refusal_message(refusal: &Refusal, provider: &dyn Upstream) -> String {
    match refusal {
        Refusal::AccountDisabled => crate::i18n::text("broker-account-disabled"),
        Refusal::AccountGone => crate::i18n::text("broker-account-gone"),
        Refusal::LinkOnly => crate::i18n::text_with(
            "broker-link-only",
            &[("provider", crate::i18n::arg(provider.config().name.clone()))],
        ),
    }
}

/// An IdP's answer posted cross-site: a SAMLResponse at `POST /broker/saml/{provider}/acs`
/// (HTTP-POST binding), or an OIDC answer at `POST /broker/callback/{provider}`
/// (response_mode=form_post, as Apple sends it).
///
/// The post is cross-site, so the SameSite=Lax session cookie does not arrive with it. The answer
/// is verified here against the login remembered server-side under its state / RelayState; the
/// outcome waits in the database (`broker::handoff`) for the browser's next, same-site request,
/// which carries the session cookie and must come from the browser that started the login.
pub async fn cross_site_answer(
    State(state): State<AppState>,
    Path(provider_id): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Response, PageError> {
    let provider = provider_of(&state, &provider_id)?;
    let refused = |e: &UpstreamError| {
        tracing::warn!(provider = %provider_id, error = %e, "posted answer refused before any interaction");
        crate::metrics::upstream_error(&provider_id);
        crate::metrics::sign_in("federated", &provider_id, "failure");
        upstream_failure(&state, &provider.config().name, None, &explain(e))
    };
    let (finished, unsolicited) = match provider.finish(&form, Arrival::CrossSite).await {
        Ok(finished) => (finished, false),
        Err(UpstreamError::UnknownState) => match provider.idp_initiated() {
            Some(unsolicited) => match unsolicited.finish_unsolicited(&form).await {
                Ok(identity) => (idp_initiated(&state, provider.as_ref(), identity).await?, true),
                Err(e) => return Err(refused(&e)),
            },
            None => return Err(refused(&UpstreamError::UnknownState)),
        },
        Err(e) => return Err(refused(&e)),
    };
    if let Err(e) = &finished.result {
        // Counted in metrics when the starting browser picks it up (callback).
        tracing::warn!(provider = %provider_id, error = %e, "upstream login failed");
    }
    let id = handoff::put(&state.db, &provider_id, finished, unsolicited).await?;
    Ok(see_other(&format!(
        "{}/broker/callback/{provider_id}?handoff={id}",
        state.base()
    )))
}

/// An interaction for the provider's IdP-initiated landing client, with `identity` as its result.
async fn idp_initiated(
    state: &AppState,
    provider: &dyn Upstream,
    identity: ExternalIdentity,
) -> Result<Finished, PageError> {
    let lifetime = state.config.lifetimes.interaction;
    idp_initiated::land(&state.db, &state.clients, provider.config(), identity, lifetime)
        .await
        .map_err(|why| {
            tracing::warn!(provider = %provider.config().id, "IdP-initiated sign-in: {why}");
            upstream_failure(
                state,
                &provider.config().name,
                None,
                "Sign-in started at the identity provider is not set up for this provider. Start from the application instead.",
            )
        })
}

/// `GET /broker/callback/{provider}`: the IdP's answer (or a SAML handoff from the ACS).
pub async fn callback(
    State(state): State<AppState>,
    session: Session,
    Path(provider_id): Path<String>,
    Query(cb): Query<HashMap<String, String>>,
) -> Result<Response, PageError> {
    let provider = provider_of(&state, &provider_id)?;
    let name = provider.config().name.clone();
    let held = browser_hash(&session, false).await?;
    let outcome = match cb.get("handoff") {
        Some(id) => handoff::take(&state.db, &provider_id, id, held.as_deref()).await?,
        None => provider.finish(&cb, Arrival::Browser(held.as_deref())).await,
    };
    let finished = match outcome {
        Ok(f) => f,
        Err(e) => {
            tracing::warn!(provider = %provider_id, error = %e, "upstream callback refused");
            crate::metrics::upstream_error(&provider_id);
            crate::metrics::sign_in("federated", &provider_id, "failure");
            let ix = started_interaction(&session, &provider_id).await?;
            return Err(upstream_failure(&state, &name, ix.as_deref(), &explain(&e)));
        }
    };
    // A login the account page started (linking a provider, confirming a deletion).
    if let Some(intent) = super::account::upstream_intent(&session, &finished.interaction_id).await? {
        return super::account::finish_upstream(&state, &session, provider.as_ref(), intent, finished.result).await;
    }
    let ix = interaction::load_pending(&state, Some(&finished.interaction_id)).await?;
    let identity = finished.result.map_err(|e| {
        tracing::warn!(provider = %provider_id, error = %e, "upstream login failed");
        crate::metrics::upstream_error(&provider_id);
        crate::metrics::sign_in("federated", &provider_id, "failure");
        upstream_failure(&state, &name, Some(&ix.id), &explain(&e))
    })?;
    check_allowed(&state, &ix, provider.as_ref()).await?;
    let resolution = resolve(&state.db, provider.config(), &identity)
        .await
        .map_err(|e| broker_failure(&state, &ix, e))?;
    match resolution {
        Resolution::SignedIn(user) => sign_in(&state, &session, &ix, &user, &identity, &["fed"]).await,
        Resolution::Ask(question) => ask(&state, &session, &ix, identity, question).await,
        Resolution::Refused(refusal) => Err(upstream_failure(
            &state,
            &name,
            Some(&ix.id),
            &refusal_message(&refusal, provider.as_ref()),
        )),
    }
}

/// Keeps the identity and the question for the person's answer on the link or profile page.
async fn ask(
    state: &AppState,
    session: &Session,
    ix: &Interaction,
    identity: ExternalIdentity,
    question: Question,
) -> Result<Response, PageError> {
    let page = match question {
        Question::Link { .. } => "link",
        Question::Profile(_) => "profile",
    };
    let pending = PendingIdentity {
        interaction_id: ix.id.clone(),
        identity,
        question,
    };
    session.insert(PENDING, pending).await?;
    Ok(see_other(&format!(
        "{}/broker/{page}?interaction={}",
        state.base(),
        ix.id
    )))
}

/// The pending identity for this interaction, or a page explaining it is gone.
async fn pending_for(
    state: &AppState,
    session: &Session,
    ix: &Interaction,
) -> Result<(PendingIdentity, Arc<dyn Upstream>), PageError> {
    let pending: Option<PendingIdentity> = session.get(PENDING).await?;
    match pending.filter(|p| p.interaction_id == ix.id) {
        Some(p) => {
            let provider = provider_of(state, &p.identity.provider)?;
            Ok((p, provider))
        }
        None => Err(PageError::with_link(
            &crate::i18n::text("broker-nothing-to-link-title"),
            &crate::i18n::text("broker-nothing-to-link"),
            ix.login_url(&state.base()),
            &crate::i18n::text("link-back-to-sign-in"),
        )),
    }
}

fn mask_email(email: &str) -> String {
    match email.split_once('@') {
        Some((local, domain)) => format!("{}…@{domain}", local.chars().next().unwrap_or('?')),
        None => "…".into(),
    }
}

/// The "link with your password" form.
#[derive(Deserialize, Default)]
pub struct LinkForm {
    interaction: Option<String>,
    csrf: Option<String>,
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
}

async fn render_link(
    state: &AppState,
    session: &Session,
    ix: &Interaction,
    id: &ExternalIdentity,
    provider: &dyn Upstream,
    may_create: bool,
    error: Option<&str>,
) -> Result<Response, PageError> {
    let page = LinkAccountPage {
        layout: Layout::new(crate::i18n::text("title-link-account"), state.base()),
        provider_name: provider.config().name.clone(),
        email: id.email.as_deref().map(mask_email),
        interaction: ix.id.clone(),
        csrf: csrf::token(session).await?,
        may_create,
        error: error.map(str::to_owned),
    };
    Ok(state.templates.form(&page, error, StatusCode::UNAUTHORIZED))
}

/// Whether the link page may offer "create a separate account".
fn may_create(pending: &PendingIdentity) -> bool {
    match pending.question {
        Question::Link { may_create } => may_create,
        Question::Profile(_) => true,
    }
}

/// `GET /broker/link?interaction=…`: an account with this email exists; prove it is yours.
pub async fn link_page(
    State(state): State<AppState>,
    session: Session,
    Query(q): Query<InteractionQuery>,
) -> Result<Response, PageError> {
    let ix = interaction::load_pending(&state, q.interaction.as_deref()).await?;
    let (pending, provider) = pending_for(&state, &session, &ix).await?;
    let may_create = may_create(&pending);
    render_link(
        &state,
        &session,
        &ix,
        &pending.identity,
        provider.as_ref(),
        may_create,
        None,
    )
    .await
}

/// `POST /broker/link`: re-authenticate with the local password, then link.
pub async fn link_submit(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    session: Session,
    Form(form): Form<LinkForm>,
) -> Result<Response, PageError> {
    csrf::verify(&session, form.csrf.as_deref()).await?;
    let ix = interaction::load_pending(&state, form.interaction.as_deref()).await?;
    let (pending, provider) = pending_for(&state, &session, &ix).await?;
    let id = &pending.identity;
    let user =
        crate::web::password_attempt::check_password(&state, address, form.username.trim(), &form.password).await?;
    let Some(user) = user else {
        let may_create = may_create(&pending);
        let invalid = crate::i18n::text("login-invalid");
        let error = Some(invalid.as_str());
        return render_link(&state, &session, &ix, id, provider.as_ref(), may_create, error).await;
    };
    broker::link_existing(&state.db, id, &user)
        .await
        .map_err(|e| broker_failure(&state, &ix, e))?;
    sign_in(&state, &session, &ix, &user, id, &["fed", "pwd"]).await
}

/// The "review your profile" form.
#[derive(Deserialize, Default)]
pub struct ProfileForm {
    interaction: Option<String>,
    csrf: Option<String>,
    #[serde(default)]
    username: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    name: String,
}

async fn render_profile(
    state: &AppState,
    session: &Session,
    ix: &Interaction,
    provider: &dyn Upstream,
    form: &ProfileForm,
    error: Option<&str>,
) -> Result<Response, PageError> {
    let page = ReviewProfilePage {
        layout: Layout::new(crate::i18n::text("title-review-profile"), state.base()),
        provider_name: provider.config().name.clone(),
        interaction: ix.id.clone(),
        csrf: csrf::token(session).await?,
        username: form.username.clone(),
        email: form.email.clone(),
        name: form.name.clone(),
        error: error.map(str::to_owned),
    };
    Ok(state.templates.form(&page, error, StatusCode::BAD_REQUEST))
}

/// The profile page as first shown: a page asking for input is a 200, even with a notice.
async fn first_profile_view(
    state: &AppState,
    session: &Session,
    ix: &Interaction,
    provider: &dyn Upstream,
    form: &ProfileForm,
    notice: Option<&str>,
) -> Result<Response, PageError> {
    let mut page = render_profile(state, session, ix, provider, form, notice).await?;
    *page.status_mut() = StatusCode::OK;
    Ok(page)
}

/// The pending identity for the profile page, if its provider may create accounts.
async fn creatable(
    state: &AppState,
    session: &Session,
    ix: &Interaction,
) -> Result<(PendingIdentity, Arc<dyn Upstream>), PageError> {
    let (pending, provider) = pending_for(state, session, ix).await?;
    profile::may_create(provider.config()).map_err(|_| {
        let message = &crate::i18n::text("broker-existing-only");
        upstream_failure(state, &provider.config().name, Some(&ix.id), message)
    })?;
    Ok((pending, provider))
}

/// What a profile problem asks of the person.
fn problem_message(problem: ProfileProblem) -> String {
    crate::i18n::text(match problem {
        ProfileProblem::UsernameTaken => "register-username-taken",
        ProfileProblem::InvalidUsername => "broker-invalid-username",
        ProfileProblem::MissingEmail => "broker-missing-email",
        ProfileProblem::EmailTaken => "broker-email-taken",
    })
}

/// What a refused answer tells the person.
fn answer_message(e: &ProfileError) -> String {
    match e {
        ProfileError::InvalidEmail => crate::i18n::text("register-invalid-email"),
        ProfileError::NameTooLong => crate::i18n::text_with(
            "register-name-too-long",
            &[("max", crate::i18n::number(crate::names::NAME_MAX_CHARS as i64))],
        ),
        ProfileError::UsernameTaken => problem_message(ProfileProblem::UsernameTaken),
        ProfileError::InvalidUsername(why) => {
            crate::i18n::text_with("broker-username-refused", &[("why", crate::i18n::arg(why.clone()))])
        }
        ProfileError::EmailTaken => problem_message(ProfileProblem::EmailTaken),
        ProfileError::Broker(_) => crate::i18n::text("broker-create-failed"),
    }
}

/// `GET /broker/profile?interaction=…`: choose a username (and email) for the new account.
pub async fn profile_page(
    State(state): State<AppState>,
    session: Session,
    Query(q): Query<InteractionQuery>,
) -> Result<Response, PageError> {
    let ix = interaction::load_pending(&state, q.interaction.as_deref()).await?;
    let (pending, provider) = creatable(&state, &session, &ix).await?;
    let suggested = profile::suggestion(provider.config(), &pending.identity);
    let form = ProfileForm {
        username: suggested.username,
        email: suggested.email,
        name: suggested.name,
        ..Default::default()
    };
    let problem = match pending.question {
        Question::Profile(problem) => Some(problem_message(problem)),
        Question::Link { .. } => None,
    };
    first_profile_view(&state, &session, &ix, provider.as_ref(), &form, problem.as_deref()).await
}

/// `POST /broker/profile`: create the account with the person's choices and link the identity.
pub async fn profile_submit(
    State(state): State<AppState>,
    session: Session,
    Form(form): Form<ProfileForm>,
) -> Result<Response, PageError> {
    csrf::verify(&session, form.csrf.as_deref()).await?;
    let ix = interaction::load_pending(&state, form.interaction.as_deref()).await?;
    let (pending, provider) = creatable(&state, &session, &ix).await?;
    let answer = ProfileAnswer {
        username: form.username.clone(),
        email: form.email.clone(),
        name: form.name.clone(),
    };
    let id = &pending.identity;
    match profile::create_from(&state.db, provider.config(), id, &answer).await {
        Ok(user) => sign_in(&state, &session, &ix, &user, id, &["fed"]).await,
        Err(ProfileError::Broker(e)) => Err(broker_failure(&state, &ix, e)),
        Err(e) => {
            let msg = answer_message(&e);
            render_profile(&state, &session, &ix, provider.as_ref(), &form, Some(&msg)).await
        }
    }
}
