//! Social presets end to end: each protocol shape against its loopback stand-in, through the
//! broker, to a token at the client app.
use gatehouse::config::presets::Catalog;
use gatehouse::config::ProviderConfig;
use gatehouse::store::entities::federated_identity;
use reqwest::StatusCode;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use super::harness::accounts::{counts, local_id};
use super::harness::browser::{link_href, location, unescape, Browser, Walk};
use super::harness::client_app::{authorize, id_token_claims, prompt_none_error};
use super::harness::social_standins::{GitHub, GitHubSetup, OpFlavour, StandInOp};
use super::harness::urls::{query_param, resolve};
use super::harness::{TestServer, ALICE, RP_REDIRECT};

async fn server_with(provider: ProviderConfig) -> TestServer {
    let mut p = TestServer::prepare().await;
    p.config.providers = vec![provider];
    p.launch().await
}

/// The client app's authorize → Gatehouse's login page → the provider's button, then on across
/// hosts until the client app or a page.
async fn social_login(browser: &Browser, server: &TestServer, provider: &str) -> Walk {
    let login = browser.follow(server, &authorize(server, "")).await;
    let page = browser.page(&login).await;
    let start = format!("/broker/start/{provider}");
    let href = link_href(&page.html, &start).unwrap_or_else(|| panic!("a {provider} button on {}", page.html));
    assert!(
        page.html.contains("<img src=\"data:image/svg+xml;base64,"),
        "the button shows the preset's icon"
    );
    browser.walk(&resolve(&login, &href), RP_REDIRECT).await
}

fn github_setup(primary: &str, verified: bool) -> GitHubSetup {
    GitHubSetup {
        client_id: "Iv1.standin".into(),
        client_secret: "gh-secret".into(),
        primary_email: primary.into(),
        primary_verified: verified,
        always_form: false,
    }
}

fn github_provider(gh: &GitHub, extra: &str) -> ProviderConfig {
    Catalog::built_in("github", &format!("{extra}\n{}", gh.overrides())).expect("github preset")
}

async fn identities_of(server: &TestServer, user_id: &str) -> usize {
    federated_identity::Entity::find()
        .filter(federated_identity::Column::UserId.eq(user_id))
        .all(&server.state.db)
        .await
        .unwrap()
        .len()
}

#[tokio::test]
async fn github_login_uses_the_numeric_id_and_the_verified_primary_email() {
    let gh = GitHub::start(github_setup("ann@octo.example", true)).await;
    let server = server_with(github_provider(&gh, "")).await;
    let (users_before, _) = counts(&server).await;
    let end = social_login(&Browser::new(), &server, "github").await;
    assert!(end.url.starts_with(RP_REDIRECT), "back at the client: {}", end.url);
    let claims = id_token_claims(&server, &end.url).await;
    assert_eq!(claims["idp"], "github");
    assert_eq!(claims["amr"], serde_json::json!(["fed"]));
    assert_eq!(
        claims["email"], "ann@octo.example",
        "the primary address from /user/emails"
    );
    assert_eq!(claims["email_verified"], true);
    assert_eq!(claims["name"], "Ann Octo");
    assert_eq!(claims["preferred_username"], "octo-ann");
    assert_eq!(counts(&server).await, (users_before + 1, 1));
    let link = federated_identity::Entity::find()
        .one(&server.state.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((link.provider_id.as_str(), link.subject.as_str()), ("github", "583231"));
    assert!(
        gh.token_accepts().iter().all(|a| a.contains("application/json")),
        "Gatehouse asks GitHub for JSON: {:?}",
        gh.token_accepts()
    );

    // Returning, in another browser: the same local user.
    let again = social_login(&Browser::new(), &server, "github").await;
    assert_eq!(id_token_claims(&server, &again.url).await["sub"], claims["sub"]);
    assert_eq!(counts(&server).await, (users_before + 1, 1));
}

#[tokio::test]
async fn github_form_encoded_token_answers_are_understood() {
    let gh = GitHub::start(GitHubSetup {
        always_form: true,
        ..github_setup("ann@octo.example", true)
    })
    .await;
    let server = server_with(github_provider(&gh, "")).await;
    let end = social_login(&Browser::new(), &server, "github").await;
    assert!(end.url.starts_with(RP_REDIRECT), "back at the client: {}", end.url);
    assert_eq!(id_token_claims(&server, &end.url).await["email"], "ann@octo.example");
}

#[tokio::test]
async fn github_verified_primary_email_links_to_the_existing_account() {
    let gh = GitHub::start(github_setup("alice@example.com", true)).await;
    let server = server_with(github_provider(&gh, "linking = \"link_by_verified_email\"")).await;
    let end = social_login(&Browser::new(), &server, "github").await;
    assert!(end.url.starts_with(RP_REDIRECT), "{}", end.url);
    let alice = local_id(&server, ALICE).await;
    assert_eq!(id_token_claims(&server, &end.url).await["sub"], alice.as_str());
    assert_eq!(identities_of(&server, &alice).await, 1);
}

#[tokio::test]
async fn github_unverified_primary_email_never_links() {
    // The primary address is alice's but GitHub has not verified it; a verified secondary
    // (noreply) address exists. Neither may link to alice.
    let gh = GitHub::start(github_setup("alice@example.com", false)).await;
    let server = server_with(github_provider(&gh, "linking = \"link_by_verified_email\"")).await;
    let end = social_login(&Browser::new(), &server, "github").await;
    let alice = local_id(&server, ALICE).await;
    assert_eq!(identities_of(&server, &alice).await, 0, "nothing linked to alice");
    // No verified email reached Gatehouse, so the new account needs one: the review page asks.
    let page = end.page.expect("the review-profile page");
    assert!(end.url.contains("/broker/profile?interaction="), "{}", end.url);
    assert!(page.html.contains("did not share an email address"), "{}", page.html);
    assert!(
        !page.html.contains("alice@example.com"),
        "the unverified address is not offered"
    );
}

#[tokio::test]
async fn github_token_errors_sent_with_status_200_are_refused() {
    let gh = GitHub::start(github_setup("ann@octo.example", true)).await;
    let mut provider = github_provider(&gh, "");
    provider.client_secret = Some("not-the-secret".into());
    let server = server_with(provider).await;
    let before = counts(&server).await;
    let end = social_login(&Browser::new(), &server, "github").await;
    let page = end.page.expect("an error page, not the client");
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert!(page.html.contains("Sign-in with GitHub did not work"), "{}", page.html);
    assert!(page.html.contains("Use another sign-in method"));
    assert!(
        !page.html.contains("incorrect_client_credentials"),
        "no raw upstream error"
    );
    assert_eq!(counts(&server).await, before, "nothing created");
}

fn microsoft_provider(op: &StandInOp, extra: &str) -> ProviderConfig {
    Catalog::built_in(
        "microsoft",
        &format!(
            "client_id = \"ms-client\"\nclient_secret = \"ms-secret\"\nissuer = \"{}\"\n{extra}",
            op.issuer
        ),
    )
    .expect("microsoft preset")
}

const CONTOSO_TENANT: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";

#[tokio::test]
async fn microsoft_tokens_must_carry_their_own_tenants_issuer() {
    let good = StandInOp::start(
        OpFlavour::Microsoft {
            tenant: CONTOSO_TENANT.into(),
            issuer_tenant: None,
        },
        "ms-client",
        "ms-secret",
    )
    .await;
    let server = server_with(microsoft_provider(&good, "")).await;
    let end = social_login(&Browser::new(), &server, "microsoft").await;
    // The token was accepted; its email is alice's but Entra does not verify emails, so the
    // person is asked to prove they own the account rather than being linked.
    assert!(
        end.url.contains("/broker/link?interaction="),
        "asked, not linked: {}",
        end.url
    );
    assert_eq!(identities_of(&server, &local_id(&server, ALICE).await).await, 0);

    // `tid` says Contoso but `iss` names another tenant: a token minted for someone else.
    let forged = StandInOp::start(
        OpFlavour::Microsoft {
            tenant: CONTOSO_TENANT.into(),
            issuer_tenant: Some("9188040d-6c67-4c5b-b112-36a304b66dad".into()),
        },
        "ms-client",
        "ms-secret",
    )
    .await;
    let server = server_with(microsoft_provider(&forged, "")).await;
    let before = counts(&server).await;
    let end = social_login(&Browser::new(), &server, "microsoft").await;
    let page = end.page.expect("refused");
    assert!(page.html.contains("could not be verified"), "{}", page.html);
    assert_eq!(counts(&server).await, before);

    // A tenant outside allowed_tenants is refused too.
    let server = server_with(microsoft_provider(
        &good,
        "allowed_tenants = [\"00000000-0000-0000-0000-000000000001\"]",
    ))
    .await;
    let end = social_login(&Browser::new(), &server, "microsoft").await;
    assert!(end.page.expect("refused").html.contains("could not be verified"));
}

#[tokio::test]
async fn apple_form_post_signed_client_secret_and_the_name_from_the_first_login() {
    let dir = tempfile::tempdir().unwrap();
    let key = apple_developer_key();
    let (op, server) = apple_setup(&key, &key, dir.path(), Default::default()).await;

    let (end, had_user) = apple_round_trip(&Browser::new(), &server, None).await;
    assert!(had_user, "Apple sends `user` on the first login");
    assert!(
        end.url.starts_with(RP_REDIRECT),
        "back at the client: {} {:?}",
        end.url,
        end.page.map(|p| p.html)
    );
    assert_eq!(query_param(&end.url, "state").as_deref(), Some("bs"));
    let claims = id_token_claims(&server, &end.url).await;
    assert_eq!(claims["idp"], "apple");
    assert_eq!(claims["name"], "Ann Apple", "the name from the posted `user` JSON");
    assert_eq!(claims["email"], "ann@privaterelay.appleid.com");
    assert_eq!(claims["email_verified"], true, "Apple's string \"true\" is understood");

    let (again, had_user) = apple_round_trip(&Browser::new(), &server, None).await;
    assert!(!had_user, "no `user` after the first login");
    let claims2 = id_token_claims(&server, &again.url).await;
    assert_eq!(claims2["sub"], claims["sub"], "the same local user");
    assert_eq!(claims2["name"], "Ann Apple", "the name is kept");
    assert!(
        op.refused_secrets().is_empty(),
        "every generated client secret was accepted"
    );
}

/// A fresh developer key (PKCS#8 PEM, P-256), as Apple hands out in an `AuthKey_….p8` file.
fn apple_developer_key() -> String {
    use p256::pkcs8::{EncodePrivateKey, LineEnding};
    p256::SecretKey::random(&mut rand::rngs::OsRng)
        .to_pkcs8_pem(LineEnding::LF)
        .unwrap()
        .to_string()
}

/// The Apple stand-in knowing `apple_key`, and a Gatehouse whose Apple provider signs its client
/// secrets with `gatehouse_key` (the same key, unless a test says otherwise).
async fn apple_setup(
    apple_key: &str,
    gatehouse_key: &str,
    dir: &std::path::Path,
    linking: gatehouse::broker::LinkingPolicy,
) -> (StandInOp, TestServer) {
    let key_file = dir.join("AuthKey_ABC123DEFG.p8");
    std::fs::write(&key_file, gatehouse_key).unwrap();
    let op = StandInOp::start(
        OpFlavour::Apple {
            developer_key_pem: apple_key.into(),
            team_id: "TEAM123456".into(),
            key_id: "ABC123DEFG".into(),
        },
        "com.example.web",
        "",
    )
    .await;
    let mut provider = Catalog::built_in(
        "apple",
        &format!(
            r#"
            client_id = "com.example.web"
            issuer = "{}"
            [signed_client_secret]
            team_id = "TEAM123456"
            key_id = "ABC123DEFG"
            private_key_file = "{}"
            "#,
            op.issuer,
            key_file.display()
        ),
    )
    .expect("apple preset");
    provider.linking = linking;
    let server = server_with(provider).await;
    (op, server)
}

/// To Apple and back: Apple's auto-submitting form is posted cross-site, with its `user` field
/// replaced by `user` when given; then on to the client app or a page. Also says whether Apple's
/// form had a `user` field.
async fn apple_round_trip(browser: &Browser, server: &TestServer, user: Option<&str>) -> (Walk, bool) {
    let at_apple = social_login(browser, server, "apple").await;
    let page = at_apple.page.as_ref().expect("Apple's auto-submitting form");
    let action = page
        .html
        .split("action=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_owned();
    let mut form = vec![
        ("code", page.field("code").unwrap()),
        ("state", page.field("state").unwrap()),
    ];
    let had_user = page.field("user").is_some();
    match (user, page.field("user")) {
        (Some(forged), _) => form.push(("user", forged.to_owned())),
        (None, Some(real)) => form.push(("user", real)),
        (None, None) => {}
    }
    // The post is cross-site: the SameSite=Lax session cookie does not come with it.
    let res = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .post(&action)
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let end = browser
        .walk(&resolve(&action, &location(&res).unwrap()), RP_REDIRECT)
        .await;
    (end, had_user)
}

#[tokio::test]
async fn apple_refuses_a_client_secret_signed_with_another_key_and_nothing_is_signed_in() {
    let dir = tempfile::tempdir().unwrap();
    let apple_key = apple_developer_key();
    // Control: the client secret signed with the registered key is accepted.
    let (op, server) = apple_setup(&apple_key, &apple_key, dir.path(), Default::default()).await;
    let (end, _) = apple_round_trip(&Browser::new(), &server, None).await;
    assert!(
        end.url.starts_with(RP_REDIRECT),
        "control: {} {:?}",
        end.url,
        end.page.map(|p| p.html)
    );
    assert!(op.refused_secrets().is_empty());

    // Gatehouse holds another key than the one registered at Apple: Apple refuses the secret.
    let (op, server) = apple_setup(&apple_key, &apple_developer_key(), dir.path(), Default::default()).await;
    let before = counts(&server).await;
    let browser = Browser::new();
    let (end, _) = apple_round_trip(&browser, &server, None).await;
    assert!(!end.url.starts_with(RP_REDIRECT), "ACCEPTED: {}", end.url);
    let page = end.page.expect("a refusal page");
    let html = unescape(&page.html);
    assert_eq!(page.status, StatusCode::BAD_REQUEST, "{html}");
    assert!(html.contains("<h1>Sign-in with Apple did not work</h1>"), "{html}");
    assert!(
        html.contains("The identity provider's answer could not be verified, so Gatehouse did not trust it."),
        "{html}"
    );
    assert_eq!(
        op.refused_secrets().len(),
        1,
        "Apple saw, and refused, exactly one client secret"
    );
    assert_eq!(counts(&server).await, before, "nothing created or linked");
    assert_eq!(
        prompt_none_error(&browser, &server).await.as_deref(),
        Some("login_required"),
        "no session"
    );
}

#[tokio::test]
async fn apples_unsigned_user_field_gives_only_a_name_never_an_email() {
    let dir = tempfile::tempdir().unwrap();
    let key = apple_developer_key();
    // The most dangerous policy: a verified email links to an existing account.
    let (_op, server) = apple_setup(
        &key,
        &key,
        dir.path(),
        gatehouse::broker::LinkingPolicy::LinkByVerifiedEmail,
    )
    .await;
    let before = counts(&server).await;
    // The posted `user` JSON is not signed: here it claims alice's address.
    let forged = r#"{"name":{"firstName":"Mallory","lastName":"Forged"},"email":"alice@example.com"}"#;
    let (end, _) = apple_round_trip(&Browser::new(), &server, Some(forged)).await;
    assert!(
        end.url.starts_with(RP_REDIRECT),
        "{} {:?}",
        end.url,
        end.page.map(|p| p.html)
    );
    let claims = id_token_claims(&server, &end.url).await;
    assert_ne!(claims["sub"], local_id(&server, ALICE).await, "not signed in as alice");
    assert_eq!(
        claims["email"], "ann@privaterelay.appleid.com",
        "the email is the signed ID token's"
    );
    assert_eq!(claims["name"], "Mallory Forged", "only the name comes from `user`");
    assert_eq!(counts(&server).await, (before.0 + 1, before.1 + 1), "a new account");
    let alice = local_id(&server, ALICE).await;
    assert_eq!(identities_of(&server, &alice).await, 0, "nothing linked to alice");
}

#[tokio::test]
async fn a_malformed_apple_user_field_is_ignored() {
    let key = apple_developer_key();
    for (what, user) in [
        ("not JSON", "{\"name\": "),
        ("a name that is not an object", r#"{"name":"<b>Mallory</b>"}"#),
    ] {
        // A first sign-in each time, when Apple's `user` is the only source of a name.
        let dir = tempfile::tempdir().unwrap();
        let (_op, server) = apple_setup(&key, &key, dir.path(), Default::default()).await;
        let before = counts(&server).await;
        let (end, _) = apple_round_trip(&Browser::new(), &server, Some(user)).await;
        assert!(
            end.url.starts_with(RP_REDIRECT),
            "{what}: {} {:?}",
            end.url,
            end.page.map(|p| p.html)
        );
        let claims = id_token_claims(&server, &end.url).await;
        assert!(claims.get("name").is_none(), "{what}: no name taken from it: {claims}");
        assert_eq!(claims["email"], "ann@privaterelay.appleid.com", "{what}");
        assert_eq!(counts(&server).await, (before.0 + 1, before.1 + 1), "{what}");
    }
}
