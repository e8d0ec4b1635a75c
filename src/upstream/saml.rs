//! Upstream SAML 2.0 identity providers (ADFS, Shibboleth, Okta SAML…): Gatehouse is the
//! service provider. Signatures and decryption are xmlsec's, through samael; this module only
//! decides what to ask and what to accept.
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use openssl::pkey::{PKey, Private};
use samael::crypto::{AllowedSignatureAlgorithm, CertificateDer, Crypto, CryptoProvider};
use samael::metadata::{EntityDescriptor, HTTP_POST_BINDING, HTTP_REDIRECT_BINDING};
use samael::schema::{Assertion, EncryptedAssertion, Response, SubjectNameID};
use samael::service_provider::{Error as SpError, ServiceProvider};
use samael::signature::Signature;
use samael::traits::ToXml;
use sea_orm::DatabaseConnection;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use super::{
    Arrival, Callback, ExternalIdentity, Finished, IdpInitiated, LoginStart, SingleLogout, SpMetadata, Start, Upstream,
    UpstreamError, UpstreamLogout,
};
use crate::config::{ProviderConfig, SamlBinding, SamlSettings};
use crate::store::{now, random_token, replay, saml_keys, upstream_states};

/// Signature algorithms accepted on responses and assertions (no SHA-1, no HMAC).
const ALLOWED_ALGORITHMS: [AllowedSignatureAlgorithm; 6] = [
    AllowedSignatureAlgorithm::RsaSha256,
    AllowedSignatureAlgorithm::RsaSha384,
    AllowedSignatureAlgorithm::RsaSha512,
    AllowedSignatureAlgorithm::EcdsaSha256,
    AllowedSignatureAlgorithm::EcdsaSha384,
    AllowedSignatureAlgorithm::EcdsaSha512,
];

/// Largest SAMLResponse accepted (base64), far above any real one.
const MAX_RESPONSE_LEN: usize = 512 * 1024;

const STATUS_SUCCESS: &str = "urn:oasis:names:tc:SAML:2.0:status:Success";
const NAMEID_TRANSIENT: &str = "urn:oasis:names:tc:SAML:2.0:nameid-format:transient";
const NAMEID_EMAIL: &str = "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress";

// Attribute names (Name or FriendlyName) read for each local attribute, most specific first:
// LDAP/eduPerson friendly names, their urn:oid: names, and the ADFS/Entra claim URIs.
const EMAIL: &[&str] = &[
    "mail",
    "email",
    "emailAddress",
    "urn:oid:0.9.2342.19200300.100.1.3",
    "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress",
];
const DISPLAY_NAME: &[&str] = &[
    "displayName",
    "urn:oid:2.16.840.1.113730.3.1.241",
    "cn",
    "urn:oid:2.5.4.3",
    "http://schemas.microsoft.com/identity/claims/displayname",
];
const GIVEN_NAME: &[&str] = &[
    "givenName",
    "urn:oid:2.5.4.42",
    "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/givenname",
];
const SURNAME: &[&str] = &[
    "sn",
    "surname",
    "urn:oid:2.5.4.4",
    "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/surname",
];
const USERNAME: &[&str] = &[
    "uid",
    "urn:oid:0.9.2342.19200300.100.1.1",
    "eduPersonPrincipalName",
    "urn:oid:1.3.6.1.4.1.5923.1.1.1.6",
    "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn",
    "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name",
];
const GROUPS: &[&str] = &[
    "groups",
    "memberOf",
    "isMemberOf",
    "eduPersonAffiliation",
    "urn:oid:1.3.6.1.4.1.5923.1.1.1.1",
    "http://schemas.microsoft.com/ws/2008/06/identity/claims/groups",
    "http://schemas.microsoft.com/ws/2008/06/identity/claims/role",
    "http://schemas.xmlsoap.org/claims/Group",
];

/// The SP's key pair for one provider.
struct SpKeys {
    key: PKey<Private>,
    cert_der: Vec<u8>,
}

/// What the IdP's metadata says, once checked.
struct IdpMetadata {
    descriptor: EntityDescriptor,
    wants_signed_requests: bool,
    /// The signing certificates the descriptor names (never empty).
    signing_certs: Vec<CertificateDer>,
}

/// One SAML identity provider.
pub struct SamlUpstream {
    config: ProviderConfig,
    settings: SamlSettings,
    sp_entity_id: String,
    acs_url: String,
    slo_url: String,
    db: DatabaseConnection,
    http: reqwest::Client,
    keys: moka::future::Cache<(), Arc<SpKeys>>,
    idp: moka::future::Cache<(), Arc<IdpMetadata>>,
}

/// Why a SAML answer was refused (details for the log).
#[derive(Debug, thiserror::Error)]
enum Refusal {
    #[error("signature: {0}")]
    Signature(String),
    #[error("{0}")]
    Invalid(String),
}

impl SamlUpstream {
    /// A connector for a validated `kind = "saml"` provider; `base` is Gatehouse's public URL.
    pub fn new(config: ProviderConfig, base: &str, db: DatabaseConnection, http: reqwest::Client) -> Self {
        let settings = config
            .saml
            .clone()
            .unwrap_or_else(|| unreachable!("validated: kind saml has settings"));
        let sp_entity_id = settings
            .sp_entity_id
            .clone()
            .unwrap_or_else(|| format!("{base}/broker/saml/{}/metadata", config.id));
        let acs_url = format!("{base}/broker/saml/{}/acs", config.id);
        let slo_url = format!("{base}/broker/saml/{}/slo", config.id);
        let idp = moka::future::Cache::builder()
            .max_capacity(1)
            .time_to_live(Duration::from_secs(settings.metadata_refresh.max(60)))
            .build();
        Self {
            config,
            settings,
            sp_entity_id,
            acs_url,
            slo_url,
            db,
            http,
            keys: moka::future::Cache::builder().max_capacity(1).build(),
            idp,
        }
    }

    async fn keys(&self) -> Result<Arc<SpKeys>, UpstreamError> {
        self.keys
            .try_get_with((), async {
                let (key_pem, cert_pem) = match (&self.settings.sp_key_file, &self.settings.sp_cert_file) {
                    (Some(k), Some(c)) => (
                        tokio::fs::read_to_string(k)
                            .await
                            .map_err(|e| format!("{}: {e}", k.display()))?,
                        tokio::fs::read_to_string(c)
                            .await
                            .map_err(|e| format!("{}: {e}", c.display()))?,
                    ),
                    _ => saml_keys::load_or_generate(&self.db, &self.config.id)
                        .await
                        .map_err(|e| e.to_string())?,
                };
                let key = PKey::private_key_from_pem(key_pem.as_bytes()).map_err(|e| format!("SP key: {e}"))?;
                let cert = openssl::x509::X509::from_pem(cert_pem.as_bytes()).map_err(|e| format!("SP cert: {e}"))?;
                let cert_der = cert.to_der().map_err(|e| e.to_string())?;
                Ok::<_, String>(Arc::new(SpKeys { key, cert_der }))
            })
            .await
            .map_err(|e: Arc<String>| UpstreamError::Unavailable(format!("SAML SP keys: {e}")))
    }

    async fn idp(&self) -> Result<Arc<IdpMetadata>, UpstreamError> {
        self.idp
            .try_get_with((), self.fetch_idp_metadata())
            .await
            .map_err(|e: Arc<String>| UpstreamError::Unavailable(format!("SAML IdP metadata: {e}")))
    }

    async fn fetch_idp_metadata(&self) -> Result<Arc<IdpMetadata>, String> {
        let xml = match (&self.settings.idp_metadata_url, &self.settings.idp_metadata_file) {
            (Some(url), _) => {
                let res = self
                    .http
                    .get(url.as_str())
                    .send()
                    .await
                    .and_then(reqwest::Response::error_for_status)
                    .map_err(|e| format!("{url}: {e}"))?;
                if res.content_length().unwrap_or(0) > 4 * 1024 * 1024 {
                    return Err(format!("{url}: metadata larger than 4 MiB"));
                }
                res.text().await.map_err(|e| format!("{url}: {e}"))?
            }
            (None, Some(path)) => tokio::fs::read_to_string(path)
                .await
                .map_err(|e| format!("{}: {e}", path.display()))?,
            (None, None) => return Err("no metadata source".into()),
        };
        refuse_dtd(&xml)?;
        let descriptor: EntityDescriptor = xml.parse().map_err(|e| format!("not SAML metadata: {e}"))?;
        let idp_sso = descriptor
            .idp_sso_descriptors
            .as_ref()
            .and_then(|d| d.first())
            .ok_or("the metadata has no IDPSSODescriptor")?;
        let wants_signed_requests = idp_sso.want_authn_requests_signed.unwrap_or(false);
        if descriptor.entity_id.as_deref().is_none_or(str::is_empty) {
            return Err("the metadata has no entityID".into());
        }
        // Without a signing certificate samael would accept unsigned responses: refuse the
        // metadata instead.
        let probe = ServiceProvider {
            idp_metadata: descriptor.clone(),
            ..Default::default()
        };
        let signing_certs = match probe.idp_signing_certs() {
            Ok(Some(certs)) if !certs.is_empty() => certs,
            Ok(_) => return Err("the metadata has no signing certificate".into()),
            Err(e) => return Err(format!("the metadata's certificate is unreadable: {e}")),
        };
        Ok(Arc::new(IdpMetadata {
            descriptor,
            wants_signed_requests,
            signing_certs,
        }))
    }

    /// samael's SP for checking responses; `unsolicited` accepts answers to no request (samael
    /// then skips InResponseTo, which `verify` makes sure is absent).
    fn service_provider(&self, idp: Option<&IdpMetadata>, keys: &SpKeys, unsolicited: bool) -> ServiceProvider {
        let skew = chrono::Duration::seconds(self.settings.clock_skew as i64);
        ServiceProvider {
            entity_id: Some(self.sp_entity_id.clone()),
            key: Some(keys.key.clone()),
            certificate: Some(CertificateDer::from(keys.cert_der.clone())),
            metadata_url: Some(self.sp_entity_id.clone()),
            acs_url: Some(self.acs_url.clone()),
            slo_url: Some(self.slo_url.clone()),
            idp_metadata: idp.map(|i| i.descriptor.clone()).unwrap_or_default(),
            authn_name_id_format: self.settings.name_id_format.clone(),
            // A response is used within seconds of its issue; the skew covers clock drift.
            max_issue_delay: chrono::Duration::seconds(90) + skew,
            max_clock_skew: skew,
            allowed_signature_algorithms: Some(ALLOWED_ALGORITHMS.to_vec()),
            allow_idp_initiated: unsolicited,
            ..Default::default()
        }
    }

    /// Verifies the posted SAMLResponse for `request_id` (`None`: an unsolicited response, which
    /// must then answer no request at all); returns the asserted identity's claims.
    async fn verify(&self, encoded: Option<&String>, request_id: Option<&str>) -> Result<Value, UpstreamError> {
        let xml = decode_response(encoded)?;
        let (shape, peek) = screen_response(&xml, request_id)?;
        let assertion = self.verified_assertion_refreshing(&xml, &peek, request_id).await?;
        check_verified_assertion(&shape, &assertion, request_id)?;
        self.accept_once(&assertion).await?;
        self.claims_of(&assertion)
    }

    /// [`Self::verified_assertion`] against the cached IdP metadata; when the signature fails,
    /// the IdP may have rotated its certificate: the metadata is read again, once.
    async fn verified_assertion_refreshing(
        &self,
        xml: &str,
        peek: &Response,
        request_id: Option<&str>,
    ) -> Result<Assertion, UpstreamError> {
        let invalid = |m: String| UpstreamError::InvalidSaml(m);
        let keys = self.keys().await?;
        let idp = self.idp().await?;
        match self.verified_assertion(xml, peek, request_id, &idp, &keys) {
            Err(Refusal::Signature(first)) => {
                self.idp.invalidate(&()).await;
                let fresh = self.idp().await?;
                self.verified_assertion(xml, peek, request_id, &fresh, &keys)
                    .map_err(|e| invalid(format!("{e} (before the metadata refresh: {first})")))
            }
            other => other.map_err(|e| invalid(e.to_string())),
        }
    }

    /// Replay cache: an assertion ID is accepted once, for as long as it could be valid.
    async fn accept_once(&self, assertion: &Assertion) -> Result<(), UpstreamError> {
        let valid_until = assertion
            .conditions
            .as_ref()
            .and_then(|c| c.not_on_or_after)
            .map(|t| t.timestamp())
            .unwrap_or(now() + 600)
            + self.settings.clock_skew as i64;
        let replay_key = format!("saml {} {}", self.config.id, assertion.id);
        if !replay::first_use(&self.db, &replay_key, valid_until).await? {
            return Err(UpstreamError::InvalidSaml(format!(
                "assertion {} was already used",
                assertion.id
            )));
        }
        Ok(())
    }

    /// The assertion, after xmlsec verified its signature (on the Response or the Assertion, and
    /// inside an encrypted assertion whenever one is there) and samael checked Destination,
    /// Issuer, Audience, Recipient, InResponseTo and the validity window.
    fn verified_assertion(
        &self,
        xml: &str,
        peek: &Response,
        request_id: Option<&str>,
        idp: &IdpMetadata,
        keys: &SpKeys,
    ) -> Result<Assertion, Refusal> {
        let sp = self.service_provider(Some(idp), keys, request_id.is_none());
        let ids: Vec<&str> = request_id.into_iter().collect();
        let refused = |e: SpError| match e {
            SpError::FailedToValidateSignature => Refusal::Signature(e.to_string()),
            other => Refusal::Invalid(other.to_string()),
        };
        let Some(encrypted) = &peek.encrypted_assertion else {
            return sp.parse_xml_response(xml, Some(ids.as_slice())).map_err(refused);
        };
        let inner = decrypt_to_xml(encrypted, &keys.key)
            .map(|inner| with_inherited_namespaces(&inner, xml))
            .map_err(Refusal::Invalid)?;
        let inner_shape = MessageShape::of(&inner).map_err(Refusal::Invalid)?;
        if inner_shape.assertions != 1 || inner_shape.responses + inner_shape.encrypted_assertions != 0 {
            return Err(Refusal::Invalid(
                "the encrypted assertion holds more than one assertion".into(),
            ));
        }
        let inner_signed = inner
            .parse::<Assertion>()
            .map_err(|_| Refusal::Invalid("the decrypted assertion is not an Assertion".into()))?
            .signature
            .is_some();
        match sp.parse_xml_response(xml, Some(ids.as_slice())) {
            // Signed Response: it covers the encrypted assertion. A signature inside must
            // verify too.
            Ok(assertion) => {
                if inner_signed {
                    sp.parse_xml_response(&inner, Some(ids.as_slice())).map_err(refused)?;
                }
                Ok(assertion)
            }
            // Unsigned Response: the decrypted assertion must carry its own valid signature.
            Err(SpError::FailedToValidateSignature) if inner_signed && peek.signature.is_none() => {
                sp.parse_xml_response(&inner, Some(ids.as_slice())).map_err(refused)
            }
            Err(e) => Err(refused(e)),
        }
    }

    /// The claims the mapping reads: the subject, email, names and groups found under their
    /// common attribute names, plus every attribute under its Name and FriendlyName.
    fn claims_of(&self, a: &Assertion) -> Result<Value, UpstreamError> {
        let attributes = Attributes::of(a);
        let name_id = a.subject.as_ref().and_then(|s| s.name_id.as_ref());
        let format = name_id.and_then(|n| n.format.as_deref()).unwrap_or_default();
        let subject = subject_of(self.settings.subject_attribute.as_deref(), &attributes, name_id).ok_or(
            UpstreamError::MissingClaim("subject (NameID or saml.subject_attribute)"),
        )?;
        let email = attributes.first(EMAIL).or_else(|| {
            (format == NAMEID_EMAIL)
                .then(|| name_id.map(|n| n.value.clone()))
                .flatten()
        });
        let session_index = a
            .authn_statements
            .iter()
            .flatten()
            .find_map(|s| s.session_index.clone());
        let class_refs: Vec<String> = a
            .authn_statements
            .iter()
            .flatten()
            .filter_map(|s| s.authn_context.as_ref()?.value.as_ref()?.value.clone())
            .collect();
        Ok(json!({
            "sub": subject,
            "email": email,
            // SAML has no email_verified: the provider's trust_email says whether the IdP's
            // address is authoritative.
            "email_verified": self.config.trust_email && email.is_some(),
            "name": attributes.display_name(),
            "preferred_username": attributes.first(USERNAME),
            "groups": attributes.all(GROUPS),
            "name_id": name_id.map(|n| n.value.clone()),
            "name_id_format": format,
            "session_index": session_index,
            (super::AUTHN_CONTEXTS_CLAIM): class_refs,
            "issuer": a.issuer.value,
            "attributes": attributes.0,
        }))
    }
}

/// Who the assertion is about: the configured attribute's first value, or else the NameID
/// (trimmed) unless it is transient, since a transient NameID changes at every login.
fn subject_of(
    subject_attribute: Option<&str>,
    attributes: &Attributes,
    name_id: Option<&SubjectNameID>,
) -> Option<String> {
    let format = name_id.and_then(|n| n.format.as_deref()).unwrap_or_default();
    match subject_attribute {
        Some(attr) => attributes.first(&[attr]),
        None if format == NAMEID_TRANSIENT => None,
        None => name_id.map(|n| n.value.trim().to_owned()).filter(|v| !v.is_empty()),
    }
}

/// An assertion's attributes, each under its Name and under its FriendlyName (as JSON arrays
/// of trimmed values: what the claim mapping sees as `attributes`).
struct Attributes(Map<String, Value>);

impl Attributes {
    fn of(a: &Assertion) -> Self {
        let mut attributes = Map::new();
        for statement in a.attribute_statements.iter().flatten() {
            for attribute in &statement.attributes {
                let values: Vec<Value> = attribute
                    .values
                    .iter()
                    .filter_map(|v| v.value.as_deref())
                    .map(|v| Value::String(v.trim().to_owned()))
                    .collect();
                for key in [&attribute.name, &attribute.friendly_name].into_iter().flatten() {
                    if let Value::Array(list) = attributes.entry(key.clone()).or_insert_with(|| json!([])) {
                        list.extend(values.iter().cloned());
                    }
                }
            }
        }
        Self(attributes)
    }

    /// The values of the first of `names` that has any.
    fn all(&self, names: &[&str]) -> Vec<String> {
        names
            .iter()
            .find_map(|n| self.0.get(*n).and_then(Value::as_array).filter(|v| !v.is_empty()))
            .map(|v| v.iter().filter_map(|s| s.as_str().map(str::to_owned)).collect())
            .unwrap_or_default()
    }

    /// The first non-empty value among [`Self::all`] of `names`.
    fn first(&self, names: &[&str]) -> Option<String> {
        self.all(names).into_iter().find(|s| !s.is_empty())
    }

    /// The display name, or else the given name and surname together.
    fn display_name(&self) -> Option<String> {
        self.first(DISPLAY_NAME).or_else(|| {
            let parts: Vec<String> = [self.first(GIVEN_NAME), self.first(SURNAME)]
                .into_iter()
                .flatten()
                .collect();
            (!parts.is_empty()).then(|| parts.join(" "))
        })
    }
}

/// The posted SAMLResponse's XML: present, not too large, base64 (whitespace ignored), UTF-8.
fn decode_response(encoded: Option<&String>) -> Result<String, UpstreamError> {
    let invalid = |m: &str| UpstreamError::InvalidSaml(m.to_owned());
    let encoded = encoded.ok_or(UpstreamError::MissingClaim("SAMLResponse"))?;
    if encoded.len() > MAX_RESPONSE_LEN {
        return Err(invalid("SAMLResponse too large"));
    }
    let compact: String = encoded.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    let bytes = STANDARD
        .decode(compact)
        .map_err(|_| invalid("SAMLResponse is not base64"))?;
    String::from_utf8(bytes).map_err(|_| invalid("SAMLResponse is not UTF-8"))
}

/// What is checked before any signature: no DTD; one Response; no InResponseTo when no request
/// is expected; a success status (anything else is the IdP's refusal); one assertion, encrypted
/// or not. Returns the message's shape and its unverified parse, which is trusted for nothing
/// but telling a refusal from an answer.
fn screen_response(xml: &str, request_id: Option<&str>) -> Result<(MessageShape, Response), UpstreamError> {
    let invalid = |m: String| UpstreamError::InvalidSaml(m);
    // Refuses a DTD (XXE, entity expansion) before anything else reads the document.
    let shape = MessageShape::of(xml).map_err(invalid)?;
    let peek: Response = xml.parse().map_err(|_| invalid("not a SAML Response".into()))?;
    if shape.responses != 1 {
        return Err(invalid(format!("{} Response elements", shape.responses)));
    }
    if request_id.is_none() && peek.in_response_to.is_some() {
        return Err(invalid("an answer to a request arrived without its RelayState".into()));
    }
    status_refusal(&peek)?;
    // Signature wrapping puts a second assertion (or response) next to, around or inside
    // the signed one: an honest response has exactly one, and it is the one verified.
    if shape.assertions + shape.encrypted_assertions != 1 {
        return Err(invalid(format!(
            "{} assertions and {} encrypted assertions",
            shape.assertions, shape.encrypted_assertions
        )));
    }
    Ok((shape, peek))
}

/// The IdP's refusal, when the response's status is other than success.
fn status_refusal(peek: &Response) -> Result<(), UpstreamError> {
    let Some(code) = peek.status.as_ref().and_then(|s| s.status_code.value.as_deref()) else {
        return Ok(());
    };
    if code == STATUS_SUCCESS {
        return Ok(());
    }
    let message = peek
        .status
        .as_ref()
        .and_then(|s| s.status_message.as_ref())
        .and_then(|m| m.value.clone())
        .unwrap_or_default();
    Err(UpstreamError::Denied {
        error: code.rsplit(':').next().unwrap_or(code).to_owned(),
        description: message,
    })
}

/// What is checked once the signature verified: an unsolicited response's assertion answers no
/// request either, and the verified assertion is the one the response's shape counted.
fn check_verified_assertion(
    shape: &MessageShape,
    assertion: &Assertion,
    request_id: Option<&str>,
) -> Result<(), UpstreamError> {
    let invalid = |m: &str| UpstreamError::InvalidSaml(m.to_owned());
    let answers_a_request = assertion
        .subject
        .iter()
        .flat_map(|s| s.subject_confirmations.iter().flatten())
        .any(|c| {
            c.subject_confirmation_data
                .as_ref()
                .is_some_and(|d| d.in_response_to.is_some())
        });
    if request_id.is_none() && answers_a_request {
        return Err(invalid("an answer to a request arrived without its RelayState"));
    }
    if shape.assertion_id.as_ref().is_some_and(|id| *id != assertion.id) {
        return Err(invalid("the verified assertion is not the response's assertion"));
    }
    Ok(())
}

/// The element counts and IDs of a SAML message, read before any signature is trusted.
#[derive(Debug, Default, PartialEq)]
struct MessageShape {
    responses: usize,
    assertions: usize,
    encrypted_assertions: usize,
    /// The ID of the (last) Assertion element.
    assertion_id: Option<String>,
}

impl MessageShape {
    /// Reads the whole document; malformed XML, a DTD or a repeated ID attribute is an error.
    fn of(xml: &str) -> Result<Self, String> {
        use quick_xml::events::Event;
        let mut reader = quick_xml::Reader::from_str(xml);
        let mut shape = MessageShape::default();
        let mut ids = std::collections::HashSet::new();
        loop {
            match reader.read_event() {
                Ok(Event::Start(e)) | Ok(Event::Empty(e)) => {
                    let mut id = None;
                    for attr in e.attributes() {
                        let attr = attr.map_err(|e| format!("malformed XML: {e}"))?;
                        if attr.key.local_name().as_ref() == b"ID" {
                            let value = String::from_utf8_lossy(&attr.value).into_owned();
                            if !ids.insert(value.clone()) {
                                return Err(format!("the ID {value} appears twice"));
                            }
                            id = Some(value);
                        }
                    }
                    match e.local_name().as_ref() {
                        b"Response" => shape.responses += 1,
                        b"Assertion" => {
                            shape.assertions += 1;
                            shape.assertion_id = id;
                        }
                        b"EncryptedAssertion" => shape.encrypted_assertions += 1,
                        _ => {}
                    }
                }
                Ok(Event::DocType(_)) => return Err("a DTD is not accepted".into()),
                Ok(Event::Eof) => return Ok(shape),
                Err(e) => return Err(format!("malformed XML: {e}")),
                Ok(_) => {}
            }
        }
    }
}

impl SamlUpstream {
    /// Whether a redirect-bound message's query signature (SigAlg, Signature) is the IdP's.
    /// `None` when the message is not signed.
    fn redirect_signature_ok(
        idp: &IdpMetadata,
        params: &std::collections::HashMap<String, String>,
        raw_query: &str,
        request: bool,
    ) -> Option<bool> {
        let alg = params.get("SigAlg")?;
        if !ALLOWED_ALGORITHMS.iter().any(|a| a.signature_uri() == alg) {
            return Some(false);
        }
        let uri = format!("/?{raw_query}");
        Some(idp.signing_certs.iter().any(|c| {
            samael::crypto::UrlVerifier::from_x509(c)
                .and_then(|v| {
                    if request {
                        v.verify_percent_encoded_request_uri_string(&uri)
                    } else {
                        v.verify_percent_encoded_response_uri_string(&uri)
                    }
                })
                .unwrap_or(false)
        }))
    }

    fn identity(&self, claims: Value) -> Result<ExternalIdentity, UpstreamError> {
        let session = SamlSession::of_claims(&claims);
        let mut identity = self.config.claims.apply(&self.config.id, claims)?;
        identity.upstream_session = serde_json::to_string(&session).ok();
        Ok(identity)
    }
}

/// What a SAML login leaves for ending its session later, kept as the opaque
/// [`ExternalIdentity::upstream_session`]: what a LogoutRequest names.
#[derive(Debug, Default, PartialEq, Serialize, Deserialize)]
struct SamlSession {
    #[serde(default)]
    name_id: Option<String>,
    #[serde(default)]
    name_id_format: Option<String>,
    #[serde(default)]
    session_index: Option<String>,
}

impl SamlSession {
    /// The session of a login with these claims (see `claims_of`).
    fn of_claims(claims: &Value) -> Self {
        let text = |key: &str| claims[key].as_str().map(str::to_owned);
        Self {
            name_id: text("name_id"),
            name_id_format: text("name_id_format"),
            session_index: text("session_index"),
        }
    }

    /// The session an `upstream_session` holds, if it is one.
    fn parse(upstream_session: Option<&str>) -> Option<Self> {
        serde_json::from_str(upstream_session?).ok()
    }
}

/// Whether the login that left `upstream_session` was for `name_id` (a LogoutRequest's subject).
fn session_has_name_id(upstream_session: Option<&str>, name_id: &str) -> bool {
    SamlSession::parse(upstream_session).is_some_and(|s| s.name_id.as_deref() == Some(name_id))
}

/// What goes into a LogoutRequest.
struct LogoutRequestParts<'a> {
    id: &'a str,
    destination: &'a str,
    issuer: &'a str,
    name_id: &'a str,
    name_id_format: Option<&'a str>,
    sp_name_qualifier: &'a str,
    session_index: Option<&'a str>,
}

/// A LogoutRequest (SAML core §3.7.1). Written out because samael's type puts SessionIndex in
/// an attribute, where the schema has an element. Only text is escaped here; signing is
/// xmlsec's job elsewhere (the redirect binding signs the query).
fn logout_request_xml(p: &LogoutRequestParts) -> String {
    let esc = |s: &str| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;")
    };
    let format = p
        .name_id_format
        .map(|f| format!(" Format=\"{}\"", esc(f)))
        .unwrap_or_default();
    let session_index = p
        .session_index
        .map(|s| format!("<samlp:SessionIndex>{}</samlp:SessionIndex>", esc(s)))
        .unwrap_or_default();
    format!(
        r#"<samlp:LogoutRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="{}" Version="2.0" IssueInstant="{}" Destination="{}"><saml:Issuer>{}</saml:Issuer><saml:NameID SPNameQualifier="{}"{format}>{}</saml:NameID>{session_index}</samlp:LogoutRequest>"#,
        esc(p.id),
        chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        esc(p.destination),
        esc(p.issuer),
        esc(p.sp_name_qualifier),
        esc(p.name_id),
    )
}

/// The HTTP-Redirect binding's encoding: DEFLATE, then base64.
fn deflate_base64(xml: &str) -> std::io::Result<String> {
    use std::io::Write;
    let mut encoder = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(xml.as_bytes())?;
    Ok(STANDARD.encode(encoder.finish()?))
}

/// Undoes [`deflate_base64`], refusing anything that inflates past 1 MiB.
fn inflate_base64(encoded: &str) -> Result<String, String> {
    use std::io::Read;
    let compact: String = encoded.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    let bytes = STANDARD.decode(compact).map_err(|_| "not base64".to_owned())?;
    let mut xml = String::new();
    flate2::read::DeflateDecoder::new(bytes.as_slice())
        .take(1024 * 1024)
        .read_to_string(&mut xml)
        .map_err(|_| "not DEFLATE-compressed UTF-8".to_owned())?;
    Ok(xml)
}

/// Entities are how XXE and "billion laughs" get in: no SAML message or metadata needs a DTD.
fn refuse_dtd(xml: &str) -> Result<(), String> {
    let upper = xml.to_ascii_uppercase();
    if upper.contains("<!DOCTYPE") || upper.contains("<!ENTITY") {
        Err("a DTD (DOCTYPE/ENTITY) is not accepted".into())
    } else {
        Ok(())
    }
}

/// The decrypted assertion as a document of its own: the namespace declarations it inherited
/// from the Response's root (IdPs encrypt the element without them) are copied onto its root.
/// Exclusive canonicalization only renders the prefixes used, so the signature is unaffected.
fn with_inherited_namespaces(inner: &str, outer: &str) -> String {
    let start_tag = |doc: &str| -> Option<(usize, usize)> {
        let mut from = 0;
        loop {
            let open = from + doc[from..].find('<')?;
            if doc[open..].starts_with("<?") || doc[open..].starts_with("<!") {
                from = open + 1;
                continue;
            }
            return Some((open, open + doc[open..].find('>')?));
        }
    };
    let (Some((_, outer_end)), Some((inner_open, inner_end))) = (start_tag(outer), start_tag(inner)) else {
        return inner.to_owned();
    };
    let outer_tag = &outer[..outer_end];
    let inner_tag = &inner[inner_open..inner_end];
    let mut missing = String::new();
    for decl in outer_tag.split_whitespace().filter(|a| a.starts_with("xmlns")) {
        let Some((name, value)) = decl.split_once('=') else {
            continue;
        };
        let value = value.trim_end_matches('/');
        if !inner_tag.contains(&format!("{name}=")) && value.len() >= 2 {
            missing.push(' ');
            missing.push_str(name);
            missing.push('=');
            missing.push_str(value);
        }
    }
    // Insert after the element name.
    let name_end = inner_tag
        .find(|c: char| c.is_whitespace() || c == '/')
        .unwrap_or(inner_tag.len());
    let at = inner_open + name_end;
    format!("{}{}{}", &inner[..at], missing, &inner[at..])
}

/// Decrypts an EncryptedAssertion to its XML text, so a signature inside can be verified.
fn decrypt_to_xml(encrypted: &EncryptedAssertion, key: &PKey<Private>) -> Result<String, String> {
    let (cipher_key, method) = encrypted.encrypted_key_info().ok_or("no EncryptedKey")?;
    let aes_key = Crypto::decrypt_assertion_key_info(cipher_key, method, key).map_err(|e| e.to_string())?;
    let (cipher_value, method) = encrypted.encrypted_value_info().ok_or("no EncryptedData")?;
    let plain = Crypto::decrypt_assertion_value_info(cipher_value, method, &aes_key).map_err(|e| e.to_string())?;
    let text = String::from_utf8_lossy(&plain);
    // Block-cipher padding may leave bytes after the element.
    let (start, end) = (text.find('<').ok_or("empty")?, text.rfind('>').ok_or("empty")?);
    let inner = text[start..=end].to_owned();
    Ok(inner)
}

#[async_trait]
impl Upstream for SamlUpstream {
    fn config(&self) -> &ProviderConfig {
        &self.config
    }

    /// The IdP's metadata (through the cache logins use) and its signing certificates' dates.
    async fn probe(&self) -> Result<super::probe::Probe, UpstreamError> {
        let idp = self.idp().await?;
        let certificates = idp
            .signing_certs
            .iter()
            .map(|c| super::probe::CertificateDates::from_der(c.der_data()))
            .collect::<Result<_, _>>()?;
        Ok(super::probe::Probe { certificates })
    }

    async fn begin(&self, start: LoginStart<'_>) -> Result<Start, UpstreamError> {
        let idp = self.idp().await?;
        let keys = self.keys().await?;
        let sp = self.service_provider(Some(&idp), &keys, false);
        let (binding, name) = match self.settings.binding {
            SamlBinding::Redirect => (HTTP_REDIRECT_BINDING, "HTTP-Redirect"),
            SamlBinding::Post => (HTTP_POST_BINDING, "HTTP-POST"),
        };
        let sso = sp.sso_binding_location(binding).ok_or_else(|| {
            UpstreamError::Unavailable(format!("the IdP metadata has no SingleSignOnService for {name}"))
        })?;
        let fail = |e: Box<dyn std::error::Error>| UpstreamError::Unavailable(format!("AuthnRequest: {e}"));
        let mut request = sp.make_authentication_request(&sso).map_err(fail)?;
        // samael's ids are `id-<u32>`: guessable. An NCName from the CSPRNG instead.
        request.id = format!("_{}", random_token());
        let relay_state = random_token();
        // The request id waits server-side under the RelayState: the IdP's POST carries no cookie.
        upstream_states::create(
            &self.db,
            upstream_states::NewUpstreamState {
                state: &relay_state,
                provider_id: &self.config.id,
                interaction_id: start.interaction_id,
                browser_hash: start.browser_hash,
                nonce: &request.id,
                pkce_verifier: "",
            },
        )
        .await?;
        let sign = self.settings.sign_requests.unwrap_or(idp.wants_signed_requests);
        match self.settings.binding {
            SamlBinding::Redirect => {
                let url = if sign {
                    request.signed_redirect(&relay_state, &keys.key)
                } else {
                    request.redirect(&relay_state)
                }
                .map_err(fail)?
                .ok_or_else(|| UpstreamError::Unavailable("AuthnRequest without destination".into()))?;
                Ok(Start::Redirect(url.to_string()))
            }
            SamlBinding::Post => {
                let xml = if sign {
                    request.signature = Some(Signature::template(
                        &request.id,
                        &CertificateDer::from(keys.cert_der.clone()),
                    ));
                    let unsigned = request.to_string().map_err(fail)?;
                    let der = keys
                        .key
                        .private_key_to_der()
                        .map_err(|e| UpstreamError::Unavailable(e.to_string()))?;
                    Crypto::sign_xml(unsigned, &der).map_err(|e| UpstreamError::Unavailable(format!("signing: {e}")))?
                } else {
                    request.to_string().map_err(fail)?
                };
                Ok(Start::PostForm {
                    action: sso,
                    fields: vec![
                        ("SAMLRequest".into(), STANDARD.encode(xml)),
                        ("RelayState".into(), relay_state),
                    ],
                })
            }
        }
    }

    async fn finish(&self, cb: &Callback, arrival: Arrival<'_>) -> Result<Finished, UpstreamError> {
        // Unsolicited (IdP-initiated) responses carry no RelayState of ours: refused.
        let row = super::take_state(&self.db, cb.get("RelayState"), &self.config.id, arrival).await?;
        let result = async {
            let claims = self.verify(cb.get("SAMLResponse"), Some(&row.nonce)).await?;
            self.identity(claims)
        }
        .await;
        Ok(Finished::of(row, result))
    }

    async fn logout_url(
        &self,
        upstream_session: Option<&str>,
        _post_logout_redirect_uri: &str,
        state: &str,
    ) -> Option<String> {
        // The IdP answers at the SLO endpoint, which goes on to the post-logout URI with `state`.
        let session = SamlSession::parse(upstream_session)?;
        let name_id = session.name_id.as_deref()?;
        let idp = self.idp().await.ok()?;
        let keys = self.keys().await.ok()?;
        let sp = self.service_provider(Some(&idp), &keys, false);
        let slo = sp.slo_binding_location(HTTP_REDIRECT_BINDING)?;
        let xml = logout_request_xml(&LogoutRequestParts {
            id: &format!("_{}", random_token()),
            destination: &slo,
            issuer: &self.sp_entity_id,
            name_id,
            name_id_format: session.name_id_format.as_deref().filter(|f| !f.is_empty()),
            sp_name_qualifier: &self.sp_entity_id,
            session_index: session.session_index.as_deref(),
        });
        let mut url = url::Url::parse(&slo).ok()?;
        url.query_pairs_mut()
            .append_pair("SAMLRequest", &deflate_base64(&xml).ok()?)
            .append_pair("RelayState", state);
        // Signed always: IdPs refuse unsigned logout requests (anyone could send one).
        match samael::crypto::sign_url(url, &keys.key) {
            Ok(signed) => Some(signed.to_string()),
            Err(e) => {
                tracing::warn!(provider = %self.config.id, error = %e, "signing the LogoutRequest failed");
                None
            }
        }
    }

    fn idp_initiated(&self) -> Option<&dyn IdpInitiated> {
        self.settings
            .idp_initiated
            .is_some()
            .then_some(self as &dyn IdpInitiated)
    }

    fn single_logout(&self) -> Option<&dyn SingleLogout> {
        Some(self)
    }

    fn sp_metadata(&self) -> Option<&dyn SpMetadata> {
        Some(self)
    }
}

#[async_trait]
impl IdpInitiated for SamlUpstream {
    async fn finish_unsolicited(&self, cb: &Callback) -> Result<ExternalIdentity, UpstreamError> {
        // The RelayState of an unsolicited response is the IdP's; it is never used as a URL.
        let claims = self.verify(cb.get("SAMLResponse"), None).await?;
        self.identity(claims)
    }
}

#[async_trait]
impl SingleLogout for SamlUpstream {
    /// Checks a LogoutRequest the IdP sent (HTTP-Redirect binding, which must be signed).
    async fn logout_requested(&self, raw_query: &str) -> Result<UpstreamLogout, UpstreamError> {
        let invalid = |m: &str| UpstreamError::InvalidSaml(format!("LogoutRequest: {m}"));
        let params: std::collections::HashMap<String, String> =
            url::form_urlencoded::parse(raw_query.as_bytes()).into_owned().collect();
        let encoded = params.get("SAMLRequest").ok_or_else(|| invalid("no SAMLRequest"))?;
        let idp = self.idp().await?;
        // Anyone can send a browser here: only a request the IdP signed may end a session.
        if Self::redirect_signature_ok(&idp, &params, raw_query, true) != Some(true) {
            return Err(invalid("missing or bad signature"));
        }
        let xml = inflate_base64(encoded).map_err(|e| invalid(&e))?;
        refuse_dtd(&xml).map_err(|e| invalid(&e))?;
        let request: samael::schema::LogoutRequest = xml.parse().map_err(|_| invalid("not a LogoutRequest"))?;
        if request.issuer.as_ref().and_then(|i| i.value.as_deref()) != idp.descriptor.entity_id.as_deref() {
            return Err(invalid("from another issuer"));
        }
        if request.destination.as_deref().is_some_and(|d| d != self.slo_url) {
            return Err(invalid("for another destination"));
        }
        let subject = request
            .name_id
            .map(|n| n.value.trim().to_owned())
            .filter(|v| !v.is_empty());
        Ok(UpstreamLogout {
            request_id: request.id.ok_or_else(|| invalid("no ID"))?,
            subject: subject.ok_or_else(|| invalid("no NameID"))?,
            relay_state: params.get("RelayState").cloned(),
        })
    }

    /// Checks the IdP's LogoutResponse (HTTP-Redirect binding); returns its RelayState.
    async fn logout_returned(&self, raw_query: &str) -> Result<String, UpstreamError> {
        let invalid = |m: &str| UpstreamError::InvalidSaml(format!("LogoutResponse: {m}"));
        let params: std::collections::HashMap<String, String> =
            url::form_urlencoded::parse(raw_query.as_bytes()).into_owned().collect();
        let relay_state = params
            .get("RelayState")
            .cloned()
            .ok_or_else(|| invalid("no RelayState"))?;
        let encoded = params.get("SAMLResponse").ok_or_else(|| invalid("no SAMLResponse"))?;
        let idp = self.idp().await?;
        // A redirect-bound response is signed over its query, if at all.
        if Self::redirect_signature_ok(&idp, &params, raw_query, false) == Some(false) {
            return Err(invalid("bad signature"));
        }
        let xml = inflate_base64(encoded).map_err(|e| invalid(&e))?;
        refuse_dtd(&xml).map_err(|e| invalid(&e))?;
        let response: samael::schema::LogoutResponse = xml.parse().map_err(|_| invalid("not a LogoutResponse"))?;
        if response.issuer.as_ref().and_then(|i| i.value.as_deref()) != idp.descriptor.entity_id.as_deref() {
            return Err(invalid("from another issuer"));
        }
        if response.destination.as_deref().is_some_and(|d| d != self.slo_url) {
            return Err(invalid("for another destination"));
        }
        let status = response.status.as_ref().and_then(|s| s.status_code.value.as_deref());
        if status != Some(STATUS_SUCCESS) {
            // Signed out here anyway; the IdP may keep its own session.
            tracing::warn!(provider = %self.config.id, ?status, "the IdP did not confirm the logout");
        }
        Ok(relay_state)
    }

    fn is_session_of(&self, upstream_session: Option<&str>, request: &UpstreamLogout) -> bool {
        session_has_name_id(upstream_session, &request.subject)
    }

    async fn answer_url(&self, request: &UpstreamLogout) -> Result<String, UpstreamError> {
        let unavailable = |m: String| UpstreamError::Unavailable(format!("LogoutResponse: {m}"));
        let idp = self.idp().await?;
        let keys = self.keys().await?;
        // The answer goes to the SLO service's ResponseLocation, or its Location.
        let slo = idp
            .descriptor
            .idp_sso_descriptors
            .iter()
            .flatten()
            .flat_map(|d| d.single_logout_services.iter())
            .find(|s| s.binding == HTTP_REDIRECT_BINDING)
            .map(|s| s.response_location.clone().unwrap_or_else(|| s.location.clone()))
            .ok_or_else(|| unavailable("the IdP metadata has no HTTP-Redirect SingleLogoutService".into()))?;
        let esc = |s: &str| s.replace('&', "&amp;").replace('<', "&lt;").replace('"', "&quot;");
        let xml = format!(
            r#"<samlp:LogoutResponse xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_{}" Version="2.0" IssueInstant="{}" Destination="{}" InResponseTo="{}"><saml:Issuer>{}</saml:Issuer><samlp:Status><samlp:StatusCode Value="{STATUS_SUCCESS}"/></samlp:Status></samlp:LogoutResponse>"#,
            random_token(),
            chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            esc(&slo),
            esc(&request.request_id),
            esc(&self.sp_entity_id),
        );
        let mut url = url::Url::parse(&slo).map_err(|e| unavailable(format!("{slo}: {e}")))?;
        let encoded = deflate_base64(&xml).map_err(|e| unavailable(e.to_string()))?;
        url.query_pairs_mut().append_pair("SAMLResponse", &encoded);
        if let Some(relay_state) = &request.relay_state {
            url.query_pairs_mut().append_pair("RelayState", relay_state);
        }
        samael::crypto::sign_url(url, &keys.key)
            .map(|u| u.to_string())
            .map_err(|e| unavailable(format!("signing: {e}")))
    }
}

#[async_trait]
impl SpMetadata for SamlUpstream {
    /// Gatehouse's SP metadata for this provider, for the IdP's admin to import.
    async fn document(&self) -> Result<String, UpstreamError> {
        let keys = self.keys().await?;
        let sp = self.service_provider(None, &keys, false);
        let fail = |e: Box<dyn std::error::Error>| UpstreamError::Unavailable(format!("SP metadata: {e}"));
        let mut md = sp.metadata().map_err(fail)?;
        for d in md.sp_sso_descriptors.iter_mut().flatten() {
            // Single logout answers come back by HTTP-Redirect (samael would say HTTP-POST).
            d.single_logout_services = Some(vec![samael::metadata::Endpoint {
                binding: HTTP_REDIRECT_BINDING.into(),
                location: self.slo_url.clone(),
                response_location: None,
            }]);
            d.authn_requests_signed = Some(self.settings.sign_requests.unwrap_or(false));
            d.want_assertions_signed = Some(true);
            // samael labels both KeyDescriptors "signing"; the one with EncryptionMethods is
            // the IdP's key to encrypt assertions with.
            for kd in d.key_descriptors.iter_mut().flatten() {
                if kd.encryption_methods.is_some() {
                    kd.key_use = Some("encryption".into());
                }
            }
        }
        md.to_string()
            .map_err(|e| UpstreamError::Unavailable(format!("SP metadata: {e:?}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_decrypted_assertion_gets_the_namespaces_it_inherited() {
        let outer = r#"<?xml version="1.0"?><samlp:Response xmlns:samlp="urn:p" xmlns:saml="urn:a" ID="_r"><saml:EncryptedAssertion/></samlp:Response>"#;
        let inner = r#"<saml:Assertion ID="_a" xmlns:xs="urn:xs"><saml:Issuer>i</saml:Issuer></saml:Assertion>"#;
        let fixed = with_inherited_namespaces(inner, outer);
        assert_eq!(
            fixed,
            r#"<saml:Assertion xmlns:samlp="urn:p" xmlns:saml="urn:a" ID="_a" xmlns:xs="urn:xs"><saml:Issuer>i</saml:Issuer></saml:Assertion>"#
        );
        let declared = r#"<saml:Assertion xmlns:saml="urn:a"/>"#;
        assert_eq!(
            with_inherited_namespaces(declared, outer),
            r#"<saml:Assertion xmlns:samlp="urn:p" xmlns:saml="urn:a"/>"#
        );
    }

    #[test]
    fn message_shape_counts_assertions_and_refuses_repeated_ids() {
        let honest = r#"<p:Response xmlns:p="p" ID="_r"><a:Assertion xmlns:a="a" ID="_a"><a:Issuer/></a:Assertion></p:Response>"#;
        let shape = MessageShape::of(honest).unwrap();
        assert_eq!(
            (shape.responses, shape.assertions, shape.assertion_id.as_deref()),
            (1, 1, Some("_a"))
        );
        let wrapped = r#"<p:Response xmlns:p="p" ID="_r"><a:Assertion xmlns:a="a" ID="_e"><a:Assertion ID="_a"/></a:Assertion></p:Response>"#;
        assert_eq!(MessageShape::of(wrapped).unwrap().assertions, 2);
        let twice = r#"<p:Response xmlns:p="p" ID="_r"><a:Assertion xmlns:a="a" ID="_r"/></p:Response>"#;
        assert!(MessageShape::of(twice).is_err());
        assert!(MessageShape::of("<a><b></a>").is_err());
    }

    #[test]
    fn logout_requests_escape_text_and_round_trip_through_the_redirect_encoding() {
        let xml = logout_request_xml(&LogoutRequestParts {
            id: "_1",
            destination: "https://idp/slo",
            issuer: "https://sp/md",
            name_id: "a<b&c",
            name_id_format: Some(NAMEID_EMAIL),
            sp_name_qualifier: "https://sp/md",
            session_index: Some("_s"),
        });
        assert!(
            xml.contains(">a&lt;b&amp;c</saml:NameID><samlp:SessionIndex>_s</samlp:SessionIndex>"),
            "{xml}"
        );
        assert_eq!(inflate_base64(&deflate_base64(&xml).unwrap()).unwrap(), xml);
        assert!(inflate_base64("not base64!").is_err());
    }

    /// A Response (unsigned: these checks come before any signature) around `inner`.
    fn response(attributes: &str, inner: &str) -> String {
        format!(
            r#"<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_r" Version="2.0" IssueInstant="2024-01-01T00:00:00Z"{attributes}><saml:Issuer>https://idp</saml:Issuer>{inner}</samlp:Response>"#
        )
    }

    fn assertion(id: &str, subject: &str) -> String {
        format!(
            r#"<saml:Assertion ID="{id}" Version="2.0" IssueInstant="2024-01-01T00:00:00Z"><saml:Issuer>https://idp</saml:Issuer>{subject}</saml:Assertion>"#
        )
    }

    const SUCCESS: &str =
        r#"<samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status>"#;

    #[test]
    fn a_posted_response_must_be_present_small_base64_and_utf8() {
        let xml = response("", "");
        let encoded = STANDARD.encode(&xml);
        let wrapped = format!("{}\r\n{}", &encoded[..10], &encoded[10..]);
        assert_eq!(decode_response(Some(&wrapped)).unwrap(), xml);
        assert!(matches!(
            decode_response(None),
            Err(UpstreamError::MissingClaim("SAMLResponse"))
        ));
        let huge = "A".repeat(MAX_RESPONSE_LEN + 1);
        assert!(decode_response(Some(&huge)).is_err());
        assert!(decode_response(Some(&"not base64!".to_owned())).is_err());
        assert!(decode_response(Some(&STANDARD.encode([0xff, 0xfe]))).is_err());
    }

    #[test]
    fn screening_finds_one_response_with_one_assertion() {
        let honest = response("", &format!("{SUCCESS}{}", assertion("_a", "")));
        let (shape, peek) = screen_response(&honest, Some("_req")).unwrap();
        assert_eq!(shape.assertion_id.as_deref(), Some("_a"));
        assert_eq!(peek.id, "_r");
        let two = response("", &format!("{SUCCESS}{}{}", assertion("_a", ""), assertion("_b", "")));
        assert!(matches!(
            screen_response(&two, Some("_req")),
            Err(UpstreamError::InvalidSaml(_))
        ));
        let none = response("", SUCCESS);
        assert!(matches!(
            screen_response(&none, Some("_req")),
            Err(UpstreamError::InvalidSaml(_))
        ));
        let dtd = format!("<!DOCTYPE r [<!ENTITY x \"y\">]>{honest}");
        assert!(matches!(
            screen_response(&dtd, Some("_req")),
            Err(UpstreamError::InvalidSaml(_))
        ));
        assert!(screen_response("<samlp:LogoutResponse/>", Some("_req")).is_err());
    }

    #[test]
    fn screening_refuses_an_answer_to_a_request_without_one_expected() {
        let answer = response(r#" InResponseTo="_req""#, &format!("{SUCCESS}{}", assertion("_a", "")));
        assert!(screen_response(&answer, Some("_req")).is_ok());
        assert!(matches!(
            screen_response(&answer, None),
            Err(UpstreamError::InvalidSaml(_))
        ));
    }

    #[test]
    fn a_status_other_than_success_is_the_idps_refusal() {
        let refused = response(
            "",
            r#"<samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:AuthnFailed"/><samlp:StatusMessage>wrong password</samlp:StatusMessage></samlp:Status>"#,
        );
        match screen_response(&refused, Some("_req")) {
            Err(UpstreamError::Denied { error, description }) => {
                assert_eq!(
                    (error.as_str(), description.as_str()),
                    ("AuthnFailed", "wrong password")
                );
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_verified_assertion_is_the_counted_one_and_unsolicited_answers_none() {
        let plain: Assertion = assertion("_a", "").parse().unwrap();
        let shape = MessageShape {
            responses: 1,
            assertions: 1,
            encrypted_assertions: 0,
            assertion_id: Some("_a".into()),
        };
        assert!(check_verified_assertion(&shape, &plain, None).is_ok());
        let elsewhere = MessageShape {
            assertion_id: Some("_other".into()),
            ..shape
        };
        assert!(check_verified_assertion(&elsewhere, &plain, Some("_req")).is_err());
        let confirmed = r#"<saml:Subject><saml:NameID>u</saml:NameID><saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer"><saml:SubjectConfirmationData InResponseTo="_req"/></saml:SubjectConfirmation></saml:Subject>"#;
        let answering: Assertion = assertion("_a", confirmed).parse().unwrap();
        let shape = MessageShape {
            assertion_id: Some("_a".into()),
            ..elsewhere
        };
        assert!(check_verified_assertion(&shape, &answering, Some("_req")).is_ok());
        assert!(check_verified_assertion(&shape, &answering, None).is_err());
    }

    fn attribute_statement(attributes: &[(&str, Option<&str>, &[&str])]) -> String {
        let mut xml = String::from("<saml:AttributeStatement>");
        for (name, friendly, values) in attributes {
            let friendly = friendly.map(|f| format!(r#" FriendlyName="{f}""#)).unwrap_or_default();
            xml.push_str(&format!(r#"<saml:Attribute Name="{name}"{friendly}>"#));
            for v in *values {
                xml.push_str(&format!("<saml:AttributeValue>{v}</saml:AttributeValue>"));
            }
            xml.push_str("</saml:Attribute>");
        }
        xml + "</saml:AttributeStatement>"
    }

    #[test]
    fn attributes_are_found_under_name_and_friendly_name_most_specific_first() {
        let statement = attribute_statement(&[
            (
                "urn:oid:0.9.2342.19200300.100.1.3",
                Some("mail"),
                &[" ann@example.com "],
            ),
            ("urn:oid:2.5.4.42", Some("givenName"), &["Ann"]),
            ("urn:oid:2.5.4.4", None, &["Lee"]),
            ("memberOf", None, &[]),
            ("groups", None, &["staff"]),
        ]);
        let a: Assertion = assertion("_a", &statement).parse().unwrap();
        let attributes = Attributes::of(&a);
        assert_eq!(attributes.0["mail"], json!(["ann@example.com"]));
        assert_eq!(
            attributes.0["urn:oid:0.9.2342.19200300.100.1.3"],
            json!(["ann@example.com"])
        );
        assert_eq!(attributes.first(EMAIL).as_deref(), Some("ann@example.com"));
        assert_eq!(attributes.display_name().as_deref(), Some("Ann Lee"));
        // memberOf is there but without values: the next name that has some counts.
        assert_eq!(attributes.all(GROUPS), vec!["staff"]);
        assert_eq!(attributes.first(USERNAME), None);
    }

    #[test]
    fn the_subject_is_the_configured_attribute_or_a_lasting_name_id() {
        let a: Assertion = assertion("_a", &attribute_statement(&[("uid", None, &["ann"])]))
            .parse()
            .unwrap();
        let attributes = Attributes::of(&a);
        let name_id = |format: Option<&str>, value: &str| SubjectNameID {
            format: format.map(str::to_owned),
            value: value.to_owned(),
        };
        let persistent = name_id(Some("urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"), " p-1 ");
        assert_eq!(subject_of(None, &attributes, Some(&persistent)).as_deref(), Some("p-1"));
        assert_eq!(
            subject_of(Some("uid"), &attributes, Some(&persistent)).as_deref(),
            Some("ann")
        );
        assert_eq!(subject_of(Some("mail"), &attributes, Some(&persistent)), None);
        let transient = name_id(Some(NAMEID_TRANSIENT), "t-1");
        assert_eq!(subject_of(None, &attributes, Some(&transient)), None);
        assert_eq!(subject_of(None, &attributes, Some(&name_id(None, "  "))), None);
        assert_eq!(subject_of(None, &attributes, None), None);
    }

    #[test]
    fn the_upstream_session_keeps_what_a_logout_request_names() {
        let claims =
            json!({"sub": "s", "name_id": "ann@example.com", "name_id_format": NAMEID_EMAIL, "session_index": "_s1"});
        let stored = serde_json::to_string(&SamlSession::of_claims(&claims)).unwrap();
        // The format sessions have been stored in (login sessions outlive upgrades).
        let before = json!({
            "name_id": claims["name_id"],
            "name_id_format": claims["name_id_format"],
            "session_index": claims["session_index"],
        });
        assert_eq!(stored, before.to_string());
        let session = SamlSession::parse(Some(&stored)).unwrap();
        assert_eq!(session.session_index.as_deref(), Some("_s1"));
        let no_index = json!({"name_id": null, "name_id_format": "", "session_index": null}).to_string();
        assert_eq!(
            SamlSession::parse(Some(&no_index)),
            Some(SamlSession {
                name_id_format: Some(String::new()),
                ..Default::default()
            })
        );
    }

    #[test]
    fn a_logout_request_matches_the_session_with_its_name_id() {
        let session = json!({"name_id": "ann@example.com", "name_id_format": "", "session_index": null}).to_string();
        let matches = session_has_name_id;
        assert!(matches(Some(&session), "ann@example.com"));
        assert!(!matches(Some(&session), "bob@example.com"));
        assert!(!matches(Some(&session), "Ann@example.com"));
        assert!(!matches(None, "ann@example.com"));
        // An OIDC session (an ID token) or a SAML session without a NameID matches nobody.
        assert!(!matches(Some("eyJhbGciOiJSUzI1NiJ9.e30.sig"), "ann@example.com"));
        let anonymous = json!({"name_id": null}).to_string();
        assert!(!matches(Some(&anonymous), ""));
    }

    #[test]
    fn dtds_are_refused_in_any_case() {
        assert!(refuse_dtd("<samlp:Response/>").is_ok());
        assert!(refuse_dtd("<!doctype x [<!entity a \"b\">]><x/>").is_err());
        assert!(refuse_dtd("<?xml version=\"1.0\"?><!DOCTYPE r SYSTEM \"file:///etc/passwd\"><r/>").is_err());
    }
}
