//! Signing keys stored before Gatehouse signed with aws-lc (RustCrypto-made RSA and P-256
//! keys) keep their PEM and `kid`: they are published unchanged and sign verifiable tokens.
use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use sea_orm::{ActiveModelTrait, Set};
use serde_json::Value;

use super::harness::browser::Browser;
use super::harness::client_app::{jwt_part, published_jwks, tokens_for};
use super::harness::*;
use gatehouse::store::entities::signing_key;

const FIXTURE: &str = include_str!("../fixtures/signing_keys_before_aws_lc.json");

#[tokio::test]
async fn keys_stored_before_the_change_still_sign_with_the_same_kid() {
    let fixture: Value = serde_json::from_str(FIXTURE).unwrap();
    let stored = fixture["keys"].as_array().unwrap();
    let prepared = TestServer::prepare().await;
    {
        let db = gatehouse::store::connect(&prepared.config.database_url).await.unwrap();
        gatehouse::store::migrate(&db).await.unwrap();
        for key in stored {
            signing_key::ActiveModel {
                kid: Set(key["kid"].as_str().unwrap().into()),
                alg: Set(key["alg"].as_str().unwrap().into()),
                private_pem: Set(key["private_pem"].as_str().unwrap().into()),
                public_jwk: Set(key["public_jwk"].as_str().unwrap().into()),
                created_at: Set(gatehouse::store::now() - 60),
                retired_at: Set(None),
            }
            .insert(&db)
            .await
            .unwrap();
        }
        db.close().await.unwrap();
    }
    let server = prepared.launch().await;

    let jwks = published_jwks(&server).await;
    assert_eq!(jwks.keys.len(), 2, "no key was generated next to the stored ones");
    for key in stored {
        let kid = key["kid"].as_str().unwrap();
        let published = serde_json::to_value(jwks.find(kid).expect("published under its kid")).unwrap();
        let before: Value = serde_json::from_str(key["public_jwk"].as_str().unwrap()).unwrap();
        assert_eq!(published, before, "the same public JWK");
    }
    for (client, alg) in [(RP_ID, Algorithm::RS256), (ES_ID, Algorithm::ES256)] {
        let tokens = tokens_for(&server, &Browser::new(), client, "openid").await;
        let id_token = tokens["id_token"].as_str().unwrap();
        let header = jwt_part(id_token, 0);
        let kid = header["kid"].as_str().unwrap();
        let key = stored.iter().find(|k| k["kid"] == kid).expect("signed by a stored key");
        assert_eq!(key["alg"], header["alg"]);
        let jwk: Jwk = serde_json::from_str(key["public_jwk"].as_str().unwrap()).unwrap();
        let mut v = Validation::new(alg);
        v.set_audience(&[client]);
        v.set_issuer(&[&server.issuer]);
        let claims = jsonwebtoken::decode::<Value>(id_token, &DecodingKey::from_jwk(&jwk).unwrap(), &v)
            .unwrap_or_else(|e| panic!("{client}: {e}"))
            .claims;
        assert_eq!(claims["aud"], client);
    }
}
