//! The migrations themselves: every one can be undone and applied again, on SQLite and (when
//! `TEST_POSTGRES_URL` is set) on PostgreSQL.
use migration::{Migrator, MigratorTrait};

#[tokio::test]
async fn migrations_go_down_and_up_again() {
    let dir = tempfile::tempdir().unwrap();
    let url = super::harness::database_url(dir.path()).await;
    let db = sea_orm::Database::connect(&url).await.unwrap();
    Migrator::up(&db, None).await.unwrap();
    Migrator::down(&db, None).await.unwrap();
    assert!(Migrator::get_applied_migrations(&db).await.unwrap().is_empty());
    Migrator::up(&db, None).await.unwrap();
    assert_eq!(
        Migrator::get_applied_migrations(&db).await.unwrap().len(),
        Migrator::migrations().len()
    );
}

/// Nodes starting together on an empty PostgreSQL database take turns migrating and seeding
/// (an advisory lock), so every one of them starts. Runs on a cluster of its own.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn four_nodes_starting_at_once_on_an_empty_postgresql_database_all_start() {
    use gatehouse::store::entities::signing_key;
    use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};

    let Some(cluster) = super::harness::pg_cluster::Cluster::start() else {
        eprintln!("SKIPPED: PostgreSQL is not installed (scripts/test installs it)");
        return;
    };
    let url = cluster.url("postgres");
    let mut nodes = Vec::new();
    for _ in 0..4 {
        let url = url.clone();
        nodes.push(tokio::spawn(async move {
            let mut prepared = super::harness::TestServer::prepare().await;
            prepared.config.database_url = url;
            let state = gatehouse::state::AppState::build(prepared.config).await?;
            gatehouse::app::router(&state).await.map(|_| state)
        }));
    }
    let mut started = Vec::new();
    for node in nodes {
        started.push(node.await.unwrap().map_err(|e| format!("{e:#}")));
    }
    let failures: Vec<_> = started.iter().filter_map(|r| r.as_ref().err()).collect();
    assert!(failures.is_empty(), "every node starts: {failures:#?}");

    let db = &started[0].as_ref().unwrap().db;
    assert_eq!(
        Migrator::get_applied_migrations(db).await.unwrap().len(),
        Migrator::migrations().len()
    );
    let active_keys = signing_key::Entity::find()
        .filter(signing_key::Column::RetiredAt.is_null())
        .count(db)
        .await
        .unwrap();
    assert_eq!(active_keys, 2, "one RS256 and one ES256 key, not one pair per node");
}
