//! Local accounts as the database holds them.
use sea_orm::{EntityTrait, PaginatorTrait};

use super::TestServer;
use gatehouse::store::entities::{federated_identity, user};

/// How many local users and links to upstream identities there are.
pub async fn counts(server: &TestServer) -> (u64, u64) {
    (
        user::Entity::find().count(&server.state.db).await.unwrap(),
        federated_identity::Entity::find()
            .count(&server.state.db)
            .await
            .unwrap(),
    )
}

/// The id of the local account `username`.
pub async fn local_id(server: &TestServer, username: &str) -> String {
    gatehouse::store::users::find_by_username(&server.state.db, username)
        .await
        .unwrap()
        .expect("user")
        .id
}
