// The review queue page (/ui/queues/{id}): keyboard-driven labelling.
// j / k: next / previous run; 1-9: choose a label; s: skip; enter: submit the label.
// Labels and skips are posted with the HX-Request header (the server refuses posts without it).
(function () {
  "use strict";
  var root = document.getElementById("review");
  if (!root) { return; }
  var queue = root.dataset.queue;
  var rows = Array.prototype.slice.call(document.querySelectorAll("#review-items .review-item"));
  var panel = document.getElementById("review-panel");
  var message = document.getElementById("review-message");
  var current = -1;

  function say(text, isError) {
    message.textContent = text;
    message.className = isError ? "error" : "dim";
  }

  function show(index) {
    if (index < 0 || index >= rows.length) { return; }
    current = index;
    rows.forEach(function (r, i) { r.classList.toggle("current", i === index); });
    rows[index].scrollIntoView({block: "nearest"});
    var url = "/ui/queues/" + encodeURIComponent(queue) + "/items/" + rows[index].dataset.position;
    fetch(url, {credentials: "same-origin"}).then(function (resp) {
      return resp.text().then(function (text) {
        if (!resp.ok) { throw new Error(text); }
        panel.innerHTML = text;
        wireForm();
      });
    }).catch(function (err) { say("could not load the run: " + err.message, true); });
  }

  function nextPending(from) {
    for (var i = from + 1; i < rows.length; i++) {
      if (rows[i].querySelector(".review-status").textContent.trim() === "pending") { return i; }
    }
    for (var j = 0; j <= from && j < rows.length; j++) {
      if (rows[j].querySelector(".review-status").textContent.trim() === "pending") { return j; }
    }
    return -1;
  }

  function post(action, data) {
    var body = new URLSearchParams(data);
    return fetch("/ui/queues/" + encodeURIComponent(queue) + "/" + action, {
      method: "POST", credentials: "same-origin", body: body,
      headers: {"HX-Request": "true", "Content-Type": "application/x-www-form-urlencoded"}
    }).then(function (resp) {
      return resp.json().then(function (answer) {
        if (!resp.ok) { throw new Error(answer.error || resp.statusText); }
        return answer;
      });
    });
  }

  function done(answer) {
    var row = rows[current];
    row.querySelector(".review-status").textContent = answer.status;
    say("#" + row.dataset.position + " " + answer.status + (answer.label ? ": " + answer.label : ""), false);
    var n = nextPending(current);
    if (n < 0) { say("queue done: nothing left to review", false); panel.innerHTML = ""; return; }
    show(n);
  }

  function submit() {
    var form = document.getElementById("review-form");
    if (!form) { return; }
    var data = new FormData(form);
    if (!data.get("label")) { say("choose a label first (1-9)", true); return; }
    post("label", data).then(done).catch(function (err) { say(err.message, true); });
  }

  function skip() {
    if (current < 0) { return; }
    post("skip", {run_id: rows[current].dataset.run}).then(done)
      .catch(function (err) { say(err.message, true); });
  }

  function choose(n) {
    var label = panel.querySelector('.review-label[data-key="' + n + '"] input');
    if (!label) { return; }
    label.checked = true;
    panel.querySelectorAll(".review-label").forEach(function (l) {
      l.classList.toggle("chosen", l.contains(label));
    });
  }

  function wireForm() {
    var form = document.getElementById("review-form");
    if (!form) { return; }
    form.addEventListener("submit", function (ev) { ev.preventDefault(); submit(); });
    document.getElementById("review-skip").addEventListener("click", skip);
    form.querySelectorAll('input[name="label"]').forEach(function (input) {
      input.addEventListener("change", function () { choose(input.closest(".review-label").dataset.key); });
    });
  }

  document.addEventListener("keydown", function (ev) {
    if (ev.ctrlKey || ev.metaKey || ev.altKey) { return; }
    var typing = ev.target && (ev.target.tagName === "TEXTAREA" ||
      (ev.target.tagName === "INPUT" && ev.target.type !== "radio"));
    if (typing) { return; }  // the comment and score fields take keys; enter submits the form
    if (ev.key === "j") { show(Math.min(current + 1, rows.length - 1)); }
    else if (ev.key === "k") { show(Math.max(current - 1, 0)); }
    else if (ev.key === "s") { skip(); }
    else if (ev.key === "Enter") { submit(); }
    else if (/^[1-9]$/.test(ev.key)) { choose(ev.key); }
    else { return; }
    ev.preventDefault();
  });

  if (rows.length) {
    var start = rows.findIndex(function (r) { return r.dataset.position === root.dataset.start; });
    show(start < 0 ? 0 : start);
  }
})();
