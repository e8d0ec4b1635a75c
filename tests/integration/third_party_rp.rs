//! panva's `openid-client` (a certified, strict relying party that no one here wrote) runs the
//! client-app life cycle against Gatehouse: tests/peers/openid-client/rp.mjs.
use std::process::Command;

use super::harness::*;

fn run_rp(server: &TestServer, client_id: &str, auth: &str, alg: &str, par: bool) -> serde_json::Value {
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
        if auth != "none" {
            assert_eq!(report["introspection"], true);
        }
    }
}
