"""Checking an agent's amplitude claims and comparing sections, by recomputing from the data.
Plain numpy; no Django.

Claims are checked on a window of live samples:

- ``amplitude_statistic``: a named statistic with a value. PASS when the recomputed value lies within
  ``tolerance`` (relative, default 5 %) of the claimed one, FAIL otherwise. When the recomputed value is
  0 the tolerance is taken relative to the window's RMS.
- ``high_amplitude`` / ``low_amplitude``: a zone. With a threshold, the fraction of the window's
  |amplitude| at or above it (high) or at or below it (low) decides: PASS at ``zone_fraction`` or more
  (default 0.5), FAIL under half of that, INCONCLUSIVE between. Without a threshold, the window's RMS
  against the RMS of the rest of the section decides: PASS at a contrast of ``zone_contrast`` (default
  1.5) or more (high) or 1/1.5 or less (low), FAIL on the wrong side of 1, INCONCLUSIVE between.
- Too few live samples (under 10) is INCONCLUSIVE, never PASS.
"""

from __future__ import annotations

from typing import Any

import numpy as np

CLAIM_TYPES = ("high_amplitude", "low_amplitude", "amplitude_statistic")
STATISTICS = ("mean", "median", "rms", "std", "min", "max", "max_abs", "mean_abs")
MIN_SAMPLES = 10


def window_statistics(values: np.ndarray) -> dict[str, float]:
    v = np.asarray(values, dtype=np.float64)
    return {
        "mean": float(v.mean()), "median": float(np.median(v)), "rms": float(np.sqrt(np.mean(v * v))),
        "std": float(v.std()), "min": float(v.min()), "max": float(v.max()),
        "max_abs": float(np.abs(v).max()), "mean_abs": float(np.abs(v).mean()),
    }


def _verdict_confidence(margin: float) -> float:
    """0.5 at the decision boundary, towards 0.99 as the evidence moves away from it (margin ≥ 0)."""
    return round(min(0.99, 0.5 + 0.49 * min(1.0, margin)), 3)


def check_claim(window: np.ndarray, rest: np.ndarray, *, claim_type: str, statistic: str | None = None,
                value: float | None = None, threshold: float | None = None, tolerance: float = 0.05,
                zone_fraction: float = 0.5, zone_contrast: float = 1.5) -> dict[str, Any]:
    """``window``: the live samples of the claimed window; ``rest``: the live samples of the section
    outside it (for the contrast)."""
    if claim_type not in CLAIM_TYPES:
        raise ValueError(f"claim_type must be one of {', '.join(CLAIM_TYPES)}")
    window = np.asarray(window, dtype=np.float64).ravel()
    rest = np.asarray(rest, dtype=np.float64).ravel()
    evidence: dict[str, Any] = {"live_samples": int(window.size), "tolerance": tolerance}
    if window.size < MIN_SAMPLES:
        evidence["reason"] = f"only {window.size} live samples in the window (at least {MIN_SAMPLES} are needed)"
        return {"verdict": "INCONCLUSIVE", "confidence": 0.5, "evidence": evidence}
    recomputed = window_statistics(window)
    evidence["recomputed"] = recomputed
    rest_rms = float(np.sqrt(np.mean(rest * rest))) if rest.size else None
    evidence["rest_of_section_rms"] = rest_rms
    evidence["contrast"] = (recomputed["rms"] / rest_rms) if rest_rms else None

    if claim_type == "amplitude_statistic":
        if statistic not in STATISTICS or value is None:
            raise ValueError(f"an amplitude_statistic claim needs statistic (one of {', '.join(STATISTICS)}) "
                             "and value")
        actual = recomputed[statistic]
        reference = abs(actual) if actual != 0 else recomputed["rms"]
        error = abs(value - actual) / reference if reference else (0.0 if value == actual else float("inf"))
        evidence.update({"statistic": statistic, "claimed": value, "actual": actual, "relative_error": error})
        passed = error <= tolerance
        margin = (1 - error / tolerance) if passed else (error - tolerance) / tolerance
        return {"verdict": "PASS" if passed else "FAIL", "confidence": _verdict_confidence(margin),
                "evidence": evidence}

    high = claim_type == "high_amplitude"
    magnitude = np.abs(window)
    if threshold is not None:
        fraction = float(np.mean(magnitude >= threshold) if high else np.mean(magnitude <= threshold))
        evidence.update({"threshold": threshold, "fraction_" + ("above" if high else "below") + "_threshold": fraction,
                         "zone_fraction": zone_fraction})
        if fraction >= zone_fraction:
            margin = (fraction - zone_fraction) / (1 - zone_fraction) if zone_fraction < 1 else 1.0
            return {"verdict": "PASS", "confidence": _verdict_confidence(margin),
                    "evidence": evidence}
        if fraction < zone_fraction / 2:
            return {"verdict": "FAIL", "confidence": _verdict_confidence(1 - fraction / (zone_fraction / 2)),
                    "evidence": evidence}
        return {"verdict": "INCONCLUSIVE", "confidence": 0.5, "evidence": evidence}
    contrast = evidence["contrast"]
    evidence["zone_contrast"] = zone_contrast
    if contrast is None:
        evidence["reason"] = "the window covers the whole section: there is nothing to contrast it with"
        return {"verdict": "INCONCLUSIVE", "confidence": 0.5, "evidence": evidence}
    strength = np.log(contrast) if high else -np.log(contrast)  # > 0 when the claim's direction holds
    needed = np.log(zone_contrast)
    if strength >= needed:
        return {"verdict": "PASS", "confidence": _verdict_confidence((strength - needed) / needed),
                "evidence": evidence}
    if strength <= 0:
        return {"verdict": "FAIL", "confidence": _verdict_confidence(-strength / needed), "evidence": evidence}
    return {"verdict": "INCONCLUSIVE", "confidence": 0.5, "evidence": evidence}


# --- Comparison -----------------------------------------------------------------------------------

def _spectrum(section: np.ndarray, vertical: bool) -> np.ndarray:
    data = np.asarray(section, dtype=np.float64)
    if vertical:
        taper = np.hanning(data.shape[1])
        return np.abs(np.fft.rfft((data - data.mean(axis=1, keepdims=True)) * taper, axis=1)).mean(axis=0)
    spectrum = np.abs(np.fft.rfft2(data - data.mean()))
    return spectrum.ravel()


def compare(target: np.ndarray, reference: np.ndarray, *, vertical: bool, normalise: bool) -> dict[str, Any]:
    """Correlation, RMS ratio and spectral similarity of two sections of the same shape (live samples
    only are given; dead ones as NaN)."""
    t = np.asarray(target, dtype=np.float64)
    r = np.asarray(reference, dtype=np.float64)
    both = np.isfinite(t) & np.isfinite(r)
    if both.sum() < MIN_SAMPLES:
        return {"verdict": "INCONCLUSIVE", "reason": "fewer than 10 samples are live in both sections"}
    tv, rv = t[both], r[both]
    rms_t, rms_r = float(np.sqrt(np.mean(tv * tv))), float(np.sqrt(np.mean(rv * rv)))
    if normalise:
        tv = (tv - tv.mean()) / (tv.std() or 1.0)
        rv = (rv - rv.mean()) / (rv.std() or 1.0)
    correlation = float(np.corrcoef(tv, rv)[0, 1]) if tv.std() > 0 and rv.std() > 0 else 0.0
    spectral = None
    tf, rf = np.where(both, t, 0.0), np.where(both, r, 0.0)
    st, sr = _spectrum(tf, vertical), _spectrum(rf, vertical)
    if np.linalg.norm(st) > 0 and np.linalg.norm(sr) > 0:
        spectral = float(np.dot(st, sr) / (np.linalg.norm(st) * np.linalg.norm(sr)))
    rms_ratio = rms_t / rms_r if rms_r > 0 else None
    similar = correlation >= 0.7 and (spectral or 0) >= 0.9 and (normalise or (rms_ratio and 2 / 3 <= rms_ratio <= 1.5))
    different = correlation < 0.3 or (spectral is not None and spectral < 0.7)
    return {
        "correlation": correlation, "rms_target": rms_t, "rms_reference": rms_r, "rms_ratio": rms_ratio,
        "spectral_similarity": spectral, "samples": int(both.sum()), "normalised": normalise,
        "verdict": "similar" if similar else ("different" if different else "partly similar"),
        "criteria": "similar: correlation ≥ 0.7, spectral similarity ≥ 0.9 and (raw amplitudes) RMS ratio in "
                    "[2/3, 3/2]; different: correlation < 0.3 or spectral similarity < 0.7",
    }
