// Starts each page's behaviour from its <body data-init="..."> (the pages carry no inline
// script: the Content-Security-Policy allows scripts from this server's /static only).
(function () {
  "use strict";
  var ui = window.agentdeckUI || {}, charts = window.agentdeckCharts || {};
  var STARTERS = {
    renderGraph: function () { ui.renderGraph("graph", "graph-data"); },
    wireSteps: function () { ui.wireSteps(); },
    wireVersionPickers: function () { ui.wireVersionPickers(); },
    wireConfirmDeploy: function () { ui.wireConfirmDeploy(); },
    wireHtmxActions: function () { ui.wireHtmxActions("action-error"); },
    wireAlertButtons: function () { charts.wireAlertButtons(); },
    renderMonitor: function () { charts.renderMonitor("series-data"); }
  };
  (document.body.dataset.init || "").split(/\s+/).forEach(function (name) {
    if (name && STARTERS[name]) { STARTERS[name](); }
  });
  document.querySelectorAll("select.autosubmit").forEach(function (sel) {
    sel.addEventListener("change", function () { sel.form.submit(); });
  });
})();
