// Posts the page's form at once (SAML HTTP-POST binding); the button stays for no-script browsers.
document.addEventListener("DOMContentLoaded", function () {
  var form = document.getElementById("autosubmit");
  if (form) { form.submit(); }
});
