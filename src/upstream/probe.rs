//! Contacting a provider the way a login would, without anyone logging in: what
//! `gatehouse check` reports and what the certificate gauges of `/metrics` show.
use super::UpstreamError;

/// What contacting a provider found, when it answered as a login needs.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Probe {
    /// The certificates the provider signs with, when its protocol publishes them (SAML).
    pub certificates: Vec<CertificateDates>,
}

/// One signing certificate of a provider and when it stops being valid.
#[derive(Debug, Clone, PartialEq)]
pub struct CertificateDates {
    /// The certificate's subject, as printed (`CN=idp.example, O=…`).
    pub subject: String,
    /// Lowercase hex SHA-256 of the DER certificate, shortened to 16 digits (a label that
    /// tells two certificates of one provider apart).
    pub fingerprint: String,
    /// Unix time of `notAfter`.
    pub not_after: i64,
}

/// How soon a certificate's end matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expiry {
    /// Valid for longer than the warning period.
    Fine,
    /// Ends within the warning period: renew it at the provider (and the metadata).
    Soon { days: i64 },
    /// Already ended: signatures made with it are refused.
    Expired { days_ago: i64 },
}

/// Days before a certificate's end when `gatehouse check` starts warning.
pub const WARN_DAYS: i64 = 30;

impl CertificateDates {
    /// Reads a DER certificate's subject, fingerprint and end.
    pub fn from_der(der: &[u8]) -> Result<Self, UpstreamError> {
        let unreadable = |e: openssl::error::ErrorStack| UpstreamError::Unavailable(format!("certificate: {e}"));
        let cert = openssl::x509::X509::from_der(der).map_err(unreadable)?;
        let subject = cert
            .subject_name()
            .entries()
            .map(|e| {
                let key = e.object().nid().short_name().unwrap_or("?");
                let value = String::from_utf8_lossy(e.data().as_slice());
                format!("{key}={value}")
            })
            .collect::<Vec<_>>()
            .join(", ");
        let epoch = openssl::asn1::Asn1Time::from_unix(0).map_err(unreadable)?;
        let diff = epoch.diff(cert.not_after()).map_err(unreadable)?;
        let not_after = i64::from(diff.days) * 86_400 + i64::from(diff.secs);
        let digest = openssl::sha::sha256(der);
        let fingerprint = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
        Ok(Self {
            subject,
            fingerprint,
            not_after,
        })
    }

    /// Days (fractional) from `now` until the certificate ends; negative once it has.
    pub fn days_left(&self, now: i64) -> f64 {
        (self.not_after - now) as f64 / 86_400.0
    }

    /// Whether the certificate ends within `WARN_DAYS` of `now`, or has ended.
    pub fn expiry(&self, now: i64) -> Expiry {
        let left = self.not_after - now;
        if left <= 0 {
            Expiry::Expired {
                days_ago: -left / 86_400,
            }
        } else if left < WARN_DAYS * 86_400 {
            Expiry::Soon { days: left / 86_400 }
        } else {
            Expiry::Fine
        }
    }
}

/// Whether `url` answers at all: any HTTP status below 500 means the endpoint is there (an
/// authorization endpoint answers a bare GET with an error page, a token endpoint with 405 or
/// 400); a server error, a refused connection or a timeout does not.
pub async fn answers(http: &reqwest::Client, url: &str) -> Result<(), UpstreamError> {
    let res = http
        .get(url)
        .send()
        .await
        .map_err(|e| UpstreamError::Unavailable(format!("{url}: {}", error_chain(&e))))?;
    if res.status().is_server_error() {
        return Err(UpstreamError::Unavailable(format!("{url}: answered {}", res.status())));
    }
    Ok(())
}

/// An error with its sources, for the log.
pub(super) fn error_chain(e: &dyn std::error::Error) -> String {
    let mut msg = e.to_string();
    let mut src = e.source();
    while let Some(s) = src {
        msg.push_str(": ");
        msg.push_str(&s.to_string());
        src = s.source();
    }
    msg
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dates(not_after: i64) -> CertificateDates {
        CertificateDates {
            subject: "CN=idp".into(),
            fingerprint: "00".into(),
            not_after,
        }
    }

    #[test]
    fn a_certificate_is_fine_then_soon_then_expired() {
        let now = 1_000_000_000;
        assert_eq!(dates(now + 31 * 86_400).expiry(now), Expiry::Fine);
        assert_eq!(dates(now + 29 * 86_400 + 5).expiry(now), Expiry::Soon { days: 29 });
        assert_eq!(dates(now).expiry(now), Expiry::Expired { days_ago: 0 });
        assert_eq!(dates(now - 3 * 86_400).expiry(now), Expiry::Expired { days_ago: 3 });
        assert_eq!(dates(now + 43_200).days_left(now), 0.5);
    }

    #[test]
    fn a_generated_certificate_s_dates_are_read() {
        use openssl::asn1::Asn1Time;
        let key = openssl::pkey::PKey::from_rsa(openssl::rsa::Rsa::generate(2048).unwrap()).unwrap();
        let mut name = openssl::x509::X509NameBuilder::new().unwrap();
        name.append_entry_by_text("CN", "idp.example").unwrap();
        let name = name.build();
        let mut b = openssl::x509::X509::builder().unwrap();
        b.set_subject_name(&name).unwrap();
        b.set_issuer_name(&name).unwrap();
        b.set_pubkey(&key).unwrap();
        b.set_not_before(&Asn1Time::from_unix(1_700_000_000).unwrap()).unwrap();
        b.set_not_after(&Asn1Time::from_unix(1_800_000_000).unwrap()).unwrap();
        b.sign(&key, openssl::hash::MessageDigest::sha256()).unwrap();
        let der = b.build().to_der().unwrap();
        let d = CertificateDates::from_der(&der).unwrap();
        assert_eq!(d.not_after, 1_800_000_000);
        assert_eq!(d.subject, "CN=idp.example");
        assert_eq!(d.fingerprint.len(), 16);
    }
}
