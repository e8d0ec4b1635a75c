//! What an operator meets on the command line: configuration mistakes as a new user makes
//! them, and `gatehouse check` against the real upstream peers and a broken provider.
use std::path::Path;
use std::process::Command;

use base64::Engine;

use super::harness::peers::{oidc_peer, saml_peer};

/// Runs `gatehouse ARGS` with only `env` from the `GATEHOUSE_` family; (success, stdout, stderr).
fn gatehouse(args: &[&str], env: &[(&str, &str)]) -> (bool, String, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_gatehouse"));
    for (name, _) in std::env::vars() {
        if name.starts_with("GATEHOUSE_") {
            cmd.env_remove(name);
        }
    }
    let out = cmd
        .args(args)
        .envs(env.iter().copied())
        .output()
        .expect("run gatehouse");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

/// A config file in `dir` with a SQLite database there, then `body`.
fn config_file(dir: &Path, body: &str) -> String {
    let path = dir.join("gatehouse.toml");
    std::fs::write(
        &path,
        format!("database_url = \"sqlite://{}/g.db?mode=rwc\"\n{body}", dir.display()),
    )
    .unwrap();
    path.display().to_string()
}

#[test]
fn a_configuration_error_is_printed_once() {
    let dir = tempfile::tempdir().unwrap();
    let config = config_file(dir.path(), "isuer = \"https://typo.example\"\n");
    let (ok, _, err) = gatehouse(&["--config", &config, "migrate"], &[]);
    assert!(!ok);
    assert_eq!(err.lines().count(), 1, "one line: {err}");
    assert_eq!(err.matches("unknown field").count(), 1, "said once: {err}");
    assert!(err.starts_with("error: invalid configuration: "), "{err}");
}

#[test]
fn a_misspelled_gatehouse_variable_is_warned_about_with_the_key_it_meant() {
    let dir = tempfile::tempdir().unwrap();
    let config = config_file(dir.path(), "");
    let (ok, out, err) = gatehouse(
        &["--config", &config, "migrate"],
        &[
            ("GATEHOUSE_SESION__IDLE_TIMEOUT", "60"),
            ("GATEHOUSE_LOG__FORMAT", "text"),
        ],
    );
    assert!(ok, "a warning, not an error: {out}{err}");
    assert!(
        err.contains("GATEHOUSE_SESION__IDLE_TIMEOUT names no configuration key")
            && err.contains("did you mean GATEHOUSE_SESSION__IDLE_TIMEOUT?"),
        "{err}"
    );
    assert!(
        !err.contains("GATEHOUSE_LOG__FORMAT"),
        "a real key is not warned about: {err}"
    );
}

#[test]
fn a_missing_secret_variable_stops_every_command_that_loads_the_config() {
    let dir = tempfile::tempdir().unwrap();
    let config = config_file(
        dir.path(),
        "[[clients]]\nid = \"app\"\nredirect_uris = [\"https://app.example/cb\"]\nsecret_env = \"GH_OPS_TEST_UNSET_SECRET\"\n",
    );
    for args in [&["migrate"][..], &["client", "list"], &["check"], &["keys", "list"]] {
        let (ok, _, err) = gatehouse(&[&["--config", config.as_str()][..], args].concat(), &[]);
        assert!(!ok, "{args:?} refused");
        assert_eq!(
            err.trim(),
            "error: invalid configuration: client app: environment variable GH_OPS_TEST_UNSET_SECRET is not set",
            "{args:?}"
        );
    }
    assert!(
        !dir.path().join("g.db").exists(),
        "refused before the database is opened"
    );
    let provider = config_file(
        dir.path(),
        "[[providers]]\npreset = \"github\"\nclient_id = \"x\"\nclient_secret_env = \"GH_OPS_TEST_UNSET_GITHUB\"\n",
    );
    let (ok, _, err) = gatehouse(&["--config", &provider, "migrate"], &[]);
    assert!(!ok);
    assert!(
        err.contains("provider github: environment variable GH_OPS_TEST_UNSET_GITHUB is not set"),
        "{err}"
    );
}

#[test]
fn a_bad_redirect_uri_is_refused_naming_its_client() {
    let dir = tempfile::tempdir().unwrap();
    let config = config_file(
        dir.path(),
        "[[clients]]\nid = \"good\"\nredirect_uris = [\"https://good.example/cb\"]\npublic = true\n\
         [[clients]]\nid = \"shop\"\nredirect_uris = [\"/relative/cb\"]\npublic = true\n",
    );
    let (ok, _, err) = gatehouse(&["--config", &config, "migrate"], &[]);
    assert!(!ok);
    assert!(
        err.contains("client shop: invalid redirect URI \"/relative/cb\": not an absolute URL"),
        "{err}"
    );
}

#[test]
fn an_unknown_template_name_is_refused_and_the_known_ones_listed() {
    let dir = tempfile::tempdir().unwrap();
    let templates = dir.path().join("templates");
    std::fs::create_dir(&templates).unwrap();
    std::fs::write(templates.join("login.hbs"), "{{> layout}}").unwrap();
    std::fs::write(templates.join("logn.hbs"), "misspelled").unwrap();
    std::fs::write(templates.join("notes.txt"), "not a template").unwrap();
    let config = config_file(dir.path(), &format!("templates_dir = \"{}\"\n", templates.display()));
    let (ok, out, err) = gatehouse(&["--config", &config, "check"], &[]);
    assert!(!ok);
    assert!(
        out.contains("logn.hbs overrides no template") && out.contains("login.hbs, "),
        "{out}{err}"
    );
    assert!(!out.contains("notes.txt"), "only .hbs files are templates: {out}");
    // `serve` refuses to start with it too.
    let (ok, _, err) = gatehouse(&["--config", &config, "serve"], &[("GATEHOUSE_LISTEN", "127.0.0.1:0")]);
    assert!(!ok && err.contains("logn.hbs overrides no template"), "{err}");
}

/// A self-signed certificate valid until `not_after` (Unix time), as base64 DER.
fn certificate_until(not_after: i64) -> String {
    use openssl::asn1::Asn1Time;
    let key = openssl::pkey::PKey::from_rsa(openssl::rsa::Rsa::generate(2048).unwrap()).unwrap();
    let mut name = openssl::x509::X509NameBuilder::new().unwrap();
    name.append_entry_by_text("CN", "idp.test").unwrap();
    let name = name.build();
    let mut b = openssl::x509::X509::builder().unwrap();
    b.set_version(2).unwrap();
    b.set_subject_name(&name).unwrap();
    b.set_issuer_name(&name).unwrap();
    b.set_pubkey(&key).unwrap();
    b.set_not_before(&Asn1Time::from_unix(not_after - 400 * 86_400).unwrap())
        .unwrap();
    b.set_not_after(&Asn1Time::from_unix(not_after).unwrap()).unwrap();
    b.sign(&key, openssl::hash::MessageDigest::sha256()).unwrap();
    base64::engine::general_purpose::STANDARD.encode(b.build().to_der().unwrap())
}

/// The SAML peer's metadata with each signing certificate replaced by `cert` (base64 DER).
async fn peer_metadata_with(cert: &str) -> String {
    let xml = reqwest::get(&saml_peer().metadata_url)
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let mut out = String::new();
    let mut rest = xml.as_str();
    while let Some(start) = rest.find("X509Certificate>") {
        let open_end = start + "X509Certificate>".len();
        out.push_str(&rest[..open_end]);
        rest = &rest[open_end..];
        let close = rest.find('<').unwrap();
        if rest[close..].starts_with("</") {
            out.push_str(cert);
            rest = &rest[close..];
        }
    }
    out.push_str(rest);
    assert!(out.contains(cert), "certificate replaced in {xml}");
    out
}

fn closed_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[tokio::test]
async fn check_contacts_the_real_upstream_op_and_saml_idp_and_finds_them_well() {
    let dir = tempfile::tempdir().unwrap();
    let config = config_file(
        dir.path(),
        &format!(
            "[[providers]]\nid = \"corp-oidc\"\nname = \"Corp\"\nissuer = \"{}\"\nclient_id = \"x\"\nclient_secret = \"y\"\n\
             [[providers]]\nid = \"corp-saml\"\nname = \"Corp SAML\"\nkind = \"saml\"\n[providers.saml]\nidp_metadata_url = \"{}\"\n",
            oidc_peer().issuer,
            saml_peer().metadata_url
        ),
    );
    let (ok, out, err) = gatehouse(&["--config", &config, "check"], &[]);
    assert!(ok, "{out}{err}");
    assert_eq!(
        out.trim(),
        "configuration is valid; 2 upstream provider(s) answered",
        "{err}"
    );
}

#[tokio::test]
async fn check_prints_one_line_per_broken_provider_and_certificate_and_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let expired = dir.path().join("expired.xml");
    std::fs::write(&expired, peer_metadata_with(&certificate_until(now - 5 * 86_400)).await).unwrap();
    let soon = dir.path().join("soon.xml");
    std::fs::write(
        &soon,
        peer_metadata_with(&certificate_until(now + 10 * 86_400 + 3600)).await,
    )
    .unwrap();
    let down = format!("http://127.0.0.1:{}", closed_port());
    let config = config_file(
        dir.path(),
        &format!(
            "[[providers]]\nid = \"live\"\nname = \"Live\"\nissuer = \"{live}\"\nclient_id = \"x\"\nclient_secret = \"y\"\n\
             [[providers]]\nid = \"gone-oidc\"\nname = \"Gone\"\nissuer = \"{down}\"\nclient_id = \"x\"\nclient_secret = \"y\"\n\
             [[providers]]\nid = \"wrong-issuer\"\nname = \"Wrong\"\nissuer = \"{live}/elsewhere\"\nclient_id = \"x\"\nclient_secret = \"y\"\n\
             [[providers]]\nid = \"gone-oauth\"\nname = \"Gone OAuth\"\nkind = \"oauth2\"\nclient_id = \"x\"\nclient_secret = \"y\"\n\
             authorization_endpoint = \"{down}/authorize\"\ntoken_endpoint = \"{down}/token\"\nuserinfo_endpoint = \"{down}/user\"\n\
             [[providers]]\nid = \"old-saml\"\nname = \"Old\"\nkind = \"saml\"\n[providers.saml]\nidp_metadata_file = \"{expired}\"\n\
             [[providers]]\nid = \"soon-saml\"\nname = \"Soon\"\nkind = \"saml\"\n[providers.saml]\nidp_metadata_file = \"{soon}\"\n",
            live = oidc_peer().issuer,
            expired = expired.display(),
            soon = soon.display(),
        ),
    );
    let (ok, out, err) = gatehouse(&["--config", &config, "check"], &[]);
    assert!(!ok, "exit 1: {out}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 5, "one line per problem:\n{out}");
    assert!(
        lines[0].starts_with("error: provider gone-oidc: ") && lines[0].contains(&down),
        "{out}"
    );
    assert!(
        lines[1].starts_with("error: provider wrong-issuer: ") && lines[1].contains("/elsewhere/.well-known"),
        "{out}"
    );
    assert!(
        lines[2].starts_with("error: provider gone-oauth: ") && lines[2].contains(&format!("{down}/authorize")),
        "{out}"
    );
    assert!(
        lines[3].starts_with("error: provider old-saml: signing certificate CN=idp.test expired 5 day(s) ago"),
        "{out}"
    );
    assert!(
        lines[4].starts_with("warning: provider soon-saml: signing certificate CN=idp.test expires in 10 day(s)"),
        "{out}"
    );
    assert_eq!(err.trim(), "error: 4 problem(s) found");
}
