# In Rust erzeugte Texte, die Seiten und E-Mails erreichen: Titel, Fehler, Hinweise, Scope- und Methodennamen.

## Seitentitel (das <title> des Layouts)
title-home = Startseite
title-sign-in = Anmelden
title-create-account = Konto erstellen
title-allow-access = Zugriff erlauben
title-confirm = Bestätigen Sie, dass Sie es sind
title-enrol = Authenticator-App einrichten
title-recovery-codes = Ihre Wiederherstellungscodes
title-sign-out = Abmelden
title-signed-out = Abgemeldet
title-signed-in = Angemeldet
title-link-account = Konto verknüpfen
title-review-profile = Profil prüfen
title-account = Ihr Konto
title-delete-account = Konto löschen
title-account-deleted = Konto gelöscht
title-forgot-password = Passwort vergessen?
title-check-inbox = Sehen Sie in Ihr Postfach
title-new-password = Neues Passwort wählen
title-password-changed = Passwort geändert
title-change-password = Passwort ändern
title-set-password = Passwort festlegen
title-confirm-email = E-Mail-Adresse bestätigen
title-email-confirmed = E-Mail-Adresse bestätigt
title-sign-in-to-confirm = Zum Bestätigen anmelden
title-email-address = E-Mail-Adresse
title-unavailable = Vorübergehend nicht verfügbar
title-continue-to = Weiter zu { $provider }

## Fehlerseiten (web/error.rs)
error-refused-title = Anfrage abgelehnt
error-too-many-title = Zu viele Versuche
error-too-many = Es gab zu viele Versuche. Zu Ihrer Sicherheit versuchen Sie es in { $wait } erneut.
error-not-found-title = Nicht gefunden
error-not-found = Unter dieser Adresse gibt es keine Seite.
error-internal-title = Etwas ist schiefgelaufen
error-internal = Gatehouse konnte diese Anfrage nicht abschließen. Bitte versuchen Sie es erneut; wenn es weiterhin fehlschlägt, nennen Sie Ihrer Administration diese Referenz: { $reference }.
error-csrf = Dieses Formular ist abgelaufen oder stammt nicht von dieser Website. Gehen Sie zurück, laden Sie die Seite neu und versuchen Sie es erneut.

## Wartezeiten und Dauern
duration-minutes = { $n ->
    [one] 1 Minute
   *[other] { $n } Minuten
}
duration-hours = { $n ->
    [one] 1 Stunde
   *[other] { $n } Stunden
}
duration-days = { $n ->
    [one] 1 Tag
   *[other] { $n } Tage
}

## Anmeldeanfragen (web/interaction.rs)
ix-unknown-title = Anmeldeanfrage nicht gefunden
ix-unknown = Diese Seite braucht eine Anmeldeanfrage einer Anwendung, und diese ist unbekannt. Gehen Sie zurück zur Anwendung und melden Sie sich von dort aus an.
ix-finished-title = Diese Anmeldung ist bereits abgeschlossen
ix-finished = Diese Anmeldeanfrage wurde bereits abgeschlossen, vielleicht in einem anderen Tab. Sie können sie neu starten.
ix-expired-title = Diese Anmeldeanfrage ist abgelaufen
ix-expired = Das hat eine Weile gedauert, daher ist diese Anmeldeanfrage abgelaufen. Starten Sie neu, um zur Anwendung zu gelangen.
ix-start-again = Neu starten
ix-unknown-client-title = Unbekannte Anwendung
ix-unknown-client = Die Anwendung ist bei Gatehouse nicht mehr registriert.

## Anmeldung (login/password.rs, register.rs)
login-invalid = Benutzername oder Passwort ist falsch.
login-no-company = Für diese E-Mail-Adresse ist keine Firmenanmeldung eingerichtet. Melden Sie sich mit Ihrem Passwort an.
register-closed-title = Registrierung geschlossen
register-closed = Dieser Server bietet keine Selbstregistrierung an. Bitten Sie Ihre Administration um ein Konto.
register-name-too-long = Der Name darf höchstens { $max } Zeichen haben.
register-invalid-email = Geben Sie eine gültige E-Mail-Adresse ein.
register-passwords-differ = Die beiden Passwörter stimmen nicht überein.
register-username-taken = Dieser Benutzername ist vergeben. Wählen Sie einen anderen.
register-username-length = Dieser Benutzername ist nicht erlaubt: Er muss 1 bis 64 Zeichen lang sein.
register-username-email = Dieser Benutzername ist nicht erlaubt: Er darf kein @ enthalten (eine E-Mail-Adresse ist kein Benutzername).
register-username-characters = Dieser Benutzername ist nicht erlaubt: Nur Buchstaben, Ziffern und . _ - sind erlaubt, am Anfang ein Buchstabe oder eine Ziffer.
register-username-scripts = Dieser Benutzername ist nicht erlaubt: Er darf keine Buchstaben verschiedener Schriften mischen.
register-email-taken = Ein Konto mit dieser E-Mail-Adresse existiert bereits. Melden Sie sich stattdessen an oder verwenden Sie eine andere Adresse.

## Einwilligung (login/consent.rs): was jeder Scope einer Anwendung erlaubt
scope-openid = Wissen, wer Sie sind (Ihre Konto-Kennung)
scope-profile = Ihren Namen und Benutzernamen sehen
scope-email = Ihre E-Mail-Adresse sehen
scope-groups = Die Gruppen sehen, denen Sie angehören
scope-offline-access = Zugriff behalten, während Sie sie nicht nutzen (bis Sie ihn entziehen)
scope-other = Die Berechtigung „{ $scope }“ nutzen
consent-no-decision-title = Erlauben oder ablehnen
consent-no-decision = Das Einwilligungsformular wurde ohne Entscheidung gesendet.

## Zweite Faktoren (login/mfa.rs, web/second_factor.rs)
mfa-enrol-wrong-code = Dieser Code stimmt nicht. Prüfen Sie, ob der Schlüssel richtig eingegeben wurde und die Uhrzeit Ihres Geräts stimmt.
mfa-enrol-expired = Die Einrichtung ist abgelaufen. Fügen Sie den jetzt angezeigten Schlüssel hinzu und versuchen Sie es erneut.
mfa-unavailable-title = Authenticator-Apps sind nicht verfügbar
mfa-unavailable = Dieser Server hat noch keinen Schlüssel für zweite Faktoren. Fragen Sie seine Administration.
mfa-wrong-code = Dieser Code stimmt nicht. Prüfen Sie die Uhrzeit Ihres Geräts und versuchen Sie es erneut.
mfa-wrong-recovery = Dieser Wiederherstellungscode stimmt nicht oder wurde bereits verwendet.
mfa-code-used = Dieser Code wurde bereits verwendet. Warten Sie auf den nächsten.

## Die Kontoseite: Zeiten und Anmeldemethoden (login/account/display.rs)
ago-just-now = gerade eben
ago-minutes = { $n ->
    [one] vor 1 Minute
   *[other] vor { $n } Minuten
}
ago-hours = { $n ->
    [one] vor 1 Stunde
   *[other] vor { $n } Stunden
}
ago-days = { $n ->
    [one] vor 1 Tag
   *[other] vor { $n } Tagen
}
ago-months = { $n ->
    [one] vor 1 Monat
   *[other] vor { $n } Monaten
}
ago-years = { $n ->
    [one] vor 1 Jahr
   *[other] vor { $n } Jahren
}
method-password = Passwort
method-otp = Authenticator-App
method-passkey = Passkey
method-pin = PIN
method-device = Geräteentsperrung
method-sms = SMS
method-other = Eine andere Methode
method-unknown = einer unbekannten Methode
methods-and = { $init } und { $last }

## Autorisierungsanfragen (oidc/authorize.rs, web/continuation.rs)
authorize-invalid-title = Ungültige Anmeldeanfrage
authorize-invalid = Die Anwendung hat eine ungültige Anfrage gesendet: { $reason }.
authorize-bad-redirect-title = Ungültige Rücksprungadresse
authorize-bad-redirect = Die Anwendung wollte Sie von Gatehouse an eine Adresse zurückschicken lassen, die sie nicht registriert hat; daher hat Gatehouse hier angehalten.
authorize-no-client = Die Anwendung hat nicht gesagt, wer sie ist (client_id fehlt).
authorize-unknown-client = Die Anwendung, die Sie hierher geschickt hat, ist bei Gatehouse nicht registriert.
continuation-finished = Diese Anmeldeanfrage wurde bereits abgeschlossen, vielleicht in einem anderen Tab.

## Passwort zurücksetzen (login/recovery.rs)
recovery-invalid-email = Geben Sie eine gültige E-Mail-Adresse ein.
recovery-sent = Wenn ein Konto die Adresse { $email } hat, ist ein Link zum Wählen eines neuen Passworts unterwegs. Er funktioniert einmal, { $valid_for } lang. Keine Mail? Sehen Sie im Spam-Ordner nach oder fragen Sie in ein paar Minuten erneut.
recovery-link-dead-title = Dieser Link funktioniert nicht
recovery-link-dead = Dieser Link zum Zurücksetzen des Passworts ist unbekannt, wurde bereits verwendet oder ist abgelaufen. Fordern Sie einen neuen an.
recovery-ask-again = Neuen Link anfordern
recovery-passwords-differ = Die beiden Passwörter stimmen nicht überein.
recovery-sign-in-account = Bei Ihrem Konto anmelden
recovery-changed = Das Passwort von { $username } ist geändert, und alle Anmeldungen des Kontos wurden beendet. Melden Sie sich mit dem neuen Passwort an.

## Anmeldung bei einem Anbieter (web/upstream_start.rs, login/federated.rs)
upstream-failed-title = Die Anmeldung mit { $provider } hat nicht funktioniert
upstream-unavailable = Der Identitätsanbieter war nicht erreichbar. Versuchen Sie es gleich noch einmal oder melden Sie sich anders an.
upstream-authn-failed = Der Identitätsanbieter konnte Sie nicht authentifizieren. Sie können es erneut versuchen oder sich anders anmelden.
upstream-denied = Der Identitätsanbieter hat Sie nicht angemeldet (abgebrochen oder abgelehnt). Sie können es erneut versuchen oder sich anders anmelden.
upstream-unknown-state = Diese Anmeldeantwort ist unbekannt, abgelaufen oder wurde bereits verwendet. Starten Sie die Anmeldung neu.
upstream-other-browser = Diese Anmeldung wurde in einem anderen Browser begonnen. Zu Ihrer Sicherheit kann sie nur dort abgeschlossen werden: Wechseln Sie zurück in diesen Browser oder beginnen Sie hier neu.
upstream-unverified = Die Antwort des Identitätsanbieters ließ sich nicht prüfen, daher hat Gatehouse ihr nicht vertraut. Versuchen Sie es erneut oder melden Sie sich anders an.
upstream-not-allowed-title = Anmeldemethode nicht verfügbar
upstream-not-allowed = { $client } akzeptiert keine Anmeldung mit { $provider }.
upstream-choose-another = Andere Methode wählen
broker-already-linked-title = Bereits verknüpft
broker-already-linked = Diese Anmeldung wurde inzwischen mit einem Konto verknüpft. Melden Sie sich erneut an, um sie zu nutzen.
broker-account-disabled = Dieses Konto ist gesperrt.
broker-account-gone = Das mit dieser Anmeldung verknüpfte Konto existiert nicht mehr.
broker-link-only = Nur Personen, die hier bereits ein Konto haben, dürfen sich mit { $provider } anmelden. Melden Sie sich anders an oder fragen Sie Ihre Administration.
broker-existing-only = Dieser Anbieter kann nur mit einem bestehenden Konto verwendet werden.
broker-invalid-username = Wählen Sie einen Benutzernamen: nur Buchstaben, Ziffern und . _ -.
broker-missing-email = Ihr Anbieter hat keine E-Mail-Adresse mitgeteilt. Geben Sie eine ein.
broker-email-taken = Diese E-Mail-Adresse gehört zu einem anderen Konto. Verwenden Sie eine andere Adresse oder gehen Sie zurück und verknüpfen Sie mit diesem Konto.
broker-username-refused = Dieser Benutzername ist nicht erlaubt ({ $why }).
broker-create-failed = Gatehouse konnte das Konto nicht erstellen.

## Abmeldeanfragen (oidc/logout.rs)
logout-invalid-title = Ungültige Abmeldeanfrage
logout-unverified = Die Anwendung hat eine Abmeldeanfrage gesendet, die Gatehouse nicht prüfen konnte.
logout-unknown-client = Die Anwendung ist bei Gatehouse nicht registriert.
logout-bad-redirect = Die Anwendung wollte an eine Adresse zurückgeschickt werden, die sie für die Abmeldung nicht registriert hat; daher hat Gatehouse hier angehalten.

## Passwort ändern (login/password_change.rs)
password-wrong-current = Ihr aktuelles Passwort stimmt nicht.
password-new-differ = Die beiden neuen Passwörter stimmen nicht überein.
password-same = Das neue Passwort ist das, das Sie bereits haben.
password-changed = Das Passwort von { $username } ist geändert. Ihre anderen Anmeldungen wurden beendet; dieser Browser bleibt angemeldet.

## Bestätigen, dass Sie es sind, vor einer Kontoänderung (web/reauth.rs)
reauth-no-password = Bestätigen Sie mit einem Code aus Ihrer Authenticator-App: Dieses Konto hat kein Passwort.
reauth-wrong = Dieses Passwort oder dieser Code stimmt nicht.

## Ways out of a dead end (web/error_pages.rs, oidc/logout.rs, login/account)
way-out-account = Zu Ihrem Konto
way-out-start = Zur Startseite
way-out-sign-out = Hier abmelden, ohne zur Anwendung zurückzukehren
account-callback-unknown-title = Anmeldung nicht erkannt
account-callback-unknown = Diese Anmeldung begann nicht auf der Kontoseite dieses Browsers.

## Account sub-pages, email address, passkeys, sign-out (added with the second pass)
email-link-broken-title = Dieser Link funktioniert nicht
email-link-broken = Dieser Bestätigungslink ist unbekannt, wurde schon benutzt, durch einen neueren ersetzt oder ist abgelaufen. Fordern Sie auf Ihrer Kontoseite einen neuen an.
link-your-email = Ihre E-Mail-Adresse
link-your-account = Ihr Konto
email-link-other-title = Dieser Link gehört zu einem anderen Konto
email-link-other = Dieser Bestätigungslink gehört zu einem anderen Konto als dem hier angemeldeten. Melden Sie sich ab, dann bei dem Konto an, dem die Adresse hinzugefügt wurde, und öffnen Sie den Link erneut.
email-sign-in-first = Um diese Adresse zu bestätigen, melden Sie sich bei dem Konto an, dem sie hinzugefügt wurde, und öffnen Sie dann den Link in der Mail erneut.
link-sign-in = Anmelden
email-now-confirmed = { $email } ist jetzt die bestätigte E-Mail-Adresse von { $username }.
email-taken-title = Adresse schon vergeben
email-taken-first = Ein anderes Konto hat diese Adresse zuerst bestätigt, daher kann sie hier nicht Ihre sein. Wählen Sie eine andere Adresse.
email-no-mail = Dieser Server versendet keine Mails, daher kann hier keine Adresse bestätigt oder geändert werden. Fragen Sie Ihre Administration.
email-invalid = Geben Sie eine gültige E-Mail-Adresse ein.
email-already-yours = Das ist bereits Ihre bestätigte Adresse.
email-wrong-password = Ihr aktuelles Passwort stimmt nicht.
email-taken = Ein anderes Konto nutzt diese Adresse. Wählen Sie eine andere.
email-sent = Wir haben einen Bestätigungslink an { $email } gesendet. Öffnen Sie ihn in diesem Browser, um die Adresse zu Ihrer zu machen.
email-none-pending = Keine Adresse wartet auf Bestätigung.
email-resent = Wir haben einen neuen Bestätigungslink an { $email } gesendet; frühere Links funktionieren nicht mehr.
account-no-app-title = Keine solche Anwendung
account-no-app = Diese Anwendung hat keinen Zugriff auf Ihr Konto.
account-no-session-title = Keine solche Sitzung
account-no-session = Diese Sitzung gibt es nicht, oder sie gehört nicht Ihnen.
account-unknown-action-title = Unbekannte Aktion
account-unknown-action = Das kann die Kontoseite nicht.
profile-name-too-long = Der Name darf höchstens { $max } Zeichen haben.
profile-name-control = Der Name darf keine Steuerzeichen enthalten.
profile-saved = Ihr Name ist gespeichert.
delete-wrong-password = Das ist nicht Ihr Passwort. Ihr Konto wurde nicht gelöscht.
delete-confirm-linked = Bestätigen Sie zuerst mit einer Ihrer verknüpften Anmeldungen. Ihr Konto wurde nicht gelöscht.
linked-removed = Ihre { $provider }-Anmeldung ist nicht mehr verknüpft.
linked-last = Ihre { $provider }-Anmeldung ist der einzige Weg in dieses Konto und bleibt daher verknüpft. Verknüpfen Sie zuerst einen anderen Anbieter.
linked-none-title = Keine solche verknüpfte Anmeldung
linked-none = Diese Anmeldung ist nicht mit Ihrem Konto verknüpft.
link-back-to-account = Zurück zu Ihrem Konto
upstream-signed-out-title = Sie wurden abgemeldet
upstream-signed-out = Sie wurden abgemeldet, bevor der Anbieter antwortete. Melden Sie sich an und beginnen Sie erneut.
upstream-not-recognised-title = Nicht erkannt
upstream-not-recognised = Diese Antwort gehört zu einer anderen Anmeldung. Beginnen Sie erneut auf Ihrer Kontoseite.
upstream-did-not-confirm = { $provider } hat es nicht bestätigt
upstream-linked = Ihre { $provider }-Anmeldung ist verknüpft: Sie können sich jetzt damit anmelden.
upstream-already-linked = Diese { $provider }-Anmeldung war schon mit Ihrem Konto verknüpft.
upstream-other-account-title = Mit einem anderen Konto verknüpft
upstream-other-account = Diese { $provider }-Anmeldung meldet hier schon bei einem anderen Konto an und wurde daher nicht mit Ihrem verknüpft. Melden Sie sich damit an, um jenes Konto zu nutzen, oder entfernen Sie sie dort zuerst.
upstream-not-this-account-title = Nicht die Anmeldung dieses Kontos
upstream-not-this-account = Diese { $provider }-Anmeldung ist nicht mit diesem Konto verknüpft und kann seine Löschung daher nicht bestätigen.
passkey-signed-out = Sie sind abgemeldet. Laden Sie die Seite neu.
passkey-name-needed = Geben Sie dem Passkey einen Namen mit 1 bis { $max } Zeichen.
passkey-too-many = Zu viele Versuche. Versuchen Sie es in { $wait } erneut.
passkey-no-ceremony = Diese Passkey-Anfrage ist abgelaufen oder wurde in einem anderen Browser begonnen. Versuchen Sie es erneut.
passkey-duplicate = Dieser Passkey ist schon registriert.
passkey-unverified = Der Passkey konnte nicht geprüft werden. Versuchen Sie es erneut.
passkey-last = Dieser Passkey ist der einzige Weg in dieses Konto und bleibt daher. Richten Sie zuerst einen anderen Weg ein.
passkey-none-title = Kein solcher Passkey
passkey-none = Diesen Passkey gibt es nicht, oder er gehört nicht Ihnen.
passkey-refused = Dieser Passkey konnte nicht geprüft werden oder ist hier nicht registriert.
passkey-moved-on = Diese Anmeldung ist schon weiter. Laden Sie die Seite neu.
passkey-have-none = Sie haben keinen Passkey. Nutzen Sie einen anderen Weg.
passkey-off-title = Passkeys sind nicht verfügbar
passkey-off = Die Adresse dieses Servers ist kein Domainname, den Passkeys brauchen. Fragen Sie die Administration.
saml-logout-invalid-title = Abmeldeanfrage ungültig
saml-logout-invalid = Gatehouse konnte diese Abmeldeanfrage des Identitätsanbieters nicht prüfen; es wurde nichts geändert.
guard-nul-title = Ungültige Anfrage
guard-nul = Ein Wert dieser Anfrage enthält ein NUL-Zeichen, das hier nie gültig ist.
redirect-invalid-title = Ungültige Weiterleitung
redirect-invalid = Die Weiterleitungsadresse ist nicht gültig.

## Dates on the account page (login/account/display.rs)
date-day-clock = { $day }. { $month } { $year }, { $clock } UTC
month-1 = Jan.
month-2 = Feb.
month-3 = März
month-4 = Apr.
month-5 = Mai
month-6 = Juni
month-7 = Juli
month-8 = Aug.
month-9 = Sept.
month-10 = Okt.
month-11 = Nov.
month-12 = Dez.
par-expired-title = Anmeldeanfrage abgelaufen
par-expired = Die Anmeldeanfrage der Anwendung ist unbekannt, abgelaufen oder schon benutzt. Gehen Sie zur Anwendung zurück und versuchen Sie es erneut.
broker-nothing-to-link-title = Nichts zu verknüpfen
broker-nothing-to-link = In diesem Browser wartet keine externe Anmeldung. Beginnen Sie erneut auf der Anmeldeseite.
link-back-to-sign-in = Zurück zur Anmeldung
upstream-no-new-sign-in-title = { $provider } hat Sie nicht erneut anmelden lassen
upstream-no-new-sign-in = { $provider } hat ohne neue Anmeldung geantwortet und bestätigt daher das Löschen Ihres Kontos nicht. Ihr Konto wurde nicht gelöscht.
