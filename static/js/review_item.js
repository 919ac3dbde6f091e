// An item's section as an interactive heatmap in survey coordinates, with the windows the
// interpretation names and the anomalies the detector finds drawn on it.
(function () {
  const config = JSON.parse(document.getElementById("plot-config").textContent);
  const target = document.getElementById("section-plot");
  if (!target || typeof Plotly === "undefined") return;
  fetch(config.dataUrl, {credentials: "same-origin"}).then((r) => r.json()).then((d) => {
    if (d.error) { target.textContent = d.error; return; }
    const shapes = [];
    for (const a of d.anomalies) {
      shapes.push({type: "rect", x0: a[d.x.name][0], x1: a[d.x.name][1], y0: a[d.y.name][0], y1: a[d.y.name][1],
                   line: {color: "lime", width: 2}});
    }
    for (const w of d.windows) {
      if (w.axis === d.x.name) shapes.push({type: "rect", xref: "x", yref: "paper", x0: w.range[0] - 0.5,
        x1: w.range[1] + 0.5, y0: 0, y1: 1, line: {color: "orange", width: 2, dash: "dot"}});
      if (w.axis === d.y.name) shapes.push({type: "rect", xref: "paper", yref: "y", x0: 0, x1: 1,
        y0: w.range[0], y1: w.range[1] || w.range[0], line: {color: "orange", width: 2, dash: "dot"}});
    }
    const limit = Math.max(...d.z.flat().map(Math.abs)) || 1;
    Plotly.newPlot(target, [{type: "heatmap", x: d.x.values, y: d.y.values, z: d.z, colorscale: "RdBu",
                             zmin: -limit, zmax: limit, reversescale: true}],
                   {title: d.title, shapes: shapes, xaxis: {title: d.x.name},
                    yaxis: {title: `${d.y.name} ${d.y.unit || ""}`, autorange: d.y.name === "sample" ? "reversed" : true},
                    margin: {t: 40}}, {responsive: true});
    target.dataset.rendered = "1";
  }).catch(() => { target.textContent = "The section could not be loaded; see the PNG."; });
})();
