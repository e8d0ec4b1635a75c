//! Operating Gatehouse: readiness.
use reqwest::StatusCode;
use sea_orm::ConnectionTrait;
use serde_json::Value;

use super::harness::*;

async fn readyz(server: &TestServer) -> (StatusCode, Value) {
    let res = reqwest::get(server.url("/readyz")).await.unwrap();
    (res.status(), res.json().await.unwrap())
}

#[tokio::test]
async fn readyz_names_a_pending_or_unknown_migration() {
    let server = TestServer::start().await;
    let (status, body) = readyz(&server).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    for check in ["database", "migrations", "signing_keys"] {
        assert_eq!(body[check]["ok"], true, "{check}: {body}");
    }

    // The newest migration forgotten: this build expects a schema the database lacks.
    let db = &server.state.db;
    let newest = {
        use migration::MigratorTrait;
        migration::Migrator::migrations().last().unwrap().name().to_string()
    };
    db.execute_unprepared(&format!("DELETE FROM seaql_migrations WHERE version = '{newest}'"))
        .await
        .unwrap();
    let (status, body) = readyz(&server).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body["migrations"]["ok"], false);
    assert!(
        body["migrations"]["problem"].as_str().unwrap().contains(&newest),
        "{body}"
    );
    assert_eq!(body["database"]["ok"], true);
    // /healthz (liveness) stays up: restarting would not help.
    assert_eq!(
        reqwest::get(server.url("/healthz")).await.unwrap().status(),
        StatusCode::OK
    );

    // A migration this build does not know: a newer node migrated the schema.
    db.execute_unprepared(&format!(
        "INSERT INTO seaql_migrations (version, applied_at) VALUES ('{newest}', 0), ('m29991231_000099_future', 0)"
    ))
    .await
    .unwrap();
    let (status, body) = readyz(&server).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert!(
        body["migrations"]["problem"]
            .as_str()
            .unwrap()
            .contains("m29991231_000099_future"),
        "{body}"
    );
}
