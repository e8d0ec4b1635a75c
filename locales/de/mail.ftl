# E-Mails (templates/mail/*). Text-Mails erhalten Platzhalter unverändert, HTML-Mails maskiert.
mail-hello = Hallo { $username },
mail-copy-link = Oder kopieren Sie diese Adresse in Ihren Browser: { $link }

## verify_email
mail-verify-subject = Bestätigen Sie Ihre E-Mail-Adresse für { $site }
mail-verify-body = bitte bestätigen Sie, dass { $email } Ihre E-Mail-Adresse bei { $site } ist, indem Sie diesen Link in dem Browser öffnen, in dem Sie angemeldet sind:
mail-verify-body-html = bitte bestätigen Sie, dass <strong>{ $email }</strong> Ihre E-Mail-Adresse bei { $site } ist, indem Sie diesen Link in dem Browser öffnen, in dem Sie angemeldet sind:
mail-verify-button = Meine E-Mail-Adresse bestätigen
mail-verify-validity = Der Link funktioniert einmal, { $valid_for } lang. Wenn Sie das nicht angefordert haben, ignorieren Sie diese Mail: Nichts ändert sich, solange der Link nicht geöffnet wird.

## reset_password
mail-reset-subject = Setzen Sie Ihr Passwort für { $site } zurück
mail-reset-body = jemand (hoffentlich Sie) hat verlangt, das Passwort Ihres Kontos bei { $site } zurückzusetzen.
mail-reset-choose = Wählen Sie hier ein neues Passwort:
mail-reset-button = Neues Passwort wählen
mail-reset-validity = Der Link funktioniert einmal, { $valid_for } lang. Wenn Sie das nicht angefordert haben, ignorieren Sie diese Mail: Ihr Passwort bleibt, wie es ist.

## password_changed
mail-changed-subject = Ihr Passwort bei { $site } wurde geändert
mail-changed-body = das Passwort Ihres Kontos bei { $site } wurde soeben geändert, und alle anderen Anmeldungen des Kontos wurden beendet.
mail-changed-not-you = Wenn Sie das nicht waren, setzen Sie Ihr Passwort sofort zurück:
mail-changed-not-you-html = Wenn Sie das nicht waren, <a href="{ $link }">setzen Sie Ihr Passwort sofort zurück</a>.

## email_change_requested
mail-email-change-subject = Bei { $site } wurde eine neue E-Mail-Adresse angefordert
mail-email-change-body = jemand, der in Ihrem Konto bei { $site } angemeldet ist, hat verlangt, die E-Mail-Adresse in { $hint } zu ändern. Diese Adresse bleibt die des Kontos, bis die neue über die dorthin gesendete Mail bestätigt ist; nichts in dieser Mail bestätigt die Änderung.
mail-email-change-body-html = jemand, der in Ihrem Konto bei { $site } angemeldet ist, hat verlangt, die E-Mail-Adresse in <strong>{ $hint }</strong> zu ändern. Diese Adresse bleibt die des Kontos, bis die neue über die dorthin gesendete Mail bestätigt ist; nichts in dieser Mail bestätigt die Änderung.
mail-email-change-was-you = Wenn Sie das waren, ist nichts zu tun.
mail-email-change-not-you = Wenn Sie es nicht waren, ist vielleicht jemand anderes in Ihrem Konto angemeldet. Wählen Sie sofort ein neues Passwort (das beendet alle anderen Anmeldungen):
mail-email-change-account = und prüfen Sie Ihre Kontoseite:
mail-email-change-not-you-html = Wenn Sie es nicht waren, ist vielleicht jemand anderes in Ihrem Konto angemeldet. <a href="{ $reset }">Wählen Sie sofort ein neues Passwort</a> (das beendet alle anderen Anmeldungen) und prüfen Sie <a href="{ $account }">Ihre Kontoseite</a>.
