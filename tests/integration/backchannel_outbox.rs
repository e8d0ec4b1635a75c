//! Back-channel logout notifications live in the database: one stored while the client's
//! endpoint is down survives a restart of Gatehouse, and two nodes on one database deliver each
//! notification once.
use std::time::Duration;

use reqwest::StatusCode;

use super::harness::browser::Browser;
use super::harness::client_app::{jwt_part, tokens_for};
use super::harness::logout_receiver::LogoutReceiver;
use super::harness::*;
use gatehouse::state::AppState;
use gatehouse::store::backchannel_outbox::{self as outbox, NewNotification};

/// A loopback address nothing listens on (yet).
async fn free_addr() -> std::net::SocketAddr {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    l.local_addr().unwrap()
}

#[tokio::test]
async fn a_logout_stored_while_the_client_is_down_is_delivered_once_after_a_restart() {
    let receiver_addr = free_addr().await;
    let bc = format!("http://{receiver_addr}/bc");
    let node_a = TestServer::start_with(|c| extra_clients(c, Some(bc))).await;
    let browser = Browser::new();
    let tokens = tokens_for(&node_a, &browser, REFRESH_APP, "openid").await;
    let id_token = tokens["id_token"].as_str().unwrap();
    let sid = jwt_part(id_token, 1)["sid"].as_str().unwrap().to_owned();
    let res = browser
        .get(&node_a.url(&format!("/logout?id_token_hint={id_token}")))
        .await;
    assert_eq!(res.status(), StatusCode::OK);

    // The first attempt fails (nothing listens); the notification waits in the database.
    let db = node_a.state.db.clone();
    let mut waiting = Vec::new();
    for _ in 0..250 {
        waiting = outbox::pending(&db).await.unwrap();
        if waiting.iter().any(|n| n.attempts >= 1 && n.claimed_by.is_none()) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(waiting.len(), 1, "{waiting:?}");
    assert!(waiting[0].attempts >= 1 && waiting[0].attempts < 3, "{waiting:?}");
    assert_eq!(waiting[0].sid, sid);

    // Gatehouse goes down; the client comes back; a new node starts on the same database.
    let stopped = node_a.stop().await;
    let receiver = LogoutReceiver::start_on(receiver_addr, Duration::ZERO).await;
    let node_b = stopped.restart().await;
    assert!(
        eventually(10, || !receiver.sids().is_empty()).await,
        "delivered after the restart"
    );
    // Later polls and retries must not send it again.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(receiver.sids(), vec![sid]);
    assert!(outbox::pending(&node_b.state.db).await.unwrap().is_empty());
}

#[tokio::test]
async fn two_nodes_on_one_database_deliver_each_logout_exactly_once() {
    let addr = free_addr().await;
    let receiver = LogoutReceiver::start_on(addr, Duration::from_millis(30)).await;
    let bc = format!("http://{addr}/bc");
    let node_a = TestServer::start_with(|c| extra_clients(c, Some(bc.clone()))).await;
    let node_b = AppState::build(node_a.state.config.clone())
        .await
        .expect("a second node on the same database");

    // Stored straight into the outbox, as many nodes' logouts would be: both nodes race for them.
    let sids: Vec<String> = (0..24).map(|i| format!("sid-{i:02}")).collect();
    for sid in &sids {
        outbox::enqueue(
            &node_a.state.db,
            NewNotification {
                client_id: REFRESH_APP.into(),
                uri: bc.clone(),
                alg: "RS256".into(),
                sub: "someone".into(),
                sid: sid.clone(),
            },
        )
        .await
        .unwrap();
    }
    assert!(
        eventually(30, || receiver.sids().len() >= sids.len()).await,
        "all delivered: {:?}",
        receiver.sids()
    );
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let mut got = receiver.sids();
    got.sort();
    assert_eq!(got, sids, "each once, none twice");
    assert!(outbox::pending(&node_b.db).await.unwrap().is_empty());
}

#[tokio::test]
async fn a_claim_goes_to_one_node_and_passes_to_another_only_when_its_lease_lapses() {
    // A database without a running node, so only the claims below touch the row.
    let prepared = TestServer::prepare().await;
    let db = &gatehouse::store::connect(&prepared.config.database_url).await.unwrap();
    gatehouse::store::migrate(db).await.unwrap();
    let id = outbox::enqueue(
        db,
        NewNotification {
            client_id: RP_ID.into(),
            uri: "http://127.0.0.1:9/bc".into(),
            alg: "RS256".into(),
            sub: "someone".into(),
            sid: "s".into(),
        },
    )
    .await
    .unwrap();
    let due = outbox::pending(db).await.unwrap()[0].due_at_ms;
    let t = due + 3_600_000;
    assert!(
        !outbox::claim(db, &id, "a", due - 1, 1_000).await.unwrap(),
        "not before it is due"
    );
    assert!(
        outbox::claim(db, &id, "a", t, 1_000).await.unwrap(),
        "the first node wins"
    );
    assert!(
        !outbox::claim(db, &id, "b", t, 1_000).await.unwrap(),
        "the second loses"
    );
    assert!(
        !outbox::claim(db, &id, "b", t + 999, 1_000).await.unwrap(),
        "still held within the lease"
    );
    assert!(
        outbox::claim(db, &id, "b", t + 1_000, 1_000).await.unwrap(),
        "a crashed node's claim lapses"
    );
    // The node that lost its claim can no longer settle the notification; the holder can.
    assert!(!outbox::delivered(db, &id, "a").await.unwrap());
    outbox::attempt_failed(db, &id, "b", Some(t + 5_000)).await.unwrap();
    let row = outbox::pending(db).await.unwrap().remove(0);
    assert_eq!((row.attempts, row.due_at_ms, row.claimed_by), (1, t + 5_000, None));
    assert!(outbox::claim(db, &id, "a", t + 5_000, 1_000).await.unwrap());
    assert!(outbox::delivered(db, &id, "a").await.unwrap());
    assert!(outbox::pending(db).await.unwrap().is_empty());
}
