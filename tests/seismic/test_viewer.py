"""The survey viewer's numbers (seismic/viewer.py) against independent numpy and segyio computations, its compact
section data, and who may open it."""

from __future__ import annotations

import gzip
import json
from types import SimpleNamespace

import numpy as np
import pytest
import segyio
from django.urls import reverse

from seismic import section_plot, services, vds, viewer
from seismic.services import Section

F3_SYSTEM = {"origin": [598407.899290863, 6070848.480132535],  # what SEGYImport writes for F3
             "inlineSpacing": [-0.6954545454566621, 24.986363636372104],
             "crosslineSpacing": [24.99028132992316, 0.6982097186605493], "unit": "m"}


def axis(name: str, first: float, step: float, count: int, unit: str = "") -> vds.Axis:
    return vds.Axis(name=name, unit=unit, count=count, first=first, last=first + (count - 1) * step, step=step)


def synthetic_section(kind: str = "inline", shape: tuple[int, int] = (60, 250), *, dead: slice | None = None,
                      seed: int = 4) -> Section:
    """Band-limited traces (a 30 Hz Ricker wavelet convolved with sparse reflectivity) and a little noise."""
    rng = np.random.default_rng(seed)
    t = np.arange(-32, 33) * 0.004
    wavelet = (1 - 2 * (np.pi * 30 * t) ** 2) * np.exp(-((np.pi * 30 * t) ** 2))
    reflectivity = rng.standard_normal(shape) * (rng.random(shape) < 0.08)
    data = np.array([np.convolve(r, wavelet, mode="same") for r in reflectivity]) * 100
    data = (data + rng.standard_normal(shape)).astype(np.float32)
    live = np.ones(shape[0] if kind != "timeslice" else shape, dtype=bool)
    if dead is not None:
        live[dead] = False
        data[dead] = 0.0
    names = services.SECTION_AXES[kind]
    firsts = {"inline": 100.0, "crossline": 300.0, "sample": 0.0}
    steps = {"inline": 1.0, "crossline": 2.0, "sample": 4.0}
    axes = tuple(axis(n, firsts[n], steps[n], c, "ms" if n == "sample" else "")
                 for n, c in zip(names, shape, strict=True))
    survey = SimpleNamespace(pk=1, name="syn", domain="time", sample_unit="ms", sample_step=4.0, data_sha256="0" * 64,
                             coordinate_system=F3_SYSTEM)
    return Section(survey=survey, kind=kind, number=120.0, data=data, live=live, axes=axes,  # type: ignore[arg-type]
                   notes=[])


# --- Histogram, spectrum, −6 dB band ------------------------------------------------------------------------

def test_the_histogram_is_numpys_over_the_99_9th_percentile_of_the_live_amplitudes():
    section = synthetic_section(dead=slice(5, 9))
    panels = viewer.section_view(section, clip_percentile=99.0)["panels"]
    histogram = panels["histogram"]
    live = section.data[section.live].astype(np.float64).ravel()
    limit = np.percentile(np.abs(live), 99.9)
    counts, edges = np.histogram(live, bins=81, range=(-limit, limit))
    assert histogram["limit"] == pytest.approx(limit, rel=1e-12)
    assert histogram["counts"] == counts.tolist()
    assert histogram["first"] == pytest.approx(edges[0]) and histogram["width"] == pytest.approx(edges[1] - edges[0])
    assert (histogram["below"], histogram["above"]) == (int((live < -limit).sum()), int((live > limit).sum()))
    assert sum(histogram["counts"]) + histogram["below"] + histogram["above"] == live.size == histogram["total"]
    assert section.live.sum() * section.data.shape[1] == live.size  # the dead traces' zeros are not counted


def test_the_spectrum_is_the_mean_fft_amplitude_of_the_live_traces_in_db_below_its_peak():
    section = synthetic_section(dead=slice(0, 3))
    spectrum = viewer.section_view(section, clip_percentile=99.0)["panels"]["spectrum"]
    traces = section.data[section.live].astype(np.float64)
    nfft = 1024  # 250 samples: numpy's next power of two is 256, under the 1024-point minimum
    amplitude = np.abs(np.fft.rfft(traces - traces.mean(axis=1, keepdims=True), n=nfft, axis=1)).mean(axis=0)
    freqs = np.fft.rfftfreq(nfft, d=0.004)
    expected_db = 20 * np.log10(amplitude / amplitude[1:].max())
    assert len(spectrum["db"]) == len(freqs) == 513
    assert spectrum["first_hz"] == 0 and spectrum["step_hz"] == pytest.approx(freqs[1])
    np.testing.assert_allclose(spectrum["db"], np.maximum(expected_db, viewer.SPECTRUM_FLOOR_DB), atol=5e-4)
    assert spectrum["peak_hz"] == pytest.approx(freqs[1:][np.argmax(amplitude[1:])])
    assert spectrum["traces"] == traces.shape[0]


def test_the_6_db_band_edges_are_where_the_spectrum_falls_6_db_below_its_peak():
    section = synthetic_section(seed=7)
    spectrum = viewer.section_view(section, clip_percentile=99.0)["panels"]["spectrum"]
    traces = section.data[section.live].astype(np.float64)
    amplitude = np.abs(np.fft.rfft(traces - traces.mean(axis=1, keepdims=True), n=1024, axis=1)).mean(axis=0)
    freqs = np.fft.rfftfreq(1024, d=0.004)
    peak = np.argmax(amplitude[1:]) + 1
    level = amplitude[peak] / 10 ** (6 / 20)
    low, high = spectrum["band_hz"]
    assert low < freqs[peak] < high
    # At each edge the (linearly interpolated) spectrum is at the level, and everything between is above it.
    assert np.interp(low, freqs, amplitude) == pytest.approx(level, rel=1e-9)
    assert np.interp(high, freqs, amplitude) == pytest.approx(level, rel=1e-9)
    inside = (freqs > low) & (freqs < high)
    assert (amplitude[inside] >= level).all()
    assert amplitude[np.searchsorted(freqs, low) - 1] < level and amplitude[np.searchsorted(freqs, high)] < level
    # The band the plot shades is the one the statistics report (and an extraction records).
    statistics = {row["key"]: row["exact"] for row in viewer.section_view(section, clip_percentile=99.0)["panels"]
                  ["statistics"]}
    assert statistics["band_hz"] == [low, high]


def test_a_timeslice_or_depth_section_has_no_spectrum_and_says_why():
    timeslice = viewer.section_view(synthetic_section("timeslice", (40, 80)), clip_percentile=99.0)["panels"]
    assert timeslice["spectrum"] is None and any("timeslice" in n for n in timeslice["notes"])
    depth = synthetic_section()
    depth.survey.domain, depth.survey.sample_unit = "depth", "m"
    panels = viewer.section_view(depth, clip_percentile=99.0)["panels"]
    assert panels["spectrum"] is None and any("Depth-domain" in n for n in panels["notes"])


# --- The base map ---------------------------------------------------------------------------------------

def test_the_outline_corners_are_the_origin_plus_inline_and_crossline_spacings():
    transform = section_plot.world_transform(F3_SYSTEM)
    inline, crossline = axis("inline", 111, 1, 23), axis("crossline", 875, 1, 18)
    corners = viewer.outline_corners(transform, inline, crossline)
    spacing = np.column_stack([F3_SYSTEM["inlineSpacing"], F3_SYSTEM["crosslineSpacing"]])
    annotations = np.array([[111, 875], [111, 892], [133, 892], [133, 875]], dtype=np.float64)
    expected = annotations @ spacing.T + np.array(F3_SYSTEM["origin"])
    np.testing.assert_allclose([[c["x"], c["y"]] for c in corners], expected, rtol=0, atol=1e-6)
    assert [(c["inline"], c["crossline"]) for c in corners] == [tuple(a) for a in annotations]


@pytest.mark.django_db
def test_the_outline_corners_are_where_the_segy_puts_the_corner_traces(f3, segy_dir):
    corners = viewer.basemap(f3)["corners"]
    with segyio.open(str(segy_dir / "f3.sgy")) as f:
        field = segyio.TraceField
        headers = {(h[field.INLINE_3D], h[field.CROSSLINE_3D]):
                   (h[field.CDP_X], h[field.CDP_Y], h[field.SourceGroupScalar]) for h in f.header}
    for corner in corners:
        cdp_x, cdp_y, scalar = headers[(int(corner["inline"]), int(corner["crossline"]))]
        factor = 1 / -scalar if scalar < 0 else (scalar or 1)
        x, y = cdp_x * factor, cdp_y * factor
        assert (corner["x"], corner["y"]) == (pytest.approx(x, abs=0.1), pytest.approx(y, abs=0.1))


def test_without_a_coordinate_system_the_map_is_drawn_in_survey_numbers():
    assert section_plot.world_transform({}) is None
    assert section_plot.world_transform({"origin": [0, 0], "inlineSpacing": [1, 0], "crosslineSpacing": [2, 0]}) is None
    corners = viewer.outline_corners(None, axis("inline", 1, 1, 3), axis("crossline", 10, 5, 4))
    assert [(c["x"], c["y"]) for c in corners] == [(10, 1), (25, 1), (25, 3), (10, 3)]


@pytest.mark.parametrize("shape,most", [((23, 18), 200), ((450, 1001), 200), ((7, 9), 3)])
def test_the_live_runs_redraw_numpys_thinned_live_mask(shape, most):
    rng = np.random.default_rng(3)
    live = rng.random(shape) < 0.7
    live[:, : shape[1] // 3] = False
    inline, crossline = axis("inline", 1000, 2, shape[0]), axis("crossline", 5, 1, shape[1])
    runs = viewer.live_runs(live, inline, crossline, max_cells=most)
    step_il, step_xl = -(-shape[0] // most), -(-shape[1] // most)
    expected = live[::step_il, ::step_xl]
    drawn = np.zeros_like(expected)
    for il, first, last in runs["runs"]:
        row = round((il - 1000) / 2 / step_il)
        drawn[row, round((first - 5) / step_xl): round((last - 5) / step_xl) + 1] = True
    np.testing.assert_array_equal(drawn, expected)
    assert runs["decimation"] == [step_il, step_xl]
    assert (runs["inline_step"], runs["crossline_step"]) == (2 * step_il, step_xl)


# --- Compact section data -------------------------------------------------------------------------------

def test_int16_data_carry_the_same_numbers_as_the_json_list_and_dead_traces_as_gaps():
    section = synthetic_section(shape=(400, 500), dead=slice(10, 14))
    as_list = section_plot.section_payload(section, clip_percentile=99.0)
    as_int16 = section_plot.section_payload(section, clip_percentile=99.0, encoding="int16")
    image = section_plot.decode_cells(as_int16["z"])
    np.testing.assert_array_equal(image, section_plot.decode_cells(as_list["z"]))
    live = ~np.isnan(image)
    assert not live[:, 10:14].any() and live[:, 14:].all()
    expected = section.data.T.astype(np.float64)
    assert np.abs(image[live] - expected[live]).max() <= as_int16["z"]["scale"] / 2 * (1 + 1e-6)


def test_a_value_too_large_for_int16_coarsens_the_steps_instead_of_wrapping():
    section = synthetic_section(shape=(50, 200))
    section.data[7, 33] = 1e7
    z = section_plot.section_payload(section, clip_percentile=99.0, encoding="int16")["z"]
    image = section_plot.decode_cells(z)
    assert z["scale"] > section_plot.section_payload(section, clip_percentile=99.0)["z"]["scale"]
    assert image[33, 7] == pytest.approx(1e7, rel=1e-4)
    assert np.abs(image - section.data.T).max() <= z["scale"] / 2 * (1 + 1e-6)


def test_a_1000_by_1000_section_is_smaller_as_int16_than_as_json_numbers(capsys):
    section = synthetic_section(shape=(1000, 1000))
    sizes = {}
    for encoding in ("json", "int16"):
        body = json.dumps(section_plot.section_payload(section, clip_percentile=99.0, encoding=encoding),  # type: ignore[arg-type]
                          separators=(",", ":")).encode()
        sizes[encoding] = (len(body), len(gzip.compress(body, 6)))
    with capsys.disabled():
        (raw_json, gz_json), (raw_int16, gz_int16) = (sizes["json"], sizes["int16"])
        print(f"\nsection data 1000×1000: JSON numbers {raw_json / 1e6:.2f} MB ({gz_json / 1e6:.2f} MB gzipped), "
              f"int16 {raw_int16 / 1e6:.2f} MB ({gz_int16 / 1e6:.2f} MB gzipped)")
    assert sizes["int16"][0] < 0.8 * sizes["json"][0] and sizes["int16"][1] < sizes["json"][1]
    assert sizes["int16"][0] < 2.8e6


# --- The page and its data, for whom -----------------------------------------------------------------------

@pytest.fixture
def gina(django_user_model):
    return django_user_model.objects.create_user("gina", "gina@example.com", "pw-gina-12345")  # no group


@pytest.mark.django_db
def test_only_people_logged_in_see_the_viewer_and_its_data(client, f3, gina):
    page = reverse("seismic:survey-detail", kwargs={"survey_id": f3.pk})
    data = reverse("seismic:section-plot-data", kwargs={"survey_id": f3.pk, "kind": "inline", "number": "120"})
    for url in (page, data):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/"), url
    client.force_login(gina)
    assert client.get(page).status_code == 200 and client.get(data).status_code == 200


@pytest.mark.django_db
def test_the_page_opens_on_the_section_its_url_names(client, f3, gina):
    client.force_login(gina)
    url = reverse("seismic:survey-detail", kwargs={"survey_id": f3.pk})
    config = client.get(url).context["config"]
    assert (config["kind"], config["number"]) == ("inline", "122")  # the middle of 111–133
    assert {k: client.get(url, {k: "880"}).context["config"]["number"] for k in viewer.KINDS} == dict.fromkeys(
        viewer.KINDS, "880")
    form = client.get(url, {"section_type": "crossline", "section_number": "880"})  # the form without scripts
    assert form.status_code == 302 and form["Location"] == f"{url}?crossline=880"
    assert config["basemap"]["live"]["runs"] == [[float(il), 875.0, 892.0] for il in range(111, 134)]


@pytest.mark.django_db
def test_a_survey_one_crossline_wide_opens_on_that_crossline(client, register, gina):
    survey = register("penobscot_xl1155")
    client.force_login(gina)
    config = client.get(reverse("seismic:survey-detail", kwargs={"survey_id": survey.pk})).context["config"]
    assert (config["kind"], config["number"]) == ("crossline", "1155")


@pytest.mark.django_db
def test_a_volume_that_cannot_be_read_still_gets_its_page_with_the_outline_and_a_note(client, f3, gina, tmp_path):
    f3.vds_url = str(tmp_path / "gone.vds")
    f3.save(update_fields=["vds_url"])
    client.force_login(gina)
    response = client.get(reverse("seismic:survey-detail", kwargs={"survey_id": f3.pk}))
    basemap = response.context["config"]["basemap"]
    assert response.status_code == 200 and basemap["live"] is None and len(basemap["corners"]) == 4
    assert "The volume cannot be read now" in " ".join(basemap["notes"])
    data = client.get(reverse("seismic:section-plot-data", kwargs={"survey_id": f3.pk, "kind": "inline",
                                                                   "number": "120"}))
    assert data.status_code == 503 and "cannot be read now" in data.json()["error"]
    assert "max-age" not in data.get("Cache-Control", "")


@pytest.mark.django_db
def test_the_section_data_are_the_section_its_statistics_and_its_hash(client, f3, gina):
    client.force_login(gina)
    url = reverse("seismic:section-plot-data", kwargs={"survey_id": f3.pk, "kind": "inline", "number": "120"})
    response = client.get(url, HTTP_ACCEPT_ENCODING="gzip")
    assert response["Content-Encoding"] == "gzip" and "private" in response["Cache-Control"]
    payload = json.loads(gzip.decompress(response.content))
    section = services.section_read(survey=f3, kind="inline", number=120)
    image = section_plot.decode_cells(payload["z"])
    assert np.abs(image - section.data.T).max() <= payload["z"]["scale"] / 2 * (1 + 1e-6)
    statistics = services.section_statistics(section)
    shown = {row["key"]: row["exact"] for row in payload["panels"]["statistics"]}
    assert shown["rms"] == statistics["rms"] and shown["band_hz"] == statistics["band_hz"]
    assert payload["panels"]["provenance"]["array_sha256"] == services.array_sha256(section.data)
    assert payload["world"]["origin"] == f3.coordinate_system["origin"]


@pytest.mark.django_db
@pytest.mark.parametrize("kind,number,words", [
    ("inline", "120.5", "inline 120.5 is not in this survey: valid inline numbers are 111 to 133 in steps of 1."),
    ("timeslice", "400", "valid times are 4 to 300 in steps of 4"),
    ("inline", "abc", "'abc' is not a number."),
    ("wiggle", "120", "section_type must be one of inline, crossline, timeslice"),
])
def test_a_section_off_the_grid_gets_a_message_and_no_data(client, f3, gina, kind, number, words):
    client.force_login(gina)
    response = client.get(reverse("seismic:section-plot-data", kwargs={"survey_id": f3.pk, "kind": kind,
                                                                       "number": number}))
    assert response.status_code == 400 and words in response.json()["error"]
    assert "Cache-Control" not in response or "max-age" not in response["Cache-Control"]
