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

A flat spot is checked by one of two methods (``flat_spot_method``); witnesses record which, so an
old witness replays with the method it was computed with:

1. the lag between neighbouring traces over the whole window must be about zero (``flatness``).
   Where dipping reflectors fill the window it fails under a flat spot, and on gently dipping
   reflectors it holds for any bright spot;
2. the flat event itself (``flat_event``, the current method): the positive reflection at the
   location (a fluid contact is an increase of impedance downwards) is tracked across the traces
   where it stays strong, and its shape is compared with that of the reflectors over it (the window
   above it, less the 10 samples next to it where the top of the anomaly lies). A flat spot is flat
   where they dip: it does not follow them. The location is a point on the flat reflection, within
   2 samples of it.

The anomaly steps of a bright spot and a flat spot (``inline_anomaly``, ``crossline_anomaly``) run the
anomaly detector on the vertical sections with the background named by ``background``
(``detection.BACKGROUNDS``): ``"dip_steered"`` is what the tools name now, ``"lateral"`` what every
witness recorded before they named one was computed with, and what a call that names none gets, as
with ``detection.detect``.
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
    "flat_spot": {"flat_event": 0.4, "inline_anomaly": 0.2, "crossline_anomaly": 0.2, "continuity": 0.2},
}
FLAT_SPOT_METHODS = (1, 2)
FLAT_SPOT_METHOD = 2  # the current method
UNNAMED_FLAT_SPOT_METHOD = 1  # that of a witness which names none: recorded before there was a choice
FLAT_EVENT_REACH = 2  # samples from the location within which method 2 looks for the flat reflection
FLAT_SPOT_WEIGHTS_1 = {"flatness": 0.4, "inline_anomaly": 0.2, "crossline_anomaly": 0.2, "continuity": 0.2}


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


def _anomaly_near(section: np.ndarray, live: np.ndarray, at: tuple[int, int], reach: tuple[int, int], *,
                  background: str = detection.UNNAMED_BACKGROUND) -> dict[str, Any]:
    clusters, _ = detection.detect(section, live, vertical=True, background=background)
    for cluster in clusters:
        if (cluster.first[0] - reach[0] <= at[0] <= cluster.first[1] + reach[0]
                and cluster.second[0] - reach[1] <= at[1] <= cluster.second[1] + reach[1]):
            return {"score": _contrast_score(cluster.ratio), "ratio": cluster.ratio, "strength": cluster.strength,
                    "area": cluster.area}
    return {"score": 0.0, "ratio": None, "note": "no amplitude anomaly at the location"}


def _positive_peaks(traces: np.ndarray, lo: int, hi: int) -> tuple[np.ndarray, np.ndarray]:
    """The largest positive local maximum of each trace between samples ``lo`` and ``hi``
    (inclusive, away from the ends): its sample (−1 where there is none) and amplitude (0)."""
    n = traces.shape[-1]
    lo, hi = max(1, lo), min(n - 2, hi)
    if hi < lo:
        return np.full(traces.shape[:-1], -1), np.zeros(traces.shape[:-1])
    centre = traces[..., lo:hi + 1]
    peak = (centre > 0) & (centre >= traces[..., lo - 1:hi]) & (centre >= traces[..., lo + 1:hi + 2])
    values = np.where(peak, centre, -np.inf)
    best = np.argmax(values, axis=-1)
    found = np.take_along_axis(peak, best[..., None], axis=-1)[..., 0]
    amplitude = np.take_along_axis(centre, best[..., None], axis=-1)[..., 0]
    return np.where(found, best + lo, -1), np.where(found, amplitude, 0.0)


def _subsample(traces: np.ndarray, index: np.ndarray) -> np.ndarray:
    """Fractional position of the peak at ``index`` of each trace (a parabola through three samples)."""
    j = np.clip(index, 1, traces.shape[-1] - 2)
    before = np.take_along_axis(traces, (j - 1)[..., None], axis=-1)[..., 0]
    at = np.take_along_axis(traces, j[..., None], axis=-1)[..., 0]
    after = np.take_along_axis(traces, (j + 1)[..., None], axis=-1)[..., 0]
    curvature = before - 2 * at + after
    shift = np.where(curvature < 0, 0.5 * (before - after) / np.where(curvature < 0, curvature, -1.0), 0.0)
    return j + np.clip(shift, -0.5, 0.5)


def _masked_lags(reference: np.ndarray, traces: np.ndarray, weight: np.ndarray, max_lag: int) -> np.ndarray:
    """The lag (fractional samples) of each trace against ``reference`` with the highest normalised
    correlation over the samples where ``weight`` is 1."""
    n = len(reference)
    values = np.full((traces.shape[0], 2 * max_lag + 1), -1.0)
    for column, lag in enumerate(range(-max_lag, max_lag + 1)):
        lo, hi = max(0, -lag), n - max(0, lag)
        a = reference[lo:hi] * weight[lo:hi]
        b = traces[:, lo + lag:hi + lag] * weight[lo:hi]
        denominator = np.linalg.norm(a) * np.linalg.norm(b, axis=1)
        values[:, column] = np.where(denominator > 0, b @ a / np.where(denominator > 0, denominator, 1.0), -1.0)
    best = np.argmax(values, axis=1)
    inner = (best > 0) & (best < 2 * max_lag)
    return np.where(inner, _subsample(values, best), best) - max_lag


def _dip(times: np.ndarray, where: np.ndarray) -> dict[str, float] | None:
    """Least-squares plane through ``times`` at the traces ``where``: samples per trace along the
    inline axis (across inlines) and the crossline axis (across crosslines)."""
    ii, xx = np.nonzero(where)
    if len(set(ii.tolist())) < 2 or len(set(xx.tolist())) < 2:
        return None
    design = np.column_stack([ii - ii.mean(), xx - xx.mean(), np.ones(len(ii))])
    (across_inlines, across_crosslines, _), *_ = np.linalg.lstsq(design, times[where], rcond=None)
    return {"across_inlines": round(float(across_inlines), 4), "across_crosslines": round(float(across_crosslines), 4)}


def flat_event(cube: np.ndarray, at: tuple[int, int, int], *, reach: int = FLAT_EVENT_REACH, lateral: int = 2,
               half: float = 1.5, present: float = 0.7, step: float = 0.5, least_traces: int = 9, above: int = 10,
               below: int = 7, least_samples: int = 8, max_lag: int = 8,
               least_spread: float = 0.1) -> dict[str, Any]:
    """Whether the reflection at ``at`` (inline, crossline, sample indices of ``cube``) is flat where
    the reflectors around it dip.

    The event is a positive peak (a flat spot is a positive reflection: gas or oil over brine is an
    increase of impedance downwards) within ``reach`` samples of the location: the one nearest the
    location's sample, on the location's trace or, if that has none, on the nearest ring of traces
    (up to ``lateral`` away) that has one, so a location at the edge of a flat spot finds it. The
    event is picked on every trace within ``half`` samples of its time (a parabola through the peak
    for the fraction of a sample), and its extent grows from the location over neighbouring traces
    where it keeps at least ``present`` of its strength and moves by at most ``step`` samples from
    trace to trace: it ends where the event fades or another reflection takes over. The reflectors
    around it are those over it, the window above the ``above`` samples next to the event (where the
    top of the anomaly lies): the structure that traps the fluid. Below the event another flat event
    could mislead, so they are taken under it (beyond ``below`` samples) only where fewer than
    ``least_samples`` lie above, at the top of the survey. Their shape is each trace's lag against
    the event's trace (the best normalised correlation over those samples). Over the event's extent,
    with spreads (root mean square) taken about the median:

    - ``conformable_misfit``: the spread of (event time − reflector lag), about 0 if the event
      follows the reflectors (a bright reflector, a side lobe) and as large as their spread if flat;
    - ``flat_misfit``: the spread of the event's time, about 0 if flat.

    Divided by the reflectors' spread (at least ``least_spread`` samples: where the reflectors do
    not dip across the event, a flat event cannot be told from a conformable one, and the step does
    not confirm it), they are the ``discordance`` and the ``flatness_ratio``. The score is the
    product of clip((discordance − 0.25) / 0.25) and clip((1.1 − flatness_ratio) / 0.3): 1 when the
    event does not follow the reflectors (discordance 0.5 or more) and varies less than they do
    (flatness_ratio 0.8 or less), 0 when it follows them.
    """
    i0, x0, s0 = at
    ni, nx, ns = cube.shape
    anchor: tuple[float, int, int, int] | None = None
    for ring in range(lateral + 1):
        nearest: tuple[tuple[int, float], float, int, int, int] | None = None
        for a in range(max(0, i0 - ring), min(ni, i0 + ring + 1)):
            for b in range(max(0, x0 - ring), min(nx, x0 + ring + 1)):
                if max(abs(a - i0), abs(b - x0)) != ring:
                    continue
                trace = cube[a, b]
                for k in range(max(1, s0 - reach), min(ns - 1, s0 + reach + 1)):
                    if trace[k] > 0 and trace[k] >= trace[k - 1] and trace[k] >= trace[k + 1]:
                        key = (abs(k - s0), -float(trace[k]))
                        if nearest is None or key < nearest[0]:
                            nearest = (key, float(trace[k]), a, b, k)
        if nearest is not None:
            anchor = nearest[1:]
            break
    if anchor is None:
        return {"score": 0.0, "note": f"no positive reflection within {reach} samples of the location or "
                                      f"{lateral} traces of it (a flat spot is a positive reflection)"}
    strength, a0, b0, k0 = anchor
    event_time = float(_subsample(cube[a0, b0][None], np.array([k0]))[0])
    picks, amplitudes = _positive_peaks(cube, int(np.ceil(event_time - half)), int(np.floor(event_time + half)))
    times = _subsample(cube, np.where(picks >= 0, picks, 1)) - event_time
    strong = amplitudes >= present * strength
    extent = np.zeros((ni, nx), dtype=bool)
    extent[a0, b0] = True
    grow = [(a0, b0)]
    while grow:
        a, b = grow.pop()
        for c, d in ((a + 1, b), (a - 1, b), (a, b + 1), (a, b - 1)):
            if (0 <= c < ni and 0 <= d < nx and strong[c, d] and not extent[c, d]
                    and abs(times[c, d] - times[a, b]) <= step):
                extent[c, d] = True
                grow.append((c, d))
    rows, columns = np.nonzero(extent)
    evidence: dict[str, Any] = {
        "event": {"trace_offset": {"inline": a0 - i0, "crossline": b0 - x0},
                  "sample_offset": round(event_time - s0, 3), "amplitude": strength, "polarity": "positive"},
        "extent": {"traces": int(extent.sum()), "inlines": int(np.ptp(rows)) + 1,
                   "crosslines": int(np.ptp(columns)) + 1},
    }
    if extent.sum() < least_traces:
        return {"score": 0.0, **evidence, "note": f"the event spans fewer than {least_traces} traces: too few to "
                                                  "measure its shape"}
    weight = np.zeros(ns)
    if k0 - above >= least_samples:
        weight[:k0 - above] = 1.0
        evidence["reflectors"] = f"samples {-k0} to {-above - 1} from the event"
    elif ns - (k0 + below + 1) >= least_samples:
        weight[k0 + below + 1:] = 1.0
        evidence["reflectors"] = f"samples {below + 1} to {ns - 1 - k0} from the event (too few above it)"
    else:
        return {"score": 0.0, **evidence, "note": "too few samples around the event to measure the reflectors' dip"}
    lags = np.zeros((ni, nx))
    lags[extent] = _masked_lags(cube[a0, b0], cube[extent], weight, max_lag)

    def spread(values: np.ndarray) -> float:
        return float(np.sqrt(np.mean((values - np.median(values)) ** 2)))

    reflectors = spread(lags[extent])
    conformable = spread(times[extent] - lags[extent])
    flat = spread(times[extent])
    scale = max(reflectors, least_spread)
    discordance, flatness_ratio = conformable / scale, flat / scale
    score = _clip((discordance - 0.25) / 0.25) * _clip((1.1 - flatness_ratio) / 0.3)
    result = {"score": score, **evidence, "reflector_spread_samples": round(reflectors, 4),
              "conformable_misfit_samples": round(conformable, 4), "flat_misfit_samples": round(flat, 4),
              "discordance": round(discordance, 4), "flatness_ratio": round(flatness_ratio, 4),
              "event_dip_samples_per_trace": _dip(times, extent),
              "reflector_dip_samples_per_trace": _dip(lags, extent)}
    if reflectors < least_spread:
        result["note"] = ("the reflectors barely dip across the event: a flat event cannot be told from a "
                          "conformable one here")
    return result


def verify(cube: np.ndarray, live: np.ndarray, at: tuple[int, int, int], *, feature: str,
           inline_section: np.ndarray | None = None, inline_live: np.ndarray | None = None,
           crossline_section: np.ndarray | None = None, crossline_live: np.ndarray | None = None,
           full_at: tuple[int, int, int] | None = None, tolerance: int = 6,
           flat_spot_method: int = FLAT_SPOT_METHOD,
           background: str = detection.UNNAMED_BACKGROUND) -> dict[str, Any]:
    """Score a hypothesis that ``feature`` lies at ``at`` = (inline, crossline, sample) indices of
    ``cube``. Full inline and crossline sections (a wider background for the anomaly steps) may be
    given, with the location's indices in them as ``full_at``. ``flat_spot_method`` chooses how a
    flat spot is checked, ``background`` how the anomaly steps take the sections' background (see the
    module's docstring)."""
    if feature not in FEATURES:
        raise ValueError(f"feature must be one of {', '.join(FEATURES)}")
    if flat_spot_method not in FLAT_SPOT_METHODS:
        raise ValueError(f"flat_spot_method must be one of {', '.join(map(str, FLAT_SPOT_METHODS))}")
    if background not in detection.BACKGROUNDS:
        raise ValueError(f"background must be one of {', '.join(detection.BACKGROUNDS)}")
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
                                            fs if inline_section is not None else s0), (3, 10),
                          background=background)
        step("inline_anomaly", a["score"], a)
        b = _anomaly_near(xl_sec, xl_live, (fi if crossline_section is not None else i0,
                                            fs if crossline_section is not None else s0), (3, 10),
                          background=background)
        step("crossline_anomaly", b["score"], b)
        contrast = _ring_contrast(env_map, (i0, x0), inner=2, outer=10)
        ratio = contrast["at_location"] / contrast["surroundings"] if contrast["surroundings"] else 0.0
        step("timeslice_contrast", _contrast_score(ratio), {**contrast, "ratio": ratio})
    else:  # flat_spot
        il_sec = inline if inline_section is None else inline_section
        il_live = np.ones(il_sec.shape[0], bool) if inline_live is None else inline_live
        xl_sec = crossline if crossline_section is None else crossline_section
        xl_live = np.ones(xl_sec.shape[0], bool) if crossline_live is None else crossline_live
        if flat_spot_method == 1:
            lags = [best_lag(inline[k, window], inline[k + 1, window], 4)[0] for k in range(inline.shape[0] - 1)]
            flat = float(np.mean(np.abs(lags)) <= 0.25)
            step("flatness", flat, {"mean_abs_lag_samples": float(np.mean(np.abs(lags)))})
        else:
            event = flat_event(cube, at)
            step("flat_event", event.pop("score"), event)
        a = _anomaly_near(il_sec, il_live, (fx if inline_section is not None else x0,
                                            fs if inline_section is not None else s0), (3, 10),
                          background=background)
        step("inline_anomaly", a["score"], a)
        b = _anomaly_near(xl_sec, xl_live, (fi if crossline_section is not None else i0,
                                            fs if crossline_section is not None else s0), (3, 10),
                          background=background)
        step("crossline_anomaly", b["score"], b)
        coherence = float(np.median(neighbour_coherence(inline[:, window])))
        step("continuity", _clip(coherence), {"median_coherence": coherence})
    weights = FLAT_SPOT_WEIGHTS_1 if feature == "flat_spot" and flat_spot_method == 1 else WEIGHTS[feature]
    score = sum(weights[s["name"]] * s["score"] for s in steps) / sum(weights[s["name"]] for s in steps)
    for s in steps:
        s["weight"] = weights[s["name"]]
    return {"feature": feature, "score": round(score, 4), "verified": score >= VERIFIED_AT, "threshold": VERIFIED_AT,
            "steps": steps, "weights": weights}
