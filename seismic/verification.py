"""Checking a feature hypothesis (fault, channel, bright spot, flat spot) through several
independent views of the data around the claimed location. Plain numpy/scipy; no Django.

Input is a cube around the location, ``cube[inline, crossline, sample]``, its live mask, and the
location's indices in it. Views:

- the inline through the location (traces along the crossline axis) and the orthogonal crossline;
- a timeslice through it (the envelope within a few samples of the claimed time);
- the amplitude gradient;
- reflector continuity: the zero-lag correlation of neighbouring traces (a coherence measure);
- for faults, the vertical offset between the two sides (best cross-correlation lag).

Each step gives a sub-score in [0, 1] with its evidence; the weighted mean is the score, and a
hypothesis is verified at ``VERIFIED_AT`` (0.7) or more. A feature whose strike is unknown shows in
one vertical view and not the other, so the section step takes the stronger of the two.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import ndimage

from seismic import detection

FEATURES = ("fault", "channel", "bright_spot", "flat_spot")
VERIFIED_AT = 0.7
WEIGHTS: dict[str, dict[str, float]] = {
    "fault": {"section_discontinuity": 0.3, "vertical_offset": 0.35, "timeslice_lineament": 0.15,
              "amplitude_gradient": 0.2},
    # A channel shows as an incision, as a fill of other amplitude, or both: the signature step is
    # their soft OR, and the two are reported but not weighted twice.
    "channel": {"channel_signature": 0.6, "incision": 0.0, "amplitude_contrast": 0.0, "section_discontinuity": 0.2,
                "timeslice_contrast": 0.1, "amplitude_gradient": 0.1},
    "bright_spot": {"inline_anomaly": 0.35, "crossline_anomaly": 0.35, "timeslice_contrast": 0.3},
    "flat_spot": {"flatness": 0.4, "inline_anomaly": 0.2, "crossline_anomaly": 0.2, "continuity": 0.2},
}


def _clip(x: float) -> float:
    return float(min(1.0, max(0.0, x)))


def _normalised(traces: np.ndarray) -> np.ndarray:
    centred = traces - traces.mean(axis=1, keepdims=True)
    norm = np.linalg.norm(centred, axis=1, keepdims=True)
    return centred / np.where(norm > 0, norm, 1.0)


def neighbour_coherence(section: np.ndarray) -> np.ndarray:
    """Zero-lag correlation of each trace with the next: len(traces) − 1 values in [−1, 1]."""
    a = _normalised(np.asarray(section, dtype=np.float64))
    return np.sum(a[:-1] * a[1:], axis=1)


def discontinuity(section: np.ndarray, at: int, reach: int = 2) -> dict[str, float]:
    """How much lower the coherence is at trace ``at`` than across the section."""
    c = neighbour_coherence(section)
    lo, hi = max(0, at - reach), min(len(c), at + reach)
    local = float(c[lo:hi].min()) if hi > lo else float(np.median(c))
    background = float(np.median(c))
    score = _clip((background - local) / 0.5)
    return {"score": score, "coherence_at_location": local, "coherence_background": background}


def best_lag(left: np.ndarray, right: np.ndarray, max_lag: int) -> tuple[int, float]:
    """The lag (samples) of ``right`` against ``left`` with the highest normalised correlation."""
    a = left - left.mean()
    b = right - right.mean()
    best = (0, -1.0)
    n = len(a)
    for lag in range(-max_lag, max_lag + 1):
        x = a[max(0, -lag): n - max(0, lag)]
        y = b[max(0, lag): n - max(0, -lag)]
        denominator = np.linalg.norm(x) * np.linalg.norm(y)
        if denominator > 0:
            value = float(np.dot(x, y) / denominator)
            if value > best[1]:
                best = (lag, value)
    return best


def vertical_offset(section: np.ndarray, at: int, *, gap: int = 3, width: int = 4, max_lag: int = 12) -> dict[str, Any]:
    """Offset between the traces on either side of ``at`` (a fault's throw, in samples)."""
    n = section.shape[0]
    left = section[max(0, at - gap - width + 1): max(0, at - gap + 1)]
    right = section[min(n, at + gap): min(n, at + gap + width)]
    if len(left) == 0 or len(right) == 0:
        return {"score": 0.0, "lag_samples": 0, "correlation": 0.0, "note": "too close to the edge"}
    lag, correlation = best_lag(left.mean(axis=0), right.mean(axis=0), max_lag)
    # Compare with the offset across the same distance elsewhere in the section (regional dip).
    reference = []
    for centre in range(gap + width, n - gap - width, max(1, n // 8)):
        if abs(centre - at) > 2 * (gap + width):
            ref_lag, _ = best_lag(section[centre - gap - width + 1: centre - gap + 1].mean(axis=0),
                                  section[centre + gap: centre + gap + width].mean(axis=0), max_lag)
            reference.append(ref_lag)
    typical = float(np.median(reference)) if reference else 0.0
    excess = abs(lag - typical)
    score = _clip((excess - 1.0) / 3.0) * _clip(correlation / 0.5)
    return {"score": score, "lag_samples": int(lag), "typical_lag_samples": typical, "correlation": correlation}


def incision(section: np.ndarray, at: int, window: slice, *, core: int = 1, side: tuple[int, int] = (5, 8),
             max_lag: int = 6) -> dict[str, Any]:
    """How far the reflectors at ``at`` sag (or rise) against both sides: a channel's incision."""
    n = section.shape[0]
    centre = section[max(0, at - core): at + core + 1, window].mean(axis=0)
    sides = [section[k, window] for k in list(range(at - side[1], at - side[0] + 1)) +
             list(range(at + side[0], at + side[1] + 1)) if 0 <= k < n]
    if not sides:
        return {"score": 0.0, "note": "too close to the edge"}
    lag, correlation = best_lag(np.mean(sides, axis=0), centre, max_lag)
    return {"score": _clip((abs(lag) - 0.5) / 1.5) * _clip(correlation / 0.5), "lag_samples": int(lag),
            "correlation": correlation}


def _ring_contrast(values: np.ndarray, at: tuple[int, int], inner: int = 1, outer: int = 6) -> dict[str, float]:
    """|value at the location − median of a ring around it| in units of the ring's robust spread."""
    i, j = at
    lo_i, hi_i = max(0, i - outer), min(values.shape[0], i + outer + 1)
    lo_j, hi_j = max(0, j - outer), min(values.shape[1], j + outer + 1)
    patch = values[lo_i:hi_i, lo_j:hi_j]
    ii, jj = np.meshgrid(np.arange(lo_i, hi_i), np.arange(lo_j, hi_j), indexing="ij")
    distance = np.maximum(np.abs(ii - i), np.abs(jj - j))
    centre = patch[distance <= inner]
    ring = patch[distance > inner + 1]
    if ring.size == 0 or centre.size == 0:
        return {"z": 0.0, "at_location": 0.0, "surroundings": 0.0}
    median = float(np.median(ring))
    spread = 1.4826 * float(np.median(np.abs(ring - median))) or float(np.std(ring)) or 1.0
    value = float(np.median(centre))
    return {"z": abs(value - median) / spread, "at_location": value, "surroundings": median}


def _gradient_score(values: np.ndarray, at: tuple[int, int], reach: int = 2) -> dict[str, float]:
    gradient = np.hypot(ndimage.sobel(values, axis=0), ndimage.sobel(values, axis=1))
    i, j = at
    local = float(gradient[max(0, i - reach): i + reach + 1, max(0, j - reach): j + reach + 1].max())
    background = float(np.median(gradient)) or 1.0
    return {"score": _clip((local / background - 1.5) / 2.5), "gradient_at_location": local,
            "gradient_background": background}


def _contrast_score(ratio: float) -> float:
    """An amplitude ratio to its background as a sub-score: 0 at 1.5, 0.7 at 2 (where the anomaly
    detector reports a cluster), 1 at 4 or more."""
    if ratio < 2.0:
        return _clip((ratio - 1.5) / 0.5) * 0.7
    return 0.7 + 0.3 * _clip((ratio - 2.0) / 2.0)


def _anomaly_near(section: np.ndarray, live: np.ndarray, at: tuple[int, int], reach: tuple[int, int]) -> dict[str, Any]:
    clusters, _ = detection.detect(section, live, vertical=True)
    for cluster in clusters:
        if (cluster.first[0] - reach[0] <= at[0] <= cluster.first[1] + reach[0]
                and cluster.second[0] - reach[1] <= at[1] <= cluster.second[1] + reach[1]):
            return {"score": _contrast_score(cluster.ratio), "ratio": cluster.ratio, "strength": cluster.strength,
                    "area": cluster.area}
    return {"score": 0.0, "ratio": None, "note": "no amplitude anomaly at the location"}


def verify(cube: np.ndarray, live: np.ndarray, at: tuple[int, int, int], *, feature: str,
           inline_section: np.ndarray | None = None, inline_live: np.ndarray | None = None,
           crossline_section: np.ndarray | None = None, crossline_live: np.ndarray | None = None,
           full_at: tuple[int, int, int] | None = None, tolerance: int = 6) -> dict[str, Any]:
    """Score a hypothesis that ``feature`` lies at ``at`` = (inline, crossline, sample) indices of
    ``cube``. Full inline and crossline sections (a wider background for the anomaly steps) may be
    given, with the location's indices in them as ``full_at``."""
    if feature not in FEATURES:
        raise ValueError(f"feature must be one of {', '.join(FEATURES)}")
    i0, x0, s0 = at
    cube = np.asarray(cube, dtype=np.float64)
    cube = np.where(np.asarray(live, dtype=bool)[:, :, None], cube, 0.0)
    inline = cube[i0]  # traces along the crossline axis
    crossline = cube[:, x0]  # traces along the inline axis
    half = min(25, s0, cube.shape[2] - 1 - s0)
    window = slice(max(0, s0 - max(half, 10)), min(cube.shape[2], s0 + max(half, 10) + 1))
    steps: list[dict[str, Any]] = []

    def step(name: str, score: float, evidence: dict[str, Any]) -> None:
        steps.append({"name": name, "score": round(_clip(score), 4), "evidence": evidence})

    env_map = detection.slab_envelope(cube, s0, tolerance)
    fi, fx, fs = full_at if full_at is not None else at
    if feature == "fault":
        on_inline = discontinuity(inline[:, window], x0)
        on_crossline = discontinuity(crossline[:, window], i0)
        step("section_discontinuity", max(on_inline["score"], on_crossline["score"]),
             {"inline": on_inline, "crossline": on_crossline})
        offset_inline = vertical_offset(inline, x0)
        offset_crossline = vertical_offset(crossline, i0)
        step("vertical_offset", max(offset_inline["score"], offset_crossline["score"]),
             {"inline": offset_inline, "crossline": offset_crossline})
        lineament = _gradient_score(env_map, (i0, x0))
        step("timeslice_lineament", lineament["score"], lineament)
        gradient = max(_gradient_score(np.abs(inline[:, window]), (x0, s0 - window.start))["score"],
                       _gradient_score(np.abs(crossline[:, window]), (i0, s0 - window.start))["score"])
        step("amplitude_gradient", gradient, {"note": "stronger of the inline and crossline views"})
    elif feature == "channel":
        narrow = slice(max(0, s0 - 8), min(cube.shape[2], s0 + 9))
        sag = max((incision(inline, x0, narrow), incision(crossline, i0, narrow)), key=lambda r: r["score"])
        step("incision", sag["score"], sag)
        on_inline = discontinuity(inline[:, narrow], x0)
        on_crossline = discontinuity(crossline[:, narrow], i0)
        step("section_discontinuity", max(on_inline["score"], on_crossline["score"]),
             {"inline": on_inline, "crossline": on_crossline})
        contrast = _ring_contrast(env_map, (i0, x0))
        step("timeslice_contrast", _clip((contrast["z"] - 1.0) / 3.0), contrast)
        inline_env = np.abs(inline[:, narrow]).mean(axis=1)[:, None]
        crossline_env = np.abs(crossline[:, narrow]).mean(axis=1)[:, None]
        lateral = max(_ring_contrast(np.repeat(inline_env, 3, axis=1), (x0, 1), outer=8)["z"],
                      _ring_contrast(np.repeat(crossline_env, 3, axis=1), (i0, 1), outer=8)["z"])
        step("amplitude_contrast", _clip((lateral - 1.0) / 3.0), {"lateral_z": lateral})
        sag_score, fill_score = steps[0]["score"], steps[-1]["score"]
        step("channel_signature", 1 - (1 - sag_score) * (1 - fill_score),
             {"note": "soft OR of incision and amplitude_contrast"})
        channel_gradient = _gradient_score(env_map, (i0, x0))
        step("amplitude_gradient", channel_gradient["score"], channel_gradient)
    elif feature == "bright_spot":
        il_sec = inline if inline_section is None else inline_section
        il_live = np.ones(il_sec.shape[0], bool) if inline_live is None else inline_live
        xl_sec = crossline if crossline_section is None else crossline_section
        xl_live = np.ones(xl_sec.shape[0], bool) if crossline_live is None else crossline_live
        a = _anomaly_near(il_sec, il_live, (fx if inline_section is not None else x0,
                                            fs if inline_section is not None else s0), (3, 10))
        step("inline_anomaly", a["score"], a)
        b = _anomaly_near(xl_sec, xl_live, (fi if crossline_section is not None else i0,
                                            fs if crossline_section is not None else s0), (3, 10))
        step("crossline_anomaly", b["score"], b)
        contrast = _ring_contrast(env_map, (i0, x0), inner=2, outer=10)
        ratio = contrast["at_location"] / contrast["surroundings"] if contrast["surroundings"] else 0.0
        step("timeslice_contrast", _contrast_score(ratio), {**contrast, "ratio": ratio})
    else:  # flat_spot
        il_sec = inline if inline_section is None else inline_section
        il_live = np.ones(il_sec.shape[0], bool) if inline_live is None else inline_live
        xl_sec = crossline if crossline_section is None else crossline_section
        xl_live = np.ones(xl_sec.shape[0], bool) if crossline_live is None else crossline_live
        lags = [best_lag(inline[k, window], inline[k + 1, window], 4)[0] for k in range(inline.shape[0] - 1)]
        flat = float(np.mean(np.abs(lags)) <= 0.25)
        step("flatness", flat, {"mean_abs_lag_samples": float(np.mean(np.abs(lags)))})
        a = _anomaly_near(il_sec, il_live, (fx if inline_section is not None else x0,
                                            fs if inline_section is not None else s0), (3, 10))
        step("inline_anomaly", a["score"], a)
        b = _anomaly_near(xl_sec, xl_live, (fi if crossline_section is not None else i0,
                                            fs if crossline_section is not None else s0), (3, 10))
        step("crossline_anomaly", b["score"], b)
        coherence = float(np.median(neighbour_coherence(inline[:, window])))
        step("continuity", _clip(coherence), {"median_coherence": coherence})
    weights = WEIGHTS[feature]
    score = sum(weights[s["name"]] * s["score"] for s in steps) / sum(weights[s["name"]] for s in steps)
    for s in steps:
        s["weight"] = weights[s["name"]]
    return {"feature": feature, "score": round(score, 4), "verified": score >= VERIFIED_AT, "threshold": VERIFIED_AT,
            "steps": steps, "weights": weights}
