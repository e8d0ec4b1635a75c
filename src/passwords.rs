//! What a new password must be (NIST SP 800-63B §5.1.1.2): at least 8 characters, at most 256,
//! and not one that an online attacker would try early. "Early" is judged by zxcvbn (Dropbox's
//! estimator): its dictionaries hold the 30,000 most common passwords of the Xato leak corpus,
//! English words, names, keyboard walks, sequences, repeats and dates, plus the person's own
//! username, email and name. No composition rules (digits, symbols): NIST advises against them.
use zxcvbn::matching::patterns::MatchPattern;
use zxcvbn::Score;

/// The fewest characters a password may have.
pub const MIN_CHARS: usize = 8;
/// The most characters a password may have (long passphrases are welcome; megabytes are not).
pub const MAX_CHARS: usize = 256;
/// The most bytes a typed password may have before it is refused unchecked.
pub const MAX_BYTES: usize = MAX_CHARS * 4;

/// Why a new password is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PasswordProblem {
    #[error("The password must have at least 8 characters.")]
    TooShort,
    #[error("The password may have at most 256 characters.")]
    TooLong,
    #[error("That password is one of the most commonly used passwords. Choose another; a phrase of a few unrelated words works well.")]
    Common,
    #[error("That password is too easy to guess: it is built from common words, names, your own details or a simple pattern. A phrase of a few unrelated words works well.")]
    Guessable,
}

/// Checks a new password; `context` holds the person's own details (username, email, name).
pub fn check_new(password: &str, context: &[&str]) -> Result<(), PasswordProblem> {
    let chars = password.chars().count();
    if chars < MIN_CHARS {
        return Err(PasswordProblem::TooShort);
    }
    if chars > MAX_CHARS {
        return Err(PasswordProblem::TooLong);
    }
    // The email's local part and domain words count as the person's details too.
    let mut inputs: Vec<&str> = context.iter().copied().filter(|s| !s.is_empty()).collect();
    for detail in context {
        inputs.extend(detail.split(|c: char| !c.is_alphanumeric()).filter(|w| w.len() >= 3));
    }
    let estimate = zxcvbn::zxcvbn(password, &inputs);
    if let [only] = estimate.sequence() {
        // One dictionary word spanning the whole password: a listed common password when it
        // comes from the passwords list (the dictionary type is not exported; its name is).
        if let MatchPattern::Dictionary(d) = &only.pattern {
            if format!("{:?}", d.dictionary_name) == "Passwords" {
                return Err(PasswordProblem::Common);
            }
        }
    }
    // Score 0–1: found within 10^6 guesses, an online attacker's budget.
    if estimate.score() <= Score::One {
        return Err(PasswordProblem::Guessable);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_and_overlong_passwords_are_refused() {
        assert_eq!(check_new("k7#Qz!p", &[]), Err(PasswordProblem::TooShort));
        assert_eq!(check_new(&"x".repeat(257), &[]), Err(PasswordProblem::TooLong));
    }

    #[test]
    fn commonly_used_passwords_are_refused() {
        for common in [
            "12345678",
            "password",
            "iloveyou",
            "qwertyuiop",
            "Password1",
            "p@ssw0rd",
        ] {
            assert!(check_new(common, &[]).is_err(), "{common}");
        }
        assert_eq!(check_new("12345678", &[]), Err(PasswordProblem::Common));
    }

    #[test]
    fn passwords_made_of_the_persons_own_details_are_refused() {
        assert!(check_new("carolsmith", &["carolsmith", "carol@example.com"]).is_err());
        assert!(check_new("aaaaaaaaaa", &[]).is_err());
        assert!(check_new("abcdefgh1", &[]).is_err());
    }

    #[test]
    fn unusual_phrases_are_accepted_without_composition_rules() {
        assert_eq!(check_new("alice-correct-horse", &["alice"]), Ok(()));
        assert_eq!(check_new("violet kettle orbit drum", &[]), Ok(()));
        assert_eq!(
            check_new(&"correct horse battery staple ".repeat(9)[..256], &[]),
            Ok(())
        );
    }
}
