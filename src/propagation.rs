//! Changes made on another node (or by the command line) put in force on this one: every
//! node polls the change versions (`store::changes`) every second and, when one moved, drops
//! or rebuilds what it holds of that kind. A disabled user needs nothing here: no node caches
//! accounts, so every sign-in, token, userinfo and introspection call reads the account.
use std::collections::HashMap;
use std::time::Duration;

use crate::state::AppState;
use crate::store::changes::{self, Topic};

/// How often each node looks for changes.
pub const POLL: Duration = Duration::from_secs(1);

/// Follows the change versions for as long as the process runs.
pub fn follow(state: &AppState) {
    let state = state.clone();
    tokio::spawn(async move {
        let mut seen: HashMap<Topic, i64> = changes::versions(&state.db).await.unwrap_or_default();
        let mut tick = tokio::time::interval(POLL);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let now = match changes::versions(&state.db).await {
                Ok(v) => v,
                Err(e) => {
                    tracing::debug!(error = %e, "change versions not read");
                    continue;
                }
            };
            for topic in Topic::ALL {
                if now.get(&topic) != seen.get(&topic) {
                    apply(&state, topic).await;
                }
            }
            seen = now;
        }
    });
}

/// Drops or rebuilds this node's copy of `topic`.
async fn apply(state: &AppState, topic: Topic) {
    tracing::debug!(topic = topic.as_str(), "a change from another node");
    match topic {
        Topic::Providers => {
            if let Err(e) = crate::upstream::runtime::refresh(&state.db, &state.upstreams).await {
                tracing::warn!(error = %e, "runtime providers not reloaded");
            }
        }
        Topic::Clients => state.clients.invalidate_all(),
        Topic::Keys => state.keys.forget().await,
    }
}
