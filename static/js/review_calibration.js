// The calibration and statistics pages: every element with data-figure is drawn from the figure the server built
// (vifsite/vif/plots.py, handed over with json_script), with plotly's PNG button in its mode bar; each
// [data-png] button downloads its plot as a PNG at a fixed size, whatever the screen.
(function () {
  "use strict";
  if (typeof Plotly === "undefined") {
    return;  // the tables carry the same numbers
  }
  const SIZE = {width: 1100, height: 620, scale: 2};
  document.querySelectorAll("[data-figure]").forEach(function (target) {
    const source = document.getElementById(target.dataset.figure);
    if (!source) {
      return;
    }
    const figure = JSON.parse(source.textContent);
    const filename = target.dataset.filename || target.id;
    if (target.clientWidth < 560) {  // a phone: tighter margins, a shorter title
      figure.layout.margin = {l: 48, r: 10, t: 40, b: 40};
      figure.layout.title.font = {size: 13};
    }
    Plotly.newPlot(target, figure.data, figure.layout, {
      responsive: true, displaylogo: false,
      modeBarButtonsToRemove: ["select2d", "lasso2d", "autoScale2d"],
      toImageButtonOptions: Object.assign({format: "png", filename: filename}, SIZE),
    });
  });
  document.querySelectorAll("[data-png]").forEach(function (button) {
    const target = document.getElementById(button.dataset.png);
    button.addEventListener("click", function () {
      Plotly.downloadImage(target, Object.assign({format: "png", filename: target.dataset.filename}, SIZE));
    });
  });
})();
