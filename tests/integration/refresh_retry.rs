//! A client whose refresh answer was lost (a crash after the rotation, a dropped connection)
//! may present the rotated token once more, shortly after: it gets the same successor again.
//! Every other reuse still ends the whole grant.
use reqwest::StatusCode;
use serde_json::Value;

use super::harness::browser::Browser;
use super::harness::client_app::{post_token, refresh, tokens_for, userinfo_status};
use super::harness::*;

async fn server_with_window(secs: u64) -> TestServer {
    TestServer::start_with(|c| {
        extra_clients(c, None);
        c.lifetimes.refresh_retry_window = secs;
    })
    .await
}

/// Signs in and refreshes once; returns the first token and the (lost) answer to its refresh.
async fn rotated_once(server: &TestServer) -> (String, Value) {
    let first = tokens_for(server, &Browser::new(), REFRESH_APP, "openid profile").await;
    let r1 = first["refresh_token"].as_str().expect("refresh token").to_owned();
    let (s, lost) = refresh(server, REFRESH_APP, &r1).await;
    assert_eq!(s, StatusCode::OK, "{lost}");
    (r1, lost)
}

fn rt(v: &Value) -> String {
    v["refresh_token"]
        .as_str()
        .unwrap_or_else(|| panic!("no refresh token: {v}"))
        .to_owned()
}

fn at(v: &Value) -> String {
    v["access_token"]
        .as_str()
        .unwrap_or_else(|| panic!("no access token: {v}"))
        .to_owned()
}

fn refused(res: &(StatusCode, Value)) -> bool {
    res.0 == StatusCode::BAD_REQUEST && res.1["error"] == "invalid_grant"
}

#[tokio::test]
async fn one_retry_within_the_window_returns_the_same_successor_and_the_grant_lives_on() {
    let server = server_with_window(30).await;
    let (r1, lost) = rotated_once(&server).await;

    let retry = refresh(&server, REFRESH_APP, &r1).await;
    assert_eq!(retry.0, StatusCode::OK, "{}", retry.1);
    assert_eq!(rt(&retry.1), rt(&lost), "the very same successor");
    assert_ne!(at(&retry.1), at(&lost), "a new access token");
    assert!(retry.1["id_token"].is_string());
    assert_eq!(retry.1["scope"], "openid profile");
    assert_eq!(userinfo_status(&server, &at(&retry.1)).await, StatusCode::OK);
    // The successor then works as usual, and so does its own successor.
    let next = refresh(&server, REFRESH_APP, &rt(&lost)).await;
    assert_eq!(next.0, StatusCode::OK, "{}", next.1);
    assert_ne!(rt(&next.1), rt(&lost));
    assert_eq!(refresh(&server, REFRESH_APP, &rt(&next.1)).await.0, StatusCode::OK);
}

#[tokio::test]
async fn a_second_retry_revokes_the_whole_grant() {
    let server = server_with_window(30).await;
    let (r1, lost) = rotated_once(&server).await;
    let retry = refresh(&server, REFRESH_APP, &r1).await;
    assert_eq!(retry.0, StatusCode::OK, "the first retry is answered");

    assert!(refused(&refresh(&server, REFRESH_APP, &r1).await));
    assert!(
        refused(&refresh(&server, REFRESH_APP, &rt(&lost)).await),
        "successor revoked"
    );
    assert_eq!(userinfo_status(&server, &at(&retry.1)).await, StatusCode::UNAUTHORIZED);
    assert_eq!(userinfo_status(&server, &at(&lost)).await, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_retry_after_the_window_revokes_the_whole_grant() {
    let server = server_with_window(1).await;
    let (r1, lost) = rotated_once(&server).await;
    // Whole-second timestamps: two seconds are past a one-second window whatever the rounding.
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;

    assert!(refused(&refresh(&server, REFRESH_APP, &r1).await));
    assert!(
        refused(&refresh(&server, REFRESH_APP, &rt(&lost)).await),
        "successor revoked"
    );
    assert_eq!(userinfo_status(&server, &at(&lost)).await, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_retry_after_the_successor_was_used_revokes_the_whole_grant() {
    let server = server_with_window(30).await;
    let (r1, lost) = rotated_once(&server).await;
    let next = refresh(&server, REFRESH_APP, &rt(&lost)).await;
    assert_eq!(next.0, StatusCode::OK, "{}", next.1);

    assert!(refused(&refresh(&server, REFRESH_APP, &r1).await));
    assert!(
        refused(&refresh(&server, REFRESH_APP, &rt(&next.1)).await),
        "newest revoked"
    );
    assert_eq!(userinfo_status(&server, &at(&next.1)).await, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn with_the_window_off_any_reuse_revokes_the_whole_grant() {
    let server = server_with_window(0).await;
    let (r1, lost) = rotated_once(&server).await;

    assert!(refused(&refresh(&server, REFRESH_APP, &r1).await));
    assert!(refused(&refresh(&server, REFRESH_APP, &rt(&lost)).await));
}

#[tokio::test]
async fn a_retry_that_asks_for_a_scope_beyond_the_successor_is_refused_and_keeps_its_chance() {
    let server = server_with_window(30).await;
    let first = tokens_for(&server, &Browser::new(), REFRESH_APP, "openid profile").await;
    let r1 = rt(&first);
    let narrow = [
        ("grant_type", "refresh_token"),
        ("refresh_token", r1.as_str()),
        ("scope", "openid"),
    ];
    let (s, lost) = post_token(&server, REFRESH_APP, &narrow).await;
    assert_eq!((s, lost["scope"].as_str()), (StatusCode::OK, Some("openid")));

    let wide = [
        ("grant_type", "refresh_token"),
        ("refresh_token", r1.as_str()),
        ("scope", "openid profile"),
    ];
    let (s, body) = post_token(&server, REFRESH_APP, &wide).await;
    assert_eq!(
        (s, body["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_scope"))
    );
    // The same request as the lost one is still answered with the same successor.
    let (s, retry) = post_token(&server, REFRESH_APP, &narrow).await;
    assert_eq!(s, StatusCode::OK, "{retry}");
    assert_eq!(rt(&retry), rt(&lost));
}

#[tokio::test]
async fn the_same_token_presented_twice_at_once_gets_one_successor_for_both() {
    let server = server_with_window(30).await;
    let first = tokens_for(&server, &Browser::new(), REFRESH_APP, "openid").await;
    let r1 = rt(&first);
    let (a, b) = tokio::join!(refresh(&server, REFRESH_APP, &r1), refresh(&server, REFRESH_APP, &r1));
    assert_eq!((a.0, b.0), (StatusCode::OK, StatusCode::OK), "{} {}", a.1, b.1);
    assert_eq!(rt(&a.1), rt(&b.1));
    assert_eq!(refresh(&server, REFRESH_APP, &rt(&a.1)).await.0, StatusCode::OK);
}
