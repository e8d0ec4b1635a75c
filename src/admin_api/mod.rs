//! The admin API (`/admin/api/v1`, JSON): the edge over [`crate::admin`] for automation. Callers
//! are machine clients with Gatehouse's own client_credentials tokens (`admin:read`,
//! `admin:write`); errors are RFC 9457 problem details. Each route is registered together with
//! its OpenAPI operation (utoipa-axum), so `/admin/api/v1/openapi.json` documents exactly what
//! is served.
pub mod auth;
pub mod body;
pub mod clients;
pub mod events;
pub mod keys;
pub mod problem;
pub mod providers;
pub mod sessions;
pub mod users;

use axum::routing::get;
use axum::{Json, Router};
use utoipa::openapi::security::{ClientCredentials, Flow, OAuth2, Scopes, SecurityScheme};
use utoipa::openapi::{OpenApi as OpenApiDoc, Response as OpenApiResponse};
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::admin::{API_PATH, READ_SCOPE, WRITE_SCOPE};
use crate::state::AppState;

#[derive(OpenApi)]
#[openapi(
    info(title = "Gatehouse admin API", description = "Operate Gatehouse: clients, users, upstream providers, sessions, signing keys and the audit trail."),
    components(schemas(problem::ProblemBody, problem::FieldError)),
    tags(
        (name = "clients", description = "Client applications"),
        (name = "users", description = "Accounts"),
        (name = "providers", description = "Upstream identity providers"),
        (name = "sessions", description = "Sign-in sessions"),
        (name = "keys", description = "Token signing keys"),
        (name = "events", description = "The audit trail"),
    )
)]
struct ApiDoc;

/// The routes and the document that describes them.
fn documented() -> (Router<AppState>, OpenApiDoc) {
    OpenApiRouter::<AppState>::with_openapi(ApiDoc::openapi())
        .routes(routes!(clients::list_clients, clients::create_client))
        .routes(routes!(
            clients::get_client,
            clients::update_client,
            clients::delete_client
        ))
        .routes(routes!(clients::rotate_secret))
        .routes(routes!(clients::disable_client))
        .routes(routes!(clients::enable_client))
        .routes(routes!(users::list_users, users::create_user))
        .routes(routes!(users::get_user, users::update_user, users::delete_user))
        .routes(routes!(users::disable_user))
        .routes(routes!(users::enable_user))
        .routes(routes!(users::clear_throttle))
        .routes(routes!(users::send_password_reset))
        .routes(routes!(users::unlink_identity))
        .routes(routes!(providers::list_providers, providers::create_provider))
        .routes(routes!(
            providers::get_provider,
            providers::update_provider,
            providers::delete_provider
        ))
        .routes(routes!(providers::disable_provider))
        .routes(routes!(providers::enable_provider))
        .routes(routes!(sessions::list_sessions))
        .routes(routes!(sessions::end_session))
        .routes(routes!(keys::list_keys))
        .routes(routes!(keys::rotate_keys))
        .routes(routes!(events::list_events))
        .split_for_parts()
}

/// The OpenAPI document for a server whose issuer is `issuer`.
pub fn openapi(issuer: &str) -> OpenApiDoc {
    let mut doc = documented().1;
    finish(&mut doc, issuer);
    doc
}

/// Adds what only the running server knows (its token endpoint) and what every operation
/// shares (the 401 and 403 answers).
fn finish(doc: &mut OpenApiDoc, issuer: &str) {
    let scopes = Scopes::from_iter([
        (READ_SCOPE, "Read clients, users, providers, sessions, keys and events"),
        (WRITE_SCOPE, "Change them"),
    ]);
    let flow = Flow::ClientCredentials(ClientCredentials::new(format!("{issuer}/token"), scopes));
    let components = doc.components.get_or_insert_with(Default::default);
    components.add_security_scheme("machine_token", SecurityScheme::OAuth2(OAuth2::new([flow])));
    let problem = |what: &str| {
        utoipa::openapi::ResponseBuilder::new()
            .description(what)
            .content(
                "application/problem+json",
                utoipa::openapi::ContentBuilder::new()
                    .schema(Some(utoipa::openapi::Ref::from_schema_name("ProblemBody")))
                    .build(),
            )
            .build()
    };
    let shared: [(&str, OpenApiResponse); 3] = [
        (
            "401",
            problem("No token, or an expired, revoked or forged one (RFC 6750 invalid_token)"),
        ),
        (
            "403",
            problem("The token lacks the scope (RFC 6750 insufficient_scope)"),
        ),
        (
            "422",
            problem("A field of the request is invalid (its name in `field`)"),
        ),
    ];
    for item in doc.paths.paths.values_mut() {
        for op in [
            &mut item.get,
            &mut item.post,
            &mut item.patch,
            &mut item.delete,
            &mut item.put,
        ]
        .into_iter()
        .flatten()
        {
            for (status, response) in &shared {
                op.responses
                    .responses
                    .entry(status.to_string())
                    .or_insert_with(|| response.clone().into());
            }
        }
    }
}

/// The admin API's routes (absolute paths below the issuer), with its OpenAPI document served
/// at `/admin/api/v1/openapi.json` and a problem+json 404 for any other path below it.
pub fn router(state: &AppState) -> Router<AppState> {
    let (routes, mut doc) = documented();
    finish(&mut doc, &state.issuer);
    routes
        .route(
            &format!("{API_PATH}/openapi.json"),
            get(move || {
                let doc = doc.clone();
                async move { Json(doc) }
            }),
        )
        .route(
            &format!("{API_PATH}/{{*rest}}"),
            axum::routing::any(|| async { problem::Problem::no_such_endpoint() }),
        )
}
