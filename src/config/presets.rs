//! Provider presets: one TOML file per social provider (`providers/<name>.toml`). A
//! `[[providers]]` entry names a preset, adds its credentials and may override any field; the
//! two are merged here, at config load.
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use figment::providers::{Format, Serialized, Toml};
use figment::value::{Dict, Value};
use figment::Figment;
use serde::Deserialize;
use url::Url;

use super::provider::{ProfileRequest, ProviderConfig, ProviderKind, ResponseMode, UpstreamAuthMethod};

/// The presets shipped in the binary (the files of `providers/`).
pub const BUILT_IN: &[(&str, &str)] = &[
    ("apple", include_str!("../../providers/apple.toml")),
    ("bitbucket", include_str!("../../providers/bitbucket.toml")),
    ("discord", include_str!("../../providers/discord.toml")),
    ("facebook", include_str!("../../providers/facebook.toml")),
    ("github", include_str!("../../providers/github.toml")),
    ("gitlab", include_str!("../../providers/gitlab.toml")),
    ("google", include_str!("../../providers/google.toml")),
    ("linkedin", include_str!("../../providers/linkedin.toml")),
    ("microsoft", include_str!("../../providers/microsoft.toml")),
    ("slack", include_str!("../../providers/slack.toml")),
];

/// Why presets or a `[[providers]]` entry could not be loaded. Each names the file and field.
#[derive(Debug, thiserror::Error)]
pub enum PresetError {
    #[error("provider preset {file}: {source}")]
    Invalid { file: String, source: Box<figment::Error> },
    #[error("provider preset {file}: {message}")]
    Incomplete { file: String, message: String },
    #[error("provider preset folder {dir}: {source}")]
    Folder { dir: PathBuf, source: std::io::Error },
    #[error("providers[{index}]: unknown preset {name:?} (known presets: {known})")]
    Unknown { index: usize, name: String, known: String },
    #[error("providers[{index}]: `preset` must be a string")]
    PresetNotString { index: usize },
    #[error("providers[{index}] ({label}): {source}")]
    Entry {
        index: usize,
        label: String,
        source: Box<figment::Error>,
    },
}

/// The claim mapping as a preset must spell it out: every field stated ("" = not supplied).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)] // read only to prove the file is complete
struct CompleteClaims {
    subject: String,
    email: String,
    email_verified: String,
    name: String,
    username: String,
    picture: String,
    groups: Option<String>,
}

/// What a preset file must contain: everything about the provider, nothing about the instance.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)] // read only to prove the file is complete
struct PresetFile {
    name: String,
    kind: ProviderKind,
    icon: String,
    issuer: Option<Url>,
    authorization_endpoint: Option<Url>,
    token_endpoint: Option<Url>,
    userinfo_endpoint: Option<Url>,
    #[serde(default)]
    profile_requests: Vec<ProfileRequest>,
    scopes: Vec<String>,
    auth_method: UpstreamAuthMethod,
    pkce: bool,
    #[serde(default)]
    response_mode: ResponseMode,
    #[serde(default)]
    fetch_userinfo: bool,
    #[serde(default)]
    name_from_user_param: bool,
    tenant_claim: Option<String>,
    trust_email: bool,
    claims: CompleteClaims,
}

/// One loaded preset.
#[derive(Debug, Clone)]
pub struct Preset {
    /// Where it came from, for error messages: a path, or `providers/<name>.toml (built-in)`.
    pub file: String,
    data: Dict,
}

impl Preset {
    /// Parses and checks one preset file's text.
    pub fn parse(name: &str, file: &str, figment: Figment) -> Result<Self, PresetError> {
        let invalid = |e: figment::Error| PresetError::Invalid {
            file: file.to_owned(),
            source: Box::new(e),
        };
        let complete: PresetFile = figment.extract().map_err(invalid)?;
        let data: Dict = figment.extract().map_err(invalid)?;
        let incomplete = |message: String| PresetError::Incomplete {
            file: file.to_owned(),
            message,
        };
        if !complete.icon.trim_start().starts_with("<svg") || !complete.icon.contains("http://www.w3.org/2000/svg") {
            return Err(incomplete("`icon` must be SVG markup with the SVG namespace".into()));
        }
        let urls = [
            ("issuer", &complete.issuer),
            ("authorization_endpoint", &complete.authorization_endpoint),
            ("token_endpoint", &complete.token_endpoint),
            ("userinfo_endpoint", &complete.userinfo_endpoint),
        ];
        for (field, url) in urls {
            if url.as_ref().is_some_and(|u| u.scheme() != "https") {
                return Err(incomplete(format!("`{field}` must be https")));
            }
        }
        if let Some(i) = complete.profile_requests.iter().position(|r| r.url.scheme() != "https") {
            return Err(incomplete(format!("profile_requests[{i}].url must be https")));
        }
        // The same rules as a configured provider, with stand-in credentials.
        let probe = Preset {
            file: file.to_owned(),
            data: data.clone(),
        };
        let mut entry = Dict::new();
        entry.insert("client_id".into(), Value::from("probe"));
        entry.insert("client_secret".into(), Value::from("probe"));
        let config = probe.merge(name, &entry).map_err(|e| invalid(*e))?;
        config.validate().map_err(incomplete)?;
        Ok(probe)
    }

    /// The preset with a `[[providers]]` entry on top (tables merge, other values replace).
    fn merge(&self, name: &str, entry: &Dict) -> Result<ProviderConfig, Box<figment::Error>> {
        let mut defaults = self.data.clone();
        defaults.insert("preset".into(), Value::from(name));
        defaults.insert("id".into(), Value::from(name));
        Figment::from(Serialized::defaults(defaults))
            .merge(Serialized::defaults(entry.clone()))
            .extract()
            .map_err(Box::new)
    }
}

/// Every preset available to `[[providers]] preset = "…"`.
#[derive(Debug, Clone)]
pub struct Catalog {
    presets: BTreeMap<String, Preset>,
}

impl Catalog {
    /// The built-in presets, then the files of `dir` (which replace built-ins of the same name).
    pub fn load(dir: Option<&Path>) -> Result<Self, PresetError> {
        let mut presets = BTreeMap::new();
        for (name, text) in BUILT_IN {
            let file = format!("providers/{name}.toml (built-in)");
            let preset = Preset::parse(name, &file, Figment::from(Toml::string(text)))?;
            presets.insert((*name).to_owned(), preset);
        }
        if let Some(dir) = dir {
            let folder = |source| PresetError::Folder {
                dir: dir.to_path_buf(),
                source,
            };
            let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
                .map_err(folder)?
                .map(|e| e.map(|e| e.path()))
                .collect::<Result<_, _>>()
                .map_err(folder)?;
            paths.retain(|p| p.extension().is_some_and(|e| e == "toml"));
            paths.sort();
            for path in paths {
                let Some(name) = path.file_stem().and_then(|s| s.to_str()) else {
                    continue;
                };
                let file = path.display().to_string();
                let preset = Preset::parse(name, &file, Figment::from(Toml::file_exact(&path)))?;
                presets.insert(name.to_owned(), preset);
            }
        }
        Ok(Self { presets })
    }

    /// The preset with this name.
    pub fn get(&self, name: &str) -> Option<&Preset> {
        self.presets.get(name)
    }

    /// Names of every preset, sorted.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.presets.keys().map(String::as_str)
    }

    /// One `[[providers]]` entry, merged over its preset when it names one.
    pub fn resolve_entry(&self, index: usize, entry: &Dict) -> Result<ProviderConfig, PresetError> {
        let label = |kind: &str| {
            entry
                .get("id")
                .and_then(Value::as_str)
                .map(|id| format!("id {id:?}, {kind}"))
                .unwrap_or_else(|| kind.to_owned())
        };
        let at_entry = |label: String| {
            move |e: figment::Error| PresetError::Entry {
                index,
                label,
                source: Box::new(e),
            }
        };
        match entry.get("preset") {
            None => Figment::from(Serialized::defaults(entry.clone()))
                .extract()
                .map_err(at_entry(label("no preset"))),
            Some(v) => {
                let name = v.as_str().ok_or(PresetError::PresetNotString { index })?;
                let preset = self.get(name).ok_or_else(|| PresetError::Unknown {
                    index,
                    name: name.to_owned(),
                    known: self.names().collect::<Vec<_>>().join(", "),
                })?;
                let mut entry = entry.clone();
                entry.remove("preset");
                preset
                    .merge(name, &entry)
                    .map_err(|e| at_entry(label(&format!("preset {}", preset.file)))(*e))
            }
        }
    }

    /// Every entry, in order.
    pub fn resolve(&self, entries: &[Dict]) -> Result<Vec<ProviderConfig>, PresetError> {
        entries
            .iter()
            .enumerate()
            .map(|(i, e)| self.resolve_entry(i, e))
            .collect()
    }

    /// A provider from the built-in preset `name` with `overrides` (TOML) on top: for tests and
    /// tools that build configs in code.
    pub fn built_in(name: &str, overrides: &str) -> Result<ProviderConfig, PresetError> {
        let entry: Dict = Figment::from(Toml::string(overrides))
            .extract()
            .map_err(|e| PresetError::Entry {
                index: 0,
                label: format!("overrides of preset {name}"),
                source: Box::new(e),
            })?;
        let mut entry = entry;
        entry.insert("preset".into(), Value::from(name));
        Self::load(None)?.resolve_entry(0, &entry)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(toml: &str) -> Dict {
        Figment::from(Toml::string(toml)).extract().unwrap()
    }

    #[test]
    fn an_entry_names_a_preset_and_overrides_fields() {
        let c = Catalog::load(None).unwrap();
        let p = c
            .resolve_entry(
                0,
                &entry(
                    r#"
                    preset = "github"
                    client_id = "abc"
                    client_secret_env = "GH_SECRET"
                    scopes = ["read:user"]
                    [claims]
                    username = "/name"
                    "#,
                ),
            )
            .unwrap();
        assert_eq!(p.id, "github", "the id defaults to the preset name");
        assert_eq!(p.preset.as_deref(), Some("github"));
        assert_eq!(p.name, "GitHub");
        assert_eq!(p.kind, ProviderKind::Oauth2);
        assert_eq!(p.scopes, vec!["read:user"], "arrays are replaced");
        assert_eq!(p.claims.username, "/name", "tables merge field by field");
        assert_eq!(p.claims.subject, "/id", "the rest of the preset's mapping stays");
        p.validate().unwrap();
    }

    #[test]
    fn an_unknown_preset_is_named_with_the_known_ones() {
        let c = Catalog::load(None).unwrap();
        let err = c
            .resolve_entry(2, &entry("preset = \"githib\"\nclient_id = \"x\""))
            .unwrap_err()
            .to_string();
        assert!(err.contains("providers[2]") && err.contains("githib"), "{err}");
        assert!(err.contains("github"), "lists known presets: {err}");
    }

    #[test]
    fn a_typo_in_an_entry_names_the_field_and_preset_file() {
        let c = Catalog::load(None).unwrap();
        let err = c
            .resolve_entry(
                0,
                &entry("preset = \"google\"\nclient_id = \"x\"\nclient_secert = \"y\""),
            )
            .unwrap_err()
            .to_string();
        assert!(err.contains("client_secert"), "{err}");
        assert!(err.contains("providers/google.toml"), "{err}");
    }

    #[test]
    fn a_malformed_preset_file_names_the_file_and_field() {
        let dir = tempfile::tempdir().unwrap();
        let text = BUILT_IN
            .iter()
            .find(|(n, _)| *n == "github")
            .unwrap()
            .1
            .replace("trust_email = true", "trust_email = \"yes\"");
        std::fs::write(dir.path().join("acme.toml"), text).unwrap();
        let err = Catalog::load(Some(dir.path())).unwrap_err().to_string();
        assert!(err.contains("acme.toml"), "{err}");
        assert!(err.contains("trust_email"), "{err}");

        let incomplete = BUILT_IN[0].1.replace("picture = ", "# picture = ");
        std::fs::write(dir.path().join("acme.toml"), incomplete).unwrap();
        let err = Catalog::load(Some(dir.path())).unwrap_err().to_string();
        assert!(err.contains("acme.toml") && err.contains("picture"), "{err}");
    }

    #[test]
    fn a_folder_preset_replaces_the_built_in_one_and_adds_new_ones() {
        let dir = tempfile::tempdir().unwrap();
        let github = BUILT_IN.iter().find(|(n, _)| *n == "github").unwrap().1;
        std::fs::write(
            dir.path().join("github.toml"),
            github.replace("name = \"GitHub\"", "name = \"GitHub Enterprise\""),
        )
        .unwrap();
        std::fs::write(dir.path().join("forgejo.toml"), github).unwrap();
        let c = Catalog::load(Some(dir.path())).unwrap();
        let gh = c
            .resolve_entry(0, &entry("preset = \"github\"\nclient_id = \"x\""))
            .unwrap();
        assert_eq!(gh.name, "GitHub Enterprise");
        assert!(c.get("forgejo").is_some());
        assert!(c.get("google").is_some(), "built-ins stay available");
    }

    #[test]
    fn every_file_in_providers_is_built_in_complete_and_named_in_the_readme() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("providers");
        let mut on_disk: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "toml"))
            .map(|p| p.file_stem().unwrap().to_str().unwrap().to_owned())
            .collect();
        on_disk.sort();
        let built_in: Vec<String> = BUILT_IN.iter().map(|(n, _)| (*n).to_owned()).collect();
        assert_eq!(
            on_disk, built_in,
            "providers/*.toml and BUILT_IN list the same presets, sorted"
        );
        let readme = std::fs::read_to_string(dir.join("README.md")).unwrap();
        for name in &on_disk {
            let path = dir.join(format!("{name}.toml"));
            // The file on disk, not the copy compiled in: they are the same file.
            Preset::parse(
                name,
                &path.display().to_string(),
                Figment::from(Toml::file_exact(&path)),
            )
            .unwrap_or_else(|e| panic!("{e}"));
            assert!(
                readme.contains(&format!("`{name}`")),
                "providers/README.md lists `{name}`"
            );
        }
        for required in [
            "github",
            "google",
            "microsoft",
            "gitlab",
            "discord",
            "facebook",
            "linkedin",
            "slack",
            "bitbucket",
            "apple",
        ] {
            assert!(on_disk.iter().any(|n| n == required), "a {required} preset");
        }
    }
}
