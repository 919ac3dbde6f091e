"""Anti-hallucination tool benchmark (make bench) on the 400x400x500 synthetic survey of
bench/sections.py (created there once, in var/bench).

For each tool: the median of 5 warm runs of the full API request (read, compute, witness), and of
its numerical core alone on the same arrays, on inline, crossline and timeslice sections through the
survey's planted bright spot. The detector keeps its last answers (a repeated question costs a hash of
its arrays); they are dropped before every timed run, so the table shows the computation.
"""

from __future__ import annotations

import os
import platform

import numpy as np
from django.test import Client

from bench import common  # first: it sets Django up
from bench.common import SIZE, agent_key, bench_survey
from seismic import claims, detection, services, vds, verification

RUNS = 5


def median_ms(fn) -> float:
    return common.median_ms(fn, RUNS, warm=True, before=detection.forget_results)


def main() -> None:
    survey = bench_survey()
    client = Client(HTTP_AUTHORIZATION=f"Api-Key {agent_key('bench-tools')}")
    spot = next(f for f in survey.ground_truth["features"] if f["kind"] == "bright_spot")
    il, xl = round(spot["center"]["inline"]), round(spot["center"]["crossline"])
    t = round(spot["center"]["time_ms"] / survey.sample_step) * survey.sample_step
    base = f"/api/v1/surveys/{survey.pk}"
    print(f"Tools on a {SIZE} survey; {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
          f"Python {platform.python_version()}; medians of {RUNS} warm runs, ms")
    rows = []
    samples = [t - 20, t + 20]
    for kind, number, window in (("inline", il, {"crossline_range": [xl - 5, xl + 5], "sample_range": samples}),
                                 ("crossline", xl, {"inline_range": [il - 5, il + 5], "sample_range": samples}),
                                 ("timeslice", t, {"inline_range": [il - 5, il + 5],
                                                   "crossline_range": [xl - 5, xl + 5]})):
        section = services.section_read(survey=survey, kind=kind, number=number)
        live = section.live
        shape = "x".join(map(str, section.data.shape))

        def post(path, body):
            response = client.post(f"{base}/{path}/", body, content_type="application/json")
            assert response.status_code == 200, response.content
        claim = {"section_type": kind, "section_number": number, "claim_type": "high_amplitude", **window}
        rows.append((f"validate_amplitude_claim {kind} {shape}",
                     median_ms(lambda: post("validate-amplitude-claim", claim)),
                     median_ms(lambda: claims.check_claim(section.data[:10].ravel(), section.data.ravel(),
                                                          claim_type="high_amplitude"))))
        amplitude = None
        if kind == "timeslice":
            from seismic.tools import _slab

            slab, centre = _slab(survey, survey.geometry().sample.index_of(t), 16)
            amplitude = detection.slab_envelope(slab, centre, 6)
        rows.append((f"detect_amplitude_anomalies {kind} {shape}",
                     median_ms(lambda: post("anomalies", {"section_type": kind, "section_number": number})),
                     median_ms(lambda: detection.detect(section.data, live, vertical=section.vertical,
                                                        amplitude=amplitude))))
    reference = services.section_read(survey=survey, kind="inline", number=il + 1)
    target = services.section_read(survey=survey, kind="inline", number=il)
    rows.append(("compare_to_reference inline", median_ms(lambda: client.post(
        f"{base}/compare/", {"section_type": "inline", "section_number": il, "reference_section_type": "inline",
                             "reference_section_number": il + 1}, content_type="application/json")),
        median_ms(lambda: claims.compare(target.data, reference.data, vertical=True, normalise=False))))
    for feature in ("bright_spot", "fault", "channel"):
        body = {"feature_type": feature, "location": {"inline": il, "crossline": xl, "sample": t}}
        g = survey.geometry()
        i, x, k = g.inline.index_of(il), g.crossline.index_of(xl), g.sample.index_of(t)
        cube = vds.read_subset(survey.vds_url, g, (i - 10, x - 10, k - 25), (i + 11, x + 11, k + 26))
        rows.append((f"verify_feature_hypothesis {feature}",
                     median_ms(lambda: client.post(f"{base}/verify-hypothesis/", body,
                                                   content_type="application/json")),
                     median_ms(lambda: verification.verify(cube, np.ones(cube.shape[:2], bool),
                                                           (10, 10, 25), feature=feature))))
    extraction = client.get(f"{base}/sections/inline/{il}/").json()
    text = (f"Inline {il} has an RMS amplitude of {extraction['statistics']['rms']:.1f}. A bright spot sits at "
            f"crossline {xl}, {t:g} ms. There may be a fault at crossline {xl + 40} around {t:g} ms; this is "
            "uncertain and the fill cannot be determined without well logs.")
    rows.append(("audit_interpretation (3 sentences, 2 feature checks)", median_ms(lambda: client.post(
        "/api/v1/interpretations/audit/", {"text": text, "extraction_ids": [extraction["extraction_id"]]},
        content_type="application/json")), float("nan")))
    print(f"{'tool':55} {'API':>9} {'core':>9}")
    for label, api, core in rows:
        print(f"{label:55} {api:9.1f} {core:9.1f}")


if __name__ == "__main__":
    main()
