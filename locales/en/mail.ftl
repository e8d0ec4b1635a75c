# Mails (templates/mail/*). Text mails get placeables as they are, HTML mails escaped.
mail-hello = Hello { $username },
mail-copy-link = Or copy this address into your browser: { $link }

## verify_email
mail-verify-subject = Confirm your email address for { $site }
mail-verify-body = please confirm that { $email } is your email address on { $site } by opening this link in the browser where you are signed in:
mail-verify-body-html = please confirm that <strong>{ $email }</strong> is your email address on { $site } by opening this link in the browser where you are signed in:
mail-verify-button = Confirm my email address
mail-verify-validity = The link works once, for { $valid_for }. If you did not ask for this, ignore this mail: nothing changes until the link is opened.

## reset_password
mail-reset-subject = Reset your password for { $site }
mail-reset-body = someone (hopefully you) asked to reset the password of your account on { $site }.
mail-reset-choose = Choose a new password here:
mail-reset-button = Choose a new password
mail-reset-validity = The link works once, for { $valid_for }. If you did not ask for this, ignore this mail: your password stays as it is.

## password_changed
mail-changed-subject = Your password was changed on { $site }
mail-changed-body = the password of your account on { $site } was just changed, and every other sign-in of the account was ended.
mail-changed-not-you = If that was not you, reset your password at once:
mail-changed-not-you-html = If that was not you, <a href="{ $link }">reset your password</a> at once.

## email_change_requested
mail-email-change-subject = A new email address was asked for on { $site }
mail-email-change-body = someone signed in to your account on { $site } asked to change its email address to { $hint }. This address stays the account's until the new one is confirmed from the mail sent there; nothing in this mail confirms the change.
mail-email-change-body-html = someone signed in to your account on { $site } asked to change its email address to <strong>{ $hint }</strong>. This address stays the account's until the new one is confirmed from the mail sent there; nothing in this mail confirms the change.
mail-email-change-was-you = If that was you, there is nothing to do.
mail-email-change-not-you = If it was not you, someone else may be signed in to your account. Choose a new password at once (it ends every other sign-in):
mail-email-change-account = and check your account page:
mail-email-change-not-you-html = If it was not you, someone else may be signed in to your account. <a href="{ $reset }">Choose a new password</a> at once (it ends every other sign-in) and check <a href="{ $account }">your account page</a>.
