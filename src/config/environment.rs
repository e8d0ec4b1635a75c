//! What the process environment adds to the configuration: `GATEHOUSE_…` variables that name
//! no key (a typo would otherwise be ignored in silence), and secrets named by `…_env` keys
//! that are not set (found when the configuration loads, not at the first login).
use serde_json::Value;

use super::Config;

/// `GATEHOUSE_…` variables of the command itself, not configuration keys.
const COMMAND_VARIABLES: &[&str] = &["GATEHOUSE_LOG", "GATEHOUSE_CONFIG"];

/// The `GATEHOUSE_…` variables among `vars` that name no configuration key, each with a
/// warning to print (naming the closest key when one is close).
pub fn unknown_variables(vars: impl IntoIterator<Item = (String, String)>) -> Vec<String> {
    let known = serde_json::to_value(Config::default()).unwrap_or(Value::Null);
    let mut warnings: Vec<String> = vars
        .into_iter()
        .filter_map(|(name, _)| {
            let key = name.strip_prefix("GATEHOUSE_")?;
            if COMMAND_VARIABLES.contains(&name.as_str()) || key.is_empty() {
                return None;
            }
            let path: Vec<String> = key.split("__").map(str::to_ascii_lowercase).collect();
            unknown_segment(&known, &path).map(|depth| warning(&name, &known, &path, depth))
        })
        .collect();
    warnings.sort();
    warnings
}

/// The depth of the first segment of `path` that the configuration does not have; `None` when
/// every segment down to a leaf (or to a list or unset table, which the file fills) is known.
fn unknown_segment(known: &Value, path: &[String]) -> Option<usize> {
    let mut at = known;
    for (depth, segment) in path.iter().enumerate() {
        match at {
            Value::Object(fields) => match fields.get(segment) {
                Some(next) => at = next,
                None => return Some(depth),
            },
            // A list (clients, providers) or an unset table: nothing to compare with.
            _ => return None,
        }
    }
    None
}

/// "GATEHOUSE_X names no configuration key", with the nearest known key at the bad depth.
fn warning(name: &str, known: &Value, path: &[String], depth: usize) -> String {
    let mut at = known;
    for segment in &path[..depth] {
        at = &at[segment.as_str()];
    }
    let nearest = at.as_object().and_then(|fields| {
        fields
            .keys()
            .map(|k| (strsim::levenshtein(k, &path[depth]), k))
            .filter(|(distance, _)| *distance <= 2)
            .min()
            .map(|(_, k)| k.clone())
    });
    match nearest {
        Some(k) => {
            let mut fixed = path.to_vec();
            fixed[depth] = k;
            let suggestion = format!("GATEHOUSE_{}", fixed.join("__").to_ascii_uppercase());
            format!(
                "environment variable {name} names no configuration key (did you mean {suggestion}?); it is ignored"
            )
        }
        None => format!("environment variable {name} names no configuration key; it is ignored"),
    }
}

/// Checks that every variable a client's `secret_env` or a provider's `client_secret_env` names is set: a missing secret stops every command
/// that loads the configuration, naming what needs it.
pub fn check_secret_variables(config: &Config, lookup: impl Fn(&str) -> bool) -> Result<(), String> {
    let clients = config
        .clients
        .iter()
        .filter(|c| c.secret.is_none())
        .filter_map(|c| Some((format!("client {}", c.id), c.secret_env.as_ref()?)));
    let providers = config
        .providers
        .iter()
        .filter(|p| p.client_secret.is_none())
        .filter_map(|p| Some((format!("provider {}", p.id), p.client_secret_env.as_ref()?)));
    // A declared user's `password_env` is read only to create the account, so it may be gone
    // later: not checked here.
    for (what, var) in clients.chain(providers) {
        if !lookup(var.as_str()) {
            return Err(format!("{what}: environment variable {var} is not set"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{ClientDecl, ProviderConfig};

    fn vars(names: &[&str]) -> Vec<(String, String)> {
        names.iter().map(|n| (n.to_string(), "1".to_string())).collect()
    }

    #[test]
    fn a_misspelled_variable_is_named_with_the_key_it_probably_meant() {
        let warnings = unknown_variables(vars(&[
            "GATEHOUSE_SESION__IDLE_TIMEOUT",
            "GATEHOUSE_SESSION__IDLE_TIMEOUT",
            "GATEHOUSE_LOG",
            "GATEHOUSE_CONFIG",
            "GATEHOUSE_LOG__FORMAT",
            "GATEHOUSE_ISSUER",
            "GATEHOUSE_DATABASE_URL",
            "HOME",
            "GATEHOUSE_SERVER__MAX_CONECTIONS",
            "GATEHOUSE_WHATEVER",
            "GATEHOUSE_CLIENTS__0__ID",
        ]));
        assert_eq!(
            warnings,
            [
                "environment variable GATEHOUSE_SERVER__MAX_CONECTIONS names no configuration key (did you mean GATEHOUSE_SERVER__MAX_CONNECTIONS?); it is ignored",
                "environment variable GATEHOUSE_SESION__IDLE_TIMEOUT names no configuration key (did you mean GATEHOUSE_SESSION__IDLE_TIMEOUT?); it is ignored",
                "environment variable GATEHOUSE_WHATEVER names no configuration key; it is ignored",
            ]
        );
    }

    #[test]
    fn an_unset_secret_variable_is_named_with_its_owner() {
        let mut config = Config::default();
        config.clients.push(ClientDecl {
            secret_env: Some("APP_SECRET".into()),
            redirect_uris: vec!["https://app.example/cb".into()],
            ..ClientDecl::new("app")
        });
        config.providers.push(ProviderConfig {
            id: "corp".into(),
            client_secret_env: Some("CORP_SECRET".into()),
            ..Default::default()
        });
        assert_eq!(
            check_secret_variables(&config, |v| v == "CORP_SECRET"),
            Err("client app: environment variable APP_SECRET is not set".into())
        );
        assert_eq!(
            check_secret_variables(&config, |v| v == "APP_SECRET"),
            Err("provider corp: environment variable CORP_SECRET is not set".into())
        );
        assert_eq!(check_secret_variables(&config, |_| true), Ok(()));
    }
}
