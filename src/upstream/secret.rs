//! The client secret Gatehouse presents at an upstream token endpoint: a fixed string, or a
//! short-lived JWT signed with the developer's ES256 key (Sign in with Apple).
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde::Serialize;

use crate::config::ProviderConfig;

/// Where the client secret comes from.
#[derive(Clone)]
pub enum ClientSecretSource {
    /// `client_secret` or the variable named by `client_secret_env`.
    Fixed(String),
    /// A fresh ES256 JWT per token request.
    Signed(SignedSecret),
}

/// The parts of a generated client secret that do not change.
#[derive(Clone)]
pub struct SignedSecret {
    key: EncodingKey,
    key_id: String,
    team_id: String,
    client_id: String,
    audience: String,
    lifetime: u64,
}

#[derive(Serialize)]
struct SecretClaims<'a> {
    iss: &'a str,
    sub: &'a str,
    aud: &'a str,
    iat: u64,
    exp: u64,
}

impl ClientSecretSource {
    /// Reads the secret (or the signing key) for `provider`; the error names the provider.
    pub fn from_config(p: &ProviderConfig) -> Result<Self, String> {
        if let Some(signed) = &p.signed_client_secret {
            let pem = std::fs::read(&signed.private_key_file).map_err(|e| {
                format!(
                    "provider {}: signed_client_secret.private_key_file {}: {e}",
                    p.id,
                    signed.private_key_file.display()
                )
            })?;
            let key = EncodingKey::from_ec_pem(&pem).map_err(|e| {
                format!(
                    "provider {}: signed_client_secret.private_key_file is not a P-256 PKCS#8 PEM key: {e}",
                    p.id
                )
            })?;
            let audience = signed.audience.clone().unwrap_or_else(|| p.issuer_str().to_owned());
            return Ok(Self::Signed(SignedSecret {
                key,
                key_id: signed.key_id.clone(),
                team_id: signed.team_id.clone(),
                client_id: p.client_id.clone(),
                audience,
                lifetime: signed.lifetime,
            }));
        }
        match (&p.client_secret, &p.client_secret_env) {
            (Some(s), _) => Ok(Self::Fixed(s.clone())),
            (None, Some(var)) => std::env::var(var)
                .map(Self::Fixed)
                .map_err(|_| format!("provider {}: environment variable {var} is not set", p.id)),
            (None, None) => Err(format!("provider {}: no client secret", p.id)),
        }
    }

    /// The secret to send with a token request now.
    pub fn current(&self) -> Result<String, super::UpstreamError> {
        self.generate()
            .map_err(|e| super::UpstreamError::Unavailable(format!("client secret: {e}")))
    }

    fn generate(&self) -> Result<String, jsonwebtoken::errors::Error> {
        match self {
            Self::Fixed(s) => Ok(s.clone()),
            Self::Signed(s) => {
                let mut header = Header::new(Algorithm::ES256);
                header.kid = Some(s.key_id.clone());
                let iat = crate::store::now() as u64;
                let claims = SecretClaims {
                    iss: &s.team_id,
                    sub: &s.client_id,
                    aud: &s.audience,
                    iat,
                    exp: iat + s.lifetime,
                };
                jsonwebtoken::encode(&header, &claims, &s.key)
            }
        }
    }
}
