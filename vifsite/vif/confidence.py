"""Confidence from whatever signals an agent can give, its band, and the routing that follows.

Plain functions, no Django. Every score is returned in [0, 1] together with the method that
produced it; every input that is not a finite number in its domain raises ``ConfidenceError``.

Methods, in the order they are preferred when several signals are given:

- ``explicit``: the caller states the score.
- ``logprobs``: OpenAI-style token log-probabilities. Score = geometric mean token probability,
  exp(mean log p). Entropy (nats per token) from each token's renormalised top log-probs.
- ``logits`` / ``probabilities``: per-token vectors from a local model. Score = 1 − mean normalised
  entropy, H(p) / ln(V) with V the vector length.
- ``verbalised``: a confidence the model stated ("85%", 0.85, "high").
- ``text``: hedging markers in the output lower a base confidence.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

MICROS = 1_000_000  # confidences are stored as integers in millionths: 0.7 is exactly 700000

METHODS = ("explicit", "logprobs", "logits", "probabilities", "verbalised", "text")
CRITICALITIES = ("critical", "important", "routine", "low_stakes")

# Base confidence of an unhedged text and what each hedging marker takes off it (multiplicatively).
TEXT_BASE = 0.85
TEXT_FLOOR = 0.2
HEDGES: dict[str, float] = {
    "might": 0.10, "may": 0.08, "could": 0.08, "possibly": 0.12, "possible": 0.08, "perhaps": 0.12,
    "maybe": 0.12, "unclear": 0.15, "uncertain": 0.15, "not sure": 0.15, "i think": 0.08, "i believe": 0.08,
    "likely": 0.05, "probably": 0.07, "appears": 0.05, "seems": 0.06, "suggests": 0.05, "tentative": 0.12,
    "speculative": 0.18, "cannot be confirmed": 0.15, "ambiguous": 0.12, "approximately": 0.03,
}
_HEDGE_RE = re.compile(r"\b(" + "|".join(sorted((re.escape(h) for h in HEDGES), key=len, reverse=True)) + r")\b",
                       re.IGNORECASE)

# Words a model uses to state its confidence, mapped to the probability they usually stand for.
VERBAL_LEVELS: dict[str, float] = {
    "certain": 0.99, "very high": 0.95, "high": 0.85, "fairly high": 0.75, "moderate": 0.6, "medium": 0.6,
    "low": 0.3, "very low": 0.1,
}


class ConfidenceError(ValueError):
    """A confidence signal that is missing, malformed, or outside its domain."""


@dataclass(frozen=True)
class Confidence:
    score: float
    method: str
    entropy: float | None = None
    top_k_probs: list[list[float]] | None = None
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def micros(self) -> int:
        return to_micros(self.score)


def to_micros(score: float) -> int:
    return int(round(check_unit(score, "confidence") * MICROS))


def from_micros(micros: int) -> float:
    return micros / MICROS


def check_unit(value: Any, name: str) -> float:
    """A finite number in [0, 1], or ConfidenceError."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfidenceError(f"{name} must be a number in [0, 1], not {value!r}.")
    value = float(value)
    if not math.isfinite(value):
        raise ConfidenceError(f"{name} must be a finite number in [0, 1]; NaN and infinities are refused.")
    if not 0.0 <= value <= 1.0:
        raise ConfidenceError(f"{name} must lie in [0, 1], not {value!r}.")
    return value


def _numbers_only(values: Any, name: str) -> None:
    """Nested lists of real numbers, or ConfidenceError: numpy would read true as 1.0 and "0.9" as 0.9, so
    a list of booleans from an agent would pass as a certain answer."""
    stack = [values]
    while stack:
        item = stack.pop()
        if isinstance(item, (list, tuple)):
            stack.extend(item)
        elif isinstance(item, np.ndarray) and item.dtype.kind in "iuf":
            continue
        elif isinstance(item, (bool, np.bool_)) or not isinstance(item, (int, float, np.integer, np.floating)):
            raise ConfidenceError(f"{name} must hold numbers only, not {item!r:.40}.")


def _finite_array(values: Any, name: str) -> np.ndarray:
    _numbers_only(values, name)
    try:
        array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise ConfidenceError(f"{name} must hold numbers only.") from None
    if array.size == 0:
        raise ConfidenceError(f"{name} is empty.")
    if not np.all(np.isfinite(array)):
        raise ConfidenceError(f"{name} holds NaN or infinite values; they are refused.")
    return array


def from_logprobs(tokens: Sequence[Any]) -> Confidence:
    """``tokens``: floats, or OpenAI ``logprobs.content`` items ({"token", "logprob", "top_logprobs"})."""
    if not isinstance(tokens, Sequence) or isinstance(tokens, (str, bytes)) or not tokens:
        raise ConfidenceError("logprobs must be a non-empty list.")
    chosen: list[Any] = []
    tops: list[list[Any]] = []  # checked by _finite_array below, as chosen is
    for item in tokens:
        if isinstance(item, Mapping):
            if "logprob" not in item:
                raise ConfidenceError("each logprobs item needs a 'logprob'.")
            chosen.append(item["logprob"])
            top = item.get("top_logprobs") or []
            if not isinstance(top, Sequence) or isinstance(top, (str, bytes)):
                raise ConfidenceError("top_logprobs must be a list.")
            top_values = [entry.get("logprob") if isinstance(entry, Mapping) else entry for entry in top]
            if top_values:
                tops.append(top_values)
        else:
            chosen.append(item)
    logp = _finite_array(chosen, "logprobs")
    if np.any(logp > 1e-6):
        raise ConfidenceError("log-probabilities must be ≤ 0.")
    logp = np.minimum(logp, 0.0)
    score = float(np.exp(logp.mean()))
    entropy = None
    top_k: list[list[float]] | None = None
    if tops:
        entropies, top_k = [], []
        for values in tops:
            top_logp = _finite_array(values, "top_logprobs")
            if np.any(top_logp > 1e-6):
                raise ConfidenceError("top log-probabilities must be ≤ 0.")
            p = np.exp(np.minimum(top_logp, 0.0))
            p = p / p.sum()
            entropies.append(float(-(p * np.log(np.where(p > 0, p, 1.0))).sum()))
            top_k.append([round(float(x), 6) for x in np.sort(np.exp(np.minimum(top_logp, 0.0)))[::-1]])
        entropy = float(np.mean(entropies))
    return Confidence(score=_clip(score), method="logprobs", entropy=entropy, top_k_probs=top_k,
                      details={"tokens": int(logp.size), "mean_logprob": float(logp.mean())})


def _normalised_entropy(p: np.ndarray) -> np.ndarray:
    """Row-wise H(p) / ln(V)."""
    vocabulary = p.shape[1]
    if vocabulary < 2:
        raise ConfidenceError("probability vectors need at least two entries.")
    h = -(p * np.log(np.where(p > 0, p, 1.0))).sum(axis=1)
    return h / math.log(vocabulary)


def _as_rows(values: Any, name: str) -> np.ndarray:
    array = _finite_array(values, name)
    if array.ndim == 1:
        array = array[None, :]
    if array.ndim != 2:
        raise ConfidenceError(f"{name} must be one vector or a list of equally long vectors.")
    return array


def from_logits(logits: Any) -> Confidence:
    rows = _as_rows(logits, "logits")
    shifted = rows - rows.max(axis=1, keepdims=True)
    p = np.exp(shifted)
    p /= p.sum(axis=1, keepdims=True)
    return _from_distribution(p, "logits")


def from_probabilities(probabilities: Any) -> Confidence:
    p = _as_rows(probabilities, "probabilities")
    if np.any(p < 0) or np.any(p > 1):
        raise ConfidenceError("probabilities must lie in [0, 1].")
    sums = p.sum(axis=1)
    if np.any(np.abs(sums - 1.0) > 1e-4):
        raise ConfidenceError("each probability vector must sum to 1 (within 1e-4).")
    return _from_distribution(p / sums[:, None], "probabilities")


def _from_distribution(p: np.ndarray, method: str) -> Confidence:
    normalised = _normalised_entropy(p)
    entropy = float((-(p * np.log(np.where(p > 0, p, 1.0))).sum(axis=1)).mean())
    top_k = [[round(float(x), 6) for x in np.sort(row)[::-1][:5]] for row in p[:20]]
    return Confidence(score=_clip(1.0 - float(normalised.mean())), method=method, entropy=entropy, top_k_probs=top_k,
                      details={"tokens": int(p.shape[0]), "vocabulary": int(p.shape[1]),
                               "mean_normalised_entropy": float(normalised.mean())})


def from_verbalised(value: Any) -> Confidence:
    """0.85, 85, "85%", "0.85" or a level word ("high")."""
    raw = value
    if isinstance(value, str):
        text = value.strip().lower()
        if text in VERBAL_LEVELS:
            return Confidence(score=VERBAL_LEVELS[text], method="verbalised", details={"stated": raw})
        percent = text.endswith("%")
        try:
            value = float(text.rstrip("%").strip())
        except ValueError:
            raise ConfidenceError(f"verbalised confidence {raw!r} is neither a number, a percentage nor one of "
                                  f"{', '.join(VERBAL_LEVELS)}.") from None
        if percent:
            value /= 100.0
    elif isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) and 1 < value <= 100:
        value = value / 100.0  # "85" from a model that answered in percent
    return Confidence(score=check_unit(value, "verbalised confidence"), method="verbalised", details={"stated": raw})


def from_text(text: str) -> Confidence:
    if not isinstance(text, str) or not text.strip():
        raise ConfidenceError("text confidence needs the output text.")
    found = [match.group(1).lower() for match in _HEDGE_RE.finditer(text)]
    score = TEXT_BASE
    for marker in found:
        score *= 1.0 - HEDGES[marker]
    return Confidence(score=max(TEXT_FLOOR, score), method="text",
                      details={"base": TEXT_BASE, "hedging_markers": found})


def compute(*, confidence: Any = None, logprobs: Any = None, logits: Any = None, probabilities: Any = None,
            verbalised: Any = None, text: str | None = None) -> Confidence:
    """The confidence from the best signal given (see the module docstring for the order)."""
    if confidence is not None:
        return Confidence(score=check_unit(confidence, "confidence"), method="explicit")
    if logprobs is not None:
        return from_logprobs(logprobs)
    if logits is not None:
        return from_logits(logits)
    if probabilities is not None:
        return from_probabilities(probabilities)
    if verbalised is not None:
        return from_verbalised(verbalised)
    if text is not None and text.strip():
        return from_text(text)
    raise ConfidenceError("No confidence signal: give confidence, logprobs, logits, probabilities, "
                          "verbalized_confidence, or the raw output text.")


def _clip(score: float) -> float:
    return min(1.0, max(0.0, score))


# --- Bands and routing --------------------------------------------------------------------------

def band(score: float, *, a: float = 0.95, b: float = 0.80) -> str:
    """A at or above ``a``, B at or above ``b``, C below (compared in millionths, so 0.95 is A)."""
    micros = to_micros(score)
    if micros >= to_micros(a):
        return "A"
    if micros >= to_micros(b):
        return "B"
    return "C"


PROCEED, WARN, ESCALATE = "proceed", "proceed_with_warning", "escalate"
# (band, criticality) → action when the κ-gate passed. A failed gate always escalates.
ROUTING: dict[str, dict[str, str]] = {
    "A": {"critical": PROCEED, "important": PROCEED, "routine": PROCEED, "low_stakes": PROCEED},
    "B": {"critical": ESCALATE, "important": WARN, "routine": PROCEED, "low_stakes": PROCEED},
    "C": {"critical": ESCALATE, "important": ESCALATE, "routine": WARN, "low_stakes": WARN},
}
ROUTING_MESSAGES = {
    PROCEED: "Confidence is adequate for this criticality: proceed.",
    WARN: "Proceed with a warning: a human review is recommended before this is relied on.",
    ESCALATE: "Escalate: a human must review this before it is used.",
}


def route(*, band_label: str, criticality: str, gate_passed: bool) -> str:
    if not gate_passed:
        return ESCALATE
    return ROUTING[band_label][criticality]
