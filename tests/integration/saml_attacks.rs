//! Crafted SAML responses, each built from a real, validly signed response of the SimpleSAMLphp
//! IdP to a real request, then changed the way an attacker would. Each must be refused with a
//! page (never a 500), the pending request kept, and nothing created in the database.
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use gatehouse::broker::LinkingPolicy;
use reqwest::StatusCode;
use serde_json::{json, Value};

use super::harness::accounts::counts;
use super::harness::browser::{location, unescape, Browser, Page};
use super::harness::client_app::{authorize, id_token_claims, signed_in};
use super::harness::peers::saml_peer;
use super::harness::saml::{
    decoded, post_to_acs, post_to_acs_then_walk, saml_login, saml_response_for, saml_server, Posted, PROVIDER,
};
use super::harness::urls::resolve;
use super::harness::{TestServer, RP_REDIRECT};

const ASSERTION: &str = "saml:Assertion";
const SIGNATURE: &str = "ds:Signature";

/// The span of the first `<tag …>…</tag>` at or after `from` (no nesting of the same tag).
fn span(xml: &str, tag: &str, from: usize) -> (usize, usize) {
    let open = format!("<{tag}");
    let mut at = from;
    let start = loop {
        let i = at + xml[at..].find(&open).unwrap_or_else(|| panic!("no <{tag}> in {xml}"));
        if matches!(xml.as_bytes()[i + open.len()], b' ' | b'>' | b'\n' | b'\t' | b'\r') {
            break i;
        }
        at = i + 1;
    };
    let close = format!("</{tag}>");
    let end = start + xml[start..].find(&close).unwrap() + close.len();
    (start, end)
}

fn element<'a>(xml: &'a str, tag: &str) -> &'a str {
    let (s, e) = span(xml, tag, 0);
    &xml[s..e]
}

/// `xml` without its first `tag` element.
fn without(xml: &str, tag: &str) -> String {
    let (s, e) = span(xml, tag, 0);
    format!("{}{}", &xml[..s], &xml[e..])
}

/// The assertion as an attacker wants it: someone else's NameID and alice's email.
fn evil(assertion: &str) -> String {
    let (s, e) = span(assertion, "saml:NameID", 0);
    let name_id = &assertion[s..e];
    let value_start = name_id.find('>').unwrap() + 1;
    let forged = format!("{}evil-subject</saml:NameID>", &name_id[..value_start]);
    format!("{}{}{}", &assertion[..s], forged, &assertion[e..]).replace("ann@saml.test", "alice@example.com")
}

/// Gives an element's start tag another ID.
fn with_id(element: &str, id: &str) -> String {
    let i = element.find(" ID=\"").unwrap() + 5;
    let j = i + element[i..].find('"').unwrap();
    format!("{}{id}{}", &element[..i], &element[j..])
}

/// Inserts `inner` just before the element's closing tag `</tag>`.
fn inside_end(element: &str, tag: &str, inner: &str) -> String {
    let i = element.rfind(&format!("</{tag}>")).unwrap();
    format!("{}{inner}{}", &element[..i], &element[i..])
}

fn encode(xml: &str) -> String {
    STANDARD.encode(xml)
}

/// Why a SAML answer was refused, as the person reads it (the log has the details).
const UNVERIFIED: &str =
    "The identity provider's answer could not be verified, so Gatehouse did not trust it. Try again, or sign in another way.";
const UNKNOWN_STATE: &str = "This sign-in response is unknown, expired or was already used. Start the sign-in again.";
const OTHER_BROWSER: &str = "This sign-in was started in another browser. For your safety it can only finish in the browser where it began: go back to that browser, or start again here.";

/// Asserts a refusal page: 400, "Sign-in with Contoso SAML did not work", exactly this reason,
/// and (when `kept`) a way back to the pending request's login page.
#[track_caller]
fn assert_refusal_page(page: &Page, reason: &str, kept: bool, name: &str) {
    let html = unescape(&page.html);
    assert_eq!(page.status, StatusCode::BAD_REQUEST, "{name}: {html}");
    assert!(
        html.contains("<h1>Sign-in with Contoso SAML did not work</h1>"),
        "{name}: {html}"
    );
    assert!(html.contains(reason), "{name}: expected {reason:?} in {html}");
    if kept {
        assert!(
            html.contains("/login?interaction"),
            "{name}: the pending request is kept"
        );
    }
}

/// The control: a fresh real response, posted unchanged, signs in at the client.
async fn accepted(server: &TestServer) {
    let browser = Browser::new();
    let posted = saml_response_for(&browser, server, "ann", "ann-password").await;
    let end = post_to_acs_then_walk(&browser, &posted).await;
    assert!(
        end.url.starts_with(RP_REDIRECT),
        "control: the untouched response is accepted: {} {:?}",
        end.url,
        end.page.map(|p| p.html)
    );
    assert_eq!(id_token_claims(server, &end.url).await["email"], "ann@saml.test");
}

/// One attempt: a fresh real response for a fresh request, changed by `craft`, posted to the
/// ACS. Asserts the refusal.
async fn refused(server: &TestServer, name: &str, craft: impl Fn(&str) -> String) {
    let before = counts(server).await;
    let browser = Browser::new();
    let posted = saml_response_for(&browser, server, "ann", "ann-password").await;
    let crafted = craft(&decoded(&posted.saml_response));
    let res = post_to_acs(&posted.acs, &encode(&crafted), &posted.relay_state).await;
    assert_ne!(res.status(), StatusCode::INTERNAL_SERVER_ERROR, "{name}");
    let page = match location(&res) {
        Some(next) => {
            let end = browser.walk(&resolve(&posted.acs, &next), RP_REDIRECT).await;
            assert!(
                !end.url.starts_with(RP_REDIRECT),
                "{name}: ACCEPTED, reached the client"
            );
            end.page.unwrap_or_else(|| panic!("{name}: a page"))
        }
        None => Page {
            status: res.status(),
            html: res.text().await.unwrap(),
        },
    };
    assert_refusal_page(&page, UNVERIFIED, true, name);
    assert_eq!(counts(server).await, before, "{name}: nothing created");
    assert!(!signed_in(&browser, server).await, "{name}: no session was made");
}

/// A server whose users would be linked to alice by a verified email: a forged email is a
/// takeover, so any accepted forgery shows.
async fn server(options: Value) -> TestServer {
    saml_server(Some(options), |p| p.linking = LinkingPolicy::LinkByVerifiedEmail).await
}

#[tokio::test]
async fn xml_signature_wrapping_of_the_assertion_is_refused() {
    // Only the assertion is signed: the attacker's target.
    let server = server(json!({"saml20.sign.response": false})).await;
    accepted(&server).await;
    // XSW3: an unsigned evil assertion (new ID) before the signed original.
    refused(&server, "XSW3", |r| {
        let a = element(r, ASSERTION);
        let e = with_id(&without(&evil(a), SIGNATURE), "_evil");
        r.replacen(a, &format!("{e}{a}"), 1)
    })
    .await;
    // XSW4: the signed original inside an unsigned evil assertion.
    refused(&server, "XSW4", |r| {
        let a = element(r, ASSERTION);
        let e = with_id(&without(&evil(a), SIGNATURE), "_evil");
        r.replacen(a, &inside_end(&e, ASSERTION, a), 1)
    })
    .await;
    // XSW5: the evil assertion keeps the signature; the untouched original, unsigned, is moved
    // to the end of the response (same ID, so the reference may resolve to it).
    refused(&server, "XSW5", |r| {
        let a = element(r, ASSERTION);
        let r2 = r.replacen(a, &evil(a), 1);
        inside_end(&r2, "samlp:Response", &without(a, SIGNATURE))
    })
    .await;
    // XSW6: as XSW5, with the original inside the signature element.
    refused(&server, "XSW6", |r| {
        let a = element(r, ASSERTION);
        let e = evil(a);
        let sig = element(&e, SIGNATURE).to_owned();
        let e = e.replacen(&sig, &inside_end(&sig, SIGNATURE, &without(a, SIGNATURE)), 1);
        r.replacen(a, &e, 1)
    })
    .await;
    // XSW7: the signed original inside an Extensions block; an unsigned evil copy in its place.
    refused(&server, "XSW7", |r| {
        let a = element(r, ASSERTION);
        let e = without(&evil(a), SIGNATURE);
        let r2 = r.replacen(a, &e, 1);
        let issuer_end = r2.find("</saml:Issuer>").unwrap() + "</saml:Issuer>".len();
        format!(
            "{}<samlp:Extensions>{a}</samlp:Extensions>{}",
            &r2[..issuer_end],
            &r2[issuer_end..]
        )
    })
    .await;
    // XSW8: the evil assertion keeps the signature, which carries the original in a ds:Object.
    refused(&server, "XSW8", |r| {
        let a = element(r, ASSERTION);
        let e = evil(a);
        let sig = element(&e, SIGNATURE).to_owned();
        let object = format!("<ds:Object>{}</ds:Object>", without(a, SIGNATURE));
        let e = e.replacen(&sig, &inside_end(&sig, SIGNATURE, &object), 1);
        r.replacen(a, &e, 1)
    })
    .await;
}

#[tokio::test]
async fn xml_signature_wrapping_of_the_response_is_refused() {
    // Only the response is signed.
    let server = server(json!({"saml20.sign.assertion": false})).await;
    accepted(&server).await;
    let parts = |r: &str| {
        let head_end = r.find('>').unwrap() + 1;
        let head = with_id(&r[..head_end], "_evil-response");
        let sig = element(r, SIGNATURE).to_owned();
        let original = without(r, SIGNATURE);
        let a = element(r, ASSERTION).to_owned();
        let issuer = element(r, "saml:Issuer").to_owned();
        let status = element(r, "samlp:Status").to_owned();
        (head, sig, original, evil(&a), issuer, status)
    };
    // XSW1: an unsigned evil response whose signature element carries the original response.
    refused(&server, "XSW1", |r| {
        let (head, sig, original, e, issuer, status) = parts(r);
        let sig = inside_end(&sig, SIGNATURE, &original);
        format!("{head}{issuer}{sig}{status}{e}</samlp:Response>")
    })
    .await;
    // XSW2: an unsigned evil response with the original response before the signature.
    refused(&server, "XSW2", |r| {
        let (head, sig, original, e, issuer, status) = parts(r);
        format!("{head}{issuer}{original}{sig}{status}{e}</samlp:Response>")
    })
    .await;
    // A changed value under an intact signature.
    refused(&server, "tampered value", |r| {
        r.replace("ann@saml.test", "alice@example.com")
    })
    .await;
}

#[tokio::test]
async fn unsigned_dtd_and_status_error_responses_are_refused() {
    let unsigned = server(json!({"saml20.sign.response": false, "saml20.sign.assertion": false})).await;
    refused(&unsigned, "unsigned response and assertion", |r| r.to_owned()).await;

    let server = server(json!({})).await;
    accepted(&server).await;
    // Signature removed everywhere.
    refused(&server, "signatures stripped", |r| {
        without(&without(r, SIGNATURE), SIGNATURE)
    })
    .await;
    // XXE: an external entity the parser would read from disk.
    refused(&server, "XXE", |r| {
        let body = r.trim_start_matches(|c| c != '<');
        let body = body.strip_prefix("<?xml version=\"1.0\"?>").unwrap_or(body);
        format!(
            "<?xml version=\"1.0\"?><!DOCTYPE r [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>{}",
            body.replace("ann@saml.test", "&x;")
        )
    })
    .await;
    // Entity expansion ("billion laughs").
    refused(&server, "entity expansion", |r| {
        let laughs = "<!DOCTYPE r [<!ENTITY a \"lol\"><!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\"><!ENTITY c \"&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;\">]>";
        format!("{laughs}{}", r.replace("ann@saml.test", "&c;"))
    })
    .await;
    // Not XML at all, and not base64 at all: pages, not 500s.
    refused(&server, "garbage", |_| "definitely not SAML".into()).await;
}

#[tokio::test]
async fn an_idp_error_status_is_a_clear_page_that_keeps_the_request() {
    let server = server(json!({})).await;
    let browser = Browser::new();
    let posted = saml_response_for(&browser, &server, "ann", "ann-password").await;
    let real = decoded(&posted.saml_response);
    let in_response_to = real.split("InResponseTo=\"").nth(1).unwrap().split('"').next().unwrap();
    // What an IdP answers when authentication failed (unsigned, as IdPs often send errors).
    let failure = format!(
        r#"<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_f1" Version="2.0" IssueInstant="2026-01-01T00:00:00Z" Destination="{}" InResponseTo="{in_response_to}"><saml:Issuer>{}</saml:Issuer><samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Responder"><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:AuthnFailed"/></samlp:StatusCode><samlp:StatusMessage>Wrong password</samlp:StatusMessage></samlp:Status></samlp:Response>"#,
        posted.acs,
        saml_peer().metadata_url
    );
    let res = post_to_acs(&posted.acs, &encode(&failure), &posted.relay_state).await;
    let end = browser
        .walk(&resolve(&posted.acs, &location(&res).unwrap()), RP_REDIRECT)
        .await;
    let page = end.page.expect("a page");
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert!(page.html.contains("did not sign you in"), "{}", page.html);
    assert!(page.html.contains("Use another sign-in method"));
    assert!(
        !page.html.contains("Wrong password"),
        "the IdP's message is not shown raw"
    );
}

#[tokio::test]
async fn responses_for_another_request_or_another_sp_or_replayed_or_expired_are_refused() {
    let server_a = server(json!({})).await;
    let server_b = server(json!({})).await;
    let before = (counts(&server_a).await, counts(&server_b).await);

    // A real response to request 1 posted as the answer to request 2 (InResponseTo).
    let first = saml_response_for(&Browser::new(), &server_a, "ann", "ann-password").await;
    let second_browser = Browser::new();
    let second = saml_response_for(&second_browser, &server_a, "ann", "ann-password").await;
    expect_refused(
        &server_a,
        &second_browser,
        &second,
        &first.saml_response,
        "InResponseTo of another request",
    )
    .await;

    // A real response for SP A posted to SP B (audience, recipient, destination, request).
    let for_a = saml_response_for(&Browser::new(), &server_a, "ann", "ann-password").await;
    let b_browser = Browser::new();
    let for_b = saml_response_for(&b_browser, &server_b, "ann", "ann-password").await;
    expect_refused(
        &server_b,
        &b_browser,
        &for_b,
        &for_a.saml_response,
        "response for another SP",
    )
    .await;
    assert_eq!((counts(&server_a).await, counts(&server_b).await), before);

    // Replay: a response accepted once, presented again for a request with its id (the state
    // row is planted here; a browser cannot make one): the assertion-id cache refuses it.
    let browser = Browser::new();
    let ok = saml_response_for(&browser, &server_a, "ann", "ann-password").await;
    let end = post_to_acs_then_walk(&browser, &ok).await;
    assert!(end.url.starts_with(RP_REDIRECT), "the first use is accepted");
    let xml = decoded(&ok.saml_response);
    let request_id = xml.split("InResponseTo=\"").nth(1).unwrap().split('"').next().unwrap();
    let replayer = Browser::new();
    let pending = saml_response_for(&replayer, &server_a, "ann", "ann-password").await;
    let row = gatehouse::store::upstream_states::take(&server_a.state.db, &pending.relay_state, PROVIDER)
        .await
        .unwrap()
        .unwrap();
    gatehouse::store::upstream_states::create(
        &server_a.state.db,
        gatehouse::store::upstream_states::NewUpstreamState {
            state: "planted-relay-state",
            provider_id: PROVIDER,
            interaction_id: &row.interaction_id,
            browser_hash: row.browser_hash.as_deref().unwrap_or_default(),
            nonce: request_id,
            pkce_verifier: "",
        },
    )
    .await
    .unwrap();
    let planted = Posted {
        relay_state: "planted-relay-state".into(),
        ..pending
    };
    expect_refused(&server_a, &replayer, &planted, &ok.saml_response, "replayed assertion").await;

    // The same RelayState twice: the second post finds nothing to continue.
    let res = post_to_acs(&ok.acs, &ok.saml_response, &ok.relay_state).await;
    assert!(location(&res).is_none(), "a used RelayState goes nowhere");
    let page = Page {
        status: res.status(),
        html: res.text().await.unwrap(),
    };
    assert_refusal_page(&page, UNKNOWN_STATE, false, "a used RelayState at the ACS");
    // An unknown one too.
    let res = post_to_acs(&ok.acs, &ok.saml_response, "never-issued").await;
    let page = Page {
        status: res.status(),
        html: res.text().await.unwrap(),
    };
    assert_refusal_page(&page, UNKNOWN_STATE, false, "an unknown RelayState at the ACS");
}

#[tokio::test]
async fn an_expired_assertion_is_refused_while_a_prompt_one_is_accepted() {
    // Assertions live 3 s at the IdP; Gatehouse allows no clock skew.
    let server = saml_server(Some(json!({"assertion.lifetime": 3})), |p| {
        p.saml.as_mut().unwrap().clock_skew = 0;
    })
    .await;
    let before = counts(&server).await;
    let browser = Browser::new();
    let posted = saml_response_for(&browser, &server, "ann", "ann-password").await;
    tokio::time::sleep(std::time::Duration::from_millis(4500)).await;
    expect_refused(&server, &browser, &posted, &posted.saml_response, "expired assertion").await;
    assert_eq!(counts(&server).await, before, "nothing created");

    // Control: the same kind of response, posted at once, signs in (and creates ann).
    let browser = Browser::new();
    let posted = saml_response_for(&browser, &server, "ann", "ann-password").await;
    let end = post_to_acs_then_walk(&browser, &posted).await;
    assert!(
        end.url.starts_with(RP_REDIRECT),
        "a fresh assertion is accepted: {} {:?}",
        end.url,
        end.page.map(|p| p.html)
    );
    assert_eq!(id_token_claims(&server, &end.url).await["email"], "ann@saml.test");
    assert_eq!(counts(&server).await, (before.0 + 1, before.1 + 1));
}

/// Posts `saml_response` as the answer to `target`'s request, then follows in `browser` (the one
/// that started that request): refused with the verification reason, nothing created, no
/// session, and the pending request kept.
async fn expect_refused(server: &TestServer, browser: &Browser, target: &Posted, saml_response: &str, name: &str) {
    let before = counts(server).await;
    let res = post_to_acs(&target.acs, saml_response, &target.relay_state).await;
    let next = location(&res).unwrap_or_else(|| panic!("{name}: ACS answered {}", res.status()));
    let end = browser.walk(&resolve(&target.acs, &next), RP_REDIRECT).await;
    assert!(!end.url.starts_with(RP_REDIRECT), "{name}: ACCEPTED");
    let page = end.page.unwrap_or_else(|| panic!("{name}: a page"));
    assert_refusal_page(&page, UNVERIFIED, true, name);
    assert_eq!(counts(server).await, before, "{name}: nothing created");
    assert!(!signed_in(browser, server).await, "{name}: no session was made");
}

/// The IdP's metadata as its admin would download it.
async fn idp_metadata() -> String {
    reqwest::get(&saml_peer().metadata_url)
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

/// A self-signed certificate that is not the IdP's, base64 DER as metadata carries it.
fn other_certificate() -> String {
    let key = openssl::pkey::PKey::from_rsa(openssl::rsa::Rsa::generate(2048).unwrap()).unwrap();
    let mut name = openssl::x509::X509NameBuilder::new().unwrap();
    name.append_entry_by_text("CN", "not-the-idp").unwrap();
    let name = name.build();
    let mut cert = openssl::x509::X509Builder::new().unwrap();
    cert.set_subject_name(&name).unwrap();
    cert.set_issuer_name(&name).unwrap();
    cert.set_pubkey(&key).unwrap();
    let (from, to) = (
        openssl::asn1::Asn1Time::days_from_now(0).unwrap(),
        openssl::asn1::Asn1Time::days_from_now(1).unwrap(),
    );
    cert.set_not_before(&from).unwrap();
    cert.set_not_after(&to).unwrap();
    cert.sign(&key, openssl::hash::MessageDigest::sha256()).unwrap();
    STANDARD.encode(cert.build().to_der().unwrap())
}

fn with_certificate(metadata: &str, cert: &str) -> String {
    let (open, close) = ("<ds:X509Certificate>", "</ds:X509Certificate>");
    let mut out = String::new();
    let mut rest = metadata;
    while let Some(i) = rest.find(open) {
        let end = i + rest[i..].find(close).expect("a closed certificate");
        out.push_str(&rest[..i + open.len()]);
        out.push_str(cert);
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

/// A Gatehouse that reads the IdP's metadata from `file` (as an admin's copy would be).
async fn server_reading_metadata(file: std::path::PathBuf) -> TestServer {
    saml_server(None, move |p| {
        let s = p.saml.as_mut().unwrap();
        s.idp_metadata_url = None;
        s.idp_metadata_file = Some(file);
    })
    .await
}

#[tokio::test]
async fn idp_metadata_without_a_signing_certificate_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("idp.xml");
    let real = idp_metadata().await;
    let (s, e) = (
        real.find("<md:KeyDescriptor").unwrap(),
        real.rfind("</md:KeyDescriptor>").unwrap(),
    );
    std::fs::write(
        &file,
        format!("{}{}", &real[..s], &real[e + "</md:KeyDescriptor>".len()..]),
    )
    .unwrap();
    let server = server_reading_metadata(file.clone()).await;
    let browser = Browser::new();
    let login = browser.follow(&server, &authorize(&server, "")).await;
    let interaction = login.split("interaction=").nth(1).unwrap().to_owned();
    let page = browser
        .page(&server.url(&format!("/broker/start/{PROVIDER}?interaction={interaction}")))
        .await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST, "{}", page.html);
    assert!(page.html.contains("could not be reached"), "{}", page.html);
    assert!(page.html.contains("Use another sign-in method"));
}

#[tokio::test]
async fn a_response_signed_by_another_key_is_refused_until_the_metadata_names_the_new_key() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("idp.xml");
    let real = idp_metadata().await;
    std::fs::write(&file, with_certificate(&real, &other_certificate())).unwrap();
    let server = server_reading_metadata(file.clone()).await;
    // Signed with the IdP's real key, which the metadata Gatehouse trusts does not name.
    refused(&server, "signed by another key", |r| r.to_owned()).await;

    // The admin updates the metadata (a key rotation): the next response is accepted, without
    // a restart, because a signature failure makes Gatehouse read the metadata again.
    std::fs::write(&file, &real).unwrap();
    let end = saml_login(&Browser::new(), &server, "ann", "ann-password").await;
    assert!(
        end.url.starts_with(RP_REDIRECT),
        "{} {:?}",
        end.url,
        end.page.map(|p| p.html)
    );
}

#[tokio::test]
async fn a_result_continues_only_in_the_browser_that_started_the_login() {
    let server = server(json!({})).await;
    let before = counts(&server).await;
    let victim = Browser::new();
    let attacker = Browser::new();
    let posted = saml_response_for(&attacker, &server, "ann", "ann-password").await;
    let res = post_to_acs(&posted.acs, &posted.saml_response, &posted.relay_state).await;
    let result_url = resolve(&posted.acs, &location(&res).unwrap());
    // The attacker's own login result, opened in the victim's browser (login CSRF).
    let end = victim.walk(&result_url, RP_REDIRECT).await;
    assert!(!end.url.starts_with(RP_REDIRECT), "ACCEPTED in the victim's browser");
    assert_refusal_page(&end.page.expect("a page"), OTHER_BROWSER, false, "another browser");
    assert_eq!(counts(&server).await, before);
    assert!(!signed_in(&victim, &server).await, "the victim got no session");
    // Control: the browser that started the login still finishes it with the same result.
    let end = attacker.walk(&result_url, RP_REDIRECT).await;
    assert!(
        end.url.starts_with(RP_REDIRECT),
        "the starting browser continues: {} {:?}",
        end.url,
        end.page.map(|p| p.html)
    );
}
