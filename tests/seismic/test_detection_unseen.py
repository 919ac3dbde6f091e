"""Anomaly detection measured on sections from a generator other than the project's own
(``other_generator``: dips up to ±0.4 samples per trace, 2–20 % noise, Ricker, Ormsby and
minimum-phase wavelets, elliptical, lens-shaped and irregular spots 3–7× a weak or a strong
reflector), with the detector's defaults, as the anomalies tool runs it on a vertical section.

Matching rule: a detected cluster matches a planted spot when their boxes (trace range × sample
range, the spot's box including its wavelet's extent) overlap by at least ``OVERLAP`` of the smaller
box. Precision = detections that match some spot / detections; recall = spots matched by some
detection / spots.

The goal is recall ≥ 0.95 with precision ≥ 0.95. Measured on the 120 sections below (231 spots,
534 detections): recall 0.931, precision 0.442. Where reflectors dip gently (under 0.15 samples per
trace: 87 spots, 101 detections) recall is 0.977 and precision 0.931. Most false detections are
strong dipping reflectors: the detector's background is the median across half the section of
each trace's strongest envelope within ±6 samples, so a reflector that dips more than about 12
samples over that window is not its own background, and where strong and weak reflectors alternate
the strong one stands out. Meeting the goal needs a background taken along the local dip (a
dip-steered or flattened median), which changes the method and so is not done here. The tests gate
at what is measured (rounded down), so a change that makes detection worse fails them; raise the
bounds to the goal when the detector reaches it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

from seismic import detection
from tests.seismic import other_generator

OVERLAP = 0.3
SEEDS = range(120)
GENTLE_DIP = 0.15  # samples per trace


def _overlap(a: tuple[tuple[int, int], tuple[int, int]], b: tuple[tuple[int, int], tuple[int, int]]) -> float:
    """Intersection of two inclusive boxes as a fraction of the smaller one."""
    sides = [min(a[k][1], b[k][1]) - max(a[k][0], b[k][0]) + 1 for k in (0, 1)]
    if min(sides) <= 0:
        return 0.0
    areas = [(box[0][1] - box[0][0] + 1) * (box[1][1] - box[1][0] + 1) for box in (a, b)]
    return sides[0] * sides[1] / min(areas)


@dataclass
class Tally:
    detections: int = 0
    matched_detections: int = 0
    spots: int = 0
    found_spots: int = 0

    @property
    def precision(self) -> float:
        return self.matched_detections / self.detections if self.detections else 1.0

    @property
    def recall(self) -> float:
        return self.found_spots / self.spots


@pytest.fixture(scope="module")
def tallies() -> dict[str, Tally]:
    out = {"all": Tally(), "gentle": Tally()}
    for seed in SEEDS:
        section = other_generator.section(seed)
        clusters, _ = detection.detect(section.data, np.ones(section.data.shape[0], bool), vertical=True)
        found = [False] * len(section.spots)
        matched = 0
        for cluster in clusters:
            hits = [_overlap((cluster.first, cluster.second), (spot.traces, spot.samples)) >= OVERLAP
                    for spot in section.spots]
            matched += any(hits)
            found = [f or h for f, h in zip(found, hits, strict=True)]
        groups = ["all"] + (["gentle"] if abs(section.dip_samples_per_trace) < GENTLE_DIP else [])
        for group in groups:
            tally = out[group]
            tally.detections += len(clusters)
            tally.matched_detections += matched
            tally.spots += len(section.spots)
            tally.found_spots += sum(found)
    return out


def test_the_other_generator_varies_what_it_was_asked_to_vary():
    sections = [other_generator.section(seed) for seed in SEEDS]
    spots = [spot for s in sections for spot in s.spots]
    assert {s.wavelet for s in sections} == set(other_generator.WAVELETS)
    assert {spot.shape for spot in spots} == set(other_generator.SHAPES)
    assert {spot.host for spot in spots} == {"weak", "strong"}
    assert min(spot.strength for spot in spots) < 3.5 and max(spot.strength for spot in spots) > 6.5
    dips = [abs(s.dip_samples_per_trace) for s in sections]
    assert min(dips) < 0.05 and max(dips) > 0.35
    assert other_generator.section(5).data.tobytes() == sections[5].data.tobytes()  # seeded


def test_planted_spots_are_found_on_unseen_sections(tallies):
    tally = tallies["all"]
    assert tally.spots >= 200
    assert tally.recall >= 0.93, (tally.found_spots, tally.spots)  # goal 0.95: see the module's docstring


def test_most_detections_on_unseen_sections_are_planted_spots(tallies):
    tally = tallies["all"]
    assert tally.precision >= 0.44, (tally.matched_detections, tally.detections)  # goal 0.95: see the docstring


def test_where_reflectors_dip_gently_detection_is_near_the_goal(tallies):
    tally = tallies["gentle"]
    assert tally.spots >= 80
    assert tally.recall >= 0.95, (tally.found_spots, tally.spots)
    assert tally.precision >= 0.93, (tally.matched_detections, tally.detections)  # goal 0.95
