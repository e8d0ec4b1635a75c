//! Gives every request its audit context (the client's address, as the limits see it), so an
//! event recorded anywhere while serving it names where it came from.
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;

use crate::audit::{self, RequestContext};
use crate::web::limits::AddressLimits;

/// Runs the rest of the request inside its audit context.
pub async fn scope(State(limits): State<Arc<AddressLimits>>, req: Request, next: Next) -> Response {
    let peer = req
        .extensions()
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|c| c.0.ip());
    let address = peer.map(|p| limits.client_address(p, req.headers()));
    audit::in_context(RequestContext::new(address), next.run(req)).await
}
