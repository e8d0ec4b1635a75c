# Texts made in Rust that reach pages and mails: titles, errors, notices, scope and method names.

## Page titles (the layout's <title>)
title-home = Home
title-sign-in = Sign in
title-create-account = Create an account
title-allow-access = Allow access
title-confirm = Confirm it's you
title-enrol = Set up an authenticator app
title-recovery-codes = Your recovery codes
title-sign-out = Sign out
title-signed-out = Signed out
title-signed-in = Signed in
title-link-account = Link your account
title-review-profile = Review your profile
title-account = Your account
title-delete-account = Delete your account
title-account-deleted = Account deleted
title-forgot-password = Forgot your password?
title-check-inbox = Check your inbox
title-new-password = Choose a new password
title-password-changed = Password changed
title-change-password = Change your password
title-set-password = Set a password
title-confirm-email = Confirm your email address
title-email-confirmed = Email address confirmed
title-sign-in-to-confirm = Sign in to confirm
title-email-address = Email address
title-unavailable = Temporarily unavailable
title-continue-to = Continue to { $provider }

## Error pages (web/error.rs)
error-refused-title = Request refused
error-too-many-title = Too many attempts
error-too-many = There were too many attempts. For your safety, try again in { $wait }.
error-not-found-title = Not found
error-not-found = There is no page at this address.
error-internal-title = Something went wrong
error-internal = Gatehouse could not finish this request. Please try again; if it keeps failing, give your administrator this reference: { $reference }.
error-csrf = This form has expired or did not come from this site. Go back, reload the page and try again.

## Waits and durations
duration-minutes = { $n ->
    [one] 1 minute
   *[other] { $n } minutes
}
duration-hours = { $n ->
    [one] 1 hour
   *[other] { $n } hours
}
duration-days = { $n ->
    [one] 1 day
   *[other] { $n } days
}

## Interactions (web/interaction.rs)
ix-unknown-title = Sign-in request not found
ix-unknown = This page needs a sign-in request from an application, and this one is unknown. Go back to the application and sign in from there.
ix-finished-title = This sign-in is already finished
ix-finished = This sign-in request was already completed, perhaps in another tab. You can start it again.
ix-expired-title = This sign-in request has expired
ix-expired = You took a while, so this sign-in request expired. Start again to continue to the application.
ix-start-again = Start again
ix-unknown-client-title = Unknown application
ix-unknown-client = The application is no longer registered with Gatehouse.

## Sign-in (login/password.rs, register.rs)
login-invalid = Invalid username or password.
login-no-company = No company sign-in is set up for that email. Sign in with your password.
register-closed-title = Registration is closed
register-closed = This server does not offer self-registration. Ask your administrator for an account.
register-name-too-long = The name may have at most { $max } characters.
register-invalid-email = Enter a valid email address.
register-passwords-differ = The two passwords differ.
register-username-taken = That username is taken. Choose another.
register-username-length = That username is not allowed: it must be 1 to 64 characters.
register-username-email = That username is not allowed: it may not contain @ (an email address is not a username).
register-username-characters = That username is not allowed: use letters, digits and . _ - only, starting with a letter or digit.
register-username-scripts = That username is not allowed: it may not mix letters of different scripts.
register-email-taken = An account with that email address already exists. Sign in instead, or use another address.

## Consent (login/consent.rs): what each scope lets an application do
scope-openid = Know who you are (your account identifier)
scope-profile = See your name and username
scope-email = See your email address
scope-groups = See the groups you belong to
scope-offline-access = Keep access while you are not using it (until you revoke it)
scope-other = Use the “{ $scope }” permission
consent-no-decision-title = Choose allow or deny
consent-no-decision = The consent form was sent without a decision.

## Second factors (login/mfa.rs, web/second_factor.rs)
mfa-enrol-wrong-code = That code is not right. Check that the key was typed correctly and the time on your device.
mfa-enrol-expired = The setup expired. Add the key shown now and try again.
mfa-unavailable-title = Authenticator apps are not available
mfa-unavailable = This server has no key for second factors yet. Ask its administrator.
mfa-wrong-code = That code is not right. Check the time on your device and try again.
mfa-wrong-recovery = That recovery code is not right, or was used already.
mfa-code-used = That code was used already. Wait for the next one.

## The account page: times and sign-in methods (login/account/display.rs)
ago-just-now = just now
ago-minutes = { $n ->
    [one] 1 minute ago
   *[other] { $n } minutes ago
}
ago-hours = { $n ->
    [one] 1 hour ago
   *[other] { $n } hours ago
}
ago-days = { $n ->
    [one] 1 day ago
   *[other] { $n } days ago
}
ago-months = { $n ->
    [one] 1 month ago
   *[other] { $n } months ago
}
ago-years = { $n ->
    [one] 1 year ago
   *[other] { $n } years ago
}
method-password = Password
method-otp = Authenticator app
method-passkey = Passkey
method-pin = PIN
method-device = Device unlock
method-sms = Text message
method-other = Another method
method-unknown = an unknown method
methods-and = { $init } and { $last }

## Authorization requests (oidc/authorize.rs, web/continuation.rs)
authorize-invalid-title = Invalid sign-in request
authorize-invalid = The application sent an invalid request: { $reason }.
authorize-bad-redirect-title = Invalid redirect address
authorize-bad-redirect = The application asked Gatehouse to send you back to an address it has not registered, so Gatehouse stopped here.
authorize-no-client = The application did not say who it is (client_id is missing).
authorize-unknown-client = The application that sent you here is not registered with Gatehouse.
continuation-finished = This sign-in request was already completed, perhaps in another tab.

## Password reset (login/recovery.rs)
recovery-invalid-email = Enter a valid email address.
recovery-sent = If an account has the address { $email }, a link to choose a new password is on its way. It works once, for { $valid_for }. No mail? Check the spam folder, or ask again in a few minutes.
recovery-link-dead-title = This link does not work
recovery-link-dead = This password reset link is unknown, was already used, or has expired. Ask for a new one.
recovery-ask-again = Ask for a new link
recovery-passwords-differ = The two passwords differ.
recovery-sign-in-account = Sign in to your account
recovery-changed = The password of { $username } is changed, and every sign-in of the account has ended. Sign in with the new password.

## Upstream sign-in (web/upstream_start.rs, login/federated.rs)
upstream-failed-title = Sign-in with { $provider } did not work
upstream-unavailable = The identity provider could not be reached. Try again in a moment, or sign in another way.
upstream-authn-failed = The identity provider could not authenticate you. You can try again or sign in another way.
upstream-denied = The identity provider did not sign you in (it was cancelled or refused). You can try again or sign in another way.
upstream-unknown-state = This sign-in response is unknown, expired or was already used. Start the sign-in again.
upstream-other-browser = This sign-in was started in another browser. For your safety it can only finish in the browser where it began: go back to that browser, or start again here.
upstream-unverified = The identity provider's answer could not be verified, so Gatehouse did not trust it. Try again, or sign in another way.
upstream-not-allowed-title = Sign-in method not available
upstream-not-allowed = { $client } does not accept sign-in with { $provider }.
upstream-choose-another = Choose another method
broker-already-linked-title = Already linked
broker-already-linked = This login was linked to an account in the meantime. Sign in again to use it.
broker-account-disabled = This account is disabled.
broker-account-gone = The account linked to this login no longer exists.
broker-link-only = Only people who already have an account here may sign in with { $provider }. Sign in another way, or ask your administrator.
broker-existing-only = This provider may only be used with an existing account.
broker-invalid-username = Choose a username: letters, digits and . _ - only.
broker-missing-email = Your provider did not share an email address. Enter one.
broker-email-taken = That email address belongs to another account. Use another address, or go back and link to that account.
broker-username-refused = That username is not allowed: it { $why }.
broker-create-failed = Gatehouse could not create the account.

## Sign-out requests (oidc/logout.rs)
logout-invalid-title = Sign-out request not valid
logout-unverified = The application sent a sign-out request Gatehouse could not verify.
logout-unknown-client = The application is not registered with Gatehouse.
logout-bad-redirect = The application asked to be sent back to an address it has not registered for sign-out, so Gatehouse stopped here.

## Password change (login/password_change.rs)
password-wrong-current = Your current password is not right.
password-new-differ = The two new passwords differ.
password-same = The new password is the one you have now.
password-changed = The password of { $username } is changed. Your other sign-ins have ended; this browser stays signed in.

## Confirming it is you before an account change (web/reauth.rs)
reauth-no-password = Confirm with a code from your authenticator app: this account has no password.
reauth-wrong = That password or code is not right.

## Ways out of a dead end (web/error_pages.rs, oidc/logout.rs, login/account)
way-out-account = Go to your account
way-out-start = Go to the start page
way-out-sign-out = Sign out here, without returning to the application
account-callback-unknown-title = Sign-in not recognised
account-callback-unknown = This sign-in did not start from this browser's account page.

## Account sub-pages, email address, passkeys, sign-out (added with the second pass)
email-link-broken-title = This link does not work
email-link-broken = This confirmation link is unknown, was already used, was replaced by a newer one, or has expired. Ask for a new one on your account page.
link-your-email = Your email address
link-your-account = Your account
email-link-other-title = This link is for another account
email-link-other = This confirmation link belongs to another account than the one signed in here. Sign out, then sign in to the account the address was added to and open the link again.
email-sign-in-first = To confirm this address, sign in to the account it was added to, then open the link in the mail again.
link-sign-in = Sign in
email-now-confirmed = { $email } is now the confirmed email address of { $username }.
email-taken-title = Address already in use
email-taken-first = Another account confirmed this address first, so it cannot be yours here. Choose another address.
email-no-mail = This server sends no mail, so an address cannot be confirmed or changed here. Ask your administrator.
email-invalid = Enter a valid email address.
email-already-yours = That is already your confirmed address.
email-wrong-password = Your current password is not right.
email-taken = Another account uses that address. Choose another.
email-sent = We sent a confirmation link to { $email }. Open it in this browser to make it your address.
email-none-pending = There is no address waiting to be confirmed.
email-resent = We sent a new confirmation link to { $email }; earlier links no longer work.
account-no-app-title = No such application
account-no-app = That application has no access to your account.
account-no-session-title = No such session
account-no-session = That session does not exist or is not yours.
account-unknown-action-title = Unknown action
account-unknown-action = That is not something the account page does.
profile-name-too-long = The name may have at most { $max } characters.
profile-name-control = The name may not contain control characters.
profile-saved = Your name is saved.
delete-wrong-password = That is not your password. Your account was not deleted.
delete-confirm-linked = Confirm with one of your linked logins first. Your account was not deleted.
linked-removed = Your { $provider } login is no longer linked.
linked-last = Your { $provider } login is the only way to sign in to this account, so it stays linked. Link another provider first.
linked-none-title = No such linked login
linked-none = That login is not linked to your account.
link-back-to-account = Back to your account
upstream-signed-out-title = You were signed out
upstream-signed-out = You were signed out before the provider answered. Sign in and start again.
upstream-not-recognised-title = Not recognised
upstream-not-recognised = This answer belongs to another sign-in. Start again from your account page.
upstream-did-not-confirm = { $provider } did not confirm it
upstream-linked = Your { $provider } login is linked: you can sign in with it now.
upstream-already-linked = That { $provider } login was already linked to your account.
upstream-other-account-title = Linked to another account
upstream-other-account = This { $provider } login already signs in to another account here, so it was not linked to yours. Sign in with it to use that account, or remove it there first.
upstream-not-this-account-title = Not this account's login
upstream-not-this-account = That { $provider } login is not linked to this account, so it cannot confirm deleting it.
passkey-signed-out = You are signed out. Reload the page.
passkey-name-needed = Give the passkey a name of 1 to { $max } characters.
passkey-too-many = Too many attempts. Try again in { $wait }.
passkey-no-ceremony = That passkey request expired or started in another browser. Try again.
passkey-duplicate = That passkey is registered already.
passkey-unverified = The passkey could not be verified. Try again.
passkey-last = That passkey is the only way to sign in to this account, so it stays. Add another way in first.
passkey-none-title = No such passkey
passkey-none = That passkey does not exist or is not yours.
passkey-refused = That passkey could not be verified, or it is not registered here.
passkey-moved-on = This sign-in moved on. Reload the page.
passkey-have-none = You have no passkey. Use another way.
passkey-off-title = Passkeys are not available
passkey-off = This server's address is not a domain name, which passkeys need. Ask its administrator.
saml-logout-invalid-title = Sign-out request not valid
saml-logout-invalid = Gatehouse could not verify this sign-out request from the identity provider, so nothing was changed.
guard-nul-title = Invalid request
guard-nul = A value in this request contains a NUL character, which is never valid here.
redirect-invalid-title = Invalid redirect
redirect-invalid = The redirect address is not valid.

## Dates on the account page (login/account/display.rs)
date-day-clock = { $day } { $month } { $year }, { $clock } UTC
month-1 = Jan
month-2 = Feb
month-3 = Mar
month-4 = Apr
month-5 = May
month-6 = Jun
month-7 = Jul
month-8 = Aug
month-9 = Sep
month-10 = Oct
month-11 = Nov
month-12 = Dec
par-expired-title = Sign-in request expired
par-expired = The application's sign-in request is unknown, expired or already used. Go back to the application and try again.
broker-nothing-to-link-title = Nothing to link
broker-nothing-to-link = There is no external sign-in waiting in this browser. Start again from the login page.
link-back-to-sign-in = Back to sign-in
upstream-no-new-sign-in-title = { $provider } did not ask you to sign in again
upstream-no-new-sign-in = { $provider } answered without a new sign-in, so it does not confirm deleting your account. Your account was not deleted.
