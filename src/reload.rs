//! SIGHUP: the config file read again, its upstream providers and clients (and new declared
//! users) put in force without a restart. Every other setting keeps its value from the start
//! (a changed one is named in a warning: it needs a restart).
use std::path::{Path, PathBuf};

use anyhow::Context;

use crate::config::{declared, Config};
use crate::state::AppState;

/// What a reload put in force.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reloaded {
    /// Enabled providers from the file now in force.
    pub providers: usize,
    /// Clients declared in the file, registered again.
    pub clients: usize,
    /// Top-level settings that changed in the file but keep their running value.
    pub need_restart: Vec<String>,
}

/// Reads `path` again and applies its providers, clients and users; on any error nothing
/// changes (the file's providers are built before anything is applied).
pub async fn reload(state: &AppState, path: Option<&Path>) -> anyhow::Result<Reloaded> {
    let new = Config::load(path)?;
    let mut applied = state.config.clone();
    applied.clients = new.clients.clone();
    applied.users = new.users.clone();
    applied.provider_entries = new.provider_entries.clone();
    applied.providers = new.providers.clone();
    // Built first: a provider that cannot be built stops the reload before clients change.
    crate::upstream::Registry::from_providers(&applied.providers, &state.issuer, &state.db, &state.http)
        .map_err(anyhow::Error::msg)?;
    declared::apply(&state.db, &applied)
        .await
        .context("applying clients and users from the config")?;
    // Other nodes drop theirs too: `clients::upsert` raised the clients change version.
    state.clients.invalidate_all();
    state
        .upstreams
        .set_file(applied.providers.clone())
        .map_err(anyhow::Error::msg)?;
    Ok(Reloaded {
        providers: applied.providers.iter().filter(|p| p.enabled).count(),
        clients: applied.clients.len(),
        need_restart: changed_settings(&state.config, &new),
    })
}

/// The top-level settings whose value differs between `running` and `file`, apart from the
/// ones a reload applies.
fn changed_settings(running: &Config, file: &Config) -> Vec<String> {
    const RELOADED: &[&str] = &["clients", "users", "providers"];
    let (Ok(serde_json::Value::Object(a)), Ok(serde_json::Value::Object(b))) =
        (serde_json::to_value(running), serde_json::to_value(file))
    else {
        return Vec::new();
    };
    a.iter()
        .filter(|(k, v)| !RELOADED.contains(&k.as_str()) && b.get(k.as_str()) != Some(v))
        .map(|(k, _)| k.clone())
        .collect()
}

/// Reloads on every SIGHUP for as long as the process runs; a failed reload is logged and the
/// running configuration stays.
pub fn on_sighup(state: AppState, path: Option<PathBuf>) {
    #[cfg(unix)]
    match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()) {
        Ok(mut hup) => {
            tokio::spawn(async move {
                while hup.recv().await.is_some() {
                    match reload(&state, path.as_deref()).await {
                        Ok(r) => {
                            tracing::info!(
                                providers = r.providers,
                                clients = r.clients,
                                "SIGHUP: reloaded the providers and clients of the configuration"
                            );
                            if !r.need_restart.is_empty() {
                                tracing::warn!(
                                    settings = %r.need_restart.join(", "),
                                    "SIGHUP: these settings changed in the file and apply only after a restart"
                                );
                            }
                        }
                        Err(e) => tracing::error!(
                            error = %format!("{e:#}"),
                            "SIGHUP: the configuration was not reloaded; the running one stays"
                        ),
                    }
                }
            });
        }
        Err(e) => tracing::warn!(error = %e, "could not handle SIGHUP; it will end the process"),
    }
    #[cfg(not(unix))]
    let _ = (state, path);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_settings_a_reload_does_not_apply_are_named() {
        let running = Config::default();
        let mut file = Config::default();
        file.clients.push(crate::config::ClientDecl::new("new"));
        assert!(changed_settings(&running, &file).is_empty());
        file.session.idle_timeout = 5;
        file.registration.enabled = true;
        assert_eq!(changed_settings(&running, &file), ["registration", "session"]);
    }
}
