# Die Seiten (templates/*.hbs). Platzhalter wie { $client } werden maskiert eingesetzt; die
# Texte selbst dürfen Auszeichnungen (<strong>) enthalten und gelten als vertrauenswürdig.

## layout.hbs
layout-brand = Gatehouse
layout-title = { $title } · Gatehouse

## Von mehreren Seiten genutzt
common-username = Benutzername
common-username-or-email = Benutzername oder E-Mail
common-password = Passwort
common-email = E-Mail
common-full-name = Vollständiger Name
common-optional = (optional)
common-at-least-8 = (mindestens 8 Zeichen)
common-new-password = Neues Passwort
common-repeat-password = Passwort wiederholen
common-repeat-new-password = Neues Passwort wiederholen
common-current-password = Aktuelles Passwort
common-create-account = Konto erstellen
common-continue = Weiter
common-sign-in = Anmelden
common-sign-out = Abmelden
common-home = Gatehouse-Startseite
common-back-to-account = Zurück zu Ihrem Konto
common-back-to-sign-in = Zurück zur Anmeldung
common-other-method = Andere Anmeldemethode wählen
common-for-user = für <strong>{ $username }</strong>.

## home.hbs
home-lead = Ein Single-Sign-on-Server. Anwendungen sehen einen OpenID-Connect-Aussteller unter <code>{ $issuer }</code>; Personen melden sich hier mit einem lokalen Konto an (und, je nach Einrichtung, über den Identitätsanbieter ihrer Firma oder ein soziales Konto).
home-discovery = Discovery:
home-keys = Signaturschlüssel:
home-account = Ihr Konto und wo Sie angemeldet sind
home-demo = Die eingebaute Demo-Anwendung durchläuft einen echten Authorization-Code-Flow mit PKCE gegen diesen Server und zeigt das erhaltene ID-Token.
home-demo-user = Melden Sie sich als <code>{ $user }</code> an (Passwort in <code>config/gatehouse.example.toml</code>).
home-try = Anmeldung ausprobieren

## login.hbs
login-heading = Anmelden
login-lead = um mit <strong>{ $client }</strong> fortzufahren
login-forgot = Passwort vergessen?
login-or = oder
login-with = Mit { $provider } anmelden
login-work-email = Geschäftliche E-Mail
login-work-email-hint = (Firmenanmeldung)
login-work-email-continue = Mit geschäftlicher E-Mail fortfahren
login-new-here = Neu hier?
login-create-account = Konto erstellen

## register.hbs
register-heading = Konto erstellen
register-have-account = Sie haben bereits ein Konto?

## consent.hbs
consent-heading = Zugriff erlauben?
consent-lead = <strong>{ $client }</strong> möchte:
consent-signed-in-as = Angemeldet als { $username }.
consent-deny = Ablehnen
consent-allow = Erlauben

## logout.hbs
logout-heading = Abmelden?
logout-signed-in-as = Sie sind als <strong>{ $username }</strong> angemeldet.
logout-question = Möchten Sie sich von Gatehouse abmelden?
logout-stay = Angemeldet bleiben

## logged_out.hbs
logged-out-heading = Sie sind abgemeldet
logged-out-done = Sie haben sich von Gatehouse abgemeldet.
logged-out-done-apps = Sie haben sich von Gatehouse und den genutzten Anwendungen abgemeldet.
logged-out-close = Sie können dieses Fenster schließen.
logged-out-frame = Abmeldung bei einer Anwendung

## error.hbs
error-request-id = Anfrage-ID:

## forgot_password.hbs
forgot-heading = Passwort vergessen?
forgot-lead = Geben Sie die E-Mail-Adresse Ihres Kontos ein. Gehört sie zu einem Konto, senden wir einen Link, mit dem Sie ein neues Passwort wählen.
forgot-send = Link senden

## reset_password.hbs
reset-heading = Neues Passwort wählen
reset-lead = für <strong>{ $username }</strong>. Alle anderen Anmeldungen des Kontos werden beendet.
reset-submit = Neues Passwort festlegen

## verify_email.hbs
verify-heading = E-Mail-Adresse bestätigen
verify-lead = Ist <strong>{ $email }</strong> Ihre Adresse für das Konto <strong>{ $username }</strong>?
verify-confirm = Ja, bestätigen

## post_form.hbs
post-form-heading = Weiter zu { $provider }
post-form-lead = Sie werden zur Anmeldung an { $provider } weitergeleitet.

## demo_result.hbs
demo-heading = Angemeldet
demo-lead = Die Demo-Anwendung hat ein ID-Token von <code>{ $issuer }</code> erhalten, Signatur, Aussteller, Zielgruppe, Ablauf und Nonce geprüft und den Userinfo-Endpunkt aufgerufen.
demo-claims = Claims des ID-Tokens
demo-userinfo = Userinfo
demo-again = Noch einmal ausführen

## broker_link.hbs
link-heading = Konto verknüpfen
link-signed-in-with = Sie haben sich mit <strong>{ $provider }</strong> angemeldet.
link-email-exists = Hier gibt es bereits ein Konto mit der E-Mail-Adresse { $email }.
link-lead = Um diese Anmeldung mit Ihrem Konto zu verknüpfen, melden Sie sich einmal mit Ihrem Passwort an.
link-submit = Anmelden und verknüpfen
link-not-yours = Nicht Ihr Konto?
link-create-separate = Ein separates Konto erstellen

## broker_profile.hbs
profile-heading = Profil prüfen
profile-lead = Sie haben sich mit <strong>{ $provider }</strong> angemeldet. Prüfen Sie die Angaben Ihres neuen Kontos.

## mfa.hbs
mfa-heading = Bestätigen Sie, dass Sie es sind
mfa-lead = Ein zweiter Schritt, um mit <strong>{ $client }</strong> fortzufahren
mfa-code = Code aus Ihrer Authenticator-App
mfa-use-recovery = Stattdessen einen Wiederherstellungscode verwenden
mfa-recovery-code = Wiederherstellungscode
mfa-codes-left = (noch { $count })
mfa-recovery-submit = Wiederherstellungscode verwenden

## mfa_enrol.hbs
enrol-heading = Authenticator-App einrichten
enrol-required = <strong>{ $client }</strong> verlangt bei der Anmeldung einen zweiten Schritt. Richten Sie ihn einmal ein, um fortzufahren.
enrol-step-add = Fügen Sie in Ihrer Authenticator-App ein Konto mit diesem Schlüssel hinzu (zeitbasiert):
enrol-open-in-app = Auf diesem Gerät können Sie ihn auch <a href="{ $uri }">direkt in der App öffnen</a>.
enrol-step-code = Geben Sie den 6-stelligen Code ein, den die App anzeigt.
enrol-code = Code aus der App
enrol-turn-on = Einschalten
enrol-current-password = Ihr aktuelles Passwort

## mfa_recovery_codes.hbs
codes-heading = Ihre Wiederherstellungscodes
codes-lead = Wenn Sie Ihre Authenticator-App verlieren, meldet Sie jeder dieser Codes einmal an. Bewahren Sie sie sicher auf: Sie werden nur jetzt angezeigt.
codes-saved = Ich habe sie gespeichert, weiter

## account.hbs
account-heading = Ihr Konto
account-signed-in-as = Angemeldet als <strong>{ $username }</strong>.
account-signed-in-as-email = Angemeldet als <strong>{ $username }</strong> ({ $email }).
account-profile = Profil
account-name = Name
account-name-hint = (wird Anwendungen gezeigt, bei denen Sie sich anmelden)
account-save-name = Namen speichern
account-email = E-Mail:
account-verified = (bestätigt)
account-not-verified = (nicht bestätigt)
account-none = keine
account-change-password = Passwort ändern
account-email-address = E-Mail-Adresse
account-methods = Anmeldemöglichkeiten
account-password = Passwort:
account-password-set = festgelegt
account-password-none = keines (Sie melden sich mit einer verknüpften Anmeldung an)
account-linked-logins = Verknüpfte Anmeldungen
account-linked-as = als { $label }
account-linked-when = Verknüpft <time datetime="{ $iso }">{ $date }</time> ({ $ago }); zuletzt genutzt { $used }
account-unlink = Verknüpfung mit { $provider } lösen
account-only-way = Dies ist Ihre einzige Anmeldemöglichkeit, daher kann die Verknüpfung nicht gelöst werden.
account-no-links = Es sind keine Anmeldungen anderer Anbieter verknüpft.
account-link-another = Weitere Anmeldung verknüpfen
account-link = Verknüpfen
account-sessions = Wo Sie angemeldet sind
account-this-browser = Dieser Browser
account-other-browser = Ein anderer Browser oder ein anderes Gerät
account-session-when = Angemeldet <time datetime="{ $iso }">{ $date }</time> ({ $ago }) mit { $method }; zuletzt aktiv { $seen }
account-end-session = Diese Sitzung beenden
account-apps = Anwendungen mit Zugriff
account-app-since = Seit <time datetime="{ $iso }">{ $date }</time> ({ $ago })
account-app-offline = ; kann auch in Ihrer Abwesenheit handeln
account-remove-access = Zugriff entziehen
account-no-apps = Keine Anwendung hat Zugriff auf Ihr Konto.
account-mfa = Zweiter Schritt bei der Anmeldung
account-totp-on = Authenticator-App: <strong>ein</strong>. Noch { $count } Wiederherstellungscodes.
account-mfa-code = Code aus Ihrer Authenticator-App oder ein Wiederherstellungscode
account-new-codes = Neue Wiederherstellungscodes
account-turn-off = Ausschalten
account-totp-off = Authenticator-App: aus.
account-set-up-totp = Authenticator-App einrichten
account-no-mfa = Zweite Faktoren sind auf diesem Server nicht verfügbar.
account-delete = Konto löschen
account-delete-hint = Entfernt Ihr Konto, Ihre verknüpften Anmeldungen und den Zugriff aller Anwendungen. Das lässt sich nicht rückgängig machen.
account-delete-button = Mein Konto löschen …

## account_delete.hbs
delete-heading = Konto löschen
delete-lead = Damit wird <strong>{ $username }</strong> endgültig gelöscht: Ihr Profil, verknüpfte Anmeldungen, Sitzungen, der zweite Schritt und der Zugriff aller Anwendungen. Anwendungen, bei denen Sie angemeldet sind, erfahren, dass Sie sich abgemeldet haben.
delete-confirmed-with = Sie haben mit { $provider } bestätigt, dass Sie es sind.
delete-submit = Mein Konto löschen
delete-password = Ihr Passwort, zur Bestätigung, dass Sie es sind
delete-or-provider = Oder bestätigen Sie durch erneute Anmeldung mit einer verknüpften Anmeldung:
delete-by-provider = Bestätigen Sie durch erneute Anmeldung mit einer verknüpften Anmeldung, dass Sie es sind:
delete-confirm-with = Mit { $provider } bestätigen
delete-keep = Mein Konto behalten

## account_deleted.hbs
deleted-heading = Ihr Konto ist gelöscht
deleted-lead = Das Konto <strong>{ $username }</strong> und alles dazu ist entfernt, und Sie sind abgemeldet. Anwendungen, bei denen Sie angemeldet waren, wurden benachrichtigt.

## account_email.hbs
email-heading = E-Mail-Adresse
email-confirmed = bestätigt
email-not-confirmed = noch nicht bestätigt
email-none = Ihr Konto hat keine E-Mail-Adresse.
email-pending = Ein Bestätigungslink wurde an <strong>{ $pending }</strong> gesendet.
email-stays = Ihre Adresse bleibt { $email }, bis Sie ihn öffnen.
email-resend = Link erneut senden
email-change = E-Mail-Adresse ändern
email-new = Neue E-Mail-Adresse
email-current-password = Ihr aktuelles Passwort
email-send = Bestätigungslink senden

## account_password.hbs
password-change-heading = Passwort ändern
password-set-heading = Passwort festlegen
password-lead = für <strong>{ $username }</strong>. Ihre anderen Anmeldungen werden beendet; dieser Browser bleibt angemeldet.
password-change-submit = Passwort ändern
password-set-submit = Passwort festlegen

## Passkeys (login.hbs, mfa.hbs, mfa_enrol.hbs, account.hbs)
login-passkey = Mit einem Passkey anmelden
mfa-with-passkey = Mit einem Passkey
mfa-passkey-hint = Ihr Gerät fragt nach seiner PIN, Ihrem Fingerabdruck oder Gesicht.
mfa-use-passkey = Passkey verwenden
mfa-passkey-needs-js = Passkeys brauchen JavaScript.
mfa-with-app = Mit Ihrer Authenticator-App
enrol-step-scan = Scannen Sie in Ihrer Authenticator-App diesen Code oder fügen Sie ein Konto mit dem Schlüssel darunter hinzu (zeitbasiert):
enrol-qr-alt = QR-Code des Schlüssels für Ihre Authenticator-App
enrol-or-passkey = Oder einen Passkey verwenden
enrol-passkey-hint = Die Bildschirmsperre Ihres Geräts oder ein Sicherheitsschlüssel statt einer App.
enrol-passkey-name = Name für den Passkey
enrol-passkey-placeholder = z. B. Laptop, YubiKey
enrol-passkey-submit = Passkey einrichten
enrol-passkey-needs-js = Das Einrichten eines Passkeys braucht JavaScript.
account-passkeys = Passkeys
account-passkey-added = Hinzugefügt <time datetime="{ $iso }">{ $date }</time>
account-passkey-used = ; zuletzt genutzt { $ago }
account-passkey-unused = ; noch nicht genutzt
account-passkey-remove-password = Ihr Passwort oder ein Code, um „{ $name }“ zu entfernen
account-passkey-remove-code = Ein Code aus Ihrer App, um „{ $name }“ zu entfernen
account-passkey-remove = Entfernen
account-no-passkeys = Noch keine Passkeys. Ein Passkey meldet Sie mit der Bildschirmsperre Ihres Geräts oder einem Sicherheitsschlüssel an, ohne Passwort.
account-passkey-name = Name für den neuen Passkey
account-passkey-confirm-password = Ihr Passwort oder ein Code aus Ihrer App
account-passkey-confirm-code = Ein Code aus Ihrer Authenticator-App
account-passkey-add = Passkey hinzufügen
account-passkey-needs-js = Das Hinzufügen eines Passkeys braucht JavaScript.
account-no-passkey-support = Passkeys sind auf diesem Server nicht verfügbar.

## static/passkeys.js messages, given by the page (data-msg-*)
passkey-js-unsupported = Dieser Browser kann keine Passkeys verwenden.
passkey-js-unavailable = Passkeys können gerade nicht verwendet werden. Laden Sie die Seite neu und versuchen Sie es erneut.
passkey-js-cancelled = Es wurde kein Passkey verwendet (abgebrochen, Zeit abgelaufen oder auf diesem Gerät nicht verfügbar). Versuchen Sie es erneut.
