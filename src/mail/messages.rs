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
}
