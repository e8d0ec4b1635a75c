//! RFC 6238 codes with `totp-rs`: SHA-1, 6 digits, 30-second steps, one step of clock skew
//! either way (what every authenticator app uses).
use totp_rs::{Builder, Totp};

/// Seconds per time step.
pub const STEP: u64 = 30;

/// A fresh 160-bit shared secret (RFC 4226 §4 recommends 160 bits).
pub fn new_secret() -> Vec<u8> {
    use rand::RngCore;
    let mut s = vec![0u8; 20];
    rand::rngs::OsRng.fill_bytes(&mut s);
    s
}

/// The TOTP of `secret`, labelled for authenticator apps as `issuer:account`.
pub fn totp(secret: &[u8], issuer: &str, account: &str) -> Totp {
    // ':' separates issuer and account in the otpauth label.
    let clean = |s: &str| s.replace(':', " ");
    Builder::new()
        .with_secret(secret.to_vec())
        .with_digits(6)
        .with_step_duration(STEP)
        .with_skew(1)
        .with_issuer(Some(clean(issuer)))
        .with_account_name(clean(account))
        .build()
        .expect("a 160-bit secret and 6 digits are RFC-compliant")
}

/// The time step whose code `code` is at `now` (within the skew), if any.
pub fn matching_step(totp: &Totp, code: &str, now: i64) -> Option<i64> {
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    totp.check(&code, now.max(0) as u64).map(|step| step as i64)
}

/// What an authenticator app needs: the `otpauth://` URI and the secret in base32.
pub fn provisioning(totp: &Totp) -> (String, String) {
    (totp.to_url().unwrap_or_default(), totp.secret().to_base32())
}

/// The `otpauth://` URI as a QR code, an SVG document (what authenticator apps scan);
/// `None` only when the URI is too long for any QR code.
pub fn qr_svg(otpauth_uri: &str) -> Option<String> {
    use qrcode::render::svg;
    // Medium error correction: the URI fits comfortably and scans from a screen.
    let code = qrcode::QrCode::with_error_correction_level(otpauth_uri.as_bytes(), qrcode::EcLevel::M).ok()?;
    Some(
        code.render::<svg::Color>()
            .min_dimensions(200, 200)
            .quiet_zone(true)
            .build(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 appendix B's SHA-1 secret.
    const RFC_SECRET: &[u8] = b"12345678901234567890";

    #[test]
    fn codes_match_their_step_and_its_neighbours_only() {
        let t = totp(RFC_SECRET, "Gatehouse", "alice");
        // RFC 6238 appendix B: T = 59 gives 94287082 with 8 digits; 6 digits keep the tail.
        assert_eq!(t.generate(59).to_string(), "287082");
        let now = 1_111_111_109; // RFC vector: 07081804 (8 digits)
        assert_eq!(t.generate(now).to_string(), "081804");
        let step = now as i64 / 30;
        assert_eq!(matching_step(&t, "081804", now as i64), Some(step));
        assert_eq!(matching_step(&t, "081 804", now as i64), Some(step), "spaces ignored");
        // The previous and next step's codes are accepted (skew 1), and say which step they are.
        let prev = t.generate(now - 30).to_string();
        let next = t.generate(now + 30).to_string();
        assert_eq!(matching_step(&t, &prev, now as i64), Some(step - 1));
        assert_eq!(matching_step(&t, &next, now as i64), Some(step + 1));
        // Two steps away is too far; garbage never matches.
        let old = t.generate(now - 60).to_string();
        assert_eq!(matching_step(&t, &old, now as i64), None);
        assert_eq!(matching_step(&t, "12345", now as i64), None);
        assert_eq!(matching_step(&t, "abcdef", now as i64), None);
    }

    #[test]
    fn the_provisioning_uri_carries_issuer_account_and_secret() {
        let t = totp(RFC_SECRET, "Gatehouse", "alice");
        let (uri, b32) = provisioning(&t);
        assert_eq!(b32, "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
        assert!(uri.starts_with("otpauth://totp/Gatehouse:alice?"), "{uri}");
        assert!(
            uri.contains(&format!("secret={b32}")) && uri.contains("issuer=Gatehouse"),
            "{uri}"
        );
    }

    #[test]
    fn the_qr_code_is_an_svg_of_the_uri() {
        let (uri, _) = provisioning(&totp(RFC_SECRET, "Gatehouse", "alice"));
        let svg = qr_svg(&uri).expect("fits");
        assert!(svg.contains("<svg") && svg.contains("viewBox"), "{svg}");
        // Decoding is the scanner's job; the code must at least carry enough modules for the URI.
        let code = qrcode::QrCode::with_error_correction_level(uri.as_bytes(), qrcode::EcLevel::M).unwrap();
        assert!(code.width() >= 33, "version 4 or larger for a ~100-byte URI");
        assert!(qr_svg(&"x".repeat(5000)).is_none(), "too long for a QR code");
    }
}
