//! Login names: what a username may be, the key that decides when two usernames are the same
//! person's, and the normal form of an email address.
//!
//! Usernames are compared by key, never as typed: Unicode NFKC, lower case, then the UTS #39
//! confusable skeleton, so `Alice`, `ａｌｉｃｅ` and `aIice` are one name. Names that mix scripts
//! (Latin `alice` with a Cyrillic `а`) are refused outright (UTS #39 §5 single-script check).
//! A username may not contain `@`: whatever contains `@` is an email address at the login form,
//! so no username can capture somebody's email as a login name.
use unicode_normalization::UnicodeNormalization;
use unicode_security::{skeleton, GeneralSecurityProfile, MixedScript};

/// Longest username, in characters.
pub const USERNAME_MAX_CHARS: usize = 64;
/// Longest email address (RFC 5321 §4.5.3.1.3 path limit minus the angle brackets).
pub const EMAIL_MAX_BYTES: usize = 254;

/// Why a username is not acceptable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum UsernameProblem {
    #[error("must be 1 to 64 characters")]
    Length,
    #[error("may not contain @ (an email address is not a username)")]
    LooksLikeEmail,
    #[error("letters, digits and . _ - only, starting with a letter or digit")]
    Characters,
    #[error("may not mix letters of different scripts")]
    MixedScripts,
}

/// A username as stored (NFKC, trimmed) with its comparison key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Username {
    /// The name as the person wrote it, in NFKC.
    pub display: String,
    /// The key two names collide on (case-folded confusable skeleton).
    pub key: String,
}

impl Username {
    /// Checks a new username and computes its key.
    pub fn parse(raw: &str) -> Result<Self, UsernameProblem> {
        let display: String = raw.trim().nfkc().collect();
        let chars = display.chars().count();
        if chars == 0 || chars > USERNAME_MAX_CHARS {
            return Err(UsernameProblem::Length);
        }
        if display.contains('@') {
            return Err(UsernameProblem::LooksLikeEmail);
        }
        let allowed = |c: char| (c.is_alphanumeric() && c.identifier_allowed()) || "._-".contains(c);
        let starts_well = display.chars().next().is_some_and(char::is_alphanumeric);
        if !starts_well || !display.chars().all(allowed) {
            return Err(UsernameProblem::Characters);
        }
        if !display.as_str().is_single_script() {
            return Err(UsernameProblem::MixedScripts);
        }
        let key = key_of(&display);
        Ok(Self { display, key })
    }
}

/// The comparison key of any string typed as a username (also for legacy names that would not
/// pass [`Username::parse`] today).
pub fn key_of(name: &str) -> String {
    let folded = name.trim().nfkc().collect::<String>().to_lowercase();
    // The skeleton's prototypes may be capitals (`0` → `O`): fold once more.
    skeleton(&folded).collect::<String>().to_lowercase()
}

/// The key of `name` read with its capitals as written: a capital I is the skeleton's `l`,
/// which case folding alone hides (`aIice` looks like `alice`, yet folds to `aiice`). A new
/// name whose look-alike key is an existing name's key is taken too.
pub fn lookalike_key(name: &str) -> String {
    let normal: String = name.trim().nfkc().collect();
    key_of(&skeleton(&normal).collect::<String>())
}

/// Why an email address is not acceptable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum EmailProblem {
    #[error("is not an email address")]
    Malformed,
    #[error("is longer than 254 characters")]
    TooLong,
}

/// An email address in the form it is stored and compared: trimmed, lower case.
pub fn normalize_email(raw: &str) -> Result<String, EmailProblem> {
    let email = raw.trim().to_lowercase();
    if email.len() > EMAIL_MAX_BYTES {
        return Err(EmailProblem::TooLong);
    }
    match email.split_once('@') {
        Some((local, domain))
            if !local.is_empty()
                && !domain.is_empty()
                && !domain.contains('@')
                && !email.chars().any(|c| c.is_whitespace() || c.is_control()) =>
        {
            Ok(email)
        }
        _ => Err(EmailProblem::Malformed),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_and_width_variants_share_one_key() {
        let plain = Username::parse("alice").unwrap();
        assert_eq!(Username::parse("Alice").unwrap().key, plain.key);
        assert_eq!(Username::parse("ALICE").unwrap().key, plain.key);
        // Fullwidth letters become ASCII under NFKC.
        let wide = Username::parse("ａｌｉｃｅ").unwrap();
        assert_eq!(wide.display, "alice");
        assert_eq!(wide.key, plain.key);
    }

    #[test]
    fn confusable_spellings_share_one_key() {
        let plain = key_of("alice");
        assert_eq!(key_of("a1ice"), plain, "digit one looks like l");
        assert_eq!(lookalike_key("aIice"), plain, "capital I looks like l");
        assert_eq!(
            lookalike_key("ALICE"),
            key_of("allce"),
            "but case alone is folded first"
        );
        assert_eq!(key_of("rnary"), key_of("mary"), "rn looks like m");
        assert_eq!(key_of("b0b"), key_of("bob"), "zero looks like o");
    }

    #[test]
    fn a_cyrillic_letter_among_latin_ones_is_refused() {
        // U+0430 CYRILLIC SMALL LETTER A, then Latin "lice".
        assert_eq!(Username::parse("\u{430}lice"), Err(UsernameProblem::MixedScripts));
    }

    #[test]
    fn a_whole_cyrillic_lookalike_collides_with_the_latin_name() {
        // "аlісе" spelled with Cyrillic а, і, с, е and a Latin-looking Cyrillic ӏ (palochka).
        let cyrillic = Username::parse("\u{430}\u{4cf}\u{456}\u{441}\u{435}").unwrap();
        assert_eq!(cyrillic.key, Username::parse("alice").unwrap().key);
    }

    #[test]
    fn usernames_that_look_like_emails_or_carry_symbols_are_refused() {
        assert_eq!(
            Username::parse("alice@example.com"),
            Err(UsernameProblem::LooksLikeEmail)
        );
        assert_eq!(Username::parse("a b"), Err(UsernameProblem::Characters));
        assert_eq!(Username::parse(".hidden"), Err(UsernameProblem::Characters));
        assert_eq!(Username::parse("ann+x"), Err(UsernameProblem::Characters));
        assert_eq!(Username::parse(""), Err(UsernameProblem::Length));
        assert_eq!(Username::parse(&"a".repeat(65)), Err(UsernameProblem::Length));
        assert!(Username::parse(&"a".repeat(64)).is_ok());
        assert!(Username::parse("ann.smith-2_x").is_ok());
        assert!(Username::parse("José").is_ok());
        assert!(Username::parse("山田太郎").is_ok());
    }

    #[test]
    fn emails_are_trimmed_lower_case_and_bounded() {
        assert_eq!(normalize_email(" Bob@Example.COM ").unwrap(), "bob@example.com");
        assert_eq!(normalize_email("bob"), Err(EmailProblem::Malformed));
        assert_eq!(normalize_email("@x"), Err(EmailProblem::Malformed));
        assert_eq!(normalize_email("a@b@c"), Err(EmailProblem::Malformed));
        assert_eq!(normalize_email("a b@c"), Err(EmailProblem::Malformed));
        let long = format!("{}@x.io", "a".repeat(250));
        assert_eq!(normalize_email(&long), Err(EmailProblem::TooLong));
    }
}
