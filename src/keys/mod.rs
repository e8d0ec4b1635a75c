//! Token signing keys: generated on first start, stored in the database, published as JWKS.
use std::sync::Arc;
use std::time::Duration;

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::signature::{EcdsaKeyPair, RsaKeyPair, ECDSA_P256_SHA256_FIXED_SIGNING, RSA_PKCS1_SHA256};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::jwk::{Jwk, JwkSet, PublicKeyUse, ThumbprintHash};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header};
use sea_orm::{ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, Set};
use serde::Serialize;

use crate::store::entities::signing_key;
use crate::store::now;

/// Why keys could not be loaded, made or used.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("database: {0}")]
    Db(#[from] sea_orm::DbErr),
    #[error("key material: {0}")]
    Material(String),
    #[error("jwt: {0}")]
    Jwt(#[from] jsonwebtoken::errors::Error),
    #[error("no active {0:?} key")]
    NoKey(SigningAlg),
    #[error("claims could not be serialised: {0}")]
    Claims(#[from] serde_json::Error),
    #[error("the signature could not be made")]
    Sign,
}

/// The signature algorithms Gatehouse signs with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
pub enum SigningAlg {
    RS256,
    ES256,
}

impl SigningAlg {
    /// Every supported algorithm, default first.
    pub const ALL: [SigningAlg; 2] = [SigningAlg::RS256, SigningAlg::ES256];

    /// The JOSE name.
    pub fn as_str(self) -> &'static str {
        match self {
            SigningAlg::RS256 => "RS256",
            SigningAlg::ES256 => "ES256",
        }
    }

    /// Parses a JOSE name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.as_str() == s)
    }

    fn jwt(self) -> Algorithm {
        match self {
            SigningAlg::RS256 => Algorithm::RS256,
            SigningAlg::ES256 => Algorithm::ES256,
        }
    }
}

/// One private key ready to sign.
pub struct SigningKey {
    /// RFC 7638 thumbprint of the public key.
    pub kid: String,
    /// What it signs with.
    pub alg: SigningAlg,
    signer: Signer,
}

/// The private key parsed once, so a signature is only the private-key operation
/// (aws-lc, constant-time; not the RustCrypto `rsa` crate, RUSTSEC-2023-0071).
enum Signer {
    Rsa(RsaKeyPair),
    Ec(EcdsaKeyPair),
}

impl SigningKey {
    /// Parses a stored PKCS#8 PEM private key.
    pub fn from_pem(kid: String, alg: SigningAlg, pem: &str) -> Result<Self, KeyError> {
        let der = pem::parse(pem).map_err(|e| KeyError::Material(e.to_string()))?;
        let signer = match alg {
            SigningAlg::RS256 => {
                Signer::Rsa(RsaKeyPair::from_pkcs8(der.contents()).map_err(|e| KeyError::Material(e.to_string()))?)
            }
            SigningAlg::ES256 => Signer::Ec(
                EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, der.contents())
                    .map_err(|e| KeyError::Material(e.to_string()))?,
            ),
        };
        Ok(Self { kid, alg, signer })
    }

    /// Signs `claims` as a compact JWS (RFC 7515 §7.1) with `kid` and `typ` in the header.
    pub fn sign<T: Serialize>(&self, typ: &str, claims: &T) -> Result<String, KeyError> {
        let mut header = Header::new(self.alg.jwt());
        header.kid = Some(self.kid.clone());
        header.typ = Some(typ.into());
        let mut jws = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&header)?);
        jws.push('.');
        URL_SAFE_NO_PAD.encode_string(serde_json::to_vec(claims)?, &mut jws);
        let signature = match &self.signer {
            Signer::Rsa(key) => {
                let mut sig = vec![0; key.public_modulus_len()];
                key.sign(
                    &RSA_PKCS1_SHA256,
                    &aws_lc_rs::rand::SystemRandom::new(),
                    jws.as_bytes(),
                    &mut sig,
                )
                .map_err(|_| KeyError::Sign)?;
                sig
            }
            Signer::Ec(key) => key
                .sign(&aws_lc_rs::rand::SystemRandom::new(), jws.as_bytes())
                .map_err(|_| KeyError::Sign)?
                .as_ref()
                .to_vec(),
        };
        jws.push('.');
        URL_SAFE_NO_PAD.encode_string(signature, &mut jws);
        Ok(jws)
    }
}

/// The keys in force: the newest per algorithm signs, all unretired ones verify.
pub struct KeySet {
    signing: Vec<SigningKey>,
    verifying: Vec<(String, SigningAlg, DecodingKey)>,
    jwks: JwkSet,
}

impl KeySet {
    /// The public keys as a JWK Set document.
    pub fn jwks(&self) -> &JwkSet {
        &self.jwks
    }

    /// Signs `claims` as a compact JWS (`typ: JWT`) with the current key for `alg`.
    pub fn sign<T: Serialize>(&self, alg: SigningAlg, claims: &T) -> Result<String, KeyError> {
        self.sign_typed(alg, "JWT", claims)
    }

    /// Signs with an explicit `typ` header (`at+jwt`, `logout+jwt`).
    pub fn sign_typed<T: Serialize>(&self, alg: SigningAlg, typ: &str, claims: &T) -> Result<String, KeyError> {
        let key = self.signing.iter().find(|k| k.alg == alg).ok_or(KeyError::NoKey(alg))?;
        key.sign(typ, claims)
    }

    /// Whether a current key signs with `alg`.
    pub fn can_sign(&self, alg: SigningAlg) -> bool {
        self.signing.iter().any(|k| k.alg == alg)
    }

    /// The verification key for a `kid`, with its algorithm.
    pub fn verifier(&self, kid: &str) -> Option<(SigningAlg, &DecodingKey)> {
        self.verifying
            .iter()
            .find(|(k, _, _)| k == kid)
            .map(|(_, a, d)| (*a, d))
    }
}

/// Loads keys from the database through a short-lived cache, so every node sees rotations.
#[derive(Clone)]
pub struct KeyStore {
    db: DatabaseConnection,
    cache: moka::future::Cache<(), Arc<KeySet>>,
    /// How long a retired key stays published: the longest token lifetime it may have signed.
    grace_secs: i64,
}

/// An RSA key being generated while the database is opened and migrated: on a brand-new
/// database its ≈ 0.2 s of CPU then runs beside the migrations instead of after them.
pub struct EarlyRsaKey(tokio::task::JoinHandle<Result<String, KeyError>>);

impl EarlyRsaKey {
    /// Starts generating when the database has no active RSA key, or no key table yet (not
    /// migrated); `None` otherwise (a restart costs one query, no CPU).
    pub async fn start_if_needed(db: &DatabaseConnection) -> Option<Self> {
        match active_key_exists(db, SigningAlg::RS256).await {
            Ok(true) => None,
            // No row, or no table yet: a new database.
            Ok(false) | Err(_) => Some(Self(tokio::task::spawn_blocking(|| generate_pem(SigningAlg::RS256)))),
        }
    }
}

/// Whether an unretired key of `alg` is stored.
async fn active_key_exists(db: &DatabaseConnection, alg: SigningAlg) -> Result<bool, sea_orm::DbErr> {
    Ok(signing_key::Entity::find()
        .filter(signing_key::Column::Alg.eq(alg.as_str()))
        .filter(signing_key::Column::RetiredAt.is_null())
        .one(db)
        .await?
        .is_some())
}

/// One row of `gatehouse keys list`.
#[derive(Debug, Clone)]
pub struct KeyInfo {
    pub kid: String,
    pub alg: String,
    pub created_at: i64,
    pub retired_at: Option<i64>,
}

impl KeyStore {
    /// A store over `db`; call [`KeyStore::ensure`] once at start-up. Retired keys stay in the
    /// JWKS for `grace_secs`.
    pub fn new(db: DatabaseConnection, grace_secs: i64) -> Self {
        let cache = moka::future::Cache::builder()
            .max_capacity(1)
            .time_to_live(Duration::from_secs(60))
            .build();
        Self { db, cache, grace_secs }
    }

    /// Rotates every algorithm: a new key signs from now on; the old ones only verify until
    /// every token they signed has expired. Other nodes pick the change up within a minute.
    pub async fn rotate(&self) -> Result<Vec<KeyInfo>, KeyError> {
        let mut made = Vec::new();
        for alg in SigningAlg::ALL {
            let old: Vec<String> = signing_key::Entity::find()
                .filter(signing_key::Column::Alg.eq(alg.as_str()))
                .filter(signing_key::Column::RetiredAt.is_null())
                .all(&self.db)
                .await?
                .into_iter()
                .map(|k| k.kid)
                .collect();
            made.push(self.generate(alg).await?);
            if !old.is_empty() {
                signing_key::Entity::update_many()
                    .col_expr(signing_key::Column::RetiredAt, sea_orm::sea_query::Expr::value(now()))
                    .filter(signing_key::Column::Kid.is_in(old))
                    .exec(&self.db)
                    .await?;
            }
        }
        // Keys whose grace is over leave the database too.
        signing_key::Entity::delete_many()
            .filter(signing_key::Column::RetiredAt.lt(now() - self.grace_secs))
            .exec(&self.db)
            .await?;
        self.cache.invalidate(&()).await;
        crate::store::changes::bump(&self.db, crate::store::changes::Topic::Keys).await?;
        Ok(made)
    }

    /// Rotates when the newest signing key is older than `max_age_secs`.
    pub async fn rotate_if_older_than(&self, max_age_secs: i64) -> Result<bool, KeyError> {
        let newest = signing_key::Entity::find()
            .filter(signing_key::Column::RetiredAt.is_null())
            .order_by_desc(signing_key::Column::CreatedAt)
            .one(&self.db)
            .await?;
        if newest.is_some_and(|k| now() - k.created_at < max_age_secs) {
            return Ok(false);
        }
        let made = self.rotate().await?;
        tracing::info!(kids = ?made.iter().map(|k| &k.kid).collect::<Vec<_>>(), "scheduled key rotation");
        Ok(true)
    }

    /// Forgets the cached keys (another node rotated them).
    pub async fn forget(&self) {
        self.cache.invalidate(&()).await;
    }

    /// Seconds a retired key keeps verifying (and stays in the JWKS) after its retirement.
    pub fn grace_secs(&self) -> i64 {
        self.grace_secs
    }

    /// Every stored key, newest first.
    pub async fn list(&self) -> Result<Vec<KeyInfo>, KeyError> {
        Ok(signing_key::Entity::find()
            .order_by_desc(signing_key::Column::CreatedAt)
            .all(&self.db)
            .await?
            .into_iter()
            .map(|k| KeyInfo {
                kid: k.kid,
                alg: k.alg,
                created_at: k.created_at,
                retired_at: k.retired_at,
            })
            .collect())
    }

    async fn generate(&self, alg: SigningAlg) -> Result<KeyInfo, KeyError> {
        let pem = tokio::task::spawn_blocking(move || generate_pem(alg))
            .await
            .map_err(|e| KeyError::Material(e.to_string()))??;
        self.store_key(alg, pem).await
    }

    async fn store_key(&self, alg: SigningAlg, pem: String) -> Result<KeyInfo, KeyError> {
        let (kid, jwk) = public_jwk(alg, &pem)?;
        let created_at = now();
        signing_key::ActiveModel {
            kid: Set(kid.clone()),
            alg: Set(alg.as_str().into()),
            private_pem: Set(pem),
            public_jwk: Set(serde_json::to_string(&jwk).map_err(|e| KeyError::Material(e.to_string()))?),
            created_at: Set(created_at),
            retired_at: Set(None),
        }
        .insert(&self.db)
        .await?;
        tracing::info!(kid, alg = alg.as_str(), "generated signing key");
        Ok(KeyInfo {
            kid,
            alg: alg.as_str().into(),
            created_at,
            retired_at: None,
        })
    }

    /// Generates a key for every algorithm that has none yet.
    pub async fn ensure(&self) -> Result<(), KeyError> {
        self.ensure_with(None).await
    }

    /// [`KeyStore::ensure`], taking the RSA key from `early` when it needs one (see
    /// [`EarlyRsaKey::start_if_needed`]); an early key not needed is dropped.
    pub async fn ensure_with(&self, mut early: Option<EarlyRsaKey>) -> Result<(), KeyError> {
        for alg in SigningAlg::ALL {
            if active_key_exists(&self.db, alg).await? {
                continue;
            }
            match (alg, early.take()) {
                (SigningAlg::RS256, Some(early)) => {
                    let pem = early.0.await.map_err(|e| KeyError::Material(e.to_string()))??;
                    self.store_key(alg, pem).await?;
                }
                _ => {
                    self.generate(alg).await?;
                }
            }
        }
        self.cache.invalidate(&()).await;
        Ok(())
    }

    /// The keys in force.
    pub async fn current(&self) -> Result<Arc<KeySet>, KeyError> {
        self.cache
            .try_get_with((), self.load())
            .await
            .map_err(|e: Arc<KeyError>| KeyError::Material(e.to_string()))
    }

    async fn load(&self) -> Result<Arc<KeySet>, KeyError> {
        let rows = signing_key::Entity::find()
            .filter(
                sea_orm::Condition::any()
                    .add(signing_key::Column::RetiredAt.is_null())
                    .add(signing_key::Column::RetiredAt.gt(now() - self.grace_secs)),
            )
            .order_by_desc(signing_key::Column::CreatedAt)
            .order_by_asc(signing_key::Column::Kid)
            .all(&self.db)
            .await?;
        let mut signing: Vec<SigningKey> = Vec::new();
        let mut verifying = Vec::new();
        let mut keys = Vec::new();
        for row in rows {
            let alg =
                SigningAlg::parse(&row.alg).ok_or_else(|| KeyError::Material(format!("unknown alg {}", row.alg)))?;
            let jwk: Jwk = serde_json::from_str(&row.public_jwk).map_err(|e| KeyError::Material(e.to_string()))?;
            if row.retired_at.is_none() && !signing.iter().any(|k| k.alg == alg) {
                signing.push(SigningKey::from_pem(row.kid.clone(), alg, &row.private_pem)?);
            }
            verifying.push((row.kid.clone(), alg, DecodingKey::from_jwk(&jwk)?));
            keys.push(jwk);
        }
        Ok(Arc::new(KeySet {
            signing,
            verifying,
            jwks: JwkSet { keys },
        }))
    }
}

fn encoding_key(alg: SigningAlg, pem: &str) -> Result<EncodingKey, KeyError> {
    Ok(match alg {
        SigningAlg::RS256 => EncodingKey::from_rsa_pem(pem.as_bytes())?,
        SigningAlg::ES256 => EncodingKey::from_ec_pem(pem.as_bytes())?,
    })
}

/// A fresh private key as PKCS#8 PEM (RSA 2048 or P-256), made by aws-lc.
pub fn generate_pem(alg: SigningAlg) -> Result<String, KeyError> {
    let der = match alg {
        SigningAlg::RS256 => RsaKeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048)
            .and_then(|k| k.as_der())
            .map(|d| d.as_ref().to_vec()),
        SigningAlg::ES256 => EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING)
            .and_then(|k| k.to_pkcs8v1())
            .map(|d| d.as_ref().to_vec()),
    }
    .map_err(|e| KeyError::Material(e.to_string()))?;
    Ok(pem::encode_config(
        &pem::Pem::new("PRIVATE KEY", der),
        pem::EncodeConfig::new().set_line_ending(pem::LineEnding::LF),
    ))
}

/// The public JWK for a private key, with its RFC 7638 thumbprint as `kid`.
fn public_jwk(alg: SigningAlg, pem: &str) -> Result<(String, Jwk), KeyError> {
    let mut jwk = Jwk::from_encoding_key(&encoding_key(alg, pem)?, alg.jwt())?;
    let kid = jwk.thumbprint(ThumbprintHash::SHA256)?;
    jwk.common.key_id = Some(kid.clone());
    jwk.common.public_key_use = Some(PublicKeyUse::Signature);
    Ok((kid, jwk))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_new_database_takes_the_rsa_key_made_during_migration_and_a_restart_makes_none() {
        let db = crate::store::connect("sqlite::memory:").await.unwrap();
        assert!(
            EarlyRsaKey::start_if_needed(&db).await.is_some(),
            "no key table yet: a new database"
        );
        crate::store::migrate(&db).await.unwrap();
        let pem = generate_pem(SigningAlg::RS256).unwrap();
        let (kid, _) = public_jwk(SigningAlg::RS256, &pem).unwrap();
        let early = EarlyRsaKey(tokio::spawn(async move { Ok(pem) }));
        let keys = KeyStore::new(db.clone(), 60);
        keys.ensure_with(Some(early)).await.unwrap();
        let stored = keys.list().await.unwrap();
        assert_eq!(stored.len(), 2, "one RSA and one EC key: {stored:?}");
        assert!(
            stored.iter().any(|k| k.kid == kid && k.alg == "RS256"),
            "the early key is the RSA key"
        );
        assert!(keys.current().await.unwrap().can_sign(SigningAlg::RS256));
        assert!(
            EarlyRsaKey::start_if_needed(&db).await.is_none(),
            "an existing database generates nothing early"
        );
    }

    #[test]
    fn generated_keys_sign_tokens_that_verify_with_their_published_jwk() {
        for alg in SigningAlg::ALL {
            let pem = generate_pem(alg).unwrap();
            let (kid, jwk) = public_jwk(alg, &pem).unwrap();
            assert_eq!(jwk.common.key_id.as_deref(), Some(kid.as_str()));
            let set = KeySet {
                signing: vec![SigningKey::from_pem(kid.clone(), alg, &pem).unwrap()],
                verifying: vec![(kid.clone(), alg, DecodingKey::from_jwk(&jwk).unwrap())],
                jwks: JwkSet { keys: vec![jwk] },
            };
            let token = set
                .sign(alg, &serde_json::json!({"sub": "x", "exp": now() + 60}))
                .unwrap();
            let header = jsonwebtoken::decode_header(&token).unwrap();
            assert_eq!(header.kid.as_deref(), Some(kid.as_str()));
            let (a, key) = set.verifier(&kid).unwrap();
            let mut v = jsonwebtoken::Validation::new(a.jwt());
            v.required_spec_claims.clear();
            v.validate_aud = false;
            let data = jsonwebtoken::decode::<serde_json::Value>(&token, key, &v).unwrap();
            assert_eq!(data.claims["sub"], "x");
        }
    }

    fn b64url(s: &str) -> Vec<u8> {
        use base64::Engine;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(s).unwrap()
    }

    /// RFC 7638 §3.1: the example RSA key (RFC 7517 Appendix A.2, kid "2011-04-29") has the
    /// published thumbprint below; a key id is exactly that thumbprint.
    #[test]
    fn rsa_key_id_is_the_rfc_7638_thumbprint_of_the_rfcs_example_key() {
        use openssl::bn::{BigNum, BigNumContext};
        const N: &str = "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw";
        const D: &str = "X4cTteJY_gn4FYPsXB8rdXix5vwsg1FLN5E3EaG6RJoVH-HLLKD9M7dx5oo7GURknchnrRweUkC7hT5fJLM0WbFAKNLWY2vv7B6NqXSzUvxT0_YSfqijwp3RTzlBaCxWp4doFk5N2o8Gy_nHNKroADIkJ46pRUohsXywbReAdYaMwFs9tv8d_cPVY3i07a3t8MN6TNwm0dSawm9v47UiCl3Sk5ZiG7xojPLu4sbg1U2jx4IBTNBznbJSzFHK66jT8bgkuqsk0GjskDJk19Z4qwjwbsnn4j2WBii3RL-Us2lGVkY8fkFzme1z0HbIkfz0Y6mqnOYtqc0X4jfcKoAC8Q";
        const P: &str = "83i-7IvMGXoMXCskv73TKr8637FiO7Z27zv8oj6pbWUQyLPQBQxtPVnwD20R-60eTDmD2ujnMt5PoqMrm8RfmNhVWDtjjMmCMjOpSXicFHj7XOuVIYQyqVWlWEh6dN36GVZYk93N8Bc9vY41xy8B9RzzOGVQzXvNEvn7O0nVbfs";
        const Q: &str = "3dfOR9cuYq-0S-mkFLzgItgMEfFzB2q3hWehMuG0oCuqnb3vobLyumqjVZQO1dIrdwgTnCdpYzBcOfW5r370AFXjiWft_NGEiovonizhKpo9VVS78TzFgxkIdrecRezsZ-1kYd_s1qDbxtkDEgfAITAG9LUnADun4vIcb6yelxk";
        // The RFC gives n, e, d, p and q; OpenSSL wants the CRT values too, derived here.
        let int = |s: &str| BigNum::from_slice(&b64url(s)).unwrap();
        let mut ctx = BigNumContext::new().unwrap();
        let one = BigNum::from_u32(1).unwrap();
        let crt = |prime: &BigNum, ctx: &mut BigNumContext| {
            let mut less = BigNum::new().unwrap();
            less.checked_sub(prime, &one).unwrap();
            let mut v = BigNum::new().unwrap();
            v.nnmod(&int(D), &less, ctx).unwrap();
            v
        };
        let (dp, dq) = (crt(&int(P), &mut ctx), crt(&int(Q), &mut ctx));
        let mut qi = BigNum::new().unwrap();
        qi.mod_inverse(&int(Q), &int(P), &mut ctx).unwrap();
        let rsa = openssl::rsa::Rsa::from_private_components(int(N), int("AQAB"), int(D), int(P), int(Q), dp, dq, qi)
            .unwrap();
        let der = openssl::pkey::PKey::from_rsa(rsa)
            .unwrap()
            .private_key_to_pem_pkcs8()
            .unwrap();
        let pem = String::from_utf8(der).unwrap();
        let (kid, jwk) = public_jwk(SigningAlg::RS256, &pem).unwrap();
        assert_eq!(kid, "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
        assert_eq!(jwk.common.key_id.as_deref(), Some(kid.as_str()));
        match &jwk.algorithm {
            jsonwebtoken::jwk::AlgorithmParameters::RSA(p) => assert_eq!((p.n.as_str(), p.e.as_str()), (N, "AQAB")),
            other => panic!("an RSA JWK: {other:?}"),
        }
    }

    /// RFC 7638 §3.2 applied by hand to the example EC key of RFC 7517 Appendix A.2: the
    /// SHA-256 of the required members in lexicographic order, without whitespace.
    #[test]
    fn ec_key_id_is_the_rfc_7638_thumbprint_of_the_rfc_7517_example_key() {
        use base64::Engine;
        use p256::pkcs8::{EncodePrivateKey, LineEnding};
        use sha2::{Digest, Sha256};
        const X: &str = "MKBCTNIcKUSDii11ySs3526iDZ8AiTo7Tu6KPAqv7D4";
        const Y: &str = "4Etl6SRW2YiLUrN5vfvVHuhp7x8PxltmWWlbbM4IFyM";
        const D: &str = "870MB6gfuTJ4HtUnUvYMyJpr5eUZNP4Bk43bVdj3eAE";
        let key = p256::SecretKey::from_slice(&b64url(D)).unwrap();
        let pem = key.to_pkcs8_pem(LineEnding::LF).unwrap();
        let (kid, jwk) = public_jwk(SigningAlg::ES256, &pem).unwrap();
        match &jwk.algorithm {
            jsonwebtoken::jwk::AlgorithmParameters::EllipticCurve(p) => {
                assert_eq!((p.x.as_str(), p.y.as_str()), (X, Y), "the RFC's public point")
            }
            other => panic!("an EC JWK: {other:?}"),
        }
        let canonical = format!(r#"{{"crv":"P-256","kty":"EC","x":"{X}","y":"{Y}"}}"#);
        let expected = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes()));
        assert_eq!(kid, expected);
    }
    #[test]
    fn an_rs256_token_is_byte_identical_to_what_jsonwebtoken_encodes() {
        // PKCS#1 v1.5 signatures are deterministic, so the whole compact JWS must match.
        let pem = generate_pem(SigningAlg::RS256).unwrap();
        let key = SigningKey::from_pem("k1".into(), SigningAlg::RS256, &pem).unwrap();
        let claims = serde_json::json!({"iss": "https://issuer.example", "sub": "x", "n": [1, 2]});
        let ours = key.sign("JWT", &claims).unwrap();
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some("k1".into());
        header.typ = Some("JWT".into());
        let theirs = jsonwebtoken::encode(&header, &claims, &encoding_key(SigningAlg::RS256, &pem).unwrap()).unwrap();
        assert_eq!(ours, theirs);
        // Control: another typ gives another token.
        assert_ne!(key.sign("logout+jwt", &claims).unwrap(), theirs);
    }

    #[test]
    fn a_pem_that_is_not_a_key_of_the_named_algorithm_is_refused() {
        let ec = generate_pem(SigningAlg::ES256).unwrap();
        let rsa = generate_pem(SigningAlg::RS256).unwrap();
        assert!(matches!(
            SigningKey::from_pem("k".into(), SigningAlg::RS256, &ec),
            Err(KeyError::Material(_))
        ));
        assert!(matches!(
            SigningKey::from_pem("k".into(), SigningAlg::ES256, &rsa),
            Err(KeyError::Material(_))
        ));
        assert!(SigningKey::from_pem("k".into(), SigningAlg::RS256, &rsa).is_ok());
    }

    #[test]
    fn keys_stored_before_aws_lc_keep_their_kid_and_public_jwk() {
        let fixture: serde_json::Value =
            serde_json::from_str(include_str!("../../tests/fixtures/signing_keys_before_aws_lc.json")).unwrap();
        for key in fixture["keys"].as_array().unwrap() {
            let alg = SigningAlg::parse(key["alg"].as_str().unwrap()).unwrap();
            let pem = key["private_pem"].as_str().unwrap();
            let (kid, jwk) = public_jwk(alg, pem).unwrap();
            assert_eq!(kid, key["kid"].as_str().unwrap());
            let before: serde_json::Value = serde_json::from_str(key["public_jwk"].as_str().unwrap()).unwrap();
            assert_eq!(serde_json::to_value(&jwk).unwrap(), before);
            let signer = SigningKey::from_pem(kid.clone(), alg, pem).unwrap();
            let token = signer.sign("JWT", &serde_json::json!({"sub": "x"})).unwrap();
            let mut v = jsonwebtoken::Validation::new(alg.jwt());
            v.required_spec_claims.clear();
            jsonwebtoken::decode::<serde_json::Value>(&token, &DecodingKey::from_jwk(&jwk).unwrap(), &v)
                .expect("verifies with the JWK published before");
        }
    }
}
