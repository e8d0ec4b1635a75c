//! Authentication context class references (`acr`, OIDC Core §2) and the method references
//! (`amr`, RFC 8176) they follow from. Pure.

/// One factor (a password, or an upstream login without a second factor).
pub const ACR_SINGLE: &str = "urn:gatehouse:acr:sfa";
/// Two factors.
pub const ACR_MFA: &str = "urn:gatehouse:acr:mfa";
/// OpenID PAPE's multi-factor policy, understood as a request for [`ACR_MFA`].
pub const PAPE_MFA: &str = "http://schemas.openid.net/pape/policies/2007/06/multi-factor";

/// What discovery lists as `acr_values_supported`.
pub const SUPPORTED: &[&str] = &[ACR_SINGLE, ACR_MFA];

/// The `amr` value a sign-in with two factors carries (RFC 8176).
pub const AMR_MFA: &str = "mfa";

/// `amr` values of an upstream login that count as a second factor there (RFC 8176).
pub const UPSTREAM_SECOND_FACTORS: &[&str] = &["mfa", "otp", "hwk", "swk"];

/// Whether a sign-in with these method references had two factors.
pub fn has_mfa(amr: &[String]) -> bool {
    amr.iter().any(|a| a == AMR_MFA)
}

/// The `acr` a sign-in with these method references achieved.
pub fn acr_of(amr: &[String]) -> &'static str {
    if has_mfa(amr) {
        ACR_MFA
    } else {
        ACR_SINGLE
    }
}

/// Whether `acr_values` (in order of preference, OIDC Core §3.1.2.1) can only be met by two
/// factors: the values Gatehouse knows are all multi-factor ones. Unknown values are ignored.
pub fn requests_mfa(acr_values: &[String]) -> bool {
    let known: Vec<&str> = acr_values
        .iter()
        .map(String::as_str)
        .filter(|v| [ACR_SINGLE, ACR_MFA, PAPE_MFA].contains(v))
        .collect();
    !known.is_empty() && known.iter().all(|v| *v != ACR_SINGLE)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(values: &[&str]) -> Vec<String> {
        values.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn acr_follows_amr_and_acr_values_ask_for_mfa_only_when_nothing_less_is_acceptable() {
        assert_eq!(acr_of(&v(&["pwd"])), ACR_SINGLE);
        assert_eq!(acr_of(&v(&["pwd", "otp", "mfa"])), ACR_MFA);
        assert!(requests_mfa(&v(&[ACR_MFA])));
        assert!(requests_mfa(&v(&["gold", PAPE_MFA])));
        assert!(
            !requests_mfa(&v(&[ACR_MFA, ACR_SINGLE])),
            "one factor is acceptable too"
        );
        assert!(!requests_mfa(&v(&["gold"])), "unknown values ask nothing");
        assert!(!requests_mfa(&[]));
    }
}
