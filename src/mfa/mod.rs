//! Second factors: enrolling an authenticator app (TOTP), checking its codes once each,
//! recovery codes, and passkeys (WebAuthn, `passkey`). HTTP-free; wrong codes count toward the account's password throttle.
pub mod crypto;
pub mod passkey;
pub mod recovery;
pub mod totp;

use sea_orm::{ConnectionTrait, DbErr};

use crate::audit::{Actor, Event, EventKind};
use crate::store::mfa as repo;
use crate::store::throttles::{self, Admission, ThrottlePolicy};
use crate::store::users::User;
pub use crypto::{SealError, SecretBox};

/// Why a second-factor operation failed (a wrong code is an outcome, not an error).
#[derive(Debug, thiserror::Error)]
pub enum MfaError {
    /// No `[mfa] secret_key`: authenticator apps cannot be used.
    #[error("TOTP is not configured ([mfa] secret_key)")]
    NotConfigured,
    #[error("the user already has an authenticator app")]
    AlreadyEnrolled,
    #[error("no enrolment in progress")]
    NoEnrolment,
    #[error(transparent)]
    Seal(#[from] SealError),
    #[error("database: {0}")]
    Db(#[from] DbErr),
}

/// What checking a code came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeCheck {
    /// A valid code, now spent.
    Accepted,
    /// Not a valid code.
    Refused,
    /// A valid code that was used already (or an older one after a newer was used).
    Replayed,
    /// Too many attempts against this account: nothing was checked.
    Throttled { retry_after_secs: i64 },
}

/// The person's second factors.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Factors {
    /// A confirmed authenticator app.
    pub totp: bool,
    /// Unused recovery codes.
    pub recovery_codes_left: u64,
    /// Registered passkeys (WebAuthn credentials).
    pub passkeys: u64,
}

impl Factors {
    /// Whether the person has a second factor they can be asked for.
    pub fn enrolled(&self) -> bool {
        self.totp || self.passkeys > 0
    }
}

/// An enrolment in progress: what the authenticator app needs.
#[derive(Debug, Clone)]
pub struct Enrolment {
    pub otpauth_uri: String,
    pub secret_base32: String,
}

/// What verification needs: the database, the sealing key, the throttle, the label issuer.
pub struct Verifier<'a, C> {
    pub db: &'a C,
    pub secrets: Option<&'a SecretBox>,
    pub throttle: &'a ThrottlePolicy,
    /// Shown in authenticator apps next to the account name.
    pub issuer_label: &'a str,
}

/// The person's factors.
pub async fn factors<C: ConnectionTrait>(db: &C, user_id: &str) -> Result<Factors, DbErr> {
    let totp = repo::totp(db, user_id).await?.is_some_and(|t| t.confirmed_at.is_some());
    let recovery_codes_left = if totp {
        repo::recovery_codes_left(db, user_id).await?
    } else {
        0
    };
    let passkeys = crate::store::passkeys::for_user(db, user_id).await?.len() as u64;
    Ok(Factors {
        totp,
        recovery_codes_left,
        passkeys,
    })
}

impl<C: ConnectionTrait> Verifier<'_, C> {
    fn secrets(&self) -> Result<&SecretBox, MfaError> {
        self.secrets.ok_or(MfaError::NotConfigured)
    }

    /// Starts (or restarts) enrolling an authenticator app for `user`.
    pub async fn start_enrolment(&self, user: &User, now: i64) -> Result<Enrolment, MfaError> {
        let secret = totp::new_secret();
        let sealed = self.secrets()?.seal(&user.id, &secret);
        if !repo::put_unconfirmed_totp(self.db, &user.id, sealed, now).await? {
            return Err(MfaError::AlreadyEnrolled);
        }
        self.enrolment(user).await
    }

    /// The enrolment in progress for `user` (to show the page again after a wrong code).
    pub async fn enrolment(&self, user: &User) -> Result<Enrolment, MfaError> {
        let row = repo::totp(self.db, &user.id).await?.ok_or(MfaError::NoEnrolment)?;
        if row.confirmed_at.is_some() {
            return Err(MfaError::AlreadyEnrolled);
        }
        let secret = self.secrets()?.open(&user.id, &row.secret_enc)?;
        let (otpauth_uri, secret_base32) = totp::provisioning(&totp::totp(&secret, self.issuer_label, &user.username));
        Ok(Enrolment {
            otpauth_uri,
            secret_base32,
        })
    }

    /// Confirms the enrolment with a first valid code; on success the factor is active and a
    /// new set of recovery codes (returned, to be shown once) replaces any old one.
    pub async fn confirm_enrolment(
        &self,
        user: &User,
        code: &str,
        now: i64,
    ) -> Result<(CodeCheck, Vec<String>), MfaError> {
        let row = repo::totp(self.db, &user.id).await?.ok_or(MfaError::NoEnrolment)?;
        if row.confirmed_at.is_some() {
            return Err(MfaError::AlreadyEnrolled);
        }
        let check = self.check_totp(user, &row, code, now).await?;
        if check != CodeCheck::Accepted {
            return Ok((check, Vec::new()));
        }
        let codes = self.replace_recovery_codes(&user.id, now).await?;
        self.audit(EventKind::MfaEnrolled, &user.id).await?;
        Ok((check, codes))
    }

    /// Checks a code of the person's confirmed authenticator app.
    pub async fn verify_totp(&self, user: &User, code: &str, now: i64) -> Result<CodeCheck, MfaError> {
        match repo::totp(self.db, &user.id).await? {
            Some(row) if row.confirmed_at.is_some() => self.check_totp(user, &row, code, now).await,
            _ => Ok(CodeCheck::Refused),
        }
    }

    async fn check_totp(
        &self,
        user: &User,
        row: &repo::TotpFactor,
        code: &str,
        now: i64,
    ) -> Result<CodeCheck, MfaError> {
        let key = crate::credentials::account_key(user);
        if let Admission::Wait { secs } = throttles::admit(self.db, &key, self.throttle, now).await? {
            return Ok(CodeCheck::Throttled { retry_after_secs: secs });
        }
        let secret = self.secrets()?.open(&user.id, &row.secret_enc)?;
        let t = totp::totp(&secret, self.issuer_label, &user.username);
        let Some(step) = totp::matching_step(&t, code, now) else {
            return Ok(CodeCheck::Refused);
        };
        if !repo::use_step(self.db, &user.id, step, now).await? {
            return Ok(CodeCheck::Replayed);
        }
        throttles::succeeded(self.db, &key).await?;
        Ok(CodeCheck::Accepted)
    }

    /// Spends one of the person's recovery codes.
    pub async fn verify_recovery_code(&self, user: &User, code: &str, now: i64) -> Result<CodeCheck, MfaError> {
        let key = crate::credentials::account_key(user);
        if let Admission::Wait { secs } = throttles::admit(self.db, &key, self.throttle, now).await? {
            return Ok(CodeCheck::Throttled { retry_after_secs: secs });
        }
        let Some(hash) = recovery::hash(code) else {
            return Ok(CodeCheck::Refused);
        };
        if !repo::use_recovery_code(self.db, &user.id, &hash, now).await? {
            return Ok(CodeCheck::Refused);
        }
        throttles::succeeded(self.db, &key).await?;
        Ok(CodeCheck::Accepted)
    }

    /// A new set of recovery codes for the person, replacing the old set; shown once.
    pub async fn new_recovery_codes(&self, user_id: &str, now: i64) -> Result<Vec<String>, MfaError> {
        let codes = self.replace_recovery_codes(user_id, now).await?;
        self.audit(EventKind::RecoveryCodesReplaced, user_id).await?;
        Ok(codes)
    }

    async fn replace_recovery_codes(&self, user_id: &str, now: i64) -> Result<Vec<String>, MfaError> {
        let codes = recovery::new_set();
        let hashes: Vec<String> = codes.iter().filter_map(|c| recovery::hash(c)).collect();
        repo::replace_recovery_codes(self.db, user_id, &hashes, now).await?;
        Ok(codes)
    }

    /// Removes the person's authenticator app and recovery codes.
    pub async fn remove(&self, user_id: &str) -> Result<(), MfaError> {
        repo::remove_all(self.db, user_id).await?;
        self.audit(EventKind::MfaRemoved, user_id).await
    }

    /// Records a change the person made to their own second factors.
    async fn audit(&self, kind: EventKind, user_id: &str) -> Result<(), MfaError> {
        let event = Event::new(kind, Actor::Person(user_id.to_owned()))
            .user(user_id)
            .method("totp");
        Ok(crate::audit::record(self.db, event).await?)
    }
}
