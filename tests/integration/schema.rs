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
