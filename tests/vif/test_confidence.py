"""Confidence extraction, bands and routing: pure functions, checked against direct numpy/scipy."""

import math

import numpy as np
import pytest
from scipy.special import softmax
from scipy.stats import entropy

from vifsite.vif import confidence as c


def test_logprobs_give_the_geometric_mean_token_probability():
    logprobs = [-0.01, -0.2, -0.05, -1.3]
    result = c.from_logprobs(logprobs)
    assert result.method == "logprobs"
    assert result.score == pytest.approx(np.prod(np.exp(logprobs)) ** (1 / 4), abs=1e-12)


def test_openai_items_give_the_entropy_of_the_renormalised_top_logprobs():
    items = [
        {"token": "A", "logprob": math.log(0.7), "top_logprobs": [
            {"token": "A", "logprob": math.log(0.7)}, {"token": "B", "logprob": math.log(0.2)}]},
        {"token": "C", "logprob": math.log(0.9), "top_logprobs": [
            {"token": "C", "logprob": math.log(0.9)}, {"token": "D", "logprob": math.log(0.05)}]},
    ]
    result = c.from_logprobs(items)
    expected = np.mean([entropy([0.7, 0.2]), entropy([0.9, 0.05])])
    assert result.entropy == pytest.approx(expected, abs=1e-12)
    assert result.score == pytest.approx(math.sqrt(0.7 * 0.9), abs=1e-12)
    assert result.top_k_probs[0] == [0.7, 0.2]


def test_logits_give_one_minus_normalised_entropy():
    logits = [[2.0, 0.5, -1.0, 0.0], [5.0, 0.0, 0.0, 0.0]]
    p = softmax(np.array(logits), axis=1)
    expected = 1 - np.mean([entropy(row) / math.log(4) for row in p])
    result = c.from_logits(logits)
    assert result.method == "logits" and result.score == pytest.approx(expected, abs=1e-12)
    assert c.from_probabilities([0.25, 0.25, 0.25, 0.25]).score == pytest.approx(0.0, abs=1e-12)
    assert c.from_probabilities([1.0, 0.0]).score == pytest.approx(1.0)


def test_hedging_markers_lower_the_text_confidence():
    plain = c.from_text("The bright spot at inline 120 is a gas sand.")
    hedged = c.from_text("The bright spot might possibly be a gas sand, but it is unclear.")
    assert plain.score == c.TEXT_BASE
    assert hedged.score == pytest.approx(c.TEXT_BASE * 0.9 * 0.88 * 0.85)
    assert hedged.details["hedging_markers"] == ["might", "possibly", "unclear"]


@pytest.mark.parametrize("stated, expected", [(0.7, 0.7), ("85%", 0.85), ("0.6", 0.6), (90, 0.9), ("high", 0.85)])
def test_verbalised_confidences_are_read(stated, expected):
    assert c.from_verbalised(stated).score == pytest.approx(expected)


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -0.1, 1.01, "x", True])
def test_bad_explicit_confidences_are_refused(bad):
    with pytest.raises(c.ConfidenceError):
        c.compute(confidence=bad)


@pytest.mark.parametrize("signals", [
    {"logprobs": [0.5]}, {"logprobs": [float("nan")]}, {"logprobs": []}, {"logits": [[1.0, float("inf")]]},
    {"probabilities": [0.5, 0.6]}, {"probabilities": [[1.0]]}, {"verbalised": "sure-ish"}, {},
])
def test_bad_signals_are_refused(signals):
    with pytest.raises(c.ConfidenceError):
        c.compute(**signals)


def test_the_best_signal_wins_and_is_named():
    assert c.compute(confidence=0.5, logprobs=[-0.1]).method == "explicit"
    assert c.compute(logprobs=[-0.1], verbalised=0.2, text="maybe").method == "logprobs"
    assert c.compute(verbalised=0.2, text="maybe").method == "verbalised"
    assert c.compute(text="maybe").method == "text"


def test_bands_are_exact_at_their_edges():
    assert c.band(0.95) == "A" and c.band(0.949999) == "B"
    assert c.band(0.9499999) == "A"  # recorded in millionths: 0.9499999 is stored as 0.950000
    assert c.band(0.80) == "B" and c.band(0.799999) == "C"
    assert c.band(0.9, a=0.9, b=0.5) == "A"
    assert c.to_micros(0.7) == 700000 and c.to_micros(0.1 + 0.2) == 300000


def test_routing_depends_on_band_criticality_and_gate():
    assert c.route(band_label="A", criticality="critical", gate_passed=True) == c.PROCEED
    assert c.route(band_label="B", criticality="important", gate_passed=True) == c.WARN
    assert c.route(band_label="C", criticality="routine", gate_passed=True) == c.WARN
    assert c.route(band_label="C", criticality="important", gate_passed=True) == c.ESCALATE
    assert c.route(band_label="A", criticality="low_stakes", gate_passed=False) == c.ESCALATE
