//! Local accounts: made through the register page, and as the database holds them.
use reqwest::StatusCode;
use sea_orm::{EntityTrait, PaginatorTrait};

use super::browser::Browser;
use super::client_app::authorize;
use super::urls::query_param;
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

/// Registers an account through the register page, in a new browser, from the client app's
/// sign-in; returns the answer to the form.
pub async fn register(
    server: &TestServer,
    username: &str,
    email: &str,
    name: &str,
    password: &str,
) -> reqwest::Response {
    let browser = Browser::new();
    let login = browser.follow(server, &authorize(server, "")).await;
    let ix = query_param(&login, "interaction").expect("an interaction");
    let page = browser.page(&server.url(&format!("/register?interaction={ix}"))).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.html);
    let csrf = page.field("csrf").expect("csrf");
    browser
        .post(
            &server.url("/register"),
            &[
                ("interaction", &ix),
                ("csrf", &csrf),
                ("username", username),
                ("email", email),
                ("name", name),
                ("password", password),
                ("password_confirm", password),
            ],
        )
        .await
}
