//! Every branch of the broker's decision, against an in-memory database and a mock upstream:
//! no node, no network.
use sea_orm::{ConnectionTrait, DatabaseConnection};

use super::resolve::{resolve, Question, Resolution};
use super::*;
use crate::config::ProviderConfig;
use crate::store::users::NewUser;
use crate::upstream::mock::MockUpstream;
use crate::upstream::{Arrival, Upstream};

async fn db() -> DatabaseConnection {
    crate::store::memory_db().await
}

async fn local(db: &DatabaseConnection, username: &str, email: &str, verified: bool) -> User {
    users::create(
        db,
        NewUser {
            username: username.into(),
            email: Some(email.into()),
            email_verified: verified,
            name: None,
            password: None,
            groups: vec![],
        },
    )
    .await
    .unwrap()
}

/// The identity the mock upstream signs in, as the broker receives it after the callback.
async fn arriving(upstream: &MockUpstream) -> ExternalIdentity {
    let callback = [("state".to_string(), "ix-1".to_string())].into_iter().collect();
    let finished = upstream.finish(&callback, Arrival::Browser(None)).await.unwrap();
    assert_eq!(finished.interaction_id, "ix-1");
    finished.result.unwrap()
}

fn trusted(linking: LinkingPolicy) -> impl FnOnce(&mut ProviderConfig, &mut ExternalIdentity) {
    move |p, id| {
        p.linking = linking;
        p.trust_email = true;
        id.email = Some("alice@example.com".into());
        id.email_verified = true;
        id.username = Some("alice".into());
    }
}

async fn decision(db: &DatabaseConnection, upstream: &MockUpstream) -> LinkDecision {
    let id = arriving(upstream).await;
    decide(db, upstream.config(), &id).await.unwrap()
}

#[tokio::test]
async fn a_linked_identity_returns_to_its_user() {
    let db = db().await;
    let alice = local(&db, "alice", "alice@example.com", true).await;
    let up = MockUpstream::new("corp", "s1", trusted(LinkingPolicy::Create));
    federated::link(&db, "corp", "s1", &alice.id, &serde_json::json!({}))
        .await
        .unwrap();
    assert!(matches!(decision(&db, &up).await, LinkDecision::Returning(u) if u.id == alice.id));
    let id = arriving(&up).await;
    assert!(matches!(resolve(&db, up.config(), &id).await.unwrap(), Resolution::SignedIn(u) if u.id == alice.id));
}

#[tokio::test]
async fn a_linked_identity_of_a_disabled_account_is_refused() {
    let db = db().await;
    let alice = local(&db, "alice", "alice@example.com", true).await;
    federated::link(&db, "corp", "s1", &alice.id, &serde_json::json!({}))
        .await
        .unwrap();
    db.execute_unprepared(&format!("UPDATE users SET disabled = true WHERE id = '{}'", alice.id))
        .await
        .unwrap();
    let up = MockUpstream::new("corp", "s1", trusted(LinkingPolicy::Create));
    assert!(matches!(
        decision(&db, &up).await,
        LinkDecision::Refuse(Refusal::AccountDisabled)
    ));
}

#[tokio::test]
async fn a_linked_identity_whose_account_was_deleted_is_refused() {
    let db = db().await;
    federated::link(&db, "corp", "s1", "deleted-user-id", &serde_json::json!({}))
        .await
        .unwrap();
    let up = MockUpstream::new("corp", "s1", trusted(LinkingPolicy::Create));
    assert!(matches!(
        decision(&db, &up).await,
        LinkDecision::Refuse(Refusal::AccountGone)
    ));
    let id = arriving(&up).await;
    let refused = resolve(&db, up.config(), &id).await.unwrap();
    assert!(matches!(refused, Resolution::Refused(Refusal::AccountGone)));
}

#[tokio::test]
async fn a_verified_email_on_both_sides_links_silently_when_the_policy_allows() {
    let db = db().await;
    let alice = local(&db, "alice", "alice@example.com", true).await;
    let up = MockUpstream::new("corp", "s1", trusted(LinkingPolicy::LinkByVerifiedEmail));
    let decided = decision(&db, &up).await;
    assert!(
        matches!(&decided, LinkDecision::LinkVerifiedEmail(u) if u.id == alice.id),
        "{decided:?}"
    );
    let id = arriving(&up).await;
    assert!(matches!(resolve(&db, up.config(), &id).await.unwrap(), Resolution::SignedIn(u) if u.id == alice.id));
    assert!(
        federated::find(&db, "corp", "s1").await.unwrap().is_some(),
        "the link is recorded"
    );
}

#[tokio::test]
async fn an_unverified_local_email_is_never_linked_silently() {
    let db = db().await;
    local(&db, "mallory", "alice@example.com", false).await;
    let up = MockUpstream::new("corp", "s1", trusted(LinkingPolicy::LinkByVerifiedEmail));
    assert!(matches!(
        decision(&db, &up).await,
        LinkDecision::AskToLink { may_create: true }
    ));
}

#[tokio::test]
async fn an_untrusted_or_unverified_upstream_email_asks_to_link() {
    let db = db().await;
    local(&db, "alice", "alice@example.com", true).await;
    let untrusted = MockUpstream::new("corp", "s1", |p, id| {
        trusted(LinkingPolicy::LinkByVerifiedEmail)(p, id);
        p.trust_email = false;
    });
    assert!(matches!(
        decision(&db, &untrusted).await,
        LinkDecision::AskToLink { may_create: true }
    ));
    let unverified = MockUpstream::new("corp", "s1", |p, id| {
        trusted(LinkingPolicy::LinkByVerifiedEmail)(p, id);
        id.email_verified = false;
    });
    assert!(matches!(
        decision(&db, &unverified).await,
        LinkDecision::AskToLink { may_create: true }
    ));
}

#[tokio::test]
async fn the_create_policy_asks_before_using_an_existing_accounts_email() {
    let db = db().await;
    local(&db, "alice", "alice@example.com", true).await;
    let up = MockUpstream::new("corp", "s1", trusted(LinkingPolicy::Create));
    assert!(matches!(
        decision(&db, &up).await,
        LinkDecision::AskToLink { may_create: true }
    ));
    let id = arriving(&up).await;
    let asked = resolve(&db, up.config(), &id).await.unwrap();
    assert!(matches!(asked, Resolution::Ask(Question::Link { may_create: true })));
}

#[tokio::test]
async fn link_only_asks_to_link_without_offering_a_new_account() {
    let db = db().await;
    local(&db, "alice", "alice@example.com", false).await;
    let up = MockUpstream::new("corp", "s1", trusted(LinkingPolicy::LinkOnly));
    assert!(matches!(
        decision(&db, &up).await,
        LinkDecision::AskToLink { may_create: false }
    ));
}

#[tokio::test]
async fn link_only_refuses_a_person_without_an_account() {
    let db = db().await;
    let up = MockUpstream::new("corp", "s1", trusted(LinkingPolicy::LinkOnly));
    assert!(matches!(
        decision(&db, &up).await,
        LinkDecision::Refuse(Refusal::LinkOnly)
    ));
    assert_eq!(profile::may_create(up.config()), Err(Refusal::LinkOnly));
}

#[tokio::test]
async fn a_missing_email_asks_for_one() {
    let db = db().await;
    let up = MockUpstream::new("corp", "s1", |p, id| {
        trusted(LinkingPolicy::Create)(p, id);
        id.email = None;
    });
    assert!(matches!(
        decision(&db, &up).await,
        LinkDecision::ReviewProfile(ProfileProblem::MissingEmail)
    ));
}

#[tokio::test]
async fn an_unusable_username_asks_for_another() {
    let db = db().await;
    // Every source of a suggestion (username, email, provider-subject) mixes scripts.
    let up = MockUpstream::new("corp", "\u{430}lice", |p, id| {
        trusted(LinkingPolicy::Create)(p, id);
        id.username = Some("\u{430}lice".into());
        id.email = Some("\u{430}lice@example.com".into());
    });
    assert!(matches!(
        decision(&db, &up).await,
        LinkDecision::ReviewProfile(ProfileProblem::InvalidUsername)
    ));
}

#[tokio::test]
async fn a_taken_username_asks_for_another() {
    let db = db().await;
    local(&db, "alice", "someone-else@example.com", true).await;
    let up = MockUpstream::new("corp", "s1", |p, id| {
        trusted(LinkingPolicy::Create)(p, id);
        id.email = Some("alice@corp.example".into());
    });
    assert!(matches!(
        decision(&db, &up).await,
        LinkDecision::ReviewProfile(ProfileProblem::UsernameTaken)
    ));
}

#[tokio::test]
async fn a_new_person_gets_an_account_with_the_providers_verified_email() {
    let db = db().await;
    let up = MockUpstream::new("corp", "s1", trusted(LinkingPolicy::Create));
    assert!(matches!(decision(&db, &up).await, LinkDecision::Create(ref n) if n.email_verified));
    let id = arriving(&up).await;
    let Resolution::SignedIn(user) = resolve(&db, up.config(), &id).await.unwrap() else {
        panic!("signed in")
    };
    assert_eq!(user.username, "alice");
    assert!(user.email_verified);
    // The same identity returns to the same account next time.
    assert!(matches!(decision(&db, &up).await, LinkDecision::Returning(u) if u.id == user.id));
}

#[tokio::test]
async fn the_profile_answer_is_checked_before_an_account_is_made() {
    let db = db().await;
    local(&db, "taken", "taken@example.com", true).await;
    let up = MockUpstream::new("corp", "s1", trusted(LinkingPolicy::Create));
    let id = arriving(&up).await;
    let answer = |username: &str, email: &str, name: &str| profile::ProfileAnswer {
        username: username.into(),
        email: email.into(),
        name: name.into(),
    };
    let cases = [
        (answer("bob", "not an email", ""), "invalid email address"),
        (answer("bob", "bob@example.com", &"n".repeat(200)), "name longer"),
        (answer("taken", "bob@example.com", ""), "username taken"),
        (answer("bob", "taken@example.com", ""), "email taken"),
        (answer("b@b", "bob@example.com", ""), "invalid username"),
    ];
    for (a, expected) in cases {
        let e = profile::create_from(&db, up.config(), &id, &a).await.unwrap_err();
        assert!(e.to_string().starts_with(expected), "{a:?}: {e}");
    }
    let user = profile::create_from(&db, up.config(), &id, &answer("bob", "Bob@Example.com", " Bob "))
        .await
        .unwrap();
    assert_eq!(
        (user.username.as_str(), user.email.as_deref()),
        ("bob", Some("bob@example.com"))
    );
    assert_eq!(user.name.as_deref(), Some("Bob"));
    assert!(!user.email_verified, "an address the person typed is not verified");
}

#[tokio::test]
async fn linking_an_identity_is_written_to_the_audit_trail_with_its_provider() {
    use crate::store::audit::{list, AuditQuery};
    let db = db().await;
    let alice = local(&db, "alice", "alice@example.com", true).await;
    let up = MockUpstream::new("corp", "s1", trusted(LinkingPolicy::Create));
    let id = arriving(&up).await;
    link_existing(&db, &id, &alice).await.unwrap();
    let fresh = MockUpstream::new("social", "s2", |_, id| id.username = Some("newcomer".into()));
    let id = arriving(&fresh).await;
    let made = create_and_link(&db, &id, new_user_from(fresh.config(), &id, None, None))
        .await
        .unwrap();
    let q = AuditQuery {
        kind: Some("identity.link".into()),
        limit: 10,
        ..Default::default()
    };
    let rows = list(&db, &q).await.unwrap();
    // Both links can fall in the same millisecond, where the time-ordered ids tie: compare
    // the events, not their order.
    let mut seen: Vec<_> = rows
        .iter()
        .map(|r| (r.provider.as_deref(), r.user_id.as_deref(), r.actor_kind.as_str()))
        .collect();
    seen.sort();
    assert_eq!(
        seen,
        [
            (Some("corp"), Some(alice.id.as_str()), "person"),
            (Some("social"), Some(made.id.as_str()), "person")
        ]
    );
}
