//! TOTP secrets sealed at rest: AES-256-GCM (aws-lc-rs) under the key from `[mfa] secret_key`,
//! a random 96-bit nonce per secret, the user id as associated data (a sealed secret copied to
//! another account does not open).
use aws_lc_rs::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;

/// Why a key or a sealed secret is unusable.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SealError {
    #[error("[mfa] secret_key must be 32 bytes in base64")]
    BadKey,
    #[error("a stored TOTP secret does not open with the configured key")]
    Unreadable,
}

/// The key that seals TOTP secrets.
pub struct SecretBox {
    key: LessSafeKey,
}

impl std::fmt::Debug for SecretBox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretBox(..)")
    }
}

impl SecretBox {
    /// The key from its configured form: 32 bytes, base64 (standard alphabet).
    pub fn from_base64(key: &str) -> Result<Self, SealError> {
        let bytes = STANDARD.decode(key.trim()).map_err(|_| SealError::BadKey)?;
        if bytes.len() != 32 {
            return Err(SealError::BadKey);
        }
        let key = UnboundKey::new(&AES_256_GCM, &bytes).map_err(|_| SealError::BadKey)?;
        Ok(Self {
            key: LessSafeKey::new(key),
        })
    }

    /// Seals `plain` for `user_id`: base64url of nonce ‖ ciphertext ‖ tag.
    pub fn seal(&self, user_id: &str, plain: &[u8]) -> String {
        let mut nonce = [0u8; NONCE_LEN];
        SystemRandom::new().fill(&mut nonce).expect("system random");
        let mut buf = plain.to_vec();
        self.key
            .seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce), aad(user_id), &mut buf)
            .expect("AES-GCM seal of a short secret");
        let mut out = nonce.to_vec();
        out.extend_from_slice(&buf);
        URL_SAFE_NO_PAD.encode(out)
    }

    /// Opens what [`seal`](Self::seal) made for `user_id`.
    pub fn open(&self, user_id: &str, sealed: &str) -> Result<Vec<u8>, SealError> {
        let bytes = URL_SAFE_NO_PAD.decode(sealed).map_err(|_| SealError::Unreadable)?;
        if bytes.len() < NONCE_LEN {
            return Err(SealError::Unreadable);
        }
        let (nonce, rest) = bytes.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| SealError::Unreadable)?;
        let mut buf = rest.to_vec();
        let plain = self
            .key
            .open_in_place(nonce, aad(user_id), &mut buf)
            .map_err(|_| SealError::Unreadable)?;
        Ok(plain.to_vec())
    }
}

fn aad(user_id: &str) -> Aad<Vec<u8>> {
    Aad::from(format!("gatehouse-totp:{user_id}").into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

    #[test]
    fn a_sealed_secret_opens_only_with_its_key_and_for_its_user() {
        let b = SecretBox::from_base64(KEY).unwrap();
        let sealed = b.seal("u1", b"twenty bytes secret!");
        assert!(!sealed.contains("twenty"));
        assert_eq!(b.open("u1", &sealed).unwrap(), b"twenty bytes secret!");
        assert_eq!(b.open("u2", &sealed), Err(SealError::Unreadable), "bound to the user");
        let other = SecretBox::from_base64(&STANDARD.encode([7u8; 32])).unwrap();
        assert_eq!(
            other.open("u1", &sealed),
            Err(SealError::Unreadable),
            "bound to the key"
        );
        assert_ne!(b.seal("u1", b"x"), b.seal("u1", b"x"), "fresh nonce each time");
    }

    #[test]
    fn keys_must_be_32_bytes_of_base64() {
        assert_eq!(SecretBox::from_base64("short").unwrap_err(), SealError::BadKey);
        assert_eq!(
            SecretBox::from_base64(&STANDARD.encode([1u8; 16])).unwrap_err(),
            SealError::BadKey
        );
    }
}
