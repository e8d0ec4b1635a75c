//! SAML 2.0 through the broker against a real IdP (SimpleSAMLphp on loopback): metadata
//! exchanged both ways, then the whole flow to a token at the client app.
use gatehouse::config::SamlBinding;
use reqwest::StatusCode;
use serde_json::json;

use super::harness::accounts::{counts, local_id};
use super::harness::browser::{link_href, location, unescape, Browser, Page, Walk};
use super::harness::client_app::{authorize, id_token_claims, jwt_part, logout_url, post_token, redeem, signed_in};
use super::harness::peers::saml_peer;
use super::harness::saml::{
    decoded, form_action, post_to_acs, post_to_acs_then_walk, saml_login, saml_response_for, saml_server,
    saml_server_with, sign_in_at_idp, sp_metadata, PROVIDER,
};
use super::harness::urls::{query_param, resolve};
use super::harness::{TestServer, ALICE, RP_LOGOUT, RP_REDIRECT};

fn at_client(end: &Walk) {
    assert!(
        end.url.starts_with(RP_REDIRECT),
        "back at the client: {} {}",
        end.url,
        end.page.as_ref().map(|p| p.html.as_str()).unwrap_or_default()
    );
}

#[tokio::test]
async fn saml_login_reaches_the_client_and_returns_as_the_same_user() {
    let server = saml_server(None, |_| {}).await;
    let (users_before, _) = counts(&server).await;
    let end = saml_login(&Browser::new(), &server, "ann", "ann-password").await;
    at_client(&end);
    let claims = id_token_claims(&server, &end.url).await;
    assert_eq!(claims["idp"], PROVIDER);
    assert_eq!(claims["amr"], json!(["fed"]));
    assert_eq!(claims["email"], "ann@saml.test", "urn:oid mail attribute");
    assert_eq!(claims["name"], "Ann SAML", "givenName + sn");
    assert_eq!(claims["preferred_username"], "ann", "urn:oid uid attribute");
    assert_eq!(claims["groups"], json!(["member", "staff"]), "eduPersonAffiliation");
    assert_eq!(counts(&server).await, (users_before + 1, 1));

    let again = saml_login(&Browser::new(), &server, "ann", "ann-password").await;
    at_client(&again);
    assert_eq!(id_token_claims(&server, &again.url).await["sub"], claims["sub"]);
    assert_eq!(counts(&server).await, (users_before + 1, 1));
}

/// How a SAML response was protected, read from its XML.
#[derive(Debug, PartialEq, Eq)]
struct Protection {
    /// A signature on the Response itself (its own child, before the assertion).
    response_signed: bool,
    /// A signature inside a plaintext assertion.
    assertion_signed: bool,
    /// The assertion is an EncryptedAssertion, with no plaintext assertion beside it.
    encrypted: bool,
}

fn protection(xml: &str) -> Protection {
    let assertion = xml.find("<saml:Assertion");
    let encrypted = xml.find("<saml:EncryptedAssertion");
    let first_signature = xml.find("<ds:Signature");
    let content_start = assertion.or(encrypted).expect("an assertion");
    Protection {
        response_signed: first_signature.is_some_and(|s| s < content_start),
        assertion_signed: assertion.is_some_and(|a| {
            let end = xml[a..].find("</saml:Assertion>").unwrap() + a;
            xml[a..end].contains("<ds:Signature")
        }),
        encrypted: encrypted.is_some() && assertion.is_none(),
    }
}

#[tokio::test]
async fn signed_assertion_only_and_encrypted_assertions_are_accepted() {
    for (options, expected) in [
        (
            json!({}),
            Protection {
                response_signed: true,
                assertion_signed: true,
                encrypted: false,
            },
        ),
        (
            json!({"saml20.sign.response": false}),
            Protection {
                response_signed: false,
                assertion_signed: true,
                encrypted: false,
            },
        ),
        (
            json!({"saml20.sign.assertion": false}),
            Protection {
                response_signed: true,
                assertion_signed: false,
                encrypted: false,
            },
        ),
        (
            json!({"assertion.encryption": true}),
            Protection {
                response_signed: true,
                assertion_signed: false,
                encrypted: true,
            },
        ),
        (
            json!({"assertion.encryption": true, "saml20.sign.response": false}),
            Protection {
                response_signed: false,
                assertion_signed: false,
                encrypted: true,
            },
        ),
    ] {
        let server = saml_server(Some(options.clone()), |_| {}).await;
        let browser = Browser::new();
        let posted = saml_response_for(&browser, &server, "ann", "ann-password").await;
        // The IdP really sent what the case is named for.
        let xml = decoded(&posted.saml_response);
        assert_eq!(protection(&xml), expected, "{options}: {xml}");
        if expected.encrypted {
            assert!(!xml.contains("ann@saml.test"), "{options}: no attribute in the clear");
        }
        let res = post_to_acs(&posted.acs, &posted.saml_response, &posted.relay_state).await;
        let next = location(&res).unwrap_or_else(|| panic!("{options}: ACS answered {}", res.status()));
        let end = browser.walk(&resolve(&posted.acs, &next), RP_REDIRECT).await;
        assert!(
            end.url.starts_with(RP_REDIRECT),
            "{options}: {} {:?}",
            end.url,
            end.page.map(|p| p.html)
        );
        assert_eq!(
            id_token_claims(&server, &end.url).await["email"],
            "ann@saml.test",
            "{options}"
        );
    }
}

#[tokio::test]
async fn friendly_attribute_names_and_an_email_nameid_link_by_verified_email() {
    let options = json!({
        "NameIDFormat": "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress",
        "attributes.NameFormat": "urn:oasis:names:tc:SAML:2.0:attrname-format:basic",
        "authproc": {"90": {"class": "core:AttributeMap", "0": "oid2name"}},
    });
    let server = saml_server(Some(options), |p| {
        p.linking = gatehouse::broker::LinkingPolicy::LinkByVerifiedEmail
    })
    .await;
    let end = saml_login(&Browser::new(), &server, "alice-saml", "alice-password").await;
    at_client(&end);
    let claims = id_token_claims(&server, &end.url).await;
    assert_eq!(
        claims["sub"],
        local_id(&server, ALICE).await.as_str(),
        "linked to the existing alice"
    );
}

#[tokio::test]
async fn a_transient_nameid_needs_a_subject_attribute() {
    let transient = json!({"NameIDFormat": "urn:oasis:names:tc:SAML:2.0:nameid-format:transient"});
    let server = saml_server(Some(transient.clone()), |_| {}).await;
    let before = counts(&server).await;
    let end = saml_login(&Browser::new(), &server, "ann", "ann-password").await;
    let page = end.page.expect("refused: a transient NameID identifies no one");
    let html = unescape(&page.html);
    assert_eq!(page.status, StatusCode::BAD_REQUEST, "{html}");
    assert!(
        html.contains("<h1>Sign-in with Contoso SAML did not work</h1>"),
        "{html}"
    );
    assert!(
        html.contains("The identity provider's answer could not be verified, so Gatehouse did not trust it."),
        "{html}"
    );
    assert_eq!(counts(&server).await, before);

    let server = saml_server(Some(transient), |p| {
        p.saml.as_mut().unwrap().subject_attribute = Some("urn:oid:0.9.2342.19200300.100.1.1".into());
    })
    .await;
    let first = saml_login(&Browser::new(), &server, "ann", "ann-password").await;
    at_client(&first);
    let second = saml_login(&Browser::new(), &server, "ann", "ann-password").await;
    assert_eq!(
        id_token_claims(&server, &first.url).await["sub"],
        id_token_claims(&server, &second.url).await["sub"],
        "uid is the stable subject"
    );
}

/// What the IdP shows for an AuthnRequest it refuses to act on: no login form.
async fn assert_idp_refused(res: reqwest::Response, what: &str) {
    let status = res.status();
    let html = res.text().await.unwrap();
    assert!(
        !html.contains("name=\"password\""),
        "{what}: the IdP showed its login form"
    );
    assert!(
        html.contains("Validation of received messages enabled, but no signature found on message."),
        "{what}: {status} {html}"
    );
}

#[tokio::test]
async fn signed_authn_requests_over_redirect_and_post_bindings() {
    const RSA_SHA256: &str = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256";
    for binding in [SamlBinding::Redirect, SamlBinding::Post] {
        // The IdP requires signed AuthnRequests from this SP.
        let server = saml_server(Some(json!({"validate.authnrequest": true})), |p| {
            let s = p.saml.as_mut().unwrap();
            s.sign_requests = Some(true);
            s.binding = binding;
        })
        .await;
        let browser = Browser::new();
        let login = browser.follow(&server, &authorize(&server, "")).await;
        let page = browser.page(&login).await;
        let href = link_href(&page.html, &format!("/broker/start/{PROVIDER}")).unwrap();
        let res = browser.get(&resolve(&login, &href)).await;
        match binding {
            SamlBinding::Redirect => {
                let to = location(&res).expect("a redirect to the IdP");
                let url = url::Url::parse(&to).unwrap();
                let param = |k: &str| url.query_pairs().find(|(n, _)| n == k).map(|(_, v)| v.into_owned());
                assert!(param("SAMLRequest").is_some(), "{to}");
                assert_eq!(param("SigAlg").as_deref(), Some(RSA_SHA256), "{to}");
                assert!(param("Signature").is_some_and(|s| s.len() > 100), "{to}");
                // The same request without its signature is refused by the IdP.
                let mut unsigned = url.clone();
                unsigned
                    .query_pairs_mut()
                    .clear()
                    .extend_pairs(url.query_pairs().filter(|(k, _)| k != "SigAlg" && k != "Signature"));
                assert_idp_refused(Browser::new().get(unsigned.as_str()).await, "redirect, unsigned").await;
            }
            SamlBinding::Post => {
                assert_eq!(res.status(), StatusCode::OK);
                let form = Page {
                    status: StatusCode::OK,
                    html: res.text().await.unwrap(),
                };
                let action = form_action(&form.html);
                let request = decoded(&form.field("SAMLRequest").unwrap());
                assert!(
                    request.contains("<ds:Signature") && request.contains("<ds:SignatureValue>"),
                    "an enveloped signature: {request}"
                );
                assert!(request.contains(&format!("Algorithm=\"{RSA_SHA256}\"")), "{request}");
                // The same request without its signature is refused by the IdP.
                let start = request.find("<ds:Signature").unwrap();
                let end = request.find("</ds:Signature>").unwrap() + "</ds:Signature>".len();
                let stripped = format!("{}{}", &request[..start], &request[end..]);
                use base64::Engine;
                let res = Browser::new()
                    .post(
                        &action,
                        &[
                            (
                                "SAMLRequest",
                                &base64::engine::general_purpose::STANDARD.encode(&stripped),
                            ),
                            ("RelayState", &form.field("RelayState").unwrap()),
                        ],
                    )
                    .await;
                assert_idp_refused(res, "post, unsigned").await;
            }
        }
        // Control: the signed request is accepted, all the way to the client.
        let end = saml_login(&Browser::new(), &server, "ann", "ann-password").await;
        at_client(&end);
    }
}

#[tokio::test]
async fn sp_metadata_offers_signing_and_encryption_keys_and_the_acs() {
    let server = saml_server(None, |_| {}).await;
    let xml = sp_metadata(&server).await;
    assert!(xml.contains(&format!(
        "entityID=\"{}/broker/saml/{PROVIDER}/metadata\"",
        server.issuer
    )));
    assert!(xml.contains(&format!("Location=\"{}/broker/saml/{PROVIDER}/acs\"", server.issuer)));
    assert!(
        xml.contains("use=\"signing\"") && xml.contains("use=\"encryption\""),
        "{xml}"
    );
    assert!(
        xml.contains(&format!(
            "Binding=\"urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect\" Location=\"{}/broker/saml/{PROVIDER}/slo\"",
            server.issuer
        )),
        "single logout over HTTP-Redirect: {xml}"
    );
    // The key is kept: the IdP admin imported this certificate.
    let again = sp_metadata(&server).await;
    let cert = |x: &str| x.split("X509Certificate>").nth(1).unwrap().to_owned();
    assert_eq!(cert(&xml), cert(&again));
}

#[tokio::test]
async fn idp_initiated_sign_in_is_refused_unless_enabled_then_lands_at_the_configured_client() {
    let peer = saml_peer();
    let idp = peer.metadata_url.trim_end_matches("/saml2/idp/metadata.php").to_owned();
    let unsolicited = |server: &TestServer| {
        let sp = server.url(&format!("/broker/saml/{PROVIDER}/metadata"));
        // The IdP's RelayState is a URL here: it must never become a redirect.
        let mut url = url::Url::parse(&format!("{idp}/saml2/idp/SSOService.php")).unwrap();
        url.query_pairs_mut()
            .append_pair("spentityid", &sp)
            .append_pair("RelayState", "https://evil.example/");
        url.to_string()
    };
    let login = |server: &TestServer| {
        let start = unsolicited(server);
        async move {
            let browser = Browser::new();
            let at = browser.walk(&start, RP_REDIRECT).await;
            let posted = sign_in_at_idp(&browser, &at, "ann", "ann-password").await;
            let res = post_to_acs(&posted.acs, &posted.saml_response, &posted.relay_state).await;
            match location(&res) {
                Some(next) => browser.walk(&resolve(&posted.acs, &next), RP_REDIRECT).await,
                None => Walk {
                    url: posted.acs.clone(),
                    page: Some(Page {
                        status: res.status(),
                        html: res.text().await.unwrap(),
                    }),
                },
            }
        }
    };

    // Off by default.
    let server = saml_server(None, |_| {}).await;
    let before = counts(&server).await;
    let end = login(&server).await;
    let page = end.page.expect("refused");
    let html = unescape(&page.html);
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert!(
        html.contains("<h1>Sign-in with Contoso SAML did not work</h1>"),
        "{html}"
    );
    // Without IdP-initiated sign-in, an unsolicited response is one nobody here asked for.
    assert!(
        html.contains("This sign-in response is unknown, expired or was already used. Start the sign-in again."),
        "{html}"
    );
    assert!(!html.contains("evil.example"), "the IdP's RelayState is never a link");
    assert_eq!(counts(&server).await, before);

    // Enabled, landing at a confidential client that does not require PKCE.
    let server = saml_server_with(None, |p, config| {
        let mut portal = config.clients[0].clone();
        portal.id = "portal".into();
        portal.require_pkce = false;
        config.clients.push(portal);
        p.saml.as_mut().unwrap().idp_initiated = Some(gatehouse::config::IdpInitiated {
            client_id: "portal".into(),
            redirect_uri: RP_REDIRECT.into(),
            scope: "openid email".into(),
        });
    })
    .await;
    let end = login(&server).await;
    at_client(&end);
    assert!(!end.url.contains("evil.example"));
    let code = query_param(&end.url, "code").expect("a code");
    assert_eq!(query_param(&end.url, "state"), None, "nobody sent a state");
    let (_, tokens) = post_token(
        &server,
        "portal",
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", RP_REDIRECT),
        ],
    )
    .await;
    let claims = jwt_part(tokens["id_token"].as_str().expect("id_token"), 1);
    assert_eq!(claims["idp"], PROVIDER);
    assert_eq!(claims["email"], "ann@saml.test");
    assert_eq!(claims["aud"], "portal");
}

#[tokio::test]
async fn logout_of_a_saml_session_ends_it_at_the_idp_too() {
    let server = saml_server(Some(json!({"validate.logout": true, "sign.logout": true})), |_| {}).await;
    let browser = Browser::new();
    let end = saml_login(&browser, &server, "ann", "ann-password").await;
    at_client(&end);
    let tokens = redeem(&server, &end.url).await;
    let id_token = tokens["id_token"].as_str().unwrap();
    let res = browser.get(&logout_url(&server, id_token, "&state=bye")).await;
    let upstream = location(&res).expect("off to the IdP's single logout");
    assert!(
        upstream.starts_with(saml_peer().metadata_url.trim_end_matches("metadata.php")),
        "{upstream}"
    );
    for p in ["SAMLRequest=", "RelayState=", "SigAlg=", "Signature="] {
        assert!(upstream.contains(p), "a signed LogoutRequest: {upstream}");
    }
    // The IdP (which checks the signature) logs out and answers at Gatehouse's SLO endpoint,
    // signed over the query, which Gatehouse verifies.
    let slo = browser
        .walk(&upstream, &server.url(&format!("/broker/saml/{PROVIDER}/slo")))
        .await;
    for p in ["SAMLResponse=", "RelayState=", "SigAlg=", "Signature="] {
        assert!(slo.url.contains(p), "a signed LogoutResponse: {}", slo.url);
    }
    // The same answer with its signature broken is not followed to the client.
    let forged = slo.url.replace("Signature=", "Signature=AAAA");
    let res = Browser::new().get(&forged).await;
    let to = location(&res).expect("on to the end of the logout");
    assert!(!to.contains("state="), "a forged answer carries no state on: {to}");
    let back = browser.walk(&slo.url, RP_LOGOUT).await;
    assert!(
        back.url.starts_with(RP_LOGOUT),
        "finally at the client: {} {:?}",
        back.url,
        back.page.map(|p| p.html)
    );
    assert_eq!(query_param(&back.url, "state").as_deref(), Some("bye"));
    // Signed out at the IdP too: the next SAML login asks for the password again.
    let again = saml_response_for(&browser, &server, "ann", "ann-password").await;
    assert!(again.acs.starts_with(&server.issuer));
}

#[tokio::test]
async fn a_logout_started_at_the_idp_ends_the_gatehouse_session() {
    let server = saml_server(Some(json!({"validate.logout": true, "sign.logout": true})), |_| {}).await;
    let browser = Browser::new();
    let end = saml_login(&browser, &server, "ann", "ann-password").await;
    at_client(&end);
    // Signed in here: prompt=none gets a code.
    let silent = browser.follow(&server, &authorize(&server, "&prompt=none")).await;
    assert!(query_param(&silent, "code").is_some(), "{silent}");

    // A forged logout request (unsigned) changes nothing.
    let forged = Browser::new()
        .get(&server.url(&format!("/broker/saml/{PROVIDER}/slo?SAMLRequest=AAAA")))
        .await;
    assert_eq!(forged.status(), StatusCode::BAD_REQUEST);

    // The person signs out at the IdP, which sends Gatehouse a signed LogoutRequest.
    let idp = saml_peer()
        .metadata_url
        .trim_end_matches("/saml2/idp/metadata.php")
        .to_owned();
    let mut start = url::Url::parse(&format!("{idp}/saml2/idp/initSLO.php")).unwrap();
    // The IdP only returns to URLs it trusts: its own metadata page stands for "done".
    let done = &saml_peer().metadata_url;
    start.query_pairs_mut().append_pair("RelayState", done);
    let back = browser.walk(start.as_str(), done).await;
    assert!(
        back.url.starts_with(done.as_str()),
        "the IdP's logout went round and ended where it said: {} {:?}",
        back.url,
        back.page.map(|p| p.html)
    );
    let after = browser.follow(&server, &authorize(&server, "&prompt=none")).await;
    assert_eq!(
        query_param(&after, "error").as_deref(),
        Some("login_required"),
        "signed out of Gatehouse: {after}"
    );
}

/// A LogoutRequest as the IdP would send it over HTTP-Redirect, for `name_id`, its query
/// signed with `key` (RSA-SHA256, SAML bindings §3.4.4.1).
fn idp_logout_request(server: &TestServer, name_id: &str, key: &openssl::pkey::PKey<openssl::pkey::Private>) -> String {
    use base64::Engine;
    use std::io::Write;
    let slo = server.url(&format!("/broker/saml/{PROVIDER}/slo"));
    let xml = format!(
        r#"<samlp:LogoutRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_{}" Version="2.0" IssueInstant="{}" Destination="{slo}"><saml:Issuer>{}</saml:Issuer><saml:NameID Format="urn:oasis:names:tc:SAML:2.0:nameid-format:persistent">{name_id}</saml:NameID></samlp:LogoutRequest>"#,
        gatehouse::store::random_token(),
        chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        saml_peer().metadata_url,
    );
    let mut deflate = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
    deflate.write_all(xml.as_bytes()).unwrap();
    let encoded = base64::engine::general_purpose::STANDARD.encode(deflate.finish().unwrap());
    let mut url = url::Url::parse(&slo).unwrap();
    url.query_pairs_mut()
        .append_pair("SAMLRequest", &encoded)
        .append_pair("RelayState", "idp-relay");
    samael::crypto::sign_url(url, key).unwrap().to_string()
}

/// The NameID of the (plaintext) assertion in a SAML response.
fn name_id_of(xml: &str) -> String {
    let start = xml.find("<saml:NameID").expect("a NameID");
    let value = start + xml[start..].find('>').unwrap() + 1;
    let end = value + xml[value..].find("</saml:NameID>").unwrap();
    xml[value..end].to_owned()
}

#[tokio::test]
async fn a_wrongly_signed_logout_request_from_the_idp_leaves_the_session_alone() {
    let server = saml_server(Some(json!({"validate.logout": true, "sign.logout": true})), |_| {}).await;
    let browser = Browser::new();
    let posted = saml_response_for(&browser, &server, "ann", "ann-password").await;
    let name_id = name_id_of(&decoded(&posted.saml_response));
    let end = post_to_acs_then_walk(&browser, &posted).await;
    at_client(&end);
    assert!(signed_in(&browser, &server).await, "signed in");

    // A well-formed LogoutRequest for this very session, from the IdP's entity id, signed by a
    // key that is not the IdP's: refused, and the session survives.
    let other = openssl::pkey::PKey::from_rsa(openssl::rsa::Rsa::generate(2048).unwrap()).unwrap();
    let refusal = |res: reqwest::Response| async move {
        let status = res.status();
        let to = location(&res);
        let html = unescape(&res.text().await.unwrap());
        assert_eq!(status, StatusCode::BAD_REQUEST, "{html}");
        assert!(to.is_none());
        assert!(
            html.contains(
                "Gatehouse could not verify this sign-out request from the identity provider, so nothing was changed."
            ),
            "{html}"
        );
    };
    refusal(browser.get(&idp_logout_request(&server, &name_id, &other)).await).await;
    assert!(
        signed_in(&browser, &server).await,
        "a wrongly signed request ends nothing"
    );
    // The same request with its signature taken off is refused too.
    let unsigned = idp_logout_request(&server, &name_id, &other);
    let unsigned = unsigned.split("&SigAlg=").next().unwrap().to_owned();
    refusal(browser.get(&unsigned).await).await;
    assert!(signed_in(&browser, &server).await, "an unsigned request ends nothing");

    // Control: the very same request signed with the IdP's own key ends the session, and the
    // browser is sent back to the IdP with a LogoutResponse.
    let idp_key = std::fs::read(saml_peer().dir.join("cert/idp.key")).expect("the IdP's signing key");
    let idp_key = openssl::pkey::PKey::private_key_from_pem(&idp_key).unwrap();
    let res = browser.get(&idp_logout_request(&server, &name_id, &idp_key)).await;
    let back = location(&res).unwrap_or_else(|| panic!("answered {}", res.status()));
    assert!(
        back.starts_with(saml_peer().metadata_url.trim_end_matches("metadata.php")) && back.contains("SAMLResponse="),
        "a LogoutResponse to the IdP: {back}"
    );
    assert!(
        !signed_in(&browser, &server).await,
        "the IdP's own signature ends the session"
    );
}

#[tokio::test]
async fn a_configured_sp_key_pair_is_used_instead_of_a_generated_one() {
    let dir = tempfile::tempdir().unwrap();
    let (key_file, cert_file) = (dir.path().join("sp.key"), dir.path().join("sp.crt"));
    let status = std::process::Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=configured-sp",
        ])
        .arg("-keyout")
        .arg(&key_file)
        .arg("-out")
        .arg(&cert_file)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .expect("openssl");
    assert!(status.success());
    let pem = std::fs::read_to_string(&cert_file).unwrap();
    let cert_b64: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    let (k, c) = (key_file.clone(), cert_file.clone());
    // Encrypted assertions prove the IdP used the configured certificate and Gatehouse the key.
    let server = saml_server(Some(json!({"assertion.encryption": true})), move |p| {
        let s = p.saml.as_mut().unwrap();
        s.sp_key_file = Some(k);
        s.sp_cert_file = Some(c);
    })
    .await;
    let xml = sp_metadata(&server).await;
    assert!(xml.contains(&cert_b64), "the configured certificate is published");
    let end = saml_login(&Browser::new(), &server, "ann", "ann-password").await;
    at_client(&end);
}
