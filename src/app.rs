//! The top of the house: the router (every route in one table) and the server loop.
use std::time::Duration;

use anyhow::Context;
use axum::routing::{get, post};
use axum::Router;
use tokio::net::TcpListener;
use tower_sessions::cookie::SameSite;
use tower_sessions::session_store::ExpiredDeletion;
use tower_sessions::{Expiry, SessionManagerLayer};

use crate::config::Config;
use crate::state::AppState;
use crate::store::sessions::SessionBackend;
use crate::{demo, home, login, oidc, store, web};

/// The router with every endpoint, sessions and error pages.
pub async fn router(state: &AppState) -> anyhow::Result<Router> {
    let routes = Router::new()
        .merge(site_routes())
        .merge(provider_routes())
        .merge(login_routes())
        .merge(broker_routes())
        .merge(account_routes())
        .merge(mail_link_routes())
        .merge(crate::admin_api::router(state))
        .fallback(|| async { web::error::PageError::NotFound });
    let base = state.base();
    let app = if base.is_empty() {
        routes
    } else {
        Router::new().nest(&base, routes)
    };
    Ok(with_layers(app, state, session_layer(state).await?))
}

/// The site itself: home, health, static assets, and the demo client.
fn site_routes() -> Router<AppState> {
    Router::new()
        .route("/", get(home::home))
        .route("/healthz", get(home::healthz))
        .route("/readyz", get(home::readyz))
        .route("/metrics", get(home::metrics))
        .route("/static/gatehouse.css", get(home::stylesheet))
        .route("/static/autosubmit.js", get(home::autosubmit_script))
        .route("/static/theme/{*path}", get(web::theme::theme_file))
        .route("/static/passkeys.js", get(home::passkeys_script))
        .route("/demo/start", get(demo::start))
        .route("/demo/callback", get(demo::callback))
}

/// The OpenID Provider's endpoints.
fn provider_routes() -> Router<AppState> {
    use oidc::*;
    Router::new()
        .route(
            "/.well-known/openid-configuration",
            get(discovery::openid_configuration),
        )
        .route("/jwks", get(jwks::jwks))
        .route("/authorize", get(authorize::authorize).post(authorize::authorize))
        .route("/authorize/resume", get(authorize::resume))
        .route("/token", post(token::token))
        .route("/revoke", post(revocation::revoke))
        .route("/par", post(par::push))
        .route("/introspect", post(introspection::introspect))
        .route("/userinfo", get(userinfo::userinfo).post(userinfo::userinfo))
        .route("/logout", get(logout::logout).post(logout::logout))
        .route("/logout/confirm", post(logout::confirm))
        .route("/logout/upstream/{provider}", get(logout::after_upstream))
}

/// The local sign-in pages of an interaction.
fn login_routes() -> Router<AppState> {
    use login::*;
    Router::new()
        .route("/login", get(password::page).post(password::submit))
        .route("/login/discover", post(password::discover))
        .route("/login/mfa", get(mfa::page).post(mfa::submit))
        .route("/login/mfa/enrol", get(mfa::enrol_page).post(mfa::enrol_submit))
        .route("/login/passkey/options", post(passkey::sign_in_options))
        .route("/login/passkey", post(passkey::sign_in))
        .route("/login/mfa/passkey/options", post(passkey::second_factor_options))
        .route("/login/mfa/passkey", post(passkey::second_factor))
        .route("/login/mfa/enrol/passkey/options", post(passkey_enrolment::options))
        .route("/login/mfa/enrol/passkey", post(passkey_enrolment::submit))
        .route("/register", get(register::page).post(register::submit))
        .route("/consent", get(consent::page).post(consent::submit))
}

/// Brokered sign-in: to an upstream provider and back, then link or create.
fn broker_routes() -> Router<AppState> {
    use login::federated::*;
    Router::new()
        .route("/broker/start/{provider}", get(start))
        .route("/broker/callback/{provider}", get(callback).post(cross_site_answer))
        .route("/broker/saml/{provider}/acs", post(cross_site_answer))
        .route("/broker/saml/{provider}/metadata", get(login::saml::sp_metadata))
        .route("/broker/saml/{provider}/slo", get(login::saml::saml_slo))
        .route("/broker/link", get(link_page).post(link_submit))
        .route("/broker/profile", get(profile_page).post(profile_submit))
}

/// The person's own account pages.
fn account_routes() -> Router<AppState> {
    use login::account::*;
    Router::new()
        .route("/account", get(page))
        .route("/account/callback", get(callback))
        .route("/account/sessions/end", post(end))
        .route("/account/mfa/totp", get(totp_page).post(totp_submit))
        .route("/account/mfa/manage", post(manage))
        .route("/account/passkeys/options", post(login::account::passkeys::options))
        .route("/account/passkeys", post(login::account::passkeys::add))
        .route("/account/passkeys/remove", post(login::account::passkeys::remove))
        .route("/account/profile", post(update_profile))
        .route("/account/links", post(link_start))
        .route("/account/links/remove", post(unlink))
        .route("/account/apps/revoke", post(revoke_app))
        .route("/account/delete", get(delete_page).post(delete))
        .route("/account/delete/confirm", post(confirm_with_provider))
}

/// Pages reached by links sent by mail, and the account pages that send them.
fn mail_link_routes() -> Router<AppState> {
    use login::{email, password_change, recovery};
    Router::new()
        .route(
            "/login/forgot",
            get(recovery::forgot_page).post(recovery::forgot_submit),
        )
        .route("/login/reset", get(recovery::reset_page).post(recovery::reset_submit))
        .route("/email/verify", get(email::verify_page).post(email::verify_submit))
        .route("/account/email", get(email::settings_page).post(email::change_submit))
        .route("/account/email/resend", post(email::resend))
        .route(
            "/account/password",
            get(password_change::page).post(password_change::submit),
        )
}

/// Server-side sessions in the database, behind a Secure (for https), HttpOnly, SameSite=Lax
/// cookie scoped to the issuer's path.
async fn session_layer(state: &AppState) -> anyhow::Result<SessionManagerLayer<SessionBackend>> {
    let sessions = SessionBackend::for_database(&state.db)
        .await
        .context("creating the session table")?;
    tokio::spawn(sessions.clone().continuously_delete_expired(Duration::from_secs(600)));
    let path = match state.base() {
        base if base.is_empty() => "/".to_string(),
        base => base,
    };
    Ok(SessionManagerLayer::new(sessions)
        .with_name(state.config.session.cookie_name.clone())
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(state.config.secure_cookies())
        .with_path(path)
        .with_expiry(Expiry::OnInactivity(time::Duration::seconds(
            state.config.session.idle_timeout as i64,
        ))))
}

/// The middleware around every route, innermost first: request guard, body limit, error
/// pages, sessions, availability, security headers, HSTS (https only), the request id at hand
/// for pages (`request_id::scope`), tracing in a span with the request id, the request id
/// (returned as `x-request-id`), a proxy's request id checked.
fn with_layers(app: Router<AppState>, state: &AppState, sessions: SessionManagerLayer<SessionBackend>) -> Router {
    let hsts = state
        .config
        .secure_cookies()
        .then(web::headers::strict_transport_security);
    app.layer(axum::middleware::from_fn_with_state(
        state.clone(),
        web::guard::request_guard,
    ))
    .layer(axum::extract::DefaultBodyLimit::max(state.config.server.max_body_bytes))
    .layer(axum::middleware::map_response_with_state(
        state.clone(),
        web::error_pages::render_error_pages,
    ))
    .layer(sessions)
    .layer(axum::middleware::from_fn_with_state(
        state.clone(),
        web::guard::availability,
    ))
    .layer(axum::middleware::from_fn(web::headers::security_headers))
    .layer(axum::middleware::from_fn_with_state(
        state.clone(),
        web::audit_context::scope,
    ))
    // Outside the error pages, which render in the request's language too.
    .layer(axum::middleware::from_fn(web::locale::negotiate))
    .layer(tower::util::option_layer(hsts))
    .route_layer(axum::middleware::from_fn_with_state(state.clone(), home::measure))
    .layer(axum::middleware::from_fn(web::request_id::scope))
    .layer(tower_http::trace::TraceLayer::new_for_http().make_span_with(web::request_id::span))
    .layer(tower_http::request_id::PropagateRequestIdLayer::new(
        web::request_id::HEADER,
    ))
    .layer(tower_http::request_id::SetRequestIdLayer::new(
        web::request_id::HEADER,
        tower_http::request_id::MakeRequestUuid,
    ))
    .layer(axum::middleware::from_fn(web::request_id::sanitize))
    .with_state(state.clone())
}

/// Deletes expired interactions, codes and tokens now and then.
fn spawn_purge(state: &AppState) {
    let db = state.db.clone();
    let keys = state.keys.clone();
    let limits = state.limits.clone();
    let rotate_after = state.config.keys.rotate_after_days as i64 * 86_400;
    let absolute = state.config.session.absolute_timeout as i64;
    let audit_retention = state.config.audit.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(600));
        loop {
            tick.tick().await;
            let results = [
                store::interactions::purge_expired(&db).await,
                store::codes::purge_expired(&db).await,
                store::tokens::purge_expired(&db).await,
                store::upstream_states::purge_expired(&db).await,
                store::refresh_tokens::purge_expired(&db).await,
                store::replay::purge_expired(&db).await,
                store::handoffs::purge_expired(&db).await,
                store::email_tokens::purge_expired(&db).await,
                crate::oidc::par::purge_expired(&db).await,
                store::login_sessions::purge(&db, absolute).await,
                store::throttles::purge_idle(&db, store::now(), 86_400).await,
            ];
            limits.forget_quiet();
            for e in results.into_iter().filter_map(Result::err) {
                tracing::warn!(error = %e, "purging expired records failed");
            }
            match crate::audit::purge_expired(&db, &audit_retention, crate::audit::Actor::System).await {
                Ok(0) => {}
                Ok(removed) => tracing::info!(removed, "audit events past their retention purged"),
                Err(e) => tracing::warn!(error = %e, "purging old audit events failed"),
            }
            if rotate_after > 0 {
                if let Err(e) = keys.rotate_if_older_than(rotate_after).await {
                    tracing::warn!(error = %e, "scheduled key rotation failed");
                }
            }
        }
    });
}

/// Serves on an already bound listener until `shutdown` resolves.
pub async fn serve_on(
    listener: TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let addr = listener.local_addr()?;
    state.set_local_addr(addr);
    let router = router(&state).await?;
    spawn_purge(&state);
    crate::propagation::follow(&state);
    let server = &state.config.server;
    let limits = web::listener::Limits {
        header_read: server.header_read(),
        header_read_when_busy: server.header_read_when_busy(),
        max_connections: web::listener::fit_to_open_files(server.max_connections, web::listener::open_file_limit()),
        drain: server.request() + server.header_read(),
    };
    tracing::info!(%addr, issuer = %state.issuer, max_connections = limits.max_connections, "Gatehouse listening");
    // The listener gives every request the peer as ConnectInfo<SocketAddr> (per-address limits).
    web::listener::serve(listener, router, limits, shutdown).await?;
    Ok(())
}

/// Builds everything and serves on the configured address until Ctrl-C / SIGTERM; SIGHUP
/// reloads the providers and clients of `config_path`.
pub async fn serve(config: Config, config_path: Option<std::path::PathBuf>) -> anyhow::Result<()> {
    match web::listener::raise_open_file_limit() {
        Ok((before, after)) => tracing::info!(before, after, "open-file limit"),
        Err(e) => tracing::warn!(error = %e, "could not raise the open-file limit"),
    }
    for warning in crate::config::server::listen_issuer_mismatches(&config.issuer, config.listen) {
        tracing::warn!("{warning}");
    }
    let listener = TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("binding {}", config.listen))?;
    let state = AppState::build(config).await?;
    crate::reload::on_sighup(state.clone(), config_path);
    serve_on(listener, state, shutdown_signal()).await
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("shutting down");
}
