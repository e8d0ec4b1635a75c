//! SAML SP key pairs, one per provider: generated at first use, then kept (the IdP's admin
//! imported the certificate, so it must not change on restart or differ between nodes).
use openssl::asn1::Asn1Time;
use openssl::bn::{BigNum, MsbOption};
use openssl::hash::MessageDigest;
use openssl::pkey::PKey;
use openssl::rsa::Rsa;
use openssl::x509::{X509Builder, X509NameBuilder};
use sea_orm::{ActiveModelTrait, ConnectionTrait, DbErr, EntityTrait, Set};

use super::entities::saml_sp_key;
use super::now;

/// Why a key pair could not be had.
#[derive(Debug, thiserror::Error)]
pub enum SamlKeyError {
    #[error("database: {0}")]
    Db(#[from] DbErr),
    #[error("key generation: {0}")]
    Crypto(#[from] openssl::error::ErrorStack),
}

/// The provider's (key PEM, certificate PEM), generated and stored when there is none.
pub async fn load_or_generate<C: ConnectionTrait>(db: &C, provider_id: &str) -> Result<(String, String), SamlKeyError> {
    if let Some(row) = saml_sp_key::Entity::find_by_id(provider_id.to_owned()).one(db).await? {
        return Ok((row.key_pem, row.cert_pem));
    }
    let (key_pem, cert_pem) = generate(provider_id)?;
    let inserted = saml_sp_key::ActiveModel {
        provider_id: Set(provider_id.to_owned()),
        key_pem: Set(key_pem.clone()),
        cert_pem: Set(cert_pem.clone()),
        created_at: Set(now()),
    }
    .insert(db)
    .await;
    match inserted {
        Ok(_) => Ok((key_pem, cert_pem)),
        // Another node won the race: use its pair.
        Err(e) => match saml_sp_key::Entity::find_by_id(provider_id.to_owned()).one(db).await? {
            Some(row) => Ok((row.key_pem, row.cert_pem)),
            None => Err(e.into()),
        },
    }
}

/// A 2048-bit RSA key and a self-signed certificate for it, valid ten years (SAML uses the
/// certificate only to carry the key; nobody checks its chain).
fn generate(provider_id: &str) -> Result<(String, String), openssl::error::ErrorStack> {
    let key = PKey::from_rsa(Rsa::generate(2048)?)?;
    let mut name = X509NameBuilder::new()?;
    name.append_entry_by_text("CN", &format!("Gatehouse SAML SP {provider_id}"))?;
    let name = name.build();
    let mut serial = BigNum::new()?;
    serial.rand(128, MsbOption::MAYBE_ZERO, false)?;
    let mut cert = X509Builder::new()?;
    cert.set_version(2)?;
    let serial = serial.to_asn1_integer()?;
    cert.set_serial_number(&serial)?;
    cert.set_subject_name(&name)?;
    cert.set_issuer_name(&name)?;
    cert.set_pubkey(&key)?;
    let (not_before, not_after) = (Asn1Time::days_from_now(0)?, Asn1Time::days_from_now(3650)?);
    cert.set_not_before(&not_before)?;
    cert.set_not_after(&not_after)?;
    cert.sign(&key, MessageDigest::sha256())?;
    let cert = cert.build();
    Ok((
        String::from_utf8_lossy(&key.private_key_to_pem_pkcs8()?).into_owned(),
        String::from_utf8_lossy(&cert.to_pem()?).into_owned(),
    ))
}
