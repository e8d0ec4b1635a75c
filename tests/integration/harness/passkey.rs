//! A software WebAuthn authenticator (ES256, "none" attestation, a discoverable credential with
//! user verification), answering the options Gatehouse's pages fetch exactly as
//! `static/passkeys.js` posts a browser's answer. Browser tests use Chromium's virtual
//! authenticator; this one lets the server side be driven without a browser.
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use p256::ecdsa::signature::Signer;
use p256::ecdsa::{DerSignature, SigningKey};
use reqwest::StatusCode;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use super::browser::{location, Browser};
use super::TestServer;

/// One credential on a software authenticator.
pub struct SoftPasskey {
    key: SigningKey,
    pub credential_id: Vec<u8>,
    user_handle: Vec<u8>,
    counter: u32,
}

/// A CBOR byte-string header (major type 2) for `len` bytes.
fn cbor_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    match bytes.len() {
        n if n < 24 => out.push(0x40 | n as u8),
        n if n < 256 => out.extend([0x58, n as u8]),
        n => out.extend([0x59, (n >> 8) as u8, n as u8]),
    }
    out.extend_from_slice(bytes);
}

/// A CBOR text string (major type 3), short.
fn cbor_text(out: &mut Vec<u8>, s: &str) {
    assert!(s.len() < 24);
    out.push(0x60 | s.len() as u8);
    out.extend_from_slice(s.as_bytes());
}

fn client_data(kind: &str, options: &Value, origin: &str) -> Vec<u8> {
    json!({
        "type": kind,
        "challenge": options["publicKey"]["challenge"],
        "origin": origin,
        "crossOrigin": false,
    })
    .to_string()
    .into_bytes()
}

impl SoftPasskey {
    /// Answers registration `options` from a page of `origin`: a new credential.
    pub fn create(options: &Value, origin: &str) -> (Self, Value) {
        let pk = &options["publicKey"];
        let rp_id = pk["rp"]["id"].as_str().expect("rp.id");
        let user_handle = B64
            .decode(pk["user"]["id"].as_str().expect("user.id"))
            .expect("user.id b64");
        let key = SigningKey::random(&mut rand::rngs::OsRng);
        let credential_id: Vec<u8> = (0..16).map(|_| rand::random::<u8>()).collect();
        let point = key.verifying_key().to_encoded_point(false);
        // COSE_Key (RFC 9053): {1: 2 (EC2), 3: -7 (ES256), -1: 1 (P-256), -2: x, -3: y}
        let mut cose = vec![0xa5, 0x01, 0x02, 0x03, 0x26, 0x20, 0x01, 0x21];
        cbor_bytes(&mut cose, point.x().unwrap());
        cose.push(0x22);
        cbor_bytes(&mut cose, point.y().unwrap());
        let mut auth_data = Sha256::digest(rp_id.as_bytes()).to_vec();
        // UP | UV | AT; not backup-eligible (a device-bound key).
        auth_data.push(0x01 | 0x04 | 0x40);
        auth_data.extend(0u32.to_be_bytes());
        auth_data.extend([0u8; 16]);
        auth_data.extend((credential_id.len() as u16).to_be_bytes());
        auth_data.extend(&credential_id);
        auth_data.extend(cose);
        let mut att = vec![0xa3];
        cbor_text(&mut att, "fmt");
        cbor_text(&mut att, "none");
        cbor_text(&mut att, "attStmt");
        att.push(0xa0);
        cbor_text(&mut att, "authData");
        cbor_bytes(&mut att, &auth_data);
        let id = B64.encode(&credential_id);
        let answer = json!({
            "id": id, "rawId": id, "type": "public-key",
            "response": {
                "attestationObject": B64.encode(att),
                "clientDataJSON": B64.encode(client_data("webauthn.create", options, origin)),
                "transports": ["internal"],
            },
            "extensions": {},
        });
        let passkey = SoftPasskey {
            key,
            credential_id,
            user_handle,
            counter: 0,
        };
        (passkey, answer)
    }

    /// Answers authentication `options` from a page of `origin` with this credential.
    pub fn get(&mut self, options: &Value, origin: &str) -> Value {
        let rp_id = options["publicKey"]["rpId"].as_str().expect("rpId");
        self.counter += 1;
        let mut auth_data = Sha256::digest(rp_id.as_bytes()).to_vec();
        auth_data.push(0x01 | 0x04);
        auth_data.extend(self.counter.to_be_bytes());
        let client_data = client_data("webauthn.get", options, origin);
        let mut signed = auth_data.clone();
        signed.extend(Sha256::digest(&client_data));
        let signature: DerSignature = self.key.sign(&signed);
        let id = B64.encode(&self.credential_id);
        json!({
            "id": id, "rawId": id, "type": "public-key",
            "response": {
                "authenticatorData": B64.encode(auth_data),
                "clientDataJSON": B64.encode(client_data),
                "signature": B64.encode(signature.as_bytes()),
                "userHandle": B64.encode(&self.user_handle),
            },
            "extensions": {},
        })
    }
}

/// The options an options endpoint answers for `form`, as the page's script would fetch them.
pub async fn options(browser: &Browser, url: &str, form: &[(&str, &str)]) -> (StatusCode, Value) {
    let res = browser.post(url, form).await;
    let status = res.status();
    let body = res.text().await.unwrap();
    (status, serde_json::from_str(&body).unwrap_or(Value::String(body)))
}

/// The issuer's origin (what the browser puts into clientDataJSON).
pub fn origin(server: &TestServer) -> String {
    let u = url::Url::parse(&server.issuer).unwrap();
    u.origin().ascii_serialization()
}

/// Adds a passkey named `name` on the account page of the signed-in `browser`, confirming
/// with `confirm`; returns the credential and the response to the final post.
pub async fn register(
    browser: &Browser,
    server: &TestServer,
    name: &str,
    confirm: &str,
) -> (SoftPasskey, reqwest::Response) {
    let page = browser.page(&server.url("/account")).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.html);
    let csrf = page.field("csrf").expect("csrf");
    let (status, opts) = options(
        browser,
        &server.url("/account/passkeys/options"),
        &[("csrf", &csrf), ("name", name), ("confirm", confirm)],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "registration options: {opts}");
    let (passkey, answer) = SoftPasskey::create(&opts, &origin(server));
    let res = browser
        .post(
            &server.url("/account/passkeys"),
            &[("csrf", &csrf), ("credential", &answer.to_string())],
        )
        .await;
    (passkey, res)
}

/// At the login page `login_url`, signs in with `passkey` alone; returns the final response.
pub async fn sign_in(
    browser: &Browser,
    server: &TestServer,
    login_url: &str,
    passkey: &mut SoftPasskey,
) -> reqwest::Response {
    let page = browser.page(login_url).await;
    assert!(page.html.contains("Sign in with a passkey"), "{}", page.html);
    let ix = page.field("interaction").expect("interaction");
    let csrf = page.field("csrf").expect("csrf");
    let (status, opts) = options(
        browser,
        &server.url("/login/passkey/options"),
        &[("interaction", &ix), ("csrf", &csrf)],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "sign-in options: {opts}");
    assert!(
        opts["publicKey"]["allowCredentials"]
            .as_array()
            .is_none_or(|a| a.is_empty()),
        "discoverable: no credentials named, so no account is revealed: {opts}"
    );
    let answer = passkey.get(&opts, &origin(server));
    browser
        .post(
            &server.url("/login/passkey"),
            &[
                ("interaction", &ix),
                ("csrf", &csrf),
                ("credential", &answer.to_string()),
            ],
        )
        .await
}

/// On the challenge page `mfa_url`, answers with `passkey`; returns the final response.
pub async fn second_factor(
    browser: &Browser,
    server: &TestServer,
    mfa_url: &str,
    passkey: &mut SoftPasskey,
) -> reqwest::Response {
    let page = browser.page(mfa_url).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.html);
    let ix = page.field("interaction").expect("interaction");
    let csrf = page.field("csrf").expect("csrf");
    let (status, opts) = options(
        browser,
        &server.url("/login/mfa/passkey/options"),
        &[("interaction", &ix), ("csrf", &csrf)],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "second-factor options: {opts}");
    let answer = passkey.get(&opts, &origin(server));
    browser
        .post(
            &server.url("/login/mfa/passkey"),
            &[
                ("interaction", &ix),
                ("csrf", &csrf),
                ("credential", &answer.to_string()),
            ],
        )
        .await
}

/// A test server whose issuer is `http://localhost:<port>`: WebAuthn needs a domain name.
pub async fn server_on_localhost(adjust: impl FnOnce(&mut gatehouse::config::Config)) -> TestServer {
    TestServer::start_with(|c| {
        c.issuer = format!("http://localhost:{}", c.listen.port()).parse().unwrap();
        adjust(c);
    })
    .await
}

/// Where a redirect response points, absolute.
pub fn redirect_target(server: &TestServer, res: &reqwest::Response) -> String {
    let to = location(res).unwrap_or_else(|| panic!("a redirect, got {}", res.status()));
    if to.starts_with('/') {
        server.url(&to)
    } else {
        to
    }
}
