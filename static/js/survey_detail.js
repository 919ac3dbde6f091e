// The survey viewer (templates/seismic/survey_detail.html). The section (section_plot.js) is chosen by kind and
// number and moved through by the slider, Previous and Next, and the keys (arrows one line, Page Up and Page Down
// ten, in the number box as on the slider); the picture follows and so does the URL (?inline=1015; back and
// forward work). Beside it: the base map (the outline in survey X and Y, the live traces, the line shown; a click
// shows the line through that point), the histogram, spectrum and statistics of the section shown, and its
// provenance, recorded on request as an extraction with its witness. An error clears the picture and the panels.
(function () {
  "use strict";
  const config = JSON.parse(document.getElementById("survey-config").textContent);
  const $ = (id) => document.getElementById(id);
  const form = $("section-form");
  const kindSelect = $("section-type");
  const numberInput = $("section-number");
  const slider = $("section-slider");
  const previous = $("section-previous");
  const next = $("section-next");
  const errorBox = $("section-error");
  const plotRoot = $("section-plot");
  const pngLink = plotRoot.querySelector(".section-plot-png");
  const KINDS = ["inline", "crossline", "timeslice"];
  const MOVE_INTERVAL = 150;  // ms: while a key is held or the slider dragged, a new picture at most this often
  const COALESCE = 800;  // ms: moves closer together than this share one history entry
  const CHART_CONFIG = {displayModeBar: false, responsive: true, displaylogo: false};

  const text = (v) => String(Number(Number(v).toPrecision(12)));
  const sig = (v, n = 4) => String(Number(Number(v).toPrecision(n))).replace("-", "\u2212");
  const grouped = (v) => Math.round(v).toLocaleString("en-US").replace(/,/g, "\u202f");
  const fill = (template, kind, number) => template.replace("KIND", kind).replace("NUMBER", encodeURIComponent(number));
  const axisOf = (kind) => config.axes[kind];
  const valueAt = (axis, i) => text(axis.first + i * axis.step);
  const indexOf = (axis, value) => (axis.count <= 1 || !axis.step ? 0 : Math.round((value - axis.first) / axis.step));
  const clampIndex = (axis, i) => Math.max(0, Math.min(axis.count - 1, i));
  const middle = (axis) => valueAt(axis, Math.floor((axis.count - 1) / 2));
  const capital = (s) => s.charAt(0).toUpperCase() + s.slice(1);
  const plotly = () => typeof Plotly !== "undefined";

  // "Inline 1015", "Time 200 ms"
  function describe(kind, number) {
    const label = axisOf(kind).label;
    const m = /^(.*?)\s*\((.*)\)$/.exec(label);
    return m ? `${m[1]} ${number} ${m[2]}` : `${label} ${number}`;
  }

  const state = {kind: config.kind, number: config.number, shown: null};
  const remembered = {};  // the last number asked for, per kind
  let timer = null;
  let lastLoad = 0;
  let lastPush = 0;

  // --- Controls and URL ---------------------------------------------------------------------------------

  function setControls(kind, number) {
    const axis = axisOf(kind);
    kindSelect.value = kind;
    if (numberInput.value !== number) numberInput.value = number;
    numberInput.min = String(axis.first);
    numberInput.max = String(axis.last);
    numberInput.step = axis.step ? String(axis.step) : "any";
    $("section-number-label").textContent = axis.label;
    $("section-slider-label").textContent = `Move through ${axis.plural}`;
    $("section-range").textContent = axis.count > 1
      ? `${capital(axis.plural)} ${text(axis.first)} to ${text(axis.last)} in steps of ${text(axis.step)}. ` +
        "Arrow keys in the box or on the slider move one, Page Up and Page Down ten."
      : `This survey has one ${kind === "timeslice" ? "sample" : kind}: ${text(axis.first)}.`;
    const i = indexOf(axis, number);
    slider.max = String(Math.max(0, axis.count - 1));
    slider.disabled = axis.count <= 1;
    slider.value = String(Number.isFinite(i) ? clampIndex(axis, i) : 0);
    slider.setAttribute("aria-valuetext", describe(kind, number));
    previous.disabled = Number.isFinite(i) && i <= 0;
    next.disabled = Number.isFinite(i) && i >= axis.count - 1;
  }

  function updateUrl(kind, number, how) {
    const search = `?${kind}=${encodeURIComponent(number)}`;
    if (!how || location.search === search) return;
    const now = Date.now();
    const entry = {kind, number};
    if (how === "replace" || (how === "move" && now - lastPush < COALESCE)) history.replaceState(entry, "", search);
    else history.pushState(entry, "", search);
    lastPush = now;
  }

  function fromLocation() {
    const params = new URLSearchParams(location.search);
    for (const kind of KINDS) if (params.get(kind)) return [kind, params.get(kind)];
    return [config.kind, config.number];
  }

  // Show a section: controls, URL and base map at once; the picture now, or (throttled) at most every
  // MOVE_INTERVAL while moving. how: "push", "move" (coalesced), "replace", or null (back/forward).
  function go(kind, number, how, throttled) {
    number = String(number).trim();
    state.kind = kind;
    state.number = number;
    remembered[kind] = number;
    setControls(kind, number);
    updateUrl(kind, number, how);
    document.title = `${config.surveyName} · ${kind} ${number} · vifsite`;
    basemap.draw(kind, number);
    clearTimeout(timer);
    const wait = throttled ? lastLoad + MOVE_INTERVAL - Date.now() : 0;
    timer = wait > 0 ? setTimeout(load, wait) : null;
    if (wait <= 0) load();
  }

  async function load() {
    timer = null;
    lastLoad = Date.now();
    const {kind, number} = state;
    errorBox.hidden = true;
    if (!window.SectionPlot) return failed("The page's plotting script did not load.", 0);
    const result = await window.SectionPlot.mount(plotRoot).load(fill(config.urls.data, kind, number), {quiet: true});
    if (result.stale) return;
    if (!result.ok) return failed(result.message, result.status);
    shown(kind, number, result.data);
  }

  function step(by, throttled) {
    const axis = axisOf(state.kind);
    const typed = numberInput.value !== "" ? numberInput.value : state.number;
    let i = indexOf(axis, typed);
    if (!Number.isFinite(i)) i = indexOf(axis, middle(axis));
    go(state.kind, valueAt(axis, clampIndex(axis, i + by)), "move", throttled);
  }

  form.noValidate = true;  // the site's own message, for every wrong number, in one place
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    if (numberInput.value === "") {
      const typed = numberInput.validity.badInput ? "That is not a number" : "Type a number";
      return failed(`${typed}: ${axisOf(kindSelect.value).plural} run ${text(axisOf(kindSelect.value).first)} to ` +
                    `${text(axisOf(kindSelect.value).last)}.`, 400);
    }
    go(kindSelect.value, numberInput.value, "push", false);
  });
  kindSelect.addEventListener("change", () => {
    const kind = kindSelect.value;
    go(kind, remembered[kind] || middle(axisOf(kind)), "push", false);
  });
  numberInput.addEventListener("keydown", (event) => {
    const by = {ArrowUp: 1, ArrowDown: -1, PageUp: 10, PageDown: -10}[event.key];
    if (!by) return;
    event.preventDefault();
    step(by, true);
  });
  slider.addEventListener("input", () => {
    go(state.kind, valueAt(axisOf(state.kind), Number(slider.value)), "move", true);
  });
  previous.addEventListener("click", () => step(-1, false));
  next.addEventListener("click", () => step(1, false));
  window.addEventListener("popstate", () => {
    const [kind, number] = fromLocation();
    go(kind, number, null, false);
  });

  // --- After a load ---------------------------------------------------------------------------------------

  function shown(kind, number, d) {
    state.shown = {kind, number, data: d};
    numberInput.removeAttribute("aria-invalid");
    if (pngLink) {
      pngLink.href = fill(config.urls.png, kind, number);
      pngLink.hidden = false;
    }
    statistics(d.panels.statistics, d.panels.notes);
    histogram(d.panels.histogram);
    spectrum(d.panels.spectrum, d.panels.notes);
    provenance(d.panels.provenance);
  }

  function failed(message, status) {
    state.shown = null;
    errorBox.textContent = capital(message);
    if (pngLink) pngLink.hidden = true;
    errorBox.hidden = false;
    if (status === 400 || status === 404) numberInput.setAttribute("aria-invalid", "true");
    const plot = window.SectionPlot && window.SectionPlot.mount(plotRoot);
    if (plot && plot.data) plot.clear();
    basemap.draw(state.kind, null);
    statistics([], ["No section shown."]);
    histogram(null, "No section shown.");
    spectrum(null, [], "No section shown.");
    provenance(null);
  }

  function statistics(rows, notes) {
    const body = $("section-stats").tBodies[0];
    body.replaceChildren(...rows.map((row) => {
      const tr = document.createElement("tr");
      const th = document.createElement("th");
      const td = document.createElement("td");
      th.scope = "row";
      th.textContent = row.label;
      td.textContent = row.value;
      td.title = typeof row.exact === "object" ? JSON.stringify(row.exact) : String(row.exact);
      tr.dataset.key = row.key;
      tr.append(th, td);
      return tr;
    }));
    $("section-stats-notes").textContent = (notes || []).join(" ");
  }

  function emptyChart(element, caption, words) {
    if (plotly()) Plotly.purge(element);
    element.textContent = "";
    element.hidden = true;
    caption.textContent = words;
    delete element.dataset.drawn;
  }

  function clipShapes(clip) {
    return [-clip, clip].map((x) => ({type: "line", xref: "x", yref: "paper", x0: x, x1: x, y0: 0, y1: 1,
                                      line: {color: "#b00020", width: 1.5, dash: "dash"}}));
  }

  function histogram(h, words) {
    const element = $("histogram");
    const caption = $("histogram-caption");
    if (!h || !plotly()) return emptyChart(element, caption, words || "No live samples: no histogram.");
    const centres = h.counts.map((_, i) => h.first + (i + 0.5) * h.width);
    const clip = Number(plotRoot.dataset.clip || 0);
    const trace = {type: "bar", x: centres, y: h.counts, width: h.width, marker: {color: "#4a6fa5"},
                   hovertemplate: `%{x:.4g} ± ${sig(h.width / 2, 3)}: %{y} samples<extra></extra>`};
    const layout = {margin: {l: 56, r: 10, t: 8, b: 40}, bargap: 0, plot_bgcolor: "#ffffff", paper_bgcolor: "#ffffff",
                    xaxis: {title: {text: "Amplitude"}, zeroline: false, range: [-h.limit, h.limit]},
                    yaxis: {title: {text: "Samples"}, rangemode: "tozero"},
                    shapes: clip ? clipShapes(clip) : [], showlegend: false};
    element.hidden = false;
    Plotly.react(element, [trace], layout, CHART_CONFIG);
    element.dataset.drawn = "1";
    const beyond = h.below + h.above;
    caption.textContent = `${grouped(h.total)} live samples in ${h.bins} bins over ±${sig(h.limit)} ` +
      `(P${h.percentile} of |amplitude|)${beyond ? `; ${grouped(beyond)} beyond it not drawn` : ""}. ` +
      `Dashed: the colour bar's clip.`;
  }

  plotRoot.addEventListener("section-plot:clip", (event) => {
    const element = $("histogram");
    if (element.dataset.drawn && plotly()) Plotly.relayout(element, {shapes: clipShapes(event.detail.clip)});
  });

  function spectrum(s, notes, words) {
    const element = $("spectrum");
    const caption = $("spectrum-caption");
    if (!s || !plotly()) {
      const why = (notes || []).find((n) => /spectr|frequency/i.test(n));
      return emptyChart(element, caption, words || why || "No spectrum for this section.");
    }
    const x = s.db.map((_, i) => s.first_hz + i * s.step_hz);
    let top = x.length - 1;
    while (top > 0 && s.db[top] < -40) top--;
    const xmax = Math.min(x[x.length - 1], Math.max(s.band_hz[1] * 1.5, x[top] * 1.1));
    const traces = [
      {type: "scatter", mode: "lines", x: x, y: s.db, line: {color: "#1d2430", width: 1.5}, name: "Average amplitude",
       hovertemplate: "%{x:.1f} Hz: %{y:.1f} dB<extra></extra>"},
      {type: "scatter", mode: "markers", x: [s.peak_hz], y: [0], marker: {color: "#b00020", size: 7},
       name: "Peak", hovertemplate: "Peak %{x:.1f} Hz<extra></extra>"},
    ];
    const layout = {
      margin: {l: 56, r: 10, t: 8, b: 40}, plot_bgcolor: "#ffffff", paper_bgcolor: "#ffffff", showlegend: false,
      xaxis: {title: {text: "Frequency (Hz)"}, range: [0, xmax], zeroline: false},
      yaxis: {title: {text: "dB below peak"}, range: [-40, 3], zeroline: false},
      shapes: [
        {type: "rect", xref: "x", yref: "paper", x0: s.band_hz[0], x1: s.band_hz[1], y0: 0, y1: 1, layer: "below",
         fillcolor: "rgba(230,159,0,0.25)", line: {width: 0}},
        {type: "line", xref: "paper", yref: "y", x0: 0, x1: 1, y0: s.level_db, y1: s.level_db,
         line: {color: "#8a4b00", width: 1, dash: "dash"}},
      ],
    };
    element.hidden = false;
    Plotly.react(element, traces, layout, CHART_CONFIG);
    element.dataset.drawn = "1";
    caption.textContent = `Mean amplitude spectrum of ${grouped(s.traces)} live traces: ` +
      `peak ${sig(s.peak_hz, 3)} Hz; ` +
      `shaded, the −6 dB band ${s.band_hz[0].toFixed(1)}–${s.band_hz[1].toFixed(1)} Hz.`;
  }

  // --- Provenance -----------------------------------------------------------------------------------------

  const record = $("provenance-record");
  const result = $("provenance-result");

  function fact(term, value, words) {
    const dt = document.createElement("dt");
    const dd = document.createElement("dd");
    dt.textContent = term;
    dd.textContent = value;
    if (words) dd.className = "words";
    return [dt, dd];
  }

  function provenance(p) {
    const facts = $("provenance-facts");
    result.textContent = "";
    if (!p) {
      facts.replaceChildren();
      record.disabled = true;
      return;
    }
    facts.replaceChildren(
      ...fact("Section", `${describe(state.kind, state.number)} of survey ${p.survey_id}, ` +
              `${p.shape.join(" × ")} values`, true),
      ...fact("Survey data SHA-256", p.survey_data_sha256),
      ...fact("Section SHA-256", p.array_sha256),
      ...fact("Read with", `${p.openvds_version}, ${p.app_version}`, true));
    record.disabled = false;
    result.textContent = "Recording stores this section as an extraction under your name, with its statistics, " +
      "and witnesses it in the ledger, as an agent's extract_section call does.";
  }

  record.addEventListener("click", async () => {
    const at = state.shown;
    if (!at) return;
    record.disabled = true;
    result.textContent = "Recording…";
    let body;
    try {
      const response = await fetch(fill(config.urls.extract, at.kind, at.number),
                                   {credentials: "same-origin", headers: {Accept: "application/json"}});
      body = await response.json();
      if (!response.ok) throw new Error(body.detail || body.error || `HTTP ${response.status}`);
    } catch (error) {
      result.textContent = `Not recorded: ${error.message}`;
      record.disabled = false;
      return;
    }
    const p = body.provenance;
    const same = p.data_sha256 === at.data.panels.provenance.array_sha256;
    const link = document.createElement("a");
    link.href = config.urls.witness.replace("VIF_ID", p.vif_id);
    link.textContent = `witness ${p.vif_id}`;
    link.id = "provenance-witness";
    result.replaceChildren(
      `Extraction ${p.extraction_id} of ${describe(at.kind, at.number)}, recorded for ${p.principal}; `, link,
      same ? ". Its SHA-256 is that of the section shown." : ". Its SHA-256 differs from the section shown!");
    result.dataset.extraction = String(p.extraction_id);
    if (state.shown === at) record.disabled = false;
  });

  // --- The base map -----------------------------------------------------------------------------------------

  const basemap = (function () {
    const map = config.basemap;
    const box = $("basemap");
    const readout = $("basemap-readout");
    const NS = "http://www.w3.org/2000/svg";
    const t = map.transform;
    const unit = map.unit ? ` ${map.unit}` : "";
    const il = map.inline;
    const xl = map.crossline;
    const ilStep = il.step || 1;
    const xlStep = xl.step || 1;
    const det = t ? t.inline_spacing[0] * t.crossline_spacing[1] - t.crossline_spacing[0] * t.inline_spacing[1] : 1;
    const toWorld = (i, x) => (t ? [t.origin[0] + i * t.inline_spacing[0] + x * t.crossline_spacing[0],
                                    t.origin[1] + i * t.inline_spacing[1] + x * t.crossline_spacing[1]] : [x, i]);
    function toSurvey(x, y) {
      if (!t) return [y, x];
      const dx = x - t.origin[0];
      const dy = y - t.origin[1];
      return [(dx * t.crossline_spacing[1] - dy * t.crossline_spacing[0]) / det,
              (t.inline_spacing[0] * dy - t.inline_spacing[1] * dx) / det];
    }
    // The grid's inline and crossline nearest a survey position, or null outside the survey's cells.
    function snap(inline, crossline) {
      const i = il.count > 1 ? (inline - il.first) / il.step : 0;
      const j = xl.count > 1 ? (crossline - xl.first) / xl.step : 0;
      if (i < -0.5 || i > il.count - 0.5 || j < -0.5 || j > xl.count - 0.5) return null;
      return [text(il.first + clampIndex(il, Math.round(i)) * il.step),
              text(xl.first + clampIndex(xl, Math.round(j)) * xl.step)];
    }
    let svg = null;
    let frame = null;  // world → pixels
    let current = null;
    let hoverLine = null;
    let currentLine = null;

    const el = (name, attributes, parent) => {
      const node = document.createElementNS(NS, name);
      for (const [k, v] of Object.entries(attributes || {})) node.setAttribute(k, v);
      if (parent) parent.appendChild(node);
      return node;
    };
    const pixel = ([x, y]) => `${frame.px(x).toFixed(1)},${frame.py(y).toFixed(1)}`;
    const path = (points) => points.map((p, i) => `${i ? "L" : "M"}${pixel(p)}`).join("") + "Z";
    const segment = (a, b) => `M${pixel(a)}L${pixel(b)}`;
    // The cells of inlines i0–i1 and crosslines x0–x1, to their edges (half a step beyond the traces).
    const cell = (i0, i1, x0, x1) => [
      toWorld(i0 - ilStep / 2, x0 - xlStep / 2), toWorld(i0 - ilStep / 2, x1 + xlStep / 2),
      toWorld(i1 + ilStep / 2, x1 + xlStep / 2), toWorld(i1 + ilStep / 2, x0 - xlStep / 2)];

    function niceTicks(lo, hi, count) {
      const span = hi - lo;
      if (!(span > 0)) return [lo];
      const raw = span / count;
      const power = Math.pow(10, Math.floor(Math.log10(raw)));
      const stepSize = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw);
      const ticks = [];
      for (let v = Math.ceil(lo / stepSize) * stepSize; v <= hi + 1e-9 * span; v += stepSize) ticks.push(v);
      return ticks;
    }

    function lineOf(kind, number) {
      if (number === null || number === undefined) return null;
      const value = Number(number);
      if (kind === "inline") return [toWorld(value, xl.first - xlStep / 2), toWorld(value, xl.last + xlStep / 2)];
      if (kind === "crossline") return [toWorld(il.first - ilStep / 2, value), toWorld(il.last + ilStep / 2, value)];
      return null;
    }

    function build() {
      const width = box.clientWidth || 320;
      const height = box.clientHeight || 280;
      const m = {l: 80, r: 10, t: 10, b: 34};
      const extent = cell(il.first, il.last, xl.first, xl.last);
      const xs = extent.map((p) => p[0]);
      const ys = extent.map((p) => p[1]);
      const [x0, x1, y0, y1] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
      const scale = Math.min((width - m.l - m.r) / Math.max(x1 - x0, 1e-9),
                             (height - m.t - m.b) / Math.max(y1 - y0, 1e-9));  // one scale: the map is not stretched
      const ox = m.l + (width - m.l - m.r - (x1 - x0) * scale) / 2;
      const oy = m.t + (height - m.t - m.b - (y1 - y0) * scale) / 2;
      frame = {px: (x) => ox + (x - x0) * scale, py: (y) => oy + (y1 - y) * scale,  // north up
               x: (px) => x0 + (px - ox) / scale, y: (py) => y1 - (py - oy) / scale};
      svg = el("svg", {width, height, viewBox: `0 0 ${width} ${height}`, role: "img",
                       "aria-labelledby": "basemap-svg-title basemap-svg-desc"});
      el("title", {id: "basemap-svg-title"}, svg).textContent = "Base map";
      el("desc", {id: "basemap-svg-desc"}, svg);
      el("rect", {x: 0, y: 0, width, height, fill: "#ffffff"}, svg);
      el("path", {d: path(extent), fill: "#dfe2e7"}, svg);  // the survey's cells: grey where no trace is
      if (map.live) {
        const {inline_step: thinIl, crossline_step: thinXl} = map.live;  // a thinned cell spans several
        const d = map.live.runs.map(([i, a, b]) => path(cell(i, i + thinIl - ilStep, a, b + thinXl - xlStep))).join("");
        el("path", {d, fill: "#8fb8de", "shape-rendering": "crispEdges"}, svg);
      }
      const corners = map.corners.map((c) => [c.x, c.y]);
      el("path", {id: "basemap-outline", d: path(corners), fill: "none", stroke: "#1d2430", "stroke-width": 1.5}, svg);
      // Axes: survey X and Y (or crossline and inline numbers) along the bottom and the left.
      const axis = el("g", {"aria-hidden": "true"}, svg);
      const left = frame.x(m.l);
      const right = frame.x(width - m.r);
      const bottom = frame.y(height - m.b);
      const topY = frame.y(m.t);
      for (const v of niceTicks(left, right, Math.max(2, Math.floor((width - m.l) / 70)))) {
        const p = frame.px(v);
        el("line", {x1: p, x2: p, y1: height - m.b, y2: height - m.b + 4, stroke: "#596170"}, axis);
        el("text", {x: p, y: height - m.b + 15, "text-anchor": "middle"}, axis).textContent = t ? grouped(v) : text(v);
      }
      for (const v of niceTicks(bottom, topY, 4)) {
        const p = frame.py(v);
        el("line", {x1: m.l - 4, x2: m.l, y1: p, y2: p, stroke: "#596170"}, axis);
        el("text", {x: m.l - 6, y: p + 4, "text-anchor": "end"}, axis).textContent = t ? grouped(v) : text(v);
      }
      el("line", {x1: m.l, x2: width - m.r, y1: height - m.b, y2: height - m.b, stroke: "#596170"}, axis);
      el("line", {x1: m.l, x2: m.l, y1: m.t, y2: height - m.b, stroke: "#596170"}, axis);
      el("text", {x: (m.l + width - m.r) / 2, y: height - 4, "text-anchor": "middle"}, axis).textContent =
        t ? `X (easting)${unit}` : "Crossline";
      el("text", {x: 12, y: (m.t + height - m.b) / 2, "text-anchor": "middle",
                  transform: `rotate(-90 12 ${(m.t + height - m.b) / 2})`}, axis).textContent =
        t ? `Y (northing)${unit}` : "Inline";
      // The first inline's first crossline, to tell the survey's orientation.
      const c0 = map.corners[0];
      el("circle", {cx: frame.px(c0.x), cy: frame.py(c0.y), r: 3.5, fill: "#1d2430"}, svg);
      const onRight = frame.px(c0.x) > width / 2;
      const below = frame.py(c0.y) < height / 2;
      const label = el("text", {x: frame.px(c0.x) + (onRight ? -6 : 6), y: frame.py(c0.y) + (below ? 14 : -6),
                                "text-anchor": onRight ? "end" : "start"}, svg);
      label.textContent = `IL ${text(c0.inline)} / XL ${text(c0.crossline)}`;
      hoverLine = el("path", {d: "", stroke: "#596170", "stroke-width": 1.5, "stroke-dasharray": "4 3", fill: "none"},
                     svg);
      currentLine = el("path", {id: "basemap-line", d: "", stroke: "#c62828", "stroke-width": 3, fill: "none",
                                "stroke-linecap": "round"}, svg);
      svg.addEventListener("mousemove", hover);
      svg.addEventListener("mouseleave", () => { hoverLine.setAttribute("d", ""); readout.textContent = ""; });
      svg.addEventListener("click", click);
      box.replaceChildren(svg);
      $("basemap-notes").textContent = map.notes.join(" ");
    }

    function at(event) {
      const rect = svg.getBoundingClientRect();
      const [inline, crossline] = toSurvey(frame.x(event.clientX - rect.left), frame.y(event.clientY - rect.top));
      return snap(inline, crossline);
    }
    const clickKind = () => (state.kind === "crossline" ? "crossline" : "inline");

    function hover(event) {
      const found = at(event);
      if (!found) {
        hoverLine.setAttribute("d", "");
        readout.textContent = "";
        return;
      }
      const kind = clickKind();
      const line = lineOf(kind, kind === "inline" ? found[0] : found[1]);
      hoverLine.setAttribute("d", segment(line[0], line[1]));
      const [x, y] = toWorld(Number(found[0]), Number(found[1]));
      readout.textContent = `Inline ${found[0]}, crossline ${found[1]}` +
        (t ? `: X ${grouped(x)}${unit}, Y ${grouped(y)}${unit}` : "") +
        `. Click to show ${kind} ${kind === "inline" ? found[0] : found[1]}.`;
    }

    function click(event) {
      const found = at(event);
      if (!found) return;
      const kind = clickKind();
      go(kind, kind === "inline" ? found[0] : found[1], "push", false);
    }

    function draw(kind, number) {
      current = [kind, number];
      if (!svg) return;
      const line = lineOf(kind, number);
      currentLine.setAttribute("d", line ? segment(line[0], line[1]) : "");
      // A line across a survey one trace wide is a point: drawn as a dot.
      const short = line && Math.hypot(frame.px(line[1][0]) - frame.px(line[0][0]),
                                       frame.py(line[1][1]) - frame.py(line[0][1])) < 6;
      currentLine.setAttribute("stroke-width", short ? 9 : 3);
      const words = `The survey outline${t ? " in its X and Y" : " in inline and crossline numbers"}, ` +
        `${grouped(map.live_traces)} live of ${grouped(map.total_traces)} traces shaded blue` +
        (line ? `; ${describe(kind, number)} drawn in red.` : kind === "timeslice" && number !== null
          ? `; a timeslice covers the whole survey.` : ".") +
        ` A click shows the ${clickKind()} through that point.`;
      svg.querySelector("desc").textContent = words;
    }

    function redraw() {
      build();
      if (current) draw(current[0], current[1]);
    }
    redraw();
    if (window.ResizeObserver) {
      let width = box.clientWidth;
      new ResizeObserver(() => { if (box.clientWidth !== width) { width = box.clientWidth; redraw(); } }).observe(box);
    }
    return {draw};
  })();

  go(state.kind, state.number, "replace", false);
})();
