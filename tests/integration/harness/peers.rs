//! Real peers on loopback. The upstream OIDC provider is panva's `oidc-provider`
//! (tests/peers/oidc-provider). `scripts/test` starts it once for the whole run and passes its
//! issuer in `TEST_UPSTREAM_OIDC`. Without that variable, the first test in a process starts one,
//! and that one exits when the test process does, because its stdin closes.
use std::io::{BufRead, BufReader};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Mutex, OnceLock};

use serde_json::{json, Value};

/// A running upstream OpenID Provider.
pub struct OidcPeer {
    pub issuer: String,
}

static PEER: OnceLock<OidcPeer> = OnceLock::new();
static KEEPALIVE: Mutex<Option<(Child, ChildStdin)>> = Mutex::new(None);

/// The upstream OP, started on first use.
pub fn oidc_peer() -> &'static OidcPeer {
    PEER.get_or_init(|| {
        if let Ok(issuer) = std::env::var("TEST_UPSTREAM_OIDC") {
            if !issuer.is_empty() {
                return OidcPeer { issuer };
            }
        }
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/peers/oidc-provider");
        assert!(
            std::path::Path::new(dir).join("node_modules/oidc-provider").exists(),
            "the upstream OP is not installed: run scripts/test, or `npm ci` in {dir}"
        );
        let mut child = Command::new("node")
            .arg("server.mjs")
            .current_dir(dir)
            .env("PORT", "0")
            .env("EXIT_ON_STDIN_END", "1")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start node (the oidc-provider peer)");
        let stdin = child.stdin.take().expect("stdin");
        let mut line = String::new();
        let mut out = BufReader::new(child.stdout.take().expect("stdout"));
        out.read_line(&mut line).expect("peer output");
        // Keep draining: a closed pipe would kill node (EPIPE) at its next log line.
        std::thread::spawn(move || std::io::copy(&mut out, &mut std::io::sink()));
        let issuer = line
            .strip_prefix("READY ")
            .unwrap_or_else(|| panic!("peer did not start: {line:?}"))
            .trim()
            .to_owned();
        *KEEPALIVE.lock().unwrap() = Some((child, stdin));
        OidcPeer { issuer }
    })
}

impl OidcPeer {
    /// Registers a client for `redirect_uri` (RFC 7591), as a Gatehouse admin would at their IdP.
    pub async fn register_client(&self, redirect_uri: &str, post_logout_redirect_uri: &str) -> (String, String) {
        let res: Value = reqwest::Client::new()
            .post(format!("{}/reg", self.issuer))
            .json(&json!({
                "redirect_uris": [redirect_uri],
                "post_logout_redirect_uris": [post_logout_redirect_uri],
                "token_endpoint_auth_method": "client_secret_basic",
                "grant_types": ["authorization_code"],
                "response_types": ["code"],
            }))
            .send()
            .await
            .expect("register at the upstream OP")
            .json()
            .await
            .unwrap();
        (
            res["client_id"].as_str().expect("client_id").into(),
            res["client_secret"].as_str().expect("client_secret").into(),
        )
    }
}

/// A running SAML IdP: SimpleSAMLphp under `php -S` (tests/peers/simplesamlphp).
pub struct SamlPeer {
    /// The IdP's metadata URL, which is also its entity id.
    pub metadata_url: String,
    /// Its state folder: SP metadata dropped in `sp-metadata/` is picked up at once.
    pub dir: std::path::PathBuf,
}

static SAML_PEER: OnceLock<SamlPeer> = OnceLock::new();
static SAML_KEEPALIVE: Mutex<Option<(Child, ChildStdin)>> = Mutex::new(None);

/// The SAML IdP. `scripts/test` starts it once per run (`TEST_SAML_IDP` = metadata URL,
/// `TEST_SAML_IDP_DIR` = state folder); otherwise the first test starts one in a temp folder.
pub fn saml_peer() -> &'static SamlPeer {
    SAML_PEER.get_or_init(|| {
        if let (Ok(url), Ok(dir)) = (std::env::var("TEST_SAML_IDP"), std::env::var("TEST_SAML_IDP_DIR")) {
            if !url.is_empty() && !dir.is_empty() {
                return SamlPeer {
                    metadata_url: url,
                    dir: dir.into(),
                };
            }
        }
        let dir = std::env::temp_dir().join(format!("gatehouse-saml-idp-{}", std::process::id()));
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let out = Command::new(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/peers/simplesamlphp/start"))
            .arg(port.to_string())
            .arg(&dir)
            .output()
            .expect("run tests/peers/simplesamlphp/start (is simplesamlphp installed? run scripts/test)");
        assert!(
            out.status.success(),
            "the SAML IdP did not start: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        // A watchdog stops the IdP when this test process ends: its stdin closes then.
        let stop = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/peers/simplesamlphp/stop");
        let mut watchdog = Command::new("sh")
            .arg("-c")
            .arg("read _ignored; \"$0\" \"$1\"")
            .arg(stop)
            .arg(&dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start the SAML IdP watchdog");
        let stdin = watchdog.stdin.take().expect("stdin");
        SAML_KEEPALIVE.lock().unwrap().replace((watchdog, stdin));
        SamlPeer {
            metadata_url: String::from_utf8_lossy(&out.stdout).trim().to_owned(),
            dir,
        }
    })
}

impl SamlPeer {
    /// Imports an SP's metadata (and SimpleSAMLphp options for it) as the IdP's admin would.
    /// The options file is always written (`{}` for none): the IdP folder is shared and SP names
    /// come from ports, which are reused, so a stale file would hand a test another's options.
    pub fn register_sp(&self, name: &str, metadata_xml: &str, options: Option<&Value>) {
        let folder = self.dir.join("sp-metadata");
        std::fs::create_dir_all(&folder).unwrap();
        // Written aside, then renamed: the IdP reads the folder at every request.
        let write = |file: String, body: &str| {
            let tmp = folder.join(format!(".{file}.tmp"));
            std::fs::write(&tmp, body).unwrap();
            std::fs::rename(&tmp, folder.join(file)).unwrap();
        };
        let options = options.cloned().unwrap_or_else(|| json!({}));
        assert!(
            options.is_object(),
            "SimpleSAMLphp options are a JSON object: {options}"
        );
        write(format!("{name}.json"), &options.to_string());
        write(format!("{name}.xml"), metadata_xml);
    }
}
