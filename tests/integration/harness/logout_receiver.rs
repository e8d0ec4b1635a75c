//! A client's back-channel logout endpoint on loopback, keeping every logout token it gets.
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::client_app::jwt_part;

/// A running endpoint; it stops when dropped.
pub struct LogoutReceiver {
    /// Where Gatehouse posts logout tokens (`http://127.0.0.1:…/bc`).
    pub url: String,
    tokens: Arc<Mutex<Vec<String>>>,
    server: tokio::task::JoinHandle<()>,
}

impl LogoutReceiver {
    /// Listens on a free port, answering each logout at once.
    pub async fn start() -> Self {
        Self::start_on(SocketAddr::from(([127, 0, 0, 1], 0)), Duration::ZERO).await
    }

    /// Listens on `addr` (127.0.0.1), answering each logout after `delay`.
    pub async fn start_on(addr: SocketAddr, delay: Duration) -> Self {
        let tokens: Arc<Mutex<Vec<String>>> = Arc::default();
        let sink = tokens.clone();
        let app = axum::Router::new().route(
            "/bc",
            axum::routing::post(move |axum::Form(f): axum::Form<HashMap<String, String>>| {
                let sink = sink.clone();
                async move {
                    tokio::time::sleep(delay).await;
                    sink.lock().unwrap().push(f["logout_token"].clone());
                    "ok"
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind(addr).await.expect("bind receiver");
        let url = format!("http://{}/bc", listener.local_addr().unwrap());
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self { url, tokens, server }
    }

    /// The logout tokens received so far.
    pub fn tokens(&self) -> Vec<String> {
        self.tokens.lock().unwrap().clone()
    }

    /// The `sid` of each logout token received so far.
    pub fn sids(&self) -> Vec<String> {
        self.tokens()
            .iter()
            .map(|t| jwt_part(t, 1)["sid"].as_str().unwrap_or_default().to_owned())
            .collect()
    }
}

impl Drop for LogoutReceiver {
    fn drop(&mut self) {
        self.server.abort();
    }
}
