// NextAuth's client: fetch the CSRF token, ask for the auth0 sign-in URL, go there.
(function () {
  "use strict";
  async function signIn(extra) {
    var csrf = await (await fetch("/api/auth/csrf", { credentials: "same-origin" })).json();
    var body = new URLSearchParams({ callbackUrl: window.location.origin + "/chat", csrfToken: csrf.csrfToken, json: "true" });
    var res = await fetch("/api/auth/signin/auth0?prompt=login" + extra, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/x-www-form-urlencoded" }, body: body
    });
    var data = await res.json();
    window.location.href = data.url;
  }
  document.getElementById("login-button").addEventListener("click", function () { signIn(""); });
  document.getElementById("signup-button").addEventListener("click", function () { signIn("&screen_hint=signup"); });
})();
