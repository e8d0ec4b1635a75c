# The pages (templates/*.hbs). Placeables such as { $client } are filled in escaped; the
# messages themselves may hold markup (<strong>) and are trusted.

## layout.hbs
layout-brand = Gatehouse
layout-title = { $title } · Gatehouse

## Shared by several pages
common-username = Username
common-username-or-email = Username or email
common-password = Password
common-email = Email
common-full-name = Full name
common-optional = (optional)
common-at-least-8 = (at least 8 characters)
common-new-password = New password
common-repeat-password = Repeat password
common-repeat-new-password = Repeat the new password
common-current-password = Current password
common-create-account = Create account
common-continue = Continue
common-sign-in = Sign in
common-sign-out = Sign out
common-home = Gatehouse home
common-back-to-account = Back to your account
common-back-to-sign-in = Back to sign in
common-other-method = Use another sign-in method
common-for-user = for <strong>{ $username }</strong>.

## home.hbs
home-lead = A single sign-on server. Applications see one OpenID Connect issuer at <code>{ $issuer }</code>; people sign in here with a local account (and, as they are configured, through their company's identity provider or a social login).
home-discovery = Discovery:
home-keys = Signing keys:
home-account = Your account and where you are signed in
home-demo = The built-in demo application runs a real authorization-code flow with PKCE against this server and shows the ID token it receives.
home-demo-user = Sign in as <code>{ $user }</code> (password in <code>config/gatehouse.example.toml</code>).
home-try = Try the login flow

## login.hbs
login-heading = Sign in
login-lead = to continue to <strong>{ $client }</strong>
login-forgot = Forgot password?
login-or = or
login-with = Sign in with { $provider }
login-work-email = Work email
login-work-email-hint = (company sign-in)
login-work-email-continue = Continue with work email
login-new-here = New here?
login-create-account = Create an account

## register.hbs
register-heading = Create an account
register-have-account = Already have an account?

## consent.hbs
consent-heading = Allow access?
consent-lead = <strong>{ $client }</strong> wants to:
consent-signed-in-as = Signed in as { $username }.
consent-deny = Deny
consent-allow = Allow

## logout.hbs
logout-heading = Sign out?
logout-signed-in-as = You are signed in as <strong>{ $username }</strong>.
logout-question = Do you want to sign out of Gatehouse?
logout-stay = Stay signed in

## logged_out.hbs
logged-out-heading = You are signed out
logged-out-done = You have signed out of Gatehouse.
logged-out-done-apps = You have signed out of Gatehouse and the applications you used.
logged-out-close = You can close this window.
logged-out-frame = Signing out of an application

## error.hbs
error-request-id = Request id:

## forgot_password.hbs
forgot-heading = Forgot your password?
forgot-lead = Enter the email address of your account. If an account has it, we send a link to choose a new password.
forgot-send = Send the link

## reset_password.hbs
reset-heading = Choose a new password
reset-lead = for <strong>{ $username }</strong>. Every other sign-in of the account ends.
reset-submit = Set the new password

## verify_email.hbs
verify-heading = Confirm your email address
verify-lead = Is <strong>{ $email }</strong> your address for the account <strong>{ $username }</strong>?
verify-confirm = Yes, confirm it

## post_form.hbs
post-form-heading = Continue to { $provider }
post-form-lead = Sending you to { $provider } to sign in.

## demo_result.hbs
demo-heading = Signed in
demo-lead = The demo application received an ID token from <code>{ $issuer }</code>, checked its signature, issuer, audience, expiry and nonce, and called the userinfo endpoint.
demo-claims = ID token claims
demo-userinfo = Userinfo
demo-again = Run it again

## broker_link.hbs
link-heading = Link your account
link-signed-in-with = You signed in with <strong>{ $provider }</strong>.
link-email-exists = An account with the email { $email } already exists here.
link-lead = To link this login to your account, sign in with your password once.
link-submit = Sign in and link
link-not-yours = Not your account?
link-create-separate = Create a separate account

## broker_profile.hbs
profile-heading = Review your profile
profile-lead = You signed in with <strong>{ $provider }</strong>. Check the details of your new account.

## mfa.hbs
mfa-heading = Confirm it's you
mfa-lead = A second step to continue to <strong>{ $client }</strong>
mfa-code = Code from your authenticator app
mfa-use-recovery = Use a recovery code instead
mfa-recovery-code = Recovery code
mfa-codes-left = ({ $count } left)
mfa-recovery-submit = Use recovery code

## mfa_enrol.hbs
enrol-heading = Set up an authenticator app
enrol-required = <strong>{ $client }</strong> requires a second step at sign-in. Set it up once to continue.
enrol-step-add = In your authenticator app, add an account with this key (time-based):
enrol-open-in-app = On this device you can also <a href="{ $uri }">open it in the app</a>.
enrol-step-code = Type the 6-digit code the app shows.
enrol-code = Code from the app
enrol-turn-on = Turn on
enrol-current-password = Your current password

## mfa_recovery_codes.hbs
codes-heading = Your recovery codes
codes-lead = If you lose your authenticator app, each of these codes signs you in once. Keep them somewhere safe: they are shown only now.
codes-saved = I have saved them, continue

## account.hbs
account-heading = Your account
account-signed-in-as = Signed in as <strong>{ $username }</strong>.
account-signed-in-as-email = Signed in as <strong>{ $username }</strong> ({ $email }).
account-profile = Profile
account-name = Name
account-name-hint = (shown to applications you sign in to)
account-save-name = Save name
account-email = Email:
account-verified = (verified)
account-not-verified = (not verified)
account-none = none
account-change-password = Change password
account-email-address = Email address
account-methods = Ways to sign in
account-password = Password:
account-password-set = set
account-password-none = none (you sign in with a linked login)
account-linked-logins = Linked logins
account-linked-as = as { $label }
account-linked-when = Linked <time datetime="{ $iso }">{ $date }</time> ({ $ago }); last used { $used }
account-unlink = Unlink { $provider }
account-only-way = This is your only way to sign in, so it cannot be unlinked.
account-no-links = No logins from other providers are linked.
account-link-another = Link another login
account-link = Link
account-sessions = Where you are signed in
account-this-browser = This browser
account-other-browser = Another browser or device
account-session-when = Signed in <time datetime="{ $iso }">{ $date }</time> ({ $ago }) with { $method }; last active { $seen }
account-end-session = End this session
account-apps = Applications with access
account-app-since = Since <time datetime="{ $iso }">{ $date }</time> ({ $ago })
account-app-offline = ; can act while you are away
account-remove-access = Remove access
account-no-apps = No application holds access to your account.
account-mfa = Second step at sign-in
account-totp-on = Authenticator app: <strong>on</strong>. { $count } recovery codes left.
account-mfa-code = Code from your authenticator app, or a recovery code
account-new-codes = New recovery codes
account-turn-off = Turn off
account-totp-off = Authenticator app: off.
account-set-up-totp = Set up an authenticator app
account-no-mfa = Second factors are not available on this server.
account-delete = Delete your account
account-delete-hint = Removes your account, your linked logins and every application's access. It cannot be undone.
account-delete-button = Delete my account…

## account_delete.hbs
delete-heading = Delete your account
delete-lead = This deletes <strong>{ $username }</strong> for good: your profile, linked logins, sessions, second step and every application's access. Applications you are signed in to are told you signed out.
delete-confirmed-with = You confirmed it is you with { $provider }.
delete-submit = Delete my account
delete-password = Your password, to confirm it is you
delete-or-provider = Or confirm by signing in again with a linked login:
delete-by-provider = Confirm it is you by signing in again with a linked login:
delete-confirm-with = Confirm with { $provider }
delete-keep = Keep my account

## account_deleted.hbs
deleted-heading = Your account is deleted
deleted-lead = The account <strong>{ $username }</strong> and everything about it are gone, and you are signed out. Applications you were signed in to have been told.

## account_email.hbs
email-heading = Email address
email-confirmed = confirmed
email-not-confirmed = not confirmed yet
email-none = Your account has no email address.
email-pending = A confirmation link was sent to <strong>{ $pending }</strong>.
email-stays = Your address stays { $email } until you open it.
email-resend = Send the link again
email-change = Change your email address
email-new = New email address
email-current-password = Your current password
email-send = Send a confirmation link

## account_password.hbs
password-change-heading = Change your password
password-set-heading = Set a password
password-lead = for <strong>{ $username }</strong>. Your other sign-ins end; this browser stays signed in.
password-change-submit = Change the password
password-set-submit = Set the password

## Passkeys (login.hbs, mfa.hbs, mfa_enrol.hbs, account.hbs)
login-passkey = Sign in with a passkey
mfa-with-passkey = With a passkey
mfa-passkey-hint = Your device asks for its PIN, fingerprint or face.
mfa-use-passkey = Use a passkey
mfa-passkey-needs-js = Passkeys need JavaScript.
mfa-with-app = With your authenticator app
enrol-step-scan = In your authenticator app, scan this code, or add an account with the key below it (time-based):
enrol-qr-alt = QR code of the key for your authenticator app
enrol-or-passkey = Or use a passkey
enrol-passkey-hint = Your device's screen lock or a security key, instead of an app.
enrol-passkey-name = Name for the passkey
enrol-passkey-placeholder = e.g. Laptop, YubiKey
enrol-passkey-submit = Set up a passkey
enrol-passkey-needs-js = Setting up a passkey needs JavaScript.
account-passkeys = Passkeys
account-passkey-added = Added <time datetime="{ $iso }">{ $date }</time>
account-passkey-used = ; last used { $ago }
account-passkey-unused = ; not used yet
account-passkey-remove-password = Your password or a code, to remove “{ $name }”
account-passkey-remove-code = A code from your app, to remove “{ $name }”
account-passkey-remove = Remove
account-no-passkeys = No passkeys yet. A passkey signs you in with your device's screen lock or a security key, without a password.
account-passkey-name = Name for the new passkey
account-passkey-confirm-password = Your password, or a code from your app
account-passkey-confirm-code = A code from your authenticator app
account-passkey-add = Add a passkey
account-passkey-needs-js = Adding a passkey needs JavaScript.
account-no-passkey-support = Passkeys are not available on this server.

## static/passkeys.js messages, given by the page (data-msg-*)
passkey-js-unsupported = This browser cannot use passkeys.
passkey-js-unavailable = Passkeys cannot be used just now. Reload the page and try again.
passkey-js-cancelled = No passkey was used (cancelled, timed out, or not available on this device). Try again.
