//! Mail for real: a Gatehouse with `[smtp]` pointing at aiosmtpd on loopback (harness::smtp).
//! Password reset, address verification, email and password changes: the mails are read from
//! the SMTP server's Maildir and their links followed, as a person would.
use reqwest::StatusCode;
use sea_orm::sea_query::Expr;
use sea_orm::{EntityTrait, PaginatorTrait};

use super::harness::accounts::register;
use super::harness::browser::{location, unescape, Browser, Page};
use super::harness::client_app::{authorize, prompt_none_error, refresh, signed_in, tokens_for};
use super::harness::smtp::{free_port, smtp_config, MailServer};
use super::harness::urls::query_param;
use super::harness::*;
use gatehouse::store::entities::{email_token, mail_outbox};
use gatehouse::store::users;

const ALICE_EMAIL: &str = "alice@example.com";
const NEW_PASSWORD: &str = "violet kettle orbit drum";

async fn server_with(mail: &MailServer) -> TestServer {
    let smtp = mail.config();
    TestServer::start_with(move |c| {
        c.smtp = Some(smtp);
        c.registration.enabled = true;
        extra_clients(c, None);
    })
    .await
}

/// Asks for a reset link for `email` on the forgot page, in `browser`.
async fn ask_for_reset(browser: &Browser, server: &TestServer, email: &str) -> Page {
    let form = browser.page(&server.url("/login/forgot")).await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.html);
    let res = browser
        .post(
            &server.url("/login/forgot"),
            &[("csrf", &form.field("csrf").expect("csrf")), ("email", email)],
        )
        .await;
    Page {
        status: res.status(),
        html: res.text().await.unwrap(),
    }
}

/// Opens the reset link and sets `password`; the answer to the form.
async fn reset_with(browser: &Browser, link: &str, password: &str) -> Page {
    let form = browser.page(link).await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.html);
    let res = browser
        .post(
            link.split('?').next().unwrap(),
            &[
                ("csrf", &form.field("csrf").expect("csrf")),
                ("token", &form.field("token").expect("token")),
                ("password", password),
                ("password_confirm", password),
            ],
        )
        .await;
    Page {
        status: res.status(),
        html: res.text().await.unwrap(),
    }
}

/// Whether `username` can sign in with `password` in a new browser.
async fn signs_in_with(server: &TestServer, username: &str, password: &str) -> bool {
    let b = Browser::new();
    let login = b.follow(server, &authorize(server, "")).await;
    let res = b.submit_login(&login, username, password).await;
    res.status() == StatusCode::SEE_OTHER
}

async fn user(server: &TestServer, username: &str) -> users::User {
    users::find_by_username(&server.state.db, username)
        .await
        .unwrap()
        .expect("user")
}

#[tokio::test]
async fn forgot_password_mails_a_link_that_sets_a_new_password_and_ends_every_session() {
    let mail = MailServer::start().await;
    let server = server_with(&mail).await;
    // Alice is signed in on her phone, whose app holds a refresh token.
    let phone = Browser::new();
    let tokens = tokens_for(&server, &phone, REFRESH_APP, "openid").await;
    let refresh_token = tokens["refresh_token"].as_str().expect("refresh token").to_owned();

    // The login page offers the way in.
    let laptop = Browser::new();
    let login = laptop
        .page(&laptop.follow(&server, &authorize(&server, "")).await)
        .await;
    assert!(login.html.contains("/login/forgot?interaction="), "{}", login.html);

    let answer = ask_for_reset(&laptop, &server, ALICE_EMAIL).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert!(unescape(&answer.html).contains("Check your inbox"), "{}", answer.html);
    let message = mail.latest(ALICE_EMAIL, "Reset your password").await;
    assert!(message.from.contains("sso@gatehouse.test"), "{}", message.from);
    assert!(
        unescape(&message.html).contains(&format!("href=\"{}", server.url("/login/reset?token="))),
        "HTML part too: {}",
        message.html
    );
    let link = message.link("/login/reset?token=").expect("a reset link in the mail");
    assert!(link.starts_with(&server.issuer), "{link}");

    let done = reset_with(&laptop, &link, NEW_PASSWORD).await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.html);
    assert!(done.html.contains("Password changed"), "{}", done.html);

    assert!(
        !signs_in_with(&server, ALICE, ALICE_PASSWORD).await,
        "the old password is gone"
    );
    assert!(signs_in_with(&server, ALICE, NEW_PASSWORD).await, "the new one works");
    assert_eq!(
        prompt_none_error(&phone, &server).await.as_deref(),
        Some("login_required"),
        "the phone's session ended"
    );
    let (status, body) = refresh(&server, REFRESH_APP, &refresh_token).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["error"], "invalid_grant");

    let notice = mail.latest(ALICE_EMAIL, "password was changed").await;
    assert!(notice.text.contains("/login/forgot"), "{}", notice.text);

    // The link worked once.
    let again = laptop.page(&link).await;
    assert_eq!(again.status, StatusCode::BAD_REQUEST);
    assert!(again.html.contains("does not work"), "{}", again.html);
}

#[tokio::test]
async fn the_forgot_password_answer_is_the_same_for_unknown_addresses_and_sends_them_nothing() {
    let mail = MailServer::start().await;
    let server = server_with(&mail).await;
    let browser = Browser::new();
    let known = ask_for_reset(&browser, &server, ALICE_EMAIL).await;
    let unknown = ask_for_reset(&browser, &server, "nobody@example.com").await;
    assert_eq!(known.status, unknown.status);
    // The pages differ only by the address typed (no CSRF token is on them).
    assert_eq!(
        known.html.replace(ALICE_EMAIL, "ADDRESS"),
        unknown.html.replace("nobody@example.com", "ADDRESS")
    );
    mail.wait_for(ALICE_EMAIL, 1, 10).await;
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    assert_eq!(mail.count_to("nobody@example.com"), 0, "no mail for an unknown address");
    assert_eq!(mail.messages().len(), 1);
}

#[tokio::test]
async fn reset_links_expire_and_work_only_for_their_own_token() {
    let mail = MailServer::start().await;
    let server = server_with(&mail).await;
    let browser = Browser::new();
    ask_for_reset(&browser, &server, ALICE_EMAIL).await;
    let link = mail
        .latest(ALICE_EMAIL, "Reset")
        .await
        .link("/login/reset?token=")
        .unwrap();

    // A made-up or altered token does nothing.
    let forged = browser.page(&format!("{link}x")).await;
    assert_eq!(forged.status, StatusCode::BAD_REQUEST);

    // Minutes later the link has expired.
    email_token::Entity::update_many()
        .col_expr(email_token::Column::ExpiresAt, Expr::value(gatehouse::store::now() - 1))
        .exec(&server.state.db)
        .await
        .unwrap();
    let expired = browser.page(&link).await;
    assert_eq!(expired.status, StatusCode::BAD_REQUEST);
    assert!(
        expired.html.contains("/login/forgot"),
        "offers a new link: {}",
        expired.html
    );
    let token = query_param(&link, "token").unwrap();
    let csrf = ask_csrf(&browser, &server).await;
    let res = browser
        .post(
            &server.url("/login/reset"),
            &[
                ("csrf", &csrf),
                ("token", &token),
                ("password", NEW_PASSWORD),
                ("password_confirm", NEW_PASSWORD),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST, "an expired link sets nothing");
    assert!(signs_in_with(&server, ALICE, ALICE_PASSWORD).await);

    // Only the newest link counts.
    ask_for_reset(&browser, &server, ALICE_EMAIL).await;
    mail.wait_for(ALICE_EMAIL, 2, 10).await;
    ask_for_reset(&browser, &server, ALICE_EMAIL).await;
    let third = mail.wait_for(ALICE_EMAIL, 3, 10).await;
    let older = third[1].link("/login/reset?token=").unwrap();
    let newest = third[2].link("/login/reset?token=").unwrap();
    assert_ne!(older, newest);
    assert_eq!(browser.page(&older).await.status, StatusCode::BAD_REQUEST);
    assert_eq!(browser.page(&newest).await.status, StatusCode::OK);
}

/// A CSRF token of `browser`'s session.
async fn ask_csrf(browser: &Browser, server: &TestServer) -> String {
    browser.page(&server.url("/login/forgot")).await.field("csrf").unwrap()
}

#[tokio::test]
async fn a_refused_new_password_keeps_the_reset_link_usable() {
    let mail = MailServer::start().await;
    let server = server_with(&mail).await;
    let browser = Browser::new();
    ask_for_reset(&browser, &server, ALICE_EMAIL).await;
    let link = mail
        .latest(ALICE_EMAIL, "Reset")
        .await
        .link("/login/reset?token=")
        .unwrap();
    let weak = reset_with(&browser, &link, "password").await;
    assert_eq!(weak.status, StatusCode::BAD_REQUEST);
    assert!(unescape(&weak.html).contains("most commonly used"), "{}", weak.html);
    let done = reset_with(&browser, &link, NEW_PASSWORD).await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.html);
}

#[tokio::test]
async fn reset_requests_are_throttled_per_address_and_per_client_address() {
    let mail = MailServer::start().await;
    let smtp = mail.config();
    let server = TestServer::start_with(move |c| {
        c.smtp = Some(smtp);
        c.limits.reset_per_client.free_attempts = 6;
    })
    .await;
    let browser = Browser::new();
    // Per address: the first three get mail, later ones the same answer and no mail.
    let mut answers = Vec::new();
    for _ in 0..5 {
        answers.push(ask_for_reset(&browser, &server, ALICE_EMAIL).await);
    }
    assert!(answers
        .iter()
        .all(|a| a.status == StatusCode::OK && a.html == answers[0].html));
    mail.wait_for(ALICE_EMAIL, 3, 10).await;
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    assert_eq!(mail.count_to(ALICE_EMAIL), 3, "no mail flood to one inbox");
    // Per client address: the seventh request from this address is refused outright.
    ask_for_reset(&browser, &server, "x1@example.com").await;
    let refused = ask_for_reset(&browser, &server, "x2@example.com").await;
    assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS, "{}", refused.html);
}

#[tokio::test]
async fn mail_queued_while_the_smtp_server_is_down_survives_a_restart_and_goes_out_when_it_is_up() {
    let port = free_port();
    let smtp = smtp_config(port);
    let server = TestServer::start_with(move |c| c.smtp = Some(smtp)).await;
    // The page answers at once although nothing listens on the SMTP port.
    let started = std::time::Instant::now();
    let answer = ask_for_reset(&Browser::new(), &server, ALICE_EMAIL).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
    // It is kept, with the failed attempts counted.
    let db = server.state.db.clone();
    let mut tried = false;
    for _ in 0..100 {
        let rows = mail_outbox::Entity::find().all(&db).await.unwrap();
        if rows.len() == 1 && rows[0].attempts >= 1 && rows[0].last_error.is_some() {
            tried = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(tried, "the failed attempt is recorded and the mail kept");

    // A restart while the mail server is still down loses nothing.
    let stopped = server.stop().await;
    let mail = MailServer::start_on(port).await;
    let server = stopped.restart().await;
    let got = mail.wait_for(ALICE_EMAIL, 1, 30).await;
    assert!(got[0].subject.contains("Reset your password"), "{}", got[0].subject);
    let mut empty = false;
    for _ in 0..50 {
        if mail_outbox::Entity::find().count(&server.state.db).await.unwrap() == 0 {
            empty = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(empty, "a sent mail leaves the outbox");
    assert_eq!(mail.count_to(ALICE_EMAIL), 1, "sent once");
}

#[tokio::test]
async fn a_new_accounts_address_stays_unverified_until_its_link_is_opened_in_its_own_sign_in() {
    let mail = MailServer::start().await;
    let server = server_with(&mail).await;
    let res = register(&server, "carol", "carol@example.com", "Carol", "carol-quiet-lantern").await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert!(!user(&server, "carol").await.email_verified);
    let message = mail.latest("carol@example.com", "Confirm your email address").await;
    let link = message.link("/email/verify?token=").expect("a verification link");

    // Not signed in: asked to sign in first; nothing changes.
    let carol = Browser::new();
    let page = carol.page(&link).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.html.contains("Sign in to confirm"), "{}", page.html);
    assert!(!user(&server, "carol").await.email_verified);

    // Signed in as another account: refused, and the link still works for carol.
    let bob = Browser::new();
    bob.sign_in_as(&server, &authorize(&server, ""), "bob", "bob-password-123")
        .await;
    let page = bob.page(&link).await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert!(page.html.contains("another account"), "{}", page.html);
    assert!(!user(&server, "carol").await.email_verified);
    assert!(
        !user(&server, "bob").await.email_verified,
        "bob's account is untouched too"
    );

    carol
        .sign_in_as(&server, &authorize(&server, ""), "carol", "carol-quiet-lantern")
        .await;
    let page = carol.page(&link).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.html);
    assert!(page.html.contains("carol@example.com"));
    let res = carol
        .post(
            &server.url("/email/verify"),
            &[
                ("csrf", &page.field("csrf").unwrap()),
                ("token", &page.field("token").unwrap()),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(user(&server, "carol").await.email_verified);

    // The link was single-use.
    assert_eq!(carol.page(&link).await.status, StatusCode::BAD_REQUEST);
}

/// Signs alice in to the account page in a new browser.
async fn alice_at_account(server: &TestServer) -> Browser {
    let browser = Browser::new();
    let to = location(&browser.get(&server.url("/account")).await).expect("to sign in");
    browser.sign_in(server, &to).await;
    browser
}

#[tokio::test]
async fn an_email_change_keeps_the_old_address_until_the_new_one_is_verified() {
    let mail = MailServer::start().await;
    let server = server_with(&mail).await;
    let alice = alice_at_account(&server).await;
    let account = alice.page(&server.url("/account")).await;
    assert!(account.html.contains("/account/email") && account.html.contains("/account/password"));
    let page = alice.page(&server.url("/account/email")).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.html);
    let csrf = page.field("csrf").unwrap();

    // The current password is asked for.
    let res = alice
        .post(
            &server.url("/account/email"),
            &[("csrf", &csrf), ("email", "alice@new.example"), ("password", "wrong")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert!(res.text().await.unwrap().contains("current password is not right"));
    // Another account's address is refused only once that account proved it; bob's is not.
    let res = alice
        .post(
            &server.url("/account/email"),
            &[
                ("csrf", &csrf),
                ("email", "alice@new.example"),
                ("password", ALICE_PASSWORD),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let html = res.text().await.unwrap();
    assert!(html.contains("alice@new.example"), "{html}");

    let u = user(&server, ALICE).await;
    assert_eq!(u.email.as_deref(), Some(ALICE_EMAIL), "the old address stays");
    assert!(u.email_verified);
    let link = mail
        .latest("alice@new.example", "Confirm")
        .await
        .link("/email/verify?token=")
        .unwrap();
    mail.latest(ALICE_EMAIL, "new email address").await;
    assert_eq!(mail.count_to(ALICE_EMAIL), 1, "only the notice went to the old address");

    let page = alice.page(&link).await;
    let res = alice
        .post(
            &server.url("/email/verify"),
            &[
                ("csrf", &page.field("csrf").unwrap()),
                ("token", &page.field("token").unwrap()),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let u = user(&server, ALICE).await;
    assert_eq!(u.email.as_deref(), Some("alice@new.example"));
    assert!(u.email_verified);

    // The old address no longer controls the account: a reset asked for it sends nothing.
    ask_for_reset(&Browser::new(), &server, ALICE_EMAIL).await;
    ask_for_reset(&Browser::new(), &server, "alice@new.example").await;
    mail.latest("alice@new.example", "Reset").await;
    assert_eq!(mail.count_to(ALICE_EMAIL), 1, "no reset link, only the earlier notice");
}

#[tokio::test]
async fn an_email_change_tells_the_old_address_with_nothing_that_confirms_it() {
    let mail = MailServer::start().await;
    let server = server_with(&mail).await;
    let alice = alice_at_account(&server).await;
    let page = alice.page(&server.url("/account/email")).await;
    let res = alice
        .post(
            &server.url("/account/email"),
            &[
                ("csrf", &page.field("csrf").unwrap()),
                ("email", "nora@new.example"),
                ("password", ALICE_PASSWORD),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);

    // Both mails arrive: the link to the new address, the notice to the old one.
    let verify = mail.latest("nora@new.example", "Confirm").await;
    let link = verify
        .link("/email/verify?token=")
        .expect("the link goes to the new address");
    let token = query_param(&link, "token").unwrap();
    let notice = mail.latest(ALICE_EMAIL, "new email address").await;
    assert_eq!(mail.count_to(ALICE_EMAIL), 1);
    for body in [&notice.text, &unescape(&notice.html)] {
        assert!(body.contains("@new.example"), "names the new address's domain: {body}");
        assert!(!body.contains("nora@new.example"), "but not the whole address: {body}");
        assert!(!body.contains(&token), "the token stays in the new inbox: {body}");
        assert!(
            !body.contains("/email/verify") && !body.contains("token="),
            "no link that confirms: {body}"
        );
        assert!(body.contains("/login/forgot"), "the way to stop an intruder: {body}");
    }
    assert_eq!(
        user(&server, ALICE).await.email.as_deref(),
        Some(ALICE_EMAIL),
        "nothing changed yet"
    );

    // An address never proven hears nothing: bob's change goes to the new address only.
    let bob = Browser::new();
    let to = location(&bob.get(&server.url("/account")).await).expect("to sign in");
    bob.sign_in_as(&server, &to, "bob", "bob-password-123").await;
    let page = bob.page(&server.url("/account/email")).await;
    let res = bob
        .post(
            &server.url("/account/email"),
            &[
                ("csrf", &page.field("csrf").unwrap()),
                ("email", "bob@new.example"),
                ("password", "bob-password-123"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    mail.latest("bob@new.example", "Confirm").await;
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    assert_eq!(mail.count_to("bob@example.com"), 0);
}

#[tokio::test]
async fn the_password_change_page_asks_for_the_current_password_and_ends_the_other_sessions() {
    let mail = MailServer::start().await;
    let server = server_with(&mail).await;
    let phone = Browser::new();
    phone.sign_in(&server, &authorize(&server, "")).await;
    let alice = alice_at_account(&server).await;
    let page = alice.page(&server.url("/account/password")).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.html);
    let csrf = page.field("csrf").unwrap();
    let change = |current: &'static str, new: &'static str| {
        let alice = &alice;
        let server = &server;
        let csrf = csrf.clone();
        async move {
            let res = alice
                .post(
                    &server.url("/account/password"),
                    &[
                        ("csrf", csrf.as_str()),
                        ("current_password", current),
                        ("password", new),
                        ("password_confirm", new),
                    ],
                )
                .await;
            (res.status(), unescape(&res.text().await.unwrap()))
        }
    };
    let (status, html) = change("not-it", NEW_PASSWORD).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(html.contains("current password is not right"), "{html}");
    let (status, html) = change(ALICE_PASSWORD, "12345678").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "the registration policy");
    assert!(html.contains("most commonly used"), "{html}");
    let (status, html) = change(ALICE_PASSWORD, NEW_PASSWORD).await;
    assert_eq!(status, StatusCode::OK, "{html}");

    assert!(signed_in(&alice, &server).await, "this browser stays signed in");
    assert!(!signed_in(&phone, &server).await, "the other session ended");
    assert!(signs_in_with(&server, ALICE, NEW_PASSWORD).await);
    assert!(!signs_in_with(&server, ALICE, ALICE_PASSWORD).await);
    mail.latest(ALICE_EMAIL, "password was changed").await;
}

/// Opens the verification `link` in `browser` (signed in to its account) and confirms it; the
/// answer's status.
async fn confirm_address(browser: &Browser, server: &TestServer, link: &str) -> StatusCode {
    let page = browser.page(link).await;
    if page.status != StatusCode::OK {
        return page.status;
    }
    browser
        .post(
            &server.url("/email/verify"),
            &[
                ("csrf", &page.field("csrf").unwrap()),
                ("token", &page.field("token").unwrap()),
            ],
        )
        .await
        .status()
}

#[tokio::test]
async fn a_verification_link_expires_and_one_replaced_by_a_newer_link_stops_working() {
    let mail = MailServer::start().await;
    let server = server_with(&mail).await;
    let res = register(&server, "carol", "carol@example.com", "Carol", "carol-quiet-lantern").await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let first = mail
        .latest("carol@example.com", "Confirm")
        .await
        .link("/email/verify?token=")
        .unwrap();
    let carol = Browser::new();
    carol
        .sign_in_as(&server, &authorize(&server, ""), "carol", "carol-quiet-lantern")
        .await;

    // A day later the link has expired: opened, it says so and verifies nothing.
    email_token::Entity::update_many()
        .col_expr(email_token::Column::ExpiresAt, Expr::value(gatehouse::store::now() - 1))
        .exec(&server.state.db)
        .await
        .unwrap();
    let page = carol.page(&first).await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert!(page.html.contains("This link does not work"), "{}", page.html);
    assert!(page.html.contains("/account/email"), "offers a new link: {}", page.html);
    assert!(!user(&server, "carol").await.email_verified);

    // "Send the link again": a new link; the older one (even unexpired) no longer works.
    let settings = carol.page(&server.url("/account/email")).await;
    let res = carol
        .post(
            &server.url("/account/email/resend"),
            &[("csrf", &settings.field("csrf").unwrap())],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let messages = mail.wait_for("carol@example.com", 2, 10).await;
    let second = messages[1].link("/email/verify?token=").unwrap();
    assert_ne!(first, second);
    let res = carol
        .post(
            &server.url("/account/email/resend"),
            &[("csrf", &settings.field("csrf").unwrap())],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let messages = mail.wait_for("carol@example.com", 3, 10).await;
    let third = messages[2].link("/email/verify?token=").unwrap();
    assert_eq!(confirm_address(&carol, &server, &second).await, StatusCode::BAD_REQUEST);
    assert!(!user(&server, "carol").await.email_verified);
    assert_eq!(confirm_address(&carol, &server, &third).await, StatusCode::OK);
    assert!(user(&server, "carol").await.email_verified);
}

#[tokio::test]
async fn the_id_token_says_email_verified_only_once_the_link_is_opened() {
    let mail = MailServer::start().await;
    let server = server_with(&mail).await;
    let res = register(&server, "carol", "carol@example.com", "Carol", "carol-quiet-lantern").await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let carol = Browser::new();
    let back = carol
        .sign_in_as(&server, &authorize(&server, ""), "carol", "carol-quiet-lantern")
        .await;
    let claims = super::harness::client_app::id_token_claims(&server, &back).await;
    assert_eq!(claims["email"], "carol@example.com");
    assert_eq!(claims["email_verified"], false, "{claims}");

    let link = mail
        .latest("carol@example.com", "Confirm")
        .await
        .link("/email/verify?token=")
        .unwrap();
    assert_eq!(confirm_address(&carol, &server, &link).await, StatusCode::OK);
    let back = carol.follow(&server, &authorize(&server, "")).await;
    let claims = super::harness::client_app::id_token_claims(&server, &back).await;
    assert_eq!(claims["email_verified"], true, "{claims}");
}
