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
    follows: {color: "#8e44ad", style: "dashed"},
    handoff: {color: "#b0389f", style: "solid", width: 3.5},
    tool_call: {color: "#d48a00", style: "dotted"}
  };
  // Graph labels are never drawn smaller than this (CSS px): the graph pans instead of shrinking.
  var FONT_PX = 12, MIN_LABEL_PX = 11;

  function nodeLabel(n) {
    // "policy: policy support-refunds" says "policy" twice: the kind only when the name lacks it.
    var name = String(n.name || ""), lower = name.toLowerCase();
    var head = (lower === n.kind || lower.indexOf(n.kind + " ") === 0) ? name : n.kind + ": " + name;
    var agent = n.agent && name.indexOf(n.agent) < 0 ? "\n[" + n.agent + "]" : "";
    return (n.failed ? "\u2717 " : "") + head + agent;
  }

  function edgeStyle(el) { return EDGE_STYLE[el.data("kind")] || EDGE_STYLE.parent; }

  function readableView(cy, container) {
    // Fit when the labels stay readable; otherwise keep the minimum zoom and show the graph's
    // top (its first steps), centred, and let the reader pan.
    cy.minZoom(MIN_LABEL_PX / FONT_PX);
    cy.maxZoom(2);
    cy.fit(undefined, 20);
    if (cy.zoom() > 1.25) { cy.zoom(1.25); cy.center(); }
    var bb = cy.elements().boundingBox();
    if (bb.h * cy.zoom() > container.clientHeight - 20 || bb.w * cy.zoom() > container.clientWidth - 20) {
      var z = cy.zoom();
      cy.pan({x: container.clientWidth / 2 - (bb.x1 + bb.w / 2) * z, y: 20 - bb.y1 * z});
      if (bb.w * z > container.clientWidth - 20) { cy.pan({x: 20 - bb.x1 * z, y: 20 - bb.y1 * z}); }
    }
  }

  function renderGraph(containerId, dataId) {
    var data = JSON.parse(document.getElementById(dataId).textContent);
    var ids = {};
    var elements = [];
    data.nodes.forEach(function (n) {
      ids[n.id] = true;
      elements.push({data: {id: n.id, label: nodeLabel(n), kind: n.kind, status: n.failed ? "error" : n.status}});
    });
    data.edges.forEach(function (e, i) {
      if (!ids[e.source] || !ids[e.target]) { return; }  // a link into another trace
      elements.push({data: {id: "e" + i, source: e.source, target: e.target, kind: e.kind,
                            label: e.kind === "handoff" ? "hand-off" : ""}});
    });
    if (typeof cytoscapeDagre !== "undefined") { cytoscape.use(cytoscapeDagre); }
    var container = document.getElementById(containerId);
    if (data.nodes.length > 12) { container.style.height = Math.min(720, 300 + 22 * data.nodes.length) + "px"; }
    var cy = cytoscape({
      container: container,
      elements: elements,
      wheelSensitivity: 0.3,
      style: [
        {selector: "node", style: {
          "label": "data(label)", "text-wrap": "wrap", "text-max-width": 176, "font-size": FONT_PX,
          "text-valign": "center", "shape": "round-rectangle", "width": 184, "height": 40, "color": "#fff",
          "background-color": function (el) { return KIND_COLOR[el.data("kind")] || "#999"; }}},
        {selector: "node[status = 'error']", style: {"border-width": 3, "border-color": "#d62728"}},
        {selector: "node:selected", style: {"border-width": 3, "border-color": "#1d232b"}},
        {selector: "edge", style: {
          "curve-style": "bezier", "target-arrow-shape": "triangle",
          "width": function (el) { return edgeStyle(el).width || 1.5; },
          "line-color": function (el) { return edgeStyle(el).color; },
          "target-arrow-color": function (el) { return edgeStyle(el).color; },
          "line-style": function (el) { return edgeStyle(el).style; },
          "label": "data(label)", "font-size": 11, "color": "#b0389f", "text-background-color": "#fff",
          "text-background-opacity": 1}}
      ]
    });
    cy.layout({name: typeof cytoscapeDagre !== "undefined" ? "dagre" : "breadthfirst",
               rankDir: "TB", nodeSep: 24, rankSep: 44, fit: false}).run();
    readableView(cy, container);
    cy.on("tap", "node", function (ev) {
      var step = document.getElementById("step-" + ev.target.id());
      if (step) { step.open = true; step.scrollIntoView({behavior: "smooth"}); }
    });
    document.querySelectorAll("#span-tree a.tree-node").forEach(function (a) {
      a.addEventListener("click", function () {
        var node = cy.getElementById(a.dataset.spanId);
        if (node.nonempty()) { cy.nodes().unselect(); node.select(); cy.center(node); }
      });
    });
    window.agentdeckGraph = cy;
    return cy;
  }

  function wireSteps() {
    // Expand / collapse every step; a link to a closed <details> (a step, a tool set) opens it.
    function setAll(open) {
      document.querySelectorAll("#steps details.step").forEach(function (d) { d.open = open; });
    }
    var expand = document.getElementById("expand-all"), collapse = document.getElementById("collapse-all");
    if (expand) { expand.addEventListener("click", function () { setAll(true); }); }
    if (collapse) { collapse.addEventListener("click", function () { setAll(false); }); }
    function openTarget() {
      var id = decodeURIComponent(window.location.hash.slice(1));
      var el = id ? document.getElementById(id) : null;
      if (el && el.tagName === "DETAILS") { el.open = true; }
    }
    window.addEventListener("hashchange", openTarget);
    openTarget();
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

  window.agentdeckUI = {renderGraph: renderGraph, wireSteps: wireSteps, wireVersionPickers: wireVersionPickers, wireConfirmDeploy: wireConfirmDeploy, wireHtmxActions: wireHtmxActions};
})();
