// Draws each metric's daily history with uPlot. The values are the API's exact decimal
// strings; Number() is used only to place points on the chart, never to compute or to
// display a value (the table under each chart shows the exact strings).
(function () {
  var source = document.getElementById("chart-data");
  if (!source || typeof uPlot === "undefined") { return; }
  var series = JSON.parse(source.textContent);
  var plots = [];
  function widthOf(box) { return Math.max(240, box.clientWidth); }
  document.querySelectorAll("[data-chart]").forEach(function (box) {
    var points = series[box.getAttribute("data-chart")] || [];
    var xs = points.map(function (p) { return Date.parse(p.start) / 1000; });
    var ys = points.map(function (p) { return Number(p.value); });
    plots.push([box, new uPlot({ width: widthOf(box), height: 200, legend: { show: false },
      series: [{}, { label: "value", stroke: "#0550ae", width: 2 }] }, [xs, ys], box)]);
  });
  // Follow the page's width (a phone turned, a window narrowed): the chart never overflows.
  window.addEventListener("resize", function () {
    plots.forEach(function (pair) { pair[1].setSize({ width: widthOf(pair[0]), height: 200 }); });
  });
})();
