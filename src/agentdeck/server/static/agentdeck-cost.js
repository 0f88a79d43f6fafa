/* agentdeck UI: the monitors page's cost chart (uPlot): spend per bucket, one line per version. */
(function () {
  "use strict";
  var PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b"];

  function usd(v) {
    if (v == null) { return "-"; }
    return v >= 0.01 ? "$" + v.toFixed(2) : "$" + v.toPrecision(2);
  }

  function renderCost(dataId, elId) {
    var node = document.getElementById(dataId), el = document.getElementById(elId);
    if (!node || !el || typeof uPlot === "undefined") { return null; }
    var d = JSON.parse(node.textContent);
    var series = d.versions.map(function (v, i) {
      var colour = PALETTE[i % PALETTE.length];
      return {label: v, stroke: colour, width: 2, points: {show: true, size: 5}, spanGaps: false,
              value: function (u, val) { return usd(val); }};
    });
    var data = [d.times].concat(d.versions.map(function (v) { return d.cost[v]; }));
    var width = Math.max(320, el.parentElement.clientWidth - 16);
    var plot = new uPlot({
      width: width, height: 220, series: [{}].concat(series),
      scales: {y: {range: function (u, lo, hi) { return [0, Math.max(0.01, (hi || 0) * 1.1)]; }}},
      axes: [{}, {values: function (u, vals) { return vals.map(usd); }}],
      legend: {live: true}, cursor: {drag: {x: false, y: false}}
    }, data, el);
    plot.root.dataset.title = "cost";
    window.agentdeckCost = {chart: plot, data: d};
    return plot;
  }

  renderCost("cost-data", "chart-cost");
})();
