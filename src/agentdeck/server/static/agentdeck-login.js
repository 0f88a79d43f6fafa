// The sign-in form: trade the API key for a session cookie, then reload the page.
(function () {
  "use strict";
  document.getElementById("login").addEventListener("submit", async function (ev) {
    ev.preventDefault();
    var key = document.getElementById("key").value.trim();
    var resp = await fetch("/ui/session", {method: "POST", headers: {"Authorization": "Bearer " + key}});
    if (resp.ok) { window.location.reload(); return; }
    var body = await resp.json().catch(function () { return {error: resp.statusText}; });
    document.getElementById("login-message").textContent = body.error || "refused";
  });
})();
