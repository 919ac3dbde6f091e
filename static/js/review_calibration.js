// The reliability diagram, drawn from the figure the server built (vifsite/vif/plots.py).
(function () {
  const figure = JSON.parse(document.getElementById("reliability-figure").textContent);
  const target = document.getElementById("reliability");
  if (target && typeof Plotly !== "undefined") {
    Plotly.newPlot(target, figure.data, figure.layout, {responsive: true});
  }
})();
