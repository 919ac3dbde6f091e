"""Anomaly detection measured on sections from a generator other than the project's own
(``other_generator``: dips up to ±0.4 samples per trace, 2–20 % noise, Ricker, Ormsby and
minimum-phase wavelets, elliptical, lens-shaped and irregular spots 3–7× a weak or a strong
reflector), with the detector's defaults and the anomalies tool's background (dip-steered), as the
tool runs it on a vertical section.

Matching rule: a detected cluster matches a planted spot when their boxes (trace range × sample
range, the spot's box including its wavelet's extent) overlap by at least ``OVERLAP`` of the smaller
box. Precision = detections that match some spot / detections; recall = spots matched by some
detection / spots.

The goal is recall ≥ 0.95 with precision ≥ 0.95. The method was developed on seeds 1000–1119 of the
generator and measured on the 120 sections below (231 spots), then checked on seeds 1120–1479:

- dip-steered background (the tool's default): 264 detections, recall 0.991 (229 of 231) and
  precision 0.955 (252 of 264); where reflectors dip gently (under 0.15 samples per trace: 87 spots,
  104 detections) recall 1.000 and precision 0.971. A first measurement, before the dip estimate's
  finite differences went from three points to five (three make dips on high-frequency data up to a
  quarter too steep, which a plane-wave test showed), gave precision 0.943. On seeds 1000–1119 (248
  spots): recall 0.984, precision 0.978; on 1120–1479 (709 spots): recall 0.996, precision 0.966; on
  30 sections of 1000 traces × 600 samples (seeds 1000–1029, 67 spots): recall 1.000, precision 0.907.
- lateral background (as before, and for witnesses that name none): 534 detections, recall 0.931,
  precision 0.442; gently dipping, recall 0.977 and precision 0.931. Most of its false detections are
  strong dipping reflectors, which are not their own lateral background.

Every false detection of the dip-steered background on these seeds (12 of 264), and all but one on
the others, is an echo the generator puts there: it lies on a planted spot's traces, 110–160 samples
below its top, in a section with the minimum-phase wavelet. That wavelet (a Ricker spectrum's
cepstrum folded on 256 samples) has a late arrival 130–146 samples after its onset at 6–20 % of its
peak, so a spot 3–7× its reflector repeats there as a real, weaker, laterally confined amplitude
anomaly; the spot's box includes it only where the arrival reaches a fifth of the peak. Counting those
as their spot's (``_late_arrival``), precision is 1.000 here. The tests gate at the goal, and the
precision with the echoes counted at what is measured, rounded down.
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
LATE_ARRIVAL = (110, 160)  # samples from a spot's top to its echo's in minimum-phase sections


def _overlap(a: tuple[tuple[int, int], tuple[int, int]], b: tuple[tuple[int, int], tuple[int, int]]) -> float:
    """Intersection of two inclusive boxes as a fraction of the smaller one."""
    sides = [min(a[k][1], b[k][1]) - max(a[k][0], b[k][0]) + 1 for k in (0, 1)]
    if min(sides) <= 0:
        return 0.0
    areas = [(box[0][1] - box[0][0] + 1) * (box[1][1] - box[1][0] + 1) for box in (a, b)]
    return sides[0] * sides[1] / min(areas)


def _late_arrival(cluster: detection.Cluster, section: other_generator.Section) -> bool:
    """Whether a detection is a planted spot's echo through the minimum-phase wavelet's late arrival:
    at least half of its traces are the spot's, and its top lies ``LATE_ARRIVAL`` samples below the spot's."""
    if section.wavelet != "minimum_phase":
        return False
    width = cluster.first[1] - cluster.first[0] + 1
    return any(min(cluster.first[1], spot.traces[1]) - max(cluster.first[0], spot.traces[0]) + 1 >= width / 2
               and LATE_ARRIVAL[0] <= cluster.second[0] - spot.samples[0] <= LATE_ARRIVAL[1]
               for spot in section.spots)


@dataclass
class Tally:
    detections: int = 0
    matched_detections: int = 0
    late_arrivals: int = 0  # unmatched detections that are a spot's echo (see the module's docstring)
    spots: int = 0
    found_spots: int = 0

    @property
    def precision(self) -> float:
        return self.matched_detections / self.detections if self.detections else 1.0

    @property
    def precision_with_late_arrivals(self) -> float:
        return (self.matched_detections + self.late_arrivals) / self.detections if self.detections else 1.0

    @property
    def recall(self) -> float:
        return self.found_spots / self.spots


@pytest.fixture(scope="module")
def tallies() -> dict[str, Tally]:
    out = {"all": Tally(), "gentle": Tally()}
    for seed in SEEDS:
        section = other_generator.section(seed)
        clusters, _ = detection.detect(section.data, np.ones(section.data.shape[0], bool), vertical=True,
                                       background=detection.DEFAULT_BACKGROUND)
        found = [False] * len(section.spots)
        matched = late = 0
        for cluster in clusters:
            hits = [_overlap((cluster.first, cluster.second), (spot.traces, spot.samples)) >= OVERLAP
                    for spot in section.spots]
            matched += any(hits)
            late += not any(hits) and _late_arrival(cluster, section)
            found = [f or h for f, h in zip(found, hits, strict=True)]
        groups = ["all"] + (["gentle"] if abs(section.dip_samples_per_trace) < GENTLE_DIP else [])
        for group in groups:
            tally = out[group]
            tally.detections += len(clusters)
            tally.matched_detections += matched
            tally.late_arrivals += late
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


def test_the_minimum_phase_wavelet_has_the_late_arrival_the_docstring_blames():
    for peak_hz in (15, 20, 25, 30, 35):
        wavelet = np.abs(other_generator.minimum_phase(peak_hz))
        late = 60 + int(np.argmax(wavelet[60:]))
        assert 130 <= late <= 146 and 0.05 <= wavelet[late] / wavelet.max() <= 0.21, (peak_hz, late)


def test_planted_spots_are_found_on_unseen_sections(tallies):
    tally = tallies["all"]
    assert tally.spots >= 200
    assert tally.recall >= 0.95, (tally.found_spots, tally.spots)  # the goal; measured 0.991


def test_most_detections_on_unseen_sections_are_planted_spots(tallies):
    tally = tallies["all"]
    assert tally.precision >= 0.95, (tally.matched_detections, tally.detections)  # the goal; measured 0.955
    # The rest are the generator's echoes of the spots (see the module's docstring): measured 1.000.
    assert tally.precision_with_late_arrivals >= 0.99, (tally.matched_detections, tally.late_arrivals,
                                                        tally.detections)


def test_where_reflectors_dip_gently_detection_meets_the_goal(tallies):
    tally = tallies["gentle"]
    assert tally.spots >= 80
    assert tally.recall >= 0.95, (tally.found_spots, tally.spots)  # measured 1.000
    assert tally.precision >= 0.95, (tally.matched_detections, tally.detections)  # measured 0.971
