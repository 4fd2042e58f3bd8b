// Draws each metric's daily history with uPlot. The values are the API's exact decimal
// strings; Number() is used only to place points on the chart, never to compute or to
// display a value (the table under each chart shows the exact strings).
(function () {
  var source = document.getElementById("chart-data");
  if (!source || typeof uPlot === "undefined") { return; }
  var series = JSON.parse(source.textContent);
  document.querySelectorAll("[data-chart]").forEach(function (box) {
    var points = series[box.getAttribute("data-chart")] || [];
    var xs = points.map(function (p) { return Date.parse(p.start) / 1000; });
    var ys = points.map(function (p) { return Number(p.value); });
    var width = Math.max(280, box.clientWidth);
    new uPlot({ width: width, height: 200, legend: { show: false },
                series: [{}, { label: "value", stroke: "#0550ae", width: 2 }] }, [xs, ys], box);
  });
})();
