"""The section plot's data: the values, the thinning and the clip against numpy, and what it costs in bytes."""

from __future__ import annotations

import base64
import gzip
import json
from types import SimpleNamespace

import numpy as np
import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from review import services
from seismic import imaging, section_plot, vds
from seismic import services as seismic_services
from seismic.models import Extraction
from seismic.services import Section

pytestmark = pytest.mark.usefixtures("own_ledger_no_sampling")


def decoded(payload: dict) -> np.ndarray:
    """The cells as the browser reads them, decoded here independently of section_plot: JSON integers, or
    base64 of the int16s' high bytes then their low bytes."""
    z = payload["z"]
    if z.get("encoding") == "int16":
        raw = base64.b64decode(z["data"])
        n = z["rows"] * z["cols"]
        assert len(raw) == 2 * n
        q = [int.from_bytes(bytes([raw[i], raw[n + i]]), "big", signed=True) for i in range(n)]
        values = np.array([np.nan if v == z["dead"] else v for v in q], dtype=np.float64) * z["scale"]
    else:
        values = np.array([np.nan if q is None else q for q in z["q"]], dtype=np.float64) * z["scale"]
    return values.reshape(z["rows"], z["cols"])


def synthetic_section(kind: str, shape: tuple[int, int], *, dead: slice | None = None, seed: int = 1) -> Section:
    rng = np.random.default_rng(seed)
    data = (rng.standard_normal(shape) * 3.0).astype(np.float32)
    data[:, ::7] += 40.0  # a few strong values beyond the clip keep their precision too
    live = np.ones(shape[0] if kind != "timeslice" else shape, dtype=bool)
    if dead is not None:
        live[dead] = False
        data[dead] = 0.0
    names = {"inline": ("crossline", "sample"), "crossline": ("inline", "sample"), "timeslice": ("inline", "crossline")}
    firsts = {"inline": 100.0, "crossline": 300.0, "sample": 0.0}
    steps = {"inline": 1.0, "crossline": 2.0, "sample": 4.0}
    axes = tuple(vds.Axis(name=n, unit="ms" if n == "sample" else "", count=c, first=firsts[n],
                          last=firsts[n] + (c - 1) * steps[n], step=steps[n])
                 for n, c in zip(names[kind], shape, strict=True))
    survey = SimpleNamespace(name="syn", domain="time", sample_unit="ms")
    return Section(survey=survey, kind=kind, number=400.0 if kind == "timeslice" else 120.0, data=data, live=live,
                   axes=axes, notes=[])  # type: ignore[arg-type]


def test_values_come_back_within_half_a_quantum_and_dead_traces_as_null():
    section = synthetic_section("inline", (400, 500), dead=slice(10, 13))
    payload = section_plot.section_payload(section, clip_percentile=99.0)
    image = decoded(payload)
    expected = section.data.T.astype(np.float64)  # rows are samples: time increases downward
    assert image.shape == (500, 400)
    assert np.isnan(image[:, 10:13]).all() and not np.isnan(np.delete(image, [10, 11, 12], axis=1)).any()
    live = ~np.isnan(image)
    assert np.abs(image[live] - expected[live]).max() <= payload["z"]["scale"] / 2 * (1 + 1e-6)
    assert payload["z"]["scale"] == pytest.approx(payload["clip"]["value"] / section_plot.QUANTA)


def test_the_clip_is_numpys_99th_percentile_of_the_live_amplitudes():
    section = synthetic_section("inline", (400, 500), dead=slice(0, 50))
    payload = section_plot.section_payload(section, clip_percentile=99.0)
    live_values = section.data[50:]
    assert payload["clip"]["value"] == pytest.approx(float(np.percentile(np.abs(live_values), 99)), rel=1e-9)
    assert payload["clip"]["table"]["90"] == pytest.approx(float(np.percentile(np.abs(live_values), 90)), rel=1e-6)
    assert payload["clip"]["table"]["100"] == pytest.approx(float(np.abs(live_values).max()), rel=1e-6)


def test_a_2000_by_1500_timeslice_is_thinned_to_numpys_every_other_cell_and_oriented_as_the_png():
    section = synthetic_section("timeslice", (2000, 1500))
    payload = section_plot.section_payload(section, clip_percentile=99.0)
    image = decoded(payload)
    thinned = section.data[::2, ::2]  # rows are inlines (down the screen), columns crosslines, as in the PNG
    assert image.shape == thinned.shape == (1000, 750)
    assert np.abs(image - thinned).max() <= payload["z"]["scale"] / 2 * (1 + 1e-6)
    assert payload["x"] | {"title": None} == {"name": "crossline", "title": None, "first": 300.0, "step": 4.0,
                                               "count": 750, "decimation": 2}
    assert payload["y"]["name"] == "inline" and payload["y"]["step"] == 2.0 and payload["y"]["count"] == 1000
    assert any("Thinned for display" in note for note in payload["notes"])
    # The clip still comes from every sample, not the thinned ones.
    assert payload["clip"]["value"] == pytest.approx(float(np.percentile(np.abs(section.data), 99)), rel=1e-9)


def test_an_odd_sized_section_keeps_its_last_cells_when_thinned():
    section = synthetic_section("crossline", (1001, 2999))
    payload = section_plot.section_payload(section, clip_percentile=99.0)
    assert decoded(payload).shape == section.data.T[::3, ::2].shape == (1000, 501)
    assert payload["x"]["count"] == 501 and payload["y"]["count"] == 1000


def test_axis_titles_and_colours_are_those_of_the_png():
    section = synthetic_section("inline", (40, 50))
    payload = section_plot.section_payload(section, clip_percentile=99.0)
    assert (payload["x"]["title"], payload["y"]["title"], payload["fixed"]["title"]) == ("Crossline", "Time (ms)",
                                                                                         "Inline")
    stops = dict((position, colour) for position, colour in payload["colorscale"])
    white = [int(c) for c in stops[0.5][4:-1].split(",")]
    assert min(white) >= 252  # white at zero (the PNG's 256-colour table has no exact middle entry)
    lut = imaging.colormap_lut("seismic")  # the PNG's colours
    assert stops[0.0] == "rgb({},{},{})".format(*lut[0]) and stops[1.0] == "rgb({},{},{})".format(*lut[255])
    blue, red = ([int(c) for c in stops[p][4:-1].split(",")] for p in (0.25, 0.75))
    assert blue[2] > 250 > 5 > max(blue[:2]) and red[0] > 250 > 5 > max(red[1:])  # blue below zero, red above


def test_a_400_by_500_section_costs_a_quarter_of_the_old_json(capsys):
    section = synthetic_section("inline", (400, 500))
    payload = section_plot.section_payload(section, clip_percentile=99.0)
    new = json.dumps(payload, separators=(",", ":")).encode()
    old = json.dumps({"z": section.data.T.round(3).tolist()}).encode()
    sizes = {"old raw": len(old), "old gzip": len(gzip.compress(old, 6)), "new raw": len(new),
             "new gzip": len(gzip.compress(new, 6))}
    with capsys.disabled():
        print("\nsection JSON, 400×500: " + ", ".join(f"{k} {v / 1000:.0f} kB" for k, v in sizes.items()))
    assert sizes["new gzip"] < sizes["old raw"] / 4 and sizes["new gzip"] < 300_000


@pytest.fixture
def rita(django_user_model):
    user = django_user_model.objects.create_user("rita", "rita@example.com", "pw-rita-123")
    user.groups.add(Group.objects.get(name="reviewers"))
    return user


def test_the_item_section_json_matches_the_extraction_and_is_gzipped(client, rita, agent, f3):
    section_json = agent.get(reverse("api:seismic:section", kwargs={"survey_id": f3.pk, "section_type": "inline",
                                                                    "section_number": "120"})).json()
    result = services.interpretation_submit(
        writer="agent:bot", key=None, text="Inline 120 is quiet at crosslines 400-420 between 600 and 700 ms.",
        structured=None, extraction_ids=[section_json["extraction_id"]], model={"model_id": "m"},
        signals={"confidence": 0.9}, criticality="important")
    client.force_login(rita)
    url = reverse("review:section-data", kwargs={"escalation_id": result["escalation"]["id"]})
    response = client.get(url, HTTP_ACCEPT_ENCODING="gzip")
    assert response["Content-Encoding"] == "gzip"
    payload = json.loads(gzip.decompress(response.content))
    assert payload["z"]["encoding"] == "int16"
    extraction = Extraction.objects.get(pk=section_json["extraction_id"])
    section = seismic_services.section_read(survey=f3, kind=extraction.kind, number=extraction.number)
    expected = section.data.T[::payload["y"]["decimation"], ::payload["x"]["decimation"]]
    image = decoded(payload)
    live = ~np.isnan(image)
    assert image.shape == expected.shape
    assert np.abs(image[live] - expected[live]).max() <= payload["z"]["scale"] / 2 * (1 + 1e-6)
    live_values = section.data[np.broadcast_to(section.live[:, None], section.data.shape)]
    assert payload["clip"]["value"] == pytest.approx(float(np.percentile(np.abs(live_values), 99)), rel=1e-6)
    labels = {(w["axis"], w["label"]) for w in payload["windows"]}
    assert ("crossline", "crosslines 400-420") in labels and any(axis == "sample" for axis, _ in labels)


@pytest.mark.parametrize("kind, number", [("inline", 1020), ("timeslice", 196)])
def test_the_item_section_shows_the_anomalies_the_anomalies_tool_reports(client, rita, agent, synthetic_survey,
                                                                        kind, number):
    """The reviewer sees what an agent calling detect_amplitude_anomalies with its defaults is told: the
    dip-steered background on a vertical section, the envelope within ±6 samples of a timeslice."""
    section_json = agent.get(reverse("api:seismic:section", kwargs={
        "survey_id": synthetic_survey.pk, "section_type": kind, "section_number": str(number)})).json()
    result = services.interpretation_submit(
        writer="agent:bot", key=None, text="The bright spot near inline 1020 and crossline 2014 is full of gas.",
        structured=None, extraction_ids=[section_json["extraction_id"]], model={"model_id": "m"},
        signals={"confidence": 0.9}, criticality="important")
    client.force_login(rita)
    payload = client.get(reverse("review:section-data", kwargs={"escalation_id": result["escalation"]["id"]})).json()
    tool = agent.post(reverse("api:seismic:anomalies", kwargs={"survey_id": synthetic_survey.pk}),
                      {"section_type": kind, "section_number": number}, format="json").json()
    assert tool["anomalies"] and tool["provenance"]["parameters"]["background"] == "dip_steered"
    first, second = ("crossline", "sample") if kind == "inline" else ("inline", "crossline")
    shown = [(a[first], a[second], round(a["strength"], 4)) for a in payload["anomalies"]]
    assert shown == [(a[f"{first}_range"], a[f"{second}_range"], a["strength"]) for a in tool["anomalies"][:20]]
