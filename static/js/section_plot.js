// The section plot: one component for the review item page and the survey page (templates/_section_plot.html).
// It fetches the JSON of seismic/section_plot.py and draws it with plotly.js as a geophysicist reads a section:
// the PNG's red-white-blue colour map with white at zero, a symmetric percentile clip (adjustable), time or
// depth increasing downward (inlines downward on timeslices, as the PNG), axis titles in survey numbers, a
// colour bar, claimed windows and detected anomalies in the legend, and a text description for screen readers.
//
// Events on the component's element (<figure data-section-plot>):
//   in:  "section-plot:load"         detail {url}                                       (re)load a section
//   in:  "section-plot:show-window"  detail {axis: "inline"|"crossline"|"sample", range: [lo, hi]}
//                                    or {windows: [{axis, range}, …]} (shown where they all hold)
//   out: "section-plot:rendered"     detail {title}
//   out: "section-plot:error"        detail {message, status}   the old picture is cleared: nothing stale stays up
// Or from a script: SectionPlot.mount(element).load(url, {quiet}) resolves to {ok: true, data}, {ok: false, message,
// status} or {stale: true} (a newer load started; its fetch is aborted); {quiet: true} leaves the error's words to
// the caller. The clip percentile a person chose and the zoom stay while they move through sections of one kind.
(function () {
  "use strict";
  const WINDOW_COLOURS = ["#000000", "#e69f00", "#7b2fbf", "#6b4226", "#d10ea8"];
  const ANOMALY_COLOUR = "#00a651";
  const DEAD_COLOUR = "rgb(200,200,200)";  // as the PNG draws dead traces

  const fmt = (v) => (Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(6))));
  const amplitude = (v) => String(Number(v.toPrecision(3)));
  const last = (axis) => axis.first + (axis.count - 1) * axis.step;
  const plural = (name) => (name === "sample" ? "" : `${name}s `);

  // z.encoding "int16": base64 of int16 high bytes then low bytes (seismic/section_plot.py); else a list "q".
  function decode(z) {
    if (z.encoding === "int16") return decodeInt16(z);
    const rows = new Array(z.rows);
    for (let r = 0; r < z.rows; r++) {
      const row = new Array(z.cols);
      const offset = r * z.cols;
      for (let c = 0; c < z.cols; c++) {
        const q = z.q[offset + c];
        row[c] = q === null ? null : q * z.scale;
      }
      rows[r] = row;
    }
    return rows;
  }

  function decodeInt16(z) {
    const binary = atob(z.data);
    const n = z.rows * z.cols;
    const rows = new Array(z.rows);
    for (let r = 0; r < z.rows; r++) {
      const row = new Array(z.cols);
      for (let c = 0, i = r * z.cols; c < z.cols; c++, i++) {
        const q = ((binary.charCodeAt(i) << 24) >> 16) | binary.charCodeAt(n + i);  // sign-extended high byte
        row[c] = q === z.dead ? null : q * z.scale;
      }
      rows[r] = row;
    }
    return rows;
  }

  // Survey X and Y of an inline and crossline (the volume's coordinate system), or null without one.
  function worldOf(d, inline, crossline) {
    const w = d.world;
    if (!w) return null;
    return [w.origin[0] + inline * w.inline_spacing[0] + crossline * w.crossline_spacing[0],
            w.origin[1] + inline * w.inline_spacing[1] + crossline * w.crossline_spacing[1]];
  }

  const grouped = (v) => Math.round(v).toLocaleString("en-US").replace(/,/g, "\u202f");

  // "Time (ms)" → {word: "Time", unit: "ms"}
  function words(title) {
    const m = /^(.*?)\s*\((.*)\)$/.exec(title);
    return m ? {word: m[1], unit: m[2]} : {word: title, unit: ""};
  }

  function extent(axis) {
    const w = words(axis.title);
    const span = `${fmt(axis.first)}–${fmt(last(axis))}`;
    return axis.name === "sample" ? `${span} ${w.unit}` : `${plural(axis.name)}${span}`;
  }

  function fixedText(fixed) {
    const w = words(fixed.title);
    return `${w.word} ${fmt(fixed.value)}${w.unit ? " " + w.unit : ""}`;
  }

  function clipFor(d, percentile) {
    const table = d.clip.table;
    let best = null;
    for (const key of Object.keys(table)) {
      if (best === null || Math.abs(Number(key) - percentile) < Math.abs(Number(best) - percentile)) best = key;
    }
    return best === null ? d.clip.value : table[best];
  }

  function hoverTemplate(d) {
    const part = {};
    part[d.x.name] = `${d.x.title}: %{x}`;
    part[d.y.name] = `${d.y.title}: %{y}`;
    part[d.fixed.name] = `${d.fixed.title}: ${fmt(d.fixed.value)}`;
    return ["inline", "crossline", "sample"].map((n) => part[n]).join("<br>") +
      "<br>Amplitude: %{z:.4g}<extra></extra>";
  }

  // The rectangle of a window on this section, or null when it is along the axis the section holds fixed.
  function band(d, axis, lo, hi) {
    const xs = [d.x.first - d.x.step / 2, last(d.x) + d.x.step / 2];
    const ys = [d.y.first - d.y.step / 2, last(d.y) + d.y.step / 2];
    if (axis === d.x.name) {
      const pad = lo === hi ? Math.abs(d.x.step) / 2 : 0;
      return {x: [lo - pad, hi + pad], y: ys};
    }
    if (axis === d.y.name) {
      const pad = lo === hi ? Math.abs(d.y.step) / 2 : 0;
      return {x: xs, y: [lo - pad, hi + pad]};
    }
    return null;
  }

  const outline = (r) => ({x: [r.x[0], r.x[1], r.x[1], r.x[0], r.x[0]], y: [r.y[0], r.y[0], r.y[1], r.y[1], r.y[0]]});

  function overlays(d) {
    const traces = [];
    d.windows.forEach((w, i) => {
      const r = band(d, w.axis, w.range[0], w.range[1]);
      if (!r) return;
      const o = outline(r);
      traces.push({type: "scatter", mode: "lines", x: o.x, y: o.y, name: `Claimed: “${w.label}”`,
                   line: {color: WINDOW_COLOURS[i % WINDOW_COLOURS.length], width: 2, dash: "dash"},
                   hovertemplate: `Claimed: “${w.sentence || w.label}”<extra></extra>`});
    });
    if (d.anomalies.length) {
      const x = [];
      const y = [];
      for (const a of d.anomalies) {
        const o = outline({x: a[d.x.name], y: a[d.y.name]});
        x.push(...o.x, null);
        y.push(...o.y, null);
      }
      traces.push({type: "scatter", mode: "lines", x: x, y: y, name: `Detected anomalies (${d.anomalies.length})`,
                   line: {color: ANOMALY_COLOUR, width: 2}, hovertemplate: "Detected anomaly<extra></extra>"});
    }
    return traces;
  }

  function SectionPlot(root) {
    this.root = root;
    this.canvas = root.querySelector("[data-section-plot-canvas]");
    this.description = root.querySelector("[data-section-plot-description]");
    this.status = root.querySelector("[data-section-plot-status]");
    this.notes = root.querySelector("[data-section-plot-notes]");
    this.slider = root.querySelector("[data-section-plot-clip]");
    this.clipOutput = root.querySelector("[data-section-plot-clip-value]");
    this.readout = root.querySelector("[data-section-plot-readout]");
    this.data = null;
    this.request = 0;
    this.controller = null;
    this.percentile = null;  // the clip a person chose, kept from one section to the next
    root.addEventListener("section-plot:load", (e) => this.load(e.detail.url));
    root.addEventListener("section-plot:show-window", (e) => this.showWindow(e.detail));
    if (this.slider) {
      this.slider.addEventListener("input", () => {
        this.percentile = Number(this.slider.value);
        this.setClip(this.percentile);
      });
    }
    // plotly's `responsive` follows the window only; the page's layout can change the plot's width too.
    if (window.ResizeObserver) {
      new ResizeObserver(() => { if (this.data) Plotly.Plots.resize(this.canvas); }).observe(this.canvas);
    }
    if (root.dataset.url) this.load(root.dataset.url);
  }

  SectionPlot.prototype.say = function (text, isError) {
    if (!this.status) return;
    this.status.textContent = text;
    this.status.classList.toggle("error", Boolean(isError));
  };

  SectionPlot.prototype.load = async function (url, options) {
    const quiet = Boolean(options && options.quiet);
    const request = ++this.request;
    if (this.controller) this.controller.abort();  // the section asked for before this one is not wanted now
    const controller = window.AbortController ? new AbortController() : null;
    this.controller = controller;
    this.root.dataset.state = "loading";
    this.say("Loading the section…");
    let d;
    let status = 0;
    try {
      const response = await fetch(url, {credentials: "same-origin", headers: {Accept: "application/json"},
                                         signal: controller ? controller.signal : undefined});
      status = response.status;
      d = await response.json().catch(() => ({}));  // a proxy's HTML error page has no words for people
      if (!response.ok || !d.z) throw new Error(d.error || d.detail || `the site answered ${response.status}.`);
    } catch (error) {
      if (request !== this.request) return {stale: true};
      this.clear();
      this.root.dataset.state = "error";
      const message = status ? error.message : "the site did not answer; try again.";
      if (!quiet) this.say(`The section could not be loaded: ${message}`, true);
      else this.say("");
      this.root.dispatchEvent(new CustomEvent("section-plot:error", {detail: {message, status}}));
      return {ok: false, message, status};
    }
    if (request !== this.request) return {stale: true};  // a newer section was asked for meanwhile
    this.draw(d);
    return {ok: true, data: d};
  };

  // No picture: an error must not leave the previous section up as if it were the one asked for.
  SectionPlot.prototype.clear = function () {
    this.data = null;
    if (typeof Plotly !== "undefined") Plotly.purge(this.canvas);
    const empty = document.createElement("p");
    empty.className = "section-plot-empty";
    empty.textContent = "No section shown.";
    this.canvas.replaceChildren(empty);
    delete this.canvas.dataset.hoverBound;  // purge dropped plotly's listeners
    delete this.root.dataset.rendered;
    delete this.root.dataset.clip;
    if (this.description) this.description.textContent = "No section shown.";
    if (this.notes) this.notes.textContent = "";
    if (this.clipOutput) this.clipOutput.textContent = "";
    if (this.readout) this.readout.textContent = "";
  };

  SectionPlot.prototype.draw = function (d) {
    if (typeof Plotly === "undefined") {
      this.root.dataset.state = "error";
      this.say("The plotting library did not load.", true);
      return;
    }
    this.data = d;
    const percentile = this.percentile === null ? d.clip.percentile : this.percentile;
    const clip = percentile === d.clip.percentile ? d.clip.value : clipFor(d, percentile);
    if (this.slider) this.slider.value = String(percentile);
    const heatmap = {
      type: "heatmap", z: decode(d.z), x0: d.x.first, dx: d.x.step, y0: d.y.first, dy: d.y.step,
      zmin: -clip, zmax: clip, zsmooth: false, colorscale: d.colorscale, showscale: true,
      colorbar: {title: {text: "Amplitude", side: "right"}, thickness: 14, len: 0.9},
      hovertemplate: hoverTemplate(d), showlegend: false, name: "Amplitude",
    };
    const layout = {
      title: {text: d.title, x: 0.01, xanchor: "left", font: {size: 14}},
      xaxis: {title: {text: d.x.title}, showgrid: false, zeroline: false, ticks: "outside", constrain: "domain"},
      yaxis: {title: {text: d.y.title}, autorange: "reversed", showgrid: false, zeroline: false, ticks: "outside"},
      plot_bgcolor: DEAD_COLOUR, paper_bgcolor: "#ffffff", hovermode: "closest",
      legend: {orientation: "h", x: 0, y: -0.16, yanchor: "top"},
      margin: {l: 70, r: 20, t: 40, b: 40}, shapes: [],
      uirevision: `${d.kind}:${d.x.name}:${d.y.name}`,  // moving through sections of one kind keeps the zoom
    };
    const config = {responsive: true, editable: false, displaylogo: false, scrollZoom: false,
                    modeBarButtonsToRemove: ["select2d", "lasso2d", "autoScale2d"],
                    // The same config for every section of a kind: plotly redraws from scratch (losing the zoom) when
                    // the config changes, so the picture's file name names the survey and kind, not the number.
                    toImageButtonOptions: {
                      filename: `${d.title.split(" · ")[0]} ${d.kind}`.replace(/[^A-Za-z0-9]+/g, "_")}};
    Plotly.react(this.canvas, [heatmap, ...overlays(d)], layout, config).then(() => {
      this.root.dataset.state = "ready";
      this.root.dataset.rendered = "1";
      this.say("");
      this.root.dispatchEvent(new CustomEvent("section-plot:rendered", {detail: {title: d.title}}));
    });
    if (this.readout && !this.canvas.dataset.hoverBound && typeof this.canvas.on === "function") {
      this.canvas.dataset.hoverBound = "1";
      this.canvas.on("plotly_hover", (event) => this.hover(event));
      this.canvas.on("plotly_unhover", () => { this.readout.textContent = ""; });
    }
    this.setClip(percentile, true);
    if (this.notes) this.notes.textContent = d.notes.join(" ");
  };

  // Where the pointer is, in survey X and Y (the hover box has the survey numbers and the amplitude).
  SectionPlot.prototype.hover = function (event) {
    const d = this.data;
    const point = event && event.points && event.points[0];
    if (!d || !point || !this.readout) return;
    const at = {};
    at[d.x.name] = point.x;
    at[d.y.name] = point.y;
    at[d.fixed.name] = d.fixed.value;
    const xy = worldOf(d, at.inline, at.crossline);
    const unit = d.world && d.world.unit ? ` ${d.world.unit}` : "";
    this.readout.textContent = xy ? `Inline ${fmt(at.inline)}, crossline ${fmt(at.crossline)}: ` +
      `X ${grouped(xy[0])}${unit}, Y ${grouped(xy[1])}${unit}` : "";
  };

  // drawn: the heatmap already has this clip (a new section), so only the words change.
  SectionPlot.prototype.setClip = function (percentile, drawn) {
    const d = this.data;
    if (!d) return;
    const clip = percentile === d.clip.percentile ? d.clip.value : clipFor(d, percentile);
    if (!drawn) Plotly.restyle(this.canvas, {zmin: [-clip], zmax: [clip]}, [0]);
    this.root.dispatchEvent(new CustomEvent("section-plot:clip", {detail: {percentile, clip}}));
    const label = `±${amplitude(clip)} (P${fmt(percentile)} of |amplitude|)`;
    if (this.clipOutput) this.clipOutput.textContent = label;
    this.root.dataset.clip = String(clip);
    const windows = d.windows.length ? ` ${d.windows.length} claimed window(s) outlined dashed.` : "";
    const anomalies = d.anomalies.length ? ` ${d.anomalies.length} detected anomalies outlined green.` : "";
    if (this.description) {
      const order = ["inline", "crossline", "sample"];
      const spans = [d.x, d.y].sort((a, b) => order.indexOf(a.name) - order.indexOf(b.name)).map(extent).join(", ");
      this.description.textContent = `${fixedText(d.fixed)}, ${spans}; amplitude clipped ` +
        `at ±P${fmt(percentile)} = ${amplitude(clip)}.${windows}${anomalies}`;
    }
  };

  // One window ({axis, range}) or several ({windows: [{axis, range}, …]}, e.g. a crossline and a time of one
  // finding): the box where they all hold.
  SectionPlot.prototype.showWindow = function (detail) {
    const d = this.data;
    const windows = detail && Array.isArray(detail.windows) ? detail.windows : [detail];
    if (!d || !windows.length || !windows.every((w) => w && Array.isArray(w.range))) return;
    let box = null;
    const off = [];
    const words = [];
    for (const w of windows) {
      const lo = Math.min(w.range[0], w.range[1]);
      const hi = Math.max(w.range[0], w.range[1]);
      words.push(`${w.axis} ${fmt(lo)}–${fmt(hi)}`);
      const r = band(d, w.axis, lo, hi);
      if (!r) {
        if (!(lo <= d.fixed.value && d.fixed.value <= hi)) off.push(`${w.axis} ${fmt(lo)}–${fmt(hi)}`);
        continue;
      }
      box = box ? {x: [Math.max(box.x[0], r.x[0]), Math.min(box.x[1], r.x[1])],
                   y: [Math.max(box.y[0], r.y[0]), Math.min(box.y[1], r.y[1])]} : r;
    }
    this.root.dataset.highlight = words.map((w) => w.replace(/ /, ":").replace("–", "-")).join(",");
    if (!box || off.length) {
      this.say(`That window (${words.join(", ")}) ` + (off.length ? `is not on this plot, which is ${fixedText(d.fixed)}.`
                                                               : `runs across this section, which lies inside it.`));
      Plotly.relayout(this.canvas, {shapes: []});
      return;
    }
    this.say(`Showing ${words.join(", ")}.`);
    Plotly.relayout(this.canvas, {shapes: [{type: "rect", xref: "x", yref: "y", x0: box.x[0], x1: box.x[1], y0: box.y[0],
                                            y1: box.y[1], layer: "above", fillcolor: "rgba(255,215,0,0.15)",
                                            line: {color: "#000000", width: 3}}]});
    this.canvas.scrollIntoView({block: "nearest", behavior: "smooth"});
  };

  const plots = new WeakMap();
  window.SectionPlot = {
    mount(root) {
      if (!plots.has(root)) plots.set(root, new SectionPlot(root));
      return plots.get(root);
    },
  };
  document.querySelectorAll("[data-section-plot]").forEach((root) => window.SectionPlot.mount(root));
})();
