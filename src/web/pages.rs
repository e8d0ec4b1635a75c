//! What each page shows: one struct per template, so a handler can only render a page with
//! the fields its template reads (and `Templates` picks the template from the type).
//!
//! Fields that an operator's override template (`templates_dir`) may read stay even where
//! the built-in template does not use them (`LoginPage::scopes`).
use serde::Serialize;

use super::error::Link;

/// A page rendered with the template named `TEMPLATE`.
pub trait Page: Serialize {
    /// The template's name (its file is `templates/<TEMPLATE>.hbs`).
    const TEMPLATE: &'static str;
}

/// What `layout.hbs` reads on every page: the title, the path prefix, an optional refresh.
#[derive(Debug, Clone, Serialize)]
pub struct Layout {
    pub title: String,
    /// The issuer's path ("" or "/prefix"), before every link to this server.
    pub base: String,
    /// Where the page moves on to by itself after a moment.
    pub refresh_to: Option<String>,
}

impl Layout {
    /// A page titled `title` under `base`, staying put.
    pub fn new(title: impl Into<String>, base: String) -> Self {
        Self {
            title: title.into(),
            base,
            refresh_to: None,
        }
    }
}

/// The home page: the issuer, and the way into the demo flow when it is on.
#[derive(Debug, Serialize)]
pub struct HomePage {
    #[serde(flatten)]
    pub layout: Layout,
    pub issuer: String,
    pub demo: bool,
    pub demo_user: Option<String>,
}

impl Page for HomePage {
    const TEMPLATE: &'static str = "home";
}

/// The sign-in form for a client, with the upstream providers and work-email discovery.
#[derive(Debug, Serialize)]
pub struct LoginPage {
    #[serde(flatten)]
    pub layout: Layout,
    pub client_name: String,
    pub interaction: String,
    pub csrf: String,
    /// Prefilled: what was typed, or the client's `login_hint`.
    pub username: Option<String>,
    pub error: Option<String>,
    pub registration_enabled: bool,
    /// Whether to offer "Forgot password?" (mail can be sent).
    pub forgot_password: bool,
    /// The requested scopes as asked for (unused by the built-in template).
    pub scopes: Vec<String>,
    pub providers: Vec<ProviderButton>,
    /// Whether to offer home-realm discovery by work email.
    pub hrd: bool,
    /// Whether to offer "Sign in with a passkey".
    pub passkeys: bool,
}

impl Page for LoginPage {
    const TEMPLATE: &'static str = "login";
}

/// One "Sign in with …" button on the login page.
#[derive(Debug, Serialize)]
pub struct ProviderButton {
    pub name: String,
    pub href: String,
    pub icon: Option<String>,
}

/// The self-registration form, shown again with what was typed when it fails.
#[derive(Debug, Serialize)]
pub struct RegisterPage {
    #[serde(flatten)]
    pub layout: Layout,
    pub client_name: String,
    pub interaction: String,
    pub csrf: String,
    pub username: String,
    pub email: String,
    pub name: String,
    pub error: Option<String>,
}

impl Page for RegisterPage {
    const TEMPLATE: &'static str = "register";
}

/// The consent question: which client wants what, described for people.
#[derive(Debug, Serialize)]
pub struct ConsentPage {
    #[serde(flatten)]
    pub layout: Layout,
    pub client_name: String,
    pub interaction: String,
    pub csrf: String,
    pub username: String,
    /// One sentence per requested scope.
    pub scopes: Vec<String>,
}

impl Page for ConsentPage {
    const TEMPLATE: &'static str = "consent";
}

/// "Sign out?": the confirmation asked when a logout request cannot be trusted on its own.
#[derive(Debug, Serialize)]
pub struct ConfirmLogoutPage {
    #[serde(flatten)]
    pub layout: Layout,
    pub csrf: String,
    pub username: Option<String>,
    /// Carried through the form to the confirmation.
    pub post_logout_redirect_uri: Option<String>,
    pub client_id: Option<String>,
    pub state: Option<String>,
}

impl Page for ConfirmLogoutPage {
    const TEMPLATE: &'static str = "logout";
}

/// "You are signed out", with the clients' front-channel logout frames and a way on.
#[derive(Debug, Serialize)]
pub struct LoggedOutPage {
    #[serde(flatten)]
    pub layout: Layout,
    /// Front-channel logout URLs, each loaded in a hidden iframe.
    pub frontchannel: Vec<String>,
    pub continue_to: Option<String>,
}

impl LoggedOutPage {
    /// Signed out under `base`; with `continue_to`, the page moves on there by itself.
    pub fn new(base: String, frontchannel: Vec<String>, continue_to: Option<String>) -> Self {
        let mut layout = Layout::new(crate::i18n::text("title-signed-out"), base);
        layout.refresh_to = continue_to.clone();
        Self {
            layout,
            frontchannel,
            continue_to,
        }
    }
}

impl Page for LoggedOutPage {
    const TEMPLATE: &'static str = "logged_out";
}

/// An error told to a person (the title is the layout's), with an optional way on.
#[derive(Debug, Serialize)]
pub struct ErrorPage {
    #[serde(flatten)]
    pub layout: Layout,
    pub message: String,
    pub link: Option<Link>,
    /// The request's id (also in the logs and the `x-request-id` header), to quote to support.
    pub request_id: Option<String>,
}

impl Page for ErrorPage {
    const TEMPLATE: &'static str = "error";
}

/// The demo application's result: the verified ID token's claims and the userinfo answer.
#[derive(Debug, Serialize)]
pub struct DemoResultPage {
    #[serde(flatten)]
    pub layout: Layout,
    pub issuer: String,
    /// Pretty-printed JSON.
    pub id_token_claims: String,
    /// Pretty-printed JSON.
    pub userinfo: String,
    pub logout_href: String,
}

impl Page for DemoResultPage {
    const TEMPLATE: &'static str = "demo_result";
}

/// "Link your account": an upstream login whose email matches an account here, proven by password.
#[derive(Debug, Serialize)]
pub struct LinkAccountPage {
    #[serde(flatten)]
    pub layout: Layout,
    pub provider_name: String,
    /// Masked (`a…@example.com`).
    pub email: Option<String>,
    pub interaction: String,
    pub csrf: String,
    /// Whether a separate new account may be created instead.
    pub may_create: bool,
    pub error: Option<String>,
}

impl Page for LinkAccountPage {
    const TEMPLATE: &'static str = "broker_link";
}

/// "Review your profile": the new account an upstream login creates, editable before it is.
#[derive(Debug, Serialize)]
pub struct ReviewProfilePage {
    #[serde(flatten)]
    pub layout: Layout,
    pub provider_name: String,
    pub interaction: String,
    pub csrf: String,
    pub username: String,
    pub email: String,
    pub name: String,
    pub error: Option<String>,
}

impl Page for ReviewProfilePage {
    const TEMPLATE: &'static str = "broker_profile";
}

/// The account page: the profile, the ways to sign in, every live session, the applications
/// with access, second factors, and the way to delete the account.
#[derive(Debug, Serialize)]
pub struct AccountPage {
    #[serde(flatten)]
    pub layout: Layout,
    pub username: String,
    /// The display name.
    pub name: Option<String>,
    pub email: Option<String>,
    pub email_verified: bool,
    pub sessions: Vec<SessionRow>,
    /// The account has a local password.
    pub has_password: bool,
    /// External identities linked to the account.
    pub linked: Vec<LinkedLoginRow>,
    /// Providers the person may link (one more login each).
    pub linkable: Vec<ProviderChoice>,
    /// Applications with access to the account.
    pub apps: Vec<AppAccessRow>,
    pub csrf: String,
    /// The server can hold second factors (`[mfa] secret_key` is set).
    pub mfa_available: bool,
    /// The person has an authenticator app.
    pub totp: bool,
    pub recovery_codes_left: u64,
    /// A second-factor action failed.
    pub error: Option<String>,
    /// What the last action did (shown once).
    pub notice: Option<String>,
    /// Why the last action was refused.
    pub alert: Option<String>,
    /// The server can hold passkeys (its issuer is on a domain name).
    pub passkeys_available: bool,
    /// The person's passkeys.
    pub passkeys: Vec<PasskeyRow>,
}

/// One passkey on the account page.
#[derive(Debug, Serialize)]
pub struct PasskeyRow {
    /// The credential id, base64url.
    pub id: String,
    pub name: String,
    pub added: When,
    pub last_used: Option<When>,
}

impl Page for AccountPage {
    const TEMPLATE: &'static str = "account";
}

/// A moment as people read it, with the machine-readable form for `<time datetime>`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct When {
    /// "30 Nov 2026, 06:32 UTC".
    pub date: String,
    /// "2 hours ago".
    pub ago: String,
    /// RFC 3339.
    pub iso: String,
}

/// One live session on the account page.
#[derive(Debug, Serialize)]
pub struct SessionRow {
    pub sid: String,
    /// This browser's own session.
    pub current: bool,
    pub signed_in: When,
    pub last_seen: When,
    /// How the person signed in, in words ("Contoso and Password").
    pub method: String,
}

/// One external identity linked to the account.
#[derive(Debug, Serialize)]
pub struct LinkedLoginRow {
    pub provider: String,
    /// The provider's display name.
    pub provider_name: String,
    pub subject: String,
    /// Who the person is there (an email or a name), when the provider said.
    pub label: Option<String>,
    pub linked: When,
    pub last_used: When,
    /// Another way to sign in remains without it.
    pub removable: bool,
}

/// An upstream provider offered as a choice.
#[derive(Debug, Serialize)]
pub struct ProviderChoice {
    pub id: String,
    pub name: String,
}

/// One application with access to the account.
#[derive(Debug, Serialize)]
pub struct AppAccessRow {
    pub client_id: String,
    pub client_name: String,
    /// What it may do, in words.
    pub scopes: Vec<String>,
    pub since: When,
    /// It can act while the person is away (holds a refresh token).
    pub offline: bool,
}

/// "Delete my account": re-authentication, then the deletion.
#[derive(Debug, Serialize)]
pub struct AccountDeletePage {
    #[serde(flatten)]
    pub layout: Layout,
    pub username: String,
    pub csrf: String,
    /// The person confirms with the account's password.
    pub has_password: bool,
    /// Linked providers the person may confirm with instead, by signing in there again.
    pub providers: Vec<ProviderChoice>,
    /// The person signed in again at a provider moments ago: no password needed now.
    pub confirmed_with: Option<String>,
    pub error: Option<String>,
}

impl Page for AccountDeletePage {
    const TEMPLATE: &'static str = "account_delete";
}

/// The account is gone.
#[derive(Debug, Serialize)]
pub struct AccountDeletedPage {
    #[serde(flatten)]
    pub layout: Layout,
    pub username: String,
}

impl Page for AccountDeletedPage {
    const TEMPLATE: &'static str = "account_deleted";
}

/// A form that posts itself to an upstream provider (SAML HTTP-POST binding).
#[derive(Debug, Serialize)]
pub struct PostFormPage {
    #[serde(flatten)]
    pub layout: Layout,
    /// The provider's display name.
    pub provider: String,
    pub action: String,
    pub fields: Vec<HiddenField>,
}

impl Page for PostFormPage {
    const TEMPLATE: &'static str = "post_form";
}

/// One hidden input of a self-posting form.
#[derive(Debug, Serialize)]
pub struct HiddenField {
    pub name: String,
    pub value: String,
}

/// The second-factor challenge of a pending sign-in: a code from the authenticator app, or a
/// recovery code.
#[derive(Debug, Serialize)]
pub struct MfaPage {
    #[serde(flatten)]
    pub layout: Layout,
    pub client_name: String,
    pub interaction: String,
    pub csrf: String,
    pub error: Option<String>,
    /// The recovery-code form is open (the person chose it, or a recovery code was wrong).
    pub recovery: bool,
    pub recovery_codes_left: u64,
    /// The person has an authenticator app.
    pub totp: bool,
    /// The person has passkeys (and the server can use them).
    pub passkeys: bool,
}

impl Page for MfaPage {
    const TEMPLATE: &'static str = "mfa";
}

/// Setting up an authenticator app: the secret to add, and a first code to confirm it.
#[derive(Debug, Serialize)]
pub struct MfaEnrolPage {
    #[serde(flatten)]
    pub layout: Layout,
    /// Where the confirmation code is posted.
    pub action: String,
    /// The pending sign-in that requires the factor (enrolment during sign-in).
    pub interaction: Option<String>,
    /// The application that requires it, during sign-in.
    pub client_name: Option<String>,
    pub csrf: String,
    /// The `otpauth://` URI (what a QR code would hold; some apps open it directly).
    pub otpauth_uri: String,
    /// The secret in base32, to type into the app.
    pub secret: String,
    /// The `otpauth://` URI as a QR code: an SVG `data:` URI for an `<img>` (CSP allows
    /// `data:` images, and no markup is injected into the page).
    pub qr_data_uri: Option<String>,
    /// A passkey may be set up instead (during sign-in, on a server where passkeys are on).
    pub passkey_option: bool,
    /// The current password is asked too (on the account page, for an account with one).
    pub ask_password: bool,
    pub error: Option<String>,
}

impl Page for MfaEnrolPage {
    const TEMPLATE: &'static str = "mfa_enrol";
}

/// A new set of recovery codes, shown this once.
#[derive(Debug, Serialize)]
pub struct RecoveryCodesPage {
    #[serde(flatten)]
    pub layout: Layout,
    pub codes: Vec<String>,
    /// Where to go on (the pending sign-in, or the account page).
    pub continue_href: String,
}

impl Page for RecoveryCodesPage {
    const TEMPLATE: &'static str = "mfa_recovery_codes";
}

/// A short message with a way on ("Check your inbox", "Password changed").
#[derive(Debug, Serialize)]
pub struct NoticePage {
    #[serde(flatten)]
    pub layout: Layout,
    pub message: String,
    pub link: Option<Link>,
}

impl Page for NoticePage {
    const TEMPLATE: &'static str = "notice";
}

/// "Forgot your password?": the address to send a reset link to.
#[derive(Debug, Serialize)]
pub struct ForgotPasswordPage {
    #[serde(flatten)]
    pub layout: Layout,
    pub csrf: String,
    /// The pending sign-in to return to afterwards.
    pub interaction: Option<String>,
    pub email: String,
    pub error: Option<String>,
}

impl Page for ForgotPasswordPage {
    const TEMPLATE: &'static str = "forgot_password";
}

/// Choosing a new password with a reset link.
#[derive(Debug, Serialize)]
pub struct ResetPasswordPage {
    #[serde(flatten)]
    pub layout: Layout,
    pub csrf: String,
    /// The link's token, carried through the form.
    pub token: String,
    pub username: String,
    pub error: Option<String>,
}

impl Page for ResetPasswordPage {
    const TEMPLATE: &'static str = "reset_password";
}

/// "Confirm your email address": the button that uses a verification link.
#[derive(Debug, Serialize)]
pub struct VerifyEmailPage {
    #[serde(flatten)]
    pub layout: Layout,
    pub csrf: String,
    pub token: String,
    pub email: String,
    pub username: String,
}

impl Page for VerifyEmailPage {
    const TEMPLATE: &'static str = "verify_email";
}

/// The account's email address: whether it is verified, changing it, a new link.
#[derive(Debug, Serialize)]
pub struct EmailSettingsPage {
    #[serde(flatten)]
    pub layout: Layout,
    pub csrf: String,
    pub email: Option<String>,
    pub email_verified: bool,
    /// An address waiting for its verification link to be opened.
    pub pending_email: Option<String>,
    /// The change asks for the current password (the account has one).
    pub needs_password: bool,
    /// What was typed as the new address.
    pub new_email: String,
    pub error: Option<String>,
    pub notice: Option<String>,
}

impl Page for EmailSettingsPage {
    const TEMPLATE: &'static str = "account_email";
}

/// Changing the password: the current one, then the new one twice.
#[derive(Debug, Serialize)]
pub struct PasswordChangePage {
    #[serde(flatten)]
    pub layout: Layout,
    pub csrf: String,
    pub username: String,
    /// The account has a password (one without, from an upstream provider, sets a first one).
    pub has_password: bool,
    pub error: Option<String>,
}

impl Page for PasswordChangePage {
    const TEMPLATE: &'static str = "account_password";
}
