// The κ page's risk–coverage curve, drawn from the figure the server built (vifsite/vif/kappa_page.py), with
// plotly's PNG button in its mode bar and a "Plot (PNG)" button beside the tables' CSV links (the full figure,
// 1000 × 560, whatever the screen).
(function () {
  "use strict";
  const source = document.getElementById("kappa-curve-figure");
  const target = document.getElementById("kappa-curve");
  const button = document.getElementById("curve-png");
  if (!source || !target || typeof Plotly === "undefined") {
    return;  // the figcaption and the tables carry the same numbers
  }
  const figure = JSON.parse(source.textContent);
  const full = JSON.parse(source.textContent);
  const filename = "kappa-curve-" + (location.pathname.match(/(\d+)\/?$/) || ["", "page"])[1];
  if (target.clientWidth < 640) {  // a phone: a short title, a compact legend, fewer ticks
    const layout = figure.layout;
    layout.title = {text: "Risk–coverage", font: {size: 13}, x: 0, xanchor: "left"};
    layout.margin = {l: 50, r: 46, t: 46, b: 30};
    layout.legend = {orientation: "h", x: 0, y: -0.22, yanchor: "top", font: {size: 10}};
    layout.xaxis.title.text = "κ";
    layout.xaxis.dtick = 0.2;
    layout.yaxis.title.text = "error among accepted";
  }
  const config = {
    responsive: true, displaylogo: false, displayModeBar: true,
    modeBarButtonsToRemove: ["select2d", "lasso2d", "autoScale2d"],
    toImageButtonOptions: {format: "png", filename: filename, width: 1000, height: 560, scale: 2},
  };
  Plotly.newPlot(target, figure.data, figure.layout, config).then(function () {
    if (button) {
      button.hidden = false;
      button.addEventListener("click", function () {
        Plotly.downloadImage(full, {format: "png", filename: filename, width: 1000, height: 560, scale: 2});
      });
    }
  });
})();
