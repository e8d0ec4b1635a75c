//! The messages Gatehouse sends: one struct per mail, holding what its templates read.
use serde::Serialize;

use super::Mail;

/// "Confirm your email address": a link proving the person reads mail at `email`.
#[derive(Debug, Serialize)]
pub struct VerifyEmail {
    /// This server's host name, as people know it.
    pub site: String,
    pub username: String,
    pub email: String,
    pub link: String,
    /// How long the link works, in words ("24 hours").
    pub valid_for: String,
}

impl Mail for VerifyEmail {
    const TEMPLATE: &'static str = "verify_email";
}

/// "Reset your password": a single-use link to choose a new password.
#[derive(Debug, Serialize)]
pub struct ResetPassword {
    pub site: String,
    pub username: String,
    pub link: String,
    pub valid_for: String,
}

impl Mail for ResetPassword {
    const TEMPLATE: &'static str = "reset_password";
}

/// "Your password was changed": the notice after a reset or a change, with the way back in
/// should it not have been the person.
#[derive(Debug, Serialize)]
pub struct PasswordChanged {
    pub site: String,
    pub username: String,
    /// Where to ask for a reset link.
    pub reset_link: String,
}

impl Mail for PasswordChanged {
    const TEMPLATE: &'static str = "password_changed";
}

/// "A change of your email address was asked for": the notice to the account's old address
/// when a new one is waiting to be confirmed. It carries no link that could confirm the
/// change, only the ways to stop an intruder (a new password, the account page).
#[derive(Debug, Serialize)]
pub struct EmailChangeRequested {
    pub site: String,
    pub username: String,
    /// The new address, partly hidden ("n…@example.org"): enough for the owner to recognise
    /// their own, not enough to hand a stranger's address to whoever reads the old inbox.
    pub new_email_hint: String,
    /// Where to ask for a reset link.
    pub reset_link: String,
    /// The account page.
    pub account_link: String,
}

impl Mail for EmailChangeRequested {
    const TEMPLATE: &'static str = "email_change_requested";
}

/// `nora@example.org` as `n…@example.org`.
pub fn partly_hidden(email: &str) -> String {
    match email.rsplit_once('@') {
        Some((local, domain)) => {
            let first: String = local.chars().take(1).collect();
            format!("{first}…@{domain}")
        }
        None => "…".into(),
    }
}

/// A duration in words for mails ("15 minutes", "24 hours", "1 day").
pub fn in_words(secs: i64) -> String {
    let plural = |n: i64, unit: &str| crate::i18n::text_with(unit, &[("n", crate::i18n::number(n))]);
    if secs % 86_400 == 0 && secs >= 2 * 86_400 {
        plural(secs / 86_400, "duration-days")
    } else if secs % 3600 == 0 {
        plural(secs / 3600, "duration-hours")
    } else {
        plural((secs + 59) / 60, "duration-minutes")
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn durations_read_as_words() {
        assert_eq!(super::in_words(900), "15 minutes");
        assert_eq!(super::in_words(60), "1 minute");
        assert_eq!(super::in_words(86_400), "24 hours");
        assert_eq!(super::in_words(3 * 86_400), "3 days");
        assert_eq!(super::in_words(3600), "1 hour");
    }

    #[test]
    fn a_new_address_is_shown_partly_hidden() {
        assert_eq!(super::partly_hidden("nora@example.org"), "n…@example.org");
        assert_eq!(super::partly_hidden("nonsense"), "…");
    }
}
