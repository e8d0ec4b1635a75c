//! The client_credentials grant (RFC 6749 §4.4): panva's openid-client gets machine tokens with
//! every client authentication method; direct requests check the refusals.
use std::process::Command;

use jsonwebtoken::jwk::{Jwk, JwkSet};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Validation};
use reqwest::StatusCode;
use serde_json::Value;

use super::harness::client_app::{introspect, jwt_part, post_token, published_jwks, userinfo_status};
use super::harness::*;
use gatehouse::config::ClientDecl;

const MACHINE: &str = "machine";
const MACHINE_SCOPES: [&str; 2] = ["api:read", "api:write"];

/// A server with a machine-only client (no redirect URIs) taking every authentication method:
/// the shared secret (basic, post, client_secret_jwt) and `jwk` (private_key_jwt).
async fn server_with_machine(jwk: Jwk) -> TestServer {
    let jwks = serde_json::to_string(&JwkSet { keys: vec![jwk] }).unwrap();
    TestServer::start_with(|c| {
        let base = c.clients[0].clone();
        c.clients.push(ClientDecl {
            id: MACHINE.into(),
            redirect_uris: vec![],
            post_logout_redirect_uris: vec![],
            client_secret_jwt: true,
            jwks: Some(jwks),
            machine_scopes: MACHINE_SCOPES.iter().map(|s| s.to_string()).collect(),
            ..base
        });
    })
    .await
}

fn client_key(kid: &str) -> (String, Jwk) {
    let pem = gatehouse::keys::generate_pem(gatehouse::keys::SigningAlg::RS256).unwrap();
    let enc = EncodingKey::from_rsa_pem(pem.as_bytes()).unwrap();
    let mut jwk = Jwk::from_encoding_key(&enc, Algorithm::RS256).unwrap();
    jwk.common.key_id = Some(kid.into());
    (pem, jwk)
}

fn run_machine_rp(server: &TestServer, auth: &str, pem: &str, scope: Option<&str>) -> Value {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/peers/openid-client");
    assert!(
        std::path::Path::new(dir).join("node_modules/openid-client").exists(),
        "openid-client is not installed: run scripts/test, or `npm ci` in {dir}"
    );
    let mut cmd = Command::new("node");
    cmd.arg("machine.mjs")
        .current_dir(dir)
        .env("ISSUER", &server.issuer)
        .env("CLIENT_ID", MACHINE)
        .env("CLIENT_SECRET", RP_SECRET)
        .env("AUTH", auth)
        .env("PRIVATE_KEY_PEM", pem)
        .env("KID", "m1");
    if let Some(s) = scope {
        cmd.env("SCOPE", s);
    }
    let out = cmd.output().expect("run node");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "openid-client ({auth}) failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_str(stdout.lines().last().unwrap_or_default()).expect("a JSON report")
}

/// Verifies a machine token's signature against the published JWKS and returns its claims.
async fn verified_claims(server: &TestServer, token: &str) -> Value {
    let header = jsonwebtoken::decode_header(token).unwrap();
    assert_eq!(header.typ.as_deref(), Some("at+jwt"), "RFC 9068 typ");
    let jwks = published_jwks(server).await;
    let jwk = jwks
        .find(header.kid.as_deref().unwrap())
        .expect("signed with a published key");
    let mut v = Validation::new(header.alg);
    v.set_audience(&[MACHINE]);
    v.set_issuer(&[&server.issuer]);
    jsonwebtoken::decode::<Value>(token, &DecodingKey::from_jwk(jwk).unwrap(), &v)
        .expect("a valid signature and claims")
        .claims
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openid_client_gets_machine_tokens_with_every_client_auth_method() {
    let (pem, jwk) = client_key("m1");
    let server = server_with_machine(jwk).await;
    for auth in ["basic", "post", "client_secret_jwt", "private_key_jwt"] {
        let report = tokio::task::block_in_place(|| run_machine_rp(&server, auth, &pem, None));
        assert_eq!(report["ok"], true, "{auth}");
        assert_eq!(report["advertised"], true, "discovery lists client_credentials");
        assert_eq!(report["token_type"], "bearer", "{auth}");
        assert_eq!(report["scope"], "api:read api:write", "all machine scopes by default");
        assert_eq!(
            report["refresh_token"],
            Value::Null,
            "no refresh token (RFC 6749 §4.4.3)"
        );
        assert_eq!(report["id_token"], Value::Null, "no ID token: there is no user");
        let token = report["access_token"].as_str().unwrap();
        let claims = verified_claims(&server, token).await;
        assert_eq!(claims["sub"], MACHINE, "the client is the subject (RFC 9068 §2.2)");
        assert_eq!(claims["client_id"], MACHINE);
        assert_eq!(claims["scope"], "api:read api:write");
        assert!(
            claims.get("auth_time").is_none() && claims.get("sid").is_none(),
            "{claims}"
        );
        let introspection = &report["introspection"];
        assert_eq!(introspection["active"], true, "{auth}: {introspection}");
        assert_eq!(introspection["sub"], MACHINE);
        assert_eq!(introspection["client_id"], MACHINE);
        assert!(introspection.get("username").is_none(), "{introspection}");
    }
    // A narrower scope, asked through the library.
    let report = tokio::task::block_in_place(|| run_machine_rp(&server, "basic", &pem, Some("api:read")));
    assert_eq!(report["scope"], "api:read");
    let claims = verified_claims(&server, report["access_token"].as_str().unwrap()).await;
    assert_eq!(claims["scope"], "api:read");
}

async fn machine_grant(server: &TestServer, client_id: &str, scope: Option<&str>) -> (StatusCode, Value) {
    let mut form = vec![("grant_type", "client_credentials")];
    if let Some(s) = scope {
        form.push(("scope", s));
    }
    post_token(server, client_id, &form).await
}

#[track_caller]
fn assert_error(got: &(StatusCode, Value), status: StatusCode, error: &str) {
    assert_eq!((got.0, got.1["error"].as_str()), (status, Some(error)), "{}", got.1);
}

#[tokio::test]
async fn client_credentials_refusals() {
    let (_, jwk) = client_key("m1");
    let server = server_with_machine(jwk).await;

    // A public client cannot hold a secret, so it cannot use this grant.
    let res = reqwest::Client::new()
        .post(server.url("/token"))
        .form(&[("grant_type", "client_credentials"), ("client_id", SPA_ID)])
        .send()
        .await
        .unwrap();
    let public = (res.status(), res.json::<Value>().await.unwrap());
    assert_error(&public, StatusCode::BAD_REQUEST, "unauthorized_client");

    // A confidential client without machine scopes is not registered for it.
    let unregistered = machine_grant(&server, RP_ID, None).await;
    assert_error(&unregistered, StatusCode::BAD_REQUEST, "unauthorized_client");

    // A wrong secret is a failed client authentication, before any grant logic.
    let res = reqwest::Client::new()
        .post(server.url("/token"))
        .basic_auth(MACHINE, Some("wrong"))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(res.json::<Value>().await.unwrap()["error"], "invalid_client");

    // Only registered scopes; user scopes never.
    for scope in ["api:delete", "api:read api:delete", "openid", "offline_access"] {
        let got = machine_grant(&server, MACHINE, Some(scope)).await;
        assert_error(&got, StatusCode::BAD_REQUEST, "invalid_scope");
    }

    // The machine client has no redirect URI: it cannot start a browser sign-in.
    let ok = machine_grant(&server, MACHINE, Some("api:write")).await;
    assert_eq!(ok.0, StatusCode::OK, "{}", ok.1);
    assert_eq!(ok.1["scope"], "api:write");
    assert_eq!(ok.1["token_type"], "Bearer");
    let token = ok.1["access_token"].as_str().unwrap().to_owned();
    assert_eq!(jwt_part(&token, 0)["typ"], "at+jwt");

    // There is no user behind it: userinfo refuses (the token has no openid scope).
    assert_eq!(userinfo_status(&server, &token).await, StatusCode::FORBIDDEN);
    // Another client does not learn about it.
    assert_eq!(introspect(&server, RP_ID, &token).await["active"], false);
    assert_eq!(introspect(&server, MACHINE, &token).await["active"], true);
    // Revoked, it is inactive.
    let res = reqwest::Client::new()
        .post(server.url("/revoke"))
        .basic_auth(MACHINE, Some(urls::urlencode(RP_SECRET)))
        .form(&[("token", &token)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(introspect(&server, MACHINE, &token).await["active"], false);
}
