//! panva's `openid-client` (a certified, strict relying party that no one here wrote) runs the
//! client-app life cycle against Gatehouse: tests/peers/openid-client/rp.mjs.
use std::process::Command;

use super::harness::*;

fn run_rp(server: &TestServer, client_id: &str, auth: &str, alg: &str, par: bool) -> serde_json::Value {
    run_rp_with(server, client_id, auth, alg, par, &[])
}

/// [`run_rp`] with more of rp.mjs's settings (`ACR_VALUES`, `RECOVERY_CODE`).
fn run_rp_with(
    server: &TestServer,
    client_id: &str,
    auth: &str,
    alg: &str,
    par: bool,
    extra: &[(&str, &str)],
) -> serde_json::Value {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/peers/openid-client");
    assert!(
        std::path::Path::new(dir).join("node_modules/openid-client").exists(),
        "openid-client is not installed: run scripts/test, or `npm ci` in {dir}"
    );
    let out = Command::new("node")
        .arg("rp.mjs")
        .current_dir(dir)
        .env("ISSUER", &server.issuer)
        .env("CLIENT_ID", client_id)
        .env("CLIENT_SECRET", RP_SECRET)
        .env("AUTH", auth)
        .env("ALG", alg)
        .env("REDIRECT_URI", RP_REDIRECT)
        .env("POST_LOGOUT_URI", RP_LOGOUT)
        .env("USERNAME", ALICE)
        .env("PASSWORD", ALICE_PASSWORD)
        .env("PAR", if par { "1" } else { "0" })
        .envs(extra.iter().copied())
        .output()
        .expect("run node");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "openid-client failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_str(stdout.lines().last().unwrap_or_default()).expect("a JSON report")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openid_client_accepts_gatehouse_for_every_client_kind() {
    let server = TestServer::start().await;
    // The node process runs while this runtime keeps serving Gatehouse on its other worker.
    for (client, auth, alg, par) in [
        (RP_ID, "basic", "RS256", false),
        (RP_ID, "post", "RS256", true),
        (SPA_ID, "none", "RS256", false),
        (ES_ID, "basic", "ES256", false),
    ] {
        let report = tokio::task::block_in_place(|| run_rp(&server, client, auth, alg, par));
        assert_eq!(report["ok"], true, "{client} {auth}");
        assert_eq!(report["id_token_alg"], alg);
        assert_eq!(report["refresh"], true);
        assert_eq!(report["logout"], true);
        assert_eq!(report["par"], par);
        assert_eq!(report["forged_iss_refused"], true, "{client} {auth}");
        assert_eq!(report["code_replay_refused"], true);
        assert_eq!(report["amr"], serde_json::json!(["pwd"]), "a password alone");
        assert_eq!(report["acr"], gatehouse::flow::acr::ACR_SINGLE);
        if auth != "none" {
            assert_eq!(report["introspection"], true);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openid_client_sees_the_acr_it_asked_for_and_the_factors_used_in_amr() {
    use gatehouse::flow::acr::ACR_MFA;
    let server = TestServer::start().await;
    // Alice has an authenticator app; at the RP's sign-in she types a recovery code instead.
    let enrolled = mfa::enrol_on_account(&browser::Browser::new(), &server, ALICE, ALICE_PASSWORD).await;
    let extra = [
        ("ACR_VALUES", ACR_MFA),
        ("RECOVERY_CODE", enrolled.recovery_codes[0].as_str()),
    ];
    let report = tokio::task::block_in_place(|| run_rp_with(&server, RP_ID, "basic", "RS256", false, &extra));
    assert_eq!(report["ok"], true);
    assert_eq!(
        report["acr"], ACR_MFA,
        "acr_values asked for it; the ID token says it was met"
    );
    assert_eq!(
        report["amr"],
        serde_json::json!(["pwd", "otp", "mfa"]),
        "the password and the code"
    );
}
