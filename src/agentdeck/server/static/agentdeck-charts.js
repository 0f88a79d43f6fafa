/* agentdeck UI: the monitors page's charts (uPlot) and the alert buttons. */
(function () {
  "use strict";
  var PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b",
                 "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];

  function pct(v) { return v == null ? "-" : (100 * v).toFixed(1) + "%"; }
  function num(v) { return v == null ? "-" : (+v).toFixed(2); }

  function chart(el, title, series, data, scales, axes) {
    var width = Math.max(320, el.parentElement.clientWidth - 16);
    var opts = {
      width: width, height: 220, title: undefined,
      series: [{}].concat(series), scales: scales || {}, axes: axes,
      legend: {live: true}, cursor: {drag: {x: false, y: false}}
    };
    var plot = new uPlot(opts, data, el);
    plot.root.dataset.title = title;
    return plot;
  }

  function isolated(values) {
    // A value with no neighbour draws no line or area: show the points then (one busy bucket).
    return values.some(function (v, i) {
      return v != null && values[i - 1] == null && values[i + 1] == null;
    });
  }

  function rateAxes() {
    return [{}, {values: function (u, vals) { return vals.map(function (v) { return (100 * v).toFixed(0) + "%"; }); }}];
  }

  function renderMonitor(dataId) {
    var d = JSON.parse(document.getElementById(dataId).textContent);
    var xs = d.times, charts = [];

    // Tool selection mix: stacked shares. Cumulative sums are drawn top layer first, each
    // filled down to zero, so the later (lower) layers paint over the earlier ones.
    var running = xs.map(function () { return 0; }), cumulative = [];
    d.tools.forEach(function (t) {
      running = running.map(function (acc, i) {
        var v = d.tool_share[t][i];
        return v == null ? null : (acc || 0) + v;
      });
      cumulative.push(running.slice());
    });
    var toolSeries = [], toolData = [xs];
    for (var k = d.tools.length - 1; k >= 0; k--) {
      (function (k) {
        var colour = PALETTE[k % PALETTE.length];
        toolSeries.push({
          label: d.tools[k], stroke: colour, fill: colour + "cc", width: 1,
          points: {show: isolated(cumulative[k]), size: 7, fill: colour},
          value: function (u, v, si, idx) { return idx == null ? "-" : pct(d.tool_share[d.tools[k]][idx]); }
        });
        toolData.push(cumulative[k]);
      })(k);
    }
    charts.push(chart(document.getElementById("chart-tools"), "tools", toolSeries, toolData,
                      {y: {range: [0, 1]}}, rateAxes()));

    var rates = [["argument validity", d.validity, "#2ca02c"], ["completion", d.completion, "#1f77b4"],
                 ["error rate", d.errors, "#d62728"]];
    charts.push(chart(document.getElementById("chart-rates"), "rates",
      rates.map(function (r) {
        return {label: r[0], stroke: r[2], width: 2, points: {show: true, size: 5},
                value: function (u, v) { return pct(v); }};
      }),
      [xs].concat(rates.map(function (r) { return r[1]; })), {y: {range: [0, 1]}}, rateAxes()));

    charts.push(chart(document.getElementById("chart-drift"), "drift",
      [{label: "drift score", stroke: "#9467bd", width: 2, points: {show: true, size: 6},
        value: function (u, v) { return num(v); }},
       {label: "drifted items", stroke: "#e07b00", width: 1, scale: "n", points: {show: true, size: 4},
        value: function (u, v) { return v == null ? "-" : String(v); }}],
      [xs, d.drift_score, d.drifted_items],
      {y: {range: function (u, lo, hi) { return [0, Math.max(2, (hi || 0) * 1.1)]; }},
       n: {range: function (u, lo, hi) { return [0, Math.max(5, hi || 0)]; }}},
      [{}, {}, {scale: "n", side: 1, grid: {show: false}}]));

    window.agentdeckMonitor = {charts: charts, data: d};
    return charts;
  }

  function wireAlertButtons() {
    document.querySelectorAll("button.alert-action").forEach(function (btn) {
      btn.addEventListener("click", async function () {
        btn.disabled = true;
        var resp = await fetch("/api/v1/alerts/" + btn.dataset.alert + "/" + btn.dataset.action, {
          method: "POST", credentials: "same-origin",
          headers: {"Content-Type": "application/json", "X-Agentdeck-UI": "1"}
        });
        if (resp.ok) { window.location.reload(); return; }
        var body = await resp.json().catch(function () { return {error: resp.statusText}; });
        var box = document.getElementById("action-error");
        box.textContent = body.error || "refused";
        box.hidden = false;
        btn.disabled = false;
      });
    });
  }

  window.agentdeckCharts = {renderMonitor: renderMonitor, wireAlertButtons: wireAlertButtons};
})();
