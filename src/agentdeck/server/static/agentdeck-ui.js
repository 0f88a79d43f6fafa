/* agentdeck UI: the execution graph (cytoscape + dagre layout), the promote / rollback buttons, and the
   error handling of htmx row actions (approvals). */
(function () {
  "use strict";
  var KIND_COLOR = {
    agent: "#8e44ad", llm: "#1f8fb3", tool: "#d48a00", policy: "#2c5aa0",
    handoff: "#b0389f", retrieval: "#3a9d5d", guardrail: "#6b6b6b", eval: "#777", custom: "#999"
  };
  var EDGE_STYLE = {
    parent: {color: "#b8bec7", style: "solid"},
    data: {color: "#1f6fd1", style: "dashed"},
    policy: {color: "#e07b00", style: "dotted"},
    follows: {color: "#8e44ad", style: "dashed"}
  };

  function renderGraph(containerId, dataId) {
    var data = JSON.parse(document.getElementById(dataId).textContent);
    var ids = {};
    var elements = [];
    data.nodes.forEach(function (n) {
      ids[n.id] = true;
      var label = (n.failed ? "\u2717 " : "") + n.kind + ": " + n.name + (n.agent ? "\n[" + n.agent + "]" : "");
      elements.push({data: {id: n.id, label: label, kind: n.kind, status: n.failed ? "error" : n.status}});
    });
    data.edges.forEach(function (e, i) {
      if (!ids[e.source] || !ids[e.target]) { return; }  // a link into another trace
      elements.push({data: {id: "e" + i, source: e.source, target: e.target, kind: e.kind}});
    });
    if (typeof cytoscapeDagre !== "undefined") { cytoscape.use(cytoscapeDagre); }
    var cy = cytoscape({
      container: document.getElementById(containerId),
      elements: elements,
      wheelSensitivity: 0.3,
      style: [
        {selector: "node", style: {
          "label": "data(label)", "text-wrap": "wrap", "font-size": 10, "text-valign": "center",
          "shape": "round-rectangle", "width": 150, "height": 34, "color": "#fff",
          "background-color": function (el) { return KIND_COLOR[el.data("kind")] || "#999"; }}},
        {selector: "node[status = 'error']", style: {"border-width": 3, "border-color": "#d62728"}},
        {selector: "edge", style: {
          "curve-style": "bezier", "target-arrow-shape": "triangle", "width": 1.5,
          "line-color": function (el) { return (EDGE_STYLE[el.data("kind")] || EDGE_STYLE.parent).color; },
          "target-arrow-color": function (el) { return (EDGE_STYLE[el.data("kind")] || EDGE_STYLE.parent).color; },
          "line-style": function (el) { return (EDGE_STYLE[el.data("kind")] || EDGE_STYLE.parent).style; }}}
      ],
      layout: {name: "dagre", rankDir: "TB", nodeSep: 20, rankSep: 40}
    });
    cy.on("tap", "node", function (ev) {
      var step = document.getElementById("step-" + ev.target.id());
      if (step) { step.open = true; step.scrollIntoView({behavior: "smooth"}); }
    });
    window.agentdeckGraph = cy;
    return cy;
  }

  function wireVersionPickers() {
    // the promote / rollback buttons name the exact version the picker beside them holds
    document.querySelectorAll("form.deploy-plan").forEach(function (form) {
      var sel = form.querySelector("select.version-picker"), btn = form.querySelector("button[data-label]");
      if (!sel || !btn) { return; }
      sel.addEventListener("change", function () { btn.textContent = btn.dataset.label.replace("{v}", sel.value); });
    });
  }

  function wireConfirmDeploy() {
    // the plan page's confirm button: the API's promote / rollback with the session cookie
    var form = document.getElementById("confirm-form");
    if (!form) { return; }
    form.addEventListener("submit", async function (ev) {
      ev.preventDefault();
      var d = form.dataset, btn = document.getElementById("confirm-deploy");
      var reason = document.getElementById("plan-reason").value.trim();
      var url, body;
      if (d.action === "promote") {
        url = "/api/v1/deployments/promote";
        body = {ref: d.ref, env: d.env, force: d.force === "true", reason: reason};
      } else {
        url = "/api/v1/deployments/rollback";
        body = {agent: d.agent, env: d.env, to: d.ref, reason: reason};
      }
      btn.disabled = true;
      var resp = await fetch(url, {
        method: "POST", credentials: "same-origin",
        headers: {"Content-Type": "application/json", "X-Agentdeck-UI": "1"},
        body: JSON.stringify(body)
      }).catch(function () { return null; });
      if (resp && resp.ok) { window.location.assign("/ui/envs#env-" + d.env); return; }
      var box = document.getElementById("action-error");
      box.textContent = resp ? await errorBody(resp) : "the server did not answer; try again";
      box.hidden = false;
      btn.disabled = false;
    });
  }

  async function errorBody(resp) {
    var text = await resp.text().catch(function () { return ""; });
    try { return JSON.parse(text).error || resp.statusText; } catch (e) { return resp.status + " " + resp.statusText; }
  }

  function errorText(xhr) {
    // JSON {"error": ...} from the API error handler, or the sign-in / "not allowed" page.
    try { return JSON.parse(xhr.responseText).error || xhr.statusText; } catch (e) { /* HTML */ }
    var doc = new DOMParser().parseFromString(xhr.responseText || "", "text/html");
    if (doc.getElementById("login")) { return "not signed in (signed out, or the key was revoked): reload the page and sign in again"; }
    var msg = doc.getElementById("error-message");
    return msg ? msg.textContent : (xhr.status + " " + xhr.statusText);
  }

  function wireHtmxActions(boxId) {
    // htmx row actions: a 409 (decided too late) carries the row as it now stands, with the
    // reason, and is swapped in like a success; any other refusal goes to the error box.
    var box = document.getElementById(boxId);
    document.body.addEventListener("htmx:beforeSwap", function (ev) {
      if (ev.detail.xhr.status === 409) { ev.detail.shouldSwap = true; ev.detail.isError = false; }
    });
    document.body.addEventListener("htmx:afterRequest", function (ev) {
      if (ev.detail.successful || ev.detail.xhr.status === 409) { box.hidden = true; }
    });
    document.body.addEventListener("htmx:responseError", function (ev) {
      box.textContent = errorText(ev.detail.xhr);
      box.hidden = false;
    });
    document.body.addEventListener("htmx:sendError", function () {
      box.textContent = "the server did not answer; try again";
      box.hidden = false;
    });
  }

  window.agentdeckUI = {renderGraph: renderGraph, wireVersionPickers: wireVersionPickers, wireConfirmDeploy: wireConfirmDeploy, wireHtmxActions: wireHtmxActions};
})();
