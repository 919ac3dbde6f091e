// Survey page: ask the API for a section, show its picture, statistics and provenance.
(function () {
  const config = JSON.parse(document.getElementById("survey-config").textContent);
  const form = document.getElementById("section-form");
  const errorBox = document.getElementById("section-error");
  const imageLink = document.getElementById("section-image-link");
  const plot = document.getElementById("section-plot");
  const table = document.getElementById("section-stats");
  const provenance = document.getElementById("section-provenance");
  const middle = (axis) => axis[0] + Math.floor((axis[1] - axis[0]) / (axis[2] || 1) / 2) * (axis[2] || 0);

  function defaults() {
    const kind = form.section_type.value;
    const axis = kind === "inline" ? config.inline : kind === "crossline" ? config.crossline : config.sample;
    form.section_number.value = middle(axis);
    form.section_number.step = axis[2] || "any";
  }

  function row(name, value) {
    const tr = document.createElement("tr");
    const th = document.createElement("th");
    const td = document.createElement("td");
    th.textContent = name;
    td.textContent = typeof value === "number" ? Number(value.toPrecision(6)).toString() : value;
    tr.append(th, td);
    return tr;
  }

  // The section plot (section_plot.js) loads deferred: hand it the URL however far it has got.
  function showPlot(url) {
    if (window.SectionPlot) window.SectionPlot.mount(plot).load(url);
    else plot.dataset.url = url;
  }

  async function show(event) {
    if (event) event.preventDefault();
    errorBox.hidden = true;
    const url = `${config.sectionUrl}${form.section_type.value}/${form.section_number.value}/`;
    const response = await fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" });
    const body = await response.json();
    if (!response.ok) {
      errorBox.textContent = body.detail || JSON.stringify(body);
      errorBox.hidden = false;
      return;
    }
    imageLink.href = body.image_url;
    imageLink.hidden = false;
    showPlot(`${config.plotUrl}${form.section_type.value}/${form.section_number.value}/plot.json`);
    table.querySelectorAll("tr").forEach((tr) => tr.remove());
    const s = body.statistics;
    for (const key of ["count", "live_traces", "dead_traces", "min", "max", "mean", "median", "std", "rms",
                       "zero_crossings", "data_range", "coefficient_of_variation", "dominant_frequency_hz",
                       "bandwidth_hz", "spectral_centroid_hz"]) {
      if (s[key] !== undefined && s[key] !== null) table.append(row(key, s[key]));
    }
    if (s.band_hz) table.append(row("band_hz (−6 dB)", s.band_hz.map((v) => v.toFixed(1)).join(" – ")));
    for (const [key, value] of Object.entries(s.percentiles || {})) if (value !== null) table.append(row(key, value));
    for (const note of s.notes || []) table.append(row("note", note));
    provenance.textContent = `Extraction ${body.extraction_id} · array SHA-256 ${body.provenance.data_sha256} · ` +
      `${body.provenance.openvds_version} · ${body.provenance.app_version}`;
  }

  form.section_type.addEventListener("change", defaults);
  form.addEventListener("submit", show);
  defaults();
  show();
})();
