// Passkeys (WebAuthn). A form with data-passkey="create" (register) or "get" (sign in, second
// factor) and data-options="<url>" posts its own fields to that URL for the ceremony's options
// (the server keeps the ceremony's state in this browser's session), asks the browser's
// authenticator, puts the answer as JSON into the form's "credential" field and submits the form.
// Binary fields travel as unpadded base64url, as the server (webauthn-rs) expects.
(function () {
  "use strict";

  function toBytes(s) {
    var b64 = s.replace(/-/g, "+").replace(/_/g, "/");
    while (b64.length % 4) { b64 += "="; }
    var bin = atob(b64);
    var out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) { out[i] = bin.charCodeAt(i); }
    return out.buffer;
  }

  function fromBytes(buf) {
    var bytes = new Uint8Array(buf);
    var bin = "";
    for (var i = 0; i < bytes.length; i++) { bin += String.fromCharCode(bytes[i]); }
    return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function withIds(list) {
    return (list || []).map(function (c) { return Object.assign({}, c, { id: toBytes(c.id) }); });
  }

  function creationOptions(o) {
    var pk = Object.assign({}, o.publicKey);
    pk.challenge = toBytes(pk.challenge);
    pk.user = Object.assign({}, pk.user, { id: toBytes(pk.user.id) });
    pk.excludeCredentials = withIds(pk.excludeCredentials);
    return { publicKey: pk };
  }

  function requestOptions(o) {
    var pk = Object.assign({}, o.publicKey);
    pk.challenge = toBytes(pk.challenge);
    pk.allowCredentials = withIds(pk.allowCredentials);
    return { publicKey: pk };
  }

  function created(cred) {
    var r = cred.response;
    return {
      id: cred.id,
      rawId: fromBytes(cred.rawId),
      type: cred.type,
      response: {
        attestationObject: fromBytes(r.attestationObject),
        clientDataJSON: fromBytes(r.clientDataJSON),
        transports: typeof r.getTransports === "function" ? r.getTransports() : undefined
      },
      extensions: cred.getClientExtensionResults()
    };
  }

  function asserted(cred) {
    var r = cred.response;
    return {
      id: cred.id,
      rawId: fromBytes(cred.rawId),
      type: cred.type,
      response: {
        authenticatorData: fromBytes(r.authenticatorData),
        clientDataJSON: fromBytes(r.clientDataJSON),
        signature: fromBytes(r.signature),
        userHandle: r.userHandle ? fromBytes(r.userHandle) : null
      },
      extensions: cred.getClientExtensionResults()
    };
  }

  // The page gives its messages in its own language (data-msg-*); English when it does not.
  function message(form, name, fallback) {
    return form.dataset[name] || fallback;
  }

  function say(form, text) {
    var status = form.querySelector("[data-passkey-status]");
    if (status) { status.textContent = text; status.hidden = false; }
  }

  async function ceremony(form) {
    if (!window.PublicKeyCredential || !navigator.credentials) {
      say(form, message(form, "msgUnsupported", "This browser cannot use passkeys."));
      return;
    }
    var fields = new URLSearchParams(new FormData(form));
    fields.delete("credential");
    var answer = await fetch(form.dataset.options, {
      method: "POST",
      body: fields,
      credentials: "same-origin",
      headers: { accept: "application/json" }
    });
    var options = await answer.json().catch(function () { return null; });
    if (!answer.ok || !options) {
      say(form, (options && options.error) || message(form, "msgUnavailable", "Passkeys cannot be used just now. Reload the page and try again."));
      return;
    }
    var credential;
    try {
      credential = form.dataset.passkey === "create"
        ? created(await navigator.credentials.create(creationOptions(options)))
        : asserted(await navigator.credentials.get(requestOptions(options)));
    } catch (e) {
      say(form, message(form, "msgCancelled", "No passkey was used (cancelled, timed out, or not available on this device). Try again."));
      return;
    }
    form.elements.credential.value = JSON.stringify(credential);
    form.submit();
  }

  document.addEventListener("DOMContentLoaded", function () {
    var forms = document.querySelectorAll("form[data-passkey]");
    Array.prototype.forEach.call(forms, function (form) {
      form.hidden = false;
      form.addEventListener("submit", function (event) {
        event.preventDefault();
        ceremony(form).catch(function () {
          say(form, message(form, "msgUnavailable", "Passkeys cannot be used just now. Reload the page and try again."));
        });
      });
    });
  });
})();
