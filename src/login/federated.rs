//! Pages of a brokered login: start at an upstream provider, come back, then link / create / ask.
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Form;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::HashMap;
use std::sync::Arc;
use tower_sessions::Session;

use super::interaction::{self, Interaction};
use super::password::InteractionQuery;
use super::session::{self as login_session, Authenticated};
use crate::broker::{self, BrokerError, LinkDecision, LinkingPolicy};
use crate::oidc::authorize::client_of;
use crate::state::AppState;
use crate::store::users::{self, User, UserError};
use crate::upstream::{same_browser, Arrival, ExternalIdentity, Finished, LoginStart, Start, Upstream, UpstreamError};
use crate::web::error::PageError;
use crate::web::limits::ClientAddress;
use crate::web::{csrf, found, see_other};

/// An upstream identity waiting for the person's answer (kept in the server-side session).
#[derive(Debug, Clone, Serialize, Deserialize)]
struct PendingIdentity {
    interaction_id: String,
    identity: ExternalIdentity,
}

/// The last upstream login this browser started: where "try again" leads when the state is lost.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct StartedLogin {
    interaction_id: String,
    provider: String,
}

const PENDING: &str = "broker_pending";
const STARTED: &str = "broker_started";
/// A random secret of this browser's session; upstream logins remember only its hash.
const BROWSER_SECRET: &str = "broker_browser_secret";

/// The hash of this browser's secret, made on first use when `create`.
async fn browser_hash(session: &Session, create: bool) -> Result<Option<String>, PageError> {
    let secret = match session.get::<String>(BROWSER_SECRET).await? {
        Some(secret) => secret,
        None if create => {
            let secret = crate::store::random_token();
            session.insert(BROWSER_SECRET, &secret).await?;
            secret
        }
        None => return Ok(None),
    };
    Ok(Some(crate::store::hash_secret(&secret)))
}

fn provider_of(state: &AppState, id: &str) -> Result<Arc<dyn Upstream>, PageError> {
    state.upstreams.get(id).cloned().ok_or(PageError::NotFound)
}

/// A failed upstream login: the pending request is kept, with ways on.
fn upstream_failure(state: &AppState, provider: &str, interaction_id: Option<&str>, message: &str) -> PageError {
    let base = state.base();
    match interaction_id {
        Some(ix) => PageError::BadRequest {
            title: format!("Sign-in with {provider} did not work"),
            message: message.into(),
            link: Some(crate::web::error::Link {
                href: format!("{base}/login?interaction={ix}"),
                label: "Use another sign-in method".into(),
            }),
        },
        None => PageError::with_link(
            &format!("Sign-in with {provider} did not work"),
            message,
            format!("{base}/"),
            "Gatehouse home",
        ),
    }
}

fn explain(e: &UpstreamError) -> &'static str {
    match e {
        UpstreamError::Unavailable(_) => "The identity provider could not be reached. Try again in a moment, or sign in another way.",
        UpstreamError::Denied { error, .. } if error == "AuthnFailed" => "The identity provider could not authenticate you. You can try again or sign in another way.",
        UpstreamError::Denied { .. } => "The identity provider did not sign you in (it was cancelled or refused). You can try again or sign in another way.",
        UpstreamError::UnknownState => "This sign-in response is unknown, expired or was already used. Start the sign-in again.",
        UpstreamError::OtherBrowser => "This sign-in was started in another browser. For your safety it can only finish in the browser where it began: go back to that browser, or start again here.",
        _ => "The identity provider's answer could not be verified, so Gatehouse did not trust it. Try again, or sign in another way.",
    }
}

/// Checks the provider may serve this interaction's client.
async fn check_allowed(state: &AppState, ix: &Interaction, provider: &dyn Upstream) -> Result<(), PageError> {
    let client = client_of(state, ix).await?;
    if client.allows_provider(&provider.config().id) {
        Ok(())
    } else {
        Err(PageError::with_link(
            "Sign-in method not available",
            &format!(
                "{} does not accept sign-in with {}.",
                client.name,
                provider.config().name
            ),
            ix.login_url(&state.base()),
            "Choose another method",
        ))
    }
}

/// Sends the browser to the provider for `ix` (used by the button, idp_hint and home-realm discovery).
pub async fn redirect_to_provider(
    state: &AppState,
    session: &Session,
    ix: &Interaction,
    provider_id: &str,
    login_hint: Option<&str>,
) -> Result<Response, PageError> {
    let provider = provider_of(state, provider_id)?;
    check_allowed(state, ix, provider.as_ref()).await?;
    session
        .insert(
            STARTED,
            StartedLogin {
                interaction_id: ix.id.clone(),
                provider: provider_id.to_owned(),
            },
        )
        .await?;
    let browser = browser_hash(session, true).await?.unwrap_or_default();
    let start = LoginStart {
        interaction_id: &ix.id,
        login_hint,
        browser_hash: &browser,
    };
    match provider.begin(start).await {
        Ok(Start::Redirect(url)) => Ok(found(&url)),
        Ok(Start::PostForm { action, fields }) => {
            let fields: Vec<_> = fields.iter().map(|(k, v)| json!({"name": k, "value": v})).collect();
            let data = json!({
                "title": format!("Continue to {}", provider.config().name),
                "base": state.base(),
                "provider": provider.config().name,
                "action": action,
                "fields": fields,
            });
            Ok(state.templates.page(StatusCode::OK, "post_form", &data))
        }
        Err(e) => {
            tracing::warn!(provider = provider_id, error = %e, "upstream login could not start");
            Err(upstream_failure(
                state,
                &provider.config().name,
                Some(&ix.id),
                explain(&e),
            ))
        }
    }
}

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

async fn sign_in(
    state: &AppState,
    session: &Session,
    ix: &Interaction,
    user: &User,
    provider: &str,
    amr: &[&str],
    upstream_session: Option<String>,
) -> Result<Response, PageError> {
    session.remove_value(PENDING).await?;
    login_session::establish(
        state,
        session,
        Authenticated {
            user_id: user.id.clone(),
            amr: amr.iter().map(|s| s.to_string()).collect(),
            idp: Some(provider.to_owned()),
            upstream_session,
        },
    )
    .await?;
    Ok(see_other(&ix.resume_url(&state.base())))
}

fn broker_failure(state: &AppState, ix: &Interaction, e: BrokerError) -> PageError {
    match e {
        BrokerError::AlreadyLinked => PageError::with_link(
            "Already linked",
            "This login was linked to an account in the meantime. Sign in again to use it.",
            ix.request.restart_url(&state.base()),
            "Start again",
        ),
        other => PageError::internal(other),
    }
}

/// A finished login carried from a cross-site POST to the browser's same-site request.
#[derive(Serialize, Deserialize)]
struct HandoffRecord {
    /// IdP-initiated: no browser started it, so there is no started login to match.
    unsolicited: bool,
    /// The starting browser's secret hash, which the browser taking the result must hold.
    #[serde(default)]
    browser_hash: Option<String>,
    outcome: Handoff,
}

/// The outcome inside a [`HandoffRecord`].
#[derive(Serialize, Deserialize)]
enum Handoff {
    Identity(Box<ExternalIdentity>),
    Denied { error: String, description: String },
    Unavailable(String),
    Refused(String),
}

impl Handoff {
    fn of(result: Result<ExternalIdentity, UpstreamError>) -> Self {
        match result {
            Ok(identity) => Self::Identity(Box::new(identity)),
            Err(UpstreamError::Denied { error, description }) => Self::Denied { error, description },
            Err(UpstreamError::Unavailable(m)) => Self::Unavailable(m),
            Err(other) => Self::Refused(other.to_string()),
        }
    }

    fn into_result(self) -> Result<ExternalIdentity, UpstreamError> {
        match self {
            Self::Identity(identity) => Ok(*identity),
            Self::Denied { error, description } => Err(UpstreamError::Denied { error, description }),
            Self::Unavailable(m) => Err(UpstreamError::Unavailable(m)),
            Self::Refused(m) => Err(UpstreamError::InvalidSaml(m)),
        }
    }
}

/// An IdP's answer posted cross-site: a SAMLResponse at `POST /broker/saml/{provider}/acs`
/// (HTTP-POST binding), or an OIDC answer at `POST /broker/callback/{provider}`
/// (response_mode=form_post, as Apple sends it).
///
/// The post is cross-site, so the SameSite=Lax session cookie does not arrive with it. The answer
/// is verified here against the login remembered server-side under its state / RelayState; the
/// outcome waits in the database for the browser's next, same-site request, which carries the
/// session cookie and must come from the browser that started the login.
pub async fn cross_site_answer(
    State(state): State<AppState>,
    Path(provider_id): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Response, PageError> {
    let provider = provider_of(&state, &provider_id)?;
    let name = provider.config().name.clone();
    let refused = |e: &UpstreamError| {
        tracing::warn!(provider = %provider_id, error = %e, "posted answer refused before any interaction");
        upstream_failure(&state, &name, None, explain(e))
    };
    let (finished, unsolicited) = match provider.finish(&form, Arrival::CrossSite).await {
        Ok(finished) => (finished, false),
        Err(UpstreamError::UnknownState) => match provider.finish_unsolicited(&form).await {
            Some(Ok(identity)) => (idp_initiated(&state, provider.as_ref(), identity).await?, true),
            Some(Err(e)) => return Err(refused(&e)),
            None => return Err(refused(&UpstreamError::UnknownState)),
        },
        Err(e) => return Err(refused(&e)),
    };
    if let Err(e) = &finished.result {
        tracing::warn!(provider = %provider_id, error = %e, "upstream login failed");
    }
    let record = HandoffRecord {
        unsolicited,
        browser_hash: finished.browser_hash,
        outcome: Handoff::of(finished.result),
    };
    let result = serde_json::to_string(&record).map_err(PageError::internal)?;
    let id = crate::store::handoffs::put(&state.db, &provider_id, &finished.interaction_id, &result).await?;
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
    let name = &provider.config().name;
    let misconfigured = |why: &str| {
        tracing::warn!(provider = %provider.config().id, "IdP-initiated sign-in: {why}");
        upstream_failure(
            state,
            name,
            None,
            "Sign-in started at the identity provider is not set up for this provider. Start from the application instead.",
        )
    };
    let target = provider
        .config()
        .saml
        .as_ref()
        .and_then(|s| s.idp_initiated.clone())
        .ok_or_else(|| misconfigured("not enabled"))?;
    let client = state
        .clients
        .get(&target.client_id)
        .await?
        .ok_or_else(|| misconfigured("the landing client does not exist"))?;
    if !client.redirect_uris.contains(&target.redirect_uri) {
        return Err(misconfigured(
            "the landing redirect_uri is not registered for the client",
        ));
    }
    if client.require_pkce || client.public {
        return Err(misconfigured(
            "the landing client requires PKCE (no challenge exists here)",
        ));
    }
    if !client.allows_provider(&provider.config().id) {
        return Err(misconfigured("the landing client does not accept this provider"));
    }
    let request = crate::oidc::authorize::AuthorizeRequest {
        client_id: client.id.clone(),
        redirect_uri: target.redirect_uri.clone(),
        scopes: target.scope.split_whitespace().map(str::to_owned).collect(),
        state: None,
        nonce: None,
        code_challenge: None,
        prompt: Default::default(),
        max_age: None,
        login_hint: None,
        idp_hint: None,
    };
    let ix = interaction::start(state, &request).await?;
    Ok(Finished {
        interaction_id: ix.id,
        browser_hash: None,
        result: Ok(identity),
    })
}

/// `GET /broker/saml/{provider}/slo`: the IdP's answer to a single-logout request; on to the
/// end of Gatehouse's own logout (already done locally) with the RelayState.
pub async fn saml_slo(
    State(state): State<AppState>,
    session: Session,
    Path(provider_id): Path<String>,
    axum::extract::RawQuery(query): axum::extract::RawQuery,
) -> Result<Response, PageError> {
    let provider = provider_of(&state, &provider_id)?;
    let query = query.unwrap_or_default();
    if query.contains("SAMLRequest=") {
        return idp_started_logout(&state, &session, provider.as_ref(), &query).await;
    }
    match provider.logout_return(&query).await {
        Some(Ok(relay_state)) => Ok(found(&crate::urls::with_query(
            &format!("{}/logout/upstream/{provider_id}", state.base()),
            &[("state", &relay_state)],
        ))),
        Some(Err(e)) => {
            tracing::warn!(provider = %provider_id, error = %e, "SAML logout answer refused");
            // Signed out here already; nothing trusted to continue to.
            Ok(found(&format!("{}/logout/upstream/{provider_id}", state.base())))
        }
        None => Err(PageError::NotFound),
    }
}

/// A logout the IdP started (the person signed out there or at another of its SPs): ends this
/// browser's Gatehouse session when it came from that IdP for that subject, then answers.
async fn idp_started_logout(
    state: &AppState,
    session: &Session,
    provider: &dyn Upstream,
    query: &str,
) -> Result<Response, PageError> {
    let id = &provider.config().id;
    let request = match provider.logout_request(query).await {
        Some(Ok(request)) => request,
        Some(Err(e)) => {
            tracing::warn!(provider = %id, error = %e, "logout request refused");
            return Err(PageError::bad_request(
                "Sign-out request not valid",
                "Gatehouse could not verify this sign-out request from the identity provider, so nothing was changed.",
            ));
        }
        None => return Err(PageError::NotFound),
    };
    if let Some(current) = login_session::current(session).await? {
        let subject = current
            .upstream_session
            .as_deref()
            .and_then(|s| serde_json::from_str::<serde_json::Value>(s).ok())
            .and_then(|v| v["name_id"].as_str().map(str::to_owned));
        if current.idp.as_deref() == Some(id.as_str()) && subject.as_deref() == Some(request.subject.as_str()) {
            // Back-channel logout tokens go out to the clients as at any logout.
            crate::login::session::end_session(state, session).await?;
            tracing::info!(provider = %id, "session ended by the identity provider's logout");
        }
    }
    match provider.logout_answer_url(&request).await {
        Some(url) => Ok(found(&url)),
        None => Ok(state.templates.page(
            StatusCode::OK,
            "logged_out",
            &json!({"title": "Signed out", "base": state.base(), "frontchannel": [], "continue_to": null, "refresh_to": null}),
        )),
    }
}

/// `GET /broker/saml/{provider}/metadata`: the SP metadata to import at the IdP.
pub async fn sp_metadata(
    State(state): State<AppState>,
    Path(provider_id): Path<String>,
) -> Result<Response, PageError> {
    let provider = provider_of(&state, &provider_id)?;
    match provider.sp_metadata().await {
        None => Err(PageError::NotFound),
        Some(Ok(xml)) => Ok((
            [(axum::http::header::CONTENT_TYPE, "application/samlmetadata+xml")],
            xml,
        )
            .into_response()),
        Some(Err(e)) => {
            tracing::warn!(provider = %provider_id, error = %e, "SP metadata unavailable");
            Err(upstream_failure(&state, &provider.config().name, None, explain(&e)))
        }
    }
}

/// The handed-off result, if this browser started the login it belongs to. In another browser
/// nothing is consumed.
async fn take_handoff(
    state: &AppState,
    session: &Session,
    provider_id: &str,
    id: &str,
) -> Result<Result<Finished, UpstreamError>, PageError> {
    use crate::store::handoffs;
    let Some(row) = handoffs::find(&state.db, id, provider_id).await? else {
        return Ok(Err(UpstreamError::UnknownState));
    };
    let record: HandoffRecord = serde_json::from_str(&row.result).map_err(PageError::internal)?;
    // Bound to the browser: a result only continues where its login was started (otherwise an
    // attacker could hand a victim's browser the attacker's own login). IdP-initiated sign-in
    // has no such start; that risk is why it is off unless configured.
    if !record.unsolicited {
        let held = browser_hash(session, false).await?;
        if !same_browser(record.browser_hash.as_deref(), held.as_deref()) {
            tracing::warn!(provider = %provider_id, "handoff arrived in a browser that did not start the login");
            return Ok(Err(UpstreamError::OtherBrowser));
        }
    }
    if !handoffs::claim(&state.db, id).await? {
        return Ok(Err(UpstreamError::UnknownState));
    }
    Ok(Ok(Finished {
        interaction_id: row.interaction_id,
        browser_hash: record.browser_hash,
        result: record.outcome.into_result(),
    }))
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
    let outcome = match cb.get("handoff") {
        Some(id) => take_handoff(&state, &session, &provider_id, id).await?,
        None => {
            let held = browser_hash(&session, false).await?;
            provider.finish(&cb, Arrival::Browser(held.as_deref())).await
        }
    };
    let finished = match outcome {
        Ok(f) => f,
        Err(e) => {
            tracing::warn!(provider = %provider_id, error = %e, "upstream callback refused");
            let started: Option<StartedLogin> = session.get(STARTED).await?;
            let ix = started.filter(|s| s.provider == provider_id).map(|s| s.interaction_id);
            return Err(upstream_failure(&state, &name, ix.as_deref(), explain(&e)));
        }
    };
    let ix = interaction::load_pending(&state, Some(&finished.interaction_id)).await?;
    let identity = match finished.result {
        Ok(id) => id,
        Err(e) => {
            tracing::warn!(provider = %provider_id, error = %e, "upstream login failed");
            return Err(upstream_failure(&state, &name, Some(&ix.id), explain(&e)));
        }
    };
    check_allowed(&state, &ix, provider.as_ref()).await?;
    let config = provider.config();
    let user = match broker::decide(&state.db, config, &identity).await? {
        LinkDecision::Returning(user) => broker::returning(&state.db, config, &identity, user)
            .await
            .map_err(|e| broker_failure(&state, &ix, e))?,
        LinkDecision::LinkVerifiedEmail(user) => {
            broker::link_existing(&state.db, &identity, &user)
                .await
                .map_err(|e| broker_failure(&state, &ix, e))?;
            user
        }
        LinkDecision::Create(new) => match broker::create_and_link(&state.db, &identity, new).await {
            Ok(user) => user,
            // Lost a race for the username or email: let the person choose.
            Err(BrokerError::User(UserError::UsernameTaken(_) | UserError::EmailTaken)) => {
                return ask(&state, &session, &ix, identity, "profile").await
            }
            Err(e) => return Err(broker_failure(&state, &ix, e)),
        },
        LinkDecision::AskToLink { .. } => return ask(&state, &session, &ix, identity, "link").await,
        LinkDecision::ReviewProfile(_) => return ask(&state, &session, &ix, identity, "profile").await,
        LinkDecision::Refuse(why) => return Err(upstream_failure(&state, &name, Some(&ix.id), &why)),
    };
    let upstream_session = identity.upstream_session;
    sign_in(&state, &session, &ix, &user, &provider_id, &["fed"], upstream_session).await
}

/// Keeps the identity for the person's answer on `/broker/<page>` (link or profile).
async fn ask(
    state: &AppState,
    session: &Session,
    ix: &Interaction,
    identity: ExternalIdentity,
    page: &str,
) -> Result<Response, PageError> {
    let pending = PendingIdentity {
        interaction_id: ix.id.clone(),
        identity,
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
) -> Result<(ExternalIdentity, Arc<dyn Upstream>), PageError> {
    let pending: Option<PendingIdentity> = session.get(PENDING).await?;
    match pending.filter(|p| p.interaction_id == ix.id) {
        Some(p) => {
            let provider = provider_of(state, &p.identity.provider)?;
            Ok((p.identity, provider))
        }
        None => Err(PageError::with_link(
            "Nothing to link",
            "There is no external sign-in waiting in this browser. Start again from the login page.",
            ix.login_url(&state.base()),
            "Back to sign-in",
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
    error: Option<&str>,
) -> Result<Response, PageError> {
    let data = json!({
        "title": "Link your account",
        "base": state.base(),
        "provider_name": provider.config().name,
        "email": id.email.as_deref().map(mask_email),
        "interaction": ix.id,
        "csrf": csrf::token(session).await?,
        "may_create": provider.config().linking != LinkingPolicy::LinkOnly,
        "error": error,
    });
    Ok(state
        .templates
        .form("broker_link", &data, error, StatusCode::UNAUTHORIZED))
}

/// `GET /broker/link?interaction=…`: an account with this email exists; prove it is yours.
pub async fn link_page(
    State(state): State<AppState>,
    session: Session,
    Query(q): Query<InteractionQuery>,
) -> Result<Response, PageError> {
    let ix = interaction::load_pending(&state, q.interaction.as_deref()).await?;
    let (id, provider) = pending_for(&state, &session, &ix).await?;
    render_link(&state, &session, &ix, &id, provider.as_ref(), None).await
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
    let (id, provider) = pending_for(&state, &session, &ix).await?;
    let user = super::password::check_password(&state, address, form.username.trim(), &form.password).await?;
    let Some(user) = user else {
        return render_link(
            &state,
            &session,
            &ix,
            &id,
            provider.as_ref(),
            Some("Invalid username or password."),
        )
        .await;
    };
    broker::link_existing(&state.db, &id, &user)
        .await
        .map_err(|e| broker_failure(&state, &ix, e))?;
    sign_in(
        &state,
        &session,
        &ix,
        &user,
        &id.provider,
        &["fed", "pwd"],
        id.upstream_session.clone(),
    )
    .await
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
    let data = json!({
        "title": "Review your profile",
        "base": state.base(),
        "provider_name": provider.config().name,
        "interaction": ix.id,
        "csrf": csrf::token(session).await?,
        "username": form.username,
        "email": form.email,
        "name": form.name,
        "error": error,
    });
    Ok(state
        .templates
        .form("broker_profile", &data, error, StatusCode::BAD_REQUEST))
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

fn refuse_create(state: &AppState, ix: &Interaction, provider: &dyn Upstream) -> PageError {
    upstream_failure(
        state,
        &provider.config().name,
        Some(&ix.id),
        "This provider may only be used with an existing account.",
    )
}

/// `GET /broker/profile?interaction=…`: choose a username (and email) for the new account.
pub async fn profile_page(
    State(state): State<AppState>,
    session: Session,
    Query(q): Query<InteractionQuery>,
) -> Result<Response, PageError> {
    let ix = interaction::load_pending(&state, q.interaction.as_deref()).await?;
    let (id, provider) = pending_for(&state, &session, &ix).await?;
    if provider.config().linking == LinkingPolicy::LinkOnly {
        return Err(refuse_create(&state, &ix, provider.as_ref()));
    }
    let suggested = broker::new_user_from(provider.config(), &id, None, None);
    let taken = users::find_by_username(&state.db, &suggested.username).await?.is_some();
    let form = ProfileForm {
        username: suggested.username,
        email: suggested.email.unwrap_or_default(),
        name: suggested.name.unwrap_or_default(),
        ..Default::default()
    };
    let problem = if taken {
        Some("That username is taken. Choose another.")
    } else if crate::names::Username::parse(&form.username).is_err() {
        Some("Choose a username: letters, digits and . _ - only.")
    } else if id.email.is_none() {
        Some("Your provider did not share an email address. Enter one.")
    } else {
        None
    };
    first_profile_view(&state, &session, &ix, provider.as_ref(), &form, problem).await
}

/// `POST /broker/profile`: create the account with the person's choices and link the identity.
pub async fn profile_submit(
    State(state): State<AppState>,
    session: Session,
    Form(form): Form<ProfileForm>,
) -> Result<Response, PageError> {
    csrf::verify(&session, form.csrf.as_deref()).await?;
    let ix = interaction::load_pending(&state, form.interaction.as_deref()).await?;
    let (id, provider) = pending_for(&state, &session, &ix).await?;
    if provider.config().linking == LinkingPolicy::LinkOnly {
        return Err(refuse_create(&state, &ix, provider.as_ref()));
    }
    let Ok(email) = crate::names::normalize_email(&form.email) else {
        return render_profile(
            &state,
            &session,
            &ix,
            provider.as_ref(),
            &form,
            Some("Enter a valid email address."),
        )
        .await;
    };
    let mut new = broker::new_user_from(
        provider.config(),
        &id,
        Some(form.username.trim().to_owned()),
        Some(email),
    );
    if form.name.chars().count() > crate::names::NAME_MAX_CHARS {
        let msg = format!("The name may have at most {} characters.", crate::names::NAME_MAX_CHARS);
        return render_profile(&state, &session, &ix, provider.as_ref(), &form, Some(&msg)).await;
    }
    if !form.name.trim().is_empty() {
        new.name = Some(form.name.trim().to_owned());
    }
    match broker::create_and_link(&state.db, &id, new).await {
        Ok(user) => {
            sign_in(
                &state,
                &session,
                &ix,
                &user,
                &id.provider,
                &["fed"],
                id.upstream_session.clone(),
            )
            .await
        }
        Err(BrokerError::User(UserError::UsernameTaken(_))) => {
            render_profile(
                &state,
                &session,
                &ix,
                provider.as_ref(),
                &form,
                Some("That username is taken. Choose another."),
            )
            .await
        }
        Err(BrokerError::User(UserError::InvalidUsername(why))) => {
            let msg = format!("That username is not allowed: it {why}.");
            render_profile(&state, &session, &ix, provider.as_ref(), &form, Some(&msg)).await
        }
        Err(BrokerError::User(UserError::EmailTaken)) => {
            let msg = "That email address belongs to another account. Use another address, or go back and link to that account.";
            render_profile(&state, &session, &ix, provider.as_ref(), &form, Some(msg)).await
        }
        Err(BrokerError::User(UserError::InvalidEmail(_))) => {
            let msg = "Enter a valid email address.";
            render_profile(&state, &session, &ix, provider.as_ref(), &form, Some(msg)).await
        }
        Err(e) => Err(broker_failure(&state, &ix, e)),
    }
}
