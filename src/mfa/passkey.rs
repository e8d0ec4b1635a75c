//! WebAuthn credentials (passkeys) with `webauthn-rs`: registering several per account, using
//! one as a second factor, or alone ("Sign in with a passkey", a discoverable credential). The
//! ceremony states returned here must be kept server-side, bound to the browser (the caller
//! keeps them in the server-side session); they are single use. HTTP-free.
use crate::audit::{Actor, Event, EventKind};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use sea_orm::{ConnectionTrait, DbErr};
use serde::{Deserialize, Serialize};
use webauthn_rs::prelude::{
    AuthenticationResult, CreationChallengeResponse, Credential, DiscoverableAuthentication, DiscoverableKey, Passkey,
    PasskeyAuthentication, PasskeyRegistration, PublicKeyCredential, RegisterPublicKeyCredential,
    RequestChallengeResponse, Url, Uuid, Webauthn, WebauthnBuilder, WebauthnError,
};

use crate::flow::acr::AMR_MFA;
use crate::store::passkeys::{self as repo, NewPasskey, StoredPasskey};
use crate::store::throttles::{self, Admission, ThrottlePolicy};
use crate::store::users::User;

/// The longest name a person may give a passkey.
pub const MAX_NAME_CHARS: usize = 60;

/// Why a passkey operation failed (a wrong assertion is an outcome, not an error).
#[derive(Debug, thiserror::Error)]
pub enum PasskeyError {
    #[error("webauthn: {0}")]
    Webauthn(#[from] WebauthnError),
    #[error("stored passkey unreadable: {0}")]
    Stored(#[from] serde_json::Error),
    #[error("database: {0}")]
    Db(#[from] DbErr),
}

/// The relying party for the issuer's origin: its RP ID is the issuer's host name. WebAuthn
/// needs a domain (browsers refuse IP addresses as RP IDs), so an issuer on an IP address has
/// no passkeys (`None`).
pub fn relying_party(issuer: &Url, name: &str) -> Option<Webauthn> {
    let host = issuer.domain()?;
    let origin = Url::parse(&issuer.origin().ascii_serialization()).ok()?;
    WebauthnBuilder::new(host, &origin).ok()?.rp_name(name).build().ok()
}

/// A registration in progress: the ceremony state and what the person called the passkey.
#[derive(Serialize, Deserialize)]
pub struct Registration {
    user_id: String,
    user_handle: Uuid,
    name: String,
    state: PasskeyRegistration,
}

/// A second-factor check in progress for one person.
#[derive(Serialize, Deserialize)]
pub struct SecondFactor {
    user_id: String,
    state: PasskeyAuthentication,
}

/// A passkey sign-in in progress (nobody named yet: the authenticator says who).
#[derive(Serialize, Deserialize)]
pub struct SignIn {
    state: DiscoverableAuthentication,
}

/// What registering came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Registered {
    /// Stored under this name; `amr` is what its creation proved (the key's kind, and `mfa`
    /// with user verification, which webauthn-rs requires of a passkey).
    Added { name: String, amr: Vec<String> },
    /// The authenticator's answer did not verify against the ceremony.
    Refused,
    /// That credential is registered already (to this or another account).
    Duplicate,
}

/// What checking an assertion came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Assertion {
    /// Verified: the user it proves, and the method references (RFC 8176) it adds.
    Accepted { user_id: String, amr: Vec<String> },
    /// Not a valid assertion of a credential of this person (or of anybody, at sign-in).
    Refused,
    /// Too many attempts against this account: nothing was checked.
    Throttled { retry_after_secs: i64 },
}

/// A passkey as listed on the account page.
#[derive(Debug, Clone, Serialize)]
pub struct PasskeyInfo {
    /// The credential id, base64url.
    pub id: String,
    pub name: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
}

/// What passkey operations need: the database, the relying party and the account throttle.
pub struct Passkeys<'a, C> {
    pub db: &'a C,
    pub webauthn: &'a Webauthn,
    pub throttle: &'a ThrottlePolicy,
}

/// The person's passkeys.
pub async fn list<C: ConnectionTrait>(db: &C, user_id: &str) -> Result<Vec<PasskeyInfo>, DbErr> {
    Ok(repo::for_user(db, user_id)
        .await?
        .into_iter()
        .map(|p| PasskeyInfo {
            id: p.credential_id,
            name: p.name,
            created_at: p.created_at,
            last_used_at: p.last_used_at,
        })
        .collect())
}

/// A passkey name as given, trimmed; `None` when empty or too long.
pub fn clean_name(name: &str) -> Option<String> {
    let name: String = name.trim().chars().filter(|c| !c.is_control()).collect();
    (!name.is_empty() && name.chars().count() <= MAX_NAME_CHARS).then_some(name)
}

/// The method references (RFC 8176) a verified assertion proves.
///
/// The key is `hwk` when the credential cannot leave its authenticator (not backup-eligible:
/// a security key, a TPM or a secure enclave) and `swk` when it can be synced between devices
/// (backup-eligible: the key exists in software somewhere). `mfa` only with user verification:
/// the authenticator then checked a PIN or biometric before signing, so the key (something you
/// have) and that check (something you know or are) are two factors (NIST SP 800-63B's
/// multi-factor cryptographic authenticator). Without it the assertion is one possession factor.
fn amr_of(result: &AuthenticationResult) -> Vec<String> {
    let key = if result.backup_eligible() { "swk" } else { "hwk" };
    let mut amr = vec![key.to_owned()];
    if result.user_verified() {
        amr.push(AMR_MFA.to_owned());
    }
    amr
}

fn encode_id(id: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(id)
}

impl<C: ConnectionTrait> Passkeys<'_, C> {
    /// Starts registering a passkey named `name` for `user`: the options for the browser and the
    /// state to keep. Existing credentials are excluded, so one authenticator is not added twice.
    /// A discoverable (resident) credential is required: it is what lets the person sign in
    /// without typing a name.
    pub async fn start_registration(
        &self,
        user: &User,
        name: String,
    ) -> Result<(serde_json::Value, Registration), PasskeyError> {
        let existing = repo::for_user(self.db, &user.id).await?;
        let user_handle = match existing.first() {
            Some(p) => Uuid::parse_str(&p.user_handle).unwrap_or_else(|_| Uuid::new_v4()),
            None => Uuid::new_v4(),
        };
        let exclude = existing
            .iter()
            .filter_map(|p| serde_json::from_str::<Passkey>(&p.passkey).ok())
            .map(|p| p.cred_id().clone())
            .collect::<Vec<_>>();
        let display = user.name.clone().unwrap_or_else(|| user.username.clone());
        let (ccr, state) =
            self.webauthn
                .start_passkey_registration(user_handle, &user.username, &display, Some(exclude))?;
        Ok((
            require_resident_key(ccr)?,
            Registration {
                user_id: user.id.clone(),
                user_handle,
                name,
                state,
            },
        ))
    }

    /// Finishes a registration for `user` with the browser's answer (JSON).
    pub async fn finish_registration(
        &self,
        user: &User,
        reg: Registration,
        answer: &str,
        now: i64,
    ) -> Result<Registered, PasskeyError> {
        if reg.user_id != user.id {
            return Ok(Registered::Refused);
        }
        let Ok(answer) = serde_json::from_str::<RegisterPublicKeyCredential>(answer) else {
            return Ok(Registered::Refused);
        };
        let passkey = match self.webauthn.finish_passkey_registration(&answer, &reg.state) {
            Ok(p) => p,
            Err(e) => {
                tracing::info!(user_id = %user.id, error = %e, "passkey registration refused");
                return Ok(Registered::Refused);
            }
        };
        let new = NewPasskey {
            credential_id: &encode_id(passkey.cred_id()),
            user_id: &user.id,
            user_handle: &reg.user_handle.to_string(),
            name: &reg.name,
            passkey_json: serde_json::to_string(&passkey)?,
        };
        if !repo::insert(self.db, new, now).await? {
            return Ok(Registered::Duplicate);
        }
        let event = Event::new(EventKind::MfaEnrolled, Actor::Person(user.id.clone()))
            .user(&user.id)
            .method("passkey");
        crate::audit::record(self.db, event).await?;
        let backup_eligible = Credential::from(passkey).backup_eligible;
        let key = if backup_eligible { "swk" } else { "hwk" };
        Ok(Registered::Added {
            name: reg.name,
            amr: vec![key.to_owned(), AMR_MFA.to_owned()],
        })
    }

    /// Starts a second-factor check for `user`; `None` when they have no passkey.
    pub async fn start_second_factor(
        &self,
        user: &User,
    ) -> Result<Option<(RequestChallengeResponse, SecondFactor)>, PasskeyError> {
        let keys: Vec<Passkey> = repo::for_user(self.db, &user.id)
            .await?
            .iter()
            .filter_map(|p| serde_json::from_str(&p.passkey).ok())
            .collect();
        if keys.is_empty() {
            return Ok(None);
        }
        let (rcr, state) = self.webauthn.start_passkey_authentication(&keys)?;
        Ok(Some((
            rcr,
            SecondFactor {
                user_id: user.id.clone(),
                state,
            },
        )))
    }

    /// Checks the browser's assertion (JSON) as `user`'s second factor; counted against the
    /// account like a password.
    pub async fn finish_second_factor(
        &self,
        user: &User,
        check: SecondFactor,
        answer: &str,
        now: i64,
    ) -> Result<Assertion, PasskeyError> {
        if check.user_id != user.id {
            return Ok(Assertion::Refused);
        }
        let key = crate::credentials::account_key(user);
        if let Admission::Wait { secs } = throttles::admit(self.db, &key, self.throttle, now).await? {
            return Ok(Assertion::Throttled { retry_after_secs: secs });
        }
        let Ok(answer) = serde_json::from_str::<PublicKeyCredential>(answer) else {
            return Ok(Assertion::Refused);
        };
        let Some(stored) = repo::find(self.db, &encode_id(answer.get_credential_id()))
            .await?
            .filter(|p| p.user_id == user.id)
        else {
            return Ok(Assertion::Refused);
        };
        match self.webauthn.finish_passkey_authentication(&answer, &check.state) {
            Ok(result) => self.accepted(&key, stored, &result, now).await,
            Err(e) => {
                tracing::info!(user_id = %user.id, error = %e, "passkey assertion refused");
                Ok(Assertion::Refused)
            }
        }
    }

    /// Starts a passkey sign-in: the authenticator will offer the person's discoverable credentials.
    pub fn start_sign_in(&self) -> Result<(serde_json::Value, SignIn), PasskeyError> {
        let (rcr, state) = self.webauthn.start_discoverable_authentication()?;
        let mut options = serde_json::to_value(&rcr)?;
        // webauthn-rs asks for conditional mediation (autofill); the page's button wants the
        // ordinary modal dialogue.
        if let Some(o) = options.as_object_mut() {
            o.remove("mediation");
        }
        Ok((options, SignIn { state }))
    }

    /// Checks a passkey sign-in: the credential names its account (by user handle and id),
    /// whose throttle the attempt counts against. An unknown credential is refused.
    pub async fn finish_sign_in(&self, sign_in: SignIn, answer: &str, now: i64) -> Result<Assertion, PasskeyError> {
        let Ok(answer) = serde_json::from_str::<PublicKeyCredential>(answer) else {
            return Ok(Assertion::Refused);
        };
        let Ok((handle, cred_id)) = self.webauthn.identify_discoverable_authentication(&answer) else {
            return Ok(Assertion::Refused);
        };
        let Some(stored) = repo::find(self.db, &encode_id(cred_id))
            .await?
            .filter(|p| p.user_handle == handle.to_string())
        else {
            tracing::info!(user_handle = %handle, "passkey sign-in with an unknown credential");
            return Ok(Assertion::Refused);
        };
        let Some(user) = crate::store::users::find(self.db, &stored.user_id)
            .await?
            .filter(|u| !u.disabled)
        else {
            return Ok(Assertion::Refused);
        };
        let key = crate::credentials::account_key(&user);
        if let Admission::Wait { secs } = throttles::admit(self.db, &key, self.throttle, now).await? {
            return Ok(Assertion::Throttled { retry_after_secs: secs });
        }
        let passkey: Passkey = serde_json::from_str(&stored.passkey)?;
        match self.webauthn.finish_discoverable_authentication(
            &answer,
            sign_in.state,
            &[DiscoverableKey::from(&passkey)],
        ) {
            // A passkey alone is a sign-in only with user verification (webauthn-rs requires
            // it for passkeys; checked again here since the amr depends on it).
            Ok(result) if result.user_verified() => self.accepted(&key, stored, &result, now).await,
            Ok(_) => Ok(Assertion::Refused),
            Err(e) => {
                tracing::info!(user_id = %user.id, error = %e, "passkey sign-in refused");
                Ok(Assertion::Refused)
            }
        }
    }

    /// Records a verified use: the counter and backup state, and the throttle's reset.
    async fn accepted(
        &self,
        throttle_key: &str,
        stored: StoredPasskey,
        result: &AuthenticationResult,
        now: i64,
    ) -> Result<Assertion, PasskeyError> {
        let mut passkey: Passkey = serde_json::from_str(&stored.passkey)?;
        let changed = passkey.update_credential(result) == Some(true);
        let json = if changed {
            Some(serde_json::to_string(&passkey)?)
        } else {
            None
        };
        repo::used(self.db, &stored.credential_id, json, now).await?;
        throttles::succeeded(self.db, throttle_key).await?;
        Ok(Assertion::Accepted {
            user_id: stored.user_id,
            amr: amr_of(result),
        })
    }
}

/// The registration options with a discoverable credential required (webauthn-rs's passkey
/// registration discourages one, to spare old security keys' few resident slots; usernameless
/// sign-in needs it).
fn require_resident_key(ccr: CreationChallengeResponse) -> Result<serde_json::Value, PasskeyError> {
    let mut options = serde_json::to_value(&ccr)?;
    if let Some(sel) = options
        .pointer_mut("/publicKey/authenticatorSelection")
        .and_then(|s| s.as_object_mut())
    {
        sel.insert("residentKey".into(), "required".into());
        sel.insert("requireResidentKey".into(), true.into());
    }
    Ok(options)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_issuer_on_a_domain_is_a_relying_party_and_one_on_an_ip_address_is_not() {
        let rp = relying_party(&Url::parse("http://localhost:8080/").unwrap(), "Gatehouse");
        assert!(rp.is_some());
        assert!(relying_party(&Url::parse("http://127.0.0.1:8080").unwrap(), "Gatehouse").is_none());
        let rp = relying_party(&Url::parse("https://sso.example.com/tenant").unwrap(), "Gatehouse").unwrap();
        let origins: Vec<String> = rp.get_allowed_origins().iter().map(|u| u.to_string()).collect();
        assert_eq!(
            origins,
            ["https://sso.example.com/"],
            "the origin, without the issuer's path"
        );
    }

    #[test]
    fn registration_options_require_a_discoverable_credential_and_user_verification() {
        let rp = relying_party(&Url::parse("http://localhost:8080").unwrap(), "Gatehouse").unwrap();
        let (ccr, _) = rp
            .start_passkey_registration(Uuid::new_v4(), "alice", "Alice", None)
            .unwrap();
        let o = require_resident_key(ccr).unwrap();
        let sel = &o["publicKey"]["authenticatorSelection"];
        assert_eq!(sel["residentKey"], "required");
        assert_eq!(sel["requireResidentKey"], true);
        assert_eq!(sel["userVerification"], "required");
        assert_eq!(o["publicKey"]["rp"]["id"], "localhost");
    }

    #[test]
    fn passkey_names_are_trimmed_and_bounded() {
        assert_eq!(clean_name("  Laptop \n").as_deref(), Some("Laptop"));
        assert_eq!(clean_name("   "), None);
        assert_eq!(clean_name(&"x".repeat(MAX_NAME_CHARS + 1)), None);
    }
}
